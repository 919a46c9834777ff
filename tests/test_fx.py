"""Currency conversion (kpi_kit.fx). Expected values are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.errors import KitError
from kpi_kit.fx import (
    check_currency_code,
    check_fx_rates,
    convert_frame,
    fx_bridge,
    rate_on,
    read_fx_rates,
    resolve_currencies,
    to_usd,
)


def _rates(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["currency", "rate_date", "usd_per_unit"], dtype="str")
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return check_fx_rates(frame)


RATES = _rates([
    ("EUR", "2025-01-01", "1.04"), ("EUR", "2025-02-01", "1.10"), ("EUR", "2025-12-31", "1.17"),
    ("GBP", "2025-01-01", "1.25"),
])


def test_rate_lookup_takes_the_latest_rate_on_or_before_the_day() -> None:
    assert rate_on(RATES, "EUR", "2025-01-01") == 1.04
    assert rate_on(RATES, "EUR", "2025-01-31") == 1.04   # 30 days old ≤ 31
    assert rate_on(RATES, "EUR", "2025-02-15") == 1.10
    assert rate_on(RATES, "eur", "2025-12-31") == 1.17   # codes are case-insensitive
    assert rate_on(RATES, "USD", "1999-01-01") == 1.0    # USD needs no row


@pytest.mark.parametrize(("currency", "day", "match"), [
    ("EUR", "2024-12-31", "EUR on or before 2024-12-31"),   # before the first rate
    ("GBP", "2025-02-02", "GBP on 2025-02-02"),             # 32 days after the only rate > 31 allowed
    ("JPY", "2025-01-01", "JPY at all"),
])
def test_missing_rate_names_currency_and_date(currency: str, day: str, match: str) -> None:
    with pytest.raises(KitError, match=match):
        rate_on(RATES, currency, day)


def test_max_age_is_a_setting() -> None:
    assert rate_on(RATES, "GBP", "2025-03-01", max_age_days=60) == 1.25  # 59 days old


def test_to_usd_lists_every_missing_rate_at_once() -> None:
    amounts = pd.Series([100.0, 200.0, 300.0])
    with pytest.raises(KitError) as err:
        to_usd(amounts, pd.Series(["JPY", "CHF", "EUR"]), RATES, "2025-01-01")
    text = str(err.value)
    assert "2 missing exchange rate" in text and "JPY" in text and "CHF" in text and "2025-01-01" in text


def test_to_usd_per_row_dates() -> None:
    got = to_usd(pd.Series([100.0, 100.0, float("nan")]), pd.Series(["EUR", "EUR", "EUR"]), RATES,
                 pd.Series(pd.to_datetime(["2025-01-15", "2025-12-31", "2025-12-31"])))
    # 100 × 1.04 = 104; 100 × 1.17 = 117; missing stays missing
    assert got.iloc[:2].tolist() == pytest.approx([104.0, 117.0])
    assert pd.isna(got.iloc[2])


def test_non_usd_without_rates_is_refused() -> None:
    with pytest.raises(KitError, match="EUR"):
        to_usd(pd.Series([1.0]), pd.Series(["EUR"]), None, "2025-01-01")
    assert to_usd(pd.Series([5.0]), pd.Series(["USD"]), None, "2025-01-01").tolist() == [5.0]


def test_resolve_currencies() -> None:
    idx = pd.Index([2, 3])
    with pytest.raises(KitError, match="no currency column"):
        resolve_currencies(None, idx, book_currency=None, file="accounts.csv")
    assert resolve_currencies(None, idx, book_currency="eur", file="a.csv").tolist() == ["EUR", "EUR"]
    with pytest.raises(KitError, match="row 3, column currency: blank"):
        resolve_currencies(pd.Series(["USD", ""], index=idx), idx, book_currency=None, file="a.csv")
    assert resolve_currencies(pd.Series(["usd", ""], index=idx), idx, book_currency="USD", file="a.csv").tolist() == ["USD", "USD"]
    with pytest.raises(KitError, match="row 2.*'US Dollar' is not a currency code"):
        resolve_currencies(pd.Series(["US Dollar", "USD"], index=idx), idx, book_currency=None, file="a.csv")


def test_check_fx_rates_lists_every_problem() -> None:
    frame = pd.DataFrame(
        [("EURO", "2025-01-01", "1.04"), ("EUR", "01/01/2025", "1.04"), ("EUR", "2025-02-01", "-1"),
         ("USD", "2025-01-01", "0.9"), ("GBP", "2025-01-01", "1.2"), ("GBP", "2025-01-01", "1.3")],
        columns=["currency", "rate_date", "usd_per_unit"], dtype="str",
    )
    frame.index = pd.RangeIndex(2, 8)
    with pytest.raises(KitError) as err:
        check_fx_rates(frame)
    text = str(err.value)
    assert "5 problem(s)" in text
    for fragment in ("row 2, column currency", "row 3, column rate_date", "row 4, column usd_per_unit",
                     "row 5, column usd_per_unit", "row 7: a second rate for GBP"):
        assert fragment in text


def test_check_fx_rates_missing_column() -> None:
    with pytest.raises(KitError, match="usd_per_unit"):
        check_fx_rates(pd.DataFrame({"currency": ["EUR"], "rate_date": ["2025-01-01"]}))


def test_read_fx_rates(tmp_path: Path) -> None:
    path = tmp_path / "fx_rates.csv"
    path.write_bytes(b"\xef\xbb\xbfcurrency,rate_date,usd_per_unit\r\nEUR,2025-01-01,1.04\r\n")
    rates = read_fx_rates(path)
    assert rates["usd_per_unit"].tolist() == [1.04]
    with pytest.raises(KitError, match="no exchange-rate file"):
        read_fx_rates(tmp_path / "nope.csv")


def test_fx_bridge_separates_fx_effect_from_real_change() -> None:
    book = pd.DataFrame({"account_id": ["A", "B", "C"], "currency": ["EUR", "EUR", "GBP"],
                         "start": [1000.0, 1000.0, 0.0], "end": [1100.0, 0.0, 500.0]})
    rates = _rates([("EUR", "2025-01-01", "1.00"), ("EUR", "2025-06-30", "1.20"),
                    ("GBP", "2025-01-01", "1.25"), ("GBP", "2025-06-30", "1.30")])
    b = fx_bridge(book, rates, "2025-01-01", "2025-06-30", start_col="start", end_col="end")
    # start: 1000×1.00 + 1000×1.00 + 0 = 2000
    assert b.start_usd == pytest.approx(2000.0)
    # end at start rates: 1100×1.00 + 0 + 500×1.25 = 1725
    assert b.end_usd_constant == pytest.approx(1725.0)
    # end at end rates: 1100×1.20 + 0 + 500×1.30 = 1320 + 650 = 1970
    assert b.end_usd_reported == pytest.approx(1970.0)
    # FX effect: 1970 − 1725 = 245 (= 1100×0.20 + 500×0.05 = 220 + 25)
    assert b.fx_effect == pytest.approx(245.0)
    # cohort = A, B (start > 0): NRR = (1100 + 0) / 2000 = 55 %; GRR = (1000 + 0) / 2000 = 50 %
    assert b.nrr_pct == pytest.approx(55.0)
    assert b.grr_pct == pytest.approx(50.0)
    assert "FX effect" in b._repr_html_()


def test_fx_bridge_empty_cohort_is_none() -> None:
    book = pd.DataFrame({"account_id": ["A"], "currency": ["USD"], "start": [0.0], "end": [10.0]})
    b = fx_bridge(book, None, "2025-01-01", "2025-06-30", start_col="start", end_col="end")
    assert b.nrr_pct is None and b.grr_pct is None


def test_fx_bridge_rejects_reversed_period() -> None:
    book = pd.DataFrame({"account_id": ["A"], "currency": ["USD"], "start": [1.0], "end": [1.0]})
    with pytest.raises(KitError, match="before it starts"):
        fx_bridge(book, None, "2025-06-30", "2025-01-01", start_col="start", end_col="end")


def test_convert_frame_constant_currency() -> None:
    arr = pd.DataFrame({"month": ["2025-01", "2025-02"], "account_id": ["A", "A"], "arr": [100.0, 110.0],
                        "currency": ["EUR", "EUR"]})
    got = convert_frame(arr, RATES, "2025-01-01")
    # both months at the 2025-01-01 rate 1.04: 104, 114.4
    assert got["arr"].tolist() == pytest.approx([104.0, 114.4])
    assert got["arr_local"].tolist() == [100.0, 110.0]


@pytest.mark.parametrize("bad", ["", "EURO", "E1R", "$"])
def test_currency_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        check_currency_code(bad)
