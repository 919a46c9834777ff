"""Money outside kpi_kit.metrics in a book with two currencies: lists, SQLs and forecasts at constant currency.

The book (every expected value below is worked out by hand from it):

* CSM ``c1``; four accounts —
  ``U1`` USD enterprise, health 40, renews 2026-11-15, ARR 210,000 flat 2026-06..2026-09;
  ``E1`` EUR enterprise, health 40, renews 2026-11-20, ARR EUR 180,000 in 2026-06..08, EUR 200,000 in 2026-09;
  ``U2`` USD smb, health 90, no renewal date, ARR 205,000 flat;
  ``E2`` EUR smb, health 90, no renewal date, ARR EUR 190,000 flat.
* ``fx_rates.csv``: EUR 1.10 US dollars on 2026-07-01, 1.20 on 2026-09-30.
* SQLs (open): ``s1`` on E1, EUR 10,000, created 2026-08-01; ``s2`` on U1, USD 5,000, created 2026-08-02.
* usage 2026-09: U2 and E2 at 50 % feature adoption (an adoption-play signal).

Chosen so that summing local amounts gives a different order than converting: in local money U1
(210,000) is above E1 (200,000) and U2 (205,000) above E2 (190,000); in US dollars E1 and E2 come first.
"""

from __future__ import annotations

import pytest

from kpi_kit import engagement, forecast, retention, sqls, strategic
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.metrics import csm_metrics
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q3 = Period.parse("2026-07", "2026-09")  # rates of 2026-07-01: EUR 1.10
MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09")
CHECKLIST = {"need": "true", "budget": "true", "timeline": "true", "stakeholder": "false"}


def _acc(aid: str, segment: str, currency: str, health: int, renewal: str) -> dict:
    return {"account_id": aid, "account_name": f"Acct {aid}", "csm_id": "c1", "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": renewal, "health_score": health, "currency": currency}


@pytest.fixture
def book(book_dir):
    arr = (arr_rows("U1", dict.fromkeys(MONTHS, 210_000))
           + arr_rows("E1", {"2026-06": 180_000, "2026-07": 180_000, "2026-08": 180_000, "2026-09": 200_000})
           + arr_rows("U2", dict.fromkeys(MONTHS, 205_000)) + arr_rows("E2", dict.fromkeys(MONTHS, 190_000)))
    return load_book(book_dir(
        csms=[{"csm_id": "c1", "csm_name": "Ana", "team": "T"}],
        accounts=[_acc("U1", "enterprise", "USD", 40, "2026-11-15"), _acc("E1", "enterprise", "EUR", 40, "2026-11-20"),
                  _acc("U2", "smb", "USD", 90, ""), _acc("E2", "smb", "EUR", 90, "")],
        arr_monthly=arr,
        sqls=[{"sql_id": "s1", "created_date": "2026-08-01", "account_id": "E1", "csm_id": "c1", "expansion_arr": 10_000,
               "status": "open", "closed_date": "", **CHECKLIST},
              {"sql_id": "s2", "created_date": "2026-08-02", "account_id": "U1", "csm_id": "c1", "expansion_arr": 5_000,
               "status": "open", "closed_date": "", **CHECKLIST}],
        usage=[{"month": "2026-09", "account_id": a, "feature_adoption_pct": 50, "seats_purchased": 10, "seats_used": 5}
               for a in ("U2", "E2")],
        **{"fx_rates.csv": "currency,rate_date,usd_per_unit\nEUR,2026-07-01,1.10\nEUR,2026-09-30,1.20\n"},
    ))


def test_the_book_is_reported_in_usd(book):
    assert book.multi_currency and book.reporting_currency == "USD"


def test_at_risk_list_in_usd_at_start_of_period_rates(book):
    t = strategic.at_risk_accounts(book, "c1", Q3)
    # at risk: health 40 < 50 -> U1, E1. ARR in END at 2026-07-01 rates: E1 200,000 × 1.10 = 220,000 > U1 210,000
    assert t["account_id"].tolist() == ["E1", "U1"]
    assert t["arr"].tolist() == pytest.approx([220_000.0, 210_000.0])
    assert t.attrs["currency"] == "USD"


def test_renewals_and_expansion_lists_in_usd(book):
    due = strategic.renewals_due(book, "c1", "2026-09-30", period=Q3)
    # renewing within 90 days of 30 Sep: U1 (15 Nov), E1 (20 Nov); E1 = 200,000 × 1.10 = 220,000
    assert dict(zip(due["account_id"], due["arr"])) == pytest.approx({"U1": 210_000.0, "E1": 220_000.0})
    sig = strategic.expansion_signals(book, "c1", "2026-09-30", period=Q3)
    # U2 and E2 (adoption 50 % < 70 %; U1/E1 have open SQLs): E2 = 190,000 × 1.10 = 209,000 > U2 205,000
    assert sig["account_id"].tolist() == ["E2", "U2"]
    assert sig["arr"].tolist() == pytest.approx([209_000.0, 205_000.0])


def test_a_missing_rate_names_the_currency_and_day(book):
    # default period of renewals_due = the month of as_of (2026-09): rates of 2026-09-01; the latest
    # EUR rate before it is 2026-07-01, 62 days old (> 31 allowed) -> an error, never a guess
    with pytest.raises(KitError, match=r"EUR.*2026-09-01"):
        strategic.renewals_due(book, "c1", "2026-09-30")


