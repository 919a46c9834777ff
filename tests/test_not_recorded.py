""""No data is not zero" in the reports: what a book cannot support never reads as 0 or "none".

Each test builds a small book (``tests.conftest.write_book``, or the sample book with ``not_recorded``
added to its ``book.yaml``) and checks one sentence or attribute the CSM / team report shows:

1. at-risk accounts — which criteria the book supports, or that the list cannot be built;
2. the forecast's description of how renewals are weighted — only what the book records;
3. no pay statement — said for a manager (the KPI and the missing file), the API error kept precise;
4. the team CSV — the monthly logo churn the reports show, next to the whole-period figure;
5. expansion signals — the count, seat use not recorded (not "0 seat expansions"), adoption low everywhere;
6. the two report templates on one book that records none of it (slow: papermill).
"""

from __future__ import annotations

import csv
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit import comp, report, strategic
from kpi_kit.data import SAMPLE_DIR, load_book
from kpi_kit.errors import KitError
from kpi_kit.forecast import forecast_retention, retention_method_words
from kpi_kit.metrics import team_metrics
from kpi_kit.periods import Period
from kpi_kit.scorecard import scorecard
from tests.conftest import arr_rows, write_book

Q2 = Period.parse("2025-04", "2025-06")
MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06")
CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}]
NEITHER = "This book records neither risk alerts nor account health scores, so at-risk accounts cannot be listed."


def _account(aid: str, health: float | str | None = None, renewal: str = "") -> dict:
    row = {"account_id": aid, "account_name": f"{aid} Co", "csm_id": "c1", "segment": "smb",
           "customer_since": "2024-01-01", "renewal_date": renewal}
    if health is not None:
        row["health_score"] = health
    return row


def _small_book(book_dir, *, health: list[float | str] | None, alerts: bool, sqls: bool = True):
    """Three live accounts (ARR 300, 200, 100 all quarter); A1 has an open alert when alerts are recorded.

    ``health`` gives the three accounts' scores (``None``: no ``health_score`` column at all); ``alerts`` and
    ``sqls`` False list those files in ``book.yaml`` ``not_recorded``.
    """
    ids = ["A1", "A2", "A3"]
    accounts = [_account(a, None if health is None else h) for a, h in zip(ids, health or [None] * 3, strict=True)]
    arr = [r for a, v in zip(ids, (300, 200, 100), strict=True) for r in arr_rows(a, dict.fromkeys(MONTHS, v))]
    files = {"csms": CSMS, "accounts": accounts, "arr_monthly": arr}
    if alerts:
        files["risk_alerts"] = [{"alert_id": "R1", "account_id": "A1", "flagged_date": "2025-05-01", "outcome": "open",
                                 "first_action_date": "", "resolved_date": ""}]
    missing = [name for name, ok in (("risk_alerts", alerts), ("sqls", sqls)) if not ok]
    if missing:
        files["book"] = f"not_recorded: [{', '.join(missing)}]\n"
    return load_book(book_dir(**files))


