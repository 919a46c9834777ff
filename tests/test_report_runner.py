"""The report runner (`kpi-kit report`, kpi_kit.report): papermill per CSM, offline HTML, index, team CSV.

Notebook-executing tests are marked ``slow``; they share one two-CSM run on a tiny book (module fixture)
and one CLI run with a deliberately broken CSM, so the file stays well under a minute on 2 cores.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from kpi_kit import report
from kpi_kit.cli import main
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.periods import Period

# The brief's check: any src= / href= pointing at http(s):// or a protocol-relative // address.
EXTERNAL_REF = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)

XSS_NAME = "<img src=x onerror=alert(1)>"
FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"click\")"
ACCOUNTS_0042 = ("Alpha Widgets", "Beta Foods")
ACCOUNTS_B = ("Gamma Tools", "Delta Logistics")


def write_tiny_book(folder: Path) -> Path:
    """Two CSMs: "0042" (leading zeros must survive) and "csm_b" (a name that is an HTML injection)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "csms.csv": f"csm_id,csm_name,team\n0042,\"{FORMULA_NAME.replace(chr(34), chr(34) * 2)}\",North\n"
                    f"csm_b,{XSS_NAME},North\n",
        "accounts.csv": "account_id,account_name,csm_id,segment,customer_since,renewal_date\n"
                        f"a1,{ACCOUNTS_0042[0]},0042,smb,2025-01-01,2026-12-01\n"
                        f"a2,{ACCOUNTS_0042[1]},0042,smb,2025-01-01,\n"
                        f"b1,{ACCOUNTS_B[0]},csm_b,enterprise,2025-01-01,2027-01-01\n"
                        f"b2,{ACCOUNTS_B[1]},csm_b,mid-market,2025-01-01,\n",
        "arr_monthly.csv": "month,account_id,arr\n"
                           "2026-06,a1,1000\n2026-09,a1,1100\n2026-06,a2,500\n"
                           "2026-06,b1,2000\n2026-09,b1,2000\n2026-06,b2,800\n2026-09,b2,400\n",
        "activities.csv": "activity_id,date,account_id,csm_id,type\n"
                          "x1,2026-07-05,a1,0042,call\nx2,2026-08-05,b1,csm_b,qbr\n",
        "sqls.csv": "sql_id,created_date,account_id,csm_id,expansion_arr,status,closed_date\n"
                    "s1,2026-07-10,a1,0042,300,won,2026-08-01\n",
        "risk_alerts.csv": "alert_id,account_id,flagged_date,outcome\nr1,b2,2026-07-15,open\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_book(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def two_csm_run(tiny_book: Path, tmp_path_factory: pytest.TempPathFactory) -> report.ReportRun:
    out = tmp_path_factory.mktemp("reports")
    # the team report (a separate template, tested with it) is left out to keep this file fast
    return report.run_reports(data_dir=tiny_book, csm_ids=["0042", "csm_b"], out_dir=out, workers=2, progress=False,
                              team_report=False)


# ------------------------------------------------------------------------------------------------
# end to end (papermill)
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_csms_write_notebook_and_html_each(two_csm_run: report.ReportRun) -> None:
    run = two_csm_run
    assert run.exit_code == 0, run.summary()
    # the tiny book's ARR ends in 2026-09 (a quarter end), so the default period is 2026-07..2026-09
    assert run.out_dir.name == "2026-07_2026-09"
    names = sorted(p.name for p in run.out_dir.iterdir())
    assert names == ["0042.html", "0042.ipynb", "csm_b.html", "csm_b.ipynb", "index.html", "team_scorecard.csv"]


@pytest.mark.slow
def test_executed_notebooks_record_their_parameters_and_0042_stays_text(two_csm_run: report.ReportRun,
                                                                          tiny_book: Path) -> None:
    for csm_id in ("0042", "csm_b"):
        nb = nbformat.read(two_csm_run.out_dir / f"{csm_id}.ipynb", as_version=4)
        params = nb.metadata["papermill"]["parameters"]
        assert params == {"csm_id": csm_id, "start": "2026-07", "end": "2026-09",
                          "data_dir": str(tiny_book.resolve()), "as_of": ""}
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and f'csm_id = "{csm_id}"' in injected[0].source
        assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    html_0042 = (two_csm_run.out_dir / "0042.html").read_text(encoding="utf-8")
    assert "(0042)" in html_0042  # the heading shows the id as text, not 42


