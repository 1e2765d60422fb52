"""The JSON-RPC runtime generated clients import (copied into the sandbox venv).

Only the standard library, httpx (imported lazily, for HTTP endpoints) and
:mod:`aibroker.errors` may be imported from here: the sandbox has nothing else.

Typical use::

    from aibroker.rpc import RpcClient, resolve_endpoint

    with RpcClient(resolve_endpoint(None, env_var="HERO_KV_URL", default="/run/kv.sock")) as kv:
        value = kv.call("kv_get", {"key": "a"})
"""

from aibroker.rpc.client import AsyncRpcClient, RpcClient
from aibroker.rpc.endpoint import Endpoint, resolve_endpoint
from aibroker.rpc.errors import (
    ConnectError,
    EndpointError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JsonRpcError,
    MethodNotFound,
    ParseError,
    ProtocolError,
    RpcError,
    RpcTimeout,
    TransportError,
)
from aibroker.rpc.result import set_result
from aibroker.rpc.service import AsyncServiceClient, ServiceClient, ServiceInfo

__all__ = [
    "AsyncRpcClient",
    "AsyncServiceClient",
    "ConnectError",
    "Endpoint",
    "EndpointError",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "JsonRpcError",
    "MethodNotFound",
    "ParseError",
    "ProtocolError",
    "RpcClient",
    "RpcError",
    "RpcTimeout",
    "ServiceClient",
    "ServiceInfo",
    "TransportError",
    "resolve_endpoint",
    "set_result",
]
