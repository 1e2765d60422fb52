"""Static check of a script against the real generated clients, before anything runs.

Small models often call a method that does not exist, misspell an argument or pass one too
many. Those mistakes are found here by binding each call with :func:`inspect.signature`
against the imported client class, which costs milliseconds instead of a sandbox run, and
the message names the method and its real signature so the next attempt can fix it.
Only what can be known statically is checked: variables bound to a client by assignment or
``with``; anything dynamic is left to the run. Names used but never defined (ruff's F821)
are reported too: such a script would die with a NameError, possibly after it already
changed a service, and its retry would then repeat those changes.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aibroker.catalog import ServiceEntry
from aibroker.rpc import set_result
from aibroker.ruff import run_ruff
from aibroker.tools.clients import client_class, load_client_module, public_methods


@dataclass
class CheckOutcome:
    """Problems found (empty: the script passed) and the first method they involve."""

    problems: list[str] = field(default_factory=list)
    service: str | None = None
    method: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def blame(self, problem: str, service: str | None = None, method: str | None = None) -> None:
        self.problems.append(problem)
        if self.service is None and service is not None:
            self.service, self.method = service, method


@dataclass
class _Client:
    entry: ServiceEntry
    cls: type


class _Shown:
    """An annotation shown as written (``from __future__`` keeps annotations as strings)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def show_signature(signature: inspect.Signature) -> str:
    """``(a: float, b: float) -> float``: the signature as the model reads it, no ``self``."""
    parameters = [
        p.replace(annotation=_Shown(p.annotation)) if isinstance(p.annotation, str) else p
        for p in signature.parameters.values()
        if p.name != "self"
    ]
    returns = signature.return_annotation
    return str(
        signature.replace(
            parameters=parameters,
            return_annotation=_Shown(returns) if isinstance(returns, str) else returns,
        )
    )


