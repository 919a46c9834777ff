"""Every notebook runs, for several CSMs and books; learner copies run up to the first exercise.

What runs (all marked ``slow``; ``python3 tasks.py test`` runs them):

* **nbval-lax** — each notebook under ``notebooks/*.ipynb`` and ``notebooks/reports/*.ipynb`` with its own
  parameters, in a separate ``pytest --nbval-lax`` process (:func:`run_nbval`). nbval turns a notebook into
  one test item per cell; running each notebook in its own process makes the notebook — not the cell — the
  unit that pytest-xdist hands to a worker, so cells of one notebook never land on different kernels.
  The in-notebook ``assert`` statements are what make lax mode check numbers.
* **papermill** — each notebook again for ``csm_02`` and ``csm_05`` of the sample book and for the public
  RavenStack book imported once per worker session (:func:`run_papermill`). A notebook without the
  parameter a scenario needs (the team report has no ``csm_id``) skips that scenario with the reason.
* **the canary** — ``tests/fixtures/canary.ipynb`` raises; both runners must report it as a failure.
* **learner copies** — ``kpi-kit learner-copies`` output: every cell before the first solution cell runs,
  that cell raises ``NotImplementedError``, and every line of the copy is a line the original shows outside
  its solution regions (or a placeholder), so no solution text leaks (:func:`learner_copy_problems`).

Kernels start with :data:`KERNEL_STARTUP`: ``FutureWarning`` and pandas' ``Pandas4Warning`` become errors
(as in the unit tests, ``pyproject.toml``), and the optional ``rfc3987_syntax`` import is skipped the way
the report runner skips it (``kpi_kit.report.KERNEL_BOOT_LINE``; nothing the notebooks use needs it). The
nbval process skips it too (:data:`NBVAL_BOOT`). Measured on 2 cores: 15 s -> 9 s of CPU per nbval run.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kpi_kit.learner import BEGIN, END, MD_BEGIN, MD_END
from kpi_kit.report import KERNEL_BOOT_LINE
from tests.conftest import PROJECT, SHARED

NOTEBOOKS: list[Path] = sorted([*PROJECT.glob("notebooks/*.ipynb"), *PROJECT.glob("notebooks/reports/*.ipynb")])
TEACHING: list[Path] = sorted(PROJECT.glob("notebooks/*.ipynb"))
NUMBERED = re.compile(r"^\d\d_")
CANARY = PROJECT / "tests" / "fixtures" / "canary.ipynb"
RAVENSTACK_SRC = SHARED / "datasets" / "ravenstack"  # = Path(__file__).resolve().parents[2] / "shared" / ...

#: Run in every test kernel before the first cell (no names are left in the notebook's namespace).
KERNEL_STARTUP = "\n".join([
    KERNEL_BOOT_LINE,
    "__import__('warnings').filterwarnings('error', category=FutureWarning)",
    "__import__('warnings').filterwarnings('error', category=__import__('pandas.errors', fromlist=['_']).Pandas4Warning)",
])
CELL_TIMEOUT = 300  # seconds per cell
RUN_TIMEOUT = 900  # seconds per notebook run (a hung kernel fails the test instead of the whole job)

#: Papermill scenarios: parameters beyond the notebook's defaults. ``None`` values are filled in at run time.
SCENARIOS: dict[str, dict[str, Any]] = {
    "csm_02": {"csm_id": "csm_02"},
    "csm_05": {"csm_id": "csm_05"},
    "ravenstack": {"csm_id": "csm_01", "start": "2024-10", "end": "2024-12", "as_of": "2024-12-31", "data_dir": None},
    "euro_hostile": {"data_dir": None},
}
#: The parameter that makes a scenario different from the default run; without it the scenario is skipped.
SCENARIO_KEY = {"csm_02": "csm_id", "csm_05": "csm_id", "ravenstack": "data_dir", "euro_hostile": "data_dir"}
#: The euro_hostile book: the sample book in euros, csm_01 and the book named with markup (data, never markup).
HOSTILE_NAME = "<img src=x onerror=alert('csm')> O'Neil & Co"
HOSTILE_BOOK_NAME = "<img src=x onerror=alert('book')> Euro team"
#: Notebooks whose outputs show amounts of the book's money: in the euro book they must say so in euros.
SHOWS_BOOK_MONEY = {"00_start_here", "01_kpi_cascade", "04_sqls", "06_arr_retention", "07_nrr", "08_churn",
                    "10_scorecard_and_1on1", "11_forecasting", "csm_report"}


@dataclass(frozen=True)
class RunResult:
    """Outcome of one notebook run: ``ok`` and, when it failed, what went wrong (``detail``)."""

    ok: bool
    detail: str = ""


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT))
    except ValueError:
        return str(path)


def kernel_env(ipython_dir: Path) -> dict[str, str]:
    """Environment for a process that starts kernels: IPython startup file with :data:`KERNEL_STARTUP`.

    ``IPYTHONDIR`` points at a private folder whose ``profile_default/startup/00-kpi-kit-tests.py`` holds the
    startup lines (kernels inherit the environment of the process that starts them).
    """
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-kpi-kit-tests.py").write_text(KERNEL_STARTUP + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER",
                                                          "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")}
    env.update(IPYTHONDIR=str(ipython_dir), PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


#: ``python -c`` program of the nbval process: pytest without the slow optional import (see the module docstring).
NBVAL_BOOT = f"import sys; {KERNEL_BOOT_LINE}; import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def run_nbval(path: Path, ipython_dir: Path) -> RunResult:
    """Run ``pytest --nbval-lax path`` in a fresh process; ok when every cell ran without an error."""
    cmd = [sys.executable, "-c", NBVAL_BOOT, "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout",
           str(CELL_TIMEOUT), "-p", "no:xdist", "-p", "no:cacheprovider", "-q", "--no-header", "-rN", str(path)]
    try:
        proc = subprocess.run(cmd, cwd=PROJECT, env=kernel_env(ipython_dir), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return RunResult(False, f"{_rel(path)}: nbval did not finish within {RUN_TIMEOUT} s")
    if proc.returncode == 0:
        return RunResult(True)
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-60:])
    return RunResult(False, f"{_rel(path)}: nbval exit code {proc.returncode}\n{tail}")


def run_papermill(path: Path, parameters: dict[str, Any], out: Path) -> RunResult:
    """Execute ``path`` with papermill (Python API: parameters keep their types) into ``out``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(str(path), str(out), parameters=parameters, kernel_name="python3", language="python",
                            progress_bar=False, log_output=False, cwd=str(path.parent), execution_timeout=CELL_TIMEOUT)
    except PapermillExecutionError as exc:
        return RunResult(False, f"{_rel(path)} {parameters}: cell [{exc.exec_count}] raised {exc.ename}: {exc.evalue}\n"
                                f"--- cell source ---\n{exc.source}\n(executed notebook: {out})")
    except Exception as exc:  # kernel died, timeout, bad notebook: still a failure of this run
        return RunResult(False, f"{_rel(path)} {parameters}: {type(exc).__name__}: {exc}")
    return RunResult(True)


