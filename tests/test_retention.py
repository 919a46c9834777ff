"""kpi_kit.retention and the exercises of notebooks 06-08, on the seed's examples and a hand-built book.

The book (period Q2 2025: beginning ARR = March, ending ARR = June), csm_a's accounts:

    E1 enterprise  1,000,000 -> 1,300,000   expansion 300,000
    M1 mid-market    800,000 ->   700,000   contraction 100,000
    S1 smb           100,000 ->         0   churned (ARR in March and April only), churn_reason "price"
    S3 smb           100,000 ->   100,000   flat
    S2 smb                 0 ->   500,000   new logo (ARR from May)

    cohort = E1, M1, S1, S3; beginning ARR = 1,000,000 + 800,000 + 100,000 + 100,000 = 2,000,000 (the seed's $2M)
    retained = 1,000,000 + 700,000 + 0 + 100,000 = 1,800,000           -> GRR 90.0 %
    ending (cohort) = 1,300,000 + 700,000 + 0 + 100,000 = 2,100,000    -> NRR 105.0 %
    with the new logo: (2,100,000 + 500,000) / 2,000,000               -> 130.0 % (the trap)
    targets blended by beginning ARR: enterprise 50 %, mid-market 40 %, smb 10 %
        annual GRR 0.5 × 98 + 0.4 × 90 + 0.1 × 80 = 93.0;  NRR 0.5 × 120 + 0.4 × 105 + 0.1 × 100 = 112.0
        held to the quarter (kpi_kit.targets.period_rate, 100 × (annual / 100)^(3/12)):
        GRR 0.93^0.25 = exp(ln 0.93 / 4) = exp(−0.0181427) = 0.982021 -> 98.2021 %
        NRR 1.12^0.25 = exp(ln 1.12 / 4) = exp(0.0283322) = 1.028737 -> 102.8737 %

csm_b owns B1 (enterprise, 200,000 -> 100,000); csm_c owns nothing.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi_kit import retention
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import churn as ex8
from kpi_kit.exercises import nrr as ex7
from kpi_kit.exercises import retention as ex6
from kpi_kit.metrics import csm_metrics, monthly_equivalent
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q2 = Period.parse("2025-04", "2025-06")


def account(aid: str, csm: str, segment: str, reason: str = "") -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": "", "churn_reason": reason}


@pytest.fixture
def book(book_dir):
    return load_book(book_dir(
        csms=[{"csm_id": c, "csm_name": c.upper(), "team": "T"} for c in ("csm_a", "csm_b", "csm_c")],
        accounts=[account("E1", "csm_a", "enterprise"), account("M1", "csm_a", "mid-market"),
                  account("S1", "csm_a", "smb", "price"), account("S2", "csm_a", "smb"), account("S3", "csm_a", "smb"),
                  account("B1", "csm_b", "enterprise")],
        arr_monthly=[
            *arr_rows("E1", {"2025-03": 1_000_000, "2025-06": 1_300_000}),
            *arr_rows("M1", {"2025-03": 800_000, "2025-06": 700_000}),
            *arr_rows("S1", {"2025-03": 100_000, "2025-04": 100_000}),
            *arr_rows("S2", {"2025-05": 500_000, "2025-06": 500_000}),
            *arr_rows("S3", {"2025-03": 100_000, "2025-06": 100_000}),
            *arr_rows("B1", {"2025-03": 200_000, "2025-06": 100_000}),
        ],
        activities=[
            {"activity_id": "X1", "date": "2025-04-10", "account_id": "S1", "csm_id": "csm_a", "type": "call", "purpose": ""},
            {"activity_id": "X2", "date": "2025-07-02", "account_id": "S1", "csm_id": "csm_a", "type": "call", "purpose": ""},
        ],
        risk_alerts=[
            {"alert_id": "R1", "account_id": "S1", "flagged_date": "2025-03-20", "outcome": "churned"},
            {"alert_id": "R2", "account_id": "S1", "flagged_date": "2025-07-05", "outcome": "open"},   # after the period
        ],
    ))


# -- the seed's arithmetic ----------------------------------------------------------------------------

def test_seed_grr_example():
    # 100 × (2,000,000 − 100,000) / 2,000,000 = 95.0
    assert retention.grr_pct(2_000_000, churned_arr=100_000) == 95.0


def test_seed_nrr_example():
    # 100 × (2,000,000 − 100,000 + 300,000) / 2,000,000 = 110.0
    assert retention.nrr_pct(2_000_000, churned_arr=100_000, expansion_arr=300_000) == 110.0


def test_grr_and_nrr_with_contraction():
    # GRR 100 × (2,000,000 − 100,000 − 100,000) / 2,000,000 = 90.0; NRR adds 300,000 -> 105.0
    assert retention.grr_pct(2_000_000, 100_000, 100_000) == 90.0
    assert retention.nrr_pct(2_000_000, 100_000, 100_000, 300_000) == 105.0


def test_seed_monthly_to_annual_and_back():
    # 1 − 0.95^12 = 1 − 0.540360 = 0.459640 -> 45.96 %, not 5 × 12 = 60 %
    annual = retention.annual_equivalent(5.0)
    assert round(annual, 2) == 45.96
    # back: 1 − (1 − 0.45964)^(1/12) = 1 − 0.95 = 5 %
    assert monthly_equivalent(annual, 12) == pytest.approx(5.0, abs=1e-9)


def test_annual_equivalent_quarter_and_series():
    # 1 − 0.95^3 = 1 − 0.857375 = 0.142625; 0 % stays 0 %; NaN stays NaN
    assert retention.annual_equivalent(5.0, 3) == pytest.approx(14.2625, abs=1e-9)
    out = retention.annual_equivalent(pd.Series([5.0, 0.0, float("nan")]), 3)
    assert out.iloc[0] == pytest.approx(14.2625, abs=1e-9) and out.iloc[1] == 0.0 and math.isnan(out.iloc[2])
    assert retention.annual_equivalent(None) is None


@pytest.mark.parametrize("call", [
    lambda: retention.grr_pct(-1),
    lambda: retention.grr_pct("2M"),
    lambda: retention.grr_pct(100, churned_arr=80, contraction_arr=30),   # 110 lost of 100
    lambda: retention.nrr_pct(100, expansion_arr=-5),
    lambda: retention.annual_equivalent(120.0),
    lambda: retention.annual_equivalent(5.0, 0),
    lambda: retention.annual_equivalent(pd.Series([5.0, -1.0])),
])
def test_bad_input_is_a_clear_error(call):
    with pytest.raises(KitError):
        call()


def test_no_beginning_arr_is_no_data_not_zero():
    assert retention.grr_pct(0) is None and retention.nrr_pct(0, expansion_arr=0) is None


# -- the CSM's book -----------------------------------------------------------------------------------

def test_retention_of_the_hand_built_book(book):
    r = retention.retention(book, "csm_a", Q2)
    assert (r.beginning_arr, r.retained_arr, r.ending_arr, r.new_arr) == (2_000_000, 1_800_000, 2_100_000, 500_000)
    assert (r.expansion_arr, r.contraction_arr, r.churned_arr) == (300_000, 100_000, 100_000)
    assert (r.cohort_accounts, r.churned_accounts, r.new_accounts) == (4, 1, 1)
    assert r.grr_pct == pytest.approx(90.0) and r.nrr_pct == pytest.approx(105.0)
    assert r.nrr_with_new_logos_pct == pytest.approx(130.0)
    assert r.grr_target_annual == pytest.approx(93.0) and r.nrr_target_annual == pytest.approx(112.0)
    assert r.grr_target == pytest.approx(98.2021, abs=1e-4) and r.nrr_target == pytest.approx(102.8737, abs=1e-4)
    # GRR gap: (98.2021 − 90) % of 2,000,000 = 164,042; NRR 105 is above 102.87: no gap
    assert r.grr_gap_arr == pytest.approx(164_042, abs=2) and r.nrr_gap_arr == 0.0
    assert "8.2 points short" in r.grr_sentence() and "$164,042" in r.grr_sentence()
    assert "(93.0 % a year)" in r.grr_sentence()
    assert r.nrr_sentence().endswith("on or above target")
    assert "Retention — csm_a" in r._repr_html_()


def test_retention_agrees_with_the_kpis(book):
    r = retention.retention(book, "csm_a", Q2)
    m = csm_metrics(book, "csm_a", Q2)
    assert r.grr_pct == pytest.approx(m["grr_pct"]) and r.nrr_pct == pytest.approx(m["nrr_pct"])


def test_a_csm_without_accounts_has_no_data(book):
    r = retention.retention(book, "csm_c", Q2)
    assert r.grr_pct is None and r.nrr_pct is None and r.grr_gap_arr is None
    assert r.grr_target_annual == 92.0  # no beginning ARR: the company goal
    assert "no data" in r.grr_sentence() and "no data" in r.nrr_sentence()
    assert retention.retention_by_segment(book, "csm_c", Q2).empty
    total = retention.churn_table(book, "csm_c", Q2).iloc[-1]
    assert total["cohort_accounts"] == 0 and math.isnan(total["logo_churn_pct"])


def test_unknown_csm_is_a_clear_error(book):
    with pytest.raises(KitError, match="unknown CSM"):
        retention.retention(book, "csm_x", Q2)


def test_book_accounts_caps_at_beginning_arr(book):
    acc = retention.book_accounts(book, "csm_a", Q2).set_index("account_id")
    assert set(acc.index) == {"E1", "M1", "S1", "S2", "S3"}
    assert acc.at["E1", "retained"] == 1_000_000  # min(1,300,000, 1,000,000)
    assert acc.at["M1", "retained"] == 700_000    # min(700,000, 800,000)
    assert not acc.at["S2", "in_cohort"]


def test_retention_by_segment(book):
    seg = retention.retention_by_segment(book, "csm_a", Q2)
    assert seg["segment"].tolist() == ["enterprise", "mid-market", "smb"]
    # weights 1,000,000 / 800,000 / 200,000 of 2,000,000
    assert seg["weight_pct"].tolist() == pytest.approx([50.0, 40.0, 10.0])
    # GRR: 1,000,000/1,000,000, 700,000/800,000, 100,000/200,000; NRR: 1,300,000/1,000,000, 87.5, 50
    assert seg["grr_pct"].tolist() == pytest.approx([100.0, 87.5, 50.0])
    assert seg["nrr_pct"].tolist() == pytest.approx([130.0, 87.5, 50.0])
    assert seg["grr_target_annual"].tolist() == [98.0, 90.0, 80.0]
    assert seg["nrr_target_annual"].tolist() == [120.0, 105.0, 100.0]
    # held to the quarter: 0.98^0.25 = 0.994962, 0.9^0.25 = 0.974004, 0.8^0.25 = 0.945742
    assert seg["grr_target"].tolist() == pytest.approx([99.4962, 97.4004, 94.5742], abs=1e-4)
    assert seg["cohort_accounts"].tolist() == [1, 1, 2]


def test_retention_by_segment_for_the_team(book):
    team = retention.retention_by_segment(book, None, Q2).set_index("segment")
    # enterprise: E1 + B1 = 1,200,000 beginning; retained 1,000,000 + 100,000; ending 1,300,000 + 100,000
    assert team.at["enterprise", "beginning_arr"] == 1_200_000
    assert team.at["enterprise", "grr_pct"] == pytest.approx(100 * 1_100_000 / 1_200_000)
    assert team.at["enterprise", "nrr_pct"] == pytest.approx(100 * 1_400_000 / 1_200_000)


# -- churn ----------------------------------------------------------------------------------------------

def test_churn_table_by_segment(book):
    t = retention.churn_table(book, "csm_a", Q2).set_index("segment")
    assert t.index.tolist() == ["enterprise", "mid-market", "smb", "all"]
    # smb: S1 churned of S1, S3 -> 50 %; revenue (100,000 + 0) / 200,000 = 50 %
    assert t.at["smb", "logo_churn_pct"] == 50.0 and t.at["smb", "revenue_churn_pct"] == 50.0
    # mid-market: no logo lost, 100,000 contraction of 800,000 -> 12.5 % revenue churn
    assert t.at["mid-market", "logo_churn_pct"] == 0.0 and t.at["mid-market", "revenue_churn_pct"] == 12.5
    # all: 1 of 4 logos -> 25 %; (100,000 + 100,000) / 2,000,000 = 10 % = 100 − GRR 90
    assert t.at["all", "logo_churn_pct"] == 25.0 and t.at["all", "revenue_churn_pct"] == pytest.approx(10.0)
    # monthly: 1 − 0.75^(1/3) = 1 − 0.908560 = 9.1440 %; 1 − 0.9^(1/3) = 1 − 0.965489 = 3.4511 %
    assert t.at["all", "logo_churn_monthly_pct"] == pytest.approx(9.1440, abs=1e-4)
    assert t.at["all", "revenue_churn_monthly_pct"] == pytest.approx(3.4511, abs=1e-4)
    m = csm_metrics(book, "csm_a", Q2)
    assert t.at["all", "logo_churn_pct"] == pytest.approx(m["logo_churn_pct"])


def test_churn_by_reason(book):
    assert retention.churn_reason_column(book) == "churn_reason"
    t = retention.churn_table(book, "csm_a", Q2, by="churn_reason").set_index("churn_reason")
    # E1, M1, S3 have no reason; S1 ("price") is the one that left
    assert t.at["(blank)", "cohort_accounts"] == 3 and t.at["(blank)", "churned_accounts"] == 0
    assert t.at["price", "logo_churn_pct"] == 100.0


def test_churn_table_unknown_column_is_a_clear_error(book):
    with pytest.raises(KitError, match="accounts.csv has no column 'why'"):
        retention.churn_table(book, "csm_a", Q2, by="why")


def test_churned_accounts(book):
    lost = retention.churned_accounts(book, "csm_a", Q2)
    assert lost["account_id"].tolist() == ["S1"]
    row = lost.iloc[0]
    assert row["begin"] == 100_000 and row["last_month_with_arr"] == "2025-04"
    assert row["last_touch"] == pd.Timestamp("2025-04-10")  # the July call is after the period
    assert row["alerts_before"] == 1                          # R1; R2 is flagged after the period
    assert row["reason"] == "price"


def test_no_churned_accounts_is_an_empty_list_with_the_right_types(book):
    lost = retention.churned_accounts(book, "csm_b", Q2)     # B1 shrank but did not leave
    assert lost.empty and list(lost.columns) == retention.CHURNED_COLUMNS
    assert str(lost["last_touch"].dtype) == "datetime64[us]"


def test_churned_accounts_when_nothing_is_recorded(book_dir):
    b = load_book(book_dir(
        csms=[{"csm_id": "a", "csm_name": "A", "team": "T"}],
        accounts=[{"account_id": "X", "account_name": "X Co", "csm_id": "a", "segment": "smb",
                   "customer_since": "2020-01-01", "renewal_date": ""}],
        arr_monthly=arr_rows("X", {"2025-03": 10_000}),
        book="not_recorded: [activities, risk_alerts]\n"))
    lost = retention.churned_accounts(b, "a", Q2)
    assert len(lost) == 1 and pd.isna(lost.at[0, "last_touch"]) and pd.isna(lost.at[0, "alerts_before"])
    assert retention.churn_reason_column(b) is None and pd.isna(lost.at[0, "reason"])


def test_churn_chart(book):
    spec = retention.churn_chart(retention.churn_table(book, "csm_a", Q2)).to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["x"]["field"] == "segment"
    assert len(spec["datasets"][next(iter(spec["datasets"]))]) == 4  # three segments + "all"
    with pytest.raises(KitError, match="churn_table"):
        retention.churn_chart(pd.DataFrame({"segment": ["smb"]}))


# -- exercises 6.x, 7.x, 8.x ----------------------------------------------------------------------------

def test_exercise_6_1(book):
    q = ex6.q_6_1(book, "csm_a", Q2)
    assert q.expected == pytest.approx(90.0)
    ok, msg = q.verdict(105.0)                 # Σ end / Σ begin: no cap
    assert not ok and "cap" in msg
    assert q.verdict(10.0)[1].endswith("GRR is the share of beginning ARR kept.")  # revenue churn
    assert ex6.q_6_1(book, "csm_c", Q2).verdict(None)[0]   # no beginning ARR: None is right


def test_exercise_6_2(book):
    q = ex6.q_6_2(book, "csm_a", Q2)
    assert q.expected == pytest.approx(93.0)
    ok, msg = q.verdict((98 + 90 + 80) / 3)    # plain mean 89.33
    assert not ok and "Weight" in msg
    assert "company" in q.verdict(92.0)[1]
    assert "held to the period" in q.verdict(98.2021)[1]


def test_exercise_7_1_catches_new_logos(book):
    q = ex7.q_7_1(book, "csm_a", Q2)
    assert q.expected == pytest.approx(105.0)
    ok, msg = q.verdict(130.0)
    assert not ok and "you included new logos in NRR" in msg
    assert "GRR" in q.verdict(90.0)[1]


def test_exercise_7_2(book):
    # csm_b: B1 enterprise 200,000 -> 100,000: NRR 50 %; target 120 % a year held to the quarter:
    # 1.2^0.25 = exp(ln 1.2 / 4) = exp(0.0455804) = 1.0466351 -> 104.66351 %
    # gap (104.66351 − 50) % of 200,000 = 109,327.02
    q = ex7.q_7_2(book, "csm_b", Q2)
    assert q.expected == pytest.approx(109_327.02, abs=0.05)
    assert "percentage points" in q.verdict(54.66351)[1]
    assert q.verdict(109_326.5)[0]                    # tolerance: one dollar
    assert ex7.q_7_2(book, "csm_a", Q2).expected == 0.0   # NRR 105 % is above 102.87 %: nothing missing


def test_exercise_8_1(book):
    q = ex8.q_8_1(book, "csm_a", Q2)
    assert q.expected == 25.0                          # 1 of 4 cohort accounts
    assert "new logos" in q.verdict(20.0)[1]          # 1 of 5 book accounts
    assert "revenue churn" in q.verdict(10.0)[1]


def test_exercise_8_2(book):
    q = ex8.q_8_2(book, "csm_a", Q2)
    assert q.expected == pytest.approx(9.1440, abs=1e-4)   # 1 − 0.75^(1/3)
    assert "compounds" in q.verdict(25.0 / 3)[1]


def test_exercise_8_3(book):
    q = ex8.q_8_3(book, "csm_a", Q2)
    # revenue churn 10 % a quarter; monthly m with (1 − m)^3 = 0.9; a year: 1 − 0.9^4 = 1 − 0.6561 = 34.39 %
    assert q.expected == pytest.approx(34.39)
    m = 100 * (1 - 0.9 ** (1 / 3))
    assert "multiplied by 12" in q.verdict(12 * m)[1]
