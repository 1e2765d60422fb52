"""Settings → chat model parameters, endpoint parsing, structured-method choice, tracing."""

from __future__ import annotations

import os

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from aibroker.llm import (
    NO_API_KEY,
    Endpoint,
    LlmConfigError,
    TokenUsage,
    configure_tracing,
    make_chat_model,
    model_for_role,
    parse_unix_url,
    resolve_endpoint,
    resolve_structured_method,
)
from aibroker.settings import Settings

REMOTE = Endpoint("https://llm.example/v1", None, local=False)


def _model(settings: Settings, role: str = "code") -> ChatOpenAI:
    model = make_chat_model(settings, role=role, endpoint=REMOTE)  # type: ignore[arg-type]
    assert isinstance(model, ChatOpenAI)
    return model


def test_settings_become_chat_openai_parameters() -> None:
    settings = Settings(
        llm_base_url="https://llm.example/v1",
        llm_model="base",
        llm_api_key=SecretStr("sk-secret"),
        llm_temperature=0.3,
        llm_max_tokens=321,
        llm_timeout=12.5,
        llm_max_retries=4,
    )
    model = _model(settings)

    assert model.model_name == "base"
    assert model.openai_api_base == "https://llm.example/v1"
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(model)
    assert model.temperature == 0.3
    assert model.max_tokens == 321
    assert model.request_timeout == 12.5
    assert model.max_retries == 4


def test_each_role_gets_its_model_override() -> None:
    settings = Settings(llm_model="base", llm_rerank_model="small", llm_code_model="big")
    assert _model(settings, "rerank").model_name == "small"
    assert _model(settings, "code").model_name == "big"
    plain = Settings(llm_model="base")
    assert model_for_role(plain, "rerank") == model_for_role(plain, "code") == "base"


def test_missing_api_key_becomes_a_dummy() -> None:
    model = _model(Settings(llm_api_key=None))
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == NO_API_KEY


@pytest.mark.parametrize(
    ("url", "socket_path", "base_url"),
    [
        ("http+unix:///run/llm/server.sock/v1", "/run/llm/server.sock", "http://localhost/v1"),
        ("http+unix:///tmp/a.sock/", "/tmp/a.sock", "http://localhost"),
        ("http+unix://%2Frun%2Fx.sock/api/v1", "/run/x.sock", "http://localhost/api/v1"),
    ],
)
def test_unix_urls_split_into_socket_and_base(url: str, socket_path: str, base_url: str) -> None:
    assert parse_unix_url(url) == (socket_path, base_url)


def test_unix_url_without_a_socket_file_is_rejected() -> None:
    with pytest.raises(LlmConfigError, match="cannot find the socket"):
        parse_unix_url("http+unix:///run/llm/v1")


def test_unix_endpoint_gets_socket_transports() -> None:
    settings = Settings(llm_base_url="http+unix:///run/llm.sock/v1")
    endpoint = resolve_endpoint(settings)
    assert endpoint == Endpoint("http://localhost/v1", "/run/llm.sock", local=False)
    model = make_chat_model(settings, endpoint=endpoint)
    assert isinstance(model, ChatOpenAI)
    assert isinstance(model.http_client, httpx.Client)
    assert isinstance(model.http_async_client, httpx.AsyncClient)


def test_unsupported_scheme_is_rejected_with_a_hint() -> None:
    with pytest.raises(LlmConfigError, match="unsupported LLM base URL") as caught:
        resolve_endpoint(Settings(llm_base_url="ftp://llm.example/v1"))
    assert caught.value.hint is not None
    assert "http+unix" in caught.value.hint


def test_structured_method_auto_depends_on_the_backend() -> None:
    assert resolve_structured_method(Settings(llm_base_url=None)) == "json_object"
    hosted = Settings(llm_base_url="https://openrouter.ai/api/v1")
    assert resolve_structured_method(hosted) == "function_calling"
    forced = Settings(llm_base_url=None, llm_structured_method="json_schema")
    assert resolve_structured_method(forced) == "json_schema"


def test_tracing_is_forced_off_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.delenv("LANGCHAIN_API_KEY", raising=False)
    configure_tracing(Settings(langsmith_api_key=None))
    assert os.environ["LANGSMITH_TRACING"] == "false"
    assert os.environ["LANGCHAIN_TRACING_V2"] == "false"


def test_tracing_key_from_settings_reaches_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    configure_tracing(Settings(langsmith_api_key=SecretStr("lsv2-key")))
    assert os.environ["LANGSMITH_API_KEY"] == "lsv2-key"
    assert os.environ["LANGSMITH_TRACING"] == "true"


def test_token_usage_reads_usage_metadata_and_adds_up() -> None:
    message = AIMessage(
        "x", usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    )
    assert TokenUsage.of(message) == TokenUsage(5, 2)
    assert TokenUsage.of(AIMessage("no usage")) == TokenUsage()
    assert TokenUsage.of(HumanMessage("not a model reply")) == TokenUsage()
    total = TokenUsage(5, 2) + TokenUsage(1, 1)
    assert (total.input_tokens, total.output_tokens, total.total_tokens) == (6, 3, 9)
