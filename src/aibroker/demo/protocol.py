"""JSON-RPC 2.0 dispatch for one demo service: requests in, responses out, no I/O.

Transports (raw unix sockets, HTTP) hand every decoded message to :meth:`Dispatcher.handle`
and write back whatever it returns; ``None`` means "no reply" (a notification, or a batch of
them). Everything a caller can get wrong is answered with the standard codes and a message
that says what to change; a handler's own rule violations come back with the application
codes its OpenRPC document declares; anything unexpected is logged here with its traceback
and answered with -32603 without leaking internals.
"""

from __future__ import annotations

import difflib
import json
import logging
from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT7

from aibroker.demo.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcFault,
)
from aibroker.demo.params import MethodParams
from aibroker.demo.service import Service

logger = logging.getLogger("aibroker.demo")

DISCOVER = "rpc.discover"
_ID_TYPES = (str, int, float, type(None))


class Dispatcher:
    """Routes requests to a :class:`Service`'s handlers after validating their params."""

    def __init__(self, service: Service) -> None:
        service.check_handlers()
        self.service = service
        uri = f"urn:aibroker-demo:{service.name}"
        registry: Registry[Any] = Registry().with_resource(
            uri, DRAFT7.create_resource(service.document)
        )
        self._methods = {
            method["name"]: MethodParams(method, index, uri, registry)
            for index, method in enumerate(service.document["methods"])
        }

    def handle(self, message: Any) -> Any:
        """The response to one decoded message (a request or a batch), or ``None``."""
        if isinstance(message, list):
            if not message:
                return error_response(None, RpcFault(INVALID_REQUEST, "empty batch"))
            replies = [reply for item in message if (reply := self._handle_one(item)) is not None]
            return replies or None
        return self._handle_one(message)

    def encode(self, response: Any) -> bytes:
        """``response`` as UTF-8 JSON; a result that is not JSON becomes a -32603 answer."""
        try:
            return json.dumps(response, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError):
            logger.exception("%s: a response could not be encoded as JSON", self.service.name)
            request_id = response.get("id") if isinstance(response, dict) else None
            fault = RpcFault(INTERNAL_ERROR, f"internal error in {self.service.name}")
            return json.dumps(error_response(request_id, fault)).encode("utf-8")

    def _handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return error_response(None, _invalid("a request must be a JSON object"))
        request_id = request.get("id")
        if not isinstance(request_id, _ID_TYPES) or isinstance(request_id, bool):
            return error_response(None, _invalid("'id' must be a string, a number or null"))
        method = request.get("method")
        version = request.get("jsonrpc", "2.0")
        if version != "2.0" or not isinstance(method, str):
            problem = (
                "'jsonrpc' must be \"2.0\"" if version != "2.0" else "'method' must be a string"
            )
            return error_response(request_id, _invalid(problem))
        notification = "id" not in request
        try:
            result = self._call(method, request.get("params"))
        except RpcFault as fault:
            return None if notification else error_response(request_id, fault)
        except Exception:
            logger.exception("%s: method %s failed", self.service.name, method)
            internal = RpcFault(
                INTERNAL_ERROR,
                f"internal error in {self.service.name}.{method}",
                hint="the service log has the details; retrying will not help",
            )
            return None if notification else error_response(request_id, internal)
        return None if notification else {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _call(self, method: str, params: Any) -> Any:
        if method == DISCOVER:
            return self.service.document
        binder = self._methods.get(method)
        if binder is None:
            raise self._unknown_method(method)
        arguments = binder.bind(params)
        return self.service.handlers[method](**arguments)

    def _unknown_method(self, method: str) -> RpcFault:
        names = sorted(self._methods)
        close = difflib.get_close_matches(method, names, n=1)
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        return RpcFault(
            METHOD_NOT_FOUND,
            f"method '{method}' not found in {self.service.name}{guess}",
            data={"methods": names},
            hint="available methods: " + ", ".join(names),
        )


def error_response(request_id: Any, fault: RpcFault) -> dict[str, Any]:
    """A JSON-RPC error response for ``fault``."""
    return {"jsonrpc": "2.0", "id": request_id, "error": fault.to_error_object()}


def parse_error_response(detail: str) -> dict[str, Any]:
    """The -32700 answer to bytes that are not one JSON value."""
    fault = RpcFault(
        PARSE_ERROR,
        f"parse error: {detail}",
        hint='send one JSON-RPC request per message, e.g. {"jsonrpc": "2.0", "id": 1, '
        '"method": "rpc.discover"}',
    )
    return error_response(None, fault)


def _invalid(problem: str) -> RpcFault:
    return RpcFault(
        INVALID_REQUEST,
        f"invalid request: {problem}",
        hint='a request looks like {"jsonrpc": "2.0", "id": 1, "method": "name", "params": {}}',
    )
