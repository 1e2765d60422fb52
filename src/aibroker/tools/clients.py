"""Import generated client modules by path, for the static check and the method tools.

The broker imports a client only to inspect it (signatures, classes) or to make a direct
call; scripts import their own copy inside the sandbox. Modules are cached by path, size and
modification time, so a new registry version is picked up and an unchanged one is imported
once per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import threading
from types import ModuleType

from aibroker.catalog import ServiceEntry
from aibroker.errors import AibrokerError


class ClientLoadError(AibrokerError):
    """A generated client module could not be imported or lacks its client class."""


_lock = threading.Lock()
_cache: dict[tuple[str, int, int], ModuleType] = {}


def load_client_module(entry: ServiceEntry) -> ModuleType:
    """The imported client module of ``entry`` (blocking: call it in a worker thread)."""
    path = entry.client_path.expanduser().resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise ClientLoadError(
            f"client module of service {entry.name!r} is missing: {path}",
            hint="regenerate the service (`aibroker generate` / registry refresh)",
        ) from exc
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        digest = hashlib.sha256(str(key).encode()).hexdigest()[:12]
        module_name = f"_aibroker_client_{entry.name}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ClientLoadError(f"cannot import {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        # Registered before execution: pydantic resolves forward references through it.
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # any import-time failure of generated code is reported
            sys.modules.pop(module_name, None)
            raise ClientLoadError(
                f"client module of service {entry.name!r} fails to import: "
                f"{type(exc).__name__}: {exc}",
                hint=f"regenerate it; the file is {path}",
            ) from exc
        _cache[key] = module
        return module


def client_class(entry: ServiceEntry) -> type:
    """The sync client class ``entry.class_name`` of the service's module."""
    module = load_client_module(entry)
    cls = getattr(module, entry.class_name, None)
    if not isinstance(cls, type):
        raise ClientLoadError(
            f"client module of service {entry.name!r} has no class {entry.class_name!r}",
            hint="the catalog entry and the generated client disagree; regenerate the service",
        )
    return cls


def public_methods(cls: type) -> list[str]:
    """Names of the RPC methods of a client class: public, callable, not inherited plumbing."""
    plumbing = {"connect", "close"}
    return sorted(
        name
        for name, value in vars(cls).items()
        if not name.startswith("_")
        and name not in plumbing
        and callable(value)
        and not isinstance(value, classmethod | staticmethod)
    )