@pytest.mark.slow
def test_each_report_shows_its_own_accounts_only(two_csm_run: report.ReportRun) -> None:
    html_a = (two_csm_run.out_dir / "0042.html").read_text(encoding="utf-8")
    html_b = (two_csm_run.out_dir / "csm_b.html").read_text(encoding="utf-8")
    assert html_a != html_b
    for name in ACCOUNTS_0042:
        assert name in html_a and name not in html_b
    for name in ACCOUNTS_B:
        assert name in html_b and name not in html_a
    # code is hidden: the template's source lines are not in the report; "remove-cell" cells are left out
    assert "load_book(data_dir or None)" not in html_a
    assert 'id="Setup"' not in html_a and "Metrics review" in html_a and "Strategic list" in html_a
    # data is escaped inside the report too
    assert XSS_NAME not in html_b and "&lt;img src=x onerror=alert(1)&gt;" in html_b


@pytest.mark.slow
def test_no_html_references_anything_external(two_csm_run: report.ReportRun) -> None:
    pages = sorted(two_csm_run.out_dir.glob("*.html"))
    assert [p.name for p in pages] == ["0042.html", "csm_b.html", "index.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert EXTERNAL_REF.findall(text) == [], page.name
        assert report.external_resources(text) == [], page.name
        assert "unpkg.com" not in text and "cdnjs" not in text and "cdn.jsdelivr" not in text
    # the chart is there, as an embedded SVG image (not a vega-embed script)
    chart_page = (two_csm_run.out_dir / "0042.html").read_text(encoding="utf-8")
    assert "data:image/svg+xml" in chart_page or "<svg" in chart_page
    assert "vega-embed" not in chart_page


@pytest.mark.slow
def test_index_escapes_data_and_links_reports(two_csm_run: report.ReportRun) -> None:
    index = two_csm_run.index.read_text(encoding="utf-8")
    assert XSS_NAME not in index
    assert "&lt;img src=x onerror=alert(1)&gt;" in index
    assert 'href="0042.html"' in index and 'href="csm_b.html"' in index
    # headline KPIs from team_metrics, worked by hand from the tiny book (period 2026-07..2026-09):
    # 0042: cohort a1 (begin 1000, end 1100), a2 (begin 500, end 0) -> GRR = (1000 + 0) / 1500 = 66.7 %,
    #       NRR = 1100 / 1500 = 73.3 %
    # csm_b: b1 (2000 -> 2000), b2 (800 -> 400) -> GRR = NRR = 2400 / 2800 = 85.7 %
    # team: GRR = (1000 + 2400) / (1500 + 2800) = 3400 / 4300 = 79.1 %; NRR = (1100 + 2400) / 4300 = 81.4 %
    for shown in ("66.7 %", "73.3 %", "85.7 %", "79.1 %", "81.4 %"):
        assert shown in index


@pytest.mark.slow
def test_team_csv_neutralises_formulas(two_csm_run: report.ReportRun) -> None:
    with two_csm_run.scorecard_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["csm_id"]: r for r in rows}
    assert set(by_id) == {"0042", "csm_b"}  # "0042" written as text, not 42
    assert by_id["0042"]["csm_name"] == "'" + FORMULA_NAME
    assert by_id["csm_b"]["csm_name"] == XSS_NAME  # not a formula: left as is (CSV is not HTML)
    assert by_id["0042"]["report"] == "0042.html" and by_id["0042"]["report_status"] == "ok"
    # 0042 churned a2 (beginning 500, ending 0): churned_arr = 500; calls = 1 (x1); sqls = 1 (s1)
    assert float(by_id["0042"]["churned_arr"]) == 500.0
    assert by_id["0042"]["calls"] == "1" and by_id["0042"]["sqls"] == "1"
    # csm_b has no closed SQL: conversion is "no data" -> an empty cell, never 0
    assert by_id["csm_b"]["sql_conversion_pct"] == ""


