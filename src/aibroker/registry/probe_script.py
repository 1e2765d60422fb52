"""The probe run *inside the execution venv* to check a freshly generated client.

It is executed as ``<venv>/bin/python -I -c <this file's text> <json arguments>`` so it sees
exactly what scripts see: the copied runtime (:mod:`aibroker.rpc`) and the pinned packages,
nothing of the broker. Hence only the standard library and :mod:`aibroker.rpc` are imported.

Arguments (one JSON object): ``path`` (client.py), ``module`` (its module name), ``class_name``,
``endpoint`` (``null`` when the source is not live), ``discover_method`` (the client's Python
name for ``rpc.discover`` when the spec lists it, else ``null``: the raw runtime is used) and
``timeout``. Output: one line ``PROBE-RESULT <json>`` with ``import`` and ``discover``
outcomes; anything the client prints on import is ignored.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import traceback
from typing import Any

MARKER = "PROBE-RESULT "


def _load(path: str, module_name: str) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _plain(value: Any) -> Any:
    """The JSON data of a client result (pydantic models dumped by alias)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_unset=True)
    return value


def _connect(cls: Any, endpoint: str) -> Any:
    connect = getattr(cls, "connect", None)
    if callable(connect):
        return connect(endpoint)
    return cls(endpoint)


def _discover(module: Any, args: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    endpoint = args["endpoint"]
    method = args.get("discover_method")
    try:
        if method:
            client = _connect(getattr(module, args["class_name"]), endpoint)
            try:
                value = _plain(getattr(client, method)())
            finally:
                close = getattr(client, "close", None)
                if callable(close):
                    close()
            via = f"{args['class_name']}.{method}()"
        else:
            from aibroker.rpc import RpcClient

            with RpcClient(endpoint, timeout=args["timeout"]) as raw:
                value = raw.call("rpc.discover")
            via = "aibroker.rpc.RpcClient"
        if isinstance(value, str):  # some servers return the document as a JSON string
            value = json.loads(value)
    except Exception as error:
        return {
            "ok": False,
            "via": method or "runtime",
            "error": f"{type(error).__name__}: {error}",
            "duration_s": time.perf_counter() - started,
        }
    return {"ok": True, "via": via, "document": value, "duration_s": time.perf_counter() - started}


def main() -> None:
    args = json.loads(sys.argv[1])
    result: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        module = _load(args["path"], args["module"])
        if not hasattr(module, args["class_name"]):
            raise AttributeError(f"the module defines no class {args['class_name']!r}")
    except BaseException as error:  # SystemExit from a client module is a failure too
        tail = traceback.format_exc().strip().splitlines()[-6:]
        result["import"] = {
            "ok": False,
            "error": f"{type(error).__name__}: {error}",
            "traceback": "\n".join(tail),
            "duration_s": time.perf_counter() - started,
        }
        print(MARKER + json.dumps(result), flush=True)
        return
    result["import"] = {"ok": True, "duration_s": time.perf_counter() - started}
    if args.get("endpoint"):
        result["discover"] = _discover(module, args)
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
