"""Hand-computed tests for pacing, the retention forecast, weekly tracking and attainment samples.

Every expected value is worked out in the comment next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_kit.calendar import FiscalCalendar
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.forecast import (
    RenewalModel,
    attainment_samples,
    band,
    forecast_retention,
    historical_conversion,
    pace,
    pace_board,
    pace_kpi,
    period_progress,
    resolve_period,
    weekly_tracking,
)
from kpi_kit.metrics import csm_metrics
from tests.conftest import arr_rows

CSMS = [{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}]


def acc(aid: str, csm: str = "csm_a", renewal: str = "", health: float | str = "", segment: str = "mid-market") -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": renewal, "health_score": health}


def act(i: int, date: str, aid: str, kind: str, csm: str = "csm_a") -> dict:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": csm, "type": kind, "purpose": ""}


def sql(i: int, created: str, aid: str, amount: float, status: str, closed: str = "", csm: str = "csm_a") -> dict:
    return {"sql_id": f"S{i}", "created_date": created, "account_id": aid, "csm_id": csm, "expansion_arr": amount,
            "status": status, "closed_date": closed}


# ------------------------------------------------------------------------------------------------
# elapsed time
# ------------------------------------------------------------------------------------------------

def test_period_progress_counts_both_ends():
    p = period_progress("2025-02-01", "2025-04-30", "2025-03-15")
    # Feb 1..Mar 15 = 28 + 15 = 43 days; the quarter = 28 + 31 + 30 = 89 days
    assert (p.elapsed_days, p.total_days, p.days_left) == (43, 89, 46)
    assert p.fraction == pytest.approx(43 / 89)
    assert round(100 * p.fraction, 1) == 48.3
    # working days: Feb 2025 has 20 (3-7, 10-14, 17-21, 24-28), Mar 21 (…, 31), Apr 22 (1-4, 7-11, 14-18,
    # 21-25, 28-30) = 63; elapsed = Feb 20 + Mar 3-14 (10) = 30; left = Mar 17-21, 24-28, 31 (11) + Apr 22 = 33
    assert (p.working_days_total, p.working_days_elapsed, p.working_days_left) == (63, 30, 33)
    # Good Friday 2025-04-18 as a holiday removes one working day left
    assert period_progress("2025-02-01", "2025-04-30", "2025-03-15", holidays=["2025-04-18"]).working_days_left == 32


def test_period_progress_before_and_after():
    before = period_progress("2026-07-01", "2026-09-30", "2026-06-15")
    # nothing elapsed, all 92 days (31 + 31 + 30) left
    assert (before.elapsed_days, before.days_left, before.fraction) == (0, 92, 0.0)
    after = period_progress("2026-07-01", "2026-09-30", "2026-10-15")
    assert (after.elapsed_days, after.days_left, after.fraction, after.working_days_left) == (92, 0, 1.0, 0)
    last = period_progress("2026-07-01", "2026-09-30", "2026-09-30")
    assert (last.fraction, last.days_left) == (1.0, 0)


def test_resolve_period_uses_the_fiscal_calendar():
    # fiscal year starting in February: the quarter containing 2025-03-15 is Feb..Apr
    assert str(resolve_period("quarter", "2025-03-15", FiscalCalendar(2))) == "2025-02..2025-04"
    # calendar quarters by default
    assert str(resolve_period("quarter", "2025-03-15")) == "2025-01..2025-03"
    assert str(resolve_period("year", "2025-03-15", FiscalCalendar(2))) == "2025-02..2026-01"
    assert str(resolve_period(("2026-07", "2026-09"))) == "2026-07..2026-09"
    with pytest.raises(KitError, match="as_of"):
        resolve_period("quarter")


# ------------------------------------------------------------------------------------------------
# pure pacing
# ------------------------------------------------------------------------------------------------

def test_seed_five_calls_in_week_one_is_on_track_for_twenty():
    # week 1 of a 28-day month: f = 7/28 = 0.25; projection 5 / 0.25 = 20 = target -> on track
    p = pace(5, 20, 7 / 28, days_left=21, working_days_left=15)
    assert p.projection == pytest.approx(20.0)
    assert p.ratio == pytest.approx(1.0)
    assert p.status == "on track"
    # pace line 20 × 0.25 = 5; remaining 15 over 21 days = 5 a week; over 15 working days = 1 a day
    assert p.expected_to_date == pytest.approx(5.0)
    assert (p.remaining, p.per_week, p.per_working_day) == (15.0, pytest.approx(5.0), pytest.approx(1.0))


def test_seed_coverage_forty_percent_is_on_track_for_ninety():
    # saturating rule at f = 1/4: projection 100 × (1 − 0.6^4) = 100 × (1 − 0.1296) = 87.04
    p = pace(40, 90, 0.25, curve="saturating")
    assert p.projection == pytest.approx(87.04)
    # 87.04 / 90 = 0.96711 >= 0.95 -> on track
    assert p.ratio == pytest.approx(87.04 / 90)
    assert p.status == "on track"
    # pace line 100 × (1 − 0.1^0.25) = 100 × (1 − 0.562341) = 43.7659
    assert p.expected_to_date == pytest.approx(43.7659, abs=1e-4)
    # the same 40 % after a full month of a quarter (f = 31/92) is behind:
    # 0.6^(92/31) = exp(2.967742 × ln 0.6 = −1.515961) = 0.219600 -> 78.04 %, 78.04 / 90 = 0.867
    late = pace(40, 90, 31 / 92, curve="saturating")
    assert late.projection == pytest.approx(78.04, abs=0.01)
    assert late.status == "behind"


def test_other_as_of_dates_change_the_seed_verdicts():
    # 1 SQL after month 1 of a 92-day quarter: f = 31/92 = 0.336957; 1 / f = 2.9677; 2.9677 / 4 = 0.742 -> behind
    one_sql = pace(1, 4, 31 / 92)
    assert one_sql.projection == pytest.approx(92 / 31) and one_sql.status == "behind"
    # on track needs at least 0.95 × 4 × 31/92 = 1.2804 SQLs by then, i.e. 2
    assert pace(2, 4, 31 / 92).status == "ahead"      # 2 × 92/31 = 5.94 -> 1.48
    # 5 calls in the first 7 days of a 30-day month: 5 × 30/7 = 21.43 -> 1.071 -> ahead
    five = pace(5, 20, 7 / 30)
    assert five.projection == pytest.approx(150 / 7) and five.status == "ahead"


def test_status_band_boundaries():
    # ratio exactly 0.95 and 1.05 are on track (inclusive), just outside is behind / ahead
    assert pace(19, 20, 1.0).status == "on track"       # 19 / 20 = 0.95
    assert pace(18.99, 20, 1.0).status == "behind"      # 0.9495
    assert pace(21, 20, 1.0).status == "on track"       # 1.05
    assert pace(21.01, 20, 1.0).status == "ahead"       # 1.0505
    assert pace(9.5, 20, 0.5).status == "on track"      # projection 19 -> 0.95
    assert pace(9.5, 20, 0.5, tolerance=0.0).status == "behind"
    assert (band(0.95), band(0.9499), band(1.05), band(1.0501)) == ("on track", "behind", "on track", "ahead")


def test_zero_elapsed_has_no_projection():
    p = pace(0, 20, 0.0, days_left=28, working_days_left=20)
    assert p.status == "not started"
    assert p.projection is None and p.ratio is None
    # pace line 20 × 0 = 0; the whole target remains: 20 × 7 / 28 = 5 a week, 20 / 20 = 1 a working day
    assert p.expected_to_date == 0.0
    assert (p.remaining, p.per_week, p.per_working_day) == (20.0, 5.0, 1.0)


def test_level_curve_and_missing_values():
    # a rate to date is its own projection: 80 / 100 = 0.8 -> behind; no remaining/run-rate for rates
    p = pace(80, 100, 0.4, curve="level")
    assert (p.projection, p.status, p.remaining, p.per_week) == (80.0, "behind", None, None)
    assert pace(None, 20, 0.5).status == "no data"
    assert pace(5, 0, 0.5).status == "no target"
    assert pace(5, None, 0.5).status == "no target"
    # already past the target: nothing remains, run-rate 0
    done = pace(25, 20, 0.5, days_left=14, working_days_left=10)
    assert (done.status, done.remaining, done.per_week, done.per_working_day) == ("ahead", 0.0, 0.0, 0.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"actual": 5, "target": 20, "elapsed_fraction": 1.2}, "between 0 and 1"),
    ({"actual": -1, "target": 20, "elapsed_fraction": 0.5}, ">= 0"),
    ({"actual": 120, "target": 90, "elapsed_fraction": 0.5, "curve": "saturating"}, "0 to 100"),
    ({"actual": 5, "target": 20, "elapsed_fraction": 0.5, "curve": "cubic"}, "curve"),
    ({"actual": "5", "target": 20, "elapsed_fraction": 0.5}, "must be a number"),
    ({"actual": 5, "target": 20, "elapsed_fraction": 0.5, "days_left": -3}, "days_left"),
])
def test_pace_rejects_bad_input(kwargs, match):
    with pytest.raises(KitError, match=match):
        pace(**kwargs)


# ------------------------------------------------------------------------------------------------
# pacing from a book
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def pacing_book(book_dir):
    """csm_a: 10 book accounts; February 2027 (starts on a Monday, 28 days) and Q3 2026 activity."""
    accounts = [acc(f"A{i}") for i in range(1, 11)]
    arr = []
    for i in range(1, 11):
        arr += arr_rows(f"A{i}", {"2026-06": 10_000, "2026-09": 10_000, "2027-01": 10_000, "2027-02": 10_000})
    acts = [
        # 2027-02-01..05: 5 calls (call, meeting, qbr types) + 1 email; 2027-02-08 is after the as_of
        act(1, "2027-02-01", "A1", "call"), act(2, "2027-02-02", "A2", "meeting"), act(3, "2027-02-03", "A3", "qbr"),
        act(4, "2027-02-04", "A4", "call"), act(5, "2027-02-05", "A5", "call"), act(6, "2027-02-05", "A6", "email"),
        act(7, "2027-02-08", "A7", "call"),
        # Q3 2026 up to 2026-07-23: A1..A4 touched (40 % of 10); A5 touched on 07-24, after the as_of
        act(10, "2026-07-02", "A1", "email"), act(11, "2026-07-09", "A2", "call"), act(12, "2026-07-15", "A3", "email"),
        act(13, "2026-07-23", "A4", "check_in", csm="csm_b"), act(14, "2026-07-24", "A5", "call"),
    ]
    sqls = [sql(1, "2026-07-10", "A1", 30_000, "open"), sql(2, "2026-07-24", "A2", 10_000, "open")]
    return load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, activities=acts, sqls=sqls))


def test_pace_kpi_calls_week_one_of_four(pacing_book):
    # February 2027: Mon 1 .. Sun 28; as of Sun 7: 7/28 = 25 %; 5 calls, monthly target 20 -> projection 20
    p = pace_kpi(pacing_book, "csm_a", "calls", "2027-02", "2027-02-07")
    assert (p.actual, p.target, p.elapsed_fraction) == (5.0, 20.0, 0.25)
    assert p.projection == pytest.approx(20.0)
    assert p.status == "on track"
    # 15 calls left over 21 days (5 a week) and 15 working days (Feb 8-12, 15-19, 22-26): 1 a day
    assert (p.days_left, p.working_days_left) == (21, 15)
    assert (p.per_week, p.per_working_day) == (pytest.approx(5.0), pytest.approx(1.0))
    assert "on track" in p.sentence() and "Calls" in p.sentence()


def test_pace_kpi_one_sql_a_quarter_in(pacing_book):
    # Q3 2026 = 92 days; as of 2026-07-23: 23/92 = 25 %; 1 SQL (S2 is created the day after) -> projection 4
    p = pace_kpi(pacing_book, "csm_a", "sqls", "quarter", "2026-07-23")
    assert p.period == "2026-07..2026-09"
    assert (p.actual, p.target, p.elapsed_fraction) == (1.0, 4.0, 0.25)
    assert p.projection == pytest.approx(4.0)
    assert p.status == "on track"
    # 3 SQLs over the 69 days left: 3 × 7 / 69 = 0.30435 a week; working days left: Jul 24, 27-31 (6),
    # Aug 3-7, 10-14, 17-21, 24-28, 31 (21), Sep 1-4, 7-11, 14-18, 21-25, 28-30 (22) = 49 -> 3 / 49
    assert p.days_left == 69 and p.working_days_left == 49
    assert p.per_week == pytest.approx(21 / 69)
    assert p.per_working_day == pytest.approx(3 / 49)


def test_pace_kpi_coverage_forty_percent(pacing_book):
    # 4 of 10 book accounts touched by 2026-07-23 (anyone's activity counts) = 40 %, f = 0.25 -> 87.04 %
    p = pace_kpi(pacing_book, "csm_a", "coverage_pct", "quarter", "2026-07-23")
    assert p.actual == pytest.approx(40.0)
    assert p.projection == pytest.approx(87.04)
    assert p.status == "on track"
    # 90 % of 10 = 9 accounts, 4 covered -> 5 more; 5 × 7 / 69 days = 0.5 a week
    assert p.note.startswith("5 more of 10 accounts to engage (0.5 a week)")


def test_pace_kpi_after_the_period_is_final(pacing_book):
    # as of 2027-03-10 February is over: f = 1; all 6 February calls count (the 5 of week 1 + 02-08),
    # the projection is the actual 6 -> 6 / 20 = 0.3, behind
    p = pace_kpi(pacing_book, "csm_a", "calls", "2027-02", "2027-03-10")
    assert p.final and p.elapsed_fraction == 1.0
    assert p.projection == 6.0 and p.status == "behind"
    # 14 calls short with no day left: no run-rate can fix it
    assert (p.remaining, p.days_left, p.per_week, p.per_working_day) == (14.0, 0, None, None)


def test_pace_kpi_before_the_period_has_not_started(pacing_book):
    p = pace_kpi(pacing_book, "csm_a", "calls", "2027-02", "2027-01-20")
    # nothing elapsed; all 28 days and 20 working days left: 20 × 7 / 28 = 5 a week, 20 / 20 = 1 a day
    assert (p.status, p.actual, p.days_left, p.working_days_left) == ("not started", 0.0, 28, 20)
    assert (p.per_week, p.per_working_day) == (5.0, 1.0)


def test_pace_kpi_refuses_retention_and_unknown(pacing_book):
    with pytest.raises(KitError, match="forecast_retention"):
        pace_kpi(pacing_book, "csm_a", "grr_pct", "quarter", "2026-07-23")
    with pytest.raises(KitError, match="pace-able KPIs"):
        pace_kpi(pacing_book, "csm_a", "logo_churn_monthly_pct", "quarter", "2026-07-23")
    with pytest.raises(KitError, match="unknown CSM"):
        pace_kpi(pacing_book, "nobody", "calls", "quarter", "2026-07-23")


def test_pace_board_matches_single_kpis(pacing_book):
    board = pace_board(pacing_book, "csm_a", "quarter", "2026-07-23", kpis=["calls", "sqls", "coverage_pct"])
    assert list(board.table["kpi"]) == ["calls", "sqls", "coverage_pct"]
    # calls by csm_a in Q3 up to 07-23: the call on 07-09 only -> 1; target 60; projection 1 / 0.25 = 4
    calls = board.table.set_index("kpi").loc["calls"]
    assert (calls["actual"], calls["target"], calls["projection"], calls["status"]) == (1.0, 60.0, 4.0, "behind")
    assert board.table.set_index("kpi").loc["sqls", "status"] == "on track"
    assert "Pacing" in board._repr_html_()


# ------------------------------------------------------------------------------------------------
# renewal model and conversion
# ------------------------------------------------------------------------------------------------

def test_renewal_model_bands():
    m = RenewalModel()
    health = pd.Series([70.0, 69.99, 50.0, 49.99, 0.0, np.nan, 90.0])
    alert = pd.Series([False, False, False, False, False, False, True])
    # >= 70: 0.95; 50..<70: 0.85; < 50: 0.6; unknown: 0.85; open alert: 0.95 × 0.7 = 0.665
    assert m.probabilities(health, alert).round(6).tolist() == [0.95, 0.85, 0.85, 0.6, 0.6, 0.85, 0.665]
    custom = RenewalModel.from_mapping({"bands": [[80, 0.9], [0, 0.5]], "open_alert_factor": 0.5})
    # 85 -> 0.9; 79 -> 0.5; 79 with an alert -> 0.25
    assert custom.probabilities(pd.Series([85.0, 79.0, 79.0]), pd.Series([False, False, True])).tolist() == [0.9, 0.5, 0.25]
    with pytest.raises(KitError, match="decrease strictly and end at 0"):
        RenewalModel(bands=((50.0, 0.9), (70.0, 0.8), (0.0, 0.5)))
    with pytest.raises(KitError, match="from 0 to 1"):
        RenewalModel(open_alert_factor=1.5)
    with pytest.raises(KitError, match="unknown key"):
        RenewalModel.from_mapping({"band": []})


@pytest.fixture
def forecast_files() -> dict:
    """csm_a's cohort of five mid-market accounts (600,000 beginning ARR for Q4 2026) and csm_b's one account."""
    accounts = [
        acc("A1", renewal="2026-11-15", health=80),   # renews in Q4, healthy: p = 0.95
        acc("A2", renewal="2026-12-01", health=60),   # renews in Q4, 50-70 with an open alert: 0.85 × 0.7 = 0.595
        acc("A3", renewal="2027-02-01", health=40),   # renews after Q4: kept (p = 1)
        acc("A4", renewal="2026-10-10", health=30),   # renews in Q4, low health: p = 0.6
        acc("A5", renewal="2026-10-20", health=""),   # renews in Q4, no health score: p = 0.85
        acc("B1", csm="csm_b", renewal="2027-05-01", health=90),
    ]
    arr = [
        *arr_rows("A1", {"2026-09": 100_000, "2026-10": 100_000}),
        *arr_rows("A2", {"2026-09": 200_000, "2026-10": 150_000}),  # contracted in October
        *arr_rows("A3", {"2026-09": 100_000, "2026-10": 100_000}),
        *arr_rows("A4", {"2026-09": 100_000, "2026-10": 120_000}),  # renewed 10-10 with expansion
        *arr_rows("A5", {"2026-09": 100_000}),                      # churned at its 10-20 renewal
        *arr_rows("B1", {"2026-09": 50_000, "2026-10": 50_000}),
    ]
    sqls = [
        sql(1, "2026-08-01", "A1", 50_000, "open"),
        sql(2, "2026-09-01", "A3", 40_000, "won", "2026-10-15"),   # open on 09-30, won on 10-15
        sql(3, "2026-10-05", "A5", 99_000, "open"),               # created after 09-30
        sql(4, "2026-01-10", "A1", 10_000, "won", "2026-06-01"),
        sql(5, "2026-01-10", "A2", 10_000, "lost", "2026-03-01"),
        sql(6, "2026-01-10", "A3", 10_000, "lost", "2026-05-01"),
        sql(7, "2026-01-10", "A4", 10_000, "lost", "2026-08-01"),
        sql(8, "2025-06-10", "A4", 10_000, "lost", "2025-09-30"),  # exactly 12 months before 2026-09-30: outside
    ]
    alerts = [
        {"alert_id": "R1", "account_id": "A2", "flagged_date": "2026-09-10", "outcome": "open"},
        {"alert_id": "R2", "account_id": "A1", "flagged_date": "2026-08-01", "outcome": "saved",
         "first_action_date": "2026-08-02", "resolved_date": "2026-09-01"},   # closed before 09-30
    ]
    return {"csms": CSMS, "accounts": accounts, "arr_monthly": arr, "sqls": sqls, "risk_alerts": alerts}


@pytest.fixture
def forecast_book(book_dir, forecast_files):
    return load_book(book_dir(**forecast_files))


def test_historical_conversion_window_and_fallbacks(forecast_book, book_dir):
    c = historical_conversion(forecast_book, "csm_a", "2026-09-30")
    # closed in (2025-09-30, 2026-09-30]: won S4; lost S5, S6, S7 (S8 on 2025-09-30 is outside) -> 1 / 4
    assert (c.won, c.lost, c.rate, c.source) == (1, 3, 0.25, "csm")
    # csm_b closed none: the team's rate (the same four SQLs) is used
    assert (historical_conversion(forecast_book, "csm_b", "2026-09-30").source,
            historical_conversion(forecast_book, "csm_b", "2026-09-30").rate) == ("team", 0.25)
    # a book where nobody closed an SQL: the sql_conversion_pct target (25 %) is assumed
    empty = load_book(book_dir(csms=CSMS, accounts=[acc("A1")], arr_monthly=arr_rows("A1", {"2026-09": 1.0})))
    assert (historical_conversion(empty, "csm_a", "2026-09-30").rate,
            historical_conversion(empty, "csm_a", "2026-09-30").source) == (0.25, "target")


def test_forecast_expected_values_exact(forecast_book):
    fc = forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", n=2000)
    assert fc.known_month == "2026-09"
    # B = 100k + 200k + 100k + 100k + 100k = 600,000; current = beginning ARR (known month 2026-09)
    assert fc.beginning_arr == 600_000
    # E[retained] = .95×100k + .595×200k + 1×100k + .6×100k + .85×100k
    #             = 95,000 + 119,000 + 100,000 + 60,000 + 85,000 = 459,000 -> GRR 76.5 %
    assert fc.expected_retained_arr == pytest.approx(459_000)
    assert fc.expected_grr_pct == pytest.approx(76.5)
    # open SQLs on 09-30: S1 (A1, 50k) -> .95 × .25 × 50,000 = 11,875; S2 (A3, 40k) -> 1 × .25 × 40,000 = 10,000
    assert fc.expected_expansion_arr == pytest.approx(21_875)
    # E[ending] = 459,000 + 21,875 = 480,875 -> NRR 80.1458 %
    assert fc.expected_ending_arr == pytest.approx(480_875)
    assert fc.expected_nrr_pct == pytest.approx(100 * 480_875 / 600_000)
    assert sorted(fc.sqls["sql_id"]) == ["S1", "S2"]
    t = fc.table.set_index("kpi")
    # mid-market targets GRR 90, NRR 105 a year; for the quarter 100 × 0.90 ** (3/12) = 97.40037 % and
    # 100 × 1.05 ** (3/12) = 101.22722 %. Gaps (97.40037 − 76.5) % × 600,000 = 20.90037 × 6,000 = 125,402.2
    # and (101.22722 − 80.14583) % × 600,000 = 21.08139 × 6,000 = 126,488.3 (80.14583 = 100 × 480,875 / 600,000)
    assert t.loc["grr_pct", "target"] == pytest.approx(97.40037, abs=1e-5)
    assert t.loc["nrr_pct", "target"] == pytest.approx(101.22722, abs=1e-5)
    assert (t.loc["grr_pct", "target_annual"], t.loc["nrr_pct", "target_annual"]) == (90.0, 105.0)
    assert (fc.grr_target_annual, fc.nrr_target_annual) == (90.0, 105.0)
    assert t.loc["grr_pct", "gap_arr"] == pytest.approx(125_402.2, abs=1)
    assert t.loc["nrr_pct", "gap_arr"] == pytest.approx(126_488.3, abs=1)
    # 76.5 / 97.40037 = 0.785 -> behind
    assert t.loc["grr_pct", "status"] == "behind"
    assert "vs target 97.4 % for the quarter (90.0 % a year), $125,402 of ARR short" in fc.sentence()
    assert fc.accounts.set_index("account_id")["p_renew"].round(6).to_dict() == {
        "A1": 0.95, "A2": 0.595, "A3": 1.0, "A4": 0.6, "A5": 0.85}


def test_forecast_mid_period_uses_known_month(forecast_book):
    fc = forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-10-31", n=500)
    # 2026-10-31 is a month end, so October's ARR is known; renewals after 10-31 are still to come
    assert fc.known_month == "2026-10"
    acc_ = fc.accounts.set_index("account_id")
    assert acc_["renews"].to_dict() == {"A1": True, "A2": True, "A3": False, "A4": False, "A5": False}
    # E[retained] = .95×min(100k,100k) + .595×min(150k,200k) + 100k + min(120k,100k) + 0 (A5 churned)
    #             = 95,000 + 89,250 + 100,000 + 100,000 = 384,250 -> GRR 64.0417 %
    assert fc.expected_grr_pct == pytest.approx(100 * 384_250 / 600_000)
    # conversion in (2025-10-31, 2026-10-31]: won S4, S2; lost S5, S6, S7 -> 2/5 = 0.4
    assert fc.conversion.rate == pytest.approx(0.4)
    # open SQLs on 10-31: S1 (A1) .95 × .4 × 50,000 = 19,000; S3 on churned A5 -> 0 × .4 × 99,000 = 0
    # E[ending] = 95,000 + 89,250 + 100,000 + 120,000 + 0 + 19,000 = 423,250 -> NRR 70.5417 %
    assert fc.expected_nrr_pct == pytest.approx(100 * 423_250 / 600_000)


def test_forecast_monte_carlo_is_seeded_and_brackets_expected(forecast_book):
    a = forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", n=20_000, seed=7)
    b = forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", n=20_000, seed=7)
    c = forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", n=20_000, seed=8)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    assert a.grr_band == b.grr_band
    assert not a.samples.equals(c.samples)
    p10, p50, p90 = a.grr_band
    assert p10 <= a.expected_grr_pct <= p90 and p10 <= p50 <= p90
    n10, _, n90 = a.nrr_band
    assert n10 <= a.expected_nrr_pct <= n90
    # Var[retained] = Σ p(1−p)v² = .95×.05×1e10 + .595×.405×4e10 + .6×.4×1e10 + .85×.15×1e10
    #              = 4.75e8 + 9.639e9 + 2.4e9 + 1.275e9 = 1.3789e10 -> sd 117,427 ARR = 19.57 GRR points;
    # standard error of the mean of 20,000 draws = 0.138 points; 4 SE = 0.55
    assert abs(a.samples["grr_pct"].mean() - 76.5) < 0.55
    # every draw lies between "all renewals churn" (A3 only: 100k / 600k = 16.67 %) and 100 %
    assert a.samples["grr_pct"].min() >= 100 / 6 - 1e-9 and a.samples["grr_pct"].max() <= 100 + 1e-9
    assert "Retention forecast" in a._repr_html_()


def test_forecast_without_renewals_is_certain(forecast_book):
    fc = forecast_retention(forecast_book, "csm_b", "2026-10..2026-12", "2026-09-30", n=300)
    # B1 renews in 2027: no uncertainty, GRR = NRR = 100 % in every draw
    assert fc.expected_grr_pct == pytest.approx(100.0) and fc.expected_nrr_pct == pytest.approx(100.0)
    assert fc.grr_band == (100.0, 100.0, 100.0)
    t = fc.table.set_index("kpi")
    # 100 ≥ 90 target in every draw
    assert t.loc["grr_pct", "chance_on_target"] == 1.0


def test_forecast_rejects_bad_arguments(forecast_book):
    with pytest.raises(KitError, match="before the period's beginning ARR"):
        forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-15")
    with pytest.raises(KitError, match="number of simulations"):
        forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", n=0)
    with pytest.raises(KitError, match="seed"):
        forecast_retention(forecast_book, "csm_a", "2026-10..2026-12", "2026-09-30", seed=-1)


# ------------------------------------------------------------------------------------------------
# weekly tracking
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def weekly_book(book_dir):
    """July 2026 (Wednesday 1 .. Friday 31) for csm_a's five accounts, tracked up to Sunday 2026-07-19."""
    accounts = [acc(f"A{i}") for i in range(1, 6)] + [acc("B1", csm="csm_b")]
    arr = [r for i in range(1, 6) for r in arr_rows(f"A{i}", {"2026-06": 1_000, "2026-07": 1_000})]
    arr += arr_rows("B1", {"2026-06": 1_000, "2026-07": 1_000})
    acts = [
        act(1, "2026-06-30", "A1", "call"),              # same ISO week, but before the period
        act(2, "2026-07-01", "A1", "call"), act(3, "2026-07-02", "A2", "email"), act(4, "2026-07-03", "A1", "meeting"),
        act(5, "2026-07-07", "A3", "call"), act(6, "2026-07-08", "A1", "qbr"), act(7, "2026-07-09", "A4", "automated_email"),
        act(8, "2026-07-14", "A1", "call"), act(9, "2026-07-15", "A5", "check_in", csm="csm_b"),
        act(10, "2026-07-20", "A2", "call"),             # after the as_of
    ]
    sqls = [sql(1, "2026-07-10", "A1", 5_000, "open")]
    escalations = [
        {"escalation_id": "E1", "account_id": "A2", "opened_at": "2026-07-08T10:00:00Z", "csm_engaged_at": ""},
        {"escalation_id": "E2", "account_id": "A1", "opened_at": "2026-07-09T23:30:00-05:00", "csm_engaged_at": ""},
        {"escalation_id": "E3", "account_id": "A3", "opened_at": "2026-07-16T09:00:00Z", "csm_engaged_at": ""},
        {"escalation_id": "E4", "account_id": "B1", "opened_at": "2026-07-16T09:00:00Z", "csm_engaged_at": ""},
    ]
    return load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, activities=acts, sqls=sqls,
                              escalations=escalations))


