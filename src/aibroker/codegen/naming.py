"""Names: services, classes, methods, parameters and fields, all valid and deterministic.

Every name in generated code derives from spec text, so every name is sanitised here: the
result is always an identifier, never a keyword, never a builtin the generated code relies
on, and collisions are resolved by suffixes in a fixed order (spec order or sorted RPC name),
so the same spec always gives the same names.
"""

from __future__ import annotations

import builtins
import keyword
import re
import sys
from collections.abc import Iterable, Sequence

from aibroker.codegen.errors import CodegenError

_WORD_BOUNDARY_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_WORD_BOUNDARY_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"[A-Za-z0-9]+")

GENERIC_TITLE_WORDS = frozenset(
    {"api", "json", "rpc", "jsonrpc", "openrpc", "spec", "specification"}
)
"""Words dropped from the end of a title: "Zinit JSON-RPC API" names the service ``zinit``."""

ANNOTATION_BUILTINS = frozenset(
    {"list", "dict", "str", "int", "float", "bool", "bytes", "object", "type", "tuple", "set"}
)
"""Builtins that generated annotations use: a class member with such a name would shadow them
inside the class body (``def list(self) -> list[str]`` breaks), so members are escaped."""

CLIENT_MEMBERS = frozenset({"connect", "close", "aclose", "rpc", "builtins"})
"""Members of every generated service class (and ``builtins``, which qualifies annotations
that a method shadows); RPC methods with these names get a trailing ``_``."""

TYPING_NAMES = frozenset(
    {
        "Any",
        "BaseModel",
        "ConfigDict",
        "Field",
        "Literal",
        "Self",
        "TypeAdapter",
        "TypeAlias",
        "TracebackType",
        "JsonRpcError",
        "RpcClient",
        "AsyncRpcClient",
        "ServiceClient",
        "AsyncServiceClient",
        "ServiceInfo",
        "Model",
        "ERRORS",
        "SERVICE",
    }
)
"""Module-level names of a generated client that a model or error class must not take."""

RESERVED_CLASS_NAMES = TYPING_NAMES | frozenset(
    name for name in dir(builtins) if name[:1].isupper()
)


SHADOWED_MODULES = frozenset(sys.stdlib_module_names) | {
    "aibroker",
    "httpx",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "anyio",
    "annotated_types",
    "sniffio",
    "certifi",
    "idna",
    "h11",
    "httpcore",
    "main",
    "script",
    "test",
    "tests",
}
"""Module names a generated client must not take: scripts import it next to these."""


def snake_case(text: str) -> str:
    """``eth_getBalance`` → ``eth_get_balance``; ``HTTPServer`` → ``http_server`` (may be '')."""
    spaced = _WORD_BOUNDARY_ACRONYM.sub(r"\1_\2", text)
    spaced = _WORD_BOUNDARY_LOWER_UPPER.sub(r"\1_\2", spaced)
    return _NOT_ALNUM.sub("_", spaced.lower()).strip("_")


def pascal_case(text: str) -> str:
    """``hero_kv`` → ``HeroKv``; ``new pet`` → ``NewPet`` (may be '')."""
    words = _WORDS.findall(snake_case(text).replace("_", " "))
    return "".join(word[:1].upper() + word[1:] for word in words)


def escape_identifier(name: str, reserved: Iterable[str] = ()) -> str:
    """``name`` with a trailing ``_`` when it is a keyword, ``self``, or in ``reserved``."""
    taken = set(reserved)
    while (
        keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or name in {"self", "cls"}
        or name in taken
    ):
        name += "_"
    return name


def identifier(text: str, *, fallback: str) -> str:
    """``text`` as a snake_case identifier starting with a letter (``fallback`` when empty)."""
    name = snake_case(text)
    if not name:
        return fallback
    if not name[0].isalpha():
        name = f"{fallback}_{name}"
    return name


