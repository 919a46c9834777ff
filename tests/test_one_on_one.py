"""kpi_kit.one_on_one and the exercises of notebook 10, on the seed's examples and a hand-built book.

Period Q2 2025 (April–June), as of 30 June 2025, a Monday: the last full week (Monday–Sunday) ending on or
before it is 23–29 June. csm_a's activities around that week:

    2025-06-22 call      (Sunday before the week: not counted)
    2025-06-23 call      counted
    2025-06-24 email     not a call (but a touchpoint)
    2025-06-25 meeting   counted
    2025-06-29 qbr       counted
    2025-06-30 call      (after the week)
    2025-06-24 call by csm_b on csm_a's account: not csm_a's call

    done = 3; planned = 20 calls a month × 12 / 52 = 60 / 13 = 4.615…; 100 × 3 / (60 / 13) = 65.0 %

In June's first week (1–7 June, 7 of 30 days) csm_a made 5 calls: projection 5 × 30 / 7 = 21.43 vs 20 → ahead.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_kit import one_on_one
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import scorecard as ex10
from kpi_kit.periods import Period
from kpi_kit.scorecard import Scorecard, scorecard
from tests.conftest import arr_rows

Q2 = Period.parse("2025-04", "2025-06")


def act(i: int, date: str, aid: str, csm: str, kind: str) -> dict:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": csm, "type": kind, "purpose": ""}


ACTIVITIES = [
    act(1, "2025-06-22", "A1", "csm_a", "call"), act(2, "2025-06-23", "A1", "csm_a", "call"),
    act(3, "2025-06-24", "A2", "csm_a", "email"), act(4, "2025-06-25", "A2", "csm_a", "meeting"),
    act(5, "2025-06-29", "A1", "csm_a", "qbr"), act(6, "2025-06-30", "A1", "csm_a", "call"),
    act(7, "2025-06-24", "A1", "csm_b", "call"),
    *[act(10 + d, f"2025-06-0{d}", "A2", "csm_a", "call") for d in (2, 3, 4, 5, 6)],   # 5 calls in 1–7 June
]


def make_book(book_dir, **extra):
    return load_book(book_dir(
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
        accounts=[{"account_id": a, "account_name": f"{a} Co", "csm_id": "csm_a", "segment": "mid-market",
                   "customer_since": "2020-01-01", "renewal_date": ""} for a in ("A1", "A2")],
        arr_monthly=[*arr_rows("A1", {"2025-03": 900_000, "2025-06": 810_000}),     # GRR 90 % of the blend
                     *arr_rows("A2", {"2025-03": 100_000, "2025-06": 100_000})],
        activities=ACTIVITIES, **extra))


@pytest.fixture
def book(book_dir):
    return make_book(book_dir)


def test_seed_reflection_example():
    # 100 × 12 / 20 = 60.0
    assert one_on_one.reflection(12, 20) == 60.0


def test_seed_weekly_pacing_example():
    # the seed: 5 calls in the first week of a 4-week month (7 of 28 days) -> 5 / (7 / 28) = 20 = the monthly target
    from kpi_kit.forecast import pace

    p = pace(5, 20, 7 / 28, days_left=21, working_days_left=15)
    assert p.projection == 20.0 and p.status == "on track"


def test_reflection_edges():
    assert one_on_one.reflection(25, 20) == 125.0      # more done than planned
    assert one_on_one.reflection(3, 0) is None         # nothing planned: no ratio
    assert one_on_one.reflection(None, 20) is None     # nothing known about what was done
    for done, planned in ((-1, 20), (3, "20"), (True, 20)):
        with pytest.raises(KitError):
            one_on_one.reflection(done, planned)


def test_weekly_reflection(book):
    r = one_on_one.weekly_reflection(book, "csm_a", Q2)
    assert (r.week_start, r.week_end) == (pd.Timestamp("2025-06-23"), pd.Timestamp("2025-06-29"))
    assert r.done == 3 and r.planned == pytest.approx(60 / 13) and r.pct == pytest.approx(65.0)
    assert "3 calls done of 4.6 planned" in r.sentence() and "65.0 %" in r.sentence()
    # as of a Sunday, that Sunday's week counts: 2025-06-29 -> 23–29 June again
    r2 = one_on_one.weekly_reflection(book, "csm_a", Q2, as_of="2025-06-29")
    assert r2.week_start == pd.Timestamp("2025-06-23") and r2.done == 3


def test_weekly_reflection_uses_the_csms_own_target(book_dir):
    b = make_book(book_dir, targets="csms:\n  csm_a: {calls_per_month: 26}\n")
    r = one_on_one.weekly_reflection(b, "csm_a", Q2)
    # 26 × 12 / 52 = 6.0 planned; 100 × 3 / 6 = 50.0
    assert r.planned == pytest.approx(6.0) and r.pct == pytest.approx(50.0)


def test_weekly_reflection_without_activities(book_dir):
    b = make_book(book_dir, book="not_recorded: [activities]\n")
    r = one_on_one.weekly_reflection(b, "csm_a", Q2)
    assert r.done is None and r.pct is None and "does not record CSM activities" in r.sentence()
    assert ex10.q_10_1(b, "csm_a", Q2).verdict(None)[0]


def test_first_week_pace(book):
    p = one_on_one.first_week_pace(book, "csm_a", Q2)
    # June: 7 of 30 days elapsed on 2025-06-07; 5 calls -> 5 × 30 / 7 = 21.43 vs 20: ratio 1.071 > 1.05 -> ahead
    assert (p.period, p.as_of, p.days_left) == ("2025-06..2025-06", "2025-06-07", 23)
    assert p.actual == 5 and p.projection == pytest.approx(150 / 7) and p.status == "ahead"
    with pytest.raises(KitError):
        one_on_one.first_week_pace(book, "csm_a", Q2, days=0)


def test_side_by_side(book):
    table = one_on_one.side_by_side(scorecard(book, "csm_a", Q2))
    assert list(table.columns) == ["leading", "leading actual", "leading target", "leading status",
                                   "lagging", "lagging actual", "lagging target", "lagging status"]
    # 9 leading KPIs, 4 lagging ones: the lagging side is padded with empty strings
    assert len(table) == 9 and table["lagging"].tolist()[4:] == [""] * 5
    assert table.at[0, "leading"].startswith("Calls") and table.at[0, "lagging"].startswith("GRR")


def _card(rows: list[dict]) -> Scorecard:
    return Scorecard(csm_id="x", csm_name="X", period=Q2, as_of="2025-06-30", metrics={}, targets={},
                     table=pd.DataFrame(rows))


def test_action_items_rules():
    card = _card([
        {"kpi": "coverage_pct", "status": "on track", "attainment_pct": 105.0, "gap": "Coverage — on target"},
        {"kpi": "grr_pct", "status": "behind", "attainment_pct": 80.0, "gap": "GRR 72.0 % vs 90.0 % target"},
        {"kpi": "nrr_pct", "status": "at risk", "attainment_pct": 95.0, "gap": "NRR 99.8 % vs 105.0 % target"},
        {"kpi": "calls", "status": "behind", "attainment_pct": 50.0, "gap": "Calls 30 vs 60 target — 30 more calls"},
    ])
    renewals = pd.DataFrame({"account_name": ["R-A Co", "R-B Co"], "arr": [10_000.0, 50_000.0],
                             "renewal_date": pd.to_datetime(["2025-07-15", "2025-08-01"]),
                             "contacted_90d": pd.array([True, False], dtype="boolean")})
    at_risk = pd.DataFrame({"account_name": ["Lost Co", "Y Co"], "arr": [0.0, 70_000.0],
                            "reason": ["low health 10 (below 50)", "low health 30 (below 50)"]})
    overdue = pd.DataFrame({"account_name": ["Z Co", "W Co"], "touchpoint": ["renewal_90", "renewal_30"],
                            "status": ["overdue", "pending"], "days_overdue": pd.array([12, pd.NA], dtype="Int64")})
    signals = pd.DataFrame({"account_id": ["S1", "S2"], "account_name": ["Small Co", "Big Co"], "arr": [10_000.0, 90_000.0],
                            "signal": ["adoption play", "seat expansion"]})
    items = one_on_one.action_items(card, at_risk, renewals, overdue, signals)
    assert items == (
        "Close the gap: Calls 30 vs 60 target — 30 more calls.",          # behind, worst (50 %) first
        "Close the gap: GRR 72.0 % vs 90.0 % target.",                    # at risk (NRR) is not an item
        "Call R-B Co before its renewal on 2025-08-01 ($50,000): no CSM contact in 90 days.",
        "Agree a save plan with Y Co ($70,000): low health 30 (below 50).",  # Lost Co has no ARR left
        "Catch up 1 overdue lifecycle touchpoint(s), starting with Z Co (renewal_90, 12 days overdue).",
        "Qualify an SQL at Big Co ($90,000): seat expansion.",
        "Qualify an SQL at Small Co ($10,000): adoption play.",
    )
    one_each = one_on_one.action_items(card, at_risk, renewals, overdue, signals, max_per_kind=1)
    assert len(one_each) == 5 and one_each[0].startswith("Close the gap: Calls")


def test_action_items_skip_what_is_not_recorded():
    card = _card([{"kpi": "calls", "status": "no data", "attainment_pct": float("nan"), "gap": "Calls: no data"}])
    renewals = pd.DataFrame({"account_name": ["R Co"], "arr": [1.0], "renewal_date": pd.to_datetime(["2025-07-01"]),
                             "contacted_90d": pd.array([pd.NA], dtype="boolean")})
    empty = pd.DataFrame({"account_name": [], "arr": [], "status": [], "reason": [], "signal": []})
    assert one_on_one.action_items(card, empty, renewals, empty, empty) == ()


def test_one_on_one_on_the_book(book):
    o = one_on_one.one_on_one(book, "csm_a", Q2)
    assert o.csm_name == "Ana" and o.as_of == "2025-06-30"
    # attainment of the leading KPIs: SQLs 0 of 4 = 0 %, pipeline $0 of $100,000 = 0 %, touchpoints 11 of 90
    # = 12.2 %, calls 10 of 60 = 16.7 %, QBRs 1 of 3 = 33.3 %: the three worst become the first items
    assert [item.split(" ")[3] for item in o.action_items[:3]] == ["SQLs", "SQL", "Touchpoints"]
    assert len(o.gaps) >= 5 and o.diagnosis.startswith("Weak activity")
    html = o._repr_html_()
    for part in ("1. Metrics review", "2. Gap analysis", "3. Strategic list", "4. Action items"):
        assert part in html
    assert o.strategic_summary().endswith("no usage data for expansion signals.")  # no usage.csv in this book


def test_exercise_10_1(book):
    q = ex10.q_10_1(book, "csm_a", Q2)
    assert q.expected == pytest.approx(65.0)
    assert "done / planned" in q.verdict(100 * (60 / 13) / 3)[1]       # inverted: 153.8
    # every activity of the week: 23 call, 24 email, 25 meeting, 29 qbr = 4 -> 100 × 4 × 13 / 60 = 86.67
    assert "Calls are call, meeting and qbr" in q.verdict(100 * 4 * 13 / 60)[1]


def test_exercise_10_2(book):
    q = ex10.q_10_2(book, "csm_a", Q2)
    # calls 10 of 60 (16.7 %) is behind. GRR = NRR = (810,000 + 100,000) / 1,000,000 = 91 %; the mid-market
    # targets held to the quarter are 100 × 0.9^0.25 = 97.40 % and 100 × 1.05^0.25 = 101.23 %:
    # GRR attainment 91 / 97.40 = 93.4 % (at risk), NRR 91 / 101.23 = 89.9 % (behind)
    assert {"calls", "nrr_pct"} <= q.expected and "grr_pct" not in q.expected
    assert q.verdict(set(q.expected))[0] and q.verdict(list(q.expected))[0]
    assert "at risk" in q.verdict(set(q.expected) | {"grr_pct"})[1]