def test_weekly_table_by_hand(weekly_book):
    wt = weekly_tracking(weekly_book, "csm_a", "2026-07", "2026-07-19")
    t = wt.table
    assert [str(d.date()) for d in t["week"]] == ["2026-06-29", "2026-07-06", "2026-07-13"]
    # days counted: Jul 1-5, 6-12, 13-19
    assert t["days"].tolist() == [5, 7, 7]
    # calls: wk1 call 07-01 + meeting 07-03; wk2 call 07-07 + qbr 07-08; wk3 call 07-14
    assert t["calls"].tolist() == [2, 2, 1] and t["calls_cum"].tolist() == [2, 4, 5]
    # touchpoints: wk1 3 (incl. the email), wk2 3 (incl. the automated email), wk3 1 (csm_b's check-in is not csm_a's)
    assert t["touchpoints"].tolist() == [3, 3, 1]
    assert t["sqls"].tolist() == [0, 1, 0]
    # escalations on csm_a's accounts: E1 07-08, E2 07-10 04:30 UTC (week 2); E3 07-16 (week 3); E4 is csm_b's
    assert t["escalations"].tolist() == [0, 2, 1]
    # first touches: A1, A2 (wk1); A3, A4 (wk2); A5 by csm_b (wk3) -> 40 %, 80 %, 100 % of 5 accounts
    assert t["newly_covered"].tolist() == [2, 2, 1]
    assert t["coverage_pct_cum"].tolist() == pytest.approx([40.0, 80.0, 100.0])
    # July targets: calls 20, SQLs 4/3; elapsed at week ends 5/31, 12/31, 19/31
    assert t["elapsed_pct"].tolist() == pytest.approx([500 / 31, 1200 / 31, 1900 / 31])
    assert t["calls_pace"].tolist() == pytest.approx([20 * 5 / 31, 20 * 12 / 31, 20 * 19 / 31])
    # calls 2 / 3.226 = 0.62, 4 / 7.742 = 0.52, 5 / 12.258 = 0.41: behind every week
    assert t["calls_status"].tolist() == ["behind"] * 3
    # SQLs 0 / 0.215 behind; 1 / (4/3 × 12/31 = 0.516) = 1.94 ahead; 1 / 0.817 = 1.22 ahead
    assert t["sqls_status"].tolist() == ["behind", "ahead", "ahead"]
    # coverage wk1: 100 × (1 − 0.6^(31/5)) = 100 × (1 − 0.04214) = 95.79 -> 95.79 / 90 = 1.064 ahead
    assert t["coverage_status"].tolist() == ["ahead"] * 3
    assert t["behind_on"].tolist() == ["calls, touchpoints, sqls", "calls, touchpoints", "calls, touchpoints"]
    assert t["fell_behind_on"].tolist() == ["calls, touchpoints, sqls", "", ""]
    assert len(wt.behind_weeks) == 3 and len(wt.fell_behind) == 1
    assert "Weekly tracking" in wt._repr_html_()


