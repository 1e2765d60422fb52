"""Where specs come from: the sockets directory, ``services.toml`` and explicit sources.

Every source is reduced to a *canonical* string so that the same service reached twice (a
relative path and an absolute one, ``x.sock`` and ``unix:///…/x.sock``) is recognised as
the same owner of its name: re-registering it is an update, not a clash.

``services.toml`` (optional, in ``AIBROKER_HOME``) lists extra sources::

    [services]
    billing = "unix:///run/billing.sock"           # source, also the endpoint
    petstore = { source = "/specs/petstore.json", endpoint = "http://127.0.0.1:8080/rpc" }

The key is the service name; a table entry can give a spec file plus where it is served.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aibroker.openrpc.errors import SpecLoadError
from aibroker.openrpc.loader import plan_source
from aibroker.registry.errors import RegistryError

Origin = Literal["sockets_dir", "services_toml", "explicit", "registered"]


@dataclass(frozen=True)
class Source:
    """One place to fetch a spec from, and what is known about it before fetching."""

    location: str
    """Canonical source string (see :func:`canonical_source`)."""
    origin: Origin
    name: str | None = None
    """The name asked for (``--name``, a services.toml key); ``None`` derives one."""
    endpoint: str | None = None
    """Where the service is called, when it differs from the source (a spec file)."""

    @property
    def fallback_name(self) -> str | None:
        """The socket's or file's stem, used when the spec has no usable title."""
        path = self.location.removeprefix("unix://").removeprefix("http+unix://")
        if "://" in path:
            return None
        stem = Path(path).name
        for suffix in (".sock", ".json"):
            stem = stem.removesuffix(suffix)
        return stem or None


def canonical_source(source: str) -> str:
    """The canonical form of ``source``: absolute ``unix://`` for sockets, absolute file paths.

    URLs are kept as given (minus surrounding spaces). Raises :class:`RegistryError` for a
    source whose shape is not understood.
    """
    text = source.strip()
    try:
        plan = plan_source(text)
    except SpecLoadError as error:
        raise RegistryError(error.message, hint=error.hint) from error
    if plan.kind == "file":
        return os.path.abspath(os.path.expanduser(plan.location))
    if plan.kind == "unix" and not text.lower().startswith("http+unix://"):
        path = plan.location.removeprefix("unix://")
        return f"unix://{os.path.abspath(os.path.expanduser(path))}"
    return text


def scan_sockets(sockets_dir: Path) -> list[Source]:
    """Every ``*.sock`` in ``sockets_dir`` (sorted); a missing directory yields nothing."""
    directory = sockets_dir.expanduser()
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    except NotADirectoryError as error:
        raise RegistryError(
            f"the sockets directory {directory} is not a directory",
            hint="set AIBROKER_SOCKETS_DIR or pass --sockets-dir with a directory",
        ) from error
    except PermissionError as error:
        raise RegistryError(
            f"cannot list the sockets directory {directory}: permission denied",
            hint="run as a user that can read it, or pass another --sockets-dir",
        ) from error
    return [
        Source(f"unix://{os.path.abspath(entry.path)}", "sockets_dir")
        for entry in entries
        if entry.name.endswith(".sock")
    ]


def read_services_toml(path: Path) -> list[Source]:
    """The sources listed in ``services.toml``; a missing file yields nothing."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RegistryError(
            f"{path}: cannot read services.toml: {error}",
            hint='fix the file; entries look like `[services]` then `name = "unix:///x.sock"`',
        ) from error
    services = data.get("services", {})
    if not isinstance(services, dict):
        raise RegistryError(
            f"{path}: `services` must be a table", hint='write `[services]` then `name = "..."`'
        )
    sources: list[Source] = []
    for name, value in sorted(services.items()):
        if isinstance(value, str):
            sources.append(Source(canonical_source(value), "services_toml", name=name))
        elif isinstance(value, dict) and isinstance(value.get("source"), str):
            endpoint = value.get("endpoint")
            if endpoint is not None and not isinstance(endpoint, str):
                raise RegistryError(
                    f"{path}: services.{name}.endpoint must be a string",
                    hint='write endpoint = "unix:///path.sock" or an http(s) URL',
                )
            sources.append(
                Source(canonical_source(value["source"]), "services_toml", name, endpoint)
            )
        else:
            raise RegistryError(
                f"{path}: services.{name} must be a source string or a table with `source`",
                hint=f'write {name} = "unix:///x.sock" or {name} = {{ source = "spec.json", '
                'endpoint = "..." }',
            )
    return sources
