"""Chat models for the graph: one factory for hosted endpoints and the embedded model.

:func:`make_chat_model` turns :class:`~aibroker.settings.Settings` into a
``langchain_openai.ChatOpenAI``: an ``http(s)://`` endpoint is used as is, an
``http+unix:///path.sock/v1`` endpoint goes through an httpx transport bound to the
socket, and no endpoint at all means the local llama.cpp server, started on demand by
:func:`aibroker.localmodel.server.ensure_local_server`.

:func:`structured_output` returns a runnable that answers with a parsed pydantic object.
Backends differ in what they accept: llama-cpp-python's server rejects ``response_format``
of type ``json_schema`` (HTTP 500) but enforces ``{"type": "json_object", "schema": ...}``
by grammar; hosted endpoints (OpenRouter, vLLM, Ollama) all do tool calling. Hence the
``llm_structured_method`` setting, whose ``auto`` picks per backend.

LangSmith: :func:`configure_tracing` (called by :func:`make_chat_model`) forces
``LANGSMITH_TRACING=false`` when no LangSmith key is configured, so that nothing tries to
reach LangSmith from an offline machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, cast
from urllib.parse import unquote, urlsplit

import httpx
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
)
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr, ValidationError

from aibroker.errors import AibrokerError
from aibroker.settings import Settings

Role = Literal["rerank", "code"]
StructuredMethod = Literal["json_schema", "function_calling", "json_object"]
SchemaT = TypeVar("SchemaT", bound=BaseModel)

UNIX_SCHEME = "http+unix"
NO_API_KEY = "not-needed"  # local servers ignore the key; the OpenAI client insists on one


class LlmConfigError(AibrokerError):
    """The LLM settings cannot be turned into a chat model."""


class StructuredOutputError(AibrokerError):
    """The model's answer could not be parsed into the requested schema."""


@dataclass(frozen=True)
class Endpoint:
    """Where chat completions go: ``base_url`` for the client, ``uds`` for the socket."""

    base_url: str
    uds: str | None
    local: bool


@dataclass(frozen=True)
class TokenUsage:
    """Input and output tokens of one or more model calls (zeros when not reported)."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )

    @classmethod
    def of(cls, message: BaseMessage | None) -> TokenUsage:
        """Usage reported on an ``AIMessage`` (``usage_metadata``), zeros otherwise."""
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        if not usage:
            return cls()
        return cls(usage.get("input_tokens", 0), usage.get("output_tokens", 0))


@dataclass(frozen=True)
class StructuredReply(Generic[SchemaT]):
    """A parsed structured answer, the raw message it came from, and its token usage."""

    parsed: SchemaT
    raw: AIMessage
    usage: TokenUsage


def configure_tracing(settings: Settings) -> None:
    """Keep LangSmith off unless a key is configured (mutates ``os.environ``, idempotent).

    langchain reads ``LANGSMITH_TRACING`` / ``LANGCHAIN_TRACING_V2`` from the process
    environment; with a key from ``.env`` it also needs ``LANGSMITH_API_KEY`` there.
    """
    if settings.langsmith_api_key is None:
        os.environ["LANGSMITH_TRACING"] = "false"
        os.environ["LANGCHAIN_TRACING_V2"] = "false"
    else:
        os.environ.setdefault("LANGSMITH_API_KEY", settings.langsmith_api_key.get_secret_value())


def parse_unix_url(url: str) -> tuple[str, str]:
    """Split ``http+unix:///run/x.sock/v1`` into (socket path, ``http://localhost/v1``).

    The socket path ends at the first path segment ending in ``.sock``; the
    percent-encoded form ``http+unix://%2Frun%2Fx.sock/v1`` is accepted too.
    """
    parts = urlsplit(url)
    if parts.netloc:
        socket_path, api_path = unquote(parts.netloc), parts.path
    else:
        segments = parts.path.split("/")
        ends = [i for i, segment in enumerate(segments) if segment.endswith(".sock")]
        if not ends:
            raise LlmConfigError(
                f"cannot find the socket in LLM base URL {url!r}",
                hint="write it as http+unix:///path/to/server.sock/v1 (socket file ends "
                "in .sock) or percent-encode it: http+unix://%2Fpath%2Fserver.sock/v1",
            )
        socket_path = "/".join(segments[: ends[0] + 1])
        api_path = "/" + "/".join(segments[ends[0] + 1 :])
    return socket_path, "http://localhost" + api_path.rstrip("/")


def resolve_endpoint(settings: Settings) -> Endpoint:
    """The endpoint to talk to; starts the local model server when none is configured."""
    url = settings.llm_base_url
    if not url:
        from aibroker.localmodel.server import ensure_local_server

        return Endpoint(ensure_local_server(settings), None, local=True)
    if url.startswith(UNIX_SCHEME + "://"):
        socket_path, base_url = parse_unix_url(url)
        return Endpoint(base_url, socket_path, local=False)
    if not url.startswith(("http://", "https://")):
        raise LlmConfigError(
            f"unsupported LLM base URL {url!r} (AIBROKER_LLM_BASE_URL)",
            hint="use http(s)://host/v1 or http+unix:///path.sock/v1, or unset it to use "
            "the embedded local model",
        )
    return Endpoint(url, None, local=False)


def model_for_role(settings: Settings, role: Role) -> str:
    """The role's model override (``llm_rerank_model`` / ``llm_code_model``) or ``llm_model``."""
    override = settings.llm_rerank_model if role == "rerank" else settings.llm_code_model
    return override or settings.llm_model