def parameters_cell(nb: nbformat.NotebookNode) -> str:
    """Source of the cell tagged ``parameters`` ("" when there is none)."""
    return next((c.source for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), "")


def declared_parameters(path: Path) -> set[str]:
    """Names assigned in the notebook's ``parameters`` cell (read with ``ast``, as Python reads them)."""
    tree = ast.parse(parameters_cell(nbformat.read(path, as_version=4)))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def split_lines(nb: nbformat.NotebookNode) -> tuple[list[str], set[str]]:
    """``(solution, outside)``: stripped lines inside solution regions, and every other line of the notebook.

    Markers are in neither; solution lines without a letter or digit (``)``, ``]``) are skipped.
    """
    solution: list[str] = []
    outside: set[str] = set()
    for cell in nb.cells:
        begin, end = (BEGIN, END) if cell.cell_type == "code" else (MD_BEGIN, MD_END)
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
            if text == begin:
                inside = True
            elif text == end:
                inside = False
            elif inside:
                if re.search(r"\w", text):
                    solution.append(text)
            else:
                outside.add(text)
    return solution, outside


def first_solution_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell with a solution region (None when the notebook has no exercise)."""
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and any(line.strip() == BEGIN for line in c.source.splitlines())), None)


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def ipython_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ipython")
    kernel_env(folder)  # writes the startup file once
    return folder


@pytest.fixture
def kernels(ipython_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Kernels started by this process (papermill) use the test startup file."""
    for key, value in kernel_env(ipython_dir).items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    return ipython_dir


@pytest.fixture(scope="session")
def ravenstack_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The RavenStack book, imported once per worker session (``../shared`` must be beside the project)."""
    if not RAVENSTACK_SRC.is_dir():
        pytest.skip(f"RavenStack dataset not found at {RAVENSTACK_SRC}: the RavenStack notebook runs need ../shared "
                    "beside the project (CI has it)")
    from kpi_kit.ravenstack import import_ravenstack

    out = tmp_path_factory.mktemp("ravenstack") / "book"
    import_ravenstack(RAVENSTACK_SRC, out)
    return out


@pytest.fixture(scope="session")
def euro_hostile_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample book declared in euros (``book.yaml`` ``currency: EUR``) with markup in two names."""
    import shutil

    out = tmp_path_factory.mktemp("euro_hostile") / "book"
    shutil.copytree(PROJECT / "data" / "sample", out)
    settings = (out / "book.yaml").read_text(encoding="utf-8")
    settings = settings.replace("name: Sample CS team", f"name: \"{HOSTILE_BOOK_NAME}\"\ncurrency: EUR")
    (out / "book.yaml").write_text(settings, encoding="utf-8")
    csms = (out / "csms.csv").read_text(encoding="utf-8")
    assert "csm_01,Maya Chen," in csms and "currency: EUR" in settings
    (out / "csms.csv").write_text(csms.replace("csm_01,Maya Chen,", f'csm_01,"{HOSTILE_NAME}",'), encoding="utf-8")
    return out


