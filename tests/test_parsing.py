"""Value parsers and data-quality helpers (kpi_kit.parsing). Expected values are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, UTC

import pandas as pd
import pytest

from kpi_kit.errors import KitError
from kpi_kit.parsing import (
    Money,
    ValueParseError,
    YamlParseError,
    ambiguous_thousands,
    clean_arr_lines,
    detect_dayfirst,
    detect_decimal,
    excel_serial_to_date,
    find_duplicates,
    normalise_id,
    normalise_ids,
    parse_bool,
    parse_date,
    parse_money,
    parse_month,
    parse_number,
    parse_timestamp,
    parse_yaml,
)


# ---------------------------------------------------------------------------------------------- money
@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$50K", 50_000.0, "USD"),                    # 50 × 1,000
        ("USD 1,250,000.00", 1_250_000.0, "USD"),
        ("(1500.00)", -1500.0, None),                 # accounting negative
        ("(1,500.00)", -1500.0, None),
        ("$1.2M", 1_200_000.0, "USD"),                # 1.2 × 1,000,000
        ("$3MM", 3_000_000.0, "USD"),                 # finance "MM" = million
        ("2bn", 2_000_000_000.0, None),
        ("1.5k", 1500.0, None),
        ("1250000", 1_250_000.0, None),
        ("1,200.50", 1200.5, None),
        ("-1,500.00", -1500.0, None),
        ("−1,500.00", -1500.0, None),                 # unicode minus (copied from Word)
        ("$-1.5K", -1500.0, "USD"),
        ("-$1,500", -1500.0, "USD"),
        ("($1,500.00)", -1500.0, "USD"),
        ("1500-", -1500.0, None),                     # SAP trailing minus
        ("EUR 980", 980.0, "EUR"),
        ("980 eur", 980.0, "EUR"),
        ("€980.00", 980.0, "EUR"),
        ("£1,000", 1000.0, "GBP"),
        ("¥10,000,000", 10_000_000.0, "JPY"),
        ("US$ 10", 10.0, "USD"),
        ("1.2 MXN", 1.2, "MXN"),                      # "M" followed by a code is the code, not "million"
        ("5 BRL", 5.0, "BRL"),
        ("1.25E+06", 1_250_000.0, None),              # Excel scientific notation = 1.25 × 10^6
        ("1 250 000.00", 1_250_000.0, None),          # space-grouped
        ("1\u00a0250\u00a0000.00", 1_250_000.0, None),  # no-break spaces
        (".5", 0.5, None),
    ],
)
def test_parse_money_accepts_what_people_type(text: str, amount: float, currency: str | None) -> None:
    assert parse_money(text) == Money(amount, currency)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.200,50", 1200.5),          # 1200 + 0.50
        ("980,00", 980.0),
        ("1.250.000,00 €", 1_250_000.0),
        ("EUR 1.200,50", 1200.5),
        ("(1.500,00)", -1500.0),
        ("1 250 000,00", 1_250_000.0),
        ("1,5", 1.5),                  # 1 + 0.5
    ],
)
def test_parse_money_decimal_comma(text: str, amount: float) -> None:
    m = parse_money(text, decimal=",")
    assert m is not None and m.amount == amount


@pytest.mark.parametrize(
    "text",
    ["n/a", "N/A", "TBD", "-", "$", "USD", "1,2,3", "12,34.5", "--5", "(5", "5)", "-(5)", "$$5", "EUR 5 USD",
     "1.200,50", "1,5", "five", "1e", "0x10"],
)
def test_parse_money_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueParseError):
        parse_money(text)


def test_parse_money_says_when_the_decimal_mark_looks_wrong() -> None:
    with pytest.raises(ValueParseError, match="decimal ','"):
        parse_money("1.200,50")


@pytest.mark.parametrize("blank", ["", "   ", None, float("nan")])
def test_blank_is_missing_not_zero(blank: object) -> None:
    assert parse_money(blank) is None
    assert parse_number(blank) is None
    assert parse_date(blank) is None
    assert parse_bool(blank) is None
    assert parse_timestamp(blank) is None
    assert parse_month(blank) is None


def test_credit_flag() -> None:
    assert parse_money("(1,500.00)").is_credit  # type: ignore[union-attr]
    assert not parse_money("$50K").is_credit  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("text", "kwargs", "value"),
    [
        ("1,200.50", {}, 1200.5),
        ("1.200,50", {"decimal": ","}, 1200.5),
        ("1'250'000.5", {"thousands": "'"}, 1_250_000.5),
        ("1200", {"thousands": None}, 1200.0),
        ("+3", {}, 3.0),
        ("-0.25", {}, -0.25),
        ("85%", {"percent": True}, 85.0),
        ("85 %", {"percent": True}, 85.0),
    ],
)
def test_parse_number(text: str, kwargs: dict, value: float) -> None:
    assert parse_number(text, **kwargs) == value


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [("$5", {}), ("85%", {}), ("1,200", {"thousands": None}), ("1.2.3", {}), ("abc", {}), ("1,20", {})],
)
def test_parse_number_rejects(text: str, kwargs: dict) -> None:
    with pytest.raises(ValueParseError):
        parse_number(text, **kwargs)


# ---------------------------------------------------------------------------------------------- booleans
@pytest.mark.parametrize(("text", "value"), [
    ("TRUE", True), ("true", True), ("Yes", True), ("y", True), ("1", True), (" t ", True),
    ("FALSE", False), ("no", False), ("N", False), ("0", False), ("f", False),
])
def test_parse_bool(text: str, value: bool) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["maybe", "2", "ja", "x"])
def test_parse_bool_rejects(text: str) -> None:
    with pytest.raises(ValueParseError, match="true or false"):
        parse_bool(text)


# ---------------------------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("serial", "epoch", "day"),
    [
        # 2025-01-01 is serial 45658 (2024-01-01 = 45292, + 366 days of 2024); 30 June is day 181 → 45658 + 180
        (45838, "1900", date(2025, 6, 30)),
        (45658, "1900", date(2025, 1, 1)),
        (61, "1900", date(1900, 3, 1)),      # after Excel's fictitious 1900-02-29 (serial 60)
        (59, "1900", date(1900, 2, 28)),     # 1899-12-31 + 59 days
        (1, "1900", date(1900, 1, 1)),
        (45838.75, "1900", date(2025, 6, 30)),  # the fraction is the time of day
        # 1904 system: day 0 = 1904-01-01, 1462 days after the 1900 system's origin 1899-12-30
        (0, "1904", date(1904, 1, 1)),
        (45838 - 1462, "1904", date(2025, 6, 30)),
        (45838, "1904", date(2025, 6, 30) + timedelta(days=1462)),
    ],
)
def test_excel_serial_dates(serial: float, epoch: str, day: date) -> None:
    assert excel_serial_to_date(serial, epoch) == day  # type: ignore[arg-type]


def test_excel_serial_60_is_the_day_that_never_was() -> None:
    with pytest.raises(ValueParseError, match="does not exist"):
        excel_serial_to_date(60)


@pytest.mark.parametrize(
    ("text", "kwargs", "day"),
    [
        ("2025-07-01", {}, date(2025, 7, 1)),
        ("2025/7/1", {}, date(2025, 7, 1)),
        ("20250701", {}, date(2025, 7, 1)),
        ("45838", {}, date(2025, 6, 30)),
        ("45838", {"excel_epoch": "1904"}, date(2029, 7, 1)),   # 2025-06-30 + 1462 days (2028 is a leap year)
        ("7/1/2025", {"dayfirst": False}, date(2025, 7, 1)),
        ("7/1/2025", {"dayfirst": True}, date(2025, 1, 7)),
        ("31/03/2026", {}, date(2026, 3, 31)),      # 31 can only be the day
        ("3/31/2026", {}, date(2026, 3, 31)),       # 31 can only be the day
        ("7/7/2025", {}, date(2025, 7, 7)),         # both orders give the same day
        ("31.03.2026", {}, date(2026, 3, 31)),
        ("31-03-26", {}, date(2026, 3, 31)),        # two-digit year 26 → 2026
        ("1/2/99", {"dayfirst": True}, date(1999, 2, 1)),  # 99 → 1999
        ("31 Mar 2026", {}, date(2026, 3, 31)),
        ("Mar 31, 2026", {}, date(2026, 3, 31)),
        ("31-Mar-2026", {}, date(2026, 3, 31)),
        ("2024-02-29", {}, date(2024, 2, 29)),      # leap year
        ("2025-07-01 13:45:00", {}, date(2025, 7, 1)),
        ("2025-07-01T23:30:00Z", {}, date(2025, 7, 1)),
        ("7/1/2025 4:30 PM", {"dayfirst": False}, date(2025, 7, 1)),
        ("01.04.2026", {"date_format": "%d.%m.%Y"}, date(2026, 4, 1)),
    ],
)
def test_parse_date(text: str, kwargs: dict, day: date) -> None:
    assert parse_date(text, **kwargs) == day


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("2025-13-01", {}, "no month 13"),
        ("2025-02-29", {}, "no day 29"),       # 2025 is not a leap year
        ("2025-04-31", {}, "no day 31"),
        ("7/1/2025", {}, "ambiguous"),
        ("31/03/2026", {"dayfirst": False}, "no month 31"),
        ("45838", {"excel_epoch": None}, "not a date"),
        ("2025", {}, "not a date"),            # a year alone is not an Excel serial (5 digits needed)
        ("next week", {}, "not a date"),
        ("2026-03-31", {"date_format": "%d.%m.%Y"}, "date_format"),
    ],
)
def test_parse_date_errors(text: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueParseError, match=match):
        parse_date(text, **kwargs)


@pytest.mark.parametrize(("text", "month"), [
    ("2026-03", "2026-03"), ("2026/3", "2026-03"), ("03/2026", "2026-03"), ("Mar 2026", "2026-03"),
    ("March 2026", "2026-03"), ("2026-03-31", "2026-03"), ("45838", "2025-06"),
])
def test_parse_month(text: str, month: str) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize("text", ["2026-13", "13/2026", "Smarch 2026", "soon"])
def test_parse_month_errors(text: str) -> None:
    with pytest.raises(ValueParseError):
        parse_month(text)


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("2025-03-31T23:30:00Z", {}, datetime(2025, 3, 31, 23, 30, tzinfo=UTC)),
        ("2025-06-13T17:00:00-07:00", {}, datetime(2025, 6, 13, 17, tzinfo=timezone(timedelta(hours=-7)))),
        ("2025-06-13T17:00:00+0530", {}, datetime(2025, 6, 13, 17, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        ("2025-06-13 17:00 UTC", {}, datetime(2025, 6, 13, 17, tzinfo=UTC)),
        ("2025-11-02 01:30:00", {}, datetime(2025, 11, 2, 1, 30)),
        ("2025-11-02 01:30:00.250", {}, datetime(2025, 11, 2, 1, 30, 0, 250000)),
        ("6/13/2025 5:00 PM", {"dayfirst": False}, datetime(2025, 6, 13, 17, 0)),
        ("6/13/2025 12:15 AM", {}, datetime(2025, 6, 13, 0, 15)),   # 12 AM is midnight
        ("13/06/2025 17:00", {}, datetime(2025, 6, 13, 17, 0)),
        ("Mar 31, 2025 14:00", {}, datetime(2025, 3, 31, 14, 0)),
        ("2025-06-13", {}, datetime(2025, 6, 13)),
        ("45838.75", {}, datetime(2025, 6, 30, 18, 0)),    # 0.75 × 24 h = 18:00
    ],
)
def test_parse_timestamp(text: str, kwargs: dict, expected: datetime) -> None:
    got = parse_timestamp(text, **kwargs)
    assert got == expected
    assert (got.tzinfo is None) == (expected.tzinfo is None)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["2025-06-13 25:00", "2025-06-13 13:00 PM", "2025-06-13T10:61", "noon",
                                  "2025-06-13T10:00+15:00"])
def test_parse_timestamp_errors(text: str) -> None:
    with pytest.raises(ValueParseError):
        parse_timestamp(text)


# ---------------------------------------------------------------------------------------------- detection
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1.200,50", "980,00"], ","),
        (["1,200.50", "980.00"], "."),
        (["1,200,000"], "."),            # two comma groups: commas are thousands
        (["1.200.000"], ","),            # two dot groups: dots are thousands
        (["12,5"], ","),
        (["$50K", "12.5"], "."),
        (["1,200", "40000", ""], None),  # nothing tells
        (["1.200"], None),
    ],
)
def test_detect_decimal(values: list[str], expected: str | None) -> None:
    assert detect_decimal(values).value == expected


def test_detect_decimal_refuses_mixed_files() -> None:
    with pytest.raises(ValueParseError, match="mixes decimal marks"):
        detect_decimal(["1.200,50", "1,200.50"])


def test_ambiguous_thousands() -> None:
    assert ambiguous_thousands(["1.200", "1,200", "12.5", ""]) == ["1.200"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["01/04/2026", "31/03/2026"], True),
        (["04/01/2026", "03/31/2026"], False),
        (["7/1/2025", "2025-07-01", ""], None),
        (["31.03.2026 14:00"], True),
    ],
)
def test_detect_dayfirst(values: list[str], expected: bool | None) -> None:
    assert detect_dayfirst(values).value is expected


def test_detect_dayfirst_refuses_mixed_files() -> None:
    with pytest.raises(ValueParseError, match="mixes date orders"):
        detect_dayfirst(["31/03/2026", "03/31/2026"])


# ---------------------------------------------------------------------------------------------- quality
def test_normalise_id() -> None:
    assert normalise_id(" mike-050 ") == "MIKE-050"
    assert normalise_id("0042") == "0042"  # leading zeros kept: ids are text
    assert normalise_id("  ") is None
    got = normalise_ids(pd.Series([" a-1", "A-1 ", None, ""], dtype="str"))
    assert got.tolist()[:2] == ["A-1", "A-1"] and got.isna().tolist()[2:] == [True, True]


def test_find_duplicates_lists_each_merge() -> None:
    rows = pd.DataFrame(
        {"account_id": ["MIKE-050", "MIKE-050", "mike-050 ", "NOVA-051"],
         "account_name": ["Mike Demo Co", "Mike Demo Co", "Mike Demo Co.", "Nova"],
         "csm_id": ["csm_ana"] * 4},
        index=[2, 3, 4, 5],
    )
    d = find_duplicates(rows, "account_id", file="accounts.csv", must_agree=["csm_id"])
    assert d.table[["kept_row", "merged_row", "kind"]].values.tolist() == [[2, 3, "exact"], [2, 4, "normalised"]]
    assert d.table["differing"].tolist() == ["", "account_name"]
    assert list(d.kept.index) == [2, 5]
    assert d.problems == ()


def test_find_duplicates_does_not_merge_conflicts() -> None:
    rows = pd.DataFrame({"account_id": ["A-1", "a-1"], "csm_id": ["csm_ana", "csm_bob"]}, index=[2, 3])
    d = find_duplicates(rows, "account_id", file="accounts.csv", must_agree=["csm_id"])
    assert d.table.empty
    assert [(p.row, p.column) for p in d.problems] == [(3, "csm_id")]
    assert "row 2" in d.problems[0].message


def test_find_duplicates_with_a_month_key() -> None:
    rows = pd.DataFrame({"account_id": ["A", "A", "A"], "month": ["2025-01", "2025-02", "2025-01"],
                         "arr": [1.0, 2.0, 1.0]}, index=[2, 3, 4])
    d = find_duplicates(rows, "account_id", file="arr.csv", also_key=["month"], must_agree=["arr"])
    assert d.table[["kept_row", "merged_row"]].values.tolist() == [[2, 4]]


def test_clean_arr_lines_credits_missing_and_merges() -> None:
    lines = pd.DataFrame(
        {"account_id": ["A", "a ", "B", "C", "C", "D"], "arr": [10.0, 10.0, float("nan"), 5.0, -2.0, -1.0]},
        index=[2, 3, 4, 5, 6, 7],
    )
    clean = clean_arr_lines(lines, file="book.csv")
    # total = A 10 + C 5 = 15 (B missing, credits -2 and -1 kept out)
    assert clean.total == 15.0
    # accounts = A, B, C, D (D has only a credit line: still an account, with no ARR)
    assert clean.accounts == 4
    assert dict(zip(clean.table["account_id"], clean.table["arr_status"])) == {
        "A": "ok", "B": "missing", "C": "ok", "D": "credit_only"}
    assert (clean.table["arr"].dropna() >= 0).all()
    assert clean.credits[["row", "arr"]].values.tolist() == [[6, -2.0], [7, -1.0]]
    assert clean.missing["account_id"].tolist() == ["B"]
    assert clean.merges["merged_row"].tolist() == [3]


def test_clean_arr_lines_conflicting_arr_is_a_problem_not_a_sum() -> None:
    lines = pd.DataFrame({"account_id": ["A", "A"], "arr": [10.0, 12.0]}, index=[2, 3])
    clean = clean_arr_lines(lines, file="book.csv")
    assert [(p.row, p.column) for p in clean.problems] == [(3, "arr")]
    assert clean.total == 10.0  # the conflicting line is not added (10 + 12 would double count)


# ---------------------------------------------------------------------------------------------- YAML files
def test_parse_yaml_reads_plain_data() -> None:
    assert parse_yaml("version: 1\nfiles:\n  csms: {source: a.csv}\nlist: [1, 2.5, x]\n", "m.yaml") == {
        "version": 1, "files": {"csms": {"source": "a.csv"}}, "list": [1, 2.5, "x"]}
    assert parse_yaml("", "m.yaml") is None  # an empty file holds nothing (callers treat it as defaults)


def test_parse_yaml_names_source_line_problem_and_todo() -> None:
    # line 2 is indented under the scalar "1": YAML reads "1 b" and then meets ": " -> not allowed there
    with pytest.raises(YamlParseError) as err:
        parse_yaml("a: 1\n  b: 2\n", "plan.yaml")
    assert str(err.value) == "plan.yaml line 2: not valid YAML (mapping values are not allowed here); fix the file"
    assert (err.value.line, err.value.problem) == (2, "mapping values are not allowed here")
    assert isinstance(err.value, KitError)  # the CLI prints it like every other input problem
    # no advice appended when the caller gives none
    with pytest.raises(YamlParseError, match=r"^m\.yaml line 2: not valid YAML \(mapping values are not allowed here\)$"):
        parse_yaml("a: 1\n  b: 2\n", "m.yaml", todo="")
    # the unclosed list on line 2 is only noticed at the end of the text, which is line 3 (after the last newline)
    with pytest.raises(YamlParseError, match=r"^m\.yaml line 3: not valid YAML") as err:
        parse_yaml("files:\n  - [unclosed\n", "m.yaml")
    assert err.value.line == 3


def test_parse_yaml_without_a_position_has_no_line() -> None:
    # a control character (BEL, U+0007) is refused by YAML's reader, which gives an offset but no line
    with pytest.raises(YamlParseError, match=r"^x\.yaml: not valid YAML \(unacceptable character #x0007") as err:
        parse_yaml("a: \x07\n", "x.yaml")
    assert err.value.line is None
