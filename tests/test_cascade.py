"""The KPI cascade on a hand-built 3-CSM book: allocation, the roll-up check and the tree.

Every expected value is worked out by hand in the comments. The period is Q2 2025: beginning ARR is
March 2025, ending ARR June 2025; 3 months.

GRR / NRR targets in targets.yaml are annual; a quarter is held to 100 × (annual / 100) ** (3/12).
The quarterly rates used below (calculator, 4th root = ** 0.25):
    GRR 94.8 -> 100 × 0.948 ** 0.25 = 98.67385   NRR 114 -> 100 × 1.14 ** 0.25 = 103.32995
    GRR 95   -> 100 × 0.95 ** 0.25  = 98.72585   NRR 105 -> 100 × 1.05 ** 0.25 = 101.22722
    GRR 80   -> 100 × 0.80 ** 0.25  = 94.57416   NRR 100 -> 100 × 1.00 ** 0.25 = 100
    GRR 98   -> 100 × 0.98 ** 0.25  = 99.49621   NRR 120 -> 100 × 1.20 ** 0.25 = 104.66351
    GRR 90   -> 100 × 0.90 ** 0.25  = 97.40037
    company GRR 92 -> 100 × 0.92 ** 0.25 = 97.93704; company NRR 110 -> 100 × 1.10 ** 0.25 = 102.41137
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from kpi_kit.cascade import (
    ROLLUP_RULES,
    cascade,
    cascade_targets,
    cascade_tree,
    csm_target_table,
    forecast_vs_goal,
    line_of_sight,
    rolled_up_target,
    rollup_check,
    shortfall,
    shortfall_text,
)
from kpi_kit.data import load_book
from kpi_kit.periods import Period
from kpi_kit.scorecard import KPIS, targets_for
from kpi_kit.targets import company_goals, override_problems
from tests.conftest import arr_rows

Q2 = Period.parse("2025-04", "2025-06")

TARGETS_YAML = """\
csms:
  b: {grr_pct: 95}
  c: {calls_per_month: 10, coverage_pct: 80, logo_churn_monthly_pct: 8}
