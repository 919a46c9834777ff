"""The KPI cascade on a hand-built 3-CSM book: allocation, the roll-up check and the tree.

Every expected value is worked out by hand in the comments. The period is Q2 2025: beginning ARR is
March 2025, ending ARR June 2025; 3 months.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kpi_kit.cascade import (
    ROLLUP_RULES,
    cascade,
    cascade_targets,
    cascade_tree,
    csm_target_table,
    line_of_sight,
    rolled_up_target,
    rollup_check,
    shortfall,
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
    #    GRR 98 × 0.6 + 90 × 0.4 = 58.8 + 36 = 94.8; NRR 120 × 0.6 + 105 × 0.4 = 72 + 42 = 114
    assert t.at["a", "grr_pct"] == pytest.approx(94.8)
    assert t.at["a", "nrr_pct"] == pytest.approx(114.0)
    # b: all mid-market, but GRR overridden to 95 in targets.yaml; NRR = mid-market 105
    assert (t.at["b", "grr_pct"], t.at["b", "nrr_pct"]) == (95.0, 105.0)
    # c: all SMB -> GRR 80, NRR 100; calls overridden to 10 a month × 3 = 30, coverage 80, churn 8
    assert (t.at["c", "grr_pct"], t.at["c", "nrr_pct"]) == (80.0, 100.0)
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
    assert "<table" in ct._repr_html_()


def test_rollup_check_retention_shortfall_in_arr(book3):
    table = rollup_check(book3, Q2).table.set_index("kpi")
    grr, nrr = table.loc["grr_pct"], table.loc["nrr_pct"]
    # CSM GRR targets weighted by beginning ARR: (94.8 × 1,000,000 + 95 × 500,000 + 80 × 500,000) / 2,000,000
    #   = (94,800,000 + 47,500,000 + 40,000,000) / 2,000,000 = 91.15 % < 92 % goal
    #   shortfall (92 − 91.15) / 100 × 2,000,000 = 17,000 of ARR
    assert grr["company_goal"] == 92.0
    assert grr["csm_target"] == pytest.approx(91.15)
    assert grr["target_shortfall"] == pytest.approx(17_000)
    assert not grr["targets_reach_goal"]
    assert grr["target_shortfall_text"] == "$17,000 of ARR short"
    # segment targets alone, by the segments' beginning ARR (ent 600,000; mid 900,000; smb 500,000):
    #   (98 × 600,000 + 90 × 900,000 + 80 × 500,000) / 2,000,000 = 179,800,000 / 2,000,000 = 89.9 %
    assert grr["segment_target"] == pytest.approx(89.9)
    # NRR: (114 × 1,000,000 + 105 × 500,000 + 100 × 500,000) / 2,000,000 = 216,500,000 / 2,000,000 = 108.25 %
    #   shortfall (110 − 108.25) / 100 × 2,000,000 = 35,000 of ARR
    assert nrr["csm_target"] == pytest.approx(108.25)
    assert nrr["target_shortfall"] == pytest.approx(35_000)
    # actuals: retained 600,000 + 380,000 + 500,000 + 0 + 300,000 = 1,780,000 -> GRR 89 %;
    #   gap (92 − 89) / 100 × 2,000,000 = 60,000 of ARR
    assert grr["team_actual"] == pytest.approx(89.0)
    assert grr["actual_shortfall"] == pytest.approx(60_000)
    # ending 630,000 + 380,000 + 500,000 + 0 + 310,000 = 1,820,000 -> NRR 91 %; gap 19 % × 2,000,000 = 380,000
    assert nrr["team_actual"] == pytest.approx(91.0)
    assert nrr["actual_shortfall"] == pytest.approx(380_000)
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
    assert row["target_shortfall_text"] == "0.2 churned logos too many allowed"
    assert row["actual_shortfall_text"] == "0.3 churned logos over the goal"
    assert not row["actual_reaches_goal"]


def test_cascade_notes_and_company_pipeline_goal(book_dir):
    files = three_csm_files(TARGETS_YAML + "  zz: {calls_per_month: 5}\n  a: {call_per_month: 5}\n"
                            "company: {sql_pipeline_per_quarter: 400000}\n")
    book = load_book(book_dir(**files))
    result = cascade(book, Q2)
    notes = " | ".join(result.notes)
    assert "csms.zz: no CSM 'zz'" in notes
    assert "csms.a.call_per_month: not a target key" in notes
    # segment targets alone give GRR 89.9 % < 92 %: (92 − 89.9) / 100 × 2,000,000 = 42,000 of ARR
    assert "$42,000 of ARR" in notes
    # company pipeline goal 400,000 a quarter; targets 3 × 100,000 = 300,000 -> 100,000 short
    row = result.check.table.set_index("kpi").loc["sql_pipeline"]
    assert (row["company_goal"], row["target_shortfall"]) == (400_000.0, 100_000.0)
    assert row["target_shortfall_text"] == "$100,000 short"
    assert not result.check.ok
    assert "Roll-up check" in result._repr_html_()


def test_targets_that_reach_the_goal_pass(book_dir):
    # all enterprise: segment GRR 98 / NRR 120 are above the company's 92 / 110 -> no shortfall
    files = three_csm_files(targets=None)
    for row in files["accounts"]:
        row["segment"] = "enterprise"
    check = rollup_check(load_book(book_dir(**files)), Q2)
    table = check.table.set_index("kpi")
    # GRR targets 98 everywhere: (98 − 92) / 100 × 2,000,000 = 120,000 ahead -> shortfall −120,000
    assert table.at["grr_pct", "target_shortfall"] == pytest.approx(-120_000)
    assert table.at["grr_pct", "target_shortfall_text"] == "$120,000 of ARR ahead"
    assert check.ok


def test_line_of_sight_says_why(book3):
    los = line_of_sight(book3, "a", Q2).table.set_index("kpi")
    assert list(los.columns) == ["label", "kind", "target", "target_text", "serves", "explanation"]
    assert los.at["grr_pct", "target"] == pytest.approx(94.8)
    assert los.at["grr_pct", "serves"] == "company GRR 92.0 %"
    why = los.at["grr_pct", "explanation"]
    # the blend (60 % / 40 %) and a's share: 1,000,000 of 2,000,000 = 50 %; one point = 1 % × 1,000,000 = 10,000
    assert "enterprise 98.0 % × 60 %; mid-market 90.0 % × 40 %" in why and "= 94.8 %" in why
    assert "50.0 % of the team's beginning ARR" in why and "$10,000 of ARR" in why
    assert "company SQL pipeline $300,000 this period" in los.at["sqls", "serves"]
    c = line_of_sight(book3, "c", Q2).table.set_index("kpi")
    assert "csms.c.calls_per_month = 10" in c.at["calls", "explanation"]
    assert c.at["calls", "target_text"] == "30"
    b = line_of_sight(book3, "b", Q2).table.set_index("kpi")
    assert "csms.b.grr_pct = 95" in b.at["grr_pct", "explanation"]


def test_cascade_tree_targets_and_actuals(book3):
    tree = cascade_tree(book3, Q2)
    t = tree.table
    assert list(t["name"]) == ["Company (" + book3.name + ")", "enterprise", "Ana (a)", "mid-market", "Ana (a)",
                               "Ben (b)", "smb", "Cy (c)"]
    assert list(t["depth"]) == [0, 1, 2, 1, 2, 2, 1, 2]
    company = t.iloc[0]
    assert (company["grr_target"], company["nrr_target"]) == (92.0, 110.0)
    assert company["grr_actual"] == pytest.approx(89.0) and company["nrr_actual"] == pytest.approx(91.0)
    mid = t.iloc[3]
    # mid-market accounts M1 + M2: begin 900,000; retained 380,000 + 500,000 = 880,000 -> 97.78 %
    assert mid["beginning_arr"] == 900_000 and mid["grr_actual"] == pytest.approx(100 * 880_000 / 900_000)
    assert mid["grr_target"] == 90.0
    ana_mid, ben = t.iloc[4], t.iloc[5]
    # a's mid-market slice: M1 400,000 -> 380,000: GRR 95 % vs 90 (on track), NRR 95 % vs 105 -> 90.5 % at risk
    assert ana_mid["grr_actual"] == pytest.approx(95.0) and ana_mid["grr_status"] == "on track"
    assert ana_mid["nrr_target"] == 105.0 and ana_mid["nrr_status"] == "at risk"
    # b's override GRR 95 applies to b's slice; share 500,000 / 2,000,000 = 25 %
    assert ben["grr_target"] == 95.0 and ben["share_pct"] == pytest.approx(25.0)
    # ARR adds up down the tree: segments 600,000 + 900,000 + 500,000 = company 2,000,000
    assert t.loc[t["depth"] == 1, "beginning_arr"].sum() == company["beginning_arr"] == 2_000_000
    nested = tree.nested()
    assert [child["name"] for child in nested["children"]] == ["enterprise", "mid-market", "smb"]
    assert [g["name"] for g in nested["children"][1]["children"]] == ["Ana (a)", "Ben (b)"]
    json.dumps(nested)
    assert "padding-left" in tree._repr_html_()


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
