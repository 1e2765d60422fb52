"""Replaying a spec's examples against the live service, where that is safe.

Verification calls real services, so it must never change their state. The rule — kept
conservative on purpose, since a wrong "safe" could delete a user's data — is:

A method is **safe to call** when it declares a result (notifications are never replayed),
is not marked ``"x-safe": false`` / ``"x-readonly": false``, and

1. carries ``"x-safe": true`` or ``"x-readonly": true``, or
2. is ``rpc.discover``, or
3. its name *starts* with a read-only verb: ``get``, ``list``, ``describe``, ``status``,
   ``info`` or ``version``, as a whole word (``get_user``, ``getUser``, ``list``,
   ``status``; not ``getaway``), or
4. it is ``<namespace>_<verb…>`` or ``<namespace>.<verb…>`` where the part after the one
   separator is camelCase starting with such a verb: ``eth_getBalance``,
   ``starknet_getNonce``. A snake_case tail is *not* enough (``delete_list`` is unsafe).

Nothing else is replayed: ``eth_call``, ``eth_estimateGas``, ``Filecoin.ChainHead``,
``kv_incr`` all stay untouched unless the spec marks them ``x-safe``.

Each safe method's examples are called with the example params (by position when the
method says ``paramStructure: by-position``, else by name) and the result is validated
against the method's result schema with :mod:`jsonschema` (named ``#/components/schemas``
references resolved against the document). Example *result values* are not compared: they
depend on the service's data; the schema is the contract.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for

from aibroker.openrpc.model import ExamplePairing, Method, OpenRpcDocument

READ_ONLY_VERBS = frozenset({"get", "list", "describe", "status", "info", "version"})
SAFE_FLAGS = ("x-safe", "x-readonly")
_FIRST_WORD = re.compile(r"^([a-z]+)(?=$|[_.\-]|[A-Z0-9])")
_CAMEL_VERB = re.compile(r"^([a-z]+)[A-Z0-9]")

ReplayStatus = Literal["passed", "failed", "skipped"]


def is_safe(method: Method) -> bool:
    """Whether verification may call ``method`` (see the module docstring for the rule)."""
    if method.is_notification:
        return False
    flags = [method.extensions.get(flag) for flag in SAFE_FLAGS]
    if any(flag is False for flag in flags):
        return False
    if any(flag is True for flag in flags):
        return True
    name = method.name
    if name == "rpc.discover":
        return True
    first = _FIRST_WORD.match(name)
    if first and first.group(1) in READ_ONLY_VERBS:
        return True
    parts = re.split(r"[_.]", name, maxsplit=1)
    if len(parts) == 2 and parts[0]:
        verb = _CAMEL_VERB.match(parts[1])
        return bool(verb and verb.group(1) in READ_ONLY_VERBS)
    return False


@dataclass(frozen=True)
class Replay:
    """The outcome of one example call."""

    method: str
    example: str
    status: ReplayStatus
    detail: str
    duration_s: float
    transport: bool = False
    """The call got no JSON-RPC answer (timeout, connection): says nothing about the spec."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "example": self.example,
            "status": self.status,
            "detail": self.detail,
            "duration_s": round(self.duration_s, 4),
        }


def example_params(method: Method, pairing: ExamplePairing) -> list[Any] | dict[str, Any] | None:
    """The JSON-RPC params of ``pairing``; ``None`` when they cannot be built (externalValue)."""
    values: dict[str, Any] = {}
    for example in pairing.params:
        if example.name is None or (example.value is None and example.external_value):
            return None
        values[example.name] = example.value
    if method.param_structure == "by-position":
        ordered: list[Any] = []
        for descriptor in method.params:
            if descriptor.name not in values:
                break  # positions after a gap cannot be expressed
            ordered.append(values.pop(descriptor.name))
        return None if values else ordered
    return values


def result_problem(document: OpenRpcDocument, method: Method, value: Any) -> str | None:
    """Why ``value`` does not satisfy ``method``'s result schema (``None``: it does)."""
    assert method.result is not None
    schema = method.result.schema_
    if isinstance(schema, bool):
        return None if schema else "the result schema is `false`: no value is valid"
    components = document.components.model_dump(by_alias=True, include={"schemas"})
    root = {"allOf": [schema], "components": components}
    cls = validator_for(schema, default=Draft7Validator)
    try:
        cls.check_schema(root)
    except SchemaError as error:
        return f"the result schema itself is invalid: {error.message}"
    mismatch = best_match(cls(root).iter_errors(value))
    if mismatch is None:
        return None
    where = "/".join(str(part) for part in mismatch.absolute_path) or "(the result)"
    return f"result at {where}: {mismatch.message}"


async def replay_examples(
    document: OpenRpcDocument,
    endpoint: str,
    *,
    timeout: float,  # noqa: ASYNC109 - per-call deadline handed to the runtime
) -> list[Replay]:
    """Call every example of every safe method once (sequentially: services are small)."""
    from aibroker.rpc import AsyncRpcClient, RpcError, TransportError

    replays: list[Replay] = []
    async with AsyncRpcClient(endpoint, timeout=timeout) as client:
        for method in document.methods:
            if not method.examples or not is_safe(method):
                continue
            for index, pairing in enumerate(method.examples):
                label = pairing.name or f"example {index + 1}"
                params = example_params(method, pairing)
                if params is None:
                    replays.append(
                        Replay(method.name, label, "skipped", "params cannot be built", 0.0)
                    )
                    continue
                started = time.perf_counter()
                try:
                    value = await client.call(method.name, params or None)
                except RpcError as error:
                    elapsed = time.perf_counter() - started
                    transport = isinstance(error, TransportError)
                    replays.append(
                        Replay(method.name, label, "failed", str(error), elapsed, transport)
                    )
                    continue
                problem = await asyncio.to_thread(result_problem, document, method, value)
                status: ReplayStatus = "failed" if problem else "passed"
                detail = problem or "result matches the result schema"
                replays.append(
                    Replay(method.name, label, status, detail, time.perf_counter() - started)
                )
    return replays
