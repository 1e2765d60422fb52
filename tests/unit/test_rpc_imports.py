"""aibroker.rpc is copied into a sandbox venv that has only httpx and pydantic: guard that."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import aibroker.rpc

RPC_DIR = Path(aibroker.rpc.__file__).parent
ALLOWED_AIBROKER = {"aibroker", "aibroker.errors"}


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_rpc_imports_only_stdlib_httpx_and_its_own_package() -> None:
    offenders: list[str] = []
    for path in sorted(RPC_DIR.glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or top == "httpx"
                or module.startswith("aibroker.rpc")
                or module in ALLOWED_AIBROKER
            )
            if not allowed:
                offenders.append(f"{path.name}: {module}")
    assert offenders == []
    assert len(list(RPC_DIR.glob("*.py"))) >= 8  # the scan really looked at the package


def test_importing_rpc_does_not_load_httpx() -> None:
    # Raw-socket scripts should not pay for httpx's import; HTTP transports load it lazily.
    code = "import sys, aibroker.rpc; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