def service_name(title_or_filename: str) -> str:
    """The module/registry name of a service, from its title or file name.

    Only the last path component counts and a ``.json`` suffix is dropped, so a name can never
    traverse directories; generic trailing words (``API``, ``JSON-RPC``, ``Specification``)
    are dropped when something remains. The result matches ``[a-z][a-z0-9_]*`` and is not a
    keyword.
    """
    base = re.split(r"[\\/]", title_or_filename.strip())[-1]
    base = re.sub(r"(?i)\.json$", "", base)
    base = re.sub(r"(?i)open-?rpc", " openrpc ", base)  # one word, so it can be dropped
    words = snake_case(base).split("_") if snake_case(base) else []
    while len(words) > 1 and words[-1] in GENERIC_TITLE_WORDS:
        words.pop()
    name = "_".join(word for word in words if word)
    if name in SHADOWED_MODULES:  # "JSON-RPC API" must not become a module named json
        name = snake_case(base)
    if not name or not re.search(r"[a-z]", name):
        raise CodegenError(
            f"cannot derive a service name from {title_or_filename!r}: it has no letters",
            hint="give the service an explicit name made of letters, digits and underscores",
        )
    if not name[0].isalpha():
        name = f"service_{name}"
    if name in SHADOWED_MODULES:
        name = f"{name}_service"
    return escape_identifier(name)


def class_name(service: str) -> str:
    """The client class of a service: ``hero_kv`` → ``HeroKv``."""
    name = pascal_case(service) or "Service"
    return name if name not in RESERVED_CLASS_NAMES else f"{name}Client"


def shared_namespace(rpc_names: Sequence[str]) -> str | None:
    """The dotted prefix (``Filecoin.``) shared by every RPC name, or ``None``."""
    prefixes = {name.split(".", 1)[0] for name in rpc_names if "." in name}
    if len(prefixes) != 1 or not all("." in name for name in rpc_names):
        return None
    prefix = prefixes.pop()
    return None if prefix == "rpc" else prefix + "."


def method_names(rpc_names: Sequence[str]) -> dict[str, str]:
    """RPC method name → Python method name, for all methods of one service.

    A dotted namespace shared by all methods is dropped; keywords and client members get a
    trailing ``_``; builtins do not (``kv.set(...)`` is what a script writes: the client's
    annotations say ``builtins.set`` instead); remaining collisions get ``_2``, ``_3`` in
    sorted RPC-name order, so adding a method never renames an unrelated one.
    """
    namespace = shared_namespace(rpc_names)
    wanted: dict[str, str] = {}
    for rpc_name in rpc_names:
        short = rpc_name[len(namespace) :] if namespace else rpc_name
        name = identifier(short, fallback="call")
        wanted[rpc_name] = escape_identifier(name, CLIENT_MEMBERS)
    result: dict[str, str] = {}
    used: set[str] = set()
    for rpc_name in sorted(wanted):
        result[rpc_name] = unique(wanted[rpc_name], used, separator="_")
    return {rpc_name: result[rpc_name] for rpc_name in rpc_names}


def unique(name: str, used: set[str], *, separator: str = "") -> str:
    """``name``, or ``name2``/``name_2``... — the first not in ``used`` (which is updated)."""
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = f"{name}{separator}{number}"
    used.add(candidate)
    return candidate


class NameAllocator:
    """Hands out unique PascalCase class names for models, aliases and errors of one module."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._used: set[str] = set(RESERVED_CLASS_NAMES) | set(reserved)

    def allocate(self, wanted: str, *, fallback: str) -> str:
        """A fresh class name close to ``wanted`` (``fallback`` when it has no letters)."""
        name = pascal_case(wanted) or fallback
        if not name[0].isalpha():
            name = fallback + name
        if name in RESERVED_CLASS_NAMES:
            name += "Model"
        return unique(name, self._used)

    def reserve(self, name: str) -> None:
        """Mark ``name`` as taken (the service class itself)."""
        self._used.add(name)
