"""Hand-computed tests for the comp plan, payout curve, pay statements, forecasts and ``kpi-kit payout``.

The seed's plan: base $80,000, variable $20,000 (OTE $100,000); curve points (attainment -> % of
variable) 80 -> 50, 100 -> 100, 120 -> 150, 150 -> 200; nothing below 80 %; capped at 200 %.
Slopes: 80–100 and 100–120: +50 points of payout per 20 points of attainment (2.5×);
120–150: +50 per 30 (5/3 ×).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_kit.cli import main
from kpi_kit.comp import (
    as_decimal,
    forecast_pay,
    load_plan,
    metric_attainment,
    pay_at,
    payout_curve_table,
    payout_multiple,
    round_cents,
    statement,
    variable_payout,
)
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.scorecard import scorecard
from tests.conftest import arr_rows

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "comp_plan.yaml"
D = Decimal


@pytest.fixture(scope="module")
def seed():
    return load_plan()


def linear(**extra):
    """A plan whose curve is the straight line 0 % -> 0, 100 % -> 100 % (slope 1), no threshold, no cap."""
    return load_plan({"curve": [[0, 0], [100, 100]], "threshold_pct": 0, **extra})


# ------------------------------------------------------------------ the default plan = the seed's table

def test_default_plan_is_the_seed(seed):
    assert seed.base == 80_000 and seed.variable_target == 20_000
    assert seed.ote == 100_000  # 80,000 + 20,000
    assert seed.weights == {"retention": D("0.45"), "expansion": D("0.35"), "activity": D("0.2")}
    assert seed.threshold == D("0.8") and seed.cap == 2
    assert [m.kpi for m in seed.metrics] == ["grr_pct", "nrr_pct", "calls"]


@pytest.mark.parametrize(
    ("attainment", "expected"),
    [
        (0, "0.00"),            # below the threshold
        (0.7999, "0.00"),       # just below 80 %
        (0.8, "10000.00"),      # at the threshold: 50 % of 20,000
        (0.8001, "10005.00"),   # 0.5 + 2.5 × 0.0001 = 0.50025 × 20,000 = 10,005
        (0.9, "15000.00"),      # 0.5 + 2.5 × 0.1 = 0.75 × 20,000
        (1.0, "20000.00"),      # 100 % pays the variable target: OTE
        (1.1, "25000.00"),      # 1.0 + 2.5 × 0.1 = 1.25 × 20,000
        (1.2, "30000.00"),      # the seed: 120 % pays 30,000
        (1.35, "35000.00"),     # 1.5 + (5/3) × 0.15 = 1.75 × 20,000
        (1.5, "40000.00"),      # the seed: 150 % pays 40,000
        (1.5001, "40000.00"),   # 2.0 + (5/3) × 0.0001 = 2.000166… capped at 2.0
        (1.6, "40000.00"),      # capped at 200 % of 20,000
        (3, "40000.00"),
    ],
)
def test_seed_curve_every_segment(seed, attainment, expected):
    assert variable_payout(seed, attainment) == D(expected)
    s = pay_at(seed, attainment)
    assert s.variable_payout == D(expected)
    assert s.total_earnings == 80_000 + D(expected)  # base + variable


def test_threshold_reached_by_a_float_sum_pays_the_threshold_rate(seed):
    assert 0.7 + 0.1 < 0.8                      # the float is 0.7999999999999999 ...
    assert as_decimal(0.7 + 0.1) == D("0.8")    # ... converted via round(x, 10) it is exactly 0.8
    assert variable_payout(seed, 0.7 + 0.1) == D("10000.00")   # 50 % of 20,000, not 0
    assert variable_payout(seed, 1.1 + 0.1) == D("30000.00")   # 1.2000000000000002 -> 1.2 -> 150 %


def test_as_decimal_rules():
    assert as_decimal(120) == D(120)
    assert as_decimal("1.25") == D("1.25")
    assert as_decimal(D("0.10")) == D("0.10")
    for bad in (None, True, float("nan"), float("inf"), "12a", [1]):
        with pytest.raises(KitError):
            as_decimal(bad, "x")


def test_rounding_half_up_at_the_end_only():
    assert round_cents(D("0.005")) == D("0.01")     # half-up (banker's rounding would give 0.00)
    assert round_cents(D("0.0049")) == D("0.00")
    tiny = load_plan({"variable_target": "0.01"})
    assert variable_payout(tiny, 0.8) == D("0.01")  # 0.01 × 0.5 = 0.005 -> 0.01
    # one month of the seed plan at 100 %: 20,000 / 12 = 1,666.666… -> 1,666.67; base 80,000 / 12 = 6,666.67
    s = pay_at(load_plan(), 1, months=1)
    assert s.variable_payout == D("1666.67") and s.base == D("6666.67")
    assert s.total_earnings == D("8333.34")         # sum of the two rounded amounts


def test_rows_add_up_to_the_rounded_total():
    plan = load_plan({"variable_target": "0.10",
                      "metrics": {"retention": 0.34, "expansion": 0.33, "activity": 0.33}})
    s = statement(plan, {"retention": (1, 1), "expansion": (1, 1), "activity": (1, 1)})
    # exact shares 0.034 / 0.033 / 0.033 of a 0.10 total; floors 0.03 each leave 1 cent for the
    # largest remainder (0.004, retention). Rounding each row would give 0.09.
    assert [ln.payout for ln in s.lines] == [D("0.04"), D("0.03"), D("0.03")]
    assert s.variable_payout == D("0.10")


def test_months_prorate_base_and_variable(seed):
    s = pay_at(seed, 1.2, months=3)
    assert s.base == D("20000.00")            # 80,000 × 3 / 12
    assert s.variable_target == D("5000.00")  # 20,000 × 3 / 12
    assert s.variable_payout == D("7500.00")  # 5,000 × 1.5
    assert s.total_earnings == D("27500.00") and s.ote == D("25000.00")
    with pytest.raises(KitError, match="months"):
        pay_at(seed, 1, months=0)


def test_payout_curve_table(seed):
    t = payout_curve_table(seed, [0, 80, 100, 150])
    assert t["variable_payout"].tolist() == [0.0, 10_000.0, 20_000.0, 40_000.0]
    assert t["multiple_pct"].tolist() == [0.0, 50.0, 100.0, 200.0]
    assert t["total_earnings"].tolist() == [80_000.0, 90_000.0, 100_000.0, 120_000.0]
    assert len(payout_curve_table(seed)) == 201  # 0..200 %


# ------------------------------------------------------------------ curve options

def test_threshold_below_the_first_point_uses_the_line_from_zero():
    plan = load_plan({"curve": [[100, 100]], "threshold_pct": 50})
    assert payout_multiple(plan, D("0.4999")) == 0
    assert payout_multiple(plan, D("0.5")) == D("0.5")   # on the line (0,0)-(1,1)
    assert payout_multiple(plan, D("1.5")) == D("1.5")   # beyond the last point the slope 1 continues, no cap
    assert plan.cap is None


def test_threshold_defaults_to_the_first_point_of_a_custom_curve():
    plan = load_plan({"curve": [[90, 60], [100, 100]]})
    assert plan.threshold == D("0.9") and plan.cap is None
    assert payout_multiple(plan, D("0.8999")) == 0
    assert payout_multiple(plan, D("0.9")) == D("0.6")
    assert payout_multiple(plan, D("0.95")) == D("0.8")  # 0.6 + 0.4 × 0.05 / 0.1
    assert payout_multiple(plan, D("1.1")) == D("1.4")   # last slope (4×) continues: 1.0 + 4 × 0.1


def test_cap():
    plan = linear(cap_pct=120)
    assert payout_multiple(plan, D("1.19")) == D("1.19")
    assert payout_multiple(plan, D("1.2")) == D("1.2")
    assert payout_multiple(plan, D("1.21")) == D("1.2")


def test_marginal_accelerator():
    plan = linear(accelerators=[{"above_pct": 100, "rate": 2}])
    assert payout_multiple(plan, D("0.9")) == D("0.9")
    assert payout_multiple(plan, D("1.0")) == D("1.0")
    assert payout_multiple(plan, D("1.2")) == D("1.4")   # 1.0 + 2 × 0.2


def test_retroactive_accelerator():
    plan = linear(accelerators=[{"above_pct": 100, "rate": 2}], accelerator_mode="retroactive")
    assert payout_multiple(plan, D("0.9999")) == D("0.9999")
    assert payout_multiple(plan, D("1.0")) == D("2.0")   # the whole payout doubles at the tier
    assert payout_multiple(plan, D("1.2")) == D("2.4")   # 2 × 1.2


def test_two_accelerator_tiers_marginal_and_retroactive():
    tiers = [{"above_pct": 100, "rate": 1.5}, {"above_pct": 120, "rate": 2}]
    # marginal: 1.0 + 1.5 × 0.2 + 2 × 0.1 = 1.5
    assert payout_multiple(linear(accelerators=tiers), D("1.3")) == D("1.5")
    # retroactive: the highest tier reached (2×) multiplies everything: 2 × 1.3 = 2.6
    assert payout_multiple(linear(accelerators=tiers, accelerator_mode="retroactive"), D("1.3")) == D("2.6")
    # between the tiers, retroactive: 1.5 × 1.1 = 1.65
    assert payout_multiple(linear(accelerators=tiers, accelerator_mode="retroactive"), D("1.1")) == D("1.65")


def test_decelerator():
    plan = linear(decelerator={"above_pct": 150, "rate": 0.5})
    assert payout_multiple(plan, D("1.5")) == D("1.5")
    assert payout_multiple(plan, D("2.0")) == D("1.75")  # 1.5 + 0.5 × 0.5
    seed_decel = load_plan({"cap_pct": None, "decelerator": {"above_pct": 120, "rate": 0.5}})
    # seed curve 120 -> 150 % then slope 5/3 halved: at 150 %, 1.5 + 0.5 × 0.5 = 1.75 -> 35,000
    assert variable_payout(seed_decel, 1.5) == D("35000.00")
    assert variable_payout(seed_decel, 1.1) == D("25000.00")  # below the decelerator: unchanged


def test_accelerator_with_decelerator():
    acc, dec = [{"above_pct": 100, "rate": 2}], {"above_pct": 150, "rate": 0.5}
    # marginal: 1.0 + 2 × 0.5 + (2 × 0.5) × 0.5 = 2.5
    assert payout_multiple(linear(accelerators=acc, decelerator=dec), D("2.0")) == D("2.5")
    # retroactive: 2 × (1.5 + 0.5 × 0.5) = 3.5
    assert payout_multiple(linear(accelerators=acc, decelerator=dec, accelerator_mode="retroactive"), D("2.0")) == D("3.5")


def test_negative_attainment_is_an_error(seed):
    with pytest.raises(KitError, match="negative"):
        payout_multiple(seed, -0.1)


# ------------------------------------------------------------------ plan files and validation

def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "comp_plan.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_file_is_the_default_plan():
    assert load_plan(EXAMPLE).to_dict() == load_plan().to_dict()


def test_to_dict_round_trip():
    plan = load_plan({"curve": [[50, 10], [100, 100]], "cap_pct": 250, "accelerator_mode": "retroactive",
                      "accelerators": [{"above_pct": 110, "rate": 1.25}], "curve_applies_to": "metric",
                      "decelerator": {"above_pct": 200, "rate": 0.25}})
    assert load_plan(plan.to_dict()).to_dict() == plan.to_dict()


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        ("metrics: {retention: 0.5, expansion: 0.4}\n", ["'metrics'", "'retention': 0.5", "sum to 0.9"]),
        ("metrics: {retention: 45, expansion: 35, activity: 20}\n", ["metrics.retention.weight", "45"]),
        ("curve: [[80, 50], [80, 100]]\n", ["'curve[1]'", "[80, 100]", "strictly increasing"]),
        ("curve: [[80, 50], [100, 40]]\n", ["'curve[1]'", "[100, 40]", "never fall"]),
        ("base: -1\n", ["'base'", "-1", ">= 0"]),
        ("variable_target: lots\n", ["'variable_target'", "'lots'"]),
        ("bonus: 5\n", ["unknown key", "'bonus'"]),
        ("accelerators: [{above_pct: 100, rate: 0.8}]\n", ["accelerators[0].rate", "0.8", ">= 1"]),
        ("accelerators: [{above_pct: 120, rate: 2}, {above_pct: 100, rate: 3}]\n", ["accelerators[1].above_pct", "100"]),
        ("decelerator: {above_pct: 150, rate: 1.5}\n", ["decelerator.rate", "1.5", "< 1"]),
        ("curve_applies_to: team\n", ["'curve_applies_to'", "'team'"]),
        ("accelerator_mode: sometimes\n", ["'accelerator_mode'", "'sometimes'"]),
        ("metrics: {churn: {weight: 1, lower_is_better: maybe}}\n", ["metrics.churn.lower_is_better", "'maybe'"]),
        ("metric_attainment_cap_pct: 0\n", ["metric_attainment_cap_pct", "0"]),
        ("curve: [[80, 50], 100]\n", ["'curve[1]'", "100"]),
    ],
)
def test_plan_validation_errors_name_file_key_and_value(tmp_path, yaml_text, fragments):
    path = write(tmp_path, yaml_text)
    with pytest.raises(KitError) as err:
        load_plan(path)
    msg = str(err.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg


def test_plan_file_problems(tmp_path):
    with pytest.raises(KitError, match="no such comp plan file"):
        load_plan(tmp_path / "missing.yaml")
    with pytest.raises(KitError, match="line 2.*not valid YAML"):
        load_plan(write(tmp_path, "base: 1\nname: a: b\n"))
    with pytest.raises(KitError, match="mapping"):
        load_plan(write(tmp_path, "- 1\n- 2\n"))


# ------------------------------------------------------------------ statements

GOOD = {"retention": (90, 99), "expansion": (100, 120), "activity": (60, 30)}
# attainments: 99 / 90 = 1.1, 120 / 100 = 1.2, 30 / 60 = 0.5


def test_statement_overall_curve(seed):
    s = statement(seed, GOOD)
    # weighted: 0.45 × 1.1 + 0.35 × 1.2 + 0.2 × 0.5 = 0.495 + 0.42 + 0.1 = 1.015
    assert s.attainment == D("1.015")
    # curve at 101.5 %: 1.0 + 2.5 × 0.015 = 1.0375 -> 20,750
    assert s.multiple == D("1.0375")
    assert s.variable_payout == D("20750.00")
    assert s.total_earnings == D("100750.00")
    t = s.table
    assert list(t.columns) == ["metric", "kpi", "target", "actual", "attainment", "weight", "multiple", "payout"]
    assert t["metric"].tolist() == ["retention", "expansion", "activity"]
    assert t["attainment"].tolist() == [1.1, 1.2, 0.5]
    # the payout is split by weight: 0.45 / 0.35 / 0.2 of 20,750
    assert t["payout"].tolist() == [9337.5, 7262.5, 4150.0]
    assert t["weight"].sum() == pytest.approx(1.0)


def test_statement_display_table_reads_as_percent_and_money(seed):
    s = statement(seed, GOOD, months=3)
    d = s.display_table()
    assert list(d.columns) == list(s.table.columns) and len(d) == len(s.table)  # same shape as .table
    # retention: target 90 %, actual 99 %, attainment 99 / 90 = 1.1 -> "110.0 %", weight 0.45 -> "45 %"
    assert d.loc[0, ["target", "actual", "attainment", "weight"]].tolist() == ["90.0 %", "99.0 %", "110.0 %", "45 %"]
    # activity = calls, a count: 60 and 30; attainment 30 / 60 = 0.5 -> "50.0 %"
    assert d.loc[2, ["target", "actual", "attainment"]].tolist() == ["60", "30", "50.0 %"]
    # quarter: variable 20,000 × 3 / 12 = 5,000; multiple 1.0375 -> "103.8 %" (103.75 shown to one
    # decimal, display only); payout split 0.45 / 0.35 / 0.2 of 5,187.50 = 2,334.375 / 1,815.625 / 1,037.50,
    # the half cent to the first of the two equal remainders -> 2,334.38 / 1,815.62 / 1,037.50
    assert d["multiple"].tolist() == ["103.8 %"] * 3
    assert d["payout"].tolist() == ["$2,334.38", "$1,815.62", "$1,037.50"]
    html = s._repr_html_()
    assert "110.0 %" in html and "$5,187.50" in html and "1.1</td>" not in html  # no raw ratio in the view
    assert s.table["attainment"].tolist() == [1.1, 1.2, 0.5]  # the numeric table is unchanged


def test_statement_display_uses_the_plan_and_kpi_currencies():
    plan = load_plan({"currency": "EUR", "metrics": {"pipeline": {"kpi": "sql_pipeline", "weight": 1}}})
    s = statement(plan, {"pipeline": (40_000, 30_000)}, kpi_currency="GBP")
    d = s.display_table()
    # the KPI's money in the book's currency (GBP), the pay in the plan's (EUR); 30,000 / 40,000 = 75 %
    assert d.loc[0, ["target", "actual", "attainment"]].tolist() == ["£40,000", "£30,000", "75.0 %"]
    assert d.loc[0, "payout"] == "€0.00"  # 75 % is below the 80 % threshold: nothing paid
    assert pay_at(None, 1.2).display_table().loc[0, ["target", "actual", "payout"]].tolist() == ["—", "—", "$30,000.00"]


def test_statement_curve_per_metric():
    plan = load_plan({"curve_applies_to": "metric"})
    s = statement(plan, GOOD)
    # retention 110 % -> 1.25 × 0.45 × 20,000 = 11,250; expansion 120 % -> 1.5 × 0.35 × 20,000 = 10,500;
    # activity 50 % is below the 80 % threshold -> 0
    assert [ln.payout for ln in s.lines] == [D("11250.00"), D("10500.00"), D("0.00")]
    assert s.variable_payout == D("21750.00")
    assert s.multiple == D("1.0875")  # 21,750 / 20,000


def test_statement_keys_may_be_kpi_names(seed):
    s = statement(seed, {"grr_pct": (90, 99), "nrr_pct": (100, 120), "calls": (60, 30)})
    assert s.variable_payout == D("20750.00")  # same as test_statement_overall_curve


def test_metric_attainment_rules():
    assert metric_attainment(90, 99) == D("1.1")
    assert metric_attainment(20, 60) == 2                            # 300 % capped at 200 %
    assert metric_attainment(20, 60, cap=D("3.5")) == 3
    assert metric_attainment(5, 4, lower_is_better=True) == D("1.25")   # target / actual
    assert metric_attainment(5, 10, lower_is_better=True) == D("0.5")
    assert metric_attainment(5, 0, lower_is_better=True) == 2           # zero churn gets the cap
    with pytest.raises(KitError, match="target is 0"):
        metric_attainment(0, 5)
    with pytest.raises(KitError, match=">= 0"):
        metric_attainment(10, -1)


def test_lower_is_better_metric_in_a_plan():
    plan = load_plan({"metrics": {"retention": {"weight": 0.5, "kpi": "grr_pct"},
                                  "churn": {"weight": 0.5, "kpi": "logo_churn_monthly_pct", "lower_is_better": True}}})
    s = statement(plan, {"retention": (90, 90), "churn": (5, 4)})
    # 0.5 × 1.0 + 0.5 × (5 / 4 = 1.25) = 1.125 -> 1.0 + 2.5 × 0.125 = 1.3125 -> 26,250
    assert s.attainment == D("1.125")
    assert s.variable_payout == D("26250.00")


def test_statement_mapping_errors(seed):
    with pytest.raises(KitError, match="no \\(target, actual\\) for activity"):
        statement(seed, {"retention": (90, 99), "expansion": (100, 120)})
    with pytest.raises(KitError, match="'bonus' is not a metric"):
        statement(seed, {**GOOD, "bonus": (1, 1)})
    with pytest.raises(KitError, match="'activity' has no data"):
        statement(seed, {**GOOD, "activity": (60, None)})
    with pytest.raises(KitError, match="pair"):
        statement(seed, {**GOOD, "activity": 60})
    with pytest.raises(KitError, match="given twice"):
        statement(seed, {**GOOD, "calls": (60, 30)})


def card_table(**overrides) -> pd.DataFrame:
    rows = {
        "calls": ("leading", 60.0, 30.0, True),
        "touchpoints": ("leading", 90.0, 95.0, True),
        "grr_pct": ("lagging", 90.0, 99.0, True),
        "nrr_pct": ("lagging", 100.0, 120.0, True),
        "logo_churn_monthly_pct": ("lagging", 5.0, 4.0, False),
    }
    rows.update(overrides)
    return pd.DataFrame(
        [{"kpi": k, "kind": v[0], "target": v[1], "actual": v[2],
          "attainment_pct": None if v[2] is None else 100 * v[2] / v[1], "status": "x", "higher_is_better": v[3]}
         for k, v in rows.items()]
    )


def test_statement_from_a_scorecard_table(seed):
    s = statement(seed, card_table())  # same numbers as GOOD; extra KPI rows are ignored
    assert s.variable_payout == D("20750.00")
    assert [ln.kpi for ln in s.lines] == ["grr_pct", "nrr_pct", "calls"]


def test_statement_from_a_scorecard_table_errors(seed):
    with pytest.raises(KitError, match="'activity'.*no data"):
        statement(seed, card_table(calls=("leading", 60.0, None, True)))
    with pytest.raises(KitError, match="not in the scorecard"):
        statement(seed, card_table().loc[lambda t: t["kpi"] != "nrr_pct"])
    wrong = load_plan({"metrics": {"churn": {"weight": 1, "kpi": "logo_churn_monthly_pct"}}})
    with pytest.raises(KitError, match="lower_is_better: true"):
        statement(wrong, card_table())
    with pytest.raises(KitError, match="kpi, target, actual"):
        statement(seed, pd.DataFrame({"kpi": ["calls"]}))


@pytest.fixture
def tiny_book(book_dir):
    """csm_a: one enterprise account, ARR 100,000 in 2025-03 and 110,000 in 2025-06; 6 calls in Q2 2025.

    Targets (targets.yaml, per CSM): GRR 100 %, NRR 100 %, 2 calls a month (6 a quarter).
    GRR = min(110,000, 100,000) / 100,000 = 100 %; NRR = 110,000 / 100,000 = 110 %; calls = 6.
    """
    calls = [{"activity_id": f"C{i}", "date": f"2025-0{4 + i % 3}-1{i}", "account_id": "A1", "csm_id": "csm_a",
              "type": "call", "purpose": ""} for i in range(6)]
    return book_dir(
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}],
        accounts=[{"account_id": "A1", "account_name": "A1 Co", "csm_id": "csm_a", "segment": "enterprise",
                   "customer_since": "2020-01-01", "renewal_date": ""}],
        arr_monthly=arr_rows("A1", {"2025-03": 100_000, "2025-04": 100_000, "2025-05": 105_000, "2025-06": 110_000}),
        activities=calls,
        targets="csms:\n  csm_a: {grr_pct: 100, nrr_pct: 100, calls_per_month: 2}\n",
    )


# Hand computation for tiny_book, Q2 2025 (3 months), seed plan:
#   attainments: retention 100/100 = 1.0, expansion 110/100 = 1.1, activity 6/6 = 1.0
#   weighted: 0.45 × 1.0 + 0.35 × 1.1 + 0.2 × 1.0 = 0.45 + 0.385 + 0.2 = 1.035
#   curve: 1.0 + 2.5 × 0.035 = 1.0875; variable target 20,000 × 3/12 = 5,000 -> 5,437.50
#   base 80,000 × 3/12 = 20,000 -> total 25,437.50


def test_statement_from_a_real_scorecard(tiny_book):
    card = scorecard(load_book(tiny_book), "csm_a", "2025-04", "2025-06")
    s = statement(None, card, months=3)
    assert [float(ln.attainment) for ln in s.lines] == [1.0, 1.1, 1.0]
    assert s.attainment == D("1.035")
    assert s.variable_payout == D("5437.50")
    assert s.total_earnings == D("25437.50")


# ------------------------------------------------------------------ forecasts

def test_forecast_overall_samples(seed):
    f = forecast_pay(seed, [1.5, 0.7, 1.2, 0.9, 1.0])
    # payouts sorted: 0 (70 %), 15,000 (90 %), 20,000, 30,000, 40,000; n = 5
    # P10: index ceil(0.5) - 1 = 0 -> 0; P50: ceil(2.5) - 1 = 2 -> 20,000; P90: ceil(4.5) - 1 = 4 -> 40,000
    assert f.variable_payout == (D("0.00"), D("20000.00"), D("40000.00"))
    assert (f.p10, f.p50, f.p90) == (D("80000.00"), D("100000.00"), D("120000.00"))
    assert f.table["percentile"].tolist() == ["P10", "P50", "P90"]
    assert f.samples.tolist() == [40000.0, 0.0, 30000.0, 15000.0, 20000.0]  # input order


def test_forecast_per_metric_samples(seed):
    samples = {"retention": [1.0, 1.2], "expansion": [1.0, 1.2], "activity": [1.0, 1.2]}
    f = forecast_pay(seed, samples)
    # sample 0: all 100 % -> 20,000; sample 1: all 120 % -> 30,000
    # P10: ceil(0.2) - 1 = 0 -> 20,000; P50: ceil(1.0) - 1 = 0 -> 20,000; P90: ceil(1.8) - 1 = 1 -> 30,000
    assert f.variable_payout == (D("20000.00"), D("20000.00"), D("30000.00"))
    assert f.n_samples == 2


def test_forecast_caps_each_metric_like_a_statement(seed):
    f = forecast_pay(seed, {"retention": [3.0], "expansion": [0.0], "activity": [0.0]}, percentiles=(50,))
    # retention 300 % counts as 200 %: 0.45 × 2 = 0.9 -> 0.5 + 2.5 × 0.1 = 0.75 -> 15,000
    # (uncapped it would be 0.45 × 3 = 1.35 -> 1.75 -> 35,000)
    assert f.variable_payout == (D("15000.00"),)
    s = statement(seed, {"retention": (1, 3), "expansion": (1, 0), "activity": (1, 0)})
    assert s.variable_payout == D("15000.00")


def test_forecast_errors(seed):
    with pytest.raises(KitError, match="same number of samples"):
        forecast_pay(seed, {"retention": [1.0, 1.2], "expansion": [1.0], "activity": [1.0, 1.0]})
    with pytest.raises(KitError, match="keys"):
        forecast_pay(seed, {"retention": [1.0]})
    with pytest.raises(KitError, match="empty"):
        forecast_pay(seed, [])
    with pytest.raises(KitError, match="percentiles"):
        forecast_pay(seed, [1.0], percentiles=(10, 150))
    with pytest.raises(KitError, match=">= 0"):
        forecast_pay(seed, {"retention": [-0.1], "expansion": [1.0], "activity": [1.0]})


# ------------------------------------------------------------------ properties

@st.composite
def plans(draw):
    n = draw(st.integers(1, 5))
    attain = sorted(draw(st.sets(st.integers(0, 300), min_size=n, max_size=n)))
    pays = sorted(draw(st.lists(st.integers(0, 400), min_size=n, max_size=n)))
    plan = {"curve": [[a, p] for a, p in zip(attain, pays)],
            "threshold_pct": draw(st.integers(0, 200)),
            "cap_pct": draw(st.none() | st.integers(0, 500)),
            "accelerator_mode": draw(st.sampled_from(["marginal", "retroactive"])),
            "curve_applies_to": draw(st.sampled_from(["overall", "metric"]))}
    k = draw(st.integers(0, 3))
    above = sorted(draw(st.sets(st.integers(0, 300), min_size=k, max_size=k)))
    rates = sorted(draw(st.lists(st.decimals(1, 4, places=2), min_size=k, max_size=k)))
    plan["accelerators"] = [{"above_pct": a, "rate": str(r)} for a, r in zip(above, rates)]
    if draw(st.booleans()):
        plan["decelerator"] = {"above_pct": draw(st.integers(0, 300)), "rate": str(draw(st.decimals(0, "0.99", places=2)))}
    return load_plan(plan)


@settings(max_examples=150, deadline=None)
@given(plans(), st.decimals(0, 4, places=4), st.decimals(0, 4, places=4))
def test_payout_never_decreases_as_attainment_rises(plan, a, b):
    lo, hi = min(a, b), max(a, b)
    assert payout_multiple(plan, lo) <= payout_multiple(plan, hi)
    assert variable_payout(plan, lo) <= variable_payout(plan, hi)


@settings(max_examples=60, deadline=None)
@given(plans(), st.decimals(0, 3, places=3), st.decimals(0, 3, places=3), st.decimals(0, 3, places=3),
       st.decimals("0.001", "0.5", places=3))
def test_statement_never_decreases_when_one_metric_improves(plan, r, e, a, bump):
    base = statement(plan, {"retention": (1, r), "expansion": (1, e), "activity": (1, a)})
    better = statement(plan, {"retention": (1, r + bump), "expansion": (1, e), "activity": (1, a)})
    assert better.variable_payout >= base.variable_payout
    assert sum(ln.payout for ln in base.lines) == base.variable_payout  # rows add up to the total


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=1, max_size=6).filter(lambda xs: sum(xs) > 0),
       st.integers(-3, 3).filter(lambda d: d != 0))
def test_weights_must_sum_to_one(parts, delta):
    # turn arbitrary shares into hundredths summing to exactly 100, i.e. weights summing to 1
    total = sum(parts)
    cents = [p * 100 // total for p in parts]
    cents[0] += 100 - sum(cents)
    weights = {f"m{i}": f"{c / 100:.2f}" for i, c in enumerate(cents)}
    plan = load_plan({"metrics": weights})
    assert sum(plan.weights.values()) == 1
    assert sum(plan.table["weight"]) == pytest.approx(1.0)
    # nudging one weight by a hundredth (keeping it in [0, 1]) breaks the sum
    shifted = cents[0] + delta
    if 0 <= shifted <= 100:
        with pytest.raises(KitError, match="summing to exactly 1"):
            load_plan({"metrics": {**weights, "m0": f"{shifted / 100:.2f}"}})


# ------------------------------------------------------------------ CLI

def test_cli_attainment_json(capsys):
    assert main(["payout", "--attainment", "120", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # 120 % -> 150 % of 20,000 = 30,000; total 80,000 + 30,000
    assert out["attainment"] == 1.2 and out["attainment_pct"] == 120.0
    assert out["variable_payout"] == 30_000.0 and out["total_earnings"] == 110_000.0
    assert out["base"] == 80_000.0 and out["variable_target"] == 20_000.0 and out["ote"] == 100_000.0
    assert out["payout_multiple"] == 1.5


def test_cli_attainment_table_and_percent_sign(capsys):
    assert main(["payout", "--attainment", "80%"]) == 0
    text = capsys.readouterr().out
    assert "$10,000.00" in text      # 50 % of 20,000 at the threshold
    assert "$90,000.00" in text      # total earnings
    assert "80.00 %" in text


@pytest.mark.parametrize("written, code", [("eur", "EUR"), (" GBP ", "GBP"), ("USD", "USD")])
def test_plan_currency_is_an_iso_code(written, code):
    assert load_plan({"currency": written}).currency == code


@pytest.mark.parametrize("written", ["$", "US$", "<img src=x onerror=alert(1)>", "EURO", 978])
def test_plan_currency_that_is_not_a_code_is_an_error(tmp_path, written):
    plan = write(tmp_path, f"currency: {written!r}\n" if isinstance(written, str) else f"currency: {written}\n")
    with pytest.raises(KitError, match=r"comp_plan.yaml: currency: .* is not a currency code; expected three letters"):
        load_plan(plan)


def test_cli_table_writes_the_plans_currency(tmp_path, capsys):
    plan = write(tmp_path, "currency: EUR\nbase: 90000\nvariable_target: 30000\n")
    assert main(["payout", "--plan", str(plan), "--attainment", "100"]) == 0
    text = capsys.readouterr().out
    # 100 % pays the whole variable target: 30,000; total 90,000 + 30,000
    assert "€30,000.00" in text and "€120,000.00" in text and "$" not in text


def test_cli_with_a_plan_file(tmp_path, capsys):
    plan = write(tmp_path, "base: 90000\nvariable_target: 30000\n")
    assert main(["payout", "--plan", str(plan), "--attainment", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variable_payout"] == 30_000.0 and out["total_earnings"] == 120_000.0 and out["ote"] == 120_000.0


def test_cli_bad_plan_file_exits_1(tmp_path, capsys):
    plan = write(tmp_path, "metrics: {retention: 0.5, expansion: 0.4}\n")
    assert main(["payout", "--plan", str(plan), "--attainment", "100"]) == 1
    err = capsys.readouterr().err
    assert str(plan) in err and "sum to 0.9" in err
    assert main(["payout", "--plan", str(tmp_path / "nope.yaml"), "--attainment", "100"]) == 1
    assert "no such comp plan file" in capsys.readouterr().err


def test_cli_usage_errors(capsys):
    assert main(["payout", "--attainment", "lots"]) == 1
    assert "--attainment 'lots' is not a number" in capsys.readouterr().err
    assert main(["payout", "--attainment", "120", "--start", "2025-04"]) == 1
    assert "go with --csm" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["payout", "--attainment", "120", "--csm", "csm_a"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["payout"])


def test_cli_statement_for_a_csm(tiny_book, capsys):
    assert main(["payout", "--data", str(tiny_book), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # see the hand computation above tiny_book's test
    assert out["csm_id"] == "csm_a" and out["start"] == "2025-04" and out["end"] == "2025-06"
    assert out["months"] == 3
    assert out["attainment"] == 1.035
    assert out["variable_payout"] == 5437.5 and out["total_earnings"] == 25437.5
    assert [m["payout"] for m in out["metrics"]] == [2446.88, 1903.12, 1087.5]
    # split by weight: 0.45 × 5,437.5 = 2,446.875, 0.35 × 5,437.5 = 1,903.125, 0.2 × 5,437.5 = 1,087.5;
    # the half cent goes to the first of the two equal remainders (largest remainder, table order)

    assert main(["payout", "--data", str(tiny_book), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06"]) == 0
    text = capsys.readouterr().out
    assert "Ana (csm_a)" in text and "$5,437.50" in text and "grr_pct" in text


def test_cli_statement_uses_the_books_comp_plan(book_dir, tiny_book, capsys):
    (tiny_book / "comp_plan.yaml").write_text("base: 120000\n", encoding="utf-8")
    assert main(["payout", "--data", str(tiny_book), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["base"] == 30_000.0  # 120,000 × 3 / 12
    (tiny_book / "comp_plan.yaml").write_text("base: -5\n", encoding="utf-8")
    assert main(["payout", "--data", str(tiny_book), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06"]) == 1
    assert "comp_plan.yaml: key 'base' has value -5" in capsys.readouterr().err


def test_docs_payout_table_matches_the_code(seed):
    """docs/comp_plan.md lists every segment of the default curve; the code must pay exactly that."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "comp_plan.md").read_text(encoding="utf-8")
    block = text.split("<!-- payout-table:start -->")[1].split("<!-- payout-table:end -->")[0]
    rows = [r.strip("|").split("|") for r in block.strip().splitlines()[2:]]
    assert len(rows) >= 8
    for att, mult, var, total in rows:
        a = D(att.strip().rstrip("%").strip()) / 100
        assert payout_multiple(seed, a) * 100 == D(mult.strip().rstrip("%").strip()), att
        assert variable_payout(seed, a) == D(var.strip().lstrip("$").replace(",", "")), att
        assert pay_at(seed, a).total_earnings == D(total.strip().lstrip("$").replace(",", "")), att


def test_a_metric_without_data_is_named_in_plain_numbers() -> None:
    import numpy as np

    from kpi_kit import comp

    plan = comp.load_plan(None)  # the seed's plan: retention, expansion, activity
    pairs = {"retention": (np.float64(97.4), np.float64(99.0)), "expansion": (np.float64(101.2), np.float64(108.0)),
             "activity": (np.float64(60.0), np.float64("nan"))}
    with pytest.raises(KitError) as err:
        comp.statement(plan, pairs, months=3)
    assert "metric 'activity' has no data (target 60, actual no data)" in str(err.value)
    assert "np." not in str(err.value) and "nan" not in str(err.value)
