"""Safe to share: data never becomes markup or a spreadsheet formula, input files are never touched,
and a CSM's report shows nothing of another CSM's book."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.cli import COMMANDS, main
from kpi_kit.data import SAMPLE_DIR
from kpi_kit.fmt import write_safe_csv
from kpi_kit.quality import quality_report
from tests.conftest import SHARED, write_book

PROJECT = Path(__file__).resolve().parents[1]
RAVENSTACK = SHARED / "datasets" / "ravenstack"


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` by relative path (an added or removed file changes it too)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


# ------------------------------------------------------------------------------------------------ HTML escaping
XSS = {  # one payload per place data is shown, so each can be found on its own
    "csm": "<img src=x onerror=alert('csm')>",
    "account": "<img src=x onerror=alert('account')>",
    "segment": "<img src=x onerror=alert('segment')>",
    "id": "<img src=x onerror=alert('id')>",
}


def escaped(payload: str) -> str:
    # jinja2 / markupsafe: < > ' become &lt; &gt; &#39;
    return payload.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


def test_quality_report_shows_names_and_values_as_text(tmp_path: Path) -> None:
    path = write_book(
        tmp_path / "book",
        csms=[{"csm_id": "c1", "csm_name": XSS["csm"], "team": ""}],              # row 2: blank team -> shown with the name
        accounts=[
            {"account_id": "A1", "account_name": XSS["account"], "csm_id": "c1", "segment": "smb",
             "customer_since": "2025-01-01", "renewal_date": ""},
            {"account_id": "A2", "account_name": "Plain", "csm_id": "c1", "segment": XSS["segment"],
             "customer_since": "2025-01-01", "renewal_date": ""},
        ],
        arr_monthly=[{"month": "2025-01", "account_id": "A1", "arr": ""}],        # missing ARR -> "A1 · <name>"
        activities=[{"activity_id": "X1", "date": "2025-01-02", "account_id": XSS["id"], "csm_id": "c1",
                     "type": "call", "purpose": ""}],                            # unknown account id
    )
    report = quality_report(path)
    for html in (report.to_html(), report._repr_html_()):
        assert "<img src=x" not in html
        assert "&lt;img src=x" in html
        for payload in XSS.values():
            assert escaped(payload) in html, payload
    # the offending-row tables keep the raw text (escaping is the renderer's job, done once)
    assert XSS["csm"] in report.check("other").rows["about"].str.cat()


def test_report_index_and_team_csv_escape_and_neutralise(tmp_path: Path) -> None:
    """kpi-kit report's index.html and team_scorecard.csv, fast: unknown CSM ids run no notebook."""
    from kpi_kit.report import external_resources, run_reports

    book = write_book(tmp_path / "book", csms=[{"csm_id": "c1", "csm_name": "Ana", "team": "T"}],
                      accounts=[{"account_id": "A1", "account_name": "Acme", "csm_id": "c1", "segment": "smb",
                                 "customer_since": "2025-01-01", "renewal_date": ""}],
                      arr_monthly=[{"month": "2025-03", "account_id": "A1", "arr": 10}])
    formula = '=HYPERLINK("http://evil.example","x")'
    run = run_reports(data_dir=book, csm_ids=[formula, XSS["id"]], out_dir=tmp_path / "reports", progress=False)
    assert run.exit_code == 1  # both ids are unknown: failed, listed
    html = run.index.read_text(encoding="utf-8")
    assert "<img src=x" not in html and escaped(XSS["id"]) in html and external_resources(html) == []
    cells = read_csv_cells(run.scorecard_csv)
    by_id = {row[0]: row for row in cells[1:]}
    # the formula gets a leading apostrophe, plain text does not; the book's own CSM c1 is listed as not run
    assert set(by_id) == {"'" + formula, XSS["id"], "c1"}
    assert by_id["c1"][cells[0].index("report_status")] == "not run"


# ------------------------------------------------------------------------------------------------ CSV for spreadsheets
def test_write_safe_csv_neutralises_formula_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "name": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTab", "Acme", "a=b", ""],
        "=header": ["x"] * 8,
        "arr": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    })
    out = tmp_path / "out.csv"
    write_safe_csv(frame, out)
    cells = read_csv_cells(out)
    assert cells[0] == ["name", "'=header", "arr"]
    # text starting with = + - @ or a tab gets a leading '; other text and numbers (even negative) are unchanged
    assert [row[0] for row in cells[1:]] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tTab", "Acme", "a=b", ""]
    assert [row[2] for row in cells[1:]] == ["-5.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # atomic: no temp file left


def test_import_log_is_safe_for_spreadsheets(tmp_path: Path) -> None:
    """import_log.csv is read by people; the book files next to it are data and keep their values."""
    from kpi_kit.importer import import_csv
    from tests.test_importer import base_book

    accounts = ("Account ID,Name,Owner,Tier,Since,Renewal,ARR\n"
                "A-1,=cmd|' /C calc'!A0,csm_ana,Enterprise,2024-01-15,2026-06-30,1000\n"
                "A-2,Beta,csm_ana,SMB,2024-01-15,,\"-1,500.00\"\n")          # row 3: a credit, logged
    out = tmp_path / "book"
    import_csv(base_book(tmp_path / "src", accounts), out)
    log = read_csv_cells(out / "import_log.csv")
    credit = next(row for row in log[1:] if "is a credit" in row[-1])
    assert credit[4] == "'-1,500.00"
    # the book keeps the account name as data (it is shown escaped, never exported for spreadsheets as is)
    names = [row[1] for row in read_csv_cells(out / "accounts.csv")[1:]]
    assert names == ["=cmd|' /C calc'!A0", "Beta"]


# ------------------------------------------------------------------------------------------------ inputs untouched
@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE_DIR, tmp_path / "book"))