def make_chat_model(
    settings: Settings, *, role: Role = "code", endpoint: Endpoint | None = None
) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``role`` configured from ``settings``.

    ``endpoint`` skips :func:`resolve_endpoint` (callers that resolved it once, tests).
    """
    configure_tracing(settings)
    target = endpoint if endpoint is not None else resolve_endpoint(settings)
    api_key = settings.llm_api_key or SecretStr(NO_API_KEY)
    extra: dict[str, Any] = {}
    if target.uds is not None:
        extra["http_client"] = httpx.Client(
            transport=httpx.HTTPTransport(uds=target.uds), timeout=settings.llm_timeout
        )
        extra["http_async_client"] = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=target.uds), timeout=settings.llm_timeout
        )
    return ChatOpenAI(
        model=model_for_role(settings, role),
        base_url=target.base_url,
        api_key=api_key,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        **extra,
    )


def resolve_structured_method(settings: Settings) -> StructuredMethod:
    """``llm_structured_method``, with ``auto`` = json_object for the local server."""
    if settings.llm_structured_method != "auto":
        return settings.llm_structured_method
    return "json_object" if not settings.llm_base_url else "function_calling"


def _schema_instruction(schema: type[BaseModel]) -> str:
    compact = json.dumps(schema.model_json_schema(), separators=(",", ":"), sort_keys=True)
    return f"Answer with one JSON object that conforms to this JSON Schema:\n{compact}"


def _as_messages(value: LanguageModelInput) -> list[BaseMessage]:
    if isinstance(value, PromptValue):
        return value.to_messages()
    if isinstance(value, str):
        return [HumanMessage(value)]
    return convert_to_messages(value)


def _with_schema_instruction(
    schema: type[BaseModel],
) -> Runnable[LanguageModelInput, list[BaseMessage]]:
    """Tell the model the schema (field descriptions included) in the system message.

    A grammar forces the shape but not the meaning: the model only sees descriptions if
    they are in the prompt. OpenAI-style json_object mode also requires the word JSON.
    """
    instruction = _schema_instruction(schema)

    def add(value: LanguageModelInput) -> list[BaseMessage]:
        messages = _as_messages(value)
        if messages and isinstance(messages[0], SystemMessage):
            messages[0] = SystemMessage(f"{messages[0].text}\n\n{instruction}")
        else:
            messages.insert(0, SystemMessage(instruction))
        return messages

    return RunnableLambda(add)


def _parse_error(schema: type[BaseModel], raw: AIMessage, error: Exception) -> Exception:
    snippet = raw.text[:300] if raw.text else repr(raw.tool_calls)[:300]
    return StructuredOutputError(
        f"the model's answer does not match {schema.__name__}: {error}; answer was {snippet!r}",
        hint="retry, use a stronger model, or change AIBROKER_LLM_STRUCTURED_METHOD",
    )


def structured_output_with_usage(
    model: BaseChatModel, schema: type[SchemaT], *, backend: StructuredMethod
) -> Runnable[LanguageModelInput, StructuredReply[SchemaT]]:
    """A runnable answering with a :class:`StructuredReply` (parsed object + usage).

    ``backend`` is the request style (see :func:`resolve_structured_method`). Raises
    :class:`StructuredOutputError` when the answer does not validate.
    """
    if backend == "json_object":
        response_format = {"type": "json_object", "schema": schema.model_json_schema()}
        bound = _with_schema_instruction(schema) | model.bind(response_format=response_format)

        def parse_json(raw: BaseMessage) -> StructuredReply[SchemaT]:
            message = cast(AIMessage, raw)
            try:
                parsed = schema.model_validate_json(message.text)
            except ValidationError as error:
                raise _parse_error(schema, message, error) from error
            return StructuredReply(parsed, message, TokenUsage.of(message))

        return bound | RunnableLambda(parse_json)

    method = "function_calling" if backend == "function_calling" else "json_schema"
    with_raw = model.with_structured_output(schema, method=method, include_raw=True)

    def unpack(result: Any) -> StructuredReply[SchemaT]:
        raw = cast(AIMessage, result["raw"])
        parsed = result.get("parsed")
        if result.get("parsing_error") is not None or not isinstance(parsed, schema):
            error = result.get("parsing_error") or ValueError("no structured answer")
            raise _parse_error(schema, raw, error)
        return StructuredReply(parsed, raw, TokenUsage.of(raw))

    return with_raw | RunnableLambda(unpack)


def structured_output(
    model: BaseChatModel, schema: type[SchemaT], *, backend: StructuredMethod
) -> Runnable[LanguageModelInput, SchemaT]:
    """Like :func:`structured_output_with_usage` but answering with the parsed object only."""

    def parsed(reply: StructuredReply[SchemaT]) -> SchemaT:
        return reply.parsed

    return structured_output_with_usage(model, schema, backend=backend) | RunnableLambda(parsed)