def _sample_with(tmp_path: Path, not_recorded: str) -> Path:
    folder = tmp_path / "book"
    shutil.copytree(SAMPLE_DIR, folder)
    with (folder / "book.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"\nnot_recorded: {not_recorded}\n")
    return folder


def _visible_text(html: str) -> str:
    body = html[html.index("<body"):]
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    return text.replace("&#x27;", "'").replace("&amp;", "&").replace("&quot;", '"')


# --------------------------------------------------------------------------------------------
# 1. at-risk accounts: criteria the book supports
# --------------------------------------------------------------------------------------------

def test_at_risk_without_alerts_or_health_cannot_be_judged(book_dir) -> None:
    book = _small_book(book_dir, health=None, alerts=False)
    table = strategic.at_risk_accounts(book, "c1", Q2)
    # nothing to judge by: the list is empty because it cannot be built, not because nobody is at risk
    assert table.empty
    assert table.attrs["criteria"] == () and table.attrs["recorded"] is False
    assert strategic.at_risk_words(table) == (NEITHER, NEITHER)


def test_a_blank_health_column_is_not_a_criterion(book_dir) -> None:
    book = _small_book(book_dir, health=["", "", ""], alerts=False)
    assert not strategic.health_recorded(book)
    table = strategic.at_risk_accounts(book, "c1", Q2)
    assert table.attrs["criteria"] == () and strategic.at_risk_words(table)[0] == NEITHER


def test_at_risk_with_alerts_only_says_health_is_not_used(book_dir) -> None:
    book = _small_book(book_dir, health=None, alerts=True)
    table = strategic.at_risk_accounts(book, "c1", Q2)
    # A1's open alert R1 (flagged 1 May) puts it on the list; nothing else can
    assert table["account_id"].tolist() == ["A1"]
    assert table.attrs["criteria"] == ("risk_alerts",) and table.attrs["recorded"] is True
    assert strategic.at_risk_words(table) == (
        "Open risk alerts. This book records no account health scores, so low health is not a criterion.",
        "No account has an open risk alert.")


def test_at_risk_with_health_only_says_alerts_are_not_used(book_dir) -> None:
    # A2 health 49.9 < 50 is at risk; A1 at 50 and A3 at 80 are not
    book = _small_book(book_dir, health=[50, 49.9, 80], alerts=False)
    table = strategic.at_risk_accounts(book, "c1", Q2)
    assert table["account_id"].tolist() == ["A2"]
    assert table.attrs["criteria"] == ("health_score",)
    assert strategic.at_risk_words(table) == (
        "A health score below 50. This book does not record risk alerts, so open alerts are not a criterion.",
        "No account has a health score below 50.")


def test_at_risk_with_both_keeps_the_full_definition(book_dir) -> None:
    book = _small_book(book_dir, health=[90, 90, 90], alerts=True)
    table = strategic.at_risk_accounts(book, "c1", Q2)
    assert table.attrs["criteria"] == ("risk_alerts", "health_score")
    assert strategic.at_risk_words(table) == ("Open risk alerts or a health score below 50.", "No at-risk accounts.")


# --------------------------------------------------------------------------------------------
# 2. the retention forecast says what its renewal probabilities rest on
# --------------------------------------------------------------------------------------------

def test_forecast_words_follow_what_the_book_records(book_dir) -> None:
    neither = _small_book(book_dir, health=None, alerts=False, sqls=False)
    words = retention_method_words(neither)
    assert words == ("every renewal still due renews with the same 85 % probability (the kit's assumption for an "
                     "account without a health score): this book records neither account health scores nor risk "
                     "alerts, so the forecast uses neither; this book does not record SQLs, so no expansion from "
                     "open SQLs is forecast")
    assert "health score (" not in retention_method_words(_small_book(book_dir, health=None, alerts=True))
    health_only = retention_method_words(_small_book(book_dir, health=[90, 60, 20], alerts=False))
    assert health_only.startswith("renewals still due renew with a probability from the account health score "
                                  "(70 or more: 95 %, 50 to under 70: 85 %, under 50: 60 %; 85 % without a score); "
                                  "this book does not record risk alerts, so open alerts do not lower it; open SQLs")
    both = retention_method_words(_small_book(book_dir, health=[90, 60, 20], alerts=True))
    assert "× 0.7 while a risk alert is open on the account" in both and "does not record" not in both


def test_without_health_or_alerts_every_renewal_gets_the_same_probability(book_dir) -> None:
    # what the words above claim, checked on the forecast itself: A1 and A2 renew in Q3, both at 0.85
    accounts = [_account("A1", renewal="2025-08-15"), _account("A2", renewal="2025-09-10"), _account("A3")]
    arr = [r for a in ("A1", "A2", "A3") for r in arr_rows(a, dict.fromkeys(MONTHS, 100))]
    book = load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, book="not_recorded: [risk_alerts, sqls]\n"))
    fc = forecast_retention(book, "c1", "2025-07..2025-09", "2025-06-30", n=200)
    due = fc.accounts.loc[fc.accounts["renews"]]
    assert due["account_id"].tolist() == ["A1", "A2"] and due["p_renew"].tolist() == [0.85, 0.85]
    # expected GRR = (0.85 × 100 + 0.85 × 100 + 1 × 100) / 300 = 90 %
    assert fc.expected_grr_pct == pytest.approx(90.0)


