"""Resolution of the ``$ref`` references inside one OpenRPC document.

Policy (what the rest of aibroker may rely on after :func:`resolve_refs`):

* **OpenRPC objects are inlined.** A reference object standing for a method, content
  descriptor (param or result), error, tag, example, example pairing or link — in practice
  ``#/components/contentDescriptors|errors|tags|examples|examplePairings|links/...`` — is
  replaced by its target, recursively (a component that is itself a reference is followed
  too). Code that reads the resolved document therefore never meets a ``$ref`` outside a
  JSON Schema. Keys beside ``$ref`` in a reference object are ignored, as JSON Reference says.
* **Named schema references are kept.** Inside JSON Schemas, ``{"$ref":
  "#/components/schemas/Name"}`` stays as it is: the code generator turns it into a named
  model, which is also how recursive types (a tree node, two mutually recursive records)
  stay finite. The reference must name an existing schema. Keys beside it (MetaMask extends
  schemas that way) are kept and resolved like any schema.
* **Deeper pointers inside schemas are inlined.** A schema reference to any other place in the
  document (``#/components/schemas/X/properties/y``, as MetaMask writes, or
  ``#/components/contentDescriptors/C/schema``) is replaced by a copy of its target, itself
  resolved by the same rules. Keys beside such a ``$ref`` are kept, as their authors mean
  them (JSON Schema 2019-09 semantics; draft-07 would drop them): merged into the target when
  they only add keys or override annotations (``title``, ``description``, …), otherwise
  ``{"allOf": [target], <siblings>}`` so that both constraints hold (MetaMask narrows an
  inherited ``enum`` that way).
  A pointer that leads back to itself (directly or through other deep pointers) cannot be
  inlined: that spot becomes ``{}`` with a warning, so resolution always terminates.
* **Unresolvable or external references degrade, or fail, by position.** In a schema, a
  reference to something missing, to another file (``other.json#/x``) or to a URL becomes
  ``{}`` (any value) with a warning naming the reference and the method or component where it
  appears: one odd type should not make a hundred good methods unusable. In a non-schema
  position (param, result, error, tag, example, link, method) the object has no meaningful
  fallback, so :class:`~aibroker.openrpc.errors.RefError` is raised, naming the reference and
  the method.

Schemas are walked keyword by keyword (``properties``, ``items``, ``allOf``, …) rather than as
arbitrary JSON, because ``enum``, ``const``, ``default`` and ``examples`` hold *data*, and data
may legitimately contain a key called ``$ref``. The input is never mutated: unchanged subtrees
are shared with it (copy on write), which keeps the 2.7 MB Ethereum spec cheap to resolve.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aibroker.openrpc.errors import RefError

NAMED_SCHEMA_REF = re.compile(r"^#/components/schemas/([^/]+)$")
"""A reference the code generator turns into a named model; group 1 is the escaped name."""

_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
)
_SCHEMA_SINGLES = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "not",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})

_MISSING = object()


@dataclass(frozen=True)
class ResolvedRefs:
    """The document with references resolved per the module policy, and what was degraded."""

    document: dict[str, Any]
    warnings: tuple[str, ...]


def resolve_refs(raw: dict[str, Any]) -> ResolvedRefs:
    """Resolve the references of ``raw`` (not mutated) according to the module policy.

    Raises :class:`RefError` for an unresolvable reference outside a JSON Schema.
    """
    resolver = _Resolver(raw)
    document = dict(raw)
    methods = raw.get("methods")
    if isinstance(methods, list):
        document["methods"] = [
            resolver.method(method, index) for index, method in enumerate(methods)
        ]
    components = raw.get("components")
    if isinstance(components, dict):
        document["components"] = resolver.components(components)
    return ResolvedRefs(document=document, warnings=tuple(resolver.warnings))


def unescape_pointer_token(token: str) -> str:
    """Decode one JSON-pointer token taken from a URI fragment (``%xx``, ``~1``, ``~0``)."""
    return unquote(token).replace("~1", "/").replace("~0", "~")


def _lookup_pointer(root: Any, ref: str) -> Any:
    """The value at the document-internal reference ``ref`` (``#/a/b``), or ``_MISSING``."""
    if not ref.startswith("#/"):
        return _MISSING
    node = root
    for raw_token in ref[2:].split("/"):
        token = unescape_pointer_token(raw_token)
        if isinstance(node, dict):
            if token not in node:
                return _MISSING
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return _MISSING
            node = node[int(token)]
        else:
            return _MISSING
    return node


class _Resolver:
    """One resolution pass over one document; collects warnings as it goes."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        components = root.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        self.schema_names: frozenset[str] = (
            frozenset(schemas) if isinstance(schemas, dict) else frozenset()
        )
        self._warnings: dict[str, None] = {}  # insertion-ordered set

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    def warn(self, message: str) -> None:
        self._warnings[message] = None

    # --- OpenRPC objects (references are inlined; failures raise) -----------------------

    def deref(self, node: Any, where: str, what: str) -> Any:
        """Follow reference objects from ``node`` until a non-reference value is reached."""
        chain: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise RefError(
                    f"{where}: {what} has a $ref that is not a string ({ref!r})",
                    hint="a reference object is {'$ref': '#/components/<kind>/<name>'}",
                )
            if not ref.startswith("#/"):
                raise RefError(
                    f"{where}: {what} refers to '{ref}', which is outside this document",
                    hint="only references inside the document (#/components/...) are "
                    "resolved; inline the object or bundle the document first",
                )
            if ref in chain:
                cycle = " -> ".join([*chain, ref])
                raise RefError(
                    f"{where}: {what} is a reference cycle ({cycle})",
                    hint="make one of the components a real object instead of a reference",
                )
            chain.append(ref)
            node = _lookup_pointer(self.root, ref)
            if node is _MISSING:
                raise RefError(
                    f"{where}: {what} refers to '{ref}', which does not exist in the document",
                    hint=f"define it at {_pointer_as_path(ref)} or correct the reference",
                )
        return node

    def method(self, node: Any, index: int) -> Any:
        method = self.deref(node, f"methods[{index}]", "the method")
        if not isinstance(method, dict):
            return method
        name = method.get("name")
        where = f"method '{name}'" if isinstance(name, str) else f"methods[{index}]"
        resolved = dict(method)
        self._each(resolved, "params", where, self.content_descriptor)
        if "result" in method:
            resolved["result"] = self.content_descriptor(method["result"], where, "result")
        self._each(resolved, "errors", where, self.deref)
        self._each(resolved, "tags", where, self.deref)
        self._each(resolved, "links", where, self.deref)
        self._each(resolved, "examples", where, self.example_pairing)
        return resolved

    def content_descriptor(self, node: Any, where: str, what: str) -> Any:
        descriptor = self.deref(node, where, what)
        if isinstance(descriptor, dict) and "schema" in descriptor:
            descriptor = dict(descriptor)
            descriptor["schema"] = self.schema(descriptor["schema"], where, ())
        return descriptor

    def example_pairing(self, node: Any, where: str, what: str) -> Any:
        pairing = self.deref(node, where, what)
        if not isinstance(pairing, dict):
            return pairing
        pairing = dict(pairing)
        self._each(pairing, "params", where, self.deref, prefix=f"{what}.")
        if "result" in pairing:
            pairing["result"] = self.deref(pairing["result"], where, f"{what}.result")
        return pairing

    def components(self, components: dict[str, Any]) -> dict[str, Any]:
        resolved = dict(components)
        kinds: dict[str, Callable[[Any, str, str], Any]] = {
            "contentDescriptors": self.content_descriptor,
            "errors": self.deref,
            "tags": self.deref,
            "examples": self.deref,
            "links": self.deref,
            "examplePairings": self.example_pairing,
            "examplePairingObjects": self.example_pairing,
        }
        schemas = components.get("schemas")
        if isinstance(schemas, dict):
            resolved["schemas"] = {
                name: self.schema(schema, f"components.schemas.{name}", ())
                for name, schema in schemas.items()
            }
        for kind, resolve in kinds.items():
            entries = components.get(kind)
            if isinstance(entries, dict):
                resolved[kind] = {
                    name: resolve(entry, f"components.{kind}.{name}", "the component")
                    for name, entry in entries.items()
                }
        return resolved

    @staticmethod
    def _each(
        container: dict[str, Any],
        key: str,
        where: str,
        resolve: Callable[[Any, str, str], Any],
        *,
        prefix: str = "",
    ) -> None:
        items = container.get(key)
        if isinstance(items, list):
            container[key] = [
                resolve(item, where, f"{prefix}{key}[{index}]") for index, item in enumerate(items)
            ]

    # --- JSON Schemas (named refs kept, deep pointers inlined, failures degrade) --------

    def schema(self, node: Any, where: str, stack: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self._schema_ref(node, where, stack)
        return self._walk(node, where, stack)

    def _walk(self, node: dict[str, Any], where: str, stack: tuple[str, ...]) -> dict[str, Any]:
        """Resolve the subschemas of ``node``'s keywords (not ``node``'s own ``$ref``)."""
        copy: dict[str, Any] | None = None
        for key, value in node.items():
            new_value = self._subschemas(key, value, where, stack)
            if new_value is not value:
                if copy is None:
                    copy = dict(node)
                copy[key] = new_value
        return node if copy is None else copy

    def _subschemas(self, key: str, value: Any, where: str, stack: tuple[str, ...]) -> Any:
        if key in _SCHEMA_SINGLES:
            return self.schema(value, where, stack)
        if key == "items":
            if isinstance(value, list):
                return self._schema_list(value, where, stack)
            return self.schema(value, where, stack)
        if key in _SCHEMA_LISTS and isinstance(value, list):
            return self._schema_list(value, where, stack)
        if (key in _SCHEMA_MAPS or key == "dependencies") and (isinstance(value, dict)):
            # ``dependencies`` values are schemas or lists of property names; lists pass.
            return self._schema_map(value, where, stack)
        return value

    def _schema_list(self, items: list[Any], where: str, stack: tuple[str, ...]) -> list[Any]:
        resolved = [self.schema(item, where, stack) for item in items]
        unchanged = all(new is old for new, old in zip(resolved, items, strict=True))
        return items if unchanged else resolved

    def _schema_map(
        self, entries: dict[str, Any], where: str, stack: tuple[str, ...]
    ) -> dict[str, Any]:
        copy: dict[str, Any] | None = None
        for name, entry in entries.items():
            new_entry = self.schema(entry, where, stack)
            if new_entry is not entry:
                if copy is None:
                    copy = dict(entries)
                copy[name] = new_entry
        return entries if copy is None else copy

    def _schema_ref(self, node: dict[str, Any], where: str, stack: tuple[str, ...]) -> Any:
        ref = node["$ref"]
        if not isinstance(ref, str):
            self.warn(f"{where}: a schema has a $ref that is not a string ({ref!r}); {_ANY}")
            return {}
        named = NAMED_SCHEMA_REF.match(ref)
        if named:
            if unescape_pointer_token(named.group(1)) in self.schema_names:
                return self._walk(node, where, stack)  # keep the $ref, resolve its siblings
            self.warn(f"{where}: schema $ref '{ref}' names no schema in components.schemas; {_ANY}")
            return {}
        if not ref.startswith("#/"):
            self.warn(f"{where}: schema $ref '{ref}' is outside this document; {_ANY}")
            return {}
        if ref in stack:
            self.warn(f"{where}: schema $ref '{ref}' refers back to itself; {_ANY}")
            return {}
        target = _lookup_pointer(self.root, ref)
        if target is _MISSING:
            self.warn(f"{where}: schema $ref '{ref}' points nowhere in the document; {_ANY}")
            return {}
        if not isinstance(target, dict | bool):
            self.warn(f"{where}: schema $ref '{ref}' points to a non-schema value; {_ANY}")
            return {}
        inlined = self.schema(target, where, (*stack, ref))
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        if not siblings:
            return inlined
        return _with_siblings(inlined, self._walk(siblings, where, stack))


_ANY = "that schema accepts any value"

ANNOTATION_KEYWORDS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
"""Keywords that describe rather than constrain: a sibling may simply override them."""


def _with_siblings(target: Any, siblings: dict[str, Any]) -> dict[str, Any]:
    """Combine an inlined ``$ref`` target with the keys written beside the ``$ref``."""
    if isinstance(target, dict):
        clashes = {key for key in siblings if key in target} - ANNOTATION_KEYWORDS
        if not clashes:
            return {**target, **siblings}
    if "allOf" in siblings and isinstance(siblings["allOf"], list):
        return {**siblings, "allOf": [target, *siblings["allOf"]]}
    return {"allOf": [target], **siblings}


def _pointer_as_path(ref: str) -> str:
    """``#/components/errors/Foo`` → ``components.errors.Foo`` for hints."""
    return ".".join(unescape_pointer_token(token) for token in ref[2:].split("/"))
