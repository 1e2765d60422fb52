"""Fixtures shared by every test directory."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SPECS = REPO_ROOT.parent / "shared" / "specs"


def corpus_specs() -> list[Path]:
    """Every real OpenRPC document in ../shared/specs (MANIFEST.json excluded)."""
    return sorted(p for p in SHARED_SPECS.glob("*.json") if p.name != "MANIFEST.json")


@pytest.fixture
def specs_dir() -> Path:
    """The directory of real OpenRPC specs shared beside the repository."""
    assert SHARED_SPECS.is_dir(), f"expected the spec corpus at {SHARED_SPECS}"
    return SHARED_SPECS


@pytest.fixture
def aibroker_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh AIBROKER_HOME for one test, so tests never touch the user's registry."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AIBROKER_HOME", str(home))
    from aibroker.settings import get_settings

    get_settings.cache_clear()
    return home
