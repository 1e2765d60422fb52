"""Schemathesis against the published OpenAPI schema of a real, running server.

Every operation but the run-executing ones is fuzzed with valid and invalid inputs (the
streaming ones answer SSE; the runs tests cover execution with real scripts): no 5xx,
status codes, content types and bodies as documented. The operations are driven through
Hypothesis directly, which keeps the server (a module fixture) started once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fakes import calc_world
from tests.server_harness import adding_agent, calc_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXECUTING = r"/runs(/stream|/wait)?$"
# A fixed catalog answers discovery and registration with 501 by design (tested in
# test_server_api); schemathesis counts every 5xx as a failure.
REGISTRY_CHANGES = r"^/services/(discover|register)$"


def test_api_matches_its_schema(tmp_path: Path) -> None:
    with (
        calc_world(tmp_path) as world,
        calc_server(world, adding_agent(tmp_path), tmp_path / "home") as server,
    ):
        schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
        schema = schema.exclude(path_regex=EXECUTING).exclude(path_regex=REGISTRY_CHANGES)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 14
        tested: list[str] = []
        for operation in operations:
            has_inputs = bool(list(operation.iter_parameters())) or bool(list(operation.body))
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_inputs else [])
            for mode in modes:

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
                def check(case: Any) -> None:
                    case.call_and_validate(base_url=server.base_url, checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:
                    # Only in negative mode: every input of this operation is valid (free-form
                    # string path parameters, optional bodies), so there is nothing to break.
                    assert mode is GenerationMode.NEGATIVE, operation.label
                    continue
            tested.append(operation.label)
    assert "GET /runs/{run_id}" in tested
    assert "POST /threads" in tested
