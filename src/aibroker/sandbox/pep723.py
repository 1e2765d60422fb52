"""PEP 723 inline metadata: extra packages a script asks for, checked against an allow-list.

A script may start with::

    # /// script
    # dependencies = ["rich"]
    # ///

Every requested package must be named in ``settings.exec_extra_packages``; otherwise the run
is refused before anything starts (:class:`ScriptDependencyError`). Allowed requirements are
installed once, offline from uv's cache when possible, into a directory keyed by their hash
(``AIBROKER_HOME/python-extras/<hash>``) that the bootstrap appends to ``sys.path``. This
keeps the runtime, the client links and the sandbox exactly as for any other script, and
costs nothing after the first run — where ``uv run --script`` would build an ephemeral
environment without the runtime and add ~150 ms to every run.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from filelock import FileLock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from aibroker.sandbox.errors import ScriptDependencyError
from aibroker.sandbox.venv import install_into

# The reference regular expression from PEP 723.
_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


def script_dependencies(code: str) -> list[str]:
    """The ``dependencies`` of the script's ``# /// script`` block (empty when none)."""
    blocks = [m for m in _BLOCK.finditer(code) if m.group("type") == "script"]
    if not blocks:
        return []
    if len(blocks) > 1:
        raise ScriptDependencyError(
            "the script has more than one `# /// script` block", hint="keep exactly one"
        )
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0].group("content").splitlines(keepends=True)
    )
    try:
        metadata = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptDependencyError(
            f"the `# /// script` block is not valid TOML: {exc}",
            hint='write it as in PEP 723: `# dependencies = ["name"]`',
        ) from exc
    dependencies = metadata.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ScriptDependencyError(
            "`dependencies` in the `# /// script` block must be a list of strings",
            hint='for example: # dependencies = ["rich"]',
        )
    return list(dependencies)


def check_allowed(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """Return the requested requirements if every one names an allowed package; else raise."""
    allowed_names = {_name(text, "settings.exec_extra_packages") for text in allowed}
    refused: list[str] = []
    requirements: list[str] = []
    for text in requested:
        if _name(text, "the script's dependencies") in allowed_names:
            requirements.append(text)
        else:
            refused.append(text)
    if refused:
        allowed_text = ", ".join(sorted(allowed_names)) or "none"
        raise ScriptDependencyError(
            f"the script requests packages that are not allowed: {', '.join(refused)} "
            f"(allowed: {allowed_text})",
            hint="use only the standard library and the service clients, or ask an operator "
            "to add the package to AIBROKER_EXEC_EXTRA_PACKAGES",
        )
    return requirements


def ensure_extras(home: Path, python: Path, requirements: list[str]) -> Path | None:
    """Install allowed requirements into a shared, hash-keyed directory; return it."""
    if not requirements:
        return None
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    base = home / "python-extras"
    target = base / key
    done = target / ".complete"
    if not done.exists():
        base.mkdir(parents=True, exist_ok=True)
        with FileLock(str(base / f"{key}.lock"), timeout=300):
            if not done.exists():
                install_into(python, sorted(requirements), target)
                done.write_text("\n".join(sorted(requirements)), encoding="utf-8")
    return target


def _name(text: str, where: str) -> str:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise ScriptDependencyError(
            f"{text!r} in {where} is not a valid requirement: {exc}",
            hint="use a PEP 508 requirement such as `rich` or `rich>=13`",
        ) from exc
    if requirement.url:
        raise ScriptDependencyError(
            f"{text!r} in {where} points at a URL", hint="only index packages are allowed"
        )
    return canonicalize_name(requirement.name)
