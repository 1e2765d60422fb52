"""Names in generated code: services, methods, collisions, keywords."""

from __future__ import annotations

import keyword

import pytest

from aibroker.codegen import CodegenError, service_name
from aibroker.codegen.naming import class_name, method_names, pascal_case, snake_case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eth_getBalance", "eth_get_balance"),
        ("getHTTPServer", "get_http_server"),
        ("ChainGetTipSetV2", "chain_get_tip_set_v2"),
        ("starknet_getBlockWithTxHashes", "starknet_get_block_with_tx_hashes"),
        ("calendar.event.get", "calendar_event_get"),
        ("a--b", "a_b"),
    ],
)
def test_snake_case(text: str, expected: str) -> None:
    assert snake_case(text) == expected


def test_pascal_case() -> None:
    assert pascal_case("hero_kv") == "HeroKv"
    assert pascal_case("BLOCK_TAG") == "BlockTag"
    assert class_name("hero_kv") == "HeroKv"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("hero_kv", "hero_kv"),
        ("Zinit JSON-RPC API", "zinit"),
        ("Ethereum JSON-RPC Specification", "ethereum"),
        ("JobManager OpenRPC Specification", "job_manager"),
        ("JSON-RPC API", "json_rpc_api"),  # all generic: kept whole, and never `json`
        ("../../etc/passwd", "passwd"),
        ("specs/zinit.json", "zinit"),
        ("class", "class_"),
        ("os", "os_service"),
        ("3fold", "service_3fold"),
    ],
)
def test_service_name(title: str, expected: str) -> None:
    name = service_name(title)
    assert name == expected
    assert name.isidentifier()
    assert name == name.lower()
    assert not keyword.iskeyword(name)


@pytest.mark.parametrize("title", ["", "   ", "!!!", "../.."])
def test_service_name_rejects_names_without_letters(title: str) -> None:
    with pytest.raises(CodegenError, match="no letters"):
        service_name(title)


def test_shared_namespace_is_dropped() -> None:
    names = method_names(["Filecoin.ChainHead", "Filecoin.EthAccounts"])
    assert names == {"Filecoin.ChainHead": "chain_head", "Filecoin.EthAccounts": "eth_accounts"}


def test_mixed_namespaces_are_kept() -> None:
    names = method_names(["calendar.get", "contact.get", "rpc.discover"])
    assert names == {
        "calendar.get": "calendar_get",
        "contact.get": "contact_get",
        "rpc.discover": "rpc_discover",
    }


def test_rpc_namespace_alone_is_not_dropped() -> None:
    assert method_names(["rpc.discover"]) == {"rpc.discover": "rpc_discover"}


def test_keywords_and_members_are_escaped_but_builtins_are_kept() -> None:
    names = method_names(["import", "connect", "close", "list", "set", "rpc", "builtins", "get"])
    assert names == {
        "import": "import_",
        "connect": "connect_",
        "close": "close_",
        "list": "list",  # kv.list() is what a script writes; annotations say builtins.list
        "set": "set",
        "rpc": "rpc_",
        "builtins": "builtins_",
        "get": "get",
    }


def test_collisions_get_suffixes_in_sorted_rpc_order() -> None:
    names = method_names(["getFoo", "get_foo", "get.foo"])
    # sorted RPC names: get.foo < getFoo < get_foo
    assert names == {"getFoo": "get_foo_2", "get_foo": "get_foo_3", "get.foo": "get_foo"}
    assert method_names(["get_foo", "getFoo", "get.foo"]) == {
        "get_foo": "get_foo_3",
        "getFoo": "get_foo_2",
        "get.foo": "get_foo",
    }
