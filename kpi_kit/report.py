"""Weekly CSM reports: the report template executed once per CSM, exported to offline HTML.

``kpi-kit report`` (and :func:`run_reports`) runs ``notebooks/reports/csm_report.ipynb`` through
papermill's Python API once per CSM, in a pool of worker processes, and writes into
``OUT/<start>_<end>/``:

``<csm_id>.ipynb``
    the executed notebook (papermill records the parameters in ``metadata.papermill.parameters``);
``<csm_id>.html``
    the report with code hidden; charts are static SVG, nothing is loaded from the network;
``<csm_id>.failed.ipynb``
    instead of the two above when the report failed (the error is in the notebook and the summary);
``index.html`` and ``team_scorecard.csv``
    the team table (headline KPIs from :func:`kpi_kit.metrics.team_metrics`) linking every report.

A CSM id that is not a plain file name (``a/b``, ``..``) gets a safe file stem (:func:`report_stem`).

Design choices (measured; see ``docs/reports.md``):

* Every file is written atomically (temp file in the same folder, then ``os.replace``): an
  interrupted run never leaves a half-written report under a final name.
* Workers start with the ``forkserver`` method (``spawn`` where it does not exist): forking the
  parent, which runs tqdm's monitor thread and pandas, is not safe; worker processes are reused, and
  each imports papermill and nbconvert once.
* Workers and report kernels do not import ``rfc3987_syntax`` (1.5–2.5 s per process: it builds an
  Earley parser at import). jsonschema treats the package as optional and only uses it to check the
  ``iri`` / ``iri-reference`` formats, which neither nbformat nor Vega-Lite's schema use.
* The kernels' stderr is captured per report; the known-harmless lines (:data:`HARMLESS_NOISE`) are
  dropped and anything else is shown after the report finishes.
* Each worker keeps one kernel and resets it between reports (:mod:`kpi_kit.warmkernel`; ``--fresh-kernels``
  opts out), the kernels get the parent's validated book (:mod:`kpi_kit.bookcache`) and leave their charts
  to the worker, whose vl-convert engine is already running (:mod:`kpi_kit.svg`). Together these cut the
  CPU time of a run on the sample book by more than half (``benchmarks/README.md``, "Reports").
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kpi_kit import bookcache
from kpi_kit.errors import KitError
from kpi_kit.svg import DEFER_ENV, render_deferred

if TYPE_CHECKING:
    import pandas as pd
    from nbformat import NotebookNode

    from kpi_kit.data import Book
    from kpi_kit.periods import Period

#: The report template (kept in the repository, next to the other notebooks).
TEMPLATE = Path(__file__).resolve().parent.parent / "notebooks" / "reports" / "csm_report.ipynb"
#: The manager's team report (every CSM side by side), rendered once per run next to the CSM reports.
TEAM_TEMPLATE = TEMPLATE.with_name("team_report.ipynb")
#: Templates shipped with the package (the index page and the nbconvert "kpi_report" template).
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
KERNEL_NAME = "python3"
#: Default per-cell time limit (seconds) for report notebooks.
CELL_TIMEOUT = 600

#: Module the workers and report kernels never import (see the module docstring and docs/reports.md).
SLOW_OPTIONAL_MODULE = "rfc3987_syntax"
#: Run by each report kernel before the first cell: ``sys.modules[name] = None`` makes
#: ``import rfc3987_syntax`` raise ImportError, which jsonschema catches (the package is optional).
#: It leaves no name in the notebook's namespace.
KERNEL_BOOT_LINE = f"__import__('sys').modules.setdefault({SLOW_OPTIONAL_MODULE!r}, None)"
KERNEL_ARGS: tuple[str, ...] = (f'--IPKernelApp.exec_lines=["{KERNEL_BOOT_LINE}"]',)

#: stderr lines that are harmless and only scare users (see shared/stack-facts.md).
HARMLESS_NOISE: tuple[re.Pattern[str], ...] = (
    # every kernel on localhost TCP says this (ipykernel.kernelapp)
    re.compile(r"Kernel is running over TCP without encryption"),
    # jupyter_client interrupts a kernel before shutting it down (ipykernel.kernelbase)
    re.compile(r"KeyboardInterrupt caught in kernel"),
    # debugpy's notice when Python runs with frozen modules (only if the debugger initialises)
    re.compile(r"^\d+\.\d+s - (Debugger warning: It seems that frozen modules|make the debugger miss|"
               r"to python to disable frozen|Note: Debugging will proceed)"),
)

#: Headline KPIs in the index (key, label, formatter name in kpi_kit.fmt).
INDEX_KPIS: tuple[tuple[str, str, str], ...] = (
    ("grr_pct", "GRR", "pct"),
    ("nrr_pct", "NRR", "pct"),
    ("coverage_pct", "coverage", "pct"),
    ("calls", "calls", "count"),
    ("sqls", "SQLs", "count"),
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# small helpers (pure)
# --------------------------------------------------------------------------------------------


def is_harmless_noise(line: str) -> bool:
    """True for a stderr line the user need not see (see :data:`HARMLESS_NOISE`).

    >>> is_harmless_noise("[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All ...")
    True
    >>> is_harmless_noise("Traceback (most recent call last):")
    False
    """
    return any(p.search(line) for p in HARMLESS_NOISE)


def filter_noise(text: str) -> str:
    """``text`` without harmless lines (and without the traceback-free blank lines they leave)."""
    kept = [line for line in text.splitlines() if line.strip() and not is_harmless_noise(line)]
    return "\n".join(kept)


class HarmlessNoiseFilter(logging.Filter):
    """A :class:`logging.Filter` dropping records whose message is harmless noise."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        return not is_harmless_noise(message)