# --------------------------------------------------------------------------------------------
# 3. no pay statement, said for a manager
# --------------------------------------------------------------------------------------------

def test_no_pay_statement_names_the_kpi_and_the_file_not_the_config_key(tmp_path: Path) -> None:
    book = load_book(_sample_with(tmp_path, "[activities]"))
    card = scorecard(book, "csm_03", "2026-07", "2026-09")
    # the API and CLI keep the precise error
    with pytest.raises(KitError, match=r"metric 'activity' \(calls\) has no data \(target \d+, actual no data\)"):
        comp.statement(comp.load_plan(book.comp_plan), card)
    assert comp.no_statement_words(book.comp_plan, card, book) == (
        "No pay statement: the comp plan pays on Calls (call, meeting, QBR) — its 'activity' metric — which this "
        "book cannot measure: it does not record CSM activities (activities.csv).")
    # every metric without data is named, each with its reason
    plan = {**comp.DEFAULT_PLAN, "metrics": {"activity": {"weight": 0.5, "kpi": "calls"},
                                             "conversion": {"weight": 0.5, "kpi": "sql_conversion_pct"}}}
    both = load_book(_sample_with(tmp_path / "both", "[activities, sqls]"))
    words = comp.no_statement_words(plan, scorecard(both, "csm_03", "2026-07", "2026-09"), both)
    assert words == ("No pay statement: the comp plan pays on Calls (call, meeting, QBR) — its 'activity' metric — "
                     "which this book cannot measure: it does not record CSM activities (activities.csv); it also pays "
                     "on SQL conversion — its 'conversion' metric — which this book cannot measure: it does not record "
                     "SQLs (sqls.csv).")


def test_no_pay_statement_when_the_file_is_recorded_but_the_period_has_nothing(book_dir) -> None:
    # SQLs are recorded but none closed in Q2: SQL conversion has no data for this CSM, the file is not to blame
    book = _small_book(book_dir, health=None, alerts=True)
    card = scorecard(book, "c1", Q2)
    plan = {**comp.DEFAULT_PLAN, "metrics": {"retention": {"weight": 0.5, "kpi": "grr_pct"},
                                             "conversion": {"weight": 0.5, "kpi": "sql_conversion_pct"}}}
    assert comp.no_statement_words(plan, card, book) == (
        "No pay statement: the comp plan pays on SQL conversion — its 'conversion' metric — which has no data for "
        "this CSM in the period.")


def test_no_words_when_every_plan_metric_has_data() -> None:
    book = load_book()
    assert comp.no_statement_words(book.comp_plan, scorecard(book, "csm_03", "2026-07", "2026-09"), book) is None


# --------------------------------------------------------------------------------------------
# 4. the team CSV carries the monthly logo churn the reports show
# --------------------------------------------------------------------------------------------

def test_team_csv_has_monthly_churn_next_to_the_period_figure(book_dir, tmp_path: Path) -> None:
    # cohort A1..A4 (ARR in March); A4 is at 0 in June: logo churn 1/4 = 25 % for the quarter,
    # monthly equivalent 100 × (1 − 0.75^(1/3)) = 9.1440 % (0.75^(1/3) = 0.908560)
    ids = ["A1", "A2", "A3", "A4"]
    arr = [r for a in ids[:3] for r in arr_rows(a, dict.fromkeys(MONTHS, 100))]
    arr += arr_rows("A4", {"2025-03": 100, "2025-04": 100, "2025-05": 0, "2025-06": 0})
    book = load_book(book_dir(csms=CSMS, accounts=[_account(a) for a in ids], arr_monthly=arr))
    team = team_metrics(book, Q2)
    result = report.ReportResult(csm_id="c1", csm_name="Ana", ok=True, notebook=None, html=None)
    _, frame = report.build_index(book, Q2, [result], team, "2025-06-30", tmp_path)
    columns = list(frame.columns)
    at = columns.index("logo_churn_pct")
    assert columns[at + 1] == "logo_churn_monthly_pct"
    assert columns[columns.index("revenue_churn_pct") + 1] == "revenue_churn_monthly_pct"
    row = frame.iloc[0]
    assert row["logo_churn_pct"] == pytest.approx(25.0)
    assert row["logo_churn_monthly_pct"] == pytest.approx(9.1440, abs=1e-4)
    assert row["logo_churn_monthly_pct"] == pytest.approx(100 * (1 - 0.75 ** (1 / 3)))


