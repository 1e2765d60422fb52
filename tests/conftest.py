"""Fixtures shared by every test directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aibroker.demo import DemoCluster

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


@pytest.fixture
def short_tmp_dir() -> Iterator[Path]:
    """A fresh directory under /tmp with a short path: unix socket paths must fit 107 bytes."""
    directory = Path(tempfile.mkdtemp(prefix="ab-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory)


@pytest.fixture
def demo_services(short_tmp_dir: Path) -> Iterator[DemoCluster]:
    """The real demo services (hero_calendar, hero_jobs, hero_kv) on fresh, empty databases.

    ``cluster.sockets[name]`` is each raw unix socket, ``cluster.http_urls[name]`` its HTTP
    URL on 127.0.0.1; everything is stopped and removed after the test.
    """
    from aibroker.demo import DemoCluster

    with DemoCluster(short_tmp_dir / "sockets", short_tmp_dir / "state", http=True) as cluster:
        yield cluster