"""


def acc(aid: str, csm: str, segment: str) -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": ""}


def act(i: int, date: str, aid: str, csm: str, kind: str) -> dict:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": csm, "type": kind, "purpose": ""}


def three_csm_files(targets: str | None = TARGETS_YAML) -> dict:
    """a: enterprise E1 + mid-market M1 ($1M), b: mid-market M2 ($0.5M), c: SMB S1 + S2 ($0.5M)."""
    files = dict(
        csms=[{"csm_id": "a", "csm_name": "Ana", "team": "East"}, {"csm_id": "b", "csm_name": "Ben", "team": "East"},
              {"csm_id": "c", "csm_name": "Cy", "team": "West"}],
        accounts=[acc("E1", "a", "enterprise"), acc("M1", "a", "mid-market"), acc("M2", "b", "mid-market"),
                  acc("S1", "c", "smb"), acc("S2", "c", "smb")],
        arr_monthly=[
            *arr_rows("E1", {"2025-03": 600_000, "2025-06": 630_000}),   # +30,000 expansion
            *arr_rows("M1", {"2025-03": 400_000, "2025-06": 380_000}),   # −20,000 contraction
            *arr_rows("M2", {"2025-03": 500_000, "2025-06": 500_000}),   # flat
            *arr_rows("S1", {"2025-03": 200_000}),                       # churned (no June row = 0)
            *arr_rows("S2", {"2025-03": 300_000, "2025-06": 310_000}),   # +10,000
        ],
        activities=[
            act(1, "2025-04-03", "E1", "a", "call"), act(2, "2025-05-10", "E1", "a", "email"),
            act(3, "2025-04-20", "M2", "b", "meeting"), act(4, "2025-05-02", "S2", "c", "call"),
            act(5, "2025-06-01", "M1", "c", "call"),   # c helps on a's mid-market account
        ],
        sqls=[
            {"sql_id": "Q1", "created_date": "2025-05-01", "account_id": "E1", "csm_id": "a", "expansion_arr": 50_000,
             "status": "open", "closed_date": ""},
            {"sql_id": "Q2", "created_date": "2025-04-15", "account_id": "M1", "csm_id": "c", "expansion_arr": 10_000,
             "status": "won", "closed_date": "2025-05-20"},
        ],
    )
    if targets is not None:
        files["targets"] = targets
    return files


@pytest.fixture
def book3(book_dir):
    return load_book(book_dir(**three_csm_files()))


def test_allocation_blends_segment_targets_by_beginning_arr(book3):
    t = csm_target_table(book3, Q2)
    # a: enterprise 600,000 + mid-market 400,000 = 1,000,000 -> weights 60 % / 40 %
    #    annual GRR 98 × 0.6 + 90 × 0.4 = 58.8 + 36 = 94.8; NRR 120 × 0.6 + 105 × 0.4 = 72 + 42 = 114
    #    quarterly GRR target: 100 × 0.948 ** (3/12) = 98.67385 %; NRR 100 × 1.14 ** (3/12) = 103.32995 %
    assert t.at["a", "grr_pct"] == pytest.approx(98.67385, abs=1e-5)
    assert t.at["a", "nrr_pct"] == pytest.approx(103.32995, abs=1e-5)
    # b: all mid-market, but GRR overridden to 95 a year in targets.yaml; NRR = mid-market 105 a year
    #    quarter: GRR 100 × 0.95 ** 0.25 = 98.72585; NRR 100 × 1.05 ** 0.25 = 101.22722
    assert t.at["b", "grr_pct"] == pytest.approx(98.72585, abs=1e-5)
    assert t.at["b", "nrr_pct"] == pytest.approx(101.22722, abs=1e-5)
    # c: all SMB -> annual GRR 80, NRR 100 -> quarter 100 × 0.8 ** 0.25 = 94.57416, 100 × 1 ** 0.25 = 100;
    #    calls overridden to 10 a month × 3 = 30, coverage 80, churn 8
    assert t.at["c", "grr_pct"] == pytest.approx(94.57416, abs=1e-5)
    assert t.at["c", "nrr_pct"] == 100.0
    assert (t.at["c", "calls"], t.at["c", "coverage_pct"], t.at["c", "logo_churn_monthly_pct"]) == (30.0, 80.0, 8.0)
    # the activity standard for the others: 20 calls a month × 3 = 60; 4 SQLs a quarter
    assert (t.at["a", "calls"], t.at["b", "sqls"]) == (60.0, 4.0)


def test_targets_are_the_scorecards_targets(book3):
    table = csm_target_table(book3, Q2)
    for csm in ("a", "b", "c"):
        expected = targets_for(book3, csm, Q2)
        for kpi, *_ in KPIS:
            assert table.at[csm, kpi] == pytest.approx(expected[kpi]), (csm, kpi)


def test_cascade_targets_shares_and_mix(book3):
    ct = cascade_targets(book3, Q2)
    # team beginning ARR 1,000,000 + 500,000 + 500,000 = 2,000,000 -> a 50 %, b 25 %, c 25 %
    assert list(ct.table["share_pct"]) == pytest.approx([50.0, 25.0, 25.0])
    assert ct.table.at["a", "mix_enterprise_pct"] == pytest.approx(60.0)
    assert ct.table.at["a", "mix_mid-market_pct"] == pytest.approx(40.0)
    assert ct.table.at["c", "overrides"] == "calls_per_month, coverage_pct, logo_churn_monthly_pct"
    # the annual rates the quarter's targets come from: a's blend 94.8 / 114, b's override 95
    assert ct.table.at["a", "grr_annual_pct"] == pytest.approx(94.8)
    assert ct.table.at["a", "nrr_annual_pct"] == pytest.approx(114.0)
    assert ct.table.at["b", "grr_annual_pct"] == 95.0
    assert "<table" in ct._repr_html_()


def test_rollup_check_retention_shortfall_in_arr(book3):
    table = rollup_check(book3, Q2).table.set_index("kpi")
    grr, nrr = table.loc["grr_pct"], table.loc["nrr_pct"]
    # like with like: the company's quarterly goal 100 × 0.92 ** (3/12) = 97.93704 % (92 % a year)
    # vs the CSMs' quarterly GRR targets weighted by beginning ARR:
    #   (98.67385 × 1,000,000 + 98.72585 × 500,000 + 94.57416 × 500,000) / 2,000,000
    #   = (98,673,850 + 49,362,925 + 47,287,080) / 2,000,000 = 195,323,855 / 2,000,000 = 97.66193 % < 97.93704 %
    #   shortfall (97.93704 − 97.66193) / 100 × 2,000,000 = 0.27511 × 20,000 = 5,502.2 of ARR (±1 from rounding)
    assert grr["company_goal"] == pytest.approx(97.93704, abs=1e-5)
    assert grr["company_goal_annual"] == 92.0
    assert grr["csm_target"] == pytest.approx(97.66193, abs=1e-5)
    assert grr["target_shortfall"] == pytest.approx(5_502.2, abs=1)
    assert not grr["targets_reach_goal"]
    assert grr["target_shortfall_text"] == "$5,502 of ARR short"
    # segment quarterly targets alone, by the segments' beginning ARR (ent 600,000; mid 900,000; smb 500,000):
    #   (99.49621 × 600,000 + 97.40037 × 900,000 + 94.57416 × 500,000) / 2,000,000
    #   = (59,697,726 + 87,660,333 + 47,287,080) / 2,000,000 = 194,645,139 / 2,000,000 = 97.32257 %
    assert grr["segment_target"] == pytest.approx(97.32257, abs=1e-5)
    # NRR: goal 100 × 1.10 ** (3/12) = 102.41137 %; CSM quarterly targets
    #   (103.32995 × 1,000,000 + 101.22722 × 500,000 + 100 × 500,000) / 2,000,000
    #   = (103,329,950 + 50,613,610 + 50,000,000) / 2,000,000 = 203,943,560 / 2,000,000 = 101.97178 %
    #   shortfall (102.41137 − 101.97178) / 100 × 2,000,000 = 0.43959 × 20,000 = 8,791.8 of ARR
    assert nrr["company_goal"] == pytest.approx(102.41137, abs=1e-5) and nrr["company_goal_annual"] == 110.0
    assert nrr["csm_target"] == pytest.approx(101.97178, abs=1e-5)
    assert nrr["target_shortfall"] == pytest.approx(8_791.8, abs=1)
    # actuals: retained 600,000 + 380,000 + 500,000 + 0 + 300,000 = 1,780,000 -> GRR 89 % for the quarter;
    #   gap (97.93704 − 89) / 100 × 2,000,000 = 8.93704 × 20,000 = 178,740.8 of ARR
    assert grr["team_actual"] == pytest.approx(89.0)
    assert grr["actual_shortfall"] == pytest.approx(178_740.8, abs=1)
    # ending 630,000 + 380,000 + 500,000 + 0 + 310,000 = 1,820,000 -> NRR 91 %;
    #   gap (102.41137 − 91) / 100 × 2,000,000 = 11.41137 × 20,000 = 228,227.4
    assert nrr["team_actual"] == pytest.approx(91.0)
    assert nrr["actual_shortfall"] == pytest.approx(228_227.4, abs=1)
    assert not nrr["actual_reaches_goal"]


def test_rollup_check_leading_targets(book3):
    table = rollup_check(book3, Q2).table.set_index("kpi")
    # calls: company goal = standard 20 × 3 months × 3 CSMs = 180; targets 60 + 60 + 30 = 150 -> 30 short
    assert table.at["calls", "company_goal"] == 180.0
    assert table.at["calls", "csm_target"] == 150.0
    assert table.at["calls", "target_shortfall_text"] == "30 calls short"
    # actual calls: a X1, b X3, c X4 + X5 = 4 -> 176 short of 180
    assert table.at["calls", "team_actual"] == 4.0 and table.at["calls", "actual_shortfall"] == 176.0
    # coverage weighted by book accounts (a 2, b 1, c 2): (90 × 2 + 90 × 1 + 80 × 2) / 5 = 430 / 5 = 86 %
    #   shortfall (90 − 86) / 100 × 5 = 0.2 accounts
    assert table.at["coverage_pct", "csm_target"] == pytest.approx(86.0)
    assert table.at["coverage_pct", "target_shortfall"] == pytest.approx(0.2)
    # in words a whole account: 0.2 short rounds up — one more covered account reaches the goal
    assert table.at["coverage_pct", "target_shortfall_text"] == "1 account short"
    # SQL pipeline: no company goal in targets.yaml -> standard 100,000 a quarter × 3 CSMs = 300,000 = Σ targets
    assert table.at["sql_pipeline", "company_goal"] == 300_000.0
    assert table.at["sql_pipeline", "targets_reach_goal"]
    # SQL conversion: nothing closed by a or b; c's Q2 won -> weights (won + lost) 0, 0, 1 -> target 25 %
    assert table.at["sql_conversion_pct", "csm_target"] == pytest.approx(25.0)
    # renewals: no renewal dates -> nothing weighs the KPI: no data, not "met"
    assert pd.isna(table.at["renewals_90d_contacted_pct", "csm_target"])
    assert table.at["renewals_90d_contacted_pct", "targets_reach_goal"] is pd.NA


def test_rollup_check_logo_churn_through_period_rates(book3):
    row = rollup_check(book3, Q2).table.set_index("kpi").loc["logo_churn_monthly_pct"]
    # period rates over 3 months: 5 %/mo -> 1 − 0.95³ = 1 − 0.857375 = 0.142625; 8 %/mo -> 1 − 0.92³ = 0.221312
    # cohort logos a 2, b 1, c 2: allowed churn = 0.142625 × 3 + 0.221312 × 2 = 0.427875 + 0.442624 = 0.870499
    # team rate 0.870499 / 5 = 0.1740998 -> monthly 1 − 0.8259002^(1/3) = 1 − 0.93823 = 6.177 %
    assert row["csm_target"] == pytest.approx(6.177, abs=1e-3)
    # more churn allowed than the goal's 0.142625 × 5 = 0.713125 logos: 0.870499 − 0.713125 = 0.157374 logos
    assert row["target_shortfall"] == pytest.approx(0.157374, abs=1e-6)
    # actual: 1 of 5 cohort logos churned (S1) -> 1 − 0.713125 = 0.286875 churned logos over the goal
    assert row["actual_shortfall"] == pytest.approx(0.286875, abs=1e-6)
    # in words, whole logos: a shortfall rounds up — 0.157 and 0.287 churned logos too many are 1 each
    assert row["target_shortfall_text"] == "1 churned logo too many allowed"
    assert row["actual_shortfall_text"] == "1 churned logo over the goal"
    assert not row["actual_reaches_goal"]


def test_cascade_notes_and_company_pipeline_goal(book_dir):
    files = three_csm_files(TARGETS_YAML + "  zz: {calls_per_month: 5}\n  a: {call_per_month: 5}\n"
                            "company: {sql_pipeline_per_quarter: 400000}\n")
    book = load_book(book_dir(**files))
    result = cascade(book, Q2)
    notes = " | ".join(result.notes)
    assert "csms.zz: no CSM 'zz'" in notes
    assert "csms.a.call_per_month: not a target key" in notes
    # segment quarterly targets alone give GRR 97.32257 % < the quarter's goal 97.93704 % (92 % a year)
    #   (see test_rollup_check_retention_shortfall_in_arr): (97.93704 − 97.32257) / 100 × 2,000,000
    #   = 0.61447 × 20,000 = 12,289.4 -> $12,289 of ARR
    assert "$12,289 of ARR" in notes
    assert "below the company goal of 97.9 % for the quarter (92.0 % a year)" in notes
    # company pipeline goal 400,000 a quarter; targets 3 × 100,000 = 300,000 -> 100,000 short
    row = result.check.table.set_index("kpi").loc["sql_pipeline"]
    assert (row["company_goal"], row["target_shortfall"]) == (400_000.0, 100_000.0)
    assert row["target_shortfall_text"] == "$100,000 short"
    assert not result.check.ok
    assert "Roll-up check" in result._repr_html_()


def test_targets_that_reach_the_goal_pass(book_dir):
    # all enterprise: segment GRR 98 / NRR 120 a year are above the company's 92 / 110 -> no shortfall;
    # per quarter GRR 99.49621 vs 97.93704 and NRR 104.66351 vs 102.41137
    files = three_csm_files(targets=None)
    for row in files["accounts"]:
        row["segment"] = "enterprise"
    check = rollup_check(load_book(book_dir(**files)), Q2)
    table = check.table.set_index("kpi")
    # GRR targets 98 a year everywhere = 99.49621 % a quarter:
    #   (97.93704 − 99.49621) / 100 × 2,000,000 = −1.55917 × 20,000 = −31,183.4 -> 31,183 ahead
    assert table.at["grr_pct", "target_shortfall"] == pytest.approx(-31_183.4, abs=1)
    assert table.at["grr_pct", "target_shortfall_text"] == "$31,183 of ARR ahead"
    assert check.ok


def test_line_of_sight_says_why(book3):
    los = line_of_sight(book3, "a", Q2).table.set_index("kpi")
    assert list(los.columns) == ["label", "kind", "target", "target_text", "serves", "explanation"]
    # annual blend 94.8 % -> quarter 100 × 0.948 ** (3/12) = 98.67385 %
    assert los.at["grr_pct", "target"] == pytest.approx(98.67385, abs=1e-5)
    assert los.at["grr_pct", "target_text"] == "98.7 % for the quarter (94.8 % a year)"
    # company goal 92 % a year = 100 × 0.92 ** 0.25 = 97.937 % for the quarter
    assert los.at["grr_pct", "serves"] == "company GRR 97.9 % for the quarter (92.0 % a year)"
    why = los.at["grr_pct", "explanation"]
    # the blend (60 % / 40 %) and a's share: 1,000,000 of 2,000,000 = 50 %; one point = 1 % × 1,000,000 = 10,000
    assert "enterprise 98.0 % × 60 %; mid-market 90.0 % × 40 %" in why and "= 94.8 % a year" in why
    assert "For the quarter that is the annual 94.8 % compounded over 3 of 12 months: 100 × 0.948^(3/12) = 98.7 %." \
        in why
    assert "**" not in why  # no Python operator in text a CSM reads
    assert "50.0 % of the team's beginning ARR" in why and "$10,000 of ARR" in why
    assert "company SQL pipeline $300,000 this period" in los.at["sqls", "serves"]
    c = line_of_sight(book3, "c", Q2).table.set_index("kpi")
    assert "csms.c.calls_per_month = 10" in c.at["calls", "explanation"]
    assert c.at["calls", "target_text"] == "30"
    b = line_of_sight(book3, "b", Q2).table.set_index("kpi")
    assert "csms.b.grr_pct = 95" in b.at["grr_pct", "explanation"]
    # b's override is annual too: 100 × 0.95 ** (3/12) = 98.72585 -> 98.7 %
    assert "the annual 95.0 % compounded over 3 of 12 months: 100 × 0.95^(3/12) = 98.7 %" in b.at["grr_pct", "explanation"]


def test_cascade_tree_targets_and_actuals(book3):
    tree = cascade_tree(book3, Q2)
    t = tree.table
    assert list(t["name"]) == ["Company (" + book3.name + ")", "enterprise", "Ana (a)", "mid-market", "Ana (a)",
                               "Ben (b)", "smb", "Cy (c)"]
    assert list(t["depth"]) == [0, 1, 2, 1, 2, 2, 1, 2]
    company = t.iloc[0]
    # the company's quarterly goals: 100 × 0.92 ** (3/12) = 97.93704, 100 × 1.10 ** (3/12) = 102.41137
    assert company["grr_target"] == pytest.approx(97.93704, abs=1e-5)
    assert company["nrr_target"] == pytest.approx(102.41137, abs=1e-5)
    assert (company["grr_target_annual"], company["nrr_target_annual"]) == (92.0, 110.0)
    assert company["grr_actual"] == pytest.approx(89.0) and company["nrr_actual"] == pytest.approx(91.0)
    mid = t.iloc[3]
    # mid-market accounts M1 + M2: begin 900,000; retained 380,000 + 500,000 = 880,000 -> 97.78 %
    assert mid["beginning_arr"] == 900_000 and mid["grr_actual"] == pytest.approx(100 * 880_000 / 900_000)
    # mid-market GRR 90 % a year -> 100 × 0.90 ** (3/12) = 97.40037 % for the quarter
    assert mid["grr_target"] == pytest.approx(97.40037, abs=1e-5) and mid["grr_target_annual"] == 90.0
    ana_mid, ben = t.iloc[4], t.iloc[5]
    # a's mid-market slice: M1 400,000 -> 380,000: GRR 95 % vs 97.40037 -> 95 / 97.40037 = 97.5 % at risk;
    # NRR 95 % vs 100 × 1.05 ** (3/12) = 101.22722 -> 95 / 101.22722 = 93.8 % at risk
    assert ana_mid["grr_actual"] == pytest.approx(95.0) and ana_mid["grr_status"] == "at risk"
    assert ana_mid["nrr_target"] == pytest.approx(101.22722, abs=1e-5) and ana_mid["nrr_status"] == "at risk"
    # b's override GRR 95 a year applies to b's slice: 100 × 0.95 ** (3/12) = 98.72585;
    # share 500,000 / 2,000,000 = 25 %
    assert ben["grr_target"] == pytest.approx(98.72585, abs=1e-5) and ben["grr_target_annual"] == 95.0
    assert ben["share_pct"] == pytest.approx(25.0)
    # ARR adds up down the tree: segments 600,000 + 900,000 + 500,000 = company 2,000,000
    assert t.loc[t["depth"] == 1, "beginning_arr"].sum() == company["beginning_arr"] == 2_000_000
    nested = tree.nested()
    assert [child["name"] for child in nested["children"]] == ["enterprise", "mid-market", "smb"]
    assert [g["name"] for g in nested["children"][1]["children"]] == ["Ana (a)", "Ben (b)"]
    assert nested["targets_annual"] == {"grr": 92.0, "nrr": 110.0}
    json.dumps(nested)
    html = tree._repr_html_()
    assert "padding-left" in html and "GRR target for the quarter" in html and "(92.0 % a year)" in html


def test_forecast_vs_goal_compares_the_quarter_with_the_quarter(book3):
    # as of the period end the forecast is the actual ARR (no renewal dates: every account keeps its June ARR)
    # plus the open SQL Q1 (E1, 50,000) at the team's conversion: a closed none; the team closed Q2 won,
    # none lost in the 12 months -> q = 1 / 1 = 1, so 50,000 is expected expansion
    fvg = forecast_vs_goal(book3, Q2, as_of="2025-06-30", n=50)
    team = fvg.team
    # retained 1,780,000 / 2,000,000 = 89 %; ending 1,820,000 + 50,000 = 1,870,000 -> 93.5 %
    assert team["expected_grr_pct"] == pytest.approx(89.0) and team["expected_nrr_pct"] == pytest.approx(93.5)
    # against the quarter's goals 97.93704 % (92 % a year) and 102.41137 % (110 % a year):
    #   GRR (97.93704 − 89) × 20,000 = 178,740.8; NRR (102.41137 − 93.5) × 20,000 = 178,227.4
    assert team["grr_target"] == pytest.approx(97.93704, abs=1e-5) and team["grr_target_annual"] == 92.0
    assert team["nrr_target"] == pytest.approx(102.41137, abs=1e-5) and team["nrr_target_annual"] == 110.0
    assert team["grr_gap_arr"] == pytest.approx(178_740.8, abs=1)
    assert team["nrr_gap_arr"] == pytest.approx(178_227.4, abs=1)
    # a's row: its own quarterly targets (98.67385 % from 94.8 % a year, see test_allocation_…)
    a = fvg.table.set_index("csm_id").loc["a"]
    assert a["grr_target"] == pytest.approx(98.67385, abs=1e-5) and a["grr_target_annual"] == pytest.approx(94.8)
    assert "vs the company goal of 97.9 % for the quarter (92.0 % a year) ($178,741 of ARR short)" in fvg.sentence()


def test_rule_helpers():
    parts = pd.DataFrame({"beginning_arr": [3_000_000.0, 1_000_000.0], "cohort_accounts": [10, 0]}, index=["x", "y"])
    # (90 × 3,000,000 + 80 × 1,000,000) / 4,000,000 = 350,000,000 / 4,000,000 = 87.5
    assert rolled_up_target("grr_pct", pd.Series([90.0, 80.0], index=["x", "y"]), parts, 3) == pytest.approx(87.5)
    # y has no cohort: only x's 5 % weighs -> 5 %
    assert rolled_up_target("logo_churn_monthly_pct", pd.Series([5.0, 50.0], index=["x", "y"]), parts, 3) == \
        pytest.approx(5.0)
    assert shortfall("nrr_pct", 110.0, None, 1e6, 3) is None
    assert set(ROLLUP_RULES) == {k for k, *_ in KPIS}


def test_company_goals_and_override_problems():
    from kpi_kit.targets import DEFAULT_TARGETS

    goals = company_goals(DEFAULT_TARGETS, 6, 2)
    # 6 months: calls 20 × 6 = 120 per CSM; pipeline 100,000 × 6 / 3 × 2 CSMs = 400,000
    assert goals["calls_standard"] == 120.0 and goals["sql_pipeline"] == 400_000.0
    assert override_problems(DEFAULT_TARGETS, ["a"]) == []


@pytest.mark.parametrize(("kpi", "gap", "actual", "words"), [
    # a shortfall rounds UP: 12.7 touchpoints short -> 13 more are needed to reach the goal
    ("lifecycle_compliance_pct", 12.7, True, "13 touchpoints short"),
    # a lead rounds DOWN: 20.9 accounts ahead -> 20 can be lost and the goal still holds
    ("coverage_pct", -20.9, True, "20 accounts ahead"),
    ("closed_alert_pct", 1.2, True, "2 alerts short"),
    ("sql_conversion_pct", -5.5, True, "5 closed SQLs ahead"),
    ("renewals_90d_contacted_pct", 1.0, True, "1 renewal short"),  # whole already: stays 1, singular
    ("logo_churn_monthly_pct", -27.8, True, "27 churned logos under the goal"),
    ("logo_churn_monthly_pct", 61.9, True, "62 churned logos over the goal"),
    ("logo_churn_monthly_pct", -2.5, False, "2 churned logos of headroom"),
    ("calls", 6.7, True, "7 calls short"),  # 20 calls against a goal of 26.7 need 7 more
    ("qbrs", 3.0000000001, True, "3 QBRs short"),  # float noise is not a fourth QBR
    ("coverage_pct", -0.4, True, "on the goal"),  # less than one account ahead
    ("sql_pipeline", 81_000.4, True, "$81,000 short"),  # money as it was
    ("nrr_pct", -77_316.2, True, "$77,316 of ARR ahead"),
])
def test_shortfall_words_count_whole_things(kpi, gap, actual, words):
    assert shortfall_text(kpi, gap, actual=actual) == words


def test_rollup_check_words_round_but_numbers_stay_exact(book3):
    check = rollup_check(book3, Q2)
    table = check.table.set_index("kpi")
    # coverage (worked out in test_rollup_check_leading_targets): targets 0.2 accounts short, exact in the number
    assert table.at["coverage_pct", "target_shortfall"] == pytest.approx(0.2)
    # actual coverage 4 of 5 accounts = 80 % vs 90 %: (90 − 80) / 100 × 5 = 0.5 accounts short -> "1 account short"
    assert table.at["coverage_pct", "actual_shortfall"] == pytest.approx(0.5)
    assert table.at["coverage_pct", "actual_shortfall_text"] == "1 account short"


def test_rollup_check_segment_column_says_not_set_per_segment(book3):
    html = rollup_check(book3, Q2)._repr_html_()
    rows = {re.sub(r"<[^>]+>", "", cells[0]): [re.sub(r"<[^>]+>", "", c) for c in cells]
            for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html))
            if cells}
    # only GRR and NRR have segment targets: GRR 97.32257 % (worked out in test_rollup_check_retention_…)
    assert rows["GRR (ARR retention)"][2] == "97.3 %"
    # every other KPI has none: "—", never "no data" (which says the book does not record something)
    assert rows["Calls (call, meeting, QBR)"][2] == "—"
    assert rows["Coverage (% of book engaged)"][2] == "—"
    assert all(r[2] == "—" for label, r in rows.items() if label not in ("GRR (ARR retention)", "NRR"))
    assert "the KPI has no segment targets (only GRR and NRR are set per segment)" in html


def test_forecast_starting_arr_is_the_book_at_the_end_of_the_month_before(book_dir):
    files = three_csm_files()
    # a new logo N1 for b, won during Q2: no March ARR, 40,000 in June
    files["accounts"].append(acc("N1", "b", "mid-market"))
    files["arr_monthly"] += arr_rows("N1", {"2025-06": 40_000})
    book = load_book(book_dir(**files))
    from kpi_kit.team import team_rollup

    team = team_rollup(book, Q2).team.iloc[0]
    # Q2 cohort: ending 630,000 + 380,000 + 500,000 + 0 + 310,000 = 1,820,000; N1 is new-logo ARR 40,000
    assert team["ending_arr"] == 1_820_000 and team["new_arr"] == 40_000
    # the next quarter's forecast starts from the book's June ARR, new logo included: 1,860,000
    fvg = forecast_vs_goal(book, Period.parse("2025-07", "2025-09"), as_of="2025-06-30", n=50)
    assert fvg.team["beginning_arr"] == 1_860_000 == team["ending_arr"] + team["new_arr"]
    html = fvg._repr_html_()
    assert "<th>book ARR, end of 2025-06</th>" in html and "beginning ARR" not in html
    assert "new logos signed by then included" in html
