"""The agent's collaborators: catalog, chat models, structured output, script runner.

They are objects rather than knobs, so they are wired into the graph once by
:func:`aibroker.graph.builder.build_graph` instead of travelling in the ``Context``. Each one
is optional: what is not given is built lazily from :mod:`aibroker.settings` the first time a
node needs it, so importing the graph (``langgraph dev`` does) never starts a model or opens
the registry, and tests pass scripted fakes and a real runner of their choosing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from pydantic import BaseModel

from aibroker.catalog import Catalog, ServiceEntry
from aibroker.graph.context import Context
from aibroker.settings import Settings, get_settings

Role = Literal["rerank", "code"]


class ScriptFailureInfo(Protocol):
    """The typed failure of a script, as the sandbox reports it (read-only view)."""

    @property
    def kind(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def exception_type(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def method(self) -> str | None: ...
    @property
    def params(self) -> Any: ...
    @property
    def code(self) -> int | None: ...
    @property
    def data(self) -> Any: ...
    @property
    def traceback_tail(self) -> str: ...


class RunOutcome(Protocol):
    """What the graph reads from a script run (``aibroker.sandbox.RunResult`` fits)."""

    @property
    def exit_code(self) -> int | None: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def result(self) -> Any: ...
    @property
    def failure(self) -> ScriptFailureInfo | None: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def timed_out(self) -> bool: ...
    @property
    def ok(self) -> bool: ...
    @property
    def calls(self) -> list[dict[str, Any]]: ...  # succeeded, in order: service, method, params
    @property
    def calls_truncated(self) -> bool: ...


class ScriptRunner(Protocol):
    """Runs one script that may reach exactly ``services`` (their clients importable)."""

    async def __call__(
        self, code: str, *, services: Sequence[ServiceEntry], time_limit: float
    ) -> RunOutcome: ...


StructuredStrategy = Callable[[BaseChatModel, type[BaseModel], Settings], Runnable[Any, Any]]
"""Turns a chat model and a pydantic schema into a runnable answering with the parsed object,
LangChain's ``{"raw", "parsed", "parsing_error"}`` dict, or an object with ``parsed`` and
``raw`` attributes (:class:`aibroker.llm.StructuredReply`); the last two report usage."""


def default_structured(
    model: BaseChatModel, schema: type[BaseModel], settings: Settings
) -> Runnable[Any, Any]:
    """Structured output that also works on llama.cpp's OpenAI-compatible server.

    OpenAI-compatible clients go through :mod:`aibroker.llm`, which picks the request shape
    the backend accepts (llama.cpp rejects ``json_schema``). Any other chat model, fakes
    included, uses LangChain's own ``with_structured_output``.
    """
    from langchain_openai import ChatOpenAI

    if isinstance(model, ChatOpenAI):
        from aibroker.llm import resolve_structured_method, structured_output_with_usage

        backend = resolve_structured_method(settings)
        return structured_output_with_usage(model, schema, backend=backend)
    return model.with_structured_output(schema, include_raw=True)


async def sandbox_runner(
    code: str,
    *,
    services: Sequence[ServiceEntry],
    time_limit: float,
    settings: Settings | None = None,
) -> RunOutcome:
    """The production runner: :func:`aibroker.sandbox.run_script` with the clients linked."""
    from aibroker.sandbox import AllowedService, link_client, run_script

    settings = settings or get_settings()
    home = settings.home.expanduser()
    for entry in services:
        await asyncio.to_thread(link_client, home, entry.name, entry.client_path)
    allow = [AllowedService(name=entry.name, endpoint=entry.endpoint) for entry in services]
    outcome: RunOutcome = await run_script(
        code, allow=allow, timeout=time_limit, home=home, settings=settings
    )
    return outcome


@dataclass(kw_only=True)
class AgentDeps:
    """The collaborators of one compiled graph; ``None`` fields are built from settings."""

    catalog: Catalog | None = None
    rerank_model: BaseChatModel | None = None
    code_model: BaseChatModel | None = None
    runner: ScriptRunner | None = None
    structured: StructuredStrategy = default_structured
    settings: Settings | None = None
    _models: dict[tuple[Role, str | None], BaseChatModel] = field(default_factory=dict)

    def get_settings(self) -> Settings:
        return self.settings if self.settings is not None else get_settings()

    def get_catalog(self) -> Catalog:
        """The wired catalog, else the registry's (opened on first use)."""
        if self.catalog is None:
            from aibroker.registry import open_catalog

            self.catalog = open_catalog(self.get_settings())
        return self.catalog

    def get_runner(self) -> ScriptRunner:
        if self.runner is not None:
            return self.runner
        return partial(sandbox_runner, settings=self.get_settings())

    async def chat_model(self, role: Role, context: Context) -> BaseChatModel:
        """The injected model for ``role``, else one made by :mod:`aibroker.llm` (cached)."""
        injected = self.rerank_model if role == "rerank" else self.code_model
        if injected is not None:
            return injected
        name = context.rerank_model if role == "rerank" else context.code_model
        key = (role, name)
        if key not in self._models:
            from aibroker.llm import make_chat_model

            settings = self.get_settings()
            if name is not None:
                field_name = "llm_rerank_model" if role == "rerank" else "llm_code_model"
                settings = settings.model_copy(update={field_name: name})
            # make_chat_model may start the local model server: keep the event loop free.
            self._models[key] = await asyncio.to_thread(make_chat_model, settings, role=role)
        return self._models[key]
