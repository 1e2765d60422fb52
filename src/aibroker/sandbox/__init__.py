"""The sandbox: a uv-managed environment and a hardened runner for generated scripts.

Public API::

    run_script(code, *, allow=(), timeout=None, limits=None, home=None) -> RunResult  (async)
    run_script_sync(...) -> RunResult
    ensure_environment(home) -> SandboxEnvironment
    link_client(home, service_name, client_path=None) / unlink_client(home, service_name)

Threat model — what is a boundary and what is not
-------------------------------------------------
The scripts come from a language model steered by user intent and by spec text we do not
control, so they are treated as untrusted but not as a determined kernel attacker.

With bubblewrap (``isolation == "bwrap"``), each run gets:

* its own **network namespace**: no TCP/UDP at all, no abstract Unix sockets of the host;
* a **constructed, read-only filesystem**: /usr (and the /bin, /lib links), a few /etc files
  (not shadow), the interpreter, the venv, the registry's services directory; the run
  directory is the only writable place. Unix sockets are reachable only for the allowed
  services, which are bind-mounted one by one (a socket stays connectable through a bind
  mount even across the network namespace — that is how allowed services stay reachable);
* its own **pid namespace**: it cannot see or signal host processes, and when the run ends
  or is killed, every process it started dies with the namespace;
* **no capabilities** and ``no_new_privs``. As root, the bootstrap switches the real and
  effective uid to a run-unique value and keeps only the filesystem uid 0 (so the root-owned
  venv and sockets stay readable through the owner bits, while nothing is writable outside
  the run directory). RLIMIT_NPROC does not apply to uid 0; with a fresh uid it counts
  exactly this run's processes, which contains fork bombs (default 64 processes). Without
  root, bubblewrap uses an unprivileged user namespace and the process limit counts the
  processes of that namespace;
* **rlimits**: CPU seconds, address space (1 GiB), file size (64 MiB per file), open files,
  no core dumps; a wall-clock timeout that kills the whole run; stdout/stderr capped (64 KiB
  kept; past 8 MiB the script is killed) so a runaway print cannot fill the broker's memory;
* an **environment allow-list**: PATH, LANG, HOME/TMPDIR (the run directory), the allowed
  services' ``<NAME>_ENDPOINT``, ``AIBROKER_RESULT_FILE`` and ``AIBROKER_CALL_LOG`` (the
  journal of successful calls, :mod:`aibroker.rpc.journal`) — no API keys, no tokens.

Not boundaries: the kernel itself (a kernel exploit escapes any namespace sandbox; there is
no seccomp filter); disk space in the run directory beyond the per-file size limit; CPU and
memory *bandwidth* (two cores can be kept busy until the timeout); allowed services (a
script can call any method of a service it is allowed, with any parameters — authorisation
is the service's job). A service with a TCP endpoint makes the run share the host network
(``isolation == "bwrap+net"``).

Without bubblewrap (``isolation == "rlimits"``, or ``AIBROKER_EXEC_USE_BWRAP=false``) only
the rlimits, the timeout, the output caps and the environment allow-list apply: the script
can read and write whatever the broker's user can and reach the network. As root the
run-unique uid still contains fork bombs and lets the runner find and kill every leftover
process; as another user, leftovers are found through the process group only. This mode is
for development, not for untrusted input; a warning is logged once.
"""

from aibroker.sandbox.access import endpoint_env_var
from aibroker.sandbox.errors import (
    ClientLinkError,
    EnvironmentSetupError,
    SandboxError,
    ScriptDependencyError,
)
from aibroker.sandbox.limits import Limits
from aibroker.sandbox.result import AllowedService, RunResult, ScriptFailure
from aibroker.sandbox.runner import run_script, run_script_sync
from aibroker.sandbox.venv import (
    SandboxEnvironment,
    ensure_environment,
    link_client,
    unlink_client,
)

__all__ = [
    "AllowedService",
    "ClientLinkError",
    "EnvironmentSetupError",
    "Limits",
    "RunResult",
    "SandboxEnvironment",
    "SandboxError",
    "ScriptDependencyError",
    "ScriptFailure",
    "endpoint_env_var",
    "ensure_environment",
    "link_client",
    "run_script",
    "run_script_sync",
    "unlink_client",
]
