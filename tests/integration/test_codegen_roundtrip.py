"""Generated clients against real JSON-RPC servers that check them against the spec.

The server (raw unix socket, or HTTP on 127.0.0.1) validates every request's params against
the method's param schemas with jsonschema and answers with a result drawn from the result
schema by hypothesis-jsonschema. The client's typed result, dumped back to JSON, must equal
what the server sent: types, aliases and params serialisation all have to be right.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning
from hypothesis_jsonschema import from_schema
from pydantic import TypeAdapter

from aibroker.codegen import generate
from aibroker.openrpc import parse_document


class SpecService:
    """Answers calls for one spec: params checked by jsonschema, results from hypothesis."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.components = raw.get("components", {})
        self.methods = {m.name: m for m in parse_document(raw).document.methods}
        self.sent: list[tuple[str, Any]] = []

    def schema(self, schema: Any) -> dict[str, Any]:
        base = schema if isinstance(schema, dict) else {}
        return {**base, "components": self.components}

    def params_problem(self, method_name: str, params: Any) -> str | None:
        """Why ``params`` do not fit the spec of ``method_name`` (``None`` when they do)."""
        method = self.methods[method_name]
        names = [d.name for d in method.params]
        values = dict(zip(names, params, strict=False)) if isinstance(params, list) else params
        if isinstance(params, list) and len(params) > len(names):
            return f"{len(params)} params for {len(names)} declared"
        try:
            for descriptor in method.params:
                if descriptor.name in values:
                    jsonschema.validate(values[descriptor.name], self.schema(descriptor.schema_))
                elif descriptor.required:
                    return f"missing required {descriptor.name}"
        except jsonschema.ValidationError as error:
            return error.message
        return None

    def answer(self, request: dict[str, Any]) -> dict[str, Any] | None:
        problem = self.params_problem(request["method"], request.get("params", []))
        if problem is not None:
            error_object = {"code": -32602, "message": problem}
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": error_object}
        method = self.methods[request["method"]]
        if "id" not in request or method.result is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonInteractiveExampleWarning)
            result = from_schema(objectify(self.schema(method.result.schema_))).example()
        self.sent.append((request["method"], result))
        return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def objectify(schema: Any) -> Any:
    """``schema`` with ``type: object`` added where ``properties`` imply it.

    JSON Schema lets ``{"properties": ...}`` without a type accept ``true`` or a list; the
    generator (like the spec authors) reads it as an object, so results are drawn that way.
    """
    if isinstance(schema, list):
        return [objectify(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    fixed = {
        key: objectify(value) if key != "enum" and key != "const" else value
        for key, value in schema.items()
    }
    if "properties" in schema and "type" not in schema:
        fixed["type"] = "object"
    return fixed


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    service: SpecService


class UnixHandler(socketserver.StreamRequestHandler):
    server: UnixServer

    def handle(self) -> None:
        for line in self.rfile:
            reply = self.server.service.answer(json.loads(line))
            if reply is not None:
                self.wfile.write(json.dumps(reply).encode() + b"\n")


class HttpHandler(http.server.BaseHTTPRequestHandler):
    service: SpecService

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps(self.service.answer(request)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(params=["unix", "http"])
def serve(request: pytest.FixtureRequest, short_tmp_dir: Path) -> Iterator[Any]:
    servers: list[socketserver.BaseServer] = []

    def start(service: SpecService) -> str:
        if request.param == "unix":
            path = str(short_tmp_dir / "svc.sock")
            unix = UnixServer(path, UnixHandler)
            unix.service = service
            server: socketserver.BaseServer = unix
            endpoint = f"unix://{path}"
        else:
            handler = type("Handler", (HttpHandler,), {"service": service})
            http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            endpoint = f"http://127.0.0.1:{http_server.server_address[1]}/rpc"
            server = http_server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return endpoint

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def load_client(raw: dict[str, Any], module_name: str) -> tuple[types.ModuleType, dict[str, str]]:
    """The generated client executed as a module, and its Python → RPC method names."""
    generated = generate(parse_document(raw).document)
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    exec(compile(generated.client, f"{module_name}.py", "exec"), module.__dict__)
    return module, {python: rpc for rpc, python in generated.methods.items()}


def as_json(value: Any) -> Any:
    return TypeAdapter(Any).dump_python(value, mode="json", by_alias=True, exclude_unset=True)


CASES = {
    "open-rpc_examples__petstore-openrpc.json": [
        ("list_pets", (), {"limit": 3}),
        ("list_pets", (), {}),
        ("create_pet", ("fluffy",), {"new_pet_tag": "cat"}),
        ("get_pet", (7,), {}),
    ],
    "open-rpc_examples__params-by-name-petstore-openrpc.json": [
        ("list_pets", (), {"limit": 2}),
        ("create_pet", (), {}),
        ("get_pet", ("2",), {}),
    ],
    "open-rpc_examples__simple-math-openrpc.json": [
        ("addition", (), {"a": 2, "b": 3}),
        ("subtraction", (), {"a": 9}),
    ],
    "threefoldtech_zinit__openrpc.json": [
        ("service_status", ("redis",), {}),
        ("service_list", (), {}),
        ("service_create", ("web", {"exec": "nginx", "after": ["net"], "oneshot": False}), {}),
        ("service_stats", ("redis",), {}),
    ],
    "ethereum_execution-apis__openrpc.json": [
        ("eth_block_number", (), {}),
        ("eth_chain_id", (), {}),
        ("eth_get_balance", ("0x" + "ab" * 20,), {"block": "latest"}),
    ],
}


@pytest.mark.parametrize(
    "spec", sorted(CASES), ids=lambda s: s.split("__")[1].removesuffix(".json")
)
def test_generated_client_round_trip(spec: str, specs_dir: Path, serve: Any) -> None:
    raw = json.loads((specs_dir / spec).read_text())
    service = SpecService(raw)
    module, rpc_names = load_client(
        raw, "rt_" + spec.split("__")[1].replace("-", "_").removesuffix(".json")
    )
    client_class = getattr(module, generate(parse_document(raw).document).class_name)
    with client_class.connect(serve(service), timeout=10.0) as client:
        for method, args, kwargs in CASES[spec]:
            converted = [
                module.__dict__[_model_of(module, client, method)].model_validate(a)
                if isinstance(a, dict)
                else a
                for a in args
            ]
            result = getattr(client, method)(*converted, **kwargs)
            sent_method, sent = service.sent[-1]
            assert sent_method == rpc_names[method]
            assert as_json(result) == sent, f"{method}: {result!r} != {sent!r}"


def _model_of(module: types.ModuleType, client: Any, method: str) -> str:
    """The model class name annotated on the first dict-valued parameter of ``method``."""
    annotations = getattr(type(client), method).__annotations__
    for annotation in annotations.values():
        text = str(annotation)
        for name, value in vars(module).items():
            if isinstance(value, type) and name in text and hasattr(value, "model_validate"):
                return name
    raise AssertionError(f"no model parameter on {method}")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_petstore_params_always_match_the_spec(data: st.DataObject, specs_dir: Path) -> None:
    """Whatever pet names/tags a script passes, what goes on the wire validates against the spec."""
    raw = json.loads((specs_dir / "open-rpc_examples__petstore-openrpc.json").read_text())
    service = SpecService(raw)
    module, _ = load_client(raw, "rt_petstore_params")
    name = data.draw(st.text(max_size=20))
    tag = data.draw(st.none() | st.text(max_size=5))
    params = module.positional([name, tag], 1)  # the runtime function create_pet calls
    assert service.params_problem("create_pet", params) is None
    assert len(params) == (1 if tag is None else 2)  # an unset trailing optional is dropped
