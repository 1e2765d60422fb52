"""The managed venv: built with uv, idempotent, refreshed when stale, safe to ensure at once."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

from aibroker.sandbox.venv import MARKER_NAME, ensure_environment, runtime_pins


def test_environment_is_built_idempotent_and_refreshed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = ensure_environment(home)
    marker = env.root / MARKER_NAME
    first = json.loads(marker.read_text())
    assert first["packages"] == runtime_pins()
    versions = subprocess.run(
        [
            str(env.python),
            "-I",
            "-c",
            "import httpx, pydantic; print(httpx.__version__, pydantic.VERSION)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert versions == [runtime_pins()["httpx"], runtime_pins()["pydantic"]]
    # Only the runtime is copied: the rest of the broker is not importable in the venv.
    assert (env.site_packages / "aibroker" / "rpc" / "errors.py").is_file()
    assert not (env.site_packages / "aibroker" / "settings.py").exists()
    assert (env.site_packages / "aibroker_clients.pth").read_text().strip() == str(env.clients_dir)

    mtime = marker.stat().st_mtime_ns
    ensure_environment(home)
    assert marker.stat().st_mtime_ns == mtime  # up to date: nothing rewritten

    # A stale runtime (another broker version wrote it) is replaced on the next ensure.
    stale = env.site_packages / "aibroker" / "rpc" / "errors.py"
    stale.write_text("BROKEN = True\n")
    marker.write_text(json.dumps({**first, "runtime": "old"}))
    ensure_environment(home)
    assert "BROKEN" not in stale.read_text()
    assert json.loads(marker.read_text()) == first


def test_concurrent_ensure_builds_once_and_consistently(tmp_path: Path) -> None:
    home = tmp_path / "home"
    errors: list[BaseException] = []

    def ensure() -> None:
        try:
            ensure_environment(home)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=ensure) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    env = ensure_environment(home)
    done = subprocess.run(
        [str(env.python), "-I", "-c", "import aibroker.rpc; print('ok')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout == "ok\n", done.stderr
