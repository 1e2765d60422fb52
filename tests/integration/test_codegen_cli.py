"""``aibroker generate`` and ``aibroker inspect`` end to end (real files, real output)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aibroker.cli import app
from aibroker.openrpc import spec_hash

runner = CliRunner()


def test_generate_writes_every_file_and_keeps_going_past_a_failure(
    specs_dir: Path, tmp_path: Path
) -> None:
    zinit = specs_dir / "threefoldtech_zinit__openrpc.json"
    petstore = specs_dir / "open-rpc_examples__petstore-openrpc.json"
    missing = tmp_path / "missing.json"
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", str(zinit), str(missing), str(petstore), "--out", str(out), "--json"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert [row["service"] for row in payload["generated"]] == ["zinit", "petstore"]
    assert payload["failed"][0]["source"] == str(missing)
    assert "no such file" in payload["failed"][0]["error"]
    files = sorted(p.name for p in (out / "zinit").iterdir())
    assert files == ["card.txt", "client.py", "interface.py", "openrpc.json", "spec_hash"]
    raw = json.loads((out / "zinit" / "openrpc.json").read_text())
    assert (out / "zinit" / "spec_hash").read_text().strip() == spec_hash(raw)
    assert (out / "zinit" / "card.txt").read_text().startswith("SERVICE: zinit\n")
    assert payload["generated"][0]["interface_tokens"] < payload["generated"][0]["spec_tokens"]


def test_generate_prints_a_table(specs_dir: Path, tmp_path: Path) -> None:
    spec = specs_dir / "open-rpc_examples__simple-math-openrpc.json"
    result = runner.invoke(app, ["generate", str(spec), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "simple_math" in result.stdout
    assert "reduction" in result.stdout


def test_inspect_prints_card_and_interface_or_one_method(specs_dir: Path) -> None:
    spec = str(specs_dir / "open-rpc_examples__petstore-openrpc.json")
    shown = runner.invoke(app, ["inspect", spec])
    assert shown.exit_code == 0
    assert shown.stdout.startswith("SERVICE: petstore\nSUMMARY: ")
    assert "class Petstore:" in shown.stdout
    detail = runner.invoke(app, ["inspect", spec, "--method", "get_pet", "--json"])
    assert json.loads(detail.stdout)["detail"].startswith("# petstore.get_pet")
    unknown = runner.invoke(app, ["inspect", spec, "--method", "nope"])
    assert unknown.exit_code == 1
    assert "no method 'nope'" in unknown.stderr