def test_weekly_totals_agree_with_metrics(weekly_book):
    wt = weekly_tracking(weekly_book, "csm_a", "2026-07", "2026-07-19")
    m = csm_metrics(weekly_book, "csm_a", "2026-07", as_of="2026-07-19")
    last = wt.table.iloc[-1]
    assert (last["calls_cum"], last["touchpoints_cum"], last["sqls_cum"]) == (m["calls"], m["touchpoints"], m["sqls"])
    assert last["accounts_covered_cum"] == m["covered_accounts"]


def test_weekly_before_period_is_empty(weekly_book):
    wt = weekly_tracking(weekly_book, "csm_a", "2026-07", "2026-06-20")
    assert len(wt.table) == 0 and len(wt.behind_weeks) == 0


# ------------------------------------------------------------------------------------------------
# attainment samples for the pay forecast
# ------------------------------------------------------------------------------------------------

def test_attainment_samples(forecast_files, book_dir):
    # the forecast book plus 10 calls by csm_a on 2026-10-01..10
    acts = [act(i, f"2026-10-{i + 1:02d}", "A1", "call") for i in range(10)]
    book = load_book(book_dir(**{**forecast_files, "activities": acts}))
    s = attainment_samples(book, "csm_a", "2026-10..2026-12", "2026-10-31", n=4000, seed=3)
    assert sorted(s) == ["activity", "expansion", "retention"] and len(s["activity"]) == 4000
    again = attainment_samples(book, "csm_a", "2026-10..2026-12", "2026-10-31", n=4000, seed=3)
    assert np.array_equal(s["retention"], again["retention"]) and np.array_equal(s["activity"], again["activity"])
    # retention: E[GRR] = 64.0417 % (see test_forecast_mid_period_uses_known_month) / the quarter's target
    # 100 × 0.90 ** (3/12) = 97.40037 % (90 % a year) = 0.640417 / 0.9740037 = 0.65751;
    # sd of GRR per draw: .95×.05×1e10 + .595×.405×1.5e5² = 4.75e8 + 5.422e9 = 5.897e9 -> 76,792 ARR =
    # 12.80 points -> attainment sd 12.80 / 97.40037 = 0.1314; SE over 4,000 draws 0.1314 / 63.25 = 0.00208;
    # 4 SE = 0.0083
    assert abs(s["retention"].mean() - 384_250 / 600_000 / 0.9740037) < 0.0083
    # activity: 10 calls in 31 of 92 days -> rate 10/31 a day; 61 days left -> mean 10 + 610/31 = 29.677;
    # target 60 -> 0.49462; Poisson sd sqrt(19.677) = 4.436 calls = 0.0739 attainment; 4 SE (4000) = 0.0047
    assert abs(s["activity"].mean() - (10 + 610 / 31) / 60) < 0.0047
    assert s["activity"].min() >= 10 / 60
    assert s.table.set_index("metric").loc["activity", "to_date"] == 10
    from kpi_kit.comp import forecast_pay

    pay = forecast_pay(None, attainment_samples(book, "csm_a", "2026-10..2026-12", "2026-10-31", n=200), months=3)
    assert pay.p10 <= pay.p50 <= pay.p90
    with pytest.raises(KitError, match="cannot simulate"):
        attainment_samples(book, "csm_a", "2026-10..2026-12", "2026-10-31", n=10, plan={
            "metrics": {"retention": {"weight": 0.5, "kpi": "grr_pct"}, "alerts": {"weight": 0.5, "kpi": "closed_alert_pct"}}})


def test_attainment_samples_early_period_uses_trailing_rate(forecast_book):
    # 3 days into Q4 (f < 7 days): rate = calls in the 28 days up to 10-03 / 28; the forecast book has
    # no activities, so every simulated call count is 0 -> attainment 0
    s = attainment_samples(forecast_book, "csm_a", "2026-10..2026-12", "2026-10-03", n=50)
    assert float(np.max(s["activity"])) == 0.0
    assert math.isclose(s.table.set_index("metric").loc["activity", "p90_pct"], 0.0)
