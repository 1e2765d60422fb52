"""The notebooks under ``notebooks/``, executed top to bottom in a fresh ``python3`` kernel.

A notebook that only renders is not documentation anyone can trust: these tests run each one
with nbclient, as a reader would, in a temporary working directory (so no ``.env`` of the
checkout leaks in). The notebooks assert what must hold (services registered, interface
smaller than the spec, a sandboxed script's result), so a cell that raises fails the test,
naming the notebook, the cell and the error. Both notebooks ask the real local model, hence
``live`` and ``slow``; the per-cell timeout is a guard against hangs, not a speed target.

The committed files must carry no outputs (they are cleared before committing); that check
is fast and offline.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from tests.conftest import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = ("01_quickstart.ipynb", "02_bring_your_own_service.ipynb")
CELL_TIMEOUT_S = 900
"""Hang guard per cell: generous, since a first run may download the 1.1 GB model."""
KERNEL = "python3"


def _read(name: str) -> NotebookNode:
    notebook: NotebookNode = nbformat.read(NOTEBOOKS_DIR / name, as_version=nbformat.NO_CONVERT)
    return notebook


def _cell_head(cell: NotebookNode, lines: int = 3) -> str:
    return "\n".join(f"    {line}" for line in str(cell.source).splitlines()[:lines])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_valid_and_has_no_outputs(name: str) -> None:
    notebook = _read(name)
    nbformat.validate(notebook)

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{name} has no code cells"
    assert any(cell.cell_type == "markdown" for cell in notebook.cells), f"{name}: no prose"
    assert notebook.metadata["kernelspec"]["name"] == KERNEL
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{name}: cells {dirty} carry outputs; clear them before committing"


def _require_model_backend() -> None:
    """Skip, saying why, when neither an endpoint nor the local model server can be had."""
    if os.environ.get("AIBROKER_LLM_BASE_URL"):
        return
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (uv sync --extra local)")


def _execute(notebook: NotebookNode, name: str, workdir: Path) -> list[tuple[float, int]]:
    """Run every code cell in order; return (seconds, cell index) per cell, or fail the test.

    Cells run one by one (rather than ``client.execute()``) so a failure names its cell. The
    executed notebook is written beside the working directory either way, for inspection.
    """
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(workdir)}},
    )
    executed = workdir.parent / f"executed-{name}"
    timings: list[tuple[float, int]] = []
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                nbformat.write(notebook, executed)
                pytest.fail(
                    f"{name}: cell {index} failed after {time.perf_counter() - started:.1f} s "
                    f"(executed copy: {executed})\n{_cell_head(cell)}\n\n{error}",
                    pytrace=False,
                )
            timings.append((time.perf_counter() - started, index))
    nbformat.write(notebook, executed)
    return timings


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name: str, tmp_path: Path) -> None:
    _require_model_backend()
    notebook = _read(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    timings = _execute(notebook, name, workdir)

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(timings) == len(code_cells)
    assert all(cell.execution_count is not None for cell in code_cells)
    errors = [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{name}: error outputs {errors}"
    assert list(workdir.iterdir()) == [], f"{name} left files in its working directory"
    slowest = ", ".join(f"cell {index} {seconds:.1f}s" for seconds, index in sorted(timings)[-3:])
    print(f"\n{name}: {sum(s for s, _ in timings):.1f} s in {len(timings)} cells ({slowest})")
