"""Run-scoped knobs of the agent, passed as the graph's ``context_schema``.

Plain values only, so LangGraph Studio can render and edit them. ``None`` means "use the
value from :mod:`aibroker.settings`", which is the only place environment variables are
read. Collaborators (catalog, chat models, script runner) are not knobs: they are wired
into the graph by :func:`aibroker.graph.builder.build_graph` (see :mod:`.deps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aibroker.errors import AibrokerError


@dataclass(kw_only=True)
class Context:
    """Per-run configuration read by the nodes through ``runtime.context``."""

    max_attempts: int = field(
        default=3,
        metadata={"description": "Scripts written per request before giving up (>= 1)."},
    )
    exec_timeout: float | None = field(
        default=None,
        metadata={"description": "Wall-clock seconds per script (None: settings)."},
    )
    summarize: bool = field(
        default=False,
        metadata={"description": "Ask the model for a short summary of the result."},
    )
    rerank_model: str | None = field(
        default=None,
        metadata={"description": "Model name for rerank (None: settings)."},
    )
    code_model: str | None = field(
        default=None,
        metadata={"description": "Model name for writing code and summaries (None: settings)."},
    )
    max_services: int = field(
        default=3,
        metadata={"description": "Most services whose interfaces are loaded for one request."},
    )
    allow_direct_call: bool = field(
        default=False,
        metadata={
            "description": "Let rerank answer with one direct method call (opt-in: a small "
            "model picks it for requests that need more, and then answers wrongly)."
        },
    )
    history_turns: int = field(
        default=3,
        metadata={"description": "Earlier requests of the thread shown in prompts."},
    )
    tail_chars: int = field(
        default=1500,
        metadata={"description": "Characters kept from stdout/stderr in traces and feedback."},
    )

    def __post_init__(self) -> None:
        """Reject values that would make the loop meaningless rather than misbehave later."""
        if self.max_attempts < 1:
            raise AibrokerError(
                f"Context.max_attempts must be at least 1, got {self.max_attempts}",
                hint="pass max_attempts=1 for a single try",
            )
