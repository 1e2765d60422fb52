"""Writing a generated service to disk: ``<out>/<service>/{openrpc.json, spec_hash, ...}``.

Each file is written to a temporary file in the same directory and renamed over the target,
so a reader (the registry, a running script) never sees a half-written client.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aibroker.codegen.errors import CodegenError

if TYPE_CHECKING:
    from aibroker.codegen import GeneratedService

SERVICE_FILES = ("openrpc.json", "spec_hash", "client.py", "interface.py", "card.txt")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_service(
    out_dir: Path, generated: GeneratedService, raw: dict[str, Any], spec_hash: str
) -> Path:
    """Write every file of ``generated`` under ``out_dir/<name>/``; return that directory."""
    directory = out_dir / generated.name
    if directory.resolve().parent != out_dir.resolve():  # service_name forbids it; be sure
        raise CodegenError(
            f"refusing to write service {generated.name!r} outside {out_dir}",
            hint="service names must be plain identifiers",
        )
    contents = {
        "openrpc.json": json.dumps(raw, indent=2, ensure_ascii=False) + "\n",
        "spec_hash": spec_hash + "\n",
        "client.py": generated.client,
        "interface.py": generated.interface,
        "card.txt": generated.card + "\n",
    }
    for file_name in SERVICE_FILES:
        write_atomic(directory / file_name, contents[file_name])
    return directory
