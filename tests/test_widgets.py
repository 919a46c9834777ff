"""The explorers: the pure functions (hand-computed values) and the widget trees and their observers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ipywidgets as w
import pytest

from kpi_kit.comp import load_plan
from kpi_kit.coverage import SEED_TIERS, Tier
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.periods import Period
from kpi_kit.widgets import (
    COMP_SUMMARY_CLASS, COVERAGE_SUMMARY_CLASS, Explorer, comp_explorer, comp_what_if, coverage_explorer,
    coverage_what_if, csm_attainment_pcts, money_cents, period_options, scorecard_explorer, scorecard_view,
)
from tests.conftest import arr_rows

ON_TARGET = {"retention": 100, "expansion": 100, "activity": 100}
CSMS = [{"csm_id": "c1", "csm_name": "Ana Lima", "team": "T"}, {"csm_id": "c2", "csm_name": "Ben Okoro", "team": "T"}]
# c1's targets: GRR and NRR 100 % (held to any period: 100 × 1^(months/12) = 100), 2 calls a month (6 a quarter)
TARGETS = "csms:\n  c1: {grr_pct: 100, nrr_pct: 100, calls_per_month: 2}\n"


def account(aid: str, csm: str = "c1") -> dict[str, Any]:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": "mid-market",
            "customer_since": "2020-01-01", "renewal_date": ""}


def activity(i: int, date: str, aid: str, kind: str, csm: str = "c1") -> dict[str, Any]:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": csm, "type": kind, "purpose": ""}


@pytest.fixture
def tiny_files() -> dict[str, Any]:
    """c1: A1 1,000 -> 800 and A2 1,000 -> 1,500 over Q3 2026 (beginning month 2026-06); 15 calls and 2 emails.

    GRR = (800 + 1,000) / 2,000 = 90 %; NRR = (800 + 1,500) / 2,000 = 115 %; calls 15 vs 6 = 250 % (cap 200 %).
    c2: B1 500 all year, no activity. ARR history 2026-05 .. 2026-09.
    """
    months = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    arr = [*arr_rows("A1", {m: v for m, v in zip(months, [1000, 1000, 900, 800, 800])}),
           *arr_rows("A2", {m: v for m, v in zip(months, [1000, 1000, 1000, 1200, 1500])}),
           *arr_rows("B1", {m: 500 for m in months})]
    acts = [activity(i, f"2026-07-{i:02d}", "A1", "call") for i in range(1, 16)]
    acts += [activity(20, "2026-08-03", "A2", "email"), activity(21, "2026-08-04", "A2", "automated_email")]
    return {"csms": CSMS, "accounts": [account("A1"), account("A2"), account("B1", "c2")], "arr_monthly": arr,
            "activities": acts, "targets": TARGETS}


@pytest.fixture
def tiny(book_dir, tiny_files):
    return load_book(book_dir(**tiny_files))


@pytest.fixture
def tiny_no_activities(book_dir, tiny_files):
    return load_book(book_dir(**tiny_files, book="name: no activities\nnot_recorded: [activities]\n"))


Q3 = Period.parse("2026-07", "2026-09")


# --------------------------------------------------------------------------------------------
# comp_what_if
# --------------------------------------------------------------------------------------------

def test_comp_what_if_on_target_pays_ote():
    r = comp_what_if(None, ON_TARGET)
    # overall 0.45 × 100 + 0.35 × 100 + 0.20 × 100 = 100 % -> 100 % of $20,000; base $80,000
    assert r["attainment_pct"] == 100 and r["multiple_pct"] == 100
    assert r["variable_payout"] == Decimal("20000.00") and r["total_earnings"] == Decimal("100000.00")
    assert r["ote"] == Decimal("100000.00") and r["base"] == Decimal("80000.00")
    assert r["weights"] == {"retention": 45, "expansion": 35, "activity": 20}


def test_comp_what_if_five_points_of_retention():
    r = comp_what_if(None, {**ON_TARGET, "retention": 105})
    # overall 0.45 × 105 + 35 + 20 = 102.25 %; curve 100 + 2.5 × 2.25 = 105.625 % × $20,000 = $21,125
    assert r["attainment_pct"] == Decimal("102.25")
    assert r["multiple_pct"] == Decimal("105.625")
    assert r["variable_payout"] == Decimal("21125.00") and r["total_earnings"] == Decimal("101125.00")
    assert "$21,125.00" in r["summary"] and "102.25 %" in r["summary"]


def test_comp_what_if_with_other_weights():
    r = comp_what_if(None, {"retention": 110, "expansion": 90, "activity": 100},
                     {"retention": 50, "expansion": 30, "activity": 20})
    # overall 0.5 × 110 + 0.3 × 90 + 0.2 × 100 = 55 + 27 + 20 = 102 % -> 100 + 2.5 × 2 = 105 % -> $21,000
    assert r["attainment_pct"] == 102 and r["variable_payout"] == Decimal("21000.00")
    assert r["weights"] == {"retention": 50, "expansion": 30, "activity": 20}
    # the plan's own weights (45/35/20) give 49.5 + 31.5 + 20 = 101 % -> 102.5 % -> $20,500
    assert comp_what_if(None, {"retention": 110, "expansion": 90, "activity": 100})["variable_payout"] == Decimal("20500.00")


def test_comp_what_if_threshold_cap_and_months():
    # 70 % everywhere is below the 80 % threshold: no variable pay, base only
    below = comp_what_if(None, {"retention": 70, "expansion": 70, "activity": 70})
    assert below["variable_payout"] == 0 and below["total_earnings"] == Decimal("80000.00")
    # activity 300 % counts as 200 % (the metric cap): 45 + 35 + 0.2 × 200 = 120 % -> 150 % -> $30,000
    capped = comp_what_if(None, {**ON_TARGET, "activity": 300})
    assert capped["attainment_pct"] == 120 and capped["variable_payout"] == Decimal("30000.00")
    # a quarter: base 80,000 × 3/12 = 20,000, variable 20,000 × 3/12 = 5,000
    quarter = comp_what_if(None, ON_TARGET, months=3)
    assert (quarter["base"], quarter["variable_payout"], quarter["total_earnings"]) == (
        Decimal("20000.00"), Decimal("5000.00"), Decimal("25000.00"))


def test_comp_what_if_takes_attainments_also_for_lower_is_better_metrics():
    plan = load_plan({"metrics": {"retention": {"weight": 0.5, "kpi": "grr_pct"},
                                  "churn": {"weight": 0.5, "kpi": "logo_churn_monthly_pct", "lower_is_better": True}}})
    r = comp_what_if(plan, {"retention": 100, "churn": 120})
    # churn's attainment 120 % is used as given (not inverted to 100/120): 0.5 × 100 + 0.5 × 120 = 110 % -> 125 %
    assert r["attainment_pct"] == 110 and r["variable_payout"] == Decimal("25000.00")
    assert r["plan"].metrics[1].lower_is_better is True  # the plan handed back keeps its directions
    assert comp_what_if(plan, {"retention": 100, "churn": 0})["attainment_pct"] == 50  # 0 % attainment is fine


def test_comp_what_if_bad_input():
    with pytest.raises(KitError, match="sum to 105 %.*take 5 points"):
        comp_what_if(None, ON_TARGET, {"retention": 50, "expansion": 35, "activity": 20})
    with pytest.raises(KitError, match="sum to 95 %.*add 5 points"):
        comp_what_if(None, ON_TARGET, {"retention": 40, "expansion": 35, "activity": 20})
    with pytest.raises(KitError, match="percentage from 0 to 100"):
        comp_what_if(None, ON_TARGET, {"retention": 120, "expansion": -20, "activity": 0})
    with pytest.raises(KitError, match="missing: \\['activity'\\]"):
        comp_what_if(None, {"retention": 100, "expansion": 100})
    with pytest.raises(KitError, match="unknown: \\['churn'\\]"):
        comp_what_if(None, {**ON_TARGET, "churn": 100})
    with pytest.raises(KitError, match="percentage >= 0"):
        comp_what_if(None, {**ON_TARGET, "retention": -1})


# --------------------------------------------------------------------------------------------
# coverage_what_if
# --------------------------------------------------------------------------------------------

def test_coverage_what_if_seed_and_another_mix():
    seed = coverage_what_if({"high": 10, "mid": 20, "low": 20}, {"high": 100, "mid": 90, "low": 80}, 90)
    # (10 × 1.0 + 20 × 0.9 + 20 × 0.8) / 50 = 44 / 50 = 88 %; the claimed 90 % does not follow
    assert seed.blended_target_pct == 88.0 and seed.target_accounts == 44.0 and seed.claim_holds is False
    other = coverage_what_if({"a": 30, "b": 10}, {"a": 100, "b": 50})
    # (30 + 5) / 40 = 87.5 %
    assert other.blended_target_pct == 87.5
    with pytest.raises(KitError, match="same tiers"):
        coverage_what_if({"a": 1}, {"b": 50})


# --------------------------------------------------------------------------------------------
# book-based pure functions
# --------------------------------------------------------------------------------------------

def test_csm_attainment_pcts_from_the_scorecard(tiny, tiny_no_activities):
    pcts = csm_attainment_pcts(tiny, "c1", Q3)
    # GRR 90 vs 100 -> 90 %; NRR 115 vs 100 -> 115 %; calls 15 vs 6 -> 250 %, capped at 200 %
    assert pcts == pytest.approx({"retention": 90.0, "expansion": 115.0, "activity": 200.0})
    assert csm_attainment_pcts(tiny, "c1", Q3, capped=False)["activity"] == pytest.approx(250.0)
    # overall 0.45 × 90 + 0.35 × 115 + 0.2 × 200 = 40.5 + 40.25 + 40 = 120.75 %
    # curve: 150 % at 120 %, then 5/3 points per point: 150 + 0.75 × 5/3 = 151.25 % -> $30,250
    r = comp_what_if(None, pcts)
    assert r["attainment_pct"] == Decimal("120.75") and r["variable_payout"] == Decimal("30250.00")
    # no activity data: activity has no attainment (None), never 0
    assert csm_attainment_pcts(tiny_no_activities, "c1", Q3)["activity"] is None


def test_period_options_are_quarters_inside_the_arr_history(tiny):
    # history 2026-05..2026-09: Q3 (beginning month 2026-06) fits; Q2 would need 2026-03: it does not
    assert period_options(tiny) == ["2026-07..2026-09"]


def test_period_options_when_the_history_ends_mid_quarter(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[account("A1")],
                              arr_monthly=arr_rows("A1", {f"2025-{m:02d}": 100 for m in range(12, 13)}
                                                   | {f"2026-{m:02d}": 100 for m in range(1, 8)})))
    # history 2025-12..2026-07: the last full quarter is Q2 (2026-04..06, beginning 2026-03), then Q1 (beginning
    # 2025-12); Q4 2025 would need 2025-09
    assert period_options(book) == ["2026-04..2026-06", "2026-01..2026-03"]


def test_scorecard_view_charts_and_notes(tiny, tiny_no_activities):
    view = scorecard_view(tiny, "c1", "2026-07..2026-09")
    assert view["scorecard"].csm_id == "c1" and str(view["scorecard"].period) == "2026-07..2026-09"
    assert list(view["charts"]) == ["Calls and touchpoints per month", "ARR bridge"] and view["notes"] == []
    bare = scorecard_view(tiny_no_activities, "c1", Q3)
    assert list(bare["charts"]) == ["ARR bridge"]
    assert bare["notes"] == ["This book does not record CSM activities, so there is no calls and touchpoints chart."]


# --------------------------------------------------------------------------------------------
# widget trees and observers
# --------------------------------------------------------------------------------------------

def test_comp_explorer_tree_defaults_and_ranges():
    ex = comp_explorer(None, {"retention": 102.4, "expansion": None}, chart=False)
    assert isinstance(ex, Explorer) and isinstance(ex.widget, w.VBox)
    assert set(ex.controls) == {"attainment:retention", "attainment:expansion", "attainment:activity",
                                "weight:retention", "weight:expansion", "weight:activity"}
    for name in ("retention", "expansion", "activity"):
        s = ex.controls[f"attainment:{name}"]
        assert isinstance(s, w.IntSlider) and (s.min, s.max, s.step) == (0, 200, 1)  # 200 = the metric cap
        assert s.description == f"{name} attainment %"
        wt = ex.controls[f"weight:{name}"]
        assert isinstance(wt, w.IntSlider) and (wt.min, wt.max) == (0, 100)
    # 102.4 rounds to 102; None and a missing metric start on target
    assert [ex.controls[f"attainment:{n}"].value for n in ("retention", "expansion", "activity")] == [102, 100, 100]
    assert [ex.controls[f"weight:{n}"].value for n in ("retention", "expansion", "activity")] == [45, 35, 20]
    assert isinstance(ex.output, w.HTML) and COMP_SUMMARY_CLASS in ex.output._dom_classes
    # the tree: [HBox([attainment sliders, weight sliders]), summary]
    top, summary = ex.widget.children
    assert summary is ex.output
    att_box, wt_box = top.children
    assert list(att_box.children[1:]) == [ex.controls[f"attainment:{n}"] for n in ("retention", "expansion", "activity")]
    assert list(wt_box.children[1:]) == [ex.controls[f"weight:{n}"] for n in ("retention", "expansion", "activity")]
    # initial text: 0.45 × 102 + 35 + 20 = 100.9 % -> 100 + 2.5 × 0.9 = 102.25 % of $20,000 = $20,450
    assert "Variable payout $20,450.00" in ex.output.value and "total earnings $100,450.00" in ex.output.value
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


def test_comp_explorer_observers_update_the_output():
    ex = comp_explorer(None, ON_TARGET)
    assert "Variable payout $20,000.00" in ex.output.value
    chart_before = ex.extra["chart"].value
    assert chart_before.startswith("<svg") and "dashed: 100 %" in chart_before
    ex.controls["attainment:retention"].value = 105
    # 102.25 % overall -> $21,125 (hand-computed in test_comp_what_if_five_points_of_retention)
    assert "Variable payout $21,125.00" in ex.output.value and "102.25 %" in ex.output.value
    assert "dashed: 102.25 %" in ex.extra["chart"].value
    ex.controls["weight:retention"].value = 50  # 50 + 35 + 20 = 105: not a plan
    assert "sum to 105 %" in ex.output.value and "Variable payout" not in ex.output.value
    ex.controls["weight:activity"].value = 15  # 50 + 35 + 15 = 100 again
    # 0.5 × 105 + 0.35 × 100 + 0.15 × 100 = 102.5 % -> 106.25 % -> $21,250
    assert "Variable payout $21,250.00" in ex.output.value
    assert ex.output.value.count("$21,250.00") >= 1 and money_cents(Decimal("21250")) == "$21,250.00"


def test_comp_explorer_uses_float_sliders_for_fractional_weights():
    plan = load_plan({"metrics": {"retention": {"weight": 0.333, "kpi": "grr_pct"},
                                  "expansion": {"weight": 0.333, "kpi": "nrr_pct"},
                                  "activity": {"weight": 0.334, "kpi": "calls"}}})
    ex = comp_explorer(plan, chart=False)
    s = ex.controls["weight:activity"]
    assert isinstance(s, w.FloatSlider) and s.step == 0.1 and s.value == 33.4
    assert "Variable payout $20,000.00" in ex.output.value  # 33.3 + 33.3 + 33.4 = 100: a valid plan


def test_coverage_explorer_tree_and_observer():
    ex = coverage_explorer()
    assert set(ex.controls) == {f"{kind}:{t.name}" for t in SEED_TIERS for kind in ("accounts", "touch")}
    assert [ex.controls[f"accounts:{t.name}"].value for t in SEED_TIERS] == [10, 20, 20]
    assert [ex.controls[f"touch:{t.name}"].value for t in SEED_TIERS] == [100, 90, 80]
    assert all(isinstance(c, w.IntSlider) for c in ex.controls.values())
    assert (ex.controls["touch:low-touch"].min, ex.controls["touch:low-touch"].max) == (0, 100)
    assert (ex.controls["accounts:low-touch"].min, ex.controls["accounts:low-touch"].max) == (0, 200)
    assert COVERAGE_SUMMARY_CLASS in ex.output._dom_classes
    assert "Blended coverage 88.0 %" in ex.output.value and "claimed 90.0 % does not follow" in ex.output.value
    ex.controls["accounts:low-touch"].value = 40
    # (10 × 1.0 + 20 × 0.9 + 40 × 0.8) / 70 = 60 / 70 = 85.71 %
    assert "Blended coverage 85.7 %" in ex.output.value
    ex.controls["touch:mid-touch"].value = 100
    # (10 + 20 + 32) / 70 = 62 / 70 = 88.57 %
    assert "Blended coverage 88.6 %" in ex.output.value


def test_coverage_explorer_with_custom_tiers():
    ex = coverage_explorer([Tier("A", 300, 50.0)], claimed_pct=None, max_accounts=100)
    assert ex.controls["accounts:A"].max == 300 and ex.controls["accounts:A"].value == 300  # the range fits the tier
    assert "Blended coverage 50.0 %" in ex.output.value


def test_scorecard_explorer_tree_and_observer(tiny):
    ex = scorecard_explorer(tiny, "c1", "2026-07..2026-09")
    csm, period = ex.controls["csm"], ex.controls["period"]
    assert isinstance(csm, w.Dropdown) and isinstance(period, w.Dropdown)
    assert list(csm.options) == [("Ana Lima (c1)", "c1"), ("Ben Okoro (c2)", "c2")] and csm.value == "c1"
    assert list(period.options) == ["2026-07..2026-09"] and period.value == "2026-07..2026-09"
    assert "Scorecard — Ana Lima (c1)" in ex.output.value and "<svg" in ex.output.value
    csm.value = "c2"
    assert "Scorecard — Ben Okoro (c2)" in ex.output.value and "Ana Lima" not in ex.output.value


def test_scorecard_explorer_keeps_a_period_outside_the_quarters(tiny):
    ex = scorecard_explorer(tiny, "c2", "2026-08..2026-09")
    assert list(ex.controls["period"].options) == ["2026-08..2026-09", "2026-07..2026-09"]
    assert "2026-08..2026-09" in ex.output.value
    assert scorecard_explorer(tiny, "c1", Q3).controls["period"].value == "2026-07..2026-09"  # a Period works too
    assert scorecard_explorer(tiny, "c1", "2026-09").controls["period"].value == "2026-09..2026-09"  # one month
    assert scorecard_explorer(tiny).controls["period"].value == "2026-07..2026-09"  # default: the newest quarter
    with pytest.raises(KitError, match="unknown CSM"):
        scorecard_explorer(tiny, "nobody")
