"""Team roll-ups: sums of parts, never averages of percentages; segments on accounts; ``kpi-kit team``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings

from kpi_kit.cli import main
from kpi_kit.data import SAMPLE_DIR, load_book
from kpi_kit.metrics import PART_KEYS, csm_metrics, metric_parts, rollup
from kpi_kit.periods import Period
from kpi_kit.scorecard import scorecard
from kpi_kit.team import attainment_matrix, attainment_table, segment_parts, slice_parts, team_rollup
from tests.conftest import PROJECT, write_book
from tests.test_cascade import Q2, three_csm_files
from tests.test_properties import EDGE_BOOKS, PERIOD, books

HAS_SAMPLE = (SAMPLE_DIR / "csms.csv").exists()


@pytest.fixture
def book3(book_dir):
    return load_book(book_dir(**three_csm_files()))


def test_team_nrr_is_not_the_average_of_csm_nrrs(book3):
    r = team_rollup(book3, Q2)
    nrr = r.csms["nrr_pct"]
    # a: (630,000 + 380,000) / 1,000,000 = 101 %; b: 500,000 / 500,000 = 100 %; c: 310,000 / 500,000 = 62 %
    assert list(nrr) == pytest.approx([101.0, 100.0, 62.0])
    # the average of percentages would be (101 + 100 + 62) / 3 = 87.67 % ...
    average = (101.0 + 100.0 + 62.0) / 3
    # ... but the team NRR is Σ ending / Σ beginning = 1,820,000 / 2,000,000 = 91 %
    team = r.team.iloc[0]
    assert team["nrr_pct"] == pytest.approx(91.0)
    assert team["nrr_pct"] != pytest.approx(average, abs=0.5)
    # GRR likewise: Σ retained 1,780,000 / 2,000,000 = 89 %, not (98 + 100 + 60) / 3 = 86 %
    assert team["grr_pct"] == pytest.approx(89.0)
    assert r.table.loc["team", "csm_name"] == "Team"


def test_counts_and_arr_are_summed(book3):
    team = team_rollup(book3, Q2).team.iloc[0]
    # calls: a X1, b X3, c X4 + X5 = 4; touchpoints add a's email X2 = 5
    assert (team["calls"], team["touchpoints"]) == (4, 5)
    # book accounts 5, covered E1, M1, M2, S2 = 4 -> coverage 80 %
    assert team["coverage_pct"] == pytest.approx(80.0)
    assert team["beginning_arr"] == 2_000_000 and team["ending_arr"] == 1_820_000
    # logo churn: S1 of 5 cohort accounts = 20 % over the quarter
    assert team["logo_churn_pct"] == pytest.approx(20.0)
    assert team["sql_pipeline"] == 60_000


def test_segments_are_computed_on_accounts(book3):
    seg = team_rollup(book3, Q2).segments
    assert list(seg.index) == ["enterprise", "mid-market", "smb"]
    # enterprise = E1 only (a's), 600,000 -> 630,000: NRR 105 %, GRR 100 %
    assert seg.at["enterprise", "nrr_pct"] == pytest.approx(105.0)
    # mid-market = a's M1 and b's M2: begin 900,000, end 880,000 -> 97.78 % (not a's or b's figure)
    assert seg.at["mid-market", "beginning_arr"] == 900_000
    assert seg.at["mid-market", "nrr_pct"] == pytest.approx(100 * 880_000 / 900_000)
    # activity attributed by the account's segment: mid-market = X3 (b on M2) + X5 (c on a's M1) = 2 calls
    assert (seg.at["enterprise", "calls"], seg.at["mid-market", "calls"], seg.at["smb", "calls"]) == (1, 2, 1)
    # SQLs by the account's segment: Q1 on E1 50,000 (enterprise), Q2 on M1 10,000 (mid-market)
    assert (seg.at["enterprise", "sql_pipeline"], seg.at["mid-market", "sql_pipeline"]) == (50_000, 10_000)
    # smb coverage: S2 touched (X4), S1 not -> 50 %
    assert seg.at["smb", "coverage_pct"] == pytest.approx(50.0)


def test_slices_add_up_to_csms_and_segments(book3):
    slices = slice_parts(book3, Q2)
    # c's call on a's mid-market account makes a (c, mid-market) slice with no book accounts and 1 call
    assert slices.at[("c", "mid-market"), "book_accounts"] == 0 and slices.at[("c", "mid-market"), "calls"] == 1
    csm = metric_parts(book3, Q2)
    seg = segment_parts(book3, Q2)
    by_csm = slices.groupby(level="csm_id").sum()
    by_seg = slices.groupby(level="segment").sum()
    for key in PART_KEYS:
        for c in csm.index:
            assert by_csm.at[c, key] == pytest.approx(csm.at[c, key]), (c, key)
        for s in seg.index:
            assert by_seg.at[s, key] == pytest.approx(seg.at[s, key]), (s, key)


def test_teams_rollup_by_csms_team(book3):
    teams = team_rollup(book3, Q2).teams
    # East = a + b: begin 1,500,000, end 1,010,000 + 500,000 = 1,510,000 -> NRR 100.67 %; West = c: 62 %
    assert teams.at["East", "nrr_pct"] == pytest.approx(100 * 1_510_000 / 1_500_000)
    assert teams.at["West", "nrr_pct"] == pytest.approx(62.0)


def test_attainment_table_equals_each_scorecard(book3):
    table = attainment_table(book3, Q2)
    for csm in ("a", "b", "c"):
        mine = table.loc[table["csm_id"] == csm].drop(columns=["csm_id", "csm_name"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, scorecard(book3, csm, Q2).table, check_dtype=False)
    wide = attainment_matrix(table)
    assert list(wide.columns) == ["Ana", "Ben", "Cy"]
    # NRR attainment of c: 62 / 100 target = 62 % (100 % a year is 100 × 1 ** (3/12) = 100 % a quarter);
    # of a: quarterly target 100 × 1.14 ** (3/12) = 103.32995 % (114 % a year) -> 101 / 103.32995 = 97.745 %
    assert wide.at["NRR", "Cy"] == pytest.approx(62.0)
    assert wide.at["NRR", "Ana"] == pytest.approx(100 * 101 / 103.32995, abs=1e-4)
    text = attainment_matrix(table, text=True)
    assert text.at["NRR", "Cy"] == "62.0 % ❌"
    assert text.at["NRR", "Ana"] == "97.7 % ⚠️"  # 97.745 rounded down to one decimal: at risk (90 to 100)


def test_cli_team_json(book_dir, capsys):
    folder = book_dir(**three_csm_files())
    assert main(["team", "--data", str(folder), "--start", "2025-04", "--end", "2025-06", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["csm_id"] for c in out["csms"]] == ["a", "b", "c"]
    # each CSM object is exactly what `kpi-kit metrics --json` gives for that CSM
    single = csm_metrics(load_book(folder), "c", "2025-04", "2025-06")
    assert list(out["csms"][2]) == list(single)
    for key, value in single.items():
        assert out["csms"][2][key] == (pytest.approx(value) if isinstance(value, float) else value), key
    team = out["team"]
    assert set(single) <= set(team) and team["csm_id"] == "team" and team["csm_count"] == 3
    # counts and ARR summed: 4 calls, 2,000,000 beginning ARR; NRR recomputed: 1,820,000 / 2,000,000 = 91 %
    assert team["calls"] == 4 and isinstance(team["calls"], int)
    assert team["beginning_arr"] == 2_000_000.0 and team["nrr_pct"] == pytest.approx(91.0)
    assert [s["segment"] for s in out["segments"]] == ["enterprise", "mid-market", "smb"]
    assert out["segments"][1]["calls"] == 2
    assert {t["team"] for t in out["teams"]} == {"East", "West"}


def test_cli_team_table_and_errors(book_dir, capsys):
    folder = book_dir(**three_csm_files())
    assert main(["team", "--data", str(folder), "--start", "2025-04", "--end", "2025-06"]) == 0
    out = capsys.readouterr().out
    # the roll-up check compares the quarter's GRR targets with the quarter's goal: (97.93704 − 97.66193) %
    # × 2,000,000 = 5,502 of ARR short (worked out in tests/test_cascade.py)
    assert "Team (all CSMs)" in out and "segment: mid-market" in out and "$5,502 of ARR short" in out
    assert main(["team", "--data", str(folder), "--end", "2025-06"]) == 1
    assert "--end was given without --start" in capsys.readouterr().err


def test_cli_team_defaults_to_latest_full_quarter(book_dir, capsys):
    folder = book_dir(**three_csm_files())
    # ARR history ends 2025-06, which closes Q2 -> 2025-04..2025-06
    assert main(["team", "--data", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == {"start": "2025-04", "end": "2025-06", "months": 3}


def _load(files) -> object:
    folder = Path(tempfile.mkdtemp(prefix="kpi-team-"))
    return load_book(write_book(folder, **files))


def _same(a: object, b: object) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == pytest.approx(b)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
@example(EDGE_BOOKS[0])
@example(EDGE_BOOKS[1])
@example(EDGE_BOOKS[2])
def test_random_books_team_and_segments_equal_sum_of_parts(files):
    book = _load(files)
    r = team_rollup(book, PERIOD)
    parts, seg, team = r.csms, r.segments, r.team.iloc[0]
    assert list(parts.index) == [c["csm_id"] for c in files["csms"]]
    for key in PART_KEYS:
        # team part = Σ CSM parts = Σ segment parts (no accounts: no segments)
        assert _same(team[key], parts[key].sum(min_count=1)), key
        assert _same(team[key], seg[key].sum(min_count=1) if len(seg) else 0), key
    # percentages recomputed from the summed parts, never averaged
    begin = parts["beginning_arr"].sum()
    assert _same(team["nrr_pct"], 100 * parts["ending_arr"].sum() / begin if begin > 0 else float("nan"))
    assert _same(team["grr_pct"], 100 * parts["retained_arr"].sum() / begin if begin > 0 else float("nan"))
    books_n = parts["book_accounts"].sum()
    assert _same(team["coverage_pct"], 100 * parts["covered_accounts"].sum() / books_n if books_n else float("nan"))
    # the segments' roll-up is the team's roll-up
    if len(seg):
        seg_team = rollup(seg[[k for k in PART_KEYS]], PERIOD).iloc[0]
        for key in ("grr_pct", "nrr_pct", "coverage_pct", "logo_churn_pct", "sql_conversion_pct", "closed_alert_pct",
                    "lifecycle_compliance_pct"):
            assert _same(seg_team[key], team[key]), key


@pytest.mark.skipif(not HAS_SAMPLE, reason="data/sample not generated yet (python -m kpi_kit.sample)")
def test_sample_book_team_equals_sum_of_parts():
    book = load_book()
    r = team_rollup(book, Period.parse("2026-07", "2026-09"))
    out = r.to_json()
    csms = pd.DataFrame(out["csms"]).set_index("csm_id")
    team = out["team"]
    for key in PART_KEYS:
        assert team[key] == pytest.approx(csms[key].sum()), key
        assert team[key] == pytest.approx(sum(s[key] for s in out["segments"])), key
    assert team["nrr_pct"] == pytest.approx(100 * csms["ending_arr"].sum() / csms["beginning_arr"].sum())
    assert team["grr_pct"] == pytest.approx(100 * csms["retained_arr"].sum() / csms["beginning_arr"].sum())
    assert team["coverage_pct"] == pytest.approx(100 * csms["covered_accounts"].sum() / csms["book_accounts"].sum())


TEAM_NOTEBOOK = PROJECT / "notebooks" / "reports" / "team_report.ipynb"


def test_team_notebook_is_a_clean_template():
    import nbformat

    nb = nbformat.read(TEAM_NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    lines = [line for line in params[0].source.splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == ["start", "end", "data_dir", "as_of"]
    assert all(': str = ""  # ' in line for line in lines)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SAMPLE, reason="data/sample not generated yet (python -m kpi_kit.sample)")
def test_team_notebook_runs_on_sample(tmp_path):
    import papermill as pm

    out = tmp_path / "team.ipynb"
    pm.execute_notebook(str(TEAM_NOTEBOOK), str(out), parameters={"start": "2026-07", "end": "2026-09"},
                        kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    import nbformat

    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "Roll-up check" in text and "KPI cascade" in text
    assert "<svg" in text  # charts rendered as static SVG (offline)


@pytest.mark.slow
def test_report_run_renders_the_team_report_and_links_it(tmp_path):
    from kpi_kit.report import run_reports

    run = run_reports(csm_ids=["csm_01"], out_dir=tmp_path, workers=2, progress=False)
    assert run.exit_code == 0, run.summary()
    assert run.team_report is not None and run.team_report.ok
    team_html = (run.out_dir / "team_report.html").read_text(encoding="utf-8")
    # the manager's report shows every CSM side by side
    for name in load_book().csms["csm_name"]:
        assert name in team_html
    assert 'href="team_report.html"' in run.index.read_text(encoding="utf-8")


def test_attainment_matrix_has_no_stray_axis_name_row(book3):
    wide = attainment_matrix(attainment_table(book3, Q2), text=True)
    # pandas shows an index or columns name as an extra header row reading "label" over empty cells
    assert wide.index.name is None and wide.columns.name is None
    head = wide.to_html().split("<tbody>")[0]
    assert head.count("<tr") == 1 and "label" not in head
    assert "<th>Ana</th>" in head


def test_display_table_says_which_arr(book_dir):
    files = three_csm_files()
    # a new logo N1 for b, won during Q2 (no March ARR, 40,000 in June)
    files["accounts"].append({"account_id": "N1", "account_name": "N1 Co", "csm_id": "b", "segment": "mid-market",
                              "customer_since": "2025-05-01", "renewal_date": ""})
    files["arr_monthly"] += [{"month": "2025-06", "account_id": "N1", "arr": 40_000}]
    r = team_rollup(load_book(book_dir(**files)), Q2)
    table = r.display_table().set_index("who")
    assert list(table.columns)[5:9] == ["begin ARR", "end ARR (cohort)", "new-logo ARR", "GRR"]
    # end ARR (cohort) = the March accounts in June: 630,000 + 380,000 + 500,000 + 0 + 310,000 = 1,820,000;
    # N1 is new-logo ARR, not in NRR: NRR stays 1,820,000 / 2,000,000 = 91 %
    team = table.loc["Team (all CSMs)"]
    assert (team["end ARR (cohort)"], team["new-logo ARR"], team["NRR"]) == ("$1,820,000", "$40,000", "91.0 %")
    assert table.at["Ben (b)", "new-logo ARR"] == "$40,000"
    # together: the book's June ARR 1,820,000 + 40,000 = 1,860,000
    assert r.arr_bridge() == ("Book ARR at the end of 2025-06: $1,860,000 = end ARR (cohort) $1,820,000 + "
                              "new-logo ARR $40,000 (1 new logo).")
    html = r._repr_html_()
    assert "end ARR (cohort)" in html and "new-logo ARR: accounts won during the period" in html
    assert "in neither GRR nor NRR" in html


def test_headline_says_once_what_the_book_does_not_record(book_dir):
    from kpi_kit import fmt
    from kpi_kit.team import headline

    book = load_book(book_dir(**three_csm_files()))
    # GRR 1,780,000 / 2,000,000 = 89 %, NRR 91 %; coverage 4 of 5 = 80 %; calls X1 X3 X4 X5 = 4;
    # SQLs Q1 + Q2 = 2 worth 50,000 + 10,000 = 60,000
    assert headline(book, team_rollup(book, Q2)) == (
        "Team GRR 89.0 %, NRR 91.0 % on $2,000,000 of beginning ARR; coverage 80.0 %; 4 calls; "
        "2 SQLs worth $60,000.")
    # Markdown money escapes "$" (two amounts in one line would be LaTeX)
    assert "\\$2,000,000" in headline(book, team_rollup(book, Q2), fmt.markdown_money("USD"))
    # a book like the RavenStack import: no activities, SQLs or risk alerts recorded
    files = three_csm_files()
    for stem in ("activities", "sqls", "risk_alerts"):
        files.pop(stem, None)
    files["book"] = "name: Raven-like\nnot_recorded: [activities, sqls, risk_alerts]\n"
    raven = load_book(book_dir(**files))
    text = headline(raven, team_rollup(raven, Q2))
    assert text == ("Team GRR 89.0 %, NRR 91.0 % on $2,000,000 of beginning ARR. Activities, SQLs and risk alerts "
                    "are not recorded in this book: coverage, calls, SQL and alert figures read “no data”.")
    assert "no data calls" not in text and "no data SQLs" not in text
    # only SQLs missing: activities still speak
    files["book"] = "name: No SQLs\nnot_recorded: [sqls]\n"
    files["activities"] = three_csm_files()["activities"]
    files["risk_alerts"] = []
    no_sqls = load_book(book_dir(**files))
    assert headline(no_sqls, team_rollup(no_sqls, Q2)) == (
        "Team GRR 89.0 %, NRR 91.0 % on $2,000,000 of beginning ARR; coverage 80.0 %; 4 calls. "
        "SQLs are not recorded in this book: SQL figures read “no data”.")


def test_cli_team_explains_the_arr_columns(book_dir, capsys):
    folder = book_dir(**three_csm_files())
    assert main(["team", "--data", str(folder), "--start", "2025-04", "--end", "2025-06"]) == 0
    out = capsys.readouterr().out
    assert "end ARR (cohort)" in out and "in neither GRR nor NRR" in out
    # no new logos in this book: end ARR (cohort) is the whole June book
    assert "Book ARR at the end of 2025-06: $1,820,000 = end ARR (cohort) $1,820,000 + new-logo ARR $0 (0 new logos)." \
        in out
