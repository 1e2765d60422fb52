"""JSON Schema (draft-07, as OpenRPC writes it) → Python type expressions and pydantic models.

:class:`SchemaMapper` walks the schemas of one document and returns a :class:`Ty` for each:
the type expression as Python source plus the named definitions it mentions. Along the way it
collects the definitions the expressions need — :class:`ModelDef` (a pydantic model) and
:class:`AliasDef` (a ``TypeAlias``) — in a deterministic order (first use, spec order).

Mapping, construct by construct:

* ``#/components/schemas/X`` → a model named after ``X`` when it is an object, an alias when it
  is an enum or a union, otherwise its expansion (``Hash`` = ``str`` reads better inlined).
* inline objects with properties → models named from ``title``, else parent + property name;
  identical inline schemas (ignoring descriptions and examples) share one model, which keeps
  the Ethereum spec — everything inlined, Block repeated dozens of times — small.
* ``enum``/``const`` → ``Literal[...]``; ``oneOf``/``anyOf``/``type: [..]`` → unions;
  ``allOf`` → one merged object, except over a union of named objects, which distributes
  (``allOf[A | B, C]`` → ``AC | BC``, subclasses of ``A`` and ``B``: see
  :meth:`SchemaMapper._distribution`); ``nullable``/``"null"`` → ``X | None``; arrays →
  ``list[T]``; ``additionalProperties`` alone → ``dict[str, T]``; formats and patterns stay
  ``str``; anything else (or nothing) → ``Any``.
* Recursion goes through models only (their annotations can be forward references); a cycle
  made of aliases alone degrades to ``Any`` at the point where it closes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from aibroker.codegen.naming import NameAllocator, pascal_case, snake_case
from aibroker.openrpc.model import JsonSchema

SCHEMA_REF_PREFIX = "#/components/schemas/"
_ANNOTATION_KEYS = frozenset({"description", "$comment", "examples", "example", "summary"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs"})
_SCHEMA_SINGLES = frozenset(
    {"items", "additionalProperties", "additionalItems", "not", "contains", "if", "then", "else"}
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_PRIMITIVES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Ty:
    """A Python type expression and the generated names (models, aliases) it mentions."""

    text: str
    refs: frozenset[str] = frozenset()

    @property
    def is_any(self) -> bool:
        return self.text == "Any"

    @property
    def is_none(self) -> bool:
        return self.text == "None"


ANY = Ty("Any")
NONE = Ty("None")


@dataclass
class FieldDef:
    """One property of a model; the Python name is chosen later, once all class names exist."""

    json_name: str
    type: Ty
    required: bool
    description: str
    python_name: str = ""


@dataclass
class ModelDef:
    """A pydantic model to generate."""

    name: str
    description: str
    fields: list[FieldDef] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    """Models this one extends (``allOf`` of named object schemas), defined before it."""
    inherited: list[FieldDef] = field(default_factory=list)
    """The fields of the bases, in MRO-like order (for examples and checks)."""
    kind: Literal["model"] = "model"

    @property
    def refs(self) -> frozenset[str]:
        return frozenset(self.bases).union(*(f.type.refs for f in self.fields))

    @property
    def all_fields(self) -> list[FieldDef]:
        return [*self.inherited, *self.fields]


@dataclass
class AliasDef:
    """A type alias to generate (named enums and unions)."""

    name: str
    description: str
    type: Ty
    kind: Literal["alias"] = "alias"

    @property
    def refs(self) -> frozenset[str]:
        return self.type.refs


Definition = ModelDef | AliasDef


def union(types: list[Ty]) -> Ty:
    """``A | B | None`` from ``types``: flattened, de-duplicated, ``None`` last, ``Any`` absorbs."""
    parts: list[str] = []
    refs: set[str] = set()
    has_none = False
    for ty in types:
        if ty.is_any:
            return ANY
        refs |= ty.refs
        for part in _split_union(ty.text):
            if part == "None":
                has_none = True
            elif part not in parts:
                parts.append(part)
    if has_none:
        parts.append("None")
    if not parts:
        return ANY
    return Ty(" | ".join(parts), frozenset(refs))


def nullable(ty: Ty) -> Ty:
    """``ty | None``."""
    return union([ty, NONE])


def _split_union(text: str) -> list[str]:
    """Top-level ``|`` members of a type expression (brackets respected)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