# --------------------------------------------------------------------------------------------
# 5. expansion signals: the count, and what usage cannot tell
# --------------------------------------------------------------------------------------------

def _usage_book(book_dir, n: int, seats_used: str | int, adoption_top: float):
    """``n`` live accounts; usage in June: adoption ``adoption_top − (n − i)`` for account i, 10 seats bought."""
    ids = [f"A{i:02d}" for i in range(1, n + 1)]
    arr = [r for i, a in enumerate(ids, 1) for r in arr_rows(a, dict.fromkeys(MONTHS, 1000 * i))]
    usage = [{"month": "2025-06", "account_id": a, "feature_adoption_pct": adoption_top - (n - i),
              "seats_purchased": 10, "seats_used": seats_used} for i, a in enumerate(ids, 1)]
    return load_book(book_dir(csms=CSMS, accounts=[_account(a) for a in ids], arr_monthly=arr, usage=usage,
                              book="not_recorded: [sqls]\n"))


def test_expansion_words_count_and_seat_use_not_recorded(book_dir) -> None:
    # 30 accounts at 11..40 % adoption (all < 70), seats used blank
    book = _usage_book(book_dir, 30, "", 40.0)
    table = strategic.expansion_signals(book, "c1", "2025-06-30", period=Q2)
    assert len(table) == 30 and table["account_id"].iloc[0] == "A30"
    assert table.attrs["seats_recorded"] is False and table.attrs["highest_adoption_pct"] == 40.0
    assert strategic.expansion_words(table, limit=500) == (
        "30 accounts with an adoption signal, largest ARR first. Seat use is not recorded in this book, so seat "
        "expansion cannot be judged. Every account with usage data is below 70 % feature adoption (the highest is "
        "40 %), so the adoption signal singles no account out: check how this book measures feature adoption "
        "before acting on it.")
    # past the row limit the words say which rows are listed
    assert "The 25 with the largest ARR are listed, the other 5 are not." in strategic.expansion_words(
        table, limit=25)


def test_expansion_words_with_seats_recorded(book_dir) -> None:
    # 3 accounts at 68, 69, 70 % adoption with 9 of 10 seats used: A01, A02 both kinds, A03 seat expansion only
    book = _usage_book(book_dir, 3, 9, 70.0)
    table = strategic.expansion_signals(book, "c1", "2025-06-30", period=Q2)
    assert strategic.expansion_words(table) == (
        "3 accounts with a signal, largest ARR first: 2 adoption plays and 3 seat expansions (2 accounts have both).")
    # no overlap, no "both" clause: one account at 75 % adoption with 9 of 10 seats used
    single = strategic.expansion_signals(_usage_book(book_dir, 1, 9, 75.0), "c1", "2025-06-30", period=Q2)
    assert strategic.expansion_words(single) == (
        "1 account with a signal, largest ARR first: 0 adoption plays and 1 seat expansion.")
    # nothing to flag, and usage can judge both kinds: a plain "none" is true here (80 % adoption, 5 of 10 seats)
    none = strategic.expansion_signals(_usage_book(book_dir, 2, 5, 80.0), "c1", "2025-06-30", period=Q2)
    assert none.empty and strategic.expansion_words(none) == "No account has an expansion signal."
    # seats blank: "none" would be half invented, so only adoption is said to be clear
    blank = strategic.expansion_signals(_usage_book(book_dir, 2, "", 80.0), "c1", "2025-06-30", period=Q2)
    assert strategic.expansion_words(blank) == ("No account is below 70 % feature adoption. Seat use is not recorded "
                                                "in this book, so seat expansion cannot be judged.")


