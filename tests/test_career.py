"""Hand-computed tests for the career ladder (rules from the seed, see docs/career.md).

Ladder: CSM -> Senior at >= 100 % for 12 consecutive months; Senior -> Lead at >= 110 % for 12 months
plus 1 strategic project; Lead -> Manager at >= 120 % for 12 months plus 3 CSMs mentored.
Months count only within the current level.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd
import pytest

from kpi_kit.career import DEFAULT_LADDER, Achievement, career_status, load_ladder, replay
from kpi_kit.errors import KitError

SEED_YEARS = {2023: 0.98, 2024: 1.10, 2025: 1.15, 2026: 1.20}


def months(start: str, values: list[float]) -> dict[str, float]:
    """{month: attainment} for consecutive months from ``start``."""
    first = pd.Period(start, "M")
    return {str(first + i): v for i, v in enumerate(values)}


def seed_history() -> dict[str, float]:
    return {f"{y}-{m:02d}": a for y, a in SEED_YEARS.items() for m in range(1, 13)}


PLAYBOOK = ("2025-06", "strategic_project", "renewal playbook")
MENTEES = [("2026-03", "mentoring", "Ana"), ("2026-05", "mentoring", "Ben"), ("2026-08", "mentoring", "Chloe")]


def test_default_ladder_is_the_seed():
    assert [(r.from_level, r.to_level, r.min_attainment, r.months) for r in DEFAULT_LADDER] == [
        ("CSM", "Senior", Decimal("1.00"), 12), ("Senior", "Lead", Decimal("1.10"), 12),
        ("Lead", "Manager", Decimal("1.20"), 12)]
    assert [tuple((q.kind, q.count) for q in r.requirements) for r in DEFAULT_LADDER] == [
        (), (("strategic_project", 1),), (("mentoring", 3),)]


def test_seed_four_year_trajectory():
    path = replay(seed_history(), [PLAYBOOK, *MENTEES])
    # year 1 (2023) at 98 %: below 100 %, no streak. Year 2 at 110 %: 12 months >= 100 % -> Senior at 2024-12
    # (24 months in the CSM level). Year 3 at 115 % >= 110 % for 12 months + playbook (2025-06) -> Lead at
    # 2025-12. Year 4 at 120 % >= 120 % for 12 months + 3 mentees by 2026-08 -> Manager at 2026-12.
    assert [(str(p.month), p.from_level, p.to_level, p.months_in_level) for p in path.promotions] == [
        ("2024-12", "CSM", "Senior", 24), ("2025-12", "Senior", "Lead", 12), ("2026-12", "Lead", "Manager", 12)]
    assert path.level == "Manager"
    assert path.status.next_level is None and path.status.missing == ()
    assert path.table["to_level"].tolist() == ["Senior", "Lead", "Manager"]
    assert str(path.table["month"].dtype) == "period[M]"


def test_trajectory_without_the_playbook_stops_at_senior():
    path = replay(seed_history(), MENTEES)
    assert [p.to_level for p in path.promotions] == ["Senior"]
    st = path.status
    # Senior since 2025-01; 2025 at 115 % and 2026 at 120 % are all >= 110 %: streak 24, months done
    assert (st.level, st.next_level, st.streak, st.months_remaining, st.eligible) == ("Senior", "Lead", 24, 0, False)
    assert st.missing == ("1 strategic project (e.g. a playbook): 0 recorded, 1 more needed",)


def test_late_project_promotes_when_recorded_and_restarts_the_count():
    path = replay(seed_history(), [("2026-03", "strategic_project", "playbook"), *MENTEES])
    # Senior since 2025-01, >= 110 % every month: the rule holds once the project is recorded (2026-03, 15 months)
    assert [(str(p.month), p.to_level, p.months_in_level) for p in path.promotions] == [
        ("2024-12", "Senior", 24), ("2026-03", "Lead", 15)]
    st = path.status
    # Lead since 2026-04; 2026-04..2026-12 at 120 % = 9 months: 3 to go; the 3 mentees are recorded
    assert (st.level, st.streak, st.months_remaining, st.eligible) == ("Lead", 9, 3, False)
    assert st.missing == ("12 consecutive months at 120 % or more: 9 so far, 3 to go at the current pace",)


def test_eligible_at_exactly_the_bar_and_not_just_below():
    assert career_status(months("2026-01", [1.0] * 12)).eligible                  # >= 100 % counts
    assert career_status(months("2026-01", [1.1 - 0.1] * 12)).eligible           # 1.0000000000000002 -> 1.0
    st = career_status(months("2026-01", [1.0] * 11 + [0.9999]))
    # the last month is below the bar: streak 0, not on pace
    assert (st.eligible, st.streak, st.months_remaining) == (False, 0, None)
    assert st.missing == ("12 consecutive months at 100 % or more: not on pace (2026-12 was 99.99 %)",)


def test_streak_and_months_remaining_at_the_current_pace():
    st = career_status(months("2026-01", [1.05] * 6 + [0.95] + [1.05] * 5))
    # the dip in month 7 restarts the count: months 8..12 = 5, so 12 - 5 = 7 to go
    assert (st.streak, st.months_remaining, st.eligible) == (5, 7, False)
    assert list(st.table.columns) == ["requirement", "needed", "current", "met"]
    assert st.table.iloc[0].tolist() == ["consecutive months at >= 100 %", 12, 5, False]


def test_a_missing_month_breaks_the_streak():
    history = {**months("2025-01", [1.2] * 6), **months("2025-08", [1.2] * 6)}  # 2025-07 not recorded
    st = career_status(history)
    assert (st.streak, st.months_remaining) == (6, 6)  # only 2025-08..2025-13(=2026-01): 6 months
    path = replay(history)
    assert path.promotions == ()


def test_since_limits_the_months_that_count():
    history = months("2025-01", [1.3] * 24)
    st = career_status(history, [PLAYBOOK], level="Senior", since="2026-06")
    # only 2026-06..2026-12 count: 7 months, 5 to go
    assert (st.streak, st.months_remaining, st.eligible) == (7, 5, False)
    assert career_status(history, [PLAYBOOK], level="Senior").eligible  # whole history: 24 months


def test_achievements_count_only_up_to_as_of():
    history = months("2025-01", [1.25] * 24)
    st = career_status(history, MENTEES, level="Lead", as_of="2026-06")
    # by 2026-06 two mentees are recorded (2026-03, 2026-05); Chloe comes in 2026-08
    assert st.missing == ("3 CSMs mentored: 2 recorded, 1 more needed",)
    assert not st.eligible
    assert career_status(history, MENTEES, level="Lead").eligible


def test_inputs_in_other_shapes():
    frame = pd.DataFrame({"month": ["2026-01", "2026-02"], "attainment_pct": [104.0, 99.0]})
    st = career_status(frame)
    assert (st.as_of, st.streak) == (pd.Period("2026-02", "M"), 0)  # 99 % < 100 %
    series = pd.Series([1.2, 1.2], index=pd.period_range("2026-01", periods=2, freq="M"))
    assert career_status(series).streak == 2
    ach = pd.DataFrame({"month": ["2026-01"], "kind": ["strategic_project"], "description": ["playbook"]})
    assert career_status(series, ach, level="Senior").achieved == (("strategic_project", 1),)
    obj = [Achievement(pd.Period("2026-01", "M"), "strategic_project", "x")]
    assert career_status(series, obj, level="Senior").achieved == (("strategic_project", 1),)


def test_top_of_the_ladder():
    st = career_status(months("2026-01", [1.5] * 3), level="Manager")
    assert (st.next_level, st.eligible, st.months_remaining, st.missing) == (None, False, None, ())
    assert st.table.empty
    assert "top of the ladder" in st._repr_html_()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"history": {"2026-01": 1.0, "2026-1": 1.0}}, "is not a month"),
        ({"history": {"2026-01": -0.5}}, "negative"),
        ({"history": {"2026-01": None}}, "expected a number"),
        ({"history": pd.DataFrame({"month": ["2026-01", "2026-01"], "attainment": [1, 1]})}, "appears twice"),
        ({"history": pd.DataFrame({"month": ["2026-01"], "score": [1]})}, "'attainment'"),
        ({"history": [1.0, 1.1]}, "expected a mapping"),
        ({"history": {"2026-01": 1.0}, "achievements": [("2026-01", "mentor", "Ana")]}, "kind 'mentor'"),
        ({"history": {"2026-01": 1.0}, "achievements": [{"kind": "mentoring"}]}, "needs 'month'"),
        ({"history": {"2026-01": 1.0}, "level": "Director"}, "not on the ladder"),
    ],
)
def test_bad_inputs(kwargs, fragment):
    history = kwargs.pop("history")
    with pytest.raises(KitError, match=fragment):
        career_status(history, **kwargs)


def test_custom_ladder_from_data():
    ladder = load_ladder([
        {"from": "CSM", "to": "Senior", "min_attainment_pct": 105, "months": 18},
        {"from": "Senior", "to": "Principal", "min_attainment_pct": 115, "months": 6, "requires": {"certification": 2}},
    ])
    history = months("2025-01", [1.06] * 18 + [1.2] * 6)
    path = replay(history, [("2026-01", "certification", "a"), ("2026-02", "certification", "b")], ladder=ladder)
    # 18 months at 106 % >= 105 % -> Senior at 2026-06; then 6 months at 120 % + 2 certifications -> 2026-12
    assert [(str(p.month), p.to_level) for p in path.promotions] == [("2026-06", "Senior"), ("2026-12", "Principal")]


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        ([{"from": "CSM", "to": "Senior", "min_attainment_pct": 100, "months": 0}], "'months' has value 0"),
        ([{"from": "CSM", "to": "Senior", "min_attainment_pct": -1, "months": 12}], "'min_attainment_pct' has value -1"),
        ([{"from": "CSM", "to": "Senior", "min_attainment_pct": 100, "months": 12},
          {"from": "Lead", "to": "Manager", "min_attainment_pct": 120, "months": 12}], "rule 2: key 'from'"),
        ([{"from": "CSM", "to": "Senior", "months": 12}], "missing: \\['min_attainment_pct'\\]"),
        ([{"from": "CSM", "to": "Senior", "min_attainment_pct": 100, "months": 12, "requires": {"mentoring": 0}}],
         "requires.mentoring"),
        ([], "expected a list of rules"),
    ],
)
def test_ladder_validation(rules, fragment):
    with pytest.raises(KitError, match=fragment):
        load_ladder(rules, source="ladder.yaml")


def test_ladder_file(tmp_path):
    path = tmp_path / "ladder.yaml"
    path.write_text("- {from: CSM, to: Senior, min_attainment_pct: 100, months: 0}\n", encoding="utf-8")
    with pytest.raises(KitError, match=f"{path}: rule 1: key 'months'"):
        load_ladder(path)
    path.write_text("- {from: CSM, to: Senior, min_attainment_pct: 100, months: 12}\n", encoding="utf-8")
    assert load_ladder(path)[0].months == 12



def test_ladder_file_that_cannot_be_read(tmp_path):
    path = tmp_path / "ladder.yaml"
    with pytest.raises(KitError, match="no such ladder file"):
        load_ladder(path)
    path.write_text("- {from: CSM, to: Senior\n- oops: [\n", encoding="utf-8")  # unclosed { and [
    with pytest.raises(KitError, match=rf"{re.escape(str(path))} line \d+: not valid YAML \(.+\); fix the file"):
        load_ladder(path)
    path.write_bytes("- {from: CSM, to: Señor, min_attainment_pct: 100, months: 12}\n".encode("cp1252"))
    with pytest.raises(KitError, match="not UTF-8 text; save the file as UTF-8"):
        load_ladder(path)