def shown_outputs(nb: nbformat.NotebookNode, mimes: tuple[str, ...]) -> list[str]:
    """Every output of ``nb`` in one of ``mimes`` (stream text counts as ``text/plain``)."""
    shown = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and "text/plain" in mimes:
                shown.append(output.get("text", ""))
            for mime in mimes:
                data = output.get("data", {}).get(mime)
                if data is not None:
                    shown.append(data if isinstance(data, str) else "".join(data))
    return shown


def euro_hostile_problems(nb: nbformat.NotebookNode, stem: str) -> list[str]:
    """What the euro_hostile run shows wrongly: markup from the data rendered as markup, money not in euros."""
    problems = [f"{mime} output renders the name {name!r} as markup"
                for mime in ("text/markdown", "text/html", "image/svg+xml")
                for text in shown_outputs(nb, (mime,))
                for name in (HOSTILE_NAME, HOSTILE_BOOK_NAME) if name.split(">")[0] + ">" in text]
    everything = "".join(shown_outputs(nb, ("text/markdown", "text/html", "text/plain", "image/svg+xml")))
    if stem in SHOWS_BOOK_MONEY and "€" not in everything:
        problems.append("no amount is shown in euros (the book's currency)")
    return problems


@pytest.fixture(scope="session")
def learner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Learner copies written by the real command (``kpi-kit learner-copies --out DIR``)."""
    from kpi_kit.cli import main

    out = tmp_path_factory.mktemp("learner")
    assert main(["learner-copies", "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------------------------
# static checks (fast)
# --------------------------------------------------------------------------------------------

def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS, "no notebooks found under notebooks/"
    assert CANARY.exists()


@pytest.mark.parametrize("path", [p for p in TEACHING if NUMBERED.match(p.name)], ids=_rel)
def test_teaching_notebook_has_checked_exercises(path: Path) -> None:
    """At least two exercises, each solution cell followed by a check cell that asserts the verdict."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    solutions = [i for i, c in enumerate(code) if any(line.strip() == BEGIN for line in c.source.splitlines())]
    assert len(solutions) >= 2, f"{path.name}: {len(solutions)} exercise(s); at least two per notebook"
    for i in solutions:
        follower = code[i + 1].source if i + 1 < len(code) else ""
        assert re.search(r"^assert q\w+\.check\(", follower, re.MULTILINE), \
            f"{path.name}: the cell after solution cell {i} must `assert qN_M.check(answer)` (nbval-lax checks it)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_papermill_sees_every_parameter(path: Path) -> None:
    """papermill parses the parameters cell line by line; a comment containing "=" (``# empty = sample``)
    hides the parameter from ``papermill --help-notebook`` and from the Python API's inspection."""
    import papermill as pm

    seen = set(pm.inspect_notebook(str(path)))
    assert seen == declared_parameters(path), (
        f"{path.name}: papermill sees {sorted(seen)} but the parameters cell assigns {sorted(declared_parameters(path))}; "
        "keep '=' out of the help comments (write '# empty: the bundled sample book')")


# --------------------------------------------------------------------------------------------
# executing notebooks (slow)
# --------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_runs_under_nbval_lax(path: Path, ipython_dir: Path) -> None:
    result = run_nbval(path, ipython_dir)
    assert result.ok, result.detail


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_runs_under_papermill(path: Path, scenario: str, kernels: Path, tmp_path: Path,
                                       request: pytest.FixtureRequest) -> None:
    declared = declared_parameters(path)
    key = SCENARIO_KEY[scenario]
    if key not in declared:
        pytest.skip(f"{path.name} has no {key!r} parameter: the {scenario} run would repeat the default one")
    params = dict(SCENARIOS[scenario])
    if scenario == "ravenstack":
        params["data_dir"] = str(request.getfixturevalue("ravenstack_book"))
    if scenario == "euro_hostile":
        params["data_dir"] = str(request.getfixturevalue("euro_hostile_book"))
    params = {k: v for k, v in params.items() if k in declared}
    out = tmp_path / f"{path.stem}-{scenario}.ipynb"
    result = run_papermill(path, params, out)
    assert result.ok, result.detail
    if scenario == "euro_hostile":
        problems = euro_hostile_problems(nbformat.read(out, as_version=4), path.stem)
        assert not problems, f"{_rel(path)} on the euro book with markup in names: {problems} (executed: {out})"


