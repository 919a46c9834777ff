"""Fiscal calendars in a book: book.yaml settings, the latest fiscal quarter, fiscal labels, --start FY2026Q1.

The fiscal-calendar case (tests/fixtures/cases/fiscal-calendar): the fiscal year starts in February and
is named for the calendar year in which it ends, so FY2026 runs 2025-02-01 .. 2026-01-31 and its
quarters are Feb-Apr, May-Jul, Aug-Oct, Nov-Jan.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kpi_kit.cli import main
from kpi_kit.commands._common import resolve_period
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.forecast import pace_kpi
from kpi_kit.periods import Period, fiscal_label, latest_full_quarter
from kpi_kit.validate import BookError, check_book_settings
from tests.conftest import arr_rows

CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}]
FEB_END = "fiscal_year_start_month: 2\nfiscal_year_naming: end\n"


def files(last_month: str = "2025-05", book: str | None = FEB_END, **extra: object) -> dict:
    out: dict = {
        "csms": CSMS,
        "accounts": [{"account_id": "A1", "account_name": "A1", "csm_id": "c1", "segment": "smb",
                      "customer_since": "2020-01-01", "renewal_date": ""}],
        "arr_monthly": arr_rows("A1", {"2024-12": 100, "2025-01": 100, last_month: 120}),
    }
    if book is not None:
        out["book"] = book
    out.update(extra)
    return out


@pytest.fixture
def feb_book(book_dir):
    return load_book(book_dir(**files()))


@pytest.mark.parametrize(("day", "label"), [
    ("2025-01-31", "FY2025 Q4"), ("2025-02-01", "FY2026 Q1"), ("2025-04-30", "FY2026 Q1"),
    ("2025-05-01", "FY2026 Q2"), ("2025-12-15", "FY2026 Q4"), ("2026-01-31", "FY2026 Q4"),
])
def test_book_calendar_follows_book_yaml(feb_book, day, label):
    # the case's table: February start, named for the year the fiscal year ends in
    assert feb_book.calendar.label(day) == label


def test_default_calendar_is_calendar_years(book_dir):
    book = load_book(book_dir(**files(book=None)))
    assert (book.calendar.start_month, book.calendar.naming) == (1, "end")
    # data end in 2025-05: the latest full calendar quarter is January-March
    assert str(latest_full_quarter(book)) == "2025-01..2025-03"


@pytest.mark.parametrize(("last", "expected"), [
    ("2025-04", "2025-02..2025-04"),   # April closes FY2026 Q1 (Feb, Mar, Apr)
    ("2025-05", "2025-02..2025-04"),   # May is the first month of Q2: back to Q1
    ("2025-06", "2025-02..2025-04"),   # June is Q2's second month
    ("2025-07", "2025-05..2025-07"),   # July closes Q2 (May, Jun, Jul)
    ("2026-01", "2025-11..2026-01"),   # January closes Q4 (Nov, Dec, Jan)
])
def test_latest_full_quarter_is_fiscal(book_dir, last, expected):
    assert str(latest_full_quarter(load_book(book_dir(**files(last))))) == expected


@pytest.mark.parametrize(("start", "end", "label"), [
    ("2025-02", "2025-04", "FY2026 Q1"),
    ("2025-11", "2026-01", "FY2026 Q4"),
    ("2025-02", "2026-01", "FY2026"),                         # the whole fiscal year
    ("2025-02", "2025-07", "FY2026 Q1..FY2026 Q2"),           # two whole quarters
    ("2025-03", "2025-04", "2025-03..2025-04 (FY2026 Q1)"),   # not a whole quarter: months shown
    ("2025-01", "2025-02", "2025-01..2025-02 (FY2025 Q4..FY2026 Q1)"),
])
def test_fiscal_label(feb_book, start, end, label):
    assert fiscal_label(feb_book, Period.parse(start, end)) == label


def test_start_naming(book_dir):
    # "With the 'start year' naming, 2025-02-01 is FY2025 Q1"
    book = load_book(book_dir(**files(book="fiscal_year_start_month: February\nfiscal_year_naming: start\n")))
    assert fiscal_label(book, Period.parse("2025-02", "2025-04")) == "FY2025 Q1"
    assert str(resolve_period(book, "FY2025Q1", "")) == "2025-02..2025-04"


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("FY2026Q1", "", "2025-02..2025-04"),          # a fiscal quarter alone is the whole quarter
    ("FY2026 Q2", "", "2025-05..2025-07"),
    ("fy2026q4", "", "2025-11..2026-01"),
    ("FY2026Q1", "FY2026Q3", "2025-02..2025-10"),  # first month of Q1 .. last month of Q3
    ("FY2026", "", "2025-02..2026-01"),            # a whole fiscal year
    ("2025-03", "FY2026Q1", "2025-03..2025-04"),   # months and fiscal names mix
    ("FY2026Q2", "2025-05", "2025-05..2025-05"),
    ("2025-03", "", "2025-03..2025-03"),           # months work as before
    ("2025-03", "2025-06", "2025-03..2025-06"),
    ("", "", "2025-02..2025-04"),                  # neither: latest full fiscal quarter (data end 2025-05)
])
def test_cli_period_accepts_fiscal_quarters(feb_book, start, end, expected):
    assert str(resolve_period(feb_book, start, end)) == expected


@pytest.mark.parametrize(("start", "end", "match"), [
    ("FY2026Q5", "", "neither a month"),
    ("2025/03", "", "neither a month"),
    ("FY2026Q2", "FY2026Q1", "before it starts"),
    ("", "FY2026Q1", "without --start"),
])
def test_cli_period_errors(feb_book, start, end, match):
    with pytest.raises(KitError, match=match):
        resolve_period(feb_book, start, end)


def test_cli_metrics_with_a_fiscal_quarter(book_dir, capsys):
    acts = [{"activity_id": f"X{i}", "date": d, "account_id": "A1", "csm_id": "c1", "type": "call", "purpose": ""}
            for i, d in enumerate(["2025-01-31", "2025-02-01", "2025-04-30", "2025-05-01"])]
    path = book_dir(**files(activities=acts))
    assert main(["metrics", "--data", str(path), "--csm", "c1", "--start", "FY2026Q1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # FY2026 Q1 = 2025-02-01 .. 2025-04-30: the calls on 1 Feb and 30 Apr (not 31 Jan, not 1 May)
    assert (out["start"], out["end"], out["calls"]) == ("2025-02", "2025-04", 2)
    assert main(["metrics", "--data", str(path), "--csm", "c1", "--start", "FY2026Q1"]) == 0
    assert "2025-02..2025-04 (FY2026 Q1)" in capsys.readouterr().out


def test_pace_defaults_to_the_book_calendar(feb_book):
    p = pace_kpi(feb_book, "c1", "calls", "quarter", "2025-03-15")
    # the quarter containing 15 March is FY2026 Q1 (Feb-Apr): 28 + 15 = 43 of 28 + 31 + 30 = 89 days
    assert p.period == "2025-02..2025-04"
    assert p.elapsed_fraction == pytest.approx(43 / 89)


@pytest.mark.parametrize(("text", "key", "message"), [
    ("fiscal_year_start_month: 13\n", "fiscal_year_start_month", "from 1 (January) to 12"),
    ("fiscal_year_start_month: Febuary\n", "fiscal_year_start_month", "month name"),
    ("fiscal_year_naming: middle\n", "fiscal_year_naming", "end or start"),
    ("currency: dollars\n", "currency", "three letters"),
])
def test_bad_settings_are_errors_naming_the_key(book_dir, text, key, message):
    with pytest.raises(BookError) as err:
        load_book(book_dir(**files(book=text)))
    hits = [p for p in err.value.problems if p.file == "book.yaml" and p.column == key]
    assert hits and message in hits[0].message and hits[0].severity == "error"


def test_unknown_setting_is_a_warning_with_a_suggestion(book_dir):
    book = load_book(book_dir(**files(book="fiscal_year_start: 2\n")))
    warning = next(w for w in book.warnings if w.file == "book.yaml")
    assert warning.column == "fiscal_year_start" and "did you mean fiscal_year_start_month" in warning.message
    assert book.calendar.start_month == 1   # ignored, not guessed


def test_malformed_book_yaml_is_a_problem(book_dir):
    with pytest.raises(BookError) as err:
        load_book(book_dir(**files(book="name: [unclosed\n")))
    assert any(p.file == "book.yaml" and "not valid YAML" in p.message for p in err.value.problems)


def test_month_spellings():
    for value in (2, "2", "02", "Feb", "february", "FEB"):
        assert check_book_settings({"fiscal_year_start_month": value})[0].fiscal_year_start_month == 2
    for value in (0, True, "13", 2.5):
        assert check_book_settings({"fiscal_year_start_month": value})[1], value


def test_sample_book_is_unchanged():
    book = load_book()
    assert str(latest_full_quarter(book)) == "2026-07..2026-09"
    # the sample book's calendar is the calendar year: July-September is FY2026 Q3
    assert fiscal_label(book, latest_full_quarter(book)) == "FY2026 Q3"
    assert pd.api.types.is_datetime64_any_dtype(book.activities["date"]) and book.currencies == ("USD",)
