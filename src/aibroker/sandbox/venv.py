"""The managed environment scripts run in: ``AIBROKER_HOME/python/``, built with uv.

Layout::

    python/                      a venv on the broker's own interpreter (uv venv)
      lib/python3.X/site-packages/
        httpx, pydantic, …       pinned to the versions in the broker's environment
        aibroker/                the runtime only: __init__, errors, rpc/ (copied)
        aibroker_clients.pth     puts python/clients/ on sys.path (works under ``-I``)
      clients/<service>.py       symlinks to services/<service>/current/client.py
      _aibroker_bootstrap.py     the wrapper that runs each script (see bootstrap.py)
      .aibroker-env.json         marker: interpreter, package pins, runtime hash

Why copy the runtime rather than put the broker on the path: a script can then import the
clients and :mod:`aibroker.rpc`, but not the registry, the settings (API keys) or the graph.
Why symlinks to ``current``: the registry publishes a version by switching ``current``
atomically, and every later script sees it without any copy per run.

:func:`ensure_environment` is idempotent and cheap when the marker matches (one small file
read); concurrent callers serialise on a file lock beside the venv.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from filelock import FileLock

from aibroker.sandbox.errors import ClientLinkError, EnvironmentSetupError

RUNTIME_PACKAGES = ("httpx", "pydantic")
MARKER_NAME = ".aibroker-env.json"
BOOTSTRAP_NAME = "_aibroker_bootstrap.py"
CLIENTS_PTH = "aibroker_clients.pth"
_SERVICE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UV_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SandboxEnvironment:
    """Paths of a ready environment (what the runner needs to start a script)."""

    root: Path
    python: Path
    site_packages: Path
    clients_dir: Path
    bootstrap: Path
    interpreter_prefix: Path  # the base interpreter's installation, bind-mounted under bwrap


def environment_root(home: Path) -> Path:
    """``AIBROKER_HOME/python`` — the venv directory."""
    return home / "python"


def site_packages(root: Path) -> Path:
    """The venv's site-packages (POSIX layout; the venv uses the broker's interpreter)."""
    major, minor = sys.version_info[:2]
    return root / "lib" / f"python{major}.{minor}" / "site-packages"


def ensure_environment(home: Path) -> SandboxEnvironment:
    """Create or refresh the managed venv under ``home`` and return its paths.

    Fast path: the marker file equals what this broker would build. Otherwise, under a file
    lock: ``uv venv`` (if the interpreter changed or none exists), ``uv pip install`` of the
    pinned runtime packages (``--offline`` first, from uv's cache), the runtime copy, the
    bootstrap, the clients ``.pth``, then the marker — written last, so a crash leaves a
    state the next call repairs.
    """
    home = home.expanduser()
    root = environment_root(home)
    wanted = _wanted_marker()
    if _read_marker(root) != wanted:
        home.mkdir(parents=True, exist_ok=True)
        with FileLock(str(home / "python.lock"), timeout=_UV_TIMEOUT_S):
            current = _read_marker(root)
            if current != wanted:
                _build(root, wanted, current)
    return _environment(root)


def _environment(root: Path) -> SandboxEnvironment:
    python = root / "bin" / "python"
    return SandboxEnvironment(
        root=root,
        python=python,
        site_packages=site_packages(root),
        clients_dir=root / "clients",
        bootstrap=root / BOOTSTRAP_NAME,
        interpreter_prefix=Path(os.path.realpath(sys.executable)).parent.parent,
    )


def _build(root: Path, wanted: dict[str, object], current: dict[str, object] | None) -> None:
    python_changed = current is None or current.get("python") != wanted["python"]
    if python_changed:
        for stale in ("bin", "lib", "lib64", "include", "pyvenv.cfg"):
            path = root / stale
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
        _uv("venv", "--allow-existing", "--python", sys.executable, "--no-project", str(root))
    if python_changed or current is None or current.get("packages") != wanted["packages"]:
        _install(root / "bin" / "python", _pins(wanted))
    _copy_runtime(root)
    clients = root / "clients"
    clients.mkdir(exist_ok=True)
    (site_packages(root) / CLIENTS_PTH).write_text(f"{clients}\n", encoding="utf-8")
    _atomic_write(root / MARKER_NAME, json.dumps(wanted, sort_keys=True))


def _pins(wanted: dict[str, object]) -> list[str]:
    packages = wanted["packages"]
    assert isinstance(packages, dict)
    return [f"{name}=={version}" for name, version in sorted(packages.items())]


def _install(python: Path, requirements: list[str], *, target: Path | None = None) -> None:
    """``uv pip install`` offline from the cache first; online only when that fails."""
    where = ["--python", str(python), *(["--target", str(target)] if target else [])]
    base = ["pip", "install", "--quiet", *where]
    try:
        _uv(*base, "--offline", *requirements)
    except EnvironmentSetupError:
        _uv(*base, *requirements)


def install_into(python: Path, requirements: list[str], target: Path) -> None:
    """Install ``requirements`` into the directory ``target`` (used for PEP 723 extras)."""
    _install(python, requirements, target=target)


def _uv(*args: str) -> None:
    from uv import find_uv_bin

    command = [find_uv_bin(), "--no-config", *args]
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_UV_TIMEOUT_S, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentSetupError(
            f"could not run uv ({' '.join(command)}): {exc}",
            hint="check that the uv package is installed in the broker's environment",
        ) from exc
    if done.returncode != 0:
        raise EnvironmentSetupError(
            f"`uv {' '.join(args)}` failed with exit {done.returncode}: "
            f"{done.stderr.strip()[-2000:]}",
            hint="the uv cache may lack these packages and the index may be unreachable; "
            "run `aibroker exec` once with network access to fill the cache",
        )


def _copy_runtime(root: Path) -> None:
    """Replace site-packages/aibroker with the runtime files and install the bootstrap."""
    destination = site_packages(root) / "aibroker"
    staging = destination.with_name("aibroker.staging")
    if staging.exists():
        shutil.rmtree(staging)
    for relative, source in _runtime_files():
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    shutil.copyfile(Path(__file__).with_name("bootstrap.py"), root / BOOTSTRAP_NAME)


def _runtime_files() -> list[tuple[str, Path]]:
    """(relative path, source) of aibroker/__init__.py, errors.py and rpc/*.py, sorted."""
    package = Path(__file__).resolve().parent.parent
    files = [("__init__.py", package / "__init__.py"), ("errors.py", package / "errors.py")]
    files += [(f"rpc/{p.name}", p) for p in sorted((package / "rpc").glob("*.py"))]
    return files


@cache
def _wanted_marker() -> dict[str, object]:
    """What the environment must match; computed once per process (hashes a few files)."""
    digest = hashlib.sha256()
    bootstrap = Path(__file__).with_name("bootstrap.py")
    for relative, source in [*_runtime_files(), ("bootstrap", bootstrap)]:
        digest.update(relative.encode() + b"\0" + source.read_bytes() + b"\0")
    python = os.path.realpath(sys.executable)
    return {
        "python": f"{python} {sys.version.split()[0]}",
        "packages": runtime_pins(),
        "runtime": digest.hexdigest(),
    }


def runtime_pins() -> dict[str, str]:
    """httpx, pydantic and their dependencies, at the versions the broker itself runs."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    pending = list(RUNTIME_PACKAGES)
    while pending:
        name = canonicalize_name(pending.pop())
        if name in pins:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise EnvironmentSetupError(
                f"package {name!r} needed by the sandbox runtime is not installed",
                hint="reinstall aibroker with its dependencies (uv sync)",
            ) from exc
        pins[name] = distribution.version
        for text in distribution.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return dict(sorted(pins.items()))


def _read_marker(root: Path) -> dict[str, object] | None:
    try:
        value = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def client_link_target(home: Path, service_name: str) -> Path:
    """Where the registry keeps a service's live client: ``services/<name>/current/client.py``."""
    return home / "services" / service_name / "current" / "client.py"


def link_client(home: Path, service_name: str, client_path: Path | None = None) -> Path:
    """Make ``import <service_name>`` resolve to ``client_path`` inside scripts.

    ``client_path`` defaults to the registry's ``current`` link, so switching versions needs
    no new link; tests may point at any generated client file. The link is replaced
    atomically. Returns the link's path.
    """
    if not _SERVICE_NAME.match(service_name):
        raise ClientLinkError(
            f"service name {service_name!r} is not a Python module name",
            hint="use letters, digits and underscores, not starting with a digit",
        )
    target = client_path if client_path is not None else client_link_target(home, service_name)
    clients = environment_root(home.expanduser()) / "clients"
    clients.mkdir(parents=True, exist_ok=True)
    link = clients / f"{service_name}.py"
    temporary = clients / f".{service_name}.{os.getpid()}.link"
    if temporary.is_symlink():
        temporary.unlink()
    os.symlink(os.path.abspath(target), temporary)
    os.replace(temporary, link)
    return link


def unlink_client(home: Path, service_name: str) -> bool:
    """Remove a service's client link; ``False`` when there was none."""
    link = environment_root(home.expanduser()) / "clients" / f"{service_name}.py"
    try:
        link.unlink()
    except FileNotFoundError:
        return False
    return True


def linked_client_targets(env: SandboxEnvironment) -> list[Path]:
    """The files the client links point at (the runner bind-mounts those outside the home)."""
    targets: list[Path] = []
    try:
        entries = list(os.scandir(env.clients_dir))
    except FileNotFoundError:
        return targets
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.is_symlink():
            targets.append(Path(os.readlink(entry.path)))
    return targets
