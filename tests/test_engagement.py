"""kpi_kit.engagement: activity ranges, tier minimums, cadence -> retention, the call planner, lifecycle per
touchpoint — on tiny hand-built books whose expected values are worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi_kit import engagement as e
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import engagement as ex
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q3 = Period.parse("2026-07", "2026-09")
MONTHS_06_09 = {"2026-06": 1, "2026-07": 1, "2026-08": 1, "2026-09": 1}


def _arr(account: str, amount: float, months: dict[str, float] = MONTHS_06_09) -> list[dict]:
    return arr_rows(account, {m: amount * v for m, v in months.items()})


def _acc(aid: str, segment: str, csm: str = "c1", since: str = "2024-01-01", renewal: str = "", **extra) -> dict:
    return {"account_id": aid, "account_name": f"Name {aid}", "csm_id": csm, "segment": segment,
            "customer_since": since, "renewal_date": renewal, **extra}


def _act(n: int, date: str, account: str, kind: str, csm: str = "c1", purpose: str = "") -> dict:
    return {"activity_id": f"a{n}", "date": date, "account_id": account, "csm_id": csm, "type": kind, "purpose": purpose}


CSMS = [{"csm_id": "c1", "csm_name": "Ann", "team": "T"}, {"csm_id": "c2", "csm_name": "Bo", "team": "T"}]


@pytest.fixture
def activity_book(book_dir):
    """Six book accounts of c1 in 2026-07..09 (see the tier-minimum test for the month-by-month counts)."""
    accounts = [_acc("e1", "enterprise"), _acc("m1", "mid-market"), _acc("m2", "mid-market"), _acc("s1", "smb"),
                _acc("n1", "smb", since="2026-08-01"), _acc("x1", "mid-market")]
    arr = (_arr("e1", 100_000) + _arr("m1", 20_000) + _arr("m2", 15_000) + _arr("s1", 3_000)
           + arr_rows("n1", {"2026-08": 2_000, "2026-09": 2_000})
           + arr_rows("x1", {"2026-06": 50_000, "2026-07": 50_000}))  # x1 churns: no row after July
    acts = [
        _act(1, "2026-07-03", "e1", "call"), _act(2, "2026-07-10", "e1", "email"),
        _act(3, "2026-08-05", "e1", "meeting"), _act(4, "2026-08-20", "e1", "qbr"),
        _act(5, "2026-09-02", "e1", "call"), _act(6, "2026-09-15", "e1", "automated_email"),
        _act(7, "2026-07-15", "m1", "call"), _act(8, "2026-08-15", "m1", "email"), _act(9, "2026-09-15", "m1", "check_in"),
        _act(10, "2026-07-20", "m2", "call", csm="c2"),  # by another CSM: counts for the account, not for c1's calls
        _act(11, "2026-09-01", "m2", "automated_email"),
        _act(12, "2026-08-01", "s1", "automated_email"),
        _act(13, "2026-07-05", "x1", "call"),
        _act(14, "2026-06-30", "m1", "call"),  # before the period
    ]
    return load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, activities=acts))


# ------------------------------------------------------------------------------------------------
# calls, touchpoints, QBRs vs the seed's ranges
# ------------------------------------------------------------------------------------------------

def test_activity_vs_ranges_counts_and_scales_the_ranges(activity_book):
    t = e.activity_vs_ranges(activity_book, "c1", Q3).set_index("kpi")
    # calls by c1 in Q3: e1 call, meeting, qbr, call (4) + m1 call (1) + x1 call (1) = 6 (m2's call is c2's;
    # m1's June call is before the period)
    assert int(t.loc["calls", "actual"]) == 6
    # touchpoints by c1: e1 6 + m1 3 + m2 automated 1 + s1 automated 1 + x1 1 = 12
    assert int(t.loc["touchpoints", "actual"]) == 12
    assert int(t.loc["qbrs", "actual"]) == 1
    # ranges for 3 months: calls 15x3..25x3 = 45..75, touchpoints 80..100 (per quarter), QBRs 3..5
    assert (t.loc["calls", "low"], t.loc["calls", "high"]) == (45.0, 75.0)
    assert (t.loc["touchpoints", "low"], t.loc["touchpoints", "high"]) == (80.0, 100.0)
    assert (t.loc["qbrs", "low"], t.loc["qbrs", "high"]) == (3.0, 5.0)
    assert set(t["status"]) == {"below range"}
    assert t.loc["calls", "typical"] == "15–25 a month"


def test_ranges_scale_with_the_period_and_classify_in_and_above():
    calls = e.ACTIVITY_RANGES[0]
    assert calls.scaled(1) == (15.0, 25.0) and calls.scaled(2) == (30.0, 50.0)  # 15x2, 25x2
    assert e.ACTIVITY_RANGES[2].scaled(6) == (6.0, 10.0)                       # 3x6/3, 5x6/3


def test_activity_vs_ranges_without_activities_is_no_data(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[_acc("a", "smb")], arr_monthly=_arr("a", 10),
                              book="not_recorded: [activities]\n"))
    t = e.activity_vs_ranges(book, "c1", Q3)
    assert t["actual"].isna().all() and set(t["status"]) == {"no data"}


# ------------------------------------------------------------------------------------------------
# tier minimums
# ------------------------------------------------------------------------------------------------

def test_tier_minimums_per_account(activity_book):
    check = e.tier_minimums(activity_book, "c1", Q3)
    t = check.table.set_index("account_id")
    # e1 (enterprise, 2 personal a month): Jul call+email 2, Aug meeting+qbr 2, Sep call 1 (automated does not
    # count) -> 2 of 3 months met
    assert (t.loc["e1", "judged"], t.loc["e1", "met"], bool(t.loc["e1", "meets"])) == (3, 2, False)
    assert t.loc["e1", "short"] == "2026-09 (1 of 2)"
    # m1: a personal touch in each month -> meets
    assert (t.loc["m1", "met"], bool(t.loc["m1", "meets"])) == (3, True)
    # m2: Jul call (by c2 — anyone counts), Aug nothing, Sep automated only -> 1 of 3
    assert t.loc["m2", "met"] == 1 and t.loc["m2", "short"] == "2026-08 (0 of 1), 2026-09 (0 of 1)"
    # s1 (SMB, any touch a quarter, automated counts): Aug automated -> Q3 met
    assert (t.loc["s1", "judged"], t.loc["s1", "met"], bool(t.loc["s1", "meets"])) == (1, 1, True)
    # n1: new SMB logo from August, no touch -> Q3 judged and missed
    assert t.loc["n1", "short"] == "2026Q3 (0 of 1)" and not t.loc["n1", "meets"]
    # x1 churned after July: live Jul (ARR end Jun/Jul) and Aug (ARR end Jul), not Sep -> judged 2, met Jul only
    assert (t.loc["x1", "judged"], t.loc["x1", "met"], t.loc["x1", "short"]) == (2, 1, "2026-08 (0 of 1)")
    assert set(check.missing["account_id"]) == {"e1", "m2", "n1", "x1"}
    # accounts that miss come first, largest ARR first: x1 has ARR 0 in September, so it is last of them
    assert check.table["account_id"].tolist()[:4] == ["e1", "m2", "n1", "x1"]


def test_tier_minimums_summary_per_segment(activity_book):
    s = e.tier_minimums(activity_book, "c1", Q3).summary.set_index("segment")
    assert s.index.tolist() == ["enterprise", "mid-market", "smb"]
    assert s["accounts"].tolist() == [1, 3, 2] and s["meeting"].tolist() == [0, 1, 1]
    # 0/1, 1/3 (m1 of m1, m2, x1), 1/2 (s1 of s1, n1)
    assert s["meeting_pct"].tolist() == pytest.approx([0.0, 100 / 3, 50.0])


def test_tier_minimums_without_activities_is_no_data(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[_acc("a", "enterprise")], arr_monthly=_arr("a", 10),
                              book="not_recorded: [activities]\n"))
    check = e.tier_minimums(book, "c1", Q3)
    assert not check.recorded and check.table["meets"].isna().all() and check.missing.empty
    assert check.summary["meeting"].isna().all()
    assert "does not record" in check._repr_html_()


# ------------------------------------------------------------------------------------------------
# touch cadence -> retention
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def cadence_book(book_dir):
    """Window of 4 months (2026-03..06) before the one-month period 2026-07 (begin = June, end = July)."""
    months = ["2026-03", "2026-04", "2026-05", "2026-06"]

    def arr(aid: str, amount: float, end: float, first: int = 0) -> list[dict]:
        rows = {m: amount for m in months[first:]}
        if end:
            rows["2026-07"] = end
        return arr_rows(aid, rows)

    accounts = [_acc(a, "mid-market") for a in "abcdfgh"]
    arr_monthly = (arr("a", 1000, 1000) + arr("b", 2000, 0) + arr("c", 4000, 3000) + arr("d", 500, 500)
                   + arr("f", 300, 600) + arr_rows("g", {"2026-07": 700}) + arr("h", 800, 800, first=2))
    acts, n = [], 0
    for aid, days in {"a": months, "b": months, "c": ["2026-03", "2026-06"], "d": ["2026-03"],
                      "h": ["2026-05", "2026-06"]}.items():
        for m in days:
            n += 1
            acts.append(_act(n, f"{m}-10", aid, "call"))
    acts.append(_act(99, "2026-04-10", "f", "automated_email"))
    return load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr_monthly, activities=acts))


def test_touch_cadence_classes(cadence_book):
    t = e.touch_cadence(cadence_book, Period.parse("2026-07"), window_months=4).set_index("account_id")
    # g is a new logo (no June ARR): not in the cohort
    assert sorted(t.index) == ["a", "b", "c", "d", "f", "h"]
    # a, b touched every month; c touched Mar and Jun (gap 2); d only Mar (gap 3); f only automated (gap 4);
    # h is live May-Jun only (ARR from May) and touched both
    assert t["longest_gap"].to_dict() == {"a": 0, "b": 0, "c": 2, "d": 3, "f": 4, "h": 0}
    assert t["cadence"].to_dict() == {"a": "monthly", "b": "monthly", "c": "quarterly", "d": "reactive only",
                                      "f": "reactive only", "h": "monthly"}
    assert t.loc["h", "live_months"] == 2 and t.loc["f", "touched_months"] == 0


def test_cadence_retention_grr_per_class(cadence_book):
    r = e.cadence_retention(cadence_book, Period.parse("2026-07"), window_months=4)
    assert r.window == ("2026-03", "2026-06")
    t = r.table.set_index("cadence")
    # monthly a, b, h: begin 1000+2000+800 = 3800, retained 1000+0+800 = 1800 -> 47.37 %; b churned: 1 of 3
    assert (t.loc["monthly", "accounts"], t.loc["monthly", "beginning_arr"], t.loc["monthly", "retained_arr"]) == (3, 3800, 1800)
    assert t.loc["monthly", "grr_pct"] == pytest.approx(100 * 1800 / 3800)
    assert t.loc["monthly", "logo_churn_pct"] == pytest.approx(100 / 3)
    # quarterly c: 3000 of 4000 -> 75 %
    assert t.loc["quarterly", "grr_pct"] == pytest.approx(75.0)
    # reactive d, f: retained 500 + min(300, 600) = 800 of 800 -> 100 %, no churn
    assert t.loc["reactive only", "grr_pct"] == pytest.approx(100.0) and t.loc["reactive only", "churned_accounts"] == 0
    # the classes add up to the cohort: 5600 / 8600
    assert t["retained_arr"].sum() == 5600 and t["beginning_arr"].sum() == 8600
    assert r.grr("quarterly") == pytest.approx(75.0)
    text = r.verdict()
    # monthly 47.4 % vs the rest (3000 + 800) / (4000 + 800) = 79.2 %
    assert "less of their ARR (47.4 %)" in text and "(79.2 %)" in text and "fewer than 10" in text


def test_cadence_empty_class_is_none_not_zero(cadence_book):
    r = e.cadence_retention(cadence_book, Period.parse("2026-07"), window_months=1)
    # one-month window (June): a, b, c, h touched in June -> monthly; d, f not -> reactive; nobody quarterly
    t = r.table.set_index("cadence")
    assert t.loc["quarterly", "accounts"] == 0 and math.isnan(t.loc["quarterly", "grr_pct"])
    assert r.grr("quarterly") is None


def test_cadence_window_before_the_data_is_flagged(cadence_book):
    r = e.cadence_retention(cadence_book, Period.parse("2026-07"), window_months=6)  # Jan..Jun; activities from March
    assert not r.window_covered and "activities start after the window begins" in r.verdict()


def test_cadence_without_activities(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[_acc("a", "smb")], arr_monthly=_arr("a", 10),
                              book="not_recorded: [activities]\n"))
    r = e.cadence_retention(book, Q3)
    assert not r.recorded and r.table["grr_pct"].isna().all() and r.accounts["cadence"].isna().all()
    assert r.verdict().startswith("This book does not record CSM activities")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_cadence_window_must_be_whole_months(cadence_book, bad):
    with pytest.raises(KitError, match="window_months"):
        e.touch_cadence(cadence_book, Q3, window_months=bad)


# ------------------------------------------------------------------------------------------------
# call planner
# ------------------------------------------------------------------------------------------------

def test_seed_plan_is_reproduced():
    plan = e.plan_calls(e.SEED_PLAN_COUNTS, e.SEED_PLAN_BUDGET)
    # 5 enterprise x 2 = 10; 5 at-risk x 1 = 5; the rest 20 - 15 = 5 rotate over 15 mid-market: every 15/5 = 3 months
    assert (plan.calls("enterprise"), plan.calls("at-risk"), plan.calls("mid-market"), plan.calls("smb")) == (10, 5, 5, 0)
    assert plan.rotation_months == 3 and plan.spare == 0
    assert plan.shortfall == 10  # the mid-market minimum would need 15 calls, 5 are planned
    assert plan.summary() == ("20 calls: 10 enterprise, 5 rotating over 15 mid-market (each every 3 months), 5 at-risk; "
                              "10 short of the tier minimums")


@pytest.mark.parametrize(("budget", "calls", "rotation", "spare", "short"), [
    (15, (10, 5, 0), None, 0, 15),   # enterprise 10 + at-risk 5 use it all: no mid-market calls
    (25, (10, 5, 10), 2, 0, 5),      # 10 over 15 mid-market -> ceil(1.5) = 2 months
    (30, (10, 5, 15), 1, 0, 0),      # every mid-market account monthly
    (40, (10, 5, 15), 1, 10, 0),     # 10 calls left over
    (8, (8, 0, 0), None, 0, 22),     # short: enterprise 2, at-risk 5, mid-market 15
])
def test_plan_with_other_budgets(budget, calls, rotation, spare, short):
    plan = e.plan_calls(e.SEED_PLAN_COUNTS, budget)
    assert (plan.calls("enterprise"), plan.calls("at-risk"), plan.calls("mid-market")) == calls
    assert plan.rotation_months == rotation and plan.spare == spare and plan.shortfall == short


@pytest.mark.parametrize(("counts", "budget", "match"), [
    ({"enterprise": 1}, -1, "budget"), ({"enterprise": 1}, True, "budget"), ({"vip": 3}, 20, "unknown group"),
    ({"enterprise": -2}, 20, "enterprise"), ({"smb": 1.5}, 20, "smb"),
])
def test_plan_rejects_bad_input(counts, budget, match):
    with pytest.raises(KitError, match=match):
        e.plan_calls(counts, budget)


def test_plan_counts_and_call_plan_from_a_book(book_dir):
    accounts = [_acc("e1", "enterprise"), _acc("m1", "mid-market"), _acc("m2", "mid-market"),
                _acc("s1", "smb", health_score=40), _acc("s2", "smb", health_score=80), _acc("x1", "mid-market")]
    for a in accounts:
        a.setdefault("health_score", 75)
    arr = (_arr("e1", 100) + _arr("m1", 100) + _arr("m2", 100) + _arr("s1", 100) + _arr("s2", 100)
           + arr_rows("x1", {"2026-06": 100}))  # x1: ARR 0 at the end -> not live
    alerts = [{"alert_id": "r1", "account_id": "m2", "flagged_date": "2026-09-01", "outcome": "open"}]
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr, risk_alerts=alerts))
    # e1 enterprise; m2 (open alert) and s1 (health 40 < 50) at risk; m1 mid-market; s2 healthy SMB
    assert e.plan_counts(book, "c1", Q3) == {"enterprise": 1, "at-risk": 2, "mid-market": 1, "smb": 1}
    plan = e.call_plan(book, "c1", Q3)  # budget: the default calls target, 20 a month
    # 2 enterprise + 2 at-risk + 1 mid-market = 5 planned, 15 spare
    assert plan.budget == 20 and plan.spare == 15 and plan.calls("mid-market") == 1
    assert e.call_plan(book, "c1", Q3, budget=3).summary() == "3 calls: 2 enterprise, 0 mid-market (none: the budget is used up), 1 at-risk; 2 short of the tier minimums"


# ------------------------------------------------------------------------------------------------
# QBR gaps, lifecycle per touchpoint, SLA table
# ------------------------------------------------------------------------------------------------

def test_qbr_gaps(book_dir):
    accounts = [_acc("e1", "enterprise"), _acc("e2", "enterprise"), _acc("e3", "enterprise"), _acc("m1", "mid-market")]
    arr = _arr("e1", 300) + _arr("e2", 200) + _arr("e3", 100) + _arr("m1", 50)
    acts = [_act(1, "2026-08-20", "e1", "qbr"), _act(2, "2026-05-01", "e2", "qbr", csm="c2"), _act(3, "2026-08-01", "e3", "call")]
    book = load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, activities=acts))
    gaps = e.qbr_gaps(book, "c1", Q3)
    # e1 had a QBR in Q3; e2's last was in May (by anyone counts); e3 never; m1 is not strategic
    assert gaps["account_id"].tolist() == ["e2", "e3"]
    assert str(gaps.loc[0, "last_qbr"].date()) == "2026-05-01" and pd.isna(gaps.loc[1, "last_qbr"])


def test_lifecycle_by_touchpoint(book_dir):
    accounts = [_acc("n", "smb", since="2026-07-01")]
    acts = [_act(1, "2026-07-02", "n", "email", purpose="onboarding_welcome"),   # window Jul 1..4: met
            _act(2, "2026-08-01", "n", "call", purpose="onboarding_review"),      # window Jul 24..Aug 7: met
            _act(3, "2026-09-10", "n", "call", purpose="adoption_assessment")]    # window Aug 23..Sep 6: late
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts,
                              arr_monthly=arr_rows("n", {"2026-07": 10, "2026-08": 10, "2026-09": 10}), activities=acts))
    t = e.lifecycle_by_touchpoint(book, "c1", Q3).set_index("touchpoint")
    assert t.index.tolist() == ["onboarding_welcome", "onboarding_checkin", "onboarding_review", "adoption_assessment"]
    assert t["met"].tolist() == [1, 0, 1, 0] and t["overdue"].tolist() == [0, 1, 0, 1]  # check-in (Jul 5..11) never done
    assert t["compliance_pct"].tolist() == [100.0, 0.0, 100.0, 0.0]
    early = e.lifecycle_by_touchpoint(book, "c1", Q3, as_of="2026-07-06").set_index("touchpoint")
    # as of Jul 6 the check-in window (to Jul 11) is open: pending, not overdue -> no compliance yet
    assert early.loc["onboarding_checkin", "pending"] == 1 and math.isnan(early.loc["onboarding_checkin", "compliance_pct"])


def test_lifecycle_slas_follow_the_lifecycle_constants():
    t = e.lifecycle_slas().set_index("touchpoint")
    # renewal_90: due 90 days before; window 14 days earlier (-104) to 7 days later (-83)
    assert t.loc["renewal_90", ["open_day", "due_day", "close_day"]].tolist() == [-104, -90, -83]
    assert t.loc["onboarding_checkin", ["open_day", "due_day", "close_day"]].tolist() == [4, 7, 10]
    assert t.loc["risk_intervention", "window_closes"] == "day 7"
    assert t.loc["escalation_response", "due_day"] == 24


# ------------------------------------------------------------------------------------------------
# exercises
# ------------------------------------------------------------------------------------------------

def test_exercise_2_1_counts_calls_and_knows_the_mistakes(activity_book):
    q = ex.q_2_1(activity_book, "c1", Q3)
    assert q.expected == 6 and q.verdict(6)[0]
    assert "every activity type" in q.verdict(12)[1]          # all c1 activities in Q3 = 12
    assert "meetings and QBRs" in q.verdict(4)[1]             # type call only: e1 2 + m1 1 + x1 1 = 4
    assert "by anyone" in q.verdict(7)[1]                     # calls on c1's accounts by anyone: 6 + m2's call by c2


def test_exercise_2_2_and_2_3(activity_book):
    assert ex.q_2_2(activity_book, "c1", Q3).expected == 4     # e1, m2, n1, x1
    assert "meet" in ex.q_2_2(activity_book, "c1", Q3).verdict(2)[1]
    q = ex.q_2_3(activity_book, "c1", Q3, budget=25)
    assert q.expected == 2 and "round" in q.verdict(1.5)[1]   # 15 mid-market / 10 calls = 1.5 -> 2 months


def test_exercise_answers_are_none_without_activities(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[_acc("a", "smb")], arr_monthly=_arr("a", 10),
                              book="not_recorded: [activities]\n"))
    for factory in (ex.q_0_2, ex.q_2_1, ex.q_2_2):
        q = factory(book, "c1", Q3)
        assert q.expected is None and q.verdict(None)[0] and not q.verdict(0)[0]
