"""Learner copies of the teaching notebooks: solutions removed, everything else kept.

In a code cell, every region between a line ``### BEGIN SOLUTION`` and a line ``### END SOLUTION``
(both included) is replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` with the
region's indentation. Markdown cells between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``
are emptied the same way. A notebook whose markers are unbalanced is an error (it would leak).
Outputs are cleared. The instructor's notebooks are never modified.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from kpi_kit.errors import KitError
from kpi_kit.fmt import atomic_write_text

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def strip_solutions(source: str, where: str = "cell", markdown: bool = False) -> str:
    """Replace each solution region of one cell's source (see module docstring)."""
    begin, end = (MD_BEGIN, MD_END) if markdown else (BEGIN, END)
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise KitError(f"{where}: '{begin}' inside an open solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if not markdown:
                out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            else:
                out.append("*Your answer here.*")
            continue
        if stripped == end:
            if not inside:
                raise KitError(f"{where}: '{end}' without a matching '{begin}'")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise KitError(f"{where}: '{begin}' is never closed by '{end}'")
    return "\n".join(out)


def learner_notebook(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions removed and outputs cleared."""
    copy = nbformat.from_dict(nb)
    for i, cell in enumerate(copy.cells):
        where = f"{name} cell {i + 1}"
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source, where, markdown=True)
    return copy


def write_learner_copies(out_dir: Path, source_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Write learner versions of every top-level teaching notebook in ``source_dir`` to ``out_dir``."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        learner = learner_notebook(nb, path.name)
        target = out_dir / path.name
        atomic_write_text(target, nbformat.writes(learner))
        written.append(target)
    return written