# --------------------------------------------------------------------------------------------
# the canary: the harness must catch a failing notebook
# --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_canary_fails_under_nbval(ipython_dir: Path) -> None:
    result = run_nbval(CANARY, ipython_dir)
    assert not result.ok, "nbval reported a notebook that raises as passing: the harness would miss real failures"
    assert "canary" in result.detail


@pytest.mark.slow
def test_canary_fails_under_papermill(kernels: Path, tmp_path: Path) -> None:
    result = run_papermill(CANARY, {"csm_id": "csm_02"}, tmp_path / "canary.ipynb")
    assert not result.ok, "papermill reported a notebook that raises as passing: the harness would miss real failures"
    assert "RuntimeError" in result.detail and "canary" in result.detail


# --------------------------------------------------------------------------------------------
# learner copies
# --------------------------------------------------------------------------------------------

#: Lines the learner copy puts where a solution was (kpi_kit.learner).
PLACEHOLDERS = {"# YOUR CODE HERE", "raise NotImplementedError()", "*Your answer here.*"}


def learner_copy_problems(original: nbformat.NotebookNode, copy: nbformat.NotebookNode) -> list[str]:
    """What is wrong with a learner copy (empty when nothing is).

    No line of a solution region may be in the copy — unless the notebook also shows that line outside every
    solution region (``else:``, or a line the prompt itself gives), which is no secret. Stronger: every line of
    the copy is a line of the original outside the solutions, or a placeholder. Same cells, no outputs.
    """
    solution, outside = split_lines(original)
    text = {line.strip() for cell in copy.cells for line in cell.source.splitlines()}
    problems = [f"solution line in the learner copy: {line!r}" for line in solution if line in text and line not in outside]
    problems += [f"line not in the original's non-solution text: {line!r}" for line in sorted(text - outside - PLACEHOLDERS)]
    if len(copy.cells) != len(original.cells):
        problems.append(f"{len(copy.cells)} cells instead of {len(original.cells)}")
    if any(c.get("outputs") for c in copy.cells if c.cell_type == "code"):
        problems.append("stored outputs")
    return problems


def test_learner_copy_check_catches_a_leak() -> None:
    from kpi_kit.learner import learner_notebook

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### Exercise 9.9\nCompute it."),
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nanswer = secret_formula(x)\nelse_branch = 2\n### END SOLUTION"),
        nbformat.v4.new_code_cell("else_branch = 2\nassert q9_9.check(answer)"),
    ])
    assert learner_copy_problems(nb, learner_notebook(nb, "demo")) == []
    leaky = nbformat.from_dict(nb)
    leaky.cells[1].source = "x = 1\nanswer = secret_formula(x)"  # markers gone, solution kept
    assert learner_copy_problems(nb, leaky) == ["solution line in the learner copy: 'answer = secret_formula(x)'",
                                                "line not in the original's non-solution text: 'answer = secret_formula(x)'"]


@pytest.mark.parametrize("path", TEACHING, ids=_rel)
def test_learner_copy_leaks_no_solution(path: Path, learner_dir: Path) -> None:
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(learner_dir / path.name, as_version=4)
    problems = learner_copy_problems(original, copy)
    assert not problems, f"{path.name}: " + "; ".join(problems[:5])


@pytest.mark.slow
@pytest.mark.parametrize("path", TEACHING, ids=_rel)
def test_learner_copy_runs_up_to_the_first_exercise(path: Path, learner_dir: Path, kernels: Path, tmp_path: Path) -> None:
    original = nbformat.read(path, as_version=4)
    first = first_solution_cell(original)
    if first is None:
        pytest.skip(f"{path.name} has no exercise: its learner copy is the notebook itself, which the nbval test runs")
    copy = learner_dir / path.name
    result_path = tmp_path / path.name
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(str(copy), str(result_path), kernel_name="python3", language="python",
                            progress_bar=False, log_output=False, cwd=str(path.parent), execution_timeout=CELL_TIMEOUT)
    except PapermillExecutionError as exc:
        learner_cell = nbformat.read(copy, as_version=4).cells[first]
        assert exc.source.strip() == learner_cell.source.strip(), (
            f"{path.name}: the learner copy failed before the first exercise, in\n{exc.source}\n"
            f"with {exc.ename}: {exc.evalue}")
        assert exc.ename == "NotImplementedError", f"{path.name}: first exercise raised {exc.ename}: {exc.evalue}"
    else:
        pytest.fail(f"{path.name}: the learner copy ran to the end, but its first exercise should raise NotImplementedError")