_STEM_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: File stems the run itself uses (index.html, team_report.html, team_scorecard.csv).
_RESERVED_STEMS = frozenset({"index", "team_report", "team_scorecard"})


def report_stem(csm_id: str) -> str:
    """File stem for a CSM's report: the id itself when it is a plain file name, else a safe slug.

    A slug keeps letters, digits, ``.``, ``_`` and ``-`` and adds 8 hex digits of the id's SHA-1,
    so two different ids never share a file and no id can escape the output folder.

    >>> report_stem("csm_01"), report_stem("0042")
    ('csm_01', '0042')
    >>> report_stem("../etc/passwd")
    'etc_passwd-e96c47ea'
    """
    if (_STEM_OK.fullmatch(csm_id) and not csm_id.endswith((".ipynb", ".html"))
            and csm_id.lower() not in _RESERVED_STEMS):
        return csm_id
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", csm_id).strip("._-")[:60] or "csm"
    return f"{slug}-{hashlib.sha1(csm_id.encode('utf-8')).hexdigest()[:8]}"


# Resource-loading references: anything here makes the browser fetch from the network.
_EXTERNAL = "(?:https?:)?//"
_EXTERNAL_PATTERNS: tuple[re.Pattern[str], ...] = (
    # <script src>, <img src>, <link href>, <iframe src>, <source srcset>, <object data>, <video poster> ...
    re.compile(r"<(?!a\b)[a-z][a-z0-9-]*\b[^>]*?\b(?:src|href|srcset|data|poster|xlink:href)\s*=\s*[\"']?\s*"
               + _EXTERNAL + r"[^\"'\s>]*", re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?\s*" + _EXTERNAL + r"[^)\"']*", re.IGNORECASE),  # CSS url(...)
    re.compile(r"@import\s+[\"']\s*" + _EXTERNAL + r"[^\"']*", re.IGNORECASE),  # CSS @import "..."
    re.compile(r"\bimport\s*\(\s*[\"']" + _EXTERNAL + r"[^\"']*", re.IGNORECASE),  # JS dynamic import
    re.compile(r"\bimport\s+[^;\n]*?\bfrom\s*[\"']" + _EXTERNAL + r"[^\"']*", re.IGNORECASE),  # JS module import
)


def external_resources(html: str) -> list[str]:
    """Every reference in ``html`` that would make a browser load something over the network.

    Scripts, stylesheets, fonts (CSS ``url()`` / ``@import``), images, frames and JS imports with an
    ``http(s)://`` or protocol-relative ``//`` address. Plain hyperlinks (``<a href>``) are not
    resources and are allowed; ``data:`` URIs and relative paths are local.

    >>> external_resources('<script src="https://cdn.example/x.js"></script><a href="https://ok">doc</a>')
    ['<script src="https://cdn.example/x.js']
    >>> external_resources('<img src="data:image/svg+xml;base64,AAA="><link href="style.css">')
    []
    """
    found: list[str] = []
    for pattern in _EXTERNAL_PATTERNS:
        found.extend(m.group(0) for m in pattern.finditer(html))
    return found


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportJob:
    """Everything a worker needs to produce one CSM's report (plain values: it is pickled)."""

    csm_id: str
    csm_name: str
    stem: str
    start: str
    end: str
    data_dir: str  # "" = the bundled sample book
    as_of: str  # "" = last day of end
    template: str
    out_dir: str
    cell_timeout: int | None = CELL_TIMEOUT
    team: bool = False  # the team report: no csm_id parameter
    book_cache: str = ""  # the runner's validated book (kpi_kit.bookcache), "" = kernels read the CSVs
    reuse_kernel: bool = False  # run in the worker's kernel, reset (kpi_kit.warmkernel); False = a new kernel

    @property
    def parameters(self) -> dict[str, str]:
        """The template's parameters, as real Python strings (``"0042"`` stays ``"0042"``)."""
        params = {"csm_id": self.csm_id, "start": self.start, "end": self.end,
                  "data_dir": self.data_dir, "as_of": self.as_of}
        if self.team:
            del params["csm_id"]
        return params


