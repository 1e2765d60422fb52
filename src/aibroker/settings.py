"""All configuration, read once from the environment (prefix ``AIBROKER_``) and ``.env``.

Nothing else in aibroker reads environment variables for configuration: nodes, the
registry and the sandbox receive values from here (or from the graph ``Context``), which
keeps them testable and makes every knob discoverable in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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

    # --- sandbox -------------------------------------------------------------------------
    exec_timeout: float = Field(default=30.0, description="Wall-clock seconds per script.")
    exec_memory_mb: int = Field(default=1024, description="Address-space limit per script.")
    exec_output_bytes: int = Field(default=65536, description="Cap on stdout and on stderr.")
    exec_extra_packages: list[str] = Field(
        default_factory=list, description="Packages scripts may request via PEP 723 metadata."
    )
    exec_use_bwrap: bool = Field(default=True, description="Use bubblewrap when installed.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build ``Settings(...)`` directly."""
    return Settings()
