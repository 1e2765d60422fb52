"""The script preamble: the imports and connections every script starts with.

A 1.5B model reliably writes the body of a script but often drops a line of the boilerplate
around it: ``from aibroker.rpc import set_result``, the client class import, or the
``hero_kv = HeroKv.connect()`` line before using ``hero_kv``. Those lines are fully
determined by the chosen services, so the prompt shows them (:func:`preamble_lines`) and
:func:`complete_preamble` adds whichever the script uses but never defines. That is a
deterministic fix, not a guess: it only adds bindings of names the script already reads,
and spends no attempt on a NameError the model would likely "fix" by deleting the call.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Sequence

from aibroker.catalog import ServiceEntry

RESULT_IMPORT = "from aibroker.rpc import set_result"


def preamble_lines(entries: Sequence[ServiceEntry]) -> list[str]:
    """The lines a script against ``entries`` starts with (imports, then connections)."""
    imports = [RESULT_IMPORT] + [f"from {e.name} import {e.class_name}" for e in entries]
    connections = [f"{e.name} = {e.class_name}.connect()" for e in entries]
    return [*imports, "", *connections]


def _bound_and_read(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names the script binds anywhere (any scope) and names it reads."""
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, read


def _insert_at(tree: ast.Module) -> int:
    """Line index after the leading docstring and ``from __future__`` imports."""
    index = 0
    for statement in tree.body:
        is_docstring = (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if not (is_docstring or is_future):
            break
        index = statement.end_lineno or index
    return index


def complete_preamble(code: str, entries: Sequence[ServiceEntry]) -> tuple[str, list[str]]:
    """``code`` with the missing preamble lines it needs, and the lines that were added.

    Only names the script reads and binds nowhere are added: ``set_result``, a client class,
    or a service's connected-client variable (which also brings its class import). A script
    that does not parse is returned unchanged (the static check reports the syntax error).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code, []
    bound, read = _bound_and_read(tree)
    missing = (read - bound) - set(dir(builtins))
    imports: list[str] = []
    connections: list[str] = []
    if "set_result" in missing:
        imports.append(RESULT_IMPORT)
    for entry in entries:
        needs_client = entry.name in missing
        if (entry.class_name in missing or needs_client) and entry.class_name not in bound:
            imports.append(f"from {entry.name} import {entry.class_name}")
        if needs_client:
            connections.append(f"{entry.name} = {entry.class_name}.connect()")
    added = imports + connections
    if not added:
        return code, []
    lines = code.splitlines()
    at = _insert_at(tree)
    fixed = [*lines[:at], *imports, *connections, *lines[at:]]
    return "\n".join(fixed).rstrip("\n") + "\n", added