@dataclass(frozen=True)
class ReportResult:
    """Outcome of one CSM's report.

    ``notebook`` is the executed notebook — ``<stem>.failed.ipynb`` when the report failed during
    execution, ``None`` when it never ran (e.g. unknown CSM). ``stderr`` is what the kernel and worker
    wrote to stderr, minus :data:`HARMLESS_NOISE`.
    """

    csm_id: str
    csm_name: str
    ok: bool
    notebook: Path | None
    html: Path | None
    error: str | None = None
    seconds: float = 0.0
    stderr: str = ""


@dataclass(frozen=True)
class ReportRun:
    """A whole ``kpi-kit report`` run: one :class:`ReportResult` per requested CSM, in request order."""

    period: Period
    out_dir: Path
    results: tuple[ReportResult, ...]
    index: Path
    scorecard_csv: Path
    workers: int
    seconds: float
    warnings: tuple[str, ...] = ()
    team: pd.DataFrame | None = field(default=None, repr=False)
    team_report: ReportResult | None = None

    @property
    def failed(self) -> tuple[ReportResult, ...]:
        """Failed CSM reports, and the team report when it failed."""
        extra = (self.team_report,) if self.team_report is not None and not self.team_report.ok else ()
        return tuple(r for r in self.results if not r.ok) + extra


    @property
    def ok(self) -> bool:
        return not self.failed and not self.warnings

    @property
    def exit_code(self) -> int:
        """0 when every report was written and the index has its KPIs, else 1."""
        return 0 if self.ok else 1

    @property
    def table(self) -> pd.DataFrame:
        """One row per CSM: id, name, ok, html, notebook, error, seconds."""
        import pandas as pd

        return pd.DataFrame(
            [{"csm_id": r.csm_id, "csm_name": r.csm_name, "ok": r.ok,
              "html": "" if r.html is None else str(r.html),
              "notebook": "" if r.notebook is None else str(r.notebook),
              "error": r.error or "", "seconds": round(r.seconds, 1)} for r in self.results]
        )

    def summary(self) -> str:
        """Plain-text summary for the terminal: where the reports are, which failed and why."""
        extra = " + the team report" if self.team_report is not None else ""
        lines = [f"CSM reports {self.period} -> {_show(self.out_dir)}  "
                 f"({len(self.results)} CSM report(s){extra}, {self.workers} worker(s), {self.seconds:.1f} s)"]
        width = max((len(r.csm_id) for r in self.results), default=0)
        for r in self.results:
            if r.ok:
                lines.append(f"  ok      {r.csm_id:<{width}}  {_show(r.html) if r.html else ''}")
            else:
                where = f" (notebook: {_show(r.notebook)})" if r.notebook else ""
                error = (r.error or "").replace("\n", "\n" + " " * (width + 12))
                lines.append(f"  FAILED  {r.csm_id:<{width}}  {error}{where}")
        team = self.team_report
        if team is not None and team.ok:
            lines.append(f"team:     {_show(team.html) if team.html else ''}")
        elif team is not None:
            where = f" (notebook: {_show(team.notebook)})" if team.notebook else ""
            lines.append(f"  FAILED  team report  {team.error or ''}{where}")
        lines.append(f"index:    {_show(self.index)}")
        lines.append(f"team CSV: {_show(self.scorecard_csv)}")
        for warning in self.warnings:
            lines.append(f"warning:  {warning}")
        if self.failed:
            names = ", ".join("team report" if r is team else r.csm_id for r in self.failed)
            total = len(self.results) + (team is not None)
            lines.append(f"{len(self.failed)} of {total} report(s) failed: {names}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from kpi_kit import fmt

        rows = "".join(
            f"<tr><td>{fmt.text(r.csm_id)}</td><td>{fmt.text(r.csm_name)}</td>"
            f"<td>{'ok' if r.ok else 'FAILED'}</td><td>{fmt.text(r.html or r.notebook or '')}</td>"
            f"<td>{fmt.text(r.error or '')}</td></tr>" for r in self.results)
        return (f"<table><caption>CSM reports {fmt.text(self.period)} in {fmt.text(self.out_dir)}</caption>"
                "<thead><tr><th>csm_id</th><th>name</th><th>status</th><th>file</th><th>error</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def _show(path: Path | None) -> str:
    """A path relative to the working directory when it is below it (shorter in the terminal)."""
    if path is None:
        return ""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# HTML export (runs in the workers)
# --------------------------------------------------------------------------------------------


#: Cell tags honoured by the HTML export (the Jupyter Book convention).
REMOVE_TAGS = {"remove_cell_tags": {"remove-cell"}, "remove_input_tags": {"remove-input"},
               "remove_all_outputs_tags": {"remove-output"}}


@cache
def _exporter() -> Any:
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    for trait, tags in REMOVE_TAGS.items():
        setattr(config.TagRemovePreprocessor, trait, set(tags))
    return HTMLExporter(
        config=config,
        template_name="kpi_report",
        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url="",
        require_js_url="",
    )


_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def render_html(nb: NotebookNode, title: str) -> str:
    """Export an executed notebook to a self-contained HTML report: code hidden, nothing fetched.

    Uses the ``kpi_report`` nbconvert template (JupyterLab's look without require.js, MathJax, the
    widget manager or mermaid from a CDN). Cells tagged ``remove-cell`` are left out, ``remove-input``
    / ``remove-output`` drop that part (code is hidden anyway). Saved widget state is dropped (live
    widgets cannot run in a static page; their text fallback is shown). ``nb`` is not modified.
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and _WIDGET_VIEW in data and len(data) > 1:
                del data[_WIDGET_VIEW]
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return str(body)


# --------------------------------------------------------------------------------------------
# worker side
# --------------------------------------------------------------------------------------------


def skip_slow_imports() -> bool:
    """Whether workers and report kernels skip :data:`SLOW_OPTIONAL_MODULE` (default yes).

    Set the environment variable ``KPI_KIT_ALLOW_SLOW_IMPORTS=1`` to import it anyway (to measure the
    difference, or if a report template needs jsonschema's ``iri`` format check).
    """
    return os.environ.get("KPI_KIT_ALLOW_SLOW_IMPORTS", "") not in ("1", "true", "yes")


def kernel_args() -> list[str]:
    """Extra command-line arguments for each report kernel (see :data:`KERNEL_ARGS`)."""
    return list(KERNEL_ARGS) if skip_slow_imports() else []


def _init_worker() -> None:
    """Once per worker process: skip the slow optional import, pre-import papermill and nbconvert.

    Also sets :data:`kpi_kit.svg.DEFER_ENV` for the kernels this worker starts: their charts come back as
    Vega-Lite specs and the worker renders them (its vl-convert engine starts once, not once per report).
    """
    if skip_slow_imports():
        sys.modules.setdefault(SLOW_OPTIONAL_MODULE, None)  # type: ignore[assignment]
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ[DEFER_ENV] = "1"  # the kernels (children of this worker) leave charts to render_deferred
    noise = HarmlessNoiseFilter()
    for name in ("", "papermill", "traitlets", "nbclient", "jupyter_client"):
        logging.getLogger(name).addFilter(noise)
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401


@contextmanager
def _stderr_captured() -> Iterator[list[str]]:
    """Redirect file descriptor 2 (this process and the kernels it starts) to a temp file.

    Yields a list that receives the captured text when the block exits.
    """
    out: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield out
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            out.append(capture.read().decode("utf-8", errors="replace"))


def _temp_beside(path: Path) -> Path:
    """An empty hidden temp file next to ``path`` with the same suffix (papermill wants ``.ipynb``)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    from kpi_kit.fileio import umask_mode

    umask_mode(Path(name))  # the report becomes an ordinary readable file, not a private temp file
    return Path(name)


def execute_report(job: ReportJob) -> ReportResult:
    """Execute the template for one CSM and write its notebook and HTML (the worker's task).

    Never raises for a report problem: the error is returned in the :class:`ReportResult`.
    """
    t0 = time.perf_counter()
    out = Path(job.out_dir)
    final_nb, final_html = out / f"{job.stem}.ipynb", out / f"{job.stem}.html"
    failed_nb = out / f"{job.stem}.failed.ipynb"
    tmp_nb = _temp_beside(final_nb)
    error: str | None = None
    notebook: Path | None = None
    html_path: Path | None = None
    if job.book_cache:  # the kernel started below inherits this (see kpi_kit.bookcache)
        os.environ[bookcache.ENV] = job.book_cache
    else:
        os.environ.pop(bookcache.ENV, None)
    with _stderr_captured() as captured:
        try:
            import papermill as pm
            from papermill.exceptions import PapermillExecutionError

            cwd = str(Path(job.template).parent)
            engine: dict[str, str] = {}
            try:
                if job.reuse_kernel:  # this worker's kernel, reset (see kpi_kit.warmkernel)
                    from kpi_kit import warmkernel

                    warmkernel.register_engine()
                    warmkernel.KERNEL.acquire(warmkernel.template_key(job.book_cache, job.template, kernel_args()),
                                              cwd, kernel_args())
                    engine = {"engine_name": warmkernel.ENGINE_NAME}
                nb = pm.execute_notebook(
                    job.template, str(tmp_nb), parameters=job.parameters, kernel_name=KERNEL_NAME,
                    language="python", progress_bar=False, log_output=False,
                    request_save_on_cell_execute=False, cwd=cwd,
                    execution_timeout=job.cell_timeout, extra_arguments=kernel_args(), **engine,
                )
                render_deferred(nb)  # charts the kernel left as specs (see kpi_kit.svg)
                for cell in nb.cells:  # papermill gives its injected cell a random id: same run, same bytes
                    if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                        cell["id"] = "injected-parameters"
                import nbformat

                nbformat.write(nb, str(tmp_nb))
                title = (f"Team report — {job.start}..{job.end}" if job.team
                         else f"{job.csm_name} ({job.csm_id}) — {job.start}..{job.end}")
                html = render_html(nb, title=title)
                bad = external_resources(html)
                if bad:
                    raise KitError(f"the HTML would load {len(bad)} thing(s) from the network, e.g. {bad[0]!r}; "
                                   "reports must render offline (charts as SVG, no remote images)")
                from kpi_kit.fileio import atomic_write_text

                os.replace(tmp_nb, final_nb)
                atomic_write_text(final_html, html)
                notebook, html_path = final_nb, final_html
                failed_nb.unlink(missing_ok=True)
            except PapermillExecutionError as exc:  # the kernel is fine: a reused one is reset before the next report
                error = f"cell [{exc.exec_count}] raised {exc.ename}: {exc.evalue}"
            except Exception as exc:  # kernel died, timeout, export failed: the report fails, the run goes on
                error = f"{type(exc).__name__}: {exc}"
                if engine:  # a kernel in an unknown state is not reused
                    from kpi_kit import warmkernel

                    warmkernel.KERNEL.discard()
            if error is not None:
                for stale in (final_nb, final_html):
                    stale.unlink(missing_ok=True)
                if tmp_nb.exists() and tmp_nb.stat().st_size > 0:
                    os.replace(tmp_nb, failed_nb)
                    notebook = failed_nb
        finally:
            tmp_nb.unlink(missing_ok=True)
    stderr = captured[0] if captured else ""
    if job.reuse_kernel:
        from kpi_kit import warmkernel

        stderr += warmkernel.KERNEL.new_stderr()  # a reused kernel writes to its own file
    return ReportResult(
        csm_id=job.csm_id, csm_name=job.csm_name, ok=error is None, notebook=notebook, html=html_path,
        error=error, seconds=time.perf_counter() - t0, stderr=filter_noise(stderr),
    )


# --------------------------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------------------------


def pool_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where the platform has it (Linux, macOS), else ``spawn`` (Windows)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _check_as_of(as_of: str | None) -> str:
    if not as_of:
        return ""
    import pandas as pd

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of.strip()):
            raise ValueError
        return str(pd.Timestamp(as_of.strip()).date())
    except ValueError:
        raise KitError(f"--as-of {as_of!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-09-30") from None


def _unknown_csm(book: Book, csm_id: str) -> str:
    ids = book.csm_ids()
    return (f"unknown CSM {csm_id!r}: not in {book.path / 'csms.csv'}; valid ids: {', '.join(ids)}")


def run_reports(
    data_dir: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
    csm_ids: Sequence[str] | None = None,
    out_dir: str | Path = "reports",
    workers: int | None = None,
    as_of: str | None = None,
    template: str | Path | None = None,
    progress: bool | None = None,
    cell_timeout: int | None = CELL_TIMEOUT,
    team_report: bool = True,
    reuse_kernels: bool = True,
) -> ReportRun:
    """Run the CSM report template once per CSM; write notebooks, HTML, ``index.html`` and a team CSV.

    Parameters
    ----------
    data_dir
        Book folder (``None`` or ``""``: the bundled sample book).
    start, end
        Period: months ``YYYY-MM`` or the book's fiscal quarters / years (``FY2026Q1``, ``FY2026``; a start
        alone is that whole quarter or year), see :func:`kpi_kit.periods.resolve_period`; neither = the
        latest full fiscal quarter in the book.
    csm_ids
        CSMs to report on (default: every CSM in ``csms.csv``). An unknown id fails that report with
        a message listing the valid ids; the others still run.
    out_dir
        Output root (default ``reports`` under the working directory); files go to
        ``out_dir/<start>_<end>/``.
    workers
        Worker processes (default: CPU count, never more than the number of reports).
    as_of
        ``YYYY-MM-DD`` for the as-of KPIs (renewals in the next 90 days); default: the last day of END.
    template
        Report notebook with a ``parameters`` cell taking ``csm_id, start, end, data_dir, as_of``
        (default :data:`TEMPLATE`).
    progress
        Show a tqdm progress bar on stderr (default: only when stderr is a terminal).
    cell_timeout
        Seconds a single cell may run before its report fails (``None``: no limit).
    team_report
        Also render the manager's team report (:data:`TEAM_TEMPLATE`, every CSM side by side) as
        ``team_report.html`` / ``.ipynb``, linked from the index. A failed team report makes the exit code 1.
    reuse_kernels
        Each worker keeps one kernel and resets it between reports (:mod:`kpi_kit.warmkernel`: empty
        namespace, execution count 1; ~1.7 s of CPU saved per report). ``False`` starts a new kernel for
        every report (``kpi-kit report --fresh-kernels``).

    Returns
    -------
    ReportRun
        Per-CSM results (``.failed``, ``.summary()``, ``.exit_code``), the paths of the index and CSV.

    Raises
    ------
    kpi_kit.errors.KitError
        The book is invalid or missing, the period or ``as_of`` is malformed, the template is missing.
        (A failing *report* never raises: it is recorded in the result.)

    Examples
    --------
    >>> run = run_reports(csm_ids=["csm_01"], out_dir="reports")   # doctest: +SKIP
    >>> run.exit_code, run.results[0].html.name                    # doctest: +SKIP
    (0, 'csm_01.html')
    """
    t0 = time.perf_counter()
    if workers is not None and workers < 1:
        raise KitError(f"--workers must be 1 or more, got {workers}")
    as_of_text = _check_as_of(as_of)
    template_path = Path(template).expanduser().resolve() if template else TEMPLATE
    if not template_path.is_file():
        raise KitError(f"no report template at {template_path}: give --template NOTEBOOK or restore "
                       "notebooks/reports/csm_report.ipynb")
    requested_ids = list(dict.fromkeys(str(c) for c in csm_ids)) if csm_ids else None
    planned = workers or os.cpu_count() or 1
    if requested_ids is not None:
        planned = min(planned, len(requested_ids) + team_report)
    cache_dir = tempfile.mkdtemp(prefix="kpi-kit-book-")  # private (0700), removed below
    pool = ProcessPoolExecutor(max_workers=max(1, planned), mp_context=pool_context(), initializer=_init_worker)
    try:
        # start the workers now: they import papermill and nbconvert while this process reads the book
        for _ in range(max(1, planned)):
            pool.submit(_worker_ready)
        run = _run_in_pool(pool, Path(cache_dir), data_dir, (start, end), requested_ids, out_dir, as_of_text,
                           template_path, progress, cell_timeout, team_report, planned, reuse_kernels)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return dataclasses.replace(run, seconds=time.perf_counter() - t0)


def _worker_ready() -> None:
    """A no-op task: submitting it makes the pool start a worker (whose initializer does the work)."""


def _run_in_pool(pool: ProcessPoolExecutor, cache_dir: Path, data_dir: str | Path | None,
                 start_end: tuple[str | None, str | None],
                 requested_ids: list[str] | None, out_dir: str | Path, as_of_text: str, template_path: Path,
                 progress: bool | None, cell_timeout: int | None, team_report: bool, planned: int,
                 reuse_kernels: bool) -> ReportRun:
    """The body of :func:`run_reports` once the worker pool exists (see there)."""
    from kpi_kit.data import load_book
    from kpi_kit.periods import resolve_period

    book = load_book(data_dir)
    # months or the book's fiscal quarters / years (FY2026Q1); neither: the latest full fiscal quarter
    period = resolve_period(book, *start_end)
    requested = requested_ids if requested_ids is not None else book.csm_ids()
    if not requested:
        raise KitError(f"{book.path / 'csms.csv'} lists no CSM: nothing to report on")
    period_dir = Path(out_dir).expanduser().resolve() / period.label
    period_dir.mkdir(parents=True, exist_ok=True)
    # the kernels' load_book gets this validated copy instead of re-reading the CSVs (kpi_kit.bookcache)
    cache = str(bookcache.save(book, cache_dir))

    known = set(book.csm_ids())
    data_param = "" if data_dir is None or str(data_dir).strip() in ("", "sample") else str(book.path)
    results: dict[str, ReportResult] = {}
    jobs: list[ReportJob] = []
    for csm_id in requested:
        if csm_id not in known:
            results[csm_id] = ReportResult(csm_id=csm_id, csm_name=csm_id, ok=False, notebook=None, html=None,
                                           error=_unknown_csm(book, csm_id))
            continue
        jobs.append(ReportJob(
            csm_id=csm_id, csm_name=book.csm_name(csm_id), stem=report_stem(csm_id), start=str(period.start),
            end=str(period.end), data_dir=data_param, as_of=as_of_text, template=str(template_path),
            out_dir=str(period_dir), cell_timeout=cell_timeout, book_cache=cache, reuse_kernel=reuse_kernels,
        ))

    team_job = None
    if team_report and jobs and TEAM_TEMPLATE.is_file():
        team_job = ReportJob(csm_id="team", csm_name="Team", stem="team_report", start=str(period.start),
                             end=str(period.end), data_dir=data_param, as_of=as_of_text, template=str(TEAM_TEMPLATE),
                             out_dir=str(period_dir), cell_timeout=cell_timeout, team=True, book_cache=cache,
                             reuse_kernel=reuse_kernels)
        jobs.insert(0, team_job)  # the longest job first
    team_result: ReportResult | None = None
    warnings: list[str] = []
    from tqdm.auto import tqdm

    with tqdm(total=len(requested) + (team_job is not None), desc=f"reports {period}", unit="report", file=sys.stderr,
              disable=None if progress is None else not progress, leave=False) as bar:
        bar.update(len(results))  # unknown ids: already decided
        futures: dict[Future[ReportResult], ReportJob] = {pool.submit(execute_report, j): j for j in jobs}
        # the parent's own work overlaps the workers' and kernels' start-up
        team, team_warning = _team_table(book, period, as_of_text or None)
        if team_warning:
            warnings.append(team_warning)
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker process itself died
                result = ReportResult(csm_id=job.csm_id, csm_name=job.csm_name, ok=False, notebook=None,
                                      html=None, error=f"worker crashed: {type(exc).__name__}: {exc}")
            if job.team:
                team_result = result
            else:
                results[job.csm_id] = result
            if result.stderr:
                bar.write(f"[{job.csm_id}] " + result.stderr.replace("\n", f"\n[{job.csm_id}] "), file=sys.stderr)
            bar.update(1)

    ordered = tuple(results[c] for c in requested)
    index_path, csv_path = period_dir / "index.html", period_dir / "team_scorecard.csv"
    team_href = team_result.html.name if team_result is not None and team_result.ok and team_result.html else ""
    others = other_reports(book, requested, period_dir) if requested_ids is not None else []
    index_html, csv_frame = build_index(book, period, ordered, team, as_of_text, period_dir, team_href=team_href,
                                        others=others)
    from kpi_kit.fmt import atomic_write_text, write_safe_csv

    write_safe_csv(csv_frame, csv_path)
    atomic_write_text(index_path, index_html)
    return ReportRun(period=period, out_dir=period_dir, results=ordered, index=index_path, scorecard_csv=csv_path,
                     workers=min(planned, len(jobs)), seconds=0.0,
                     warnings=tuple(warnings), team=team, team_report=team_result)


def _team_table(book: Book, period: Period, as_of: str | None) -> tuple[pd.DataFrame | None, str | None]:
    """Team KPIs (one row per CSM, plus ``status``) — or a warning if they cannot be computed."""
    try:
        from kpi_kit.metrics import team_metrics

        team = team_metrics(book, period, as_of=as_of)
    except Exception as exc:  # the index is still written, without KPIs; the run exits non-zero
        return None, f"team KPIs could not be computed for the index ({type(exc).__name__}: {exc})"
    try:
        statuses = scorecard_statuses(book, period, team)
    except Exception as exc:
        return team, f"scorecard status could not be computed for the index ({type(exc).__name__}: {exc})"
    return team.assign(status=team["csm_id"].astype(str).map(statuses)), None


def scorecard_statuses(book: Book, period: Period, team: pd.DataFrame) -> dict[str, str]:
    """Per CSM, how many scorecard KPIs are on track, at risk and behind (``"6 on track, 2 behind"``).

    Same targets, attainment and status as :func:`kpi_kit.scorecard.scorecard`, computed from the
    rows of :func:`kpi_kit.metrics.team_metrics` instead of one ``csm_metrics`` call per CSM
    (2.1 s → 0.5 s of CPU for the 7-CSM sample book). A test checks both agree.
    """
    from kpi_kit.metrics import to_python
    from kpi_kit.scorecard import KPIS, attainment, status, targets_for

    out: dict[str, str] = {}
    for row in team.to_dict("records"):
        csm_id = str(row["csm_id"])
        targets = targets_for(book, csm_id, period)
        counts = {"on track": 0, "at risk": 0, "behind": 0, "no data": 0}
        for kpi, _label, _kind, _unit, higher in KPIS:
            counts[status(attainment(to_python(row.get(kpi)), targets.get(kpi), higher))] += 1
        out[csm_id] = ", ".join(f"{counts[s]} {s}" for s in ("on track", "at risk", "behind") if counts[s])
    return out


def other_reports(book: Book, requested: Sequence[str], period_dir: Path) -> list[ReportResult]:
    """The book's CSMs a run did not cover (``--csm`` named others), as the index shows them.

    A CSM whose report from an earlier run of the same period is in ``period_dir`` is linked (``ok``,
    ``error`` is ``None``); one without a report gets ``ok=False`` and ``html=None`` and the index says
    how to make it. So a ``--csm`` run refreshes its CSMs without dropping the others from the index.
    """
    done = set(requested)
    out = []
    for csm_id in book.csm_ids():
        if csm_id in done:
            continue
        html = period_dir / f"{report_stem(csm_id)}.html"
        notebook = html.with_suffix(".ipynb")
        out.append(ReportResult(csm_id=csm_id, csm_name=book.csm_name(csm_id), ok=html.is_file(),
                                notebook=notebook if notebook.is_file() else None,
                                html=html if html.is_file() else None))
    return out


def build_index(book: Book, period: Period, results: Sequence[ReportResult], team: pd.DataFrame | None,
                as_of: str, period_dir: Path, team_href: str = "",
                others: Sequence[ReportResult] = ()) -> tuple[str, pd.DataFrame]:
    """The ``index.html`` text (all data HTML-escaped by jinja2) and the team CSV frame.

    ``results`` are this run's reports; ``others`` the book's other CSMs (:func:`other_reports`), listed
    after them as "from an earlier run" (linked) or "not run".
    """
    import jinja2
    import pandas as pd

    from kpi_kit import fmt

    by_id = {} if team is None else {str(r["csm_id"]): r for r in team.to_dict("records")}
    rows: list[dict[str, Any]] = []
    csv_rows: list[dict[str, Any]] = []
    for r, this_run in [*((r, True) for r in results), *((r, False) for r in others)]:
        metrics = by_id.get(r.csm_id, {})
        kpis = [getattr(fmt, kind)(metrics.get(key)) if metrics else "" for key, _, kind in INDEX_KPIS]
        if this_run:
            state = "ok" if r.ok else "failed"
        else:
            state = "earlier run" if r.ok else "not run"
        rows.append({
            "csm_id": r.csm_id, "csm_name": r.csm_name, "ok": r.ok, "state": state,
            "href": quote(r.html.name) if r.html else "", "error": r.error or "",
            "failed_notebook": r.notebook.name if (r.notebook and not r.ok) else "",
            "kpis": kpis, "status": metrics.get("status") or "",
        })
        csv_row: dict[str, Any] = {
            "csm_id": r.csm_id, "csm_name": r.csm_name, "report": r.html.name if r.html else "",
            "report_status": state, "error": r.error or "",
            "scorecard_status": metrics.get("status") or "",
        }
        csv_row.update({k: fmt_none(metrics.get(k)) for k in _csv_metric_keys(team)})
        csv_rows.append(csv_row)

    team_cells: list[str] = []
    if team is not None and len(team):
        from kpi_kit.metrics import PART_KEYS, rollup

        parts = team.set_index("csm_id")[[c for c in PART_KEYS if c in team.columns]]
        total = rollup(parts, period).iloc[0].to_dict()
        team_cells = [getattr(fmt, kind)(total.get(key)) for key, _, kind in INDEX_KPIS]

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    n_failed = sum(not r.ok for r in results)
    n_earlier = sum(r.ok for r in others)
    notes = []
    if team is None:
        notes.append("Team KPIs could not be computed for this book; see the run's summary.")
    html = env.get_template("report_index.html.j2").render(
        period=str(period), book=book.name, as_of=as_of or str(period.end_date.date()),
        n_ok=len(results) - n_failed, n_failed=n_failed, n_total=len(results), n_earlier=n_earlier,
        kpi_columns=[{"label": label} for _, label, _ in INDEX_KPIS] if team is not None else [],
        rows=[{**row, "kpis": row["kpis"] if team is not None else []} for row in rows],
        team=team_cells, notes=notes, team_href=quote(team_href) if team_href else "",
    )
    # object columns built value by value: counts stay 3 (not 3.0, even next to a row without KPIs, which
    # pd.DataFrame(rows, dtype=object) would first infer as float) and missing values are empty cells
    columns = list(dict.fromkeys(key for row in csv_rows for key in row))
    return html, pd.DataFrame({c: pd.Series([row.get(c) for row in csv_rows], dtype=object) for c in columns})


#: Churn columns of the team CSV: the whole-period rate, then its monthly equivalent
#: (``1 − (1 − period rate)^(1 / months)``, what every report and the scorecard show as "Logo churn
#: (monthly equivalent)"), side by side so a spreadsheet reader sees which is which (docs/reports.md).
CSV_MONTHLY_NEXT_TO: dict[str, str] = {"logo_churn_pct": "logo_churn_monthly_pct",
                                       "revenue_churn_pct": "revenue_churn_monthly_pct"}


def _csv_metric_keys(team: pd.DataFrame | None) -> list[str]:
    """The KPI columns of the team CSV: every contract KPI of ``kpi-kit metrics`` in its order, each churn
    rate followed by its monthly equivalent (:data:`CSV_MONTHLY_NEXT_TO`)."""
    if team is None:
        return []
    from kpi_kit.metrics import CONTRACT_KEYS

    keys = []
    for k in CONTRACT_KEYS:
        if k in team.columns and k != "csm_id":
            keys.append(k)
            monthly = CSV_MONTHLY_NEXT_TO.get(k)
            if monthly and monthly in team.columns:
                keys.append(monthly)
    return keys


def fmt_none(value: Any) -> Any:
    """NaN/NA -> None (an empty CSV cell), numpy scalars -> Python scalars."""
    from kpi_kit import fmt
    from kpi_kit.metrics import to_python

    return None if fmt.is_missing(value) else to_python(value)