def test_expansion_words_without_usage(book_dir) -> None:
    book = _small_book(book_dir, health=None, alerts=True)
    table = strategic.expansion_signals(book, "c1", "2025-06-30", period=Q2)
    assert strategic.expansion_words(table) == (
        "This book does not record product usage, so there are no expansion signals to judge.")


# --------------------------------------------------------------------------------------------
# 6. the templates on a book that records none of it
# --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_reports_say_what_the_book_cannot_support(book_dir, tmp_path: Path) -> None:
    ids = [f"A{i:02d}" for i in range(1, 31)]
    arr = [r for i, a in enumerate(ids, 1) for r in arr_rows(a, dict.fromkeys(MONTHS, 1000 * i))]
    usage = [{"month": "2025-06", "account_id": a, "feature_adoption_pct": 10 + i, "seats_purchased": 10,
              "seats_used": ""} for i, a in enumerate(ids, 1)]
    folder = book_dir(csms=CSMS, accounts=[_account(a, renewal="2025-08-15") for a in ids], arr_monthly=arr,
                      usage=usage, book="name: Nothing recorded\nnot_recorded: [activities, risk_alerts, sqls]\n")
    run = report.run_reports(data_dir=folder, start="2025-04", end="2025-06", out_dir=tmp_path / "out", workers=1,
                             progress=False)
    assert run.exit_code == 0, run.summary()
    csm = _visible_text(run.results[0].html.read_text(encoding="utf-8"))
    assert NEITHER in csm and "No at-risk accounts" not in csm
    assert ("No pay statement: the comp plan pays on Calls (call, meeting, QBR) — its 'activity' metric — which this "
            "book cannot measure: it does not record CSM activities (activities.csv).") in csm
    assert "cannot be paid on" not in csm
    # 30 signals, all listed (the old 25-row table ended with "… and 5 more.")
    assert "30 accounts with an adoption signal, largest ARR first." in csm
    assert "Seat use is not recorded in this book" in csm and "below 70 % feature adoption (the highest is 40 %)" in csm
    signals = csm[csm.index("Expansion signals (SQL candidates)"):csm.index("4. Charts")]
    assert signals.count(" Co ") == 30 and "A01 Co" in signals and "more." not in signals
    # all 30 renew on 15 Aug, within 90 days of 30 June: every one listed too
    renewals = csm[csm.index("Renewals in the next 90 days"):csm.index("Missed lifecycle touchpoints")]
    assert renewals.count(" Co ") == 30 and "more." not in renewals
    team = _visible_text((run.out_dir / "team_report.html").read_text(encoding="utf-8"))
    assert "from account health and open risk alerts" not in team
    assert ("every renewal still due renews with the same 85 % probability (the kit's assumption for an account "
            "without a health score): this book records neither account health scores nor risk alerts, so the "
            "forecast uses neither") in team
    with (run.out_dir / "team_scorecard.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[header.index("logo_churn_pct") + 1] == "logo_churn_monthly_pct"
    assert not math.isnan(pd.read_csv(run.out_dir / "team_scorecard.csv")["logo_churn_monthly_pct"].iloc[0])


def test_the_one_on_one_summary_never_counts_zero_at_risk_it_cannot_judge(book_dir) -> None:
    from kpi_kit.one_on_one import one_on_one

    blind = one_on_one(_small_book(book_dir, health=None, alerts=False), "c1", Q2).strategic_summary()
    assert "0 at-risk" not in blind
    assert blind.startswith("at-risk accounts cannot be listed (no risk alerts or health scores recorded)")
    # with alerts recorded: A1's open alert (flagged 2025-05-01) makes it the one at-risk account
    seen = one_on_one(_small_book(book_dir, health=None, alerts=True), "c1", Q2).strategic_summary()
    assert seen.startswith("1 at-risk account(s)")
