"""The notebooks as a product: built from their sources, and every exercise solvable by its solution.

``pytest --nbval notebooks`` replays each committed notebook and compares its outputs; these
tests add what nbval cannot see: that a notebook was rebuilt after its source changed, and
that each exercise, with the solution from ``notebooks/solutions`` filled in, is graded right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks as build  # noqa: E402

SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_committed_notebook_matches_its_source(source: Path) -> None:
    committed = nbformat.read(ROOT / "notebooks" / f"{source.stem}.ipynb", as_version=4)
    fresh = build.to_notebook(source)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in fresh.cells], (
        f"notebooks/{source.stem}.ipynb is older than its source: run python tools/build_notebooks.py {source.stem[:2]}"
    )
    assert all(c.get("execution_count") for c in committed.cells if c.cell_type == "code"), "commit it executed"


WITH_EXERCISES = [s for s in SOURCES if "# %% [exercise]" in s.read_text(encoding="utf-8")]


@pytest.mark.parametrize("source", WITH_EXERCISES, ids=[s.stem for s in WITH_EXERCISES])
def test_every_exercise_is_graded_right_with_its_solution(source: Path) -> None:
    nb = build.to_notebook(source)
    solutions = build.solutions(source.stem)
    exercises = [c for c in nb.cells if c.metadata.get("exercise")]
    assert exercises, "no exercise cell"
    for cell in exercises:
        name = cell.metadata["exercise"]
        assert name in solutions, f"no solution for exercise {name!r} in notebooks/solutions/{source.stem}.py"
        cell.source = solutions[name]
    build.execute(nb)
    verdicts = [
        text
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for text in [str(out.get("data", {}).get("text/plain", "")) + str(out.get("text", ""))]
        if text.startswith(("✓", "✗", "…")) or "\n✓" in text
    ]
    assert verdicts, "no check cell printed a verdict"
    assert all(v.lstrip().startswith("✓") for v in verdicts), verdicts


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_run_all_twice_in_one_kernel(source: Path) -> None:
    """A learner presses Run All, then Run All again in the same kernel: no cell fails."""
    from nbclient import NotebookClient

    nb = build.to_notebook(source)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(build.NOTEBOOKS)}}
    )
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises CellExecutionError on an error
