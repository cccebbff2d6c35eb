"""Build the notebooks: ``notebooks/src/NN_name.py`` (percent format) -> executed ``notebooks/NN_name.ipynb``.

Usage: ``python tools/build_notebooks.py [NN ...]`` (all when none given).

The source files are what people edit and review; the .ipynb files are what learners open
and what ``pytest --nbval`` checks, so they are committed executed. Execution happens with
``LABKIT_AUTOPILOT=1``: nobody types, the login form fills itself (the output says so),
exactly as under the tests.

Cell markers in a source file:
- ``# %% [markdown]`` starts a Markdown cell (each following line starts with ``# ``);
- ``# %%`` starts a code cell;
- ``# %% [exercise] name`` starts a code cell the learner completes; its solution lives in
  ``notebooks/solutions/NN_name.py`` under ``# %% [solution] name``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MARKER = re.compile(r"^# %%(?: \[(markdown|exercise|solution)\])?(?: (\S+))?\s*$")


def parse_cells(text: str) -> list[tuple[str, str, str | None]]:
    """``[(kind, source, name)]`` with kind in markdown / code / exercise / solution."""
    cells: list[tuple[str, list[str], str | None]] = []
    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            cells.append((match.group(1) or "code", [], match.group(2)))
        elif cells:
            cells[-1][1].append(line)
    out = []
    for kind, lines, name in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            lines = [re.sub(r"^# ?", "", line) for line in lines]
        out.append((kind, "\n".join(lines), name))
    return out


def to_notebook(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, (kind, text, name) in enumerate(parse_cells(source.read_text(encoding="utf-8"))):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
            if kind == "exercise":
                cell.metadata["tags"] = ["exercise"]
                cell.metadata["exercise"] = name
        cell.id = f"{source.stem[:2]}-{index:02d}"
        nb.cells.append(cell)
    return nb


def solutions(notebook_stem: str) -> dict[str, str]:
    """The solution cells for a notebook, by exercise name."""
    path = NOTEBOOKS / "solutions" / f"{notebook_stem}.py"
    if not path.exists():
        return {}
    return {
        name: text for kind, text, name in parse_cells(path.read_text(encoding="utf-8")) if kind == "solution" and name
    }


def execute(nb: nbformat.NotebookNode, *, timeout: int = 120) -> nbformat.NotebookNode:
    os.environ.setdefault("LABKIT_AUTOPILOT", "1")
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return nb


def build(stem: str) -> float:
    started = time.perf_counter()
    nb = execute(to_notebook(NOTEBOOKS / "src" / f"{stem}.py"))
    nbformat.write(nb, NOTEBOOKS / f"{stem}.ipynb")
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    stems = sorted(p.stem for p in (NOTEBOOKS / "src").glob("[0-9][0-9]_*.py"))
    wanted = [s for s in stems if not argv or s[:2] in argv or s in argv]
    for stem in wanted:
        print(f"{stem}: executed in {build(stem):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
