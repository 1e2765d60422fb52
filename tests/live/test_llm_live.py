"""The real local model, served by llama-cpp-python: plain and structured completions.

Needs the ``local`` extra and the pulled model (``aibroker model pull``); skipped with the
reason otherwise. The server is started on demand by ``make_chat_model`` and stopped when
the test session's interpreter exits.
"""

from __future__ import annotations

import importlib.util
from enum import StrEnum

import pytest
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from aibroker.llm import (
    StructuredMethod,
    TokenUsage,
    make_chat_model,
    resolve_structured_method,
    structured_output_with_usage,
)
from aibroker.localmodel.artifact import QWEN25_CODER_1_5B, model_path
from aibroker.localmodel.verify import verify_file
from aibroker.settings import Settings

pytestmark = pytest.mark.live


class Category(StrEnum):
    """Kinds of JSON-RPC methods, for the enum in the schema."""

    READ = "read"
    WRITE = "write"


class MethodPlan(BaseModel):
    """What a tiny planner answers about an intent."""

    category: Category = Field(description="read for queries, write for changes")
    methods: list[str] = Field(description="names of the JSON-RPC methods to call, in order")


@pytest.fixture(scope="module")
def local_settings() -> Settings:
    settings = Settings(llm_base_url=None, llm_max_tokens=256)
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (uv sync --extra local)")
    path = model_path(settings)
    if not verify_file(path, QWEN25_CODER_1_5B):
        pytest.skip(f"local model not pulled at {path} (run `aibroker model pull`)")
    return settings


@pytest.fixture(scope="module")
def local_model(local_settings: Settings) -> BaseChatModel:
    return make_chat_model(local_settings, role="code")


def test_plain_completion_returns_text_and_usage(local_model: BaseChatModel) -> None:
    answer = local_model.invoke("Reply with the single word: pong")

    assert "pong" in answer.text.lower()
    usage = TokenUsage.of(answer)
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0


@pytest.mark.parametrize("backend", ["auto", "function_calling"])
def test_structured_output_returns_a_valid_object(
    local_settings: Settings, local_model: BaseChatModel, backend: str
) -> None:
    method: StructuredMethod = (
        resolve_structured_method(local_settings) if backend == "auto" else "function_calling"
    )
    runnable = structured_output_with_usage(local_model, MethodPlan, backend=method)

    reply = runnable.invoke(
        [
            ("system", "Available JSON-RPC methods: account_getBalance, account_transfer."),
            ("user", "Which methods do I call to read the balance of account 42?"),
        ]
    )

    assert isinstance(reply.parsed, MethodPlan)
    assert reply.parsed.category is Category.READ
    assert reply.parsed.methods  # a non-empty list, drawn from the methods offered
    assert set(reply.parsed.methods) <= {"account_getBalance", "account_transfer"}
    assert reply.usage.input_tokens > 0
    assert reply.usage.output_tokens > 0