BOOK_COMMANDS = [
    pytest.param(["validate"], id="validate"),
    pytest.param(["validate", "--report", "{out}/quality.html"], id="validate-report"),
    pytest.param(["metrics", "--csm", "csm_01", "--json"], id="metrics"),
    pytest.param(["team"], id="team"),
    pytest.param(["payout", "--csm", "csm_01"], id="payout"),
    pytest.param(["report", "--csm", "csm_01", "--workers", "1", "--out", "{out}/reports"], id="report",
                 marks=pytest.mark.slow),
]
#: Every sub-command of kpi_kit.cli.COMMANDS must be exercised by a test below.
COVERED = {"validate", "metrics", "team", "payout", "report", "import", "learner-copies"}


def test_every_cli_command_is_covered() -> None:
    missing = set(COMMANDS) - COVERED
    assert not missing, f"add a 'never modifies its input' test for: {sorted(missing)} (tests/test_safety.py)"


@pytest.mark.parametrize("argv", BOOK_COMMANDS)
def test_book_commands_never_modify_the_book(sample_copy: Path, tmp_path: Path, argv: list[str], capsys) -> None:
    out = tmp_path / "out"
    args = [a.format(out=out) for a in argv] + ["--data", str(sample_copy)]
    before = snapshot(sample_copy)
    assert main(args) == 0, capsys.readouterr()
    assert snapshot(sample_copy) == before  # same bytes, and no file added or removed


def test_validate_report_on_a_broken_book_never_modifies_it(sample_copy: Path, tmp_path: Path) -> None:
    with (sample_copy / "accounts.csv").open("a", encoding="utf-8") as fh:
        fh.write("acc_9999,Broken,csm_01,giant,2025-13-01,,\n")
    before = snapshot(sample_copy)
    assert main(["validate", "--data", str(sample_copy), "--report", str(tmp_path / "q.html")]) == 1
    assert snapshot(sample_copy) == before
    assert (tmp_path / "q.html").is_file()


def test_import_csv_never_modifies_its_sources(tmp_path: Path) -> None:
    from tests.test_importer import ACCOUNTS_US, base_book

    src = tmp_path / "src"
    mapping = base_book(src, ACCOUNTS_US)
    before = snapshot(src)
    assert main(["import", "csv", "--mapping", str(mapping), "--out", str(tmp_path / "book")]) == 0
    assert snapshot(src) == before


@pytest.mark.slow
@pytest.mark.skipif(not RAVENSTACK.is_dir(), reason="../shared/datasets/ravenstack is not on this machine")
def test_import_ravenstack_never_modifies_its_sources(tmp_path: Path) -> None:
    src = Path(shutil.copytree(RAVENSTACK, tmp_path / "ravenstack"))
    before = snapshot(src)
    assert main(["import", "ravenstack", str(src), "--out", str(tmp_path / "book")]) == 0
    assert snapshot(src) == before


def test_learner_copies_never_modify_the_notebooks(tmp_path: Path) -> None:
    from kpi_kit.learner import NOTEBOOKS_DIR

    before = snapshot(NOTEBOOKS_DIR)
    assert main(["learner-copies", "--out", str(tmp_path / "learner")]) == 0
    assert snapshot(NOTEBOOKS_DIR) == before


# ------------------------------------------------------------------------------------------------ per-CSM report leaks
# Two CSMs with identifiers and ARR figures that occur nowhere else.
LEAK_BOOK = {
    "wf_0042": {"name": "Wilhelmina Fairweather",
                "accounts": {"acc_wf_alpha": ("Zephyr Quarries", 123457, 123457),
                             "acc_wf_beta": ("Ochre Lanterns", 98761, 99871)},
                "events": ("act_wf_1", "sql_wf_1", "alert_wf_1")},
    "bn_0077": {"name": "Bartholomew Nightingale",
                "accounts": {"acc_bn_gamma": ("Vermilion Turbines", 424243, 431239),
                             "acc_bn_delta": ("Quokka Ferries", 313133, 313133)},
                "events": ("act_bn_1", "sql_bn_1", "alert_bn_1")},
}


