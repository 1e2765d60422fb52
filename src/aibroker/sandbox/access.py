"""What a run may reach: the allowed services' sockets, read-only paths and environment.

Kept apart from the runner because it is the policy half of the sandbox: everything a script
can see of the outside world is decided by these few functions.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from aibroker.rpc.endpoint import Endpoint
from aibroker.rpc.journal import CALL_LOG_ENV
from aibroker.rpc.result import RESULT_FILE_ENV
from aibroker.sandbox.result import AllowedService
from aibroker.sandbox.venv import SandboxEnvironment, linked_client_targets

logger = logging.getLogger(__name__)


def endpoint_env_var(service_name: str) -> str:
    """``hero_kv`` → ``HERO_KV_ENDPOINT``: where generated clients read their endpoint from."""
    return re.sub(r"[^0-9A-Za-z]", "_", service_name).upper() + "_ENDPOINT"


def service_access(allow: Sequence[AllowedService]) -> tuple[tuple[Path, ...], bool]:
    """Socket paths to bind into the sandbox, and whether a TCP service needs the network."""
    sockets: list[Path] = []
    share_network = False
    for service in allow:
        endpoint = Endpoint.parse(service.endpoint)
        if endpoint.socket_path is not None:
            path = Path(os.path.abspath(endpoint.socket_path))
            # A missing socket is not bound (bwrap would refuse to start); the client then
            # fails with a ConnectError naming the service, which says what is wrong.
            if path.exists():
                sockets.append(path)
        else:
            share_network = True
            logger.warning(
                "service %s has a TCP endpoint (%s): the sandbox shares the host network "
                "for this run",
                service.name,
                service.endpoint,
            )
    return tuple(sorted(set(sockets))), share_network


def read_only_paths(env: SandboxEnvironment, home: Path, extras: Path | None) -> tuple[Path, ...]:
    """The interpreter, the venv, the registry's services and any client file linked from
    elsewhere (tests, hand-linked clients): both the link target and its real path."""
    paths = [env.interpreter_prefix, env.root, home / "services"]
    if extras is not None:
        paths.append(extras)
    for target in linked_client_targets(env):
        paths += [target, Path(os.path.realpath(target))]
    return tuple(paths)


def child_environment(
    run_dir: Path, result_file: Path, call_log: Path, allow: Sequence[AllowedService]
) -> dict[str, str]:
    """An allow-list: nothing from the broker's environment but PATH basics and the locale,
    plus where the script leaves its result and its journal of successful calls."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(run_dir),
        "TMPDIR": str(run_dir),
        RESULT_FILE_ENV: str(result_file),
        CALL_LOG_ENV: str(call_log),
    }
    if "TZ" in os.environ:
        env["TZ"] = os.environ["TZ"]
    for service in allow:
        env[endpoint_env_var(service.name)] = service.endpoint
    return env
