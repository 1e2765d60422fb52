"""Binding JSON-RPC params to a method's OpenRPC params, validated by their own schemas.

The service's OpenRPC document is the single source of truth: which params exist, in which
order (for by-position calls), which are required, their defaults, and their JSON Schemas.
Handlers therefore receive keyword arguments that are already checked, and every message
about bad params names the param and says what is wrong, in words a small model can act on
("param 'ttl_seconds': -5 is less than or equal to the minimum of 0"), plus the method's
signature so the caller sees the whole shape at once.

An explicit ``null`` for an optional param means "not given": generated clients often send
``None`` for arguments the caller left out, and refusing that would help nobody.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry

from aibroker.demo.errors import RpcFault, invalid_params

_MISSING = object()


@dataclass(frozen=True)
class ParamSpec:
    """One param of a method as its OpenRPC content descriptor declares it."""

    name: str
    required: bool
    validator: Draft7Validator
    default: Any = _MISSING

    def default_value(self) -> Any:
        """A fresh copy of the schema default (lists and objects must not be shared)."""
        return copy.deepcopy(self.default)


class MethodParams:
    """Validates and binds the ``params`` of calls to one method."""

    def __init__(
        self,
        method: dict[str, Any],
        method_index: int,
        document_uri: str,
        registry: Registry[Any],
    ) -> None:
        self.method_name: str = method["name"]
        specs: list[ParamSpec] = []
        for index, descriptor in enumerate(method.get("params", [])):
            pointer = f"{document_uri}#/methods/{method_index}/params/{index}/schema"
            schema = descriptor.get("schema", True)
            default = schema.get("default", _MISSING) if isinstance(schema, dict) else _MISSING
            specs.append(
                ParamSpec(
                    name=descriptor["name"],
                    required=bool(descriptor.get("required", False)),
                    validator=Draft7Validator({"$ref": pointer}, registry=registry),
                    default=default,
                )
            )
        self.params: tuple[ParamSpec, ...] = tuple(specs)
        self._by_name = {spec.name: spec for spec in specs}
        self.signature = self.method_name + "(" + ", ".join(_describe(s) for s in specs) + ")"

    def bind(self, params: Any) -> dict[str, Any]:
        """Keyword arguments for the handler, or a -32602 fault saying what is wrong."""
        given = self._as_mapping(params)
        arguments: dict[str, Any] = {}
        for spec in self.params:
            value = given.get(spec.name)
            if value is None:
                if spec.required:
                    problem = (
                        f"param '{spec.name}' is required and cannot be null"
                        if spec.name in given
                        else f"missing required param '{spec.name}'"
                    )
                    raise self._fault(problem, param=spec.name)
                if spec.default is not _MISSING:
                    arguments[spec.name] = spec.default_value()
                continue
            error = best_match(spec.validator.iter_errors(value))
            if error is not None:
                raise self._fault(
                    f"param '{spec.name}{_path(error)}': {_shorten(error.message)}",
                    param=spec.name,
                )
            arguments[spec.name] = value
        return arguments

    def _as_mapping(self, params: Any) -> dict[str, Any]:
        if params is None:
            return {}
        if isinstance(params, list):
            if len(params) > len(self.params):
                raise self._fault(
                    f"got {len(params)} positional params but the method takes at most "
                    f"{len(self.params)}"
                )
            return {spec.name: value for spec, value in zip(self.params, params, strict=False)}
        if isinstance(params, dict):
            unknown = sorted(set(params) - set(self._by_name))
            if unknown:
                name = unknown[0]
                close = difflib.get_close_matches(name, list(self._by_name), n=1)
                guess = f" (did you mean '{close[0]}'?)" if close else ""
                raise self._fault(f"unknown param '{name}'{guess}", param=name)
            return params
        raise self._fault(
            f"params must be an array (by position) or an object (by name), "
            f"not {type(params).__name__}"
        )

    def _fault(self, problem: str, *, param: str | None = None) -> RpcFault:
        data: dict[str, Any] = {"method": self.method_name, "signature": self.signature}
        if param is not None:
            data["param"] = param
        return invalid_params(
            f"invalid params for {self.method_name}: {problem}",
            data=data,
            hint=f"call it as {self.signature}; a trailing ? marks an optional param",
        )


def _describe(spec: ParamSpec) -> str:
    return spec.name if spec.required else spec.name + "?"


def _path(error: ValidationError) -> str:
    return "".join(f"[{part!r}]" for part in error.absolute_path)


def _shorten(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
