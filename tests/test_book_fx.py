"""Books in several currencies: constant-currency KPIs, the FX effect apart, and currency validation.

The multi-currency case (tests/fixtures/cases/multi-currency) reproduced at book level: three accounts
(USD 100,000, EUR 100,000, JPY 10,000,000), flat in local money over 2025; rates from the case's
fx_rates.csv (EUR 1.04 -> 1.17, JPY 0.0064 -> 0.0068 US dollars per unit). Every expected value is
worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_kit.cli import main
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.metrics import account_arr, csm_metrics, metric_parts, rollup
from kpi_kit.periods import Period
from kpi_kit.validate import BookError
from tests.conftest import arr_rows

CASE = Path(__file__).resolve().parent / "fixtures" / "cases" / "multi-currency"
YEAR = Period.parse("2025-01", "2025-12")  # beginning ARR = 2024-12, ending ARR = 2025-12; rates 2025-01-01 / 2025-12-31
CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}, {"csm_id": "c2", "csm_name": "Ben", "team": "T"}]


def acc(aid: str, csm: str, currency: str | None) -> dict:
    row = {"account_id": aid, "account_name": aid, "csm_id": csm, "segment": "smb", "customer_since": "2020-01-01",
           "renewal_date": ""}
    if currency is not None:
        row["currency"] = currency
    return row


def case_rates() -> str:
    return (CASE / "fx_rates.csv").read_text(encoding="utf-8")  # only read, never written


def fx_files(ends: dict[str, float] | None = None, currencies: tuple[str | None, ...] = ("USD", "EUR", "JPY"),
             rates: str | None = None, **extra: object) -> dict:
    ends = ends or {"HOTE-030": 100_000, "INDI-031": 100_000, "JULI-032": 10_000_000}
    begins = {"HOTE-030": 100_000, "INDI-031": 100_000, "JULI-032": 10_000_000}
    owners = {"HOTE-030": "c1", "INDI-031": "c1", "JULI-032": "c2"}
    files: dict = {
        "csms": CSMS,
        "accounts": [acc(a, owners[a], c) for a, c in zip(begins, currencies)],
        "arr_monthly": [r for a in begins for r in arr_rows(a, {"2024-12": begins[a], "2025-12": ends[a]})],
        "fx_rates.csv": case_rates() if rates is None else rates,
    }
    files.update(extra)
    return files


@pytest.fixture
def fx_book(book_dir):
    return load_book(book_dir(**fx_files()))


def test_case_at_book_level_constant_currency_and_fx_effect(fx_book):
    assert fx_book.currencies == ("EUR", "JPY", "USD") and fx_book.reporting_currency == "USD"
    team = rollup(metric_parts(fx_book, YEAR), YEAR).iloc[0]
    # start ARR at 2025-01-01 rates: 100,000 × 1.0 + 100,000 × 1.04 + 10,000,000 × 0.0064 = 100,000 + 104,000 + 64,000
    assert team["beginning_arr"] == pytest.approx(268_000.0)
    # end ARR at the same (start) rates: local amounts unchanged -> 268,000
    assert team["ending_arr"] == pytest.approx(268_000.0)
    # NRR = GRR = 100 × 268,000 / 268,000
    assert team["nrr_pct"] == pytest.approx(100.0) and team["grr_pct"] == pytest.approx(100.0)
    # period-end rates: 100,000 + 100,000 × 1.17 + 10,000,000 × 0.0068 = 285,000; FX effect 285,000 − 268,000
    assert team["fx_effect"] == pytest.approx(17_000.0)
    # ... shown apart, not as expansion or contraction
    assert team["expansion_arr"] == 0 and team["contraction_arr"] == 0


def test_fx_effect_per_account_and_per_csm(fx_book):
    acc_table = account_arr(fx_book, YEAR).set_index("account_id")
    # EUR: 100,000 × (1.17 − 1.04) = 13,000; JPY: 10,000,000 × (0.0068 − 0.0064) = 4,000; USD: 0
    assert acc_table["fx_effect"].round(6).to_dict() == {"HOTE-030": 0.0, "INDI-031": 13_000.0, "JULI-032": 4_000.0}
    # JPY begin in USD: 10,000,000 × 0.0064 = 64,000
    assert acc_table.loc["JULI-032", "begin"] == pytest.approx(64_000.0)
    c1 = csm_metrics(fx_book, "c1", YEAR)
    # c1 owns the USD and EUR accounts: 100,000 + 104,000 = 204,000; FX effect 13,000
    assert c1["beginning_arr"] == pytest.approx(204_000.0) and c1["fx_effect"] == pytest.approx(13_000.0)
    assert csm_metrics(fx_book, "c2", YEAR)["fx_effect"] == pytest.approx(4_000.0)


def test_real_growth_is_expansion_and_rate_moves_are_not(book_dir):
    # INDI-031 grows from EUR 100,000 to EUR 110,000; JULI-032 shrinks from JPY 10,000,000 to 9,000,000
    book = load_book(book_dir(**fx_files(ends={"HOTE-030": 100_000, "INDI-031": 110_000, "JULI-032": 9_000_000})))
    team = rollup(metric_parts(book, YEAR), YEAR).iloc[0]
    # expansion at start rates: 10,000 EUR × 1.04 = 10,400
    assert team["expansion_arr"] == pytest.approx(10_400.0)
    # contraction at start rates: 1,000,000 JPY × 0.0064 = 6,400
    assert team["contraction_arr"] == pytest.approx(6_400.0)
    # ending at start rates: 100,000 + 110,000 × 1.04 + 9,000,000 × 0.0064 = 100,000 + 114,400 + 57,600 = 272,000
    assert team["ending_arr"] == pytest.approx(272_000.0)
    # NRR = 100 × 272,000 / 268,000 = 101.49…; GRR = 100 × (268,000 − 6,400) / 268,000 = 97.61…
    assert team["nrr_pct"] == pytest.approx(100 * 272_000 / 268_000)
    assert team["grr_pct"] == pytest.approx(100 * 261_600 / 268_000)
    # FX effect: 110,000 × 0.13 + 9,000,000 × 0.0004 = 14,300 + 3,600 = 17,900
    assert team["fx_effect"] == pytest.approx(17_900.0)


def test_sql_pipeline_at_the_period_start_rate(book_dir):
    sqls = [{"sql_id": "S1", "created_date": "2025-03-01", "account_id": "INDI-031", "csm_id": "c1",
             "expansion_arr": 10_000, "status": "open", "closed_date": ""},
            {"sql_id": "S2", "created_date": "2025-06-01", "account_id": "HOTE-030", "csm_id": "c1",
             "expansion_arr": 5_000, "status": "open", "closed_date": ""}]
    book = load_book(book_dir(**fx_files(sqls=sqls)))
    # EUR 10,000 × 1.04 (2025-01-01 rate, not a March rate) + USD 5,000 = 10,400 + 5,000
    assert csm_metrics(book, "c1", YEAR)["sql_pipeline"] == pytest.approx(15_400.0)


def test_missing_rate_names_currency_and_date(book_dir):
    rates = "\n".join(line for line in case_rates().splitlines() if not line.startswith("JPY,2025-12-31")) + "\n"
    book = load_book(book_dir(**fx_files(rates=rates)))
    with pytest.raises(KitError) as err:
        metric_parts(book, YEAR)
    assert "JPY" in str(err.value) and "2025-12-31" in str(err.value)
    # a period whose first day has no rate at most 31 days old: 2025-03-01 is 59 days after 2025-01-01
    with pytest.raises(KitError, match="EUR.*2025-03-01"):
        metric_parts(book, Period.parse("2025-03", "2025-12"))


def test_blank_currency_in_a_book_of_several_currencies_is_an_error(book_dir):
    path = book_dir(**fx_files(currencies=("USD", "", "JPY")))
    with pytest.raises(BookError) as err:
        load_book(path)
    hits = [p for p in err.value.problems if (p.file, p.row, p.column) == ("accounts.csv", 3, "currency")]
    assert hits and "several currencies" in hits[0].message and "book.yaml" in hits[0].message


def test_declared_book_currency_fills_blanks(book_dir):
    # book.yaml currency: EUR -> the blank account is EUR: begin 100,000 × 1.04 + 100,000 × 1.04 + 64,000 = 272,000
    book = load_book(book_dir(**fx_files(currencies=("", "EUR", "JPY")), book="currency: eur\n"))
    assert book.currency == "EUR"
    assert account_arr(book, YEAR).set_index("account_id").loc["HOTE-030", "begin"] == pytest.approx(104_000.0)
    assert csm_metrics(book, "c1", YEAR)["beginning_arr"] + csm_metrics(book, "c2", YEAR)["beginning_arr"] \
        == pytest.approx(272_000.0)


def test_bad_codes_and_missing_rate_file_are_errors(book_dir):
    path = book_dir(**fx_files(currencies=("USD", "EURO", "JPY")))
    with pytest.raises(BookError) as err:
        load_book(path)
    bad = [p for p in err.value.problems if (p.file, p.row, p.column) == ("accounts.csv", 3, "currency")]
    assert bad and bad[0].value == "EURO" and "three letters" in bad[0].message
    files = fx_files()
    del files["fx_rates.csv"]
    path = book_dir(**files)
    with pytest.raises(BookError) as err:
        load_book(path)
    missing = [p for p in err.value.problems if p.file == "fx_rates.csv"]
    assert missing and "EUR, JPY, USD" in missing[0].message


def test_bad_rate_rows_are_listed(book_dir):
    rates = ("currency,rate_date,usd_per_unit\nUSD,2025-01-01,1.1\nEUR,2025-01-01,0\n"
             "JPY,2025-01-01,0.0064\njpy,2025-01-01,0.0065\n")
    with pytest.raises(BookError) as err:
        load_book(book_dir(**fx_files(rates=rates)))
    where = {(p.row, p.column): p.message for p in err.value.problems if p.file == "fx_rates.csv"}
    assert "always 1" in where[(2, "usd_per_unit")]           # USD at 1.1
    assert "above 0" in where[(3, "usd_per_unit")]            # EUR at 0
    assert "second rate for JPY" in where[(5, "rate_date")]   # jpy = JPY, same day


def test_single_currency_book_needs_no_rates_and_is_not_converted(book_dir):
    # every account in EUR (declared): amounts stay in EUR, no fx_rates.csv needed, FX effect 0
    files = fx_files(currencies=(None, None, None), book="currency: EUR\n")
    del files["fx_rates.csv"]
    book = load_book(book_dir(**files))
    assert book.currencies == ("EUR",) and book.reporting_currency == "EUR" and not book.multi_currency
    m = csm_metrics(book, "c2", YEAR)
    assert m["beginning_arr"] == 10_000_000 and m["fx_effect"] == 0


def test_plain_book_is_usd_and_unchanged(book_dir):
    book = load_book(book_dir(csms=CSMS, accounts=[acc("A1", "c1", None)],
                              arr_monthly=arr_rows("A1", {"2024-12": 50, "2025-12": 70})))
    assert book.currencies == ("USD",) and "currency" not in book.accounts.columns
    m = csm_metrics(book, "c1", YEAR)
    # 50 -> 70: expansion 20, no FX effect
    assert m["expansion_arr"] == 20 and m["fx_effect"] == 0


def test_row_currencies_from_an_import_decide_the_account_currency(book_dir):
    # `kpi-kit import csv` writes a currency column on arr_monthly.csv (and sqls.csv), none on accounts.csv
    rows = [{**r, "currency": c} for a, c in (("HOTE-030", "USD"), ("INDI-031", "EUR"), ("JULI-032", "JPY"))
            for r in arr_rows(a, {"2024-12": 100_000 if c != "JPY" else 10_000_000,
                                  "2025-12": 100_000 if c != "JPY" else 10_000_000})]
    files = fx_files(currencies=(None, None, None))
    files["arr_monthly"] = rows
    book = load_book(book_dir(**files))
    assert book.currencies == ("EUR", "JPY", "USD")
    # the same figures as the case: 268,000 at constant currency, FX effect 17,000
    team = rollup(metric_parts(book, YEAR), YEAR).iloc[0]
    assert team["beginning_arr"] == pytest.approx(268_000.0) and team["fx_effect"] == pytest.approx(17_000.0)
    # an account whose rows disagree is an error on the disagreeing row: rows[3] = INDI-031's 2025-12 row,
    # spreadsheet row 5 (header 1, HOTE-030 rows 2-3, INDI-031 rows 4-5)
    rows[3] = {**rows[3], "currency": "GBP"}
    files["arr_monthly"] = rows
    with pytest.raises(BookError) as err:
        load_book(book_dir(**files))
    clash = [p for p in err.value.problems if (p.file, p.row, p.column) == ("arr_monthly.csv", 5, "currency")]
    assert clash and "EUR" in clash[0].message


def test_row_currency_must_match_the_account(book_dir):
    files = fx_files()
    files["arr_monthly"] = [{**r, "currency": "USD"} for r in files["arr_monthly"]]
    with pytest.raises(BookError) as err:
        load_book(book_dir(**files))
    # rows 2-3 are HOTE-030 (USD, fine); rows 4-5 INDI-031 (EUR) and 6-7 JULI-032 (JPY) say USD
    rows = sorted(p.row for p in err.value.problems if p.file == "arr_monthly.csv" and p.column == "currency")
    assert rows == [4, 5, 6, 7]


def test_cli_json_has_fx_effect(book_dir, capsys):
    path = book_dir(**fx_files())
    assert main(["metrics", "--data", str(path), "--csm", "c1", "--start", "2025-01", "--end", "2025-12", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    # c1: EUR 100,000 × 0.13 = 13,000
    assert out["fx_effect"] == pytest.approx(13_000.0) and out["nrr_pct"] == pytest.approx(100.0)
    assert main(["metrics", "--data", str(path), "--csm", "c1", "--start", "2025-01", "--end", "2025-12"]) == 0
    assert "constant currency" in capsys.readouterr().out


def test_a_bad_code_is_reported_once(book_dir):
    with pytest.raises(BookError) as err:
        load_book(book_dir(**fx_files(currencies=("USD", "EURO", "JPY"))))
    # row 3 (INDI-031) has a malformed code: one problem, not also "blank"
    assert len([p for p in err.value.problems if (p.file, p.row) == ("accounts.csv", 3)]) == 1
