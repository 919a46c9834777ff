"""The team report template as a manager reads it: no developer text, no stray table headers, plain words.

Static checks of ``notebooks/reports/team_report.ipynb`` (fast) and one run on the sample book and one
on a book that records no activities, SQLs or risk alerts (slow), reading the outputs a manager sees.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from kpi_kit.data import SAMPLE_DIR
from tests.conftest import PROJECT, write_book
from tests.test_cascade import three_csm_files

TEAM_NOTEBOOK = PROJECT / "notebooks" / "reports" / "team_report.ipynb"
HAS_SAMPLE = (SAMPLE_DIR / "csms.csv").exists()

#: Developer words that must not reach a manager's HTML (visible Markdown cells).
DEVELOPER_TEXT = re.compile(r"kpi_kit|papermill|\bimport\b|\w+\.\w+\(|\bSetup\b|\*\*\s*\(")


def _notebook() -> nbformat.NotebookNode:
    return nbformat.read(TEAM_NOTEBOOK, as_version=4)


def test_visible_markdown_names_no_python():
    nb = _notebook()
    nbformat.validate(nb)
    found = {c.id: DEVELOPER_TEXT.findall(c.source) for c in nb.cells if c.cell_type == "markdown"}
    assert {cid: hits for cid, hits in found.items() if hits} == {}
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_developer_notes_stay_in_hidden_code():
    setup = next(c for c in _notebook().cells if c.id == "setup")
    assert "kpi_kit.cascade" in setup.source and setup.source.startswith("# Template of `kpi-kit report`")


def _run(tmp_path, parameters):
    import papermill as pm

    out = tmp_path / "team.ipynb"
    pm.execute_notebook(str(TEAM_NOTEBOOK), str(out), parameters=parameters, kernel_name="python3",
                        cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    return {c.id: c.get("outputs", []) for c in nb.cells if c.cell_type == "code"}


def _text(outputs, mime):
    return "".join(o.get("data", {}).get(mime, "") for o in outputs)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SAMPLE, reason="data/sample not generated yet (python -m kpi_kit.sample)")
def test_sample_report_reads_cleanly(tmp_path):
    out = _run(tmp_path, {"start": "2026-07", "end": "2026-09"})
    # 1. the attainment table has one header row: CSM names, no leaked "label" row
    attain = _text(out["attain"], "text/html")
    head = attain.split("<tbody>")[0]
    assert head.count("<tr") == 1 and "label" not in head and "Maya Chen" in head
    # 2. which ARR is which: the roll-up's cohort column and new logos, the forecast's starting book ARR
    assert "end ARR (cohort)" in _text(out["rollup"], "text/html")
    assert "Book ARR at the end of 2026-09" in _text(out["rollup-bridge"], "text/markdown")
    assert "book ARR, end of 2026-09" in _text(out["forecast"], "text/html")
    assert "new logos won in 2026-07..2026-09 included" in _text(out["forecast-start"], "text/markdown")
    # 5. counts of things in words are whole numbers (the numbers in the table stay exact)
    check = _text(out["cascade"], "text/html")
    words = re.findall(r"(\d[\d,]*\.\d) (?:accounts|touchpoints|alerts|closed SQLs|churned logos|renewals)", check)
    assert words == []
    # 6. KPIs without segment targets say so, not "no data"
    rows = re.findall(r"<tr><td>(.*?)</td><td[^>]*>.*?</td><td[^>]*>(.*?)</td>", check)
    assert dict(rows)["Calls (call, meeting, QBR)"] == "—"
    # 7. the quadrant legend lists only the diagnoses present: every sample CSM has activity data
    svg = _text(out["quadrant"], "image/svg+xml")
    assert "Diagnosis" in svg and "No activity data" not in svg


@pytest.mark.slow
def test_report_on_a_book_without_activities_says_so_once(tmp_path):
    files = three_csm_files()
    for stem in ("activities", "sqls"):
        files.pop(stem)
    files["book"] = "name: Raven-like\nnot_recorded: [activities, sqls, risk_alerts]\n"
    book = write_book(tmp_path / "book", **files)
    out = _run(tmp_path, {"start": "2025-04", "end": "2025-06", "data_dir": str(book)})
    header = _text(out["header"], "text/markdown")
    assert "Activities, SQLs and risk alerts are not recorded in this book" in header
    assert "no data calls" not in header and "no data SQLs" not in header and "coverage no data" not in header
    # no empty charts: a sentence instead
    assert "Activities are not recorded in this book" in _text(out["coverage"], "text/markdown")
    assert "Activities are not recorded in this book" in _text(out["quadrant"], "text/markdown")
    assert _text(out["coverage"], "image/svg+xml") == "" and _text(out["quadrant"], "image/svg+xml") == ""