def _leak_book(folder: Path) -> Path:
    accounts, arr, acts, sqls, alerts = [], [], [], [], []
    for csm, spec in LEAK_BOOK.items():
        act_id, sql_id, alert_id = spec["events"]
        for aid, (name, begin, end) in spec["accounts"].items():
            accounts.append({"account_id": aid, "account_name": name, "csm_id": csm, "segment": "smb",
                             "customer_since": "2025-01-01", "renewal_date": "2026-11-15"})
            arr += [{"month": "2026-06", "account_id": aid, "arr": begin},
                    {"month": "2026-09", "account_id": aid, "arr": end}]
        first = next(iter(spec["accounts"]))
        acts.append({"activity_id": act_id, "date": "2026-07-07", "account_id": first, "csm_id": csm, "type": "call",
                     "purpose": ""})
        sqls.append({"sql_id": sql_id, "created_date": "2026-07-08", "account_id": first, "csm_id": csm,
                     "expansion_arr": 7777 if csm == "wf_0042" else 8888, "status": "open", "closed_date": ""})
        alerts.append({"alert_id": alert_id, "account_id": first, "flagged_date": "2026-08-01", "outcome": "open",
                       "first_action_date": "", "resolved_date": ""})
    csms = [{"csm_id": c, "csm_name": s["name"], "team": "North"} for c, s in LEAK_BOOK.items()]
    return write_book(folder, csms=csms, accounts=accounts, arr_monthly=arr, activities=acts, sqls=sqls,
                      risk_alerts=alerts)


def _identifiers(csm: str) -> list[str]:
    """What must never appear in another CSM's report: ids, names, and ARR figures unique to ``csm``."""
    spec = LEAK_BOOK[csm]
    out = [csm, spec["name"], *spec["events"]]
    figures: set[int] = {7777 if csm == "wf_0042" else 8888}
    for aid, (name, begin, end) in spec["accounts"].items():
        out += [aid, name]
        figures |= {begin, end}
    accounts = spec["accounts"].values()
    figures |= {sum(a[1] for a in accounts), sum(a[2] for a in accounts)}  # the CSM's beginning and ending ARR
    for n in sorted(figures):
        out += [str(n), f"{n:,}"]  # 424243 and 424,243 (raw, and as fmt.money / pandas show it)
    return out


def _shown_content(path: Path) -> str:
    """A report file's text without the run's own clock: an executed notebook's papermill / execution
    timestamps and durations (``"2026-12-04T17:30:12.888812"``) could contain a figure such as 8888 by
    chance. Everything the notebook shows or was given (sources, parameters, outputs) is kept."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".ipynb":
        return text
    nb = json.loads(text)
    nb.get("metadata", {}).pop("papermill", None)
    for cell in nb.get("cells", []):
        for key in ("papermill", "execution"):
            cell.get("metadata", {}).pop(key, None)
    return json.dumps(nb, ensure_ascii=False)


@pytest.mark.slow
def test_per_csm_reports_show_nothing_of_another_csm(tmp_path: Path) -> None:
    from kpi_kit.report import report_stem, run_reports

    book = _leak_book(tmp_path / "book")
    # hand check of the unique figures: wf 123457 + 98761 = 222218 -> 123457 + 99871 = 223328;
    # bn 424243 + 313133 = 737376 -> 431239 + 313133 = 744372
    assert "737,376" in _identifiers("bn_0077") and "223328" in _identifiers("wf_0042")
    run = run_reports(data_dir=book, csm_ids=list(LEAK_BOOK), out_dir=tmp_path / "reports", workers=2, progress=False)
    assert run.exit_code == 0, run.summary()
    per_csm: dict[str, list[Path]] = {c: [] for c in LEAK_BOOK}
    for path in sorted(run.out_dir.rglob("*")):
        if not path.is_file() or path.name == "index.html" or path.name.startswith("team_"):
            continue  # the team pages show every CSM by design
        owner = [c for c in LEAK_BOOK if path.name.startswith(report_stem(c) + ".")]
        assert len(owner) == 1, f"cannot tell whose report {path.name} is"
        per_csm[owner[0]].append(path)
    for csm, files in per_csm.items():
        assert {p.suffix for p in files} >= {".html", ".ipynb"}, files
        others = [c for c in LEAK_BOOK if c != csm]
        for path in files:
            text = _shown_content(path)
            leaked = [ident for other in others for ident in _identifiers(other) if ident in text]
            assert not leaked, f"{path.name} shows another CSM's data: {leaked}"
        # the scan can find things: the CSM's own name and accounts are in their own HTML
        own_html = next(p for p in files if p.suffix == ".html").read_text(encoding="utf-8")
        assert LEAK_BOOK[csm]["name"] in own_html
        assert all(name in own_html for name, _, _ in LEAK_BOOK[csm]["accounts"].values())


def test_written_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a private temp file; the result must be readable like any new file."""
    import os
    import stat

    from kpi_kit.fmt import atomic_write_text

    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "out.html", "<p>x</p>")
        assert stat.S_IMODE((tmp_path / "out.html").stat().st_mode) == 0o644
    finally:
        os.umask(mask)
