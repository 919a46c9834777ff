"""Notebooks 11–13: the helpers behind them (pay outlook, gap worth, attainment history, seed examples) and the
exercise checkers, on tiny hand-written books whose answers are worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from kpi_kit.career import career_status, replay
from kpi_kit.comp import load_plan
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import Mistake
from kpi_kit.exercises import career as cx
from kpi_kit.exercises import comp as px
from kpi_kit.exercises import forecasting as fx
from kpi_kit.periods import Period
from tests.conftest import arr_rows

CSMS = [{"csm_id": "c1", "csm_name": "Ana Lima", "team": "T"}]
TARGETS = "csms:\n  c1: {grr_pct: 100, nrr_pct: 100, calls_per_month: 2}\n"  # GRR/NRR 100 % in any period; 6 calls a quarter
Q3 = Period.parse("2026-07", "2026-09")
ON_TARGET = {"retention": 100, "expansion": 100, "activity": 100}


def account(aid: str) -> dict[str, Any]:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": "c1", "segment": "mid-market",
            "customer_since": "2020-01-01", "renewal_date": ""}


def activity(i: int, date: str, aid: str, kind: str) -> dict[str, Any]:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": "c1", "type": kind, "purpose": ""}


@pytest.fixture
def files() -> dict[str, Any]:
    """c1's book: A1 1,000 → 800, A2 1,000 → 1,500 over Q3 2026, A3 and A4 500 flat; ARR history 2026-05..09.

    Activities: calls on A1 on 07-02, 07-10, 07-23 and 07-24 … 08-04 (12 more); an email on A2 on 07-05.
    As of 2026-07-23: 3 calls, 2 of 4 accounts touched. In the quarter: 15 calls, accounts A1 and A2 touched.
    """
    months = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    arr = [*arr_rows("A1", dict(zip(months, [1000, 1000, 900, 800, 800]))),
           *arr_rows("A2", dict(zip(months, [1000, 1000, 1000, 1200, 1500]))),
           *arr_rows("A3", dict.fromkeys(months, 500)), *arr_rows("A4", dict.fromkeys(months, 500))]
    dates = ["2026-07-02", "2026-07-10", "2026-07-23"] + [str(d.date()) for d in pd.date_range("2026-07-24", periods=12)]
    acts = [activity(i, d, "A1", "call") for i, d in enumerate(dates)] + [activity(99, "2026-07-05", "A2", "email")]
    return {"csms": CSMS, "accounts": [account(a) for a in ("A1", "A2", "A3", "A4")], "arr_monthly": arr,
            "activities": acts, "targets": TARGETS}


@pytest.fixture
def book(book_dir, files):
    return load_book(book_dir(**files))


@pytest.fixture
def bare(book_dir, files):
    """The same book, but its source system does not record activities."""
    return load_book(book_dir(**files, book="name: bare\nnot_recorded: [activities]\n"))


# --------------------------------------------------------------------------------------------
# 11 · forecasting
# --------------------------------------------------------------------------------------------

def test_seed_pacing_examples():
    s = fx.seed_pacing()
    # 5 calls after 7 of 28 days: 5 / 0.25 = 20 vs 20 -> on track; 15 to go over 21 days = 5 a week
    assert (s["calls"].projection, s["calls"].status, s["calls"].per_week) == (20.0, "on track", 5.0)
    # 1 SQL after 23 of 92 days: 1 / 0.25 = 4 vs 4
    assert (s["sqls"].elapsed_fraction, s["sqls"].projection, s["sqls"].status) == (0.25, 4.0, "on track")
    # 40 % coverage after a quarter: 100 × (1 − 0.6^4) = 100 × (1 − 0.1296) = 87.04 %, 87.04 / 90 = 0.967
    assert round(s["coverage"].projection, 2) == 87.04 and s["coverage"].status == "on track"


def test_distinct_mistakes_drops_the_right_answer_and_repeats():
    kept = fx.distinct_mistakes([Mistake(10.0, "a"), Mistake(12.004, "b"), Mistake(13.0, "c"), Mistake(13.001, "d"),
                                 Mistake(None, "e")], 12.0)
    assert [m.message for m in kept] == ["a", "c"]


def test_q_11_exercises_by_hand(book, capsys):
    q1 = fx.q_11_1(book, "c1", Q3, "2026-07-23")
    # 23 of 92 days elapsed (0.25); calls up to 07-23: 07-02, 07-10, 07-23 = 3 -> 3 / 0.25 = 12
    assert q1.expected == pytest.approx(12.0) and q1.check(12.0)
    # leaving out the as-of day: 3 × 92 / 22 = 12.545
    assert q1.verdict(3 * 92 / 22)[1].startswith("Not quite ❌  you left out the as-of day")
    q2 = fx.q_11_2(book, "c1", Q3, "2026-07-23")
    # A1 (calls) and A2 (email) of 4 book accounts: 50 % -> 100 × (1 − 0.5^4) = 93.75 %
    assert q2.expected == pytest.approx(93.75)
    assert "linear projection" in q2.verdict(200.0)[1]  # 50 / 0.25
    q3 = fx.q_11_3(book, "c1", Q3, "2026-07-23")
    # target 6, 3 done -> 3 to go over the 69 days after 07-23: 3 × 7 / 69 = 0.3043 a week
    assert q3.expected == pytest.approx(3 * 7 / 69)
    assert "subtract the calls already made" in q3.verdict(6 * 7 / 69)[1]
    # at the end of the quarter 15 calls ≥ 6: nothing remains -> 0 a week
    assert fx.q_11_3(book, "c1", Q3, "2026-09-30").expected == 0.0


def test_q_11_exercises_without_activity_data(bare):
    for factory in (fx.q_11_1, fx.q_11_2, fx.q_11_3):
        checker = factory(bare, "c1", Q3, "2026-07-23")
        assert checker.expected is None and checker.verdict(None)[0] and not checker.verdict(0)[0]


# --------------------------------------------------------------------------------------------
# 12 · comp modelling
# --------------------------------------------------------------------------------------------

def test_gap_worth_and_gap_table_seed_plan():
    g = px.gap_worth(None, ON_TARGET, "retention", 5)
    # +5 retention = +0.45 × 5 = 2.25 overall points × $500 a point (2.5 % of $20,000) = $1,125
    assert (g["before"], g["after"], g["worth"]) == (Decimal("20000.00"), Decimal("21125.00"), Decimal("1125.00"))
    assert g["attainment_after"] == Decimal("102.25")
    t = px.gap_table(None, ON_TARGET, (5, 10))
    # expansion +10 = 3.5 points = $1,750; activity +10 = 2 points = $1,000
    assert t.set_index(["metric", "points"])["worth"].to_dict() == {
        ("retention", 5.0): 1125.0, ("retention", 10.0): 2250.0, ("expansion", 5.0): 875.0,
        ("expansion", 10.0): 1750.0, ("activity", 5.0): 500.0, ("activity", 10.0): 1000.0}
    # below the threshold +5 points change nothing: 70 % + 2.25 = 72.25 % still pays $0
    assert px.gap_worth(None, {"retention": 70, "expansion": 70, "activity": 70}, "retention", 5)["worth"] == 0
    with pytest.raises(KitError, match="not among"):
        px.gap_worth(None, ON_TARGET, "churn")


def test_points_to_threshold():
    # overall 70 %: 10 points short of 80 %; retention 10 / 0.45 = 22.22, expansion 10 / 0.35 = 28.57, activity 50
    r = px.points_to_threshold(None, {"retention": 70, "expansion": 70, "activity": 70})
    assert r == pytest.approx({"retention": 200 / 9, "expansion": 200 / 7, "activity": 50.0})
    # already at or above the threshold: 0 everywhere
    assert px.points_to_threshold(None, ON_TARGET) == {"retention": 0.0, "expansion": 0.0, "activity": 0.0}
    # from 0: 80 points short; retention needs 177.8 (≤ 200 cap), expansion 228.6 and activity 400 exceed the cap
    z = px.points_to_threshold(None, {"retention": 0, "expansion": 0, "activity": 0})
    assert z["retention"] == pytest.approx(1600 / 9) and z["expansion"] is None and z["activity"] is None


def test_months_so_far():
    year = Period.parse("2026-01", "2026-12")
    assert str(px.months_so_far(year, "2026-09-30")) == "2026-01..2026-09"  # September is over on its last day
    assert str(px.months_so_far(year, "2026-09-29")) == "2026-01..2026-08"
    assert str(px.months_so_far(year, "2027-03-31")) == "2026-01..2026-12"  # never past the period
    assert px.months_so_far(year, "2026-01-31") is not None and px.months_so_far(year, "2025-12-31") is None
    with pytest.raises(KitError, match="not a date"):
        px.months_so_far(year, "someday")


def test_pay_outlook_when_everything_is_known(book):
    # as of the quarter's last day nothing is left to simulate (no renewal due, no open SQL, no day left):
    # begin (2026-06) 1,000 + 1,000 + 500 + 500 = 3,000; GRR (800 + 1,000 + 500 + 500) / 3,000 = 93.33 % vs 100;
    # NRR (800 + 1,500 + 500 + 500) / 3,000 = 110 %; calls 15 vs 6 = 250 % (uncapped in the samples)
    o = px.pay_outlook(book, "c1", Q3, "2026-09-30", n=50)
    assert o.median_pcts == pytest.approx({"retention": 280 / 3, "expansion": 110.0, "activity": 250.0})
    assert o.reason == "" and o.months == 3
    # overall 0.45 × 93.33 + 0.35 × 110 + 0.2 × 200 = 42 + 38.5 + 40 = 120.5 % -> 150 + 0.5 × 5/3 = 150.833 %
    # of the quarter's 5,000 = 7,541.67; base 80,000 × 3/12 = 20,000 -> 27,541.67 in every simulation
    f = o.forecast
    assert f is not None and f.p10 == f.p50 == f.p90 == Decimal("27541.67")
    assert "between $27,542 (P10) and $27,542 (P90)" in o.sentence()


def test_pay_outlook_without_activity_data(bare):
    o = px.pay_outlook(bare, "c1", Q3, "2026-09-30", n=50)
    assert o.forecast is None and o.median_pcts is None
    assert o.reason.startswith("This book does not record CSM activities, so the plan's activity metric (calls, 20 %")
    assert list(o.table.columns) == ["percentile", "variable_payout", "total_earnings"] and o.table.empty
    assert o.sentence() == o.reason


def test_q_12_exercises_by_hand(book, bare):
    q1 = px.q_12_1(book, "c1", Q3)
    # retention 93.33, expansion 110, activity 250 -> 200: 0.45 × 93.33 + 0.35 × 110 + 0.2 × 200 = 42 + 38.5 + 40
    assert q1.expected == pytest.approx(120.5) and q1.check(120.5)
    # plain average (93.33 + 110 + 200) / 3 = 134.44; uncapped 42 + 38.5 + 0.2 × 250 = 130.5
    assert "plain average" in q1.verdict((280 / 3 + 110 + 200) / 3)[1]
    assert "cap each metric" in q1.verdict(130.5)[1]
    assert px.q_12_1(bare, "c1", Q3).expected is None and px.q_12_1(book, "c1", None).expected is None
    q2 = px.q_12_2(book, "c1", Q3, "2026-09-30", n=50)
    # a quarter: variable target 5,000. Before: 120.5 % -> 150.833 % -> 7,541.67.
    # After +5 retention: 122.75 % -> 150 + 2.75 × 5/3 = 154.583 % -> 7,729.17. Worth 187.50.
    assert q2.expected == pytest.approx(187.5)
    # +5 on the overall instead: 125.5 % -> 159.167 % -> 7,958.33; minus 7,541.67 = 416.66
    assert "go to retention only" in q2.verdict(416.66)[1]
    assert px.q_12_2(bare, "c1", Q3, "2026-09-30", n=50).expected is None


# --------------------------------------------------------------------------------------------
# 13 · career ladder
# --------------------------------------------------------------------------------------------

def test_seed_trajectory_and_a_late_playbook():
    history, achievements = cx.seed_trajectory()
    assert len(history) == 48 and history["2023-01"] == 0.98 and history["2026-12"] == 1.20
    assert [(str(p.month), p.to_level) for p in replay(history, achievements).promotions] == [
        ("2024-12", "Senior"), ("2025-12", "Lead"), ("2026-12", "Manager")]
    late = replay(*cx.seed_trajectory("2026-03"))
    # Lead waits for the playbook (2026-03); the Manager count restarts in 2026-04: 9 months by 2026-12, 3 to go
    assert [(str(p.month), p.to_level) for p in late.promotions] == [("2024-12", "Senior"), ("2026-03", "Lead")]
    assert late.status.streak == 9 and late.status.months_remaining == 3
    q = cx.q_13_2(None, "c1", Q3)  # type: ignore[arg-type]
    assert q.expected == "2026-03" and q.check("2026-03")
    assert "not recorded yet" in q.verdict("2025-12")[1]


def test_attainment_history_rolling_quarter(book):
    h = cx.attainment_history(book, "c1", "2026-07", "2026-09")
    assert h["period"].tolist() == ["2026-05..2026-07", "2026-06..2026-08", "2026-07..2026-09"]
    # 2026-07: the window begins with 2026-05, whose beginning month 2026-04 is not in the history -> no data
    assert h["attainment_pct"].isna().tolist() == [True, False, False]
    # 2026-08 (06..08): begin 2026-05 = 1,000 + 1,000 + 500 + 500 = 3,000; end 2026-08 = 800 + 1,200 + 500 + 500
    #   GRR (800 + 1,000 + 500 + 500) / 3,000 = 93.33 %; NRR 3,000 / 3,000 = 100 %; calls 15 vs 6 -> 200 % (cap)
    #   overall 0.45 × 93.333 + 0.35 × 100 + 0.2 × 200 = 42 + 35 + 40 = 117 %
    # 2026-09 (07..09): GRR 2,800 / 3,000 = 93.33 %; NRR (800 + 1,500 + 1,000) / 3,000 = 110 %;
    #   overall 42 + 38.5 + 40 = 120.5 %
    assert h["retention_pct"].tolist()[1:] == pytest.approx([280 / 3, 280 / 3])
    assert h["expansion_pct"].tolist()[1:] == pytest.approx([100.0, 110.0])
    assert h["activity_pct"].tolist()[1:] == [200.0, 200.0]
    assert h["attainment_pct"].tolist()[1:] == pytest.approx([117.0, 120.5])
    assert h["attainment"].tolist()[1:] == pytest.approx([1.17, 1.205])
    s = cx.history_series(h)
    assert s.to_dict() == pytest.approx({"2026-08": 1.17, "2026-09": 1.205})
    assert career_status(s).streak == 2  # both months with data meet 100 %


def test_attainment_history_slow_path_and_errors(book):
    plan = load_plan({"metrics": {"coverage": {"weight": 1, "kpi": "coverage_pct"}}})
    h = cx.attainment_history(book, "c1", "2026-09", "2026-09", plan=plan)
    # Q3: A1 and A2 touched of 4 book accounts = 50 % vs the 90 % coverage target -> 55.56 %
    assert h["attainment_pct"].tolist() == pytest.approx([5000 / 90])
    with pytest.raises(KitError, match="whole number of months"):
        cx.attainment_history(book, "c1", "2026-09", "2026-09", window=0)
    with pytest.raises(KitError, match="ends .* before it starts"):
        cx.attainment_history(book, "c1", "2026-09", "2026-08")


def test_attainment_history_matches_csm_metrics_on_the_sample_book():
    from kpi_kit.metrics import csm_metrics

    sample = load_book()
    h = cx.attainment_history(sample, "csm_02", "2026-09", "2026-09").iloc[0]
    m = csm_metrics(sample, "csm_02", "2026-07", "2026-09")
    from kpi_kit.scorecard import targets_for

    t = targets_for(sample, "csm_02", Q3)
    assert h["retention_pct"] == pytest.approx(min(100 * m["grr_pct"] / t["grr_pct"], 200))
    assert h["expansion_pct"] == pytest.approx(min(100 * m["nrr_pct"] / t["nrr_pct"], 200))
    assert h["activity_pct"] == pytest.approx(min(100 * m["calls"] / t["calls"], 200))


def test_q_13_1_streak(book, bare):
    q = cx.q_13_1(book, "c1", Q3)
    assert q.expected == 2 and q.check(2)
    # Lead's bar is 120 %: only 2026-09 (120.5 %) meets it
    assert cx.q_13_1(book, "c1", Q3, "Lead").expected == 1
    assert cx.q_13_1(bare, "c1", Q3).expected is None  # no calls, no attainment
    hand = pd.DataFrame({"month": [f"2026-0{m}" for m in range(1, 6)], "attainment": [1.1, 1.2, 1.3, 0.9, 1.0]})
    q = cx.q_13_1(book, "c1", Q3, history=hand)
    # from the end: 2026-05 (1.0) meets 100 %, 2026-04 (0.9) does not -> 1; 4 months meet it; the longest run is 3
    assert q.expected == 1
    assert "every month at or above the bar" in q.verdict(4)[1] and "longest run" in q.verdict(3)[1]
    assert cx.q_13_1(book, "c1", Q3, "Manager", history=hand).expected is None  # top of the ladder


def test_attainment_chart_spec():
    h = pd.DataFrame({"month": ["2026-01", "2026-02", "2026-03"], "attainment_pct": [98.0, float("nan"), 104.0]})
    spec = cx.attainment_chart(h, 100, title="T").to_dict()
    line, rule = spec["layer"]
    data = spec["datasets"][line["data"]["name"]]
    assert [r["month"] for r in data] == ["2026-01", "2026-03"]  # the month without data is left out
    assert rule["encoding"]["y"]["datum"] == 100.0 and spec["title"] == "T"
    with pytest.raises(KitError, match="lacks column"):
        cx.attainment_chart(pd.DataFrame({"month": []}))
