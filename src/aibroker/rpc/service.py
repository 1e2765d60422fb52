"""The base classes of generated service clients: connecting, closing, params, calls.

A generated client module is only its models, its errors and one subclass of
:class:`ServiceClient` (and of :class:`AsyncServiceClient`) whose methods are the RPC
methods. Everything they have in common lives here, once, so a fix to how clients connect
or encode params reaches every generated client without regenerating it::

    class HeroKv(ServiceClient):
        _service = SERVICE  # a ServiceInfo: name, endpoint variable, default, error classes

        def get(self, key: str) -> str | None:
            return _RESULT_0.validate_python(self._call("get", positional([key], 1)))

Only the standard library and the rest of :mod:`aibroker.rpc` are imported: this module is
copied into the sandbox venv, which has no pydantic import of its own to offer here, so
models are recognised by their ``model_dump`` method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

from aibroker.rpc.client import DEFAULT_TIMEOUT, AsyncRpcClient, RpcClient
from aibroker.rpc.endpoint import resolve_endpoint
from aibroker.rpc.errors import JsonRpcError, RpcError
from aibroker.rpc.journal import record_call
from aibroker.rpc.protocol import Params


@dataclass(frozen=True)
class ServiceInfo:
    """What a generated client knows about its service."""

    name: str
    """The service (and registry) name: ``hero_kv``."""
    env_var: str
    """The environment variable that overrides the endpoint: ``HERO_KV_ENDPOINT``."""
    default_endpoint: str | None = None
    """The endpoint used when neither ``connect(endpoint)`` nor the environment names one."""
    errors: Mapping[int, type[JsonRpcError]] = field(default_factory=dict)
    """Spec-declared JSON-RPC error codes → the exception class raised for them."""

    def resolve(self, endpoint: str | None) -> str:
        """``endpoint``, else ``$env_var``, else the spec's server (validated)."""
        return resolve_endpoint(endpoint, env_var=self.env_var, default=self.default_endpoint)


def to_json(value: Any) -> Any:
    """A parameter as JSON data: models dumped by alias, unset (``None``) fields left out."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def positional(values: list[Any], keep: int) -> list[Any]:
    """By-position params without trailing unset optional ones: many servers reject nulls.

    ``keep`` is how many leading params are always sent (up to the last required one).
    """
    end = len(values)
    while end > keep and values[end - 1] is None:
        end -= 1
    return [to_json(value) for value in values[:end]]


def named(required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    """By-name params: every required one, and the optional ones that were given."""
    params = {key: to_json(value) for key, value in required.items()}
    params.update({key: to_json(value) for key, value in optional.items() if value is not None})
    return params


def _service_of(cls: type) -> ServiceInfo:
    info = getattr(cls, "_service", None)
    if not isinstance(info, ServiceInfo):
        raise RpcError(
            f"{cls.__name__} does not say which service it calls",
            hint="generated clients set `_service = ServiceInfo(...)`; regenerate the client",
        )
    return info


def _service_name(client: ServiceClient | AsyncServiceClient) -> str:
    """The service a client calls, for the journal: its name, else its class's name."""
    return client.rpc.context.service or type(client).__name__


class ServiceClient:
    """Base of every generated blocking client: ``connect()``, ``close()``, ``with`` blocks."""

    _service: ClassVar[ServiceInfo]

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    @classmethod
    def connect(cls, endpoint: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """Connect to the service: ``endpoint``, else its environment variable, else the spec's
        server."""
        info = _service_of(cls)
        rpc = RpcClient(
            info.resolve(endpoint), timeout=timeout, errors=info.errors, service=info.name
        )
        return cls(rpc)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.rpc.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, params: Params) -> Any:
        """Call RPC ``method``; a JSON-RPC error reply is raised as the service's error class.

        A call that succeeded is journaled (:mod:`aibroker.rpc.journal`) for the retry prompt.
        """
        result = self.rpc.call(method, params)
        record_call(_service_name(self), method, params)
        return result

    def _notify(self, method: str, params: Params) -> None:
        """Send RPC ``method`` as a notification (the service sends no reply)."""
        self.rpc.notify(method, params)
        record_call(_service_name(self), method, params)


class AsyncServiceClient:
    """Base of every generated asyncio client: ``connect()``, ``aclose()``, ``async with``."""

    _service: ClassVar[ServiceInfo]

    def __init__(self, rpc: AsyncRpcClient) -> None:
        self.rpc = rpc

    @classmethod
    def connect(cls, endpoint: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """Connect to the service: ``endpoint``, else its environment variable, else the spec's
        server (the connection itself is opened on the first call)."""
        info = _service_of(cls)
        rpc = AsyncRpcClient(
            info.resolve(endpoint), timeout=timeout, errors=info.errors, service=info.name
        )
        return cls(rpc)

    async def aclose(self) -> None:
        """Close the connection (idempotent)."""
        await self.rpc.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(self, method: str, params: Params) -> Any:
        """Call RPC ``method``; a JSON-RPC error reply is raised as the service's error class.

        A call that succeeded is journaled (:mod:`aibroker.rpc.journal`) for the retry prompt.
        """
        result = await self.rpc.call(method, params)
        record_call(_service_name(self), method, params)
        return result

    async def _notify(self, method: str, params: Params) -> None:
        """Send RPC ``method`` as a notification (the service sends no reply)."""
        await self.rpc.notify(method, params)
        record_call(_service_name(self), method, params)
