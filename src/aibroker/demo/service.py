"""A demo service: its OpenRPC document (package data) and the handlers behind its methods.

Handlers are plain synchronous functions taking the method's params as keyword arguments
(already validated, defaults filled in) and returning a JSON value. They run on the event
loop thread, one request at a time per service: every operation is a short SQLite
transaction on a local file, far cheaper than a hop to a worker thread, and running them in
turn makes each method atomic within the process (WAL and ``BEGIN IMMEDIATE`` cover other
processes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from aibroker.demo.errors import DemoError

Handler = Callable[..., Any]


@dataclass
class Service:
    """One running service: its name, document, handlers and what to release on stop."""

    name: str
    document: dict[str, Any]
    handlers: Mapping[str, Handler]
    close: Callable[[], None] = field(default=lambda: None)

    def check_handlers(self) -> None:
        """Fail at start-up, not at call time, when the document and the code disagree."""
        declared = {method["name"] for method in self.document["methods"]}
        implemented = set(self.handlers)
        if declared != implemented:
            raise DemoError(
                f"service {self.name}: methods in its OpenRPC document "
                f"{sorted(declared - implemented)} have no handler, handlers "
                f"{sorted(implemented - declared)} are not in the document",
                hint=f"keep aibroker/demo/specs/{self.name}.json and the module in step",
            )


@cache
def _spec_text(name: str) -> str:
    resource = resources.files("aibroker.demo").joinpath("specs", f"{name}.json")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DemoError(
            f"no OpenRPC document for demo service {name!r} in aibroker/demo/specs",
            hint="the package data is missing: reinstall aibroker",
        ) from None


def load_spec(name: str) -> dict[str, Any]:
    """A fresh copy of the OpenRPC document of demo service ``name`` (package data)."""
    document: dict[str, Any] = json.loads(_spec_text(name))
    return document
