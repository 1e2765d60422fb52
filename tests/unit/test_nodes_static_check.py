"""The static check binds calls against the real client class before anything runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aibroker.catalog import InMemoryCatalog, ServiceEntry
from aibroker.nodes.static_check import check_script
from aibroker.nodes.write_code import CodeExtractionError, extract_code
from aibroker.openrpc import parse_document
from tests.fakes import CalcWorld, calc_world


@pytest.fixture
def calc(tmp_path: Path) -> Iterator[ServiceEntry]:
    with calc_world(tmp_path) as world:
        entry = world.catalog.get("calc")
        assert entry is not None
        yield entry


def check(code: str, calc: ServiceEntry, known: frozenset[str] = frozenset({"notes"})) -> str:
    return "; ".join(check_script(code, {"calc": calc}, known).problems)


def test_good_script_passes(calc: ServiceEntry) -> None:
    code = (
        "from calc import Calc\n"
        "with Calc.connect() as c:\n"
        "    print(c.add(1, 2), c.divide(a=4, b=2))\n"
    )
    outcome = check_script(code, {"calc": calc})
    assert outcome.ok, outcome.problems


def test_unknown_method_suggests_the_close_one(calc: ServiceEntry) -> None:
    outcome = check_script(
        "from calc import Calc\nc = Calc.connect()\nc.divid(1, 2)\n", {"calc": calc}
    )
    assert outcome.problems == ["Calc has no method 'divid'; did you mean divide?"]
    assert (outcome.service, outcome.method) == ("calc", "divid")


def test_wrong_arity_shows_the_real_signature(calc: ServiceEntry) -> None:
    problems = check("from calc import Calc\nc = Calc.connect()\nc.add(1)\n", calc)
    assert "missing a required argument: 'b'" in problems
    assert "(signature: (a: float, b: float) -> float)" in problems


def test_module_attribute_access_is_checked(calc: ServiceEntry) -> None:
    problems = check("import calc\nc = calc.Calc.connect()\nc.nope()\n", calc)
    assert "Calc has no method 'nope'" in problems


def test_unknown_class_name(calc: ServiceEntry) -> None:
    problems = check("from calc import Calculator\n", calc)
    assert "calc has no name 'Calculator'" in problems


def test_service_not_chosen_is_refused(calc: ServiceEntry) -> None:
    problems = check("from notes import Notes\n", calc)
    assert "service 'notes' is not available here (use: calc)" in problems


def test_submodule_import_is_refused(calc: ServiceEntry) -> None:
    problems = check("from calc.client import Calc\n", calc)
    assert "import from 'calc' directly" in problems


def test_syntax_error_names_the_line(calc: ServiceEntry) -> None:
    problems = check("x = 1\nprint(x\n", calc)
    assert problems.startswith("syntax error at line 2")


def test_rebinding_forgets_the_client(calc: ServiceEntry) -> None:
    code = "from calc import Calc\nc = Calc.connect()\nc = {}\nc.get('a')\n"
    assert check_script(code, {"calc": calc}).ok


def test_stdlib_and_unknown_modules_are_left_to_the_run(calc: ServiceEntry) -> None:
    assert check_script("import json\nfrom math import sqrt\nprint(sqrt(4))\n", {}).ok


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("```python\nprint(1)\n```", "print(1)\n"),
        ("Here:\n```py\nprint(2)\n```\nDone.", "print(2)\n"),
        ("```\nprint(3)\n```", "print(3)\n"),
        ("```bash\nls\n```\n```python\nprint(4)\n```", "print(4)\n"),
        ("````python\nprint('```')\n````", "print('```')\n"),
    ],
)
def test_extract_code_accepts_one_python_block(reply: str, expected: str) -> None:
    assert extract_code(reply) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("print(1)", "no complete ```python code block"),
        ("```python\nprint(1)\n", "(it looks cut off)"),
        ("```python\nprint(1)\n```\n```python\nprint(2)\n```", "2 ```python code blocks"),
        ("```python\n\n```", "empty"),
    ],
)
def test_extract_code_rejects_anything_else(reply: str, reason: str) -> None:
    with pytest.raises(CodeExtractionError, match=r"reply|block") as caught:
        extract_code(reply)
    assert reason in str(caught.value)


def test_calc_world_fixture_is_real(tmp_path: Path) -> None:
    with calc_world(tmp_path) as world:
        assert isinstance(world, CalcWorld)
        assert Path(world.endpoint.removeprefix("unix://")).is_socket()


def test_a_name_used_but_never_defined_fails_the_check(calc: ServiceEntry) -> None:
    code = (
        "from calc import Calc\ncalc = Calc.connect()\n"
        "for i in range(3):\n    total = calc.add(i, 1)\nprint(totals, sum([total]))\n"
    )
    outcome = check_script(code, {"calc": calc})
    assert outcome.problems == ["line 5: Undefined name `totals`; define it before it is used"], (
        outcome.problems
    )


def test_a_method_called_on_the_wrong_client_names_the_right_one(
    calc: ServiceEntry, tmp_path: Path, specs_dir: Path
) -> None:
    raw = json.loads((specs_dir / "open-rpc_examples__petstore-openrpc.json").read_text())
    petstore = InMemoryCatalog.from_documents(
        {"petstore": parse_document(raw).document},
        endpoints={"petstore": "unix:///nonexistent.sock"},
        out_dir=tmp_path / "petstore-client",
    ).get("petstore")
    assert petstore is not None
    code = (
        f"from calc import Calc\nfrom petstore import {petstore.class_name}\n"
        "calc = Calc.connect()\ncalc.list_pets()\n"
    )
    outcome = check_script(code, {"calc": calc, "petstore": petstore})
    assert outcome.problems == [
        f"Calc has no method 'list_pets'; it is a method of {petstore.class_name}: "
        "call it on petstore"
    ]


def test_set_result_takes_one_value(calc: ServiceEntry) -> None:
    problems = check("from aibroker.rpc import set_result\nset_result(failed_jobs=3)\n", calc)
    assert problems.startswith("line 2: set_result(): missing a required argument: 'value'")
    assert (
        check("from aibroker.rpc import set_result\nset_result({'failed_jobs': 3})\n", calc) == ""
    )