def test_retention_and_engagement_tables_in_usd(book):
    r = retention.retention(book, "c1", Q3)
    # begin (2026-06) at 1.10: 210,000 + 180,000 × 1.10 + 205,000 + 190,000 × 1.10 = 210,000 + 198,000 + 205,000 + 209,000
    assert r.beginning_arr == pytest.approx(822_000.0)
    # end (2026-09) at the same 1.10: 210,000 + 220,000 + 205,000 + 209,000 = 844,000; E1 grew 22,000
    assert r.ending_arr == pytest.approx(844_000.0) and r.expansion_arr == pytest.approx(22_000.0)
    assert r.nrr_pct == pytest.approx(100 * 844_000 / 822_000) and r.grr_pct == pytest.approx(100.0)
    assert r.currency == "USD" and "$822,000" in r._repr_html_()
    # the rate move is apart: (1.20 − 1.10) × (200,000 + 190,000) = 39,000, never expansion
    assert r.table["fx_effect"].sum() == pytest.approx(39_000.0)
    gaps = engagement.qbr_gaps(book, "c1", Q3)
    # enterprise accounts without a QBR: E1 220,000 before U1 210,000
    assert gaps["account_id"].tolist() == ["E1", "U1"] and gaps["arr"].tolist() == pytest.approx([220_000.0, 210_000.0])


def test_sql_list_adds_up_to_the_pipeline_kpi(book):
    q = sqls.sql_quality(book, "c1", Q3)
    t = q.table.set_index("sql_id")
    # s1: EUR 10,000 × 1.10 = 11,000 USD; s2: 5,000 USD
    assert t["expansion_arr"].to_dict() == pytest.approx({"s1": 11_000.0, "s2": 5_000.0})
    assert t.loc["s1", "currency"] == "EUR" and t.loc["s1", "expansion_arr_local"] == 10_000.0
    # 11,000 + 5,000 = 16,000 = the KPI SQL pipeline
    assert q.pipeline == pytest.approx(16_000.0)
    assert csm_metrics(book, "c1", Q3)["sql_pipeline"] == pytest.approx(16_000.0)
    assert q.currency == "USD" and "$16,000" in q._repr_html_() and "€10,000" in q._repr_html_()


def test_retention_forecast_at_constant_currency(book):
    fc = forecast.forecast_retention(book, "c1", "2026-10..2026-12", "2026-09-30", n=500)
    acc = fc.accounts.set_index("account_id")
    # Q4 rates: 2026-10-01 -> the 2026-09-30 rate, 1.20. begin = current = 2026-09 ARR (known month):
    # U1 210,000; E1 200,000 × 1.20 = 240,000; U2 205,000; E2 190,000 × 1.20 = 228,000
    expected = {"U1": 210_000.0, "E1": 240_000.0, "U2": 205_000.0, "E2": 228_000.0}
    assert acc["begin"].to_dict() == pytest.approx(expected)
    assert acc["current"].to_dict() == pytest.approx(expected)  # local 200,000 / 190,000 would be a false contraction
    assert fc.beginning_arr == pytest.approx(883_000.0)        # 210,000 + 240,000 + 205,000 + 228,000
    # U1, E1 renew in Nov with p = 0.60 (health 40 < 50); U2, E2 do not renew this quarter (p = 1):
    # E[retained] = 0.6 × (210,000 + 240,000) + 205,000 + 228,000 = 270,000 + 433,000 = 703,000
    assert fc.expected_retained_arr == pytest.approx(703_000.0)
    assert fc.expected_grr_pct == pytest.approx(100 * 703_000 / 883_000)
    # open SQLs: s1 EUR 10,000 × 1.20 = 12,000, s2 5,000; q = 0.25 (no SQL closed in 12 months: the default
    # 25 % conversion target); E[expansion] = 0.6 × 0.25 × (12,000 + 5,000) = 2,550
    assert fc.conversion.source == "target" and fc.conversion.rate == pytest.approx(0.25)
    assert fc.sqls.set_index("sql_id")["expansion_arr"].to_dict() == pytest.approx({"s1": 12_000.0, "s2": 5_000.0})
    assert fc.expected_expansion_arr == pytest.approx(2_550.0)
    assert fc.expected_ending_arr == pytest.approx(705_550.0)  # 703,000 + 2,550
    assert fc.currency == "USD" and "$883,000" in fc._repr_html_()


def test_pace_of_a_money_kpi_shows_the_reporting_currency(book_dir):
    book = load_book(book_dir(
        csms=[{"csm_id": "c1", "csm_name": "Ana", "team": "T"}],
        accounts=[{"account_id": "A", "account_name": "A", "csm_id": "c1", "segment": "smb",
                   "customer_since": "2020-01-01", "renewal_date": ""}],
        arr_monthly=arr_rows("A", {"2026-06": 100_000, "2026-09": 110_000}),
        sqls=[{"sql_id": "s1", "created_date": "2026-07-10", "account_id": "A", "csm_id": "c1", "expansion_arr": 7_500,
               "status": "open", "closed_date": ""}],
        book="currency: EUR\n",
    ))
    assert book.reporting_currency == "EUR" and not book.multi_currency
    p = forecast.pace_kpi(book, "c1", "sql_pipeline", Q3, "2026-09-30")
    # one currency: nothing converted; the pipeline is EUR 7,500, written with the euro sign
    assert p.actual == 7_500.0 and p.currency == "EUR" and "€7,500" in p.sentence()
    r = retention.retention(book, "c1", Q3)
    # 100,000 -> 110,000: NRR 110 %, shown in euros
    assert r.nrr_pct == pytest.approx(110.0) and "€100,000" in r._repr_html_() and "$" not in r._repr_html_()
