"""Endpoint parsing and the explicit > environment > default resolution rule."""

from __future__ import annotations

import os

import pytest

from aibroker.rpc import Endpoint, EndpointError, resolve_endpoint


@pytest.mark.parametrize(
    ("text", "kind", "url", "socket_path"),
    [
        ("http://127.0.0.1:8080/rpc", "http", "http://127.0.0.1:8080/rpc", None),
        ("https://example.org/", "http", "https://example.org/", None),
        ("unix:///run/kv.sock", "unix", None, "/run/kv.sock"),
        ("/run/kv.sock", "unix", None, "/run/kv.sock"),
        ("./kv.sock", "unix", None, "./kv.sock"),
        ("http+unix:///run/kv.sock", "http+unix", "http://localhost/", "/run/kv.sock"),
        (
            "http+unix:///run/llm.sock/v1/chat?x=1",
            "http+unix",
            "http://localhost/v1/chat?x=1",
            "/run/llm.sock",
        ),
        ("http+unix://%2Frun%2Fllm.sock/v1", "http+unix", "http://localhost/v1", "/run/llm.sock"),
        ("http+unix:///run/dir/socket", "http+unix", "http://localhost/", "/run/dir/socket"),
    ],
)
def test_parse_recognises_each_form(
    text: str, kind: str, url: str | None, socket_path: str | None
) -> None:
    endpoint = Endpoint.parse(text)
    assert (endpoint.kind, endpoint.url, endpoint.socket_path) == (kind, url, socket_path)
    assert str(endpoint) == text


def test_parse_expands_home_in_paths() -> None:
    endpoint = Endpoint.parse("~/hero/var/sockets/kv.sock")
    assert endpoint.socket_path == os.path.expanduser("~/hero/var/sockets/kv.sock")
    assert not endpoint.socket_path.startswith("~")


@pytest.mark.parametrize("text", ["", "   ", "ftp://host/x", "http:///nohost", "unix://"])
def test_parse_rejects_unusable_endpoints(text: str) -> None:
    with pytest.raises(EndpointError) as caught:
        Endpoint.parse(text)
    assert caught.value.hint is not None
    assert "unix://" in caught.value.hint


def test_resolve_prefers_explicit_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SVC_URL", "unix:///env.sock")
    assert resolve_endpoint("/explicit.sock", env_var="TEST_SVC_URL", default="/d.sock") == (
        "/explicit.sock"
    )
    assert resolve_endpoint(None, env_var="TEST_SVC_URL", default="/d.sock") == "unix:///env.sock"
    monkeypatch.setenv("TEST_SVC_URL", "")
    assert resolve_endpoint(None, env_var="TEST_SVC_URL", default="/d.sock") == "/d.sock"


def test_resolve_without_any_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SVC_URL", raising=False)
    with pytest.raises(EndpointError) as caught:
        resolve_endpoint(None, env_var="TEST_SVC_URL", default=None)
    assert "TEST_SVC_URL" in str(caught.value)


def test_resolve_says_where_a_bad_value_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SVC_URL", "gopher://x")
    with pytest.raises(EndpointError, match="environment variable TEST_SVC_URL"):
        resolve_endpoint(None, env_var="TEST_SVC_URL", default="/d.sock")