def _bind_problem(func: object, call: ast.Call, *, skip_self: bool) -> str | None:
    """Why ``call`` cannot bind to ``func``'s signature, or None (also when undecidable)."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
        keyword.arg is None for keyword in call.keywords
    ):
        return None
    try:
        signature = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    args = [object()] * len(call.args)
    kwargs = {str(keyword.arg): object() for keyword in call.keywords}
    try:
        if skip_self:
            signature.bind(object(), *args, **kwargs)
        else:
            signature.bind(*args, **kwargs)
    except TypeError as exc:
        return f"{exc} (signature: {show_signature(signature)})"
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, allowed: Mapping[str, ServiceEntry], known: frozenset[str]) -> None:
        self.allowed = allowed
        self.known = known
        self.outcome = CheckOutcome()
        self.classes: dict[str, _Client] = {}  # local name -> client class
        self.modules: dict[str, ServiceEntry] = {}  # local name -> service module
        self.instances: dict[str, _Client] = {}  # local name -> connected client

    def _service_of_import(self, module: str) -> ServiceEntry | None:
        top = module.split(".")[0]
        if top in self.allowed:
            if module != top:
                self.outcome.blame(f"import from {top!r} directly, not from {module!r}", top)
            return self.allowed[top]
        if top in self.known:
            chosen = ", ".join(sorted(self.allowed)) or "none"
            self.outcome.blame(f"service {top!r} is not available here (use: {chosen})", top)
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            entry = self._service_of_import(alias.name)
            if entry is not None:
                self.modules[alias.asname or alias.name] = entry

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        entry = self._service_of_import(node.module or "") if node.level == 0 else None
        if entry is None:
            return
        module = load_client_module(entry)
        for alias in node.names:
            value = getattr(module, alias.name, None)
            if value is None:
                exported = sorted(n for n in vars(module) if n[:1].isupper())
                close = difflib.get_close_matches(alias.name, exported, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.outcome.blame(f"{entry.name} has no name {alias.name!r}{hint}", entry.name)
            elif alias.name == entry.class_name:
                self.classes[alias.asname or alias.name] = _Client(entry, client_class(entry))

    def _client_class_of(self, node: ast.expr) -> _Client | None:
        if isinstance(node, ast.Name):
            return self.classes.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            entry = self.modules.get(node.value.id)
            if entry is not None and node.attr == entry.class_name:
                return _Client(entry, client_class(entry))
        return None

    def _connected(self, node: ast.expr | None) -> _Client | None:
        """The client a ``C.connect(...)`` or ``C(...)`` expression produces."""
        if not isinstance(node, ast.Call):
            return None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "connect":
            return self._client_class_of(node.func.value)
        return self._client_class_of(node.func)

    def visit_Assign(self, node: ast.Assign) -> None:
        client = self._connected(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if client is not None:
                    self.instances[target.id] = client
                else:
                    self.instances.pop(target.id, None)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            client = self._connected(item.context_expr)
            if client is not None and isinstance(item.optional_vars, ast.Name):
                self.instances[item.optional_vars.id] = client
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            client = self.instances.get(func.value.id)
            if client is not None:
                self._check_method_call(client, func.attr, node)
        elif isinstance(func, ast.Name) and func.id == "set_result":
            problem = _bind_problem(set_result, node, skip_self=False)
            if problem is not None:
                self.outcome.blame(f"line {node.lineno}: set_result(): {problem}")
        self.generic_visit(node)

    def _owner_of(self, method: str) -> ServiceEntry | None:
        """Another allowed service whose client has ``method`` (a call on the wrong client)."""
        if method.startswith("_"):
            return None
        return next((e for e in self.allowed.values() if hasattr(client_class(e), method)), None)

    def _check_method_call(self, client: _Client, name: str, node: ast.Call) -> None:
        entry, cls = client.entry, client.cls
        methods = public_methods(cls)
        if not hasattr(cls, name) or name.startswith("_"):
            owner = self._owner_of(name)
            if owner is not None:
                hint = f"; it is a method of {owner.class_name}: call it on {owner.name}"
            else:
                close = difflib.get_close_matches(name, methods, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
            self.outcome.blame(f"{entry.class_name} has no method {name!r}{hint}", entry.name, name)
            return
        problem = _bind_problem(getattr(cls, name), node, skip_self=True)
        if problem is not None:
            self.outcome.blame(
                f"line {node.lineno}: {entry.class_name}.{name}(): {problem}", entry.name, name
            )


def check_script(
    code: str, allowed: Mapping[str, ServiceEntry], known: frozenset[str] = frozenset()
) -> CheckOutcome:
    """Compile ``code`` and check its use of the ``allowed`` services' clients.

    ``known`` names every service of the catalog, so importing one that was not chosen is
    reported as such. Blocking (imports client modules): call it in a worker thread.
    """
    try:
        tree = ast.parse(code, filename="<script>")
        compile(tree, "<script>", "exec")
    except SyntaxError as exc:
        outcome = CheckOutcome()
        outcome.blame(f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}")
        return outcome
    checker = _Checker(allowed, known | frozenset(allowed))
    checker.visit(tree)
    for problem in undefined_names(code):
        checker.outcome.blame(problem)
    return checker.outcome


RUFF_TIMEOUT_S = 10.0


def undefined_names(code: str) -> list[str]:
    """``line N: Undefined name `x` ...`` for every name ``code`` reads but never binds.

    Uses ruff (already a dependency, for formatting generated clients) rather than a second
    hand-written scope analysis. If ruff cannot run, nothing is reported: the sandbox run
    still catches the NameError, only later.
    """
    options = ["--no-cache", "--select", "F821", "--output-format", "json"]
    try:
        completed = run_ruff(
            "check", options, code, stdin_filename="script.py", timeout=RUFF_TIMEOUT_S
        )
        findings = json.loads(completed.stdout or b"[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    return [
        f"line {f['location']['row']}: {f['message']}; define it before it is used"
        for f in findings
        if isinstance(f, dict) and f.get("code") == "F821"
    ]


def uses_a_service(code: str, services: Iterable[str]) -> bool:
    """Whether ``code`` imports one of ``services`` (True when it does not parse: the check
    reports that). A script that imports none of the chosen services cannot do anything
    with them: the code model found no use for them."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True
    names = set(services)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in names for a in node.names):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] in names
        ):
            return True
    return False