BROKEN_CELL = 'if csm_id == "csm_b":\n    raise RuntimeError("deliberately broken for csm_b")'


@pytest.mark.slow
def test_broken_and_unknown_csm_fail_alone_with_nonzero_exit(tiny_book: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.read(report.TEMPLATE, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(BROKEN_CELL))
    template = tmp_path / "broken_template.ipynb"
    nbformat.write(nb, template)
    out = tmp_path / "out"
    period_dir = out / "2026-07_2026-09"
    period_dir.mkdir(parents=True)
    # a complete-looking report from an earlier run must not survive this run's failure
    (period_dir / "csm_b.html").write_text("old report", encoding="utf-8")
    (period_dir / "csm_b.ipynb").write_text("{}", encoding="utf-8")

    code = main(["report", "--data", str(tiny_book), "--out", str(out), "--workers", "2", "--no-team-report",
                 "--template", str(template), "--csm", "0042", "csm_b", "--csm", "nobody"])
    printed = capsys.readouterr()
    assert code == 1
    assert (period_dir / "0042.html").is_file() and (period_dir / "0042.ipynb").is_file()
    assert not (period_dir / "csm_b.html").exists() and not (period_dir / "csm_b.ipynb").exists()
    failed_nb = period_dir / "csm_b.failed.ipynb"
    assert failed_nb.is_file()
    assert "deliberately broken for csm_b" in failed_nb.read_text(encoding="utf-8")
    assert not list(period_dir.glob(".*"))  # no temp files left behind
    summary = printed.out
    assert re.search(r"FAILED\s+csm_b\s+cell \[\d+\] raised RuntimeError: deliberately broken for csm_b", summary)
    assert "csm_b.failed.ipynb" in summary
    assert re.search(r"FAILED\s+nobody\s+unknown CSM 'nobody'.*valid ids: 0042, csm_b", summary)
    assert "2 of 3 report(s) failed: csm_b, nobody" in summary
    assert "without encryption" not in printed.err and "KeyboardInterrupt" not in printed.err
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert "deliberately broken for csm_b" in index and "csm_b.failed.ipynb" in index
    assert 'href="csm_b.html"' not in index


# ------------------------------------------------------------------------------------------------
# fast: no kernel
# ------------------------------------------------------------------------------------------------


def test_unknown_csm_fails_with_valid_ids_and_still_writes_index(tiny_book: Path, tmp_path: Path) -> None:
    run = report.run_reports(data_dir=tiny_book, csm_ids=["nobody"], out_dir=tmp_path, progress=False,
                             team_report=False)
    assert run.exit_code == 1
    (result,) = run.results
    assert not result.ok and result.notebook is None and result.html is None
    assert "unknown CSM 'nobody'" in result.error and "valid ids: 0042, csm_b" in result.error
    assert run.index.is_file() and run.scorecard_csv.is_file()
    assert "unknown CSM" in run.index.read_text(encoding="utf-8")


def test_fiscal_periods_as_in_the_other_commands(tiny_book: Path, tmp_path: Path) -> None:
    # tiny_book has no fiscal_year_start_month: fiscal years are calendar years, FY2026 Q3 = Jul..Sep 2026
    run = report.run_reports(data_dir=tiny_book, start="FY2026Q3", csm_ids=["nobody"], out_dir=tmp_path,
                             progress=False, team_report=False)
    assert str(run.period) == "2026-07..2026-09" and run.index.parent.name == "2026-07_2026-09"
    # a February fiscal year, named for the year it ends: FY2026 Q1 = Feb..Apr 2025, Q2 ends in July
    feb = tmp_path / "feb_book"
    shutil.copytree(tiny_book, feb)
    (feb / "book.yaml").write_text("fiscal_year_start_month: 2\n", encoding="utf-8")
    run = report.run_reports(data_dir=feb, start="FY2026Q1", end="FY2026Q2", csm_ids=["nobody"],
                             out_dir=tmp_path / "out", progress=False, team_report=False)
    assert str(run.period) == "2025-02..2025-07"


def test_period_and_as_of_are_checked_before_anything_runs(tiny_book: Path, tmp_path: Path) -> None:
    from kpi_kit.errors import KitError

    with pytest.raises(KitError, match="YYYY-MM"):
        report.run_reports(data_dir=tiny_book, start="2026-7", end="2026-09", out_dir=tmp_path, progress=False)
    with pytest.raises(KitError, match="--end was given without --start"):
        report.run_reports(data_dir=tiny_book, end="2026-09", out_dir=tmp_path, progress=False)
    with pytest.raises(KitError, match="YYYY-MM-DD"):
        report.run_reports(data_dir=tiny_book, as_of="30/09/2026", out_dir=tmp_path, progress=False)
    with pytest.raises(KitError, match="no report template"):
        report.run_reports(data_dir=tiny_book, template=tmp_path / "missing.ipynb", out_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_index_and_csv_escape_data(tiny_book: Path, tmp_path: Path) -> None:
    book = load_book(tiny_book)
    period = Period.parse("2026-07", "2026-09")
    results = (
        report.ReportResult("0042", FORMULA_NAME, True, tmp_path / "0042.ipynb", tmp_path / "0042.html"),
        report.ReportResult("csm_b", XSS_NAME, False, None, None, error=f"boom {XSS_NAME}"),
    )
    html, frame = report.build_index(book, period, results, None, "", tmp_path)
    assert XSS_NAME not in html and html.count("&lt;img src=x onerror=alert(1)&gt;") == 2  # name and error
    assert report.external_resources(html) == [] and EXTERNAL_REF.findall(html) == []
    from kpi_kit.fmt import write_safe_csv

    write_safe_csv(frame, tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8", newline="")))
    assert rows[0]["csm_name"] == "'" + FORMULA_NAME and rows[0]["csm_id"] == "0042"


def test_index_status_counts_agree_with_the_scorecard(tiny_book: Path) -> None:
    from kpi_kit.metrics import team_metrics
    from kpi_kit.scorecard import scorecard

    book = load_book(tiny_book)
    period = Period.parse("2026-07", "2026-09")
    fast = report.scorecard_statuses(book, period, team_metrics(book, period))
    for csm_id in ("0042", "csm_b"):
        counts = scorecard(book, csm_id, period).table["status"].value_counts()
        expected = ", ".join(f"{counts[s]} {s}" for s in ("on track", "at risk", "behind") if counts.get(s, 0))
        assert fast[csm_id] == expected and expected


def test_external_resources_finds_scripts_styles_fonts_images() -> None:
    page = """
    <script src="https://cdn.example/require.js"></script>
    <link rel="stylesheet" href="//fonts.example/css">
    <style>@font-face { src: url('https://fonts.example/f.woff2') } @import "http://x.example/a.css";</style>
    <img src='http://img.example/logo.png'>
    <script type="module">const m = await import("https://cdnjs.example/mermaid.mjs");</script>
    <a href="https://docs.example/kpis">a link is navigation, not a resource</a>
    <img src="data:image/svg+xml;base64,PHN2Zz4=">
    <link href="local.css" rel="stylesheet">
    """
    found = report.external_resources(page)
    # 1 script, 1 stylesheet link, 1 font url(), 1 @import, 1 image, 1 dynamic import = 6
    assert len(found) == 6, found
    assert not any("docs.example" in f or "data:" in f or "local.css" in f for f in found)


def test_report_stem_keeps_plain_ids_and_never_escapes_the_folder() -> None:
    assert report.report_stem("0042") == "0042"
    assert report.report_stem("csm_01") == "csm_01"
    for evil in ("../../etc/passwd", "a/b", "..", ".hidden", "index", "team_report", "Team_Scorecard", "x.html", "<b>"):
        stem = report.report_stem(evil)
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".")
        assert stem.lower() not in ("index", "team_report", "team_scorecard")
        assert re.fullmatch(r"[A-Za-z0-9._-]+", stem)
    assert report.report_stem("a/b") != report.report_stem("a_b")  # distinct ids -> distinct files


def _job(tmp_path: Path) -> report.ReportJob:
    return report.ReportJob(csm_id="0042", csm_name="Ada", stem="0042", start="2026-07", end="2026-09",
                            data_dir="", as_of="", template=str(report.TEMPLATE), out_dir=str(tmp_path))


def test_export_failure_leaves_no_final_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill

    def fake_execute(template: str, output: str, **kwargs: object) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        nbformat.write(nb, output)
        return nb

    def broken_export(nb: object, title: str) -> str:
        raise OSError("disk full while exporting")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    monkeypatch.setattr(report, "render_html", broken_export)
    result = report.execute_report(_job(tmp_path))
    assert not result.ok and "disk full" in result.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0042.failed.ipynb"]


def test_interrupted_report_leaves_nothing_that_looks_complete(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill

    def interrupted(template: str, output: str, **kwargs: object) -> None:
        Path(output).write_text('{"cells": [', encoding="utf-8")  # half-written
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.execute_report(_job(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_failure_keeps_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from kpi_kit import fmt

    target = tmp_path / "index.html"
    fmt.atomic_write_text(target, "old")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError("interrupted mid-write")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="mid-write"):
        fmt.atomic_write_text(target, "new")
    with pytest.raises(OSError, match="mid-write"):
        fmt.atomic_write_text(tmp_path / "new.html", "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_harmless_kernel_noise_is_filtered() -> None:
    text = (
        "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication ...\n"
        "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.\n"
        "real problem: cannot open file\n"
    )
    assert report.filter_noise(text) == "real problem: cannot open file"
    records = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("kpi_kit.test_noise")
    logger.propagate = False
    handler = Keep()
    handler.addFilter(report.HarmlessNoiseFilter())
    logger.addHandler(handler)
    logger.warning("Kernel is running over TCP without encryption.")
    logger.warning("something the user should see")
    assert records == ["something the user should see"]


def test_kernel_boot_line_blocks_only_the_slow_module() -> None:
    ns: dict[str, object] = {}
    import sys

    saved = sys.modules.pop(report.SLOW_OPTIONAL_MODULE, "absent")
    try:
        exec(report.KERNEL_BOOT_LINE, ns)  # what the kernel runs before the first cell
        with pytest.raises(ImportError):
            __import__(report.SLOW_OPTIONAL_MODULE)
        assert set(ns) == {"__builtins__"}  # leaves no name behind
    finally:
        if saved == "absent":
            sys.modules.pop(report.SLOW_OPTIONAL_MODULE, None)
        else:
            sys.modules[report.SLOW_OPTIONAL_MODULE] = saved  # type: ignore[assignment]


def test_template_is_a_clean_papermill_template() -> None:
    nb = json.loads(report.TEMPLATE.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    lines = [ln for ln in "".join(params[0]["source"]).splitlines() if ln.strip()]
    names = [ln.split(":")[0] for ln in lines]
    assert names == ["csm_id", "start", "end", "data_dir", "as_of"]
    for line in lines:
        # annotated literal with a help comment; one "=" per line (papermill cannot parse more)
        assert re.fullmatch(r'\w+: str = "[^"]*"  # .+', line) and line.count("=") == 1, line


def test_cli_parses_repeated_csm_options() -> None:
    from kpi_kit.cli import build_parser

    args = build_parser().parse_args(["report", "--csm", "a", "b", "--csm", "0042", "--workers", "3"])
    assert args.csm_ids == ["a", "b", "0042"] and args.workers == 3 and args.out == "reports"
    assert args.team_report is True
    assert build_parser().parse_args(["report", "--no-team-report"]).team_report is False
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--workers", "0"])


# ------------------------------------------------------------------------------------------------
# start-up savings: the validated book handed to the kernels, charts rendered by the workers
# ------------------------------------------------------------------------------------------------

PROBE_CELL = """import sys
from kpi_kit import bookcache, data
import kpi_kit
kpi_kit.setup_notebook()
print("cache hit:", bookcache.lookup(data.resolve_book_path(data_dir or None)) is not None)
print("pandera imported:", "pandera" in sys.modules)
import altair as alt, pandas as pd
alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:O", y="x:Q")"""


@pytest.fixture()
def cache_dirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The runner's private book-cache folders created during the test (checked for mode 0700)."""
    made: list[str] = []
    real_mkdtemp = report.tempfile.mkdtemp

    def recording_mkdtemp(*args: object, **kwargs: object) -> str:
        path = real_mkdtemp(*args, **kwargs)
        if Path(path).name.startswith("kpi-kit-book-"):  # not multiprocessing's own temp folder
            assert oct(Path(path).stat().st_mode & 0o777) == "0o700"  # only the user can read the pickled book
            made.append(path)
        return path

    monkeypatch.setattr(report.tempfile, "mkdtemp", recording_mkdtemp)
    return made


def _template(tmp_path: Path, name: str, *cells: str) -> Path:
    """A report template: the standard parameters cell, then ``cells``."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    params = nbformat.v4.new_code_cell('csm_id = ""\nstart = ""\nend = ""\ndata_dir = ""\nas_of = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    template = tmp_path / name
    nbformat.write(nb, template)
    return template


@pytest.mark.slow
def test_kernels_reuse_the_runners_book_and_workers_render_their_charts(tiny_book: Path, tmp_path: Path,
                                                                         cache_dirs: list[str]) -> None:
    from kpi_kit import svg

    template = _template(tmp_path, "probe.ipynb", PROBE_CELL)
    run = report.run_reports(data_dir=tiny_book, csm_ids=["0042"], out_dir=tmp_path / "out", workers=1,
                             template=template, progress=False, team_report=False)
    assert run.exit_code == 0, run.summary()
    outputs = nbformat.read(run.results[0].notebook, as_version=4).cells[-1].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "cache hit: True" in printed and "pandera imported: False" in printed
    (chart,) = [o for o in outputs if o.output_type == "execute_result"]
    assert list(chart.data) == [svg.SVG_MIME] and chart.data[svg.SVG_MIME].startswith("<svg")
    assert svg.SPEC_MIME not in run.results[0].html.read_text(encoding="utf-8")
    assert cache_dirs and not any(Path(d).exists() for d in cache_dirs)  # the private cache folder is gone


def test_the_private_book_cache_is_removed_even_when_nothing_runs(tiny_book: Path, tmp_path: Path,
                                                                  cache_dirs: list[str]) -> None:
    run = report.run_reports(data_dir=tiny_book, csm_ids=["nobody"], out_dir=tmp_path, progress=False)
    assert run.exit_code == 1 and run.team_report is None  # no known CSM: no team report either
    assert cache_dirs and not any(Path(d).exists() for d in cache_dirs)
    with pytest.raises(KitError, match="no book at"):
        report.run_reports(data_dir=tmp_path / "no-such-book", out_dir=tmp_path, progress=False)
    assert len(cache_dirs) == 2 and not Path(cache_dirs[1]).exists()


LEAK_CELL = """import os
assert "previous_csm" not in globals(), f"state of {previous_csm} survived into this report"
previous_csm = csm_id
print("pid", os.getpid(), "cwd", os.getcwd())
if csm_id == DIE_FOR:
    os._exit(3)"""


def _probe_template(tmp_path: Path, die_for: str) -> Path:
    return _template(tmp_path, f"leak_{die_for or 'none'}.ipynb", f"DIE_FOR = {die_for!r}", LEAK_CELL)


def _printed(result: report.ReportResult) -> str:
    cells = nbformat.read(result.notebook, as_version=4).cells
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.output_type == "stream")


@pytest.mark.slow
def test_a_reused_kernel_starts_each_report_clean_and_a_dead_one_is_replaced(tiny_book: Path, tmp_path: Path) -> None:
    template = _probe_template(tmp_path, die_for="")
    run = report.run_reports(data_dir=tiny_book, csm_ids=["0042", "csm_b"], out_dir=tmp_path / "a", workers=1,
                             template=template, progress=False, team_report=False)
    assert run.exit_code == 0, run.summary()  # csm_b's report did not see 0042's variable
    first, second = (_printed(r) for r in run.results)
    assert first.split()[1] == second.split()[1]  # one worker, one kernel process for both reports
    assert f"cwd {template.parent}" in first and f"cwd {template.parent}" in second
    for r in run.results:
        nb = nbformat.read(r.notebook, as_version=4)
        assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, 4]  # as in a fresh kernel

    dying = report.run_reports(data_dir=tiny_book, csm_ids=["0042", "csm_b"], out_dir=tmp_path / "b", workers=1,
                               template=_probe_template(tmp_path, die_for="0042"), progress=False, team_report=False)
    died, survived = dying.results
    assert not died.ok and "DeadKernelError" in (died.error or "")
    assert survived.ok, survived.error  # a new kernel took over

    fresh = report.run_reports(data_dir=tiny_book, csm_ids=["0042", "csm_b"], out_dir=tmp_path / "c", workers=1,
                               template=template, progress=False, team_report=False, reuse_kernels=False)
    assert fresh.exit_code == 0, fresh.summary()
    assert len({_printed(r).split()[1] for r in fresh.results}) == 2  # --fresh-kernels: a kernel per report


def test_summary_names_a_failed_team_report_with_its_error_and_notebook(tmp_path: Path) -> None:
    ok = report.ReportResult(csm_id="csm_a", csm_name="A", ok=True, notebook=tmp_path / "csm_a.ipynb",
                             html=tmp_path / "csm_a.html")
    team = report.ReportResult(csm_id="team", csm_name="Team", ok=False, notebook=tmp_path / "team_report.failed.ipynb",
                               html=None, error="cell [4] raised ValueError: no CSMs")
    run = report.ReportRun(period=Period.parse("2026-07", "2026-09"), out_dir=tmp_path, results=(ok,),
                           index=tmp_path / "index.html", scorecard_csv=tmp_path / "team_scorecard.csv", workers=1,
                           seconds=1.0, team_report=team)
    text = run.summary()
    assert "FAILED  team report  cell [4] raised ValueError: no CSMs" in text
    assert "team_report.failed.ipynb" in text
    assert "1 of 2 report(s) failed: team report" in text and run.exit_code == 1
    passed = dataclasses.replace(run, team_report=dataclasses.replace(team, ok=True, html=tmp_path / "team_report.html",
                                                                      error=None))
    assert "team:     " in passed.summary() and "team_report.html" in passed.summary() and passed.exit_code == 0


def test_a_csm_subset_run_keeps_the_other_csms_in_the_index(tiny_book: Path, tmp_path: Path) -> None:
    book = load_book(tiny_book)
    period = Period.parse("2026-07", "2026-09")
    (tmp_path / "0042.html").write_text("an earlier report", encoding="utf-8")  # from a previous full run
    team, warning = report._team_table(book, period, None)
    assert warning is None
    # this run: `--csm nobody` only; 0042 has an earlier report, csm_b none
    results = (report.ReportResult("nobody", "nobody", False, None, None, error="unknown CSM 'nobody'"),)
    others = report.other_reports(book, ["nobody"], tmp_path)
    assert [(o.csm_id, o.ok) for o in others] == [("0042", True), ("csm_b", False)]
    html, frame = report.build_index(book, period, results, team, "", tmp_path, others=others)
    assert 'href="0042.html"' in html and "from an earlier run" in html
    assert "not run: kpi-kit report --csm csm_b" in html and 'href="csm_b.html"' not in html
    assert "0 of 1 reports written in this run" in html and "1 from an earlier run of this period" in html
    assert list(frame["report_status"]) == ["failed", "earlier run", "not run"]
    from kpi_kit.fmt import write_safe_csv

    write_safe_csv(frame, tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8", newline="")))
    # 0042 made one call in the period (tiny book: x1 on 2026-07-05): a count stays "1", never "1.0",
    # even below a row without KPIs; the unknown id's KPI cells are empty
    assert rows[1]["csm_id"] == "0042" and rows[1]["calls"] == "1" and rows[0]["calls"] == ""


def test_the_template_states_the_attainment_cap_the_scorecard_uses() -> None:
    from kpi_kit.scorecard import ATTAINMENT_CAP

    text = "".join(c.source for c in nbformat.read(report.TEMPLATE, as_version=4).cells if c.cell_type == "markdown")
    assert f"capped at {ATTAINMENT_CAP:g} %" in text
