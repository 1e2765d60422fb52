"""Validation of raw OpenRPC documents against the official meta-schema, offline.

The meta-schema ships as package data (``meta-schema.json``, with the JSON Schema meta-schema
it references in ``json-schema-meta-schema.json``; provenance in ``META_SCHEMA.md``), so
validation never touches the network. The compiled validator is built once per process.

Two modes, because real documents rarely conform exactly (the Ethereum spec declares OpenRPC
``1.4.1``, newer than the meta-schema's version list):

* **lenient** (default): meta-schema violations come back as warnings; only problems that
  make the document unusable raise :class:`SpecValidationError` — not an object, no
  ``methods`` list, no ``info.title``, a method without a ``name``.
* **strict**: any violation raises :class:`SpecValidationError` listing them all.

Messages read ``"methods[3].params[0]: 'name' is a required property (method 'eth_call')"``:
a JSON path into the document, then what is wrong. For the ``oneOf`` alternatives that
OpenRPC uses everywhere ("a content descriptor *or* a reference"), the branch the author
evidently meant is reported instead of jsonschema's opaque "is not valid under any of the
given schemas". Order is deterministic (by path, then message) and the list is capped.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

from aibroker.openrpc.errors import SpecValidationError, json_type_name
from aibroker.openrpc.model import OpenRpcDocument

MAX_MESSAGES = 50
"""Cap on reported problems: past a few dozen, more lines help nobody fix the document."""

MAX_MESSAGE_CHARS = 240
MESSAGE_CACHE_SIZE = 64
"""Documents whose meta-schema messages are remembered, by content hash."""

_MESSAGES_BY_HASH: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
JSON_SCHEMA_META_URIS = ("https://meta.json-schema.tools", "https://meta.json-schema.tools/")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")

PathPart = str | int


def validate(raw: Any, *, strict: bool, content_hash: str | None = None) -> list[str]:
    """Check ``raw`` against the OpenRPC meta-schema; return warnings (lenient) or raise.

    Unusable documents raise :class:`SpecValidationError` in both modes; in strict mode any
    meta-schema violation does too. The returned messages are sorted and capped.
    ``content_hash`` (the document's :func:`~aibroker.openrpc.hashing.spec_hash`), when
    given, lets a document seen before skip the meta-schema pass: that pass is most of the
    parse time of a large spec (about 0.3 s for the 2.7 MB Ethereum one), and the registry
    re-reads the same documents on every discovery.
    """
    problems = usability_problems(raw)
    if problems:
        raise SpecValidationError(
            "not a usable OpenRPC document:",
            problems,
            hint="an OpenRPC document is a JSON object with 'openrpc', 'info.title' and a "
            "'methods' list whose entries each have a 'name'",
        )
    messages = _cached_meta_schema_messages(raw, content_hash)
    if strict and messages:
        raise SpecValidationError(
            "the document does not conform to the OpenRPC meta-schema:",
            messages,
            hint="fix the places listed, or load it in lenient mode to accept it with warnings",
        )
    return messages


def usability_problems(raw: Any) -> list[str]:
    """What makes ``raw`` unusable however lenient we are (empty list: usable)."""
    if not isinstance(raw, dict):
        return [f"(document): expected a JSON object, got {json_type_name(raw)}"]
    problems: list[str] = []
    info = raw.get("info")
    if not isinstance(info, dict):
        problems.append("info: missing or not an object (it must carry the service title)")
    elif not isinstance(info.get("title"), str):
        problems.append("info.title: missing or not a string (the service needs a name)")
    methods = raw.get("methods")
    if not isinstance(methods, list):
        what = "missing" if methods is None else f"a {json_type_name(methods)}, not a list"
        problems.append(f"methods: {what} (an OpenRPC document lists its methods)")
        return problems
    for index, method in enumerate(methods):
        if not isinstance(method, dict):
            problems.append(f"methods[{index}]: expected an object, got {json_type_name(method)}")
        elif "$ref" not in method and (
            not isinstance(method.get("name"), str) or not method["name"].strip()
        ):
            problems.append(f"methods[{index}]: 'name' is missing or empty")
    return _capped(problems)


def semantic_problems(document: OpenRpcDocument) -> list[str]:
    """Rules the meta-schema cannot express: a title, unique method and param names."""
    problems: list[str] = []
    if not document.info.title.strip():
        problems.append("info.title: empty; name the service so people and models can tell it")
    seen: dict[str, int] = {}
    for index, method in enumerate(document.methods):
        if method.name in seen:
            problems.append(
                f"methods[{index}]: duplicate method name '{method.name}' "
                f"(also methods[{seen[method.name]}]); method names must be unique"
            )
        else:
            seen[method.name] = index
        param_names: set[str] = set()
        for param_index, param in enumerate(method.params):
            if param.name in param_names:
                problems.append(
                    f"methods[{index}].params[{param_index}]: duplicate param name "
                    f"'{param.name}' (method '{method.name}')"
                )
            param_names.add(param.name)
    return problems


def meta_schema_messages(raw: dict[str, Any]) -> list[str]:
    """Readable, sorted, capped messages for every meta-schema violation in ``raw``."""
    located: list[tuple[tuple[tuple[int, int | str], ...], str]] = []
    for error in meta_schema_validator().iter_errors(raw):
        for leaf in _meaningful_errors(error):
            path = tuple(leaf.absolute_path)
            message = f"{format_path(path)}: {_describe(leaf)}{_method_hint(raw, path)}"
            located.append((_sort_key(path), message))
    located.sort()
    return _capped(list(dict.fromkeys(message for _, message in located)))


def _cached_meta_schema_messages(raw: dict[str, Any], content_hash: str | None) -> list[str]:
    if content_hash is None:
        return meta_schema_messages(raw)
    with _CACHE_LOCK:
        cached = _MESSAGES_BY_HASH.get(content_hash)
        if cached is not None:
            _MESSAGES_BY_HASH.move_to_end(content_hash)
            return list(cached)
    messages = meta_schema_messages(raw)
    with _CACHE_LOCK:
        _MESSAGES_BY_HASH[content_hash] = tuple(messages)
        while len(_MESSAGES_BY_HASH) > MESSAGE_CACHE_SIZE:
            _MESSAGES_BY_HASH.popitem(last=False)
    return messages


@lru_cache(maxsize=1)
def meta_schema_validator() -> Draft7Validator:
    """The compiled OpenRPC meta-schema validator, with its JSON Schema meta-schema offline."""
    package = resources.files("aibroker.openrpc")
    meta_schema = json.loads(package.joinpath("meta-schema.json").read_text("utf-8"))
    json_schema_meta = json.loads(
        package.joinpath("json-schema-meta-schema.json").read_text("utf-8")
    )
    resource = DRAFT7.create_resource(json_schema_meta)
    registry: Registry[Any] = Registry().with_resources(
        (uri, resource) for uri in JSON_SCHEMA_META_URIS
    )
    return Draft7Validator(meta_schema, registry=registry)


def format_path(path: Sequence[PathPart]) -> str:
    """``("methods", 3, "params", 0)`` → ``methods[3].params[0]``; empty → ``(document)``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or "(document)"


def _meaningful_errors(error: ValidationError) -> list[ValidationError]:
    """Replace a failed ``oneOf``/``anyOf`` by the errors of the branch the author meant."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[int, list[ValidationError]] = {}
    for sub_error in error.context:
        branches.setdefault(int(sub_error.relative_schema_path[0]), []).append(sub_error)
    options = error.validator_value if isinstance(error.validator_value, list) else []
    candidates = {
        index: errors
        for index, errors in branches.items()
        if _branch_plausible(error.instance, options[index] if index < len(options) else {}, errors)
    } or branches
    _, chosen = min(candidates.items(), key=lambda item: (len(item[1]), item[0]))
    return [leaf for sub_error in chosen for leaf in _meaningful_errors(sub_error)]


def _branch_plausible(instance: Any, branch: Any, errors: Iterable[ValidationError]) -> bool:
    """False for a branch the instance was obviously not written for.

    An object without ``$ref`` is not a reference object, an object with one is nothing else,
    and a branch whose failure is a type mismatch of the instance itself is for another type.
    """
    is_reference_branch = isinstance(branch, dict) and str(branch.get("$ref", "")).endswith(
        "/referenceObject"
    )
    if isinstance(instance, dict) and is_reference_branch != ("$ref" in instance):
        return False
    return not any(e.validator == "type" and not e.relative_path for e in errors)


def _describe(error: ValidationError) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        unexpected = _unexpected_properties(error.instance, error.schema)
        if unexpected:
            names = ", ".join(repr(name) for name in unexpected)
            extensions = isinstance(error.schema, dict) and error.schema.get("patternProperties")
            note = " (besides its own fields, only 'x-' extensions are allowed)"
            return _short(f"unexpected property {names}{note if extensions else ''}")
    if error.validator == "enum" and isinstance(error.validator_value, list):
        values = error.validator_value
        shown = ", ".join(repr(value) for value in values[:4])
        more = f", … ({len(values)} allowed values)" if len(values) > 4 else ""
        return f"{_short(repr(error.instance))} is not one of {shown}{more}"
    return _short(error.message)


def _unexpected_properties(instance: dict[str, Any], schema: Any) -> list[str]:
    """The keys ``additionalProperties: false`` rejected (jsonschema words this obscurely)."""
    if not isinstance(schema, dict):
        return []
    known = schema.get("properties") or {}
    patterns = list((schema.get("patternProperties") or {}).keys())
    return sorted(
        key
        for key in instance
        if key not in known and not any(re.search(pattern, key) for pattern in patterns)
    )


def _method_hint(raw: dict[str, Any], path: tuple[PathPart, ...]) -> str:
    if len(path) >= 2 and path[0] == "methods" and isinstance(path[1], int):
        methods = raw.get("methods")
        if isinstance(methods, list) and path[1] < len(methods):
            method = methods[path[1]]
            if isinstance(method, dict) and isinstance(method.get("name"), str):
                return f" (method '{method['name']}')"
    return ""


def _sort_key(path: Iterable[PathPart]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _capped(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_MESSAGES:
        return messages
    hidden = len(messages) - MAX_MESSAGES + 1
    return [*messages[: MAX_MESSAGES - 1], f"… and {hidden} more problems"]
