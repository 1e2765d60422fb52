"""Test doubles for the agent: scripted chat models, and a tiny real service to call.

``ScriptedChatModel`` answers each call with the next scripted message and records every
prompt, so tests assert both on what the graph did and on what the model was shown. It
implements ``bind_tools`` so LangChain's own ``with_structured_output`` (function calling)
works: a structured reply is scripted as a tool call (:func:`structured_reply`).

The ``calc`` service is real: a JSON-RPC 2.0 server on a unix socket in a temp dir, described
by a small OpenRPC document (:data:`CALC_SPEC`) from which the real code generator writes its
client module, interface, card and method detail (``divide`` raises the generated
``DivisionByZero``, a ``JsonRpcError`` carrying service/method/params/code/data).
``SubprocessRunner`` runs scripts for real in a child interpreter that can import that
client, reporting a typed failure and the journal of successful calls the way the sandbox
does.
"""

from __future__ import annotations

import asyncio
import json
import os
import socketserver
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from aibroker.catalog import InMemoryCatalog, ServiceEntry
from aibroker.errors import AibrokerError
from aibroker.openrpc import parse_document
from aibroker.rpc.journal import CALL_LOG_ENV
from aibroker.sandbox.script_files import read_journal

SRC_DIR = Path(__file__).resolve().parent.parent / "src"


class ScriptExhaustedError(AibrokerError):
    """The graph asked the scripted model more often than the test scripted."""


# --------------------------------------------------------------------------- chat models


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def code_reply(code: str, *, before: str = "", after: str = "") -> AIMessage:
    """A reply holding ``code`` in one ```python block (10 input / 20 output tokens)."""
    body = f"{before}```python\n{textwrap.dedent(code).strip()}\n```{after}"
    return AIMessage(content=body, usage_metadata=_usage(10, 20))


def code_replies(*scripts: str) -> list[AIMessage]:
    """One :func:`code_reply` per script, in order: what the code model answers attempt by
    attempt."""
    return [code_reply(script) for script in scripts]


def text_reply(text: str) -> AIMessage:
    """A plain-text reply (5 input / 5 output tokens)."""
    return AIMessage(content=text, usage_metadata=_usage(5, 5))


def structured_reply(schema_name: str, **args: Any) -> AIMessage:
    """A structured reply as the function call ``with_structured_output`` parses."""
    return AIMessage(
        content="",
        tool_calls=[{"name": schema_name, "args": args, "id": f"call-{schema_name}"}],
        usage_metadata=_usage(7, 3),
    )


def rerank_reply(
    services: list[str], *, intent: str = "", direct_call: dict[str, Any] | None = None
) -> AIMessage:
    """A scripted RerankDecision."""
    return structured_reply(
        "RerankDecision", intent=intent, services=services, direct_call=direct_call
    )


class ScriptedChatModel(BaseChatModel):
    """Answers with the scripted replies in order; records the messages of every call."""

    replies: list[AIMessage]
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if not self.replies:
            raise ScriptExhaustedError(
                f"scripted model called {len(self.prompts)} times, more than scripted",
                hint="add replies to the test script",
            )
        return ChatResult(generations=[ChatGeneration(message=self.replies.pop(0))])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    @property
    def calls(self) -> int:
        return len(self.prompts)

    def prompt_text(self, index: int) -> str:
        """All message contents of call ``index`` joined, for substring assertions."""
        return "\n".join(str(message.content) for message in self.prompts[index])


# --------------------------------------------------------------------------- calc service

CALC_SPEC: dict[str, Any] = {
    "openrpc": "1.2.6",
    "info": {"title": "calc", "version": "1.0.0", "description": "Adds and divides numbers."},
    "methods": [
        {
            "name": "add",
            "summary": "Add two numbers.",
            "paramStructure": "by-position",
            "params": [
                {"name": "a", "required": True, "schema": {"type": "number"}},
                {"name": "b", "required": True, "schema": {"type": "number"}},
            ],
            "result": {"name": "sum", "schema": {"type": "number"}},
        },
        {
            "name": "divide",
            "summary": "Divide a by b.",
            "paramStructure": "by-position",
            "params": [
                {"name": "a", "required": True, "schema": {"type": "number"}},
                {"name": "b", "required": True, "schema": {"type": "number"}},
            ],
            "result": {"name": "quotient", "schema": {"type": "number"}},
            "errors": [{"$ref": "#/components/errors/DivisionByZero"}],
            "examples": [
                {
                    "name": "six by three",
                    "params": [{"name": "a", "value": 6}, {"name": "b", "value": 3}],
                    "result": {"name": "quotient", "value": 2},
                }
            ],
        },
    ],
    "components": {
        "errors": {"DivisionByZero": {"code": -32010, "message": "division by zero"}},
    },
}
"""The OpenRPC document of the calc service; its client, interface and detail are generated."""


class _CalcHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        if not line:
            return
        request = json.loads(line)
        server: CalcServer = self.server  # type: ignore[assignment]
        server.requests.append(request)
        a, b = request["params"]
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
        if request["method"] == "add":
            reply["result"] = a + b
        elif request["method"] == "divide" and b == 0:
            reply["error"] = {
                "code": -32010,
                "message": "division by zero",
                "data": {"dividend": a},
            }
        elif request["method"] == "divide":
            reply["result"] = a / b
        else:
            reply["error"] = {"code": -32601, "message": "method not found"}
        self.wfile.write(json.dumps(reply).encode() + b"\n")


class CalcServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        super().__init__(path, _CalcHandler)
        self.requests: list[dict[str, Any]] = []


@dataclass
class CalcWorld:
    """The running calc service, its client module, and a catalog holding it."""

    endpoint: str
    clients_dir: Path
    server: CalcServer
    catalog: InMemoryCatalog

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every JSON-RPC request the service received."""
        return self.server.requests


@contextmanager
def calc_world(tmp_path: Path) -> Iterator[CalcWorld]:
    """Start the calc service on a unix socket under ``tmp_path``; stop it afterwards.

    The catalog also lists ``notes`` (card and interface only, no client behind it), so
    tests can check that rerank's choice is filtered and that unchosen services are refused.
    """
    clients = tmp_path / "clients"
    socket_path = tmp_path / "calc.sock"
    endpoint = f"unix://{socket_path}"
    generated = InMemoryCatalog.from_documents(
        {"calc": parse_document(CALC_SPEC).document},
        endpoints={"calc": endpoint},
        out_dir=clients,
    )
    calc = generated.get("calc")
    assert calc is not None
    details = {("calc", rpc): generated.method_detail("calc", rpc) for rpc in calc.methods}
    server = CalcServer(str(socket_path))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    notes = ServiceEntry(
        name="notes",
        card="SERVICE: notes\nSUMMARY: Stores short text notes.",
        interface="# SERVICE: notes\nclass Notes:\n    def get_note(self, id: str) -> str: ...\n",
        client_path=clients / "notes.py",
        endpoint=f"unix://{tmp_path / 'notes.sock'}",
        class_name="Notes",
        methods={"get_note": "get_note"},
    )
    catalog = InMemoryCatalog([calc, notes], details)
    try:
        yield CalcWorld(endpoint=endpoint, clients_dir=clients, server=server, catalog=catalog)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- script runner

_BOOTSTRAP = r"""
import json, runpy, sys, traceback
failure_path, script = sys.argv[1], sys.argv[2]
try:
    runpy.run_path(script, run_name="__main__")
except BaseException as exc:
    if isinstance(exc, SystemExit) and not exc.code:
        raise
    record = {"kind": "jsonrpc_error" if hasattr(exc, "code") and hasattr(exc, "method")
              else "exception", "message": str(exc), "exception_type": type(exc).__name__}
    for key in ("service", "method", "params", "code", "data"):
        record[key] = getattr(exc, key, None)
    own = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == script]
    record["traceback_tail"] = "".join(traceback.format_list(own))  # as the sandbox's
    with open(failure_path, "w") as handle:
        json.dump(record, handle, default=str)
    raise
"""


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    exception_type: str | None = None
    service: str | None = None
    method: str | None = None
    params: Any = None
    code: int | None = None
    data: Any = None
    traceback_tail: str = ""


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    stdout: str
    stderr: str
    result: Any
    failure: Failure | None
    duration_s: float
    timed_out: bool
    calls: list[dict[str, Any]] = field(default_factory=list)
    calls_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.failure is None and not self.timed_out


@dataclass
class SubprocessRunner:
    """Runs scripts for real in a child Python that can import the services' client modules.

    A stand-in for ``aibroker.sandbox.run_script`` with the same result shape, without the
    isolation (tests only run scripts they wrote). ``calls`` records the allowed services of
    every run, so tests can assert that nothing ran.
    """

    tmp_path: Path
    calls: list[list[str]] = field(default_factory=list)

    async def __call__(
        self, code: str, *, services: Sequence[ServiceEntry], time_limit: float
    ) -> Outcome:
        self.calls.append([entry.name for entry in services])
        run_dir = self.tmp_path / f"run{len(self.calls)}"
        run_dir.mkdir(parents=True)
        script = run_dir / "script.py"
        script.write_text(code, encoding="utf-8")
        failure_file, result_file = run_dir / "failure.json", run_dir / "result.json"
        call_log = run_dir / "calls.jsonl"
        paths = {str(entry.client_path.parent) for entry in services}
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join([*sorted(paths), str(SRC_DIR)]),
            "AIBROKER_RESULT_FILE": str(result_file),
            CALL_LOG_ENV: str(call_log),
        }
        for entry in services:
            env[f"{entry.name.upper()}_ENDPOINT"] = entry.endpoint
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _BOOTSTRAP,
            str(failure_file),
            str(script),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=run_dir,
        )
        timed_out = False
        try:
            out, err = await asyncio.wait_for(process.communicate(), time_limit)
        except TimeoutError:
            timed_out = True
            process.kill()
            out, err = await process.communicate()
        failure = None
        if failure_file.exists():
            failure = Failure(**json.loads(failure_file.read_text(encoding="utf-8")))
        result = json.loads(result_file.read_text("utf-8")) if result_file.exists() else None
        calls, calls_truncated = read_journal(call_log)
        return Outcome(
            exit_code=process.returncode,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
            result=result,
            failure=failure,
            duration_s=time.perf_counter() - started,
            timed_out=timed_out,
            calls=calls,
            calls_truncated=calls_truncated,
        )
