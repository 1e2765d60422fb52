"""Context size per corpus spec: full spec vs MCP-style tools vs interface vs card.

Run: ``.venv/bin/python bench/bench_context.py [SPEC_DIR]``. Prints a table; asserts nothing.
Tokens are cl100k_base. "spec" is the document as compact JSON (``json.dumps``); "tools" is
one ``{name, description, inputSchema}`` per method with schemas left unresolved (what an MCP
server exposing each method as a tool would send); "+defs" is the same with the component
schemas each tool's ``$ref``s reach added to it as ``$defs`` (an MCP tool's schema must stand
alone, so this is what such a server really has to send; results are still not described);
"interface" and "card" are what aibroker gives the model.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from aibroker.codegen import generate
from aibroker.openrpc import parse_document
from aibroker.tokens import count_tokens

DEFAULT_SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"


def mcp_tools(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """One MCP tool definition per method, its params as one object schema (refs kept)."""
    tools = []
    for method in raw.get("methods", []):
        params = [p for p in method.get("params", []) if isinstance(p, dict)]
        schema = {
            "type": "object",
            "properties": {p.get("name", "?"): p.get("schema", {}) for p in params},
            "required": [p.get("name", "?") for p in params if p.get("required")],
        }
        description = method.get("summary") or method.get("description") or ""
        tools.append(
            {"name": method.get("name"), "description": description, "inputSchema": schema}
        )
    return tools


def _refs(schema: Any) -> set[str]:
    """Component names referenced anywhere in ``schema``."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def with_defs(tools: list[dict[str, Any]], raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Each tool with the component schemas it reaches (transitively) as ``$defs``."""
    components = raw.get("components", {}).get("schemas", {})
    standalone = []
    for tool in tools:
        pending, reached = _refs(tool["inputSchema"]), set()
        while pending:
            name = pending.pop()
            if name in reached or name not in components:
                continue
            reached.add(name)
            pending |= _refs(components[name])
        defs = {name: components[name] for name in sorted(reached)}
        standalone.append({**tool, "inputSchema": {**tool["inputSchema"], "$defs": defs}})
    return standalone


def main() -> None:
    specs_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPECS
    header = f"{'spec':48} {'methods':>7} {'spec':>9} {'tools':>7} {'+defs':>7} {'iface':>7} "
    header += f"{'card':>5} "
    print(header + f"{'vs spec':>8} {'vs tools':>8} {'vs +defs':>8}")
    reductions: list[float] = []
    for path in sorted(p for p in specs_dir.glob("*.json") if p.name != "MANIFEST.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        generated = generate(parse_document(raw).document)
        spec = count_tokens(json.dumps(raw))
        tools = count_tokens(json.dumps(mcp_tools(raw)))
        tools_defs = count_tokens(json.dumps(with_defs(mcp_tools(raw), raw)))
        interface = count_tokens(generated.interface)
        card = count_tokens(generated.card)
        vs_spec = 100 * (1 - interface / spec)
        vs_tools = 100 * (1 - interface / tools) if tools else 0.0
        vs_defs = 100 * (1 - interface / tools_defs) if tools_defs else 0.0
        if generated.method_count >= 10:
            reductions.append(vs_spec)
        print(
            f"{path.stem[:48]:48} {generated.method_count:7} {spec:9} {tools:7} {tools_defs:7} "
            f"{interface:7} "
            f"{card:5} {vs_spec:7.1f}% {vs_tools:7.1f}% {vs_defs:7.1f}%"
        )
    if reductions:
        print(
            "median reduction vs spec over specs with >= 10 methods: "
            f"{statistics.median(reductions):.1f}%"
        )


if __name__ == "__main__":
    main()