class SchemaMapper:
    """Maps the schemas of one document; collects the definitions its types need."""

    def __init__(self, components: dict[str, JsonSchema], allocator: NameAllocator) -> None:
        self._components = components
        self._allocator = allocator
        self.definitions: dict[str, Definition] = {}
        self._component_types: dict[str, Ty] = {}
        self._component_names: dict[str, str] = {}
        self._inline_types: dict[str, Ty] = {}
        self._in_progress: list[tuple[str, str]] = []  # (component or model name, kind)
        self._canonical_memo: dict[int, Any] = {}
        self._needs_alias: set[str] = set()  # inline components that a model cycle names
        self._complete: set[str] = set()  # models whose fields are all known
        for component, schema in components.items():  # component names win over inline titles
            if self._component_kind(schema) != "inline":
                self._component_names[component] = allocator.allocate(component, fallback="Schema")

    # --- public ---------------------------------------------------------------------------

    def type_of(self, schema: JsonSchema, hint: str) -> Ty:
        """The Python type for ``schema``; ``hint`` names inline models (PascalCase)."""
        return self._map(schema, hint, 0)

    def component_schema(self, name: str) -> JsonSchema | None:
        return self._components.get(name)

    # --- mapping --------------------------------------------------------------------------

    def _map(self, schema: JsonSchema, hint: str, depth: int) -> Ty:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return ANY
        ty = self._map_inner(schema, hint, depth)
        if schema.get("nullable") is True:
            ty = nullable(ty)
        return ty

    def _map_inner(self, schema: dict[str, Any], hint: str, depth: int) -> Ty:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(SCHEMA_REF_PREFIX):
                return self._component(_unescape(ref[len(SCHEMA_REF_PREFIX) :]))
            return ANY
        if "const" in schema:
            return _literal([schema["const"]]) or ANY
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return _literal(schema["enum"]) or self._by_type(schema, hint, depth)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            distribution = self._distribution(schema)
            if distribution is not None:
                return self._distribute(schema, distribution, hint, depth)
            return self._map(self.merge_all_of(schema), hint, depth + 1)
        for combinator in ("oneOf", "anyOf"):
            members = schema.get(combinator)
            if isinstance(members, list) and members and not _constraints_only(members):
                return self._union_of(members, hint, depth)
        return self._by_type(schema, hint, depth)

    def _union_of(self, members: list[Any], hint: str, depth: int) -> Ty:
        types = [
            self._map(member, _member_hint(member, hint, index), depth + 1)
            for index, member in enumerate(members)
        ]
        return union(types)

    def _by_type(self, schema: dict[str, Any], hint: str, depth: int) -> Ty:
        declared = schema.get("type")
        if isinstance(declared, list):
            return union(
                [self._single_type(schema, t, hint, depth) for t in declared if isinstance(t, str)]
            )
        if isinstance(declared, str):
            return self._single_type(schema, declared, hint, depth)
        if "properties" in schema or "additionalProperties" in schema:
            return self._single_type(schema, "object", hint, depth)
        if "items" in schema:
            return self._single_type(schema, "array", hint, depth)
        return ANY

    def _single_type(self, schema: dict[str, Any], declared: str, hint: str, depth: int) -> Ty:
        if declared in _PRIMITIVES:
            return Ty(_PRIMITIVES[declared])
        if declared == "array":
            items = schema.get("items")
            if isinstance(items, dict):
                item = self._map(items, hint + "Item", depth + 1)
                return Ty(f"list[{item.text}]", item.refs)
            return Ty("list[Any]")
        if declared == "object":
            properties = schema.get("properties")
            if isinstance(properties, dict) and properties:
                return self._inline_model(schema, hint, depth)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value = self._map(extra, hint + "Value", depth + 1)
                return Ty(f"dict[str, {value.text}]", value.refs)
            return Ty("dict[str, Any]")
        return ANY

    # --- named and inline definitions -----------------------------------------------------

    def _component(self, component: str) -> Ty:
        if component in self._component_types:
            return self._component_types[component]
        schema = self._components.get(component)
        if schema is None:
            return ANY
        marker = "#" + component
        for index, (entered, _kind) in enumerate(self._in_progress):
            if entered == marker:  # a cycle: fine through a model, not through aliases alone
                if any(k == "model" for _, k in self._in_progress[index + 1 :]):
                    self._needs_alias.add(component)
                    return Ty(self._name_of(component), frozenset({self._name_of(component)}))
                return ANY
        kind = self._component_kind(schema)
        if kind == "model":
            name = self._name_of(component)
            ty = Ty(name, frozenset({name}))
            self._component_types[component] = ty
            assert isinstance(schema, dict)  # a model's schema is an object schema
            bases, own = self._split_bases(schema)
            self._build_model(name, own, 0, bases)
            return ty
        self._in_progress.append((marker, "alias"))
        try:
            expansion = self._map(schema, pascal_case(component) or "Schema", 1)
        finally:
            self._in_progress.pop()
        if component in self._needs_alias or (kind == "alias" and not expansion.is_any):
            name = self._name_of(component)
            self.definitions.setdefault(name, AliasDef(name, _description(schema), expansion))
            ty = Ty(name, frozenset({name}))
        else:
            ty = expansion
        self._component_types[component] = ty
        return ty

    def _name_of(self, component: str) -> str:
        """The class/alias name of a component, allocated on first need."""
        if component not in self._component_names:
            self._component_names[component] = self._allocator.allocate(
                component, fallback="Schema"
            )
        return self._component_names[component]

    def _component_kind(self, schema: JsonSchema) -> Literal["model", "alias", "inline"]:
        if not isinstance(schema, dict):
            return "inline"
        if isinstance(schema.get("allOf"), list):
            if self._distribution(schema) is not None:
                return "alias"
            schema = self.merge_all_of(schema)
        if _is_object_model(schema):
            return "model"
        if "enum" in schema or "const" in schema or isinstance(schema.get("type"), list):
            return "alias"
        if any(
            isinstance(schema.get(k), list) and not _constraints_only(schema[k])
            for k in ("oneOf", "anyOf")
        ):
            return "alias"
        return "inline"

    def _inline_model(self, schema: dict[str, Any], hint: str, depth: int) -> Ty:
        key = json.dumps(self._canonical(schema), sort_keys=True, ensure_ascii=False)
        cached = self._inline_types.get(key)
        if cached is not None:
            return cached
        title = schema.get("title")
        wanted = title if isinstance(title, str) and pascal_case(title) else hint
        name = self._allocator.allocate(wanted, fallback="Model")
        ty = Ty(name, frozenset({name}))
        self._inline_types[key] = ty
        self._build_model(name, schema, depth)
        return ty

    def _distribution(self, schema: dict[str, Any]) -> _Distribution | None:
        """How to distribute ``schema``'s ``allOf`` over its first union member, or ``None``.

        ``allOf[U, C]`` with ``U = A | B`` means ``(A ∧ C) | (B ∧ C)``; merging would keep only
        ``C``'s fields. It is distributed when every variant is a reference to a named object
        (each result extends it: ``class AWithC(A): <C's fields>``) and the other members add
        fields. A union of inline objects is left merged, as before: such a mix-in (Starknet's
        succeeded/reverted receipt properties) would repeat its fields in every result and
        multiply through each schema that includes it. Variants that are themselves an
        ``allOf`` over a union are refused too, which keeps this one level deep.
        """
        found = self._first_union(schema)
        if found is None:
            return None
        index, union_name, variants = found
        members: list[Any] = schema["allOf"]
        rest = {**schema, "allOf": members[:index] + members[index + 1 :]}
        if not _is_object_model(self.merge_all_of(rest)):
            return None  # nothing to add to the variants: the merge keeps the union as it is
        for variant in variants:
            ref = _plain_ref(variant)
            target = self._deref(variant) if ref else None
            if not isinstance(target, dict) or self._first_union(target) is not None:
                return None
            if not _is_object_model(self.merge_all_of(target)):
                return None
        return _Distribution(index, union_name, variants)

    def _first_union(self, schema: dict[str, Any]) -> tuple[int, str, list[Any]] | None:
        """The first ``allOf`` member that is a ``oneOf``/``anyOf`` (directly or by one named
        reference): its index, its component name (``""`` if inline) and its variants."""
        members = schema.get("allOf")
        for index, member in enumerate(members if isinstance(members, list) else []):
            target = self._deref(member)
            for combinator in ("oneOf", "anyOf"):
                variants = target.get(combinator) if isinstance(target, dict) else None
                if isinstance(variants, list) and variants and not _constraints_only(variants):
                    ref = _plain_ref(member)
                    name = _unescape(ref[len(SCHEMA_REF_PREFIX) :]) if ref else ""
                    return index, name, variants
        return None

    def _distribute(
        self, schema: dict[str, Any], distribution: _Distribution, hint: str, depth: int
    ) -> Ty:
        """The union of one model per variant of the distributed union (see above)."""
        key = json.dumps(self._canonical(schema), sort_keys=True, ensure_ascii=False)
        cached = self._inline_types.get(key)
        if cached is not None:
            return cached
        members: list[Any] = schema["allOf"]
        before, after = members[: distribution.index], members[distribution.index + 1 :]
        types: list[Ty] = []
        for variant in distribution.variants:
            variant_name = self._map(variant, "Base", depth + 1).text
            wanted = _variant_name(variant_name, pascal_case(distribution.union), hint)
            name = self._allocator.allocate(wanted, fallback="Model")
            bases, own = self._split_bases({**schema, "allOf": [*before, variant, *after]})
            self._build_model(name, own, depth, bases)
            types.append(Ty(name, frozenset({name})))
        ty = union(types)
        self._inline_types[key] = ty
        return ty

    def _split_bases(self, schema: dict[str, Any]) -> tuple[list[ModelDef], dict[str, Any]]:
        """Named object members of ``allOf`` as base models, and the rest merged.

        Inheritance keeps shared fields (an id/created_at ``Base``) written once; it is only
        used when the subclass neither redefines nor re-requires an inherited field, which
        would make the subclass incompatible with its base. Otherwise everything is merged.
        """
        members = schema.get("allOf")
        if not isinstance(members, list):
            return [], schema
        bases: list[ModelDef] = []
        rest: list[Any] = []
        for member in members:
            ref = _plain_ref(member)
            target = (
                self._components.get(_unescape(ref[len(SCHEMA_REF_PREFIX) :]))
                if (isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX))
                else None
            )
            if target is not None and self._component_kind(target) == "model":
                base_ty = self._map(member, "Base", 1)
                base = self.definitions.get(base_ty.text)
                if isinstance(base, ModelDef) and base.name in self._complete and base not in bases:
                    bases.append(base)
                    continue
            rest.append(member)
        own = self.merge_all_of({**schema, "allOf": rest})
        inherited = {f.json_name for base in bases for f in base.all_fields}
        declared = own.get("required")
        required: list[Any] = declared if isinstance(declared, list) else []
        if inherited & set(own.get("properties") or {}) or inherited & set(required):
            return [], self.merge_all_of(schema)
        return bases, own

    def _build_model(
        self, name: str, schema: dict[str, Any], depth: int, bases: list[ModelDef] | None = None
    ) -> None:
        model = ModelDef(name, _description(schema))
        for base in bases or []:
            model.bases.append(base.name)
            model.inherited.extend(f for f in base.all_fields if f not in model.inherited)
        self.definitions[name] = model
        self._in_progress.append((name, "model"))
        try:
            properties = schema.get("properties")
            required = schema.get("required")
            required_names = set(required) if isinstance(required, list) else set()
            for json_name, property_schema in (properties or {}).items():
                ty = self._map(property_schema, name + pascal_case(json_name), depth + 1)
                is_required = json_name in required_names
                description = (
                    _description(property_schema) if isinstance(property_schema, dict) else ""
                )
                model.fields.append(FieldDef(json_name, ty, is_required, description))
        finally:
            self._in_progress.pop()
        self._complete.add(name)

    # --- helpers --------------------------------------------------------------------------

    def merge_all_of(self, schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        """``schema`` with its ``allOf`` members (named references followed) merged in."""
        members = schema.get("allOf")
        if not isinstance(members, list) or depth > 8:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for member in members:
            target = self._deref(member)
            if not isinstance(target, dict):
                continue
            part = self.merge_all_of(target, depth + 1)
            for prop, prop_schema in (part.get("properties") or {}).items():
                properties.setdefault(prop, prop_schema)
            required.extend(r for r in part.get("required") or [] if r not in required)
            for key, value in part.items():
                if key not in ("properties", "required", "title", "description"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
            merged.setdefault("type", "object")
        if required:
            merged["required"] = required
        return merged

    def _deref(self, schema: JsonSchema) -> JsonSchema:
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if not ref.startswith(SCHEMA_REF_PREFIX) or ref in seen:
                return {}
            seen.add(ref)
            schema = self._components.get(_unescape(ref[len(SCHEMA_REF_PREFIX) :]), {})
        return schema

    def _canonical(self, schema: Any) -> Any:
        """``schema`` without annotations, for de-duplication (memoised by identity)."""
        if not isinstance(schema, dict):
            return schema
        memo = self._canonical_memo.get(id(schema))
        if memo is not None:
            return memo[1]
        result: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _ANNOTATION_KEYS:
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                result[key] = {name: self._canonical(sub) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                result[key] = [self._canonical(sub) for sub in value]
            elif key in _SCHEMA_SINGLES:
                result[key] = self._canonical(value)
            else:
                result[key] = value
        self._canonical_memo[id(schema)] = (schema, result)  # keep schema alive: ids stay unique
        return result


@dataclass(frozen=True)
class _Distribution:
    """An ``allOf`` to distribute: its union member's index, component name and variants."""

    index: int
    union: str
    variants: list[Any]


def _variant_name(variant: str, union_name: str, outer: str) -> str:
    """The model name of one distributed variant: the variant's name plus what ``outer`` adds
    to the union's (``InvokeTxnReceipt`` of ``TxnReceipt`` in ``TxnReceiptWithBlockInfo`` →
    ``InvokeTxnReceiptWithBlockInfo``), else ``outer`` + ``variant``."""
    outer_words = snake_case(outer).split("_")
    union_words = snake_case(union_name).split("_")
    shared = 0
    while shared < min(len(outer_words), len(union_words)) and (
        outer_words[shared] == union_words[shared]
    ):
        shared += 1
    added = pascal_case("_".join(outer_words[shared:]))
    return variant + added if shared and added else outer + variant


def _plain_ref(member: Any) -> str | None:
    """The ``$ref`` of an ``allOf`` member that is only a reference (titles and descriptions
    aside: ``{"title": "Block header", "$ref": ...}`` still names a base), else ``None``."""
    if not isinstance(member, dict) or set(member) - _ANNOTATION_KEYS - {"title", "$ref"}:
        return None
    ref = member.get("$ref")
    return ref if isinstance(ref, str) else None


def _literal(values: list[Any]) -> Ty | None:
    """``Literal[...]`` for ``values`` (plus ``| None`` for a null), or ``None`` if impossible."""
    items: list[str] = []
    has_null = False
    for value in values:
        if value is None:
            has_null = True
        elif isinstance(value, bool):
            items.append("True" if value else "False")
        elif isinstance(value, int):
            items.append(repr(value))
        elif isinstance(value, str):
            items.append(json.dumps(value, ensure_ascii=True))
        else:
            return None  # floats, objects and arrays cannot be Literal members
    unique_items = list(dict.fromkeys(items))
    if not unique_items:
        return NONE if has_null else None
    ty = Ty(f"Literal[{', '.join(unique_items)}]")
    return nullable(ty) if has_null else ty


def _constraints_only(members: list[Any]) -> bool:
    """True when oneOf/anyOf members only add constraints (``required``) to their parent."""
    typed = ("type", "properties", "items", "$ref", "enum", "const", "allOf", "oneOf", "anyOf")
    return all(isinstance(m, dict) and not any(k in m for k in typed) for m in members)


def _is_object_model(schema: dict[str, Any]) -> bool:
    declared = schema.get("type", "object")
    properties = schema.get("properties")
    return declared == "object" and isinstance(properties, dict) and bool(properties)


def _member_hint(member: Any, hint: str, index: int) -> str:
    if isinstance(member, dict) and isinstance(member.get("title"), str):
        return str(member["title"])
    return f"{hint}{index + 1}"


def _description(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    for key in ("description", "summary", "title"):
        value = schema.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _unescape(token: str) -> str:
    """A JSON pointer token (``~1`` → ``/``, ``~0`` → ``~``)."""
    return unquote(token).replace("~1", "/").replace("~0", "~")
