"""ChatOpenAI over an http+unix endpoint, against a real scripted server on a unix socket.

The server is a small OpenAI-compatible ``/v1/chat/completions`` endpoint started by the
test: it records every request it receives and answers with scripted messages, so the
tests can check the exact request shape (model, messages, response_format, tools) and
that the parsed answer and the token usage come back.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from aibroker.llm import (
    StructuredOutputError,
    TokenUsage,
    make_chat_model,
    structured_output,
    structured_output_with_usage,
)
from aibroker.settings import Settings


@dataclass
class ScriptedChatServer:
    """Answers chat completions from ``replies`` in order; keeps every request body."""

    socket_path: Path
    replies: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        message = self.replies.pop(0)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "?"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", **message},
                    "finish_reason": "tool_calls" if "tool_calls" in message else "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }


def _handler(server: ScriptedChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length))
            server.paths.append(self.path)
            server.requests.append(body)
            payload = json.dumps(server.completion(body)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # keep test output clean

        def address_string(self) -> str:
            return "unix"

    return Handler


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[ScriptedChatServer]:
    """A scripted OpenAI-compatible server listening on ``<tmp>/llm.sock``."""
    state = ScriptedChatServer(tmp_path / "llm.sock")
    httpd = socketserver.ThreadingUnixStreamServer(str(state.socket_path), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _settings(server: ScriptedChatServer) -> Settings:
    return Settings(
        llm_base_url=f"http+unix://{server.socket_path}/v1",
        llm_model="base-model",
        llm_code_model="coder-model",
        llm_max_retries=0,
    )


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Pick(BaseModel):
    """What the fake model is asked for."""

    colour: Colour = Field(description="colour of the sky")
    fruits: list[str] = Field(description="three fruits")


def test_plain_completion_goes_over_the_socket(chat_server: ScriptedChatServer) -> None:
    chat_server.replies.append({"content": "hello there"})
    model = make_chat_model(_settings(chat_server), role="code")

    answer = model.invoke("Say hello")

    assert answer.text == "hello there"
    assert chat_server.paths == ["/v1/chat/completions"]
    request = chat_server.requests[0]
    assert request["model"] == "coder-model"
    assert request["messages"] == [{"role": "user", "content": "Say hello"}]
    assert TokenUsage.of(answer) == TokenUsage(input_tokens=11, output_tokens=7)


async def test_async_client_uses_the_socket_too(chat_server: ScriptedChatServer) -> None:
    chat_server.replies.append({"content": "async hello"})
    model = make_chat_model(_settings(chat_server), role="rerank")

    answer = await model.ainvoke("Say hello")

    assert answer.text == "async hello"
    assert chat_server.requests[0]["model"] == "base-model"


def test_json_object_request_carries_the_schema_and_parses(
    chat_server: ScriptedChatServer,
) -> None:
    chat_server.replies.append({"content": '{"colour": "blue", "fruits": ["fig", "kiwi"]}'})
    model = make_chat_model(_settings(chat_server))

    reply = structured_output_with_usage(model, Pick, backend="json_object").invoke(
        [("system", "Be terse."), ("user", "Pick.")]
    )

    assert reply.parsed == Pick(colour=Colour.BLUE, fruits=["fig", "kiwi"])
    assert reply.usage == TokenUsage(11, 7)
    request = chat_server.requests[0]
    assert request["response_format"] == {"type": "json_object", "schema": Pick.model_json_schema()}
    system = request["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("Be terse.")
    assert '"enum":["red","blue"]' in system["content"]  # the schema reached the prompt
    assert request["messages"][1] == {"role": "user", "content": "Pick."}


def test_json_object_answer_that_breaks_the_schema_is_a_clear_error(
    chat_server: ScriptedChatServer,
) -> None:
    chat_server.replies.append({"content": '{"colour": "green", "fruits": []}'})
    model = make_chat_model(_settings(chat_server))

    with pytest.raises(StructuredOutputError, match="does not match Pick") as caught:
        structured_output(model, Pick, backend="json_object").invoke("Pick.")
    assert "green" in str(caught.value)
    assert caught.value.hint is not None


def test_function_calling_forces_the_tool_and_parses(chat_server: ScriptedChatServer) -> None:
    arguments = json.dumps({"colour": "red", "fruits": ["apple"]})
    chat_server.replies.append(
        {
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "Pick", "arguments": arguments},
                }
            ],
        }
    )
    model = make_chat_model(_settings(chat_server))

    parsed = structured_output(model, Pick, backend="function_calling").invoke("Pick.")

    assert parsed == Pick(colour=Colour.RED, fruits=["apple"])
    request = chat_server.requests[0]
    assert request["tool_choice"]["function"]["name"] == "Pick"
    assert request["tools"][0]["function"]["parameters"]["properties"]["colour"]["enum"] == [
        "red",
        "blue",
    ]
    assert "response_format" not in request
