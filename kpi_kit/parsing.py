"""Reading the values people type into CRM exports and spreadsheets.

Value parsers turn one cell of text into a typed value or raise :class:`ValueParseError` with a
sentence saying what was expected; callers (``kpi_kit.importer``) add the file, row and column.
A blank cell is *missing* (``None``) — never 0 — and anything that cannot be read is an error,
never a guess. Column-level detectors (:func:`detect_decimal`, :func:`detect_dayfirst`) look at
every value of a file before choosing a locale, and refuse to choose when the values disagree.

The second half holds the data-quality helpers the book checks use: id normalisation, duplicate
detection that reports which rows merged, and ARR lines split into credits and missing values.

All functions are pure: no I/O, no printing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, UTC
from typing import Any, Literal

import pandas as pd
import yaml

from kpi_kit.errors import KitError
from kpi_kit.problems import Problem

ExcelEpoch = Literal["1900", "1904"]

#: Words read as true / false by :func:`parse_bool` (compared after trimming, ignoring case).
TRUE_WORDS: frozenset[str] = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS: frozenset[str] = frozenset({"false", "f", "no", "n", "0"})

#: Currency signs and the ISO 4217 code they stand for. ``$`` alone means US dollars; write the
#: code (``CAD 1,200``) for other dollars.
CURRENCY_SIGNS: dict[str, str] = {
    "US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
    "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "R$": "BRL", "HK$": "HKD",
    "S$": "SGD", "₩": "KRW", "₽": "RUB", "₺": "TRY", "zł": "PLN",
}

#: Magnitude suffixes of hand-typed money (``$50K``, ``$1.2M``, ``$3MM``, ``$2B``), case-insensitive.
SUFFIXES: dict[str, float] = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}

_SPACES = "\u00a0\u202f\u2009 "  # no-break, narrow no-break, thin and ordinary space (thousands groups)
_SIGN_PATTERN = "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))
_MONEY_RE = re.compile(
    rf"""^
    (?P<lead_minus>[-−])?\s*
    (?P<open>\()?\s*
    (?P<minus1>[-−])?\s*
    (?:(?P<cur1>{_SIGN_PATTERN})|(?P<code1>[A-Za-z]{{3}})(?=[\s\d.,]))?\s*
    (?P<minus2>[-−])?\s*
    (?P<num>[0-9.,'{_SPACES}]*[0-9](?:[eE][+-]?\d+)?|[.,]\d+)\s*
    (?P<suffix>mm|bn|[kmb])?\s*
    (?:(?P<cur2>{_SIGN_PATTERN})|(?P<code2>[A-Za-z]{{3}}))?\s*
    (?P<close>\))?\s*
    (?P<trail_minus>[-−])?
    $""",
    re.VERBOSE | re.IGNORECASE,
)
_EXCEL_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")  # 10000..99999 = 1927-05-18..2173-10-14
_ISO_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC_DATE_RE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_YEAR_RE = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_TIMESTAMP_RE = re.compile(
    r"""^(?P<date>.+?)
    (?:(?:T|\s+)(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?
       \s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?$""",
    re.VERBOSE,
)
_NAMED_MONTH_FORMATS = (
    "%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%B-%Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y",
    "%B %d %Y", "%d-%b-%y", "%d %b %y", "%d.%m.%Y",
)
_EXCEL_1900_ORIGIN = date(1899, 12, 30)  # serial 61 = 1900-03-01 (the fictitious 1900-02-29 is 60)
_EXCEL_1904_ORIGIN = date(1904, 1, 1)


class ValueParseError(ValueError):
    """A cell could not be read; the message says what was expected (without file/row/column)."""


@dataclass(frozen=True)
class Money:
    """An amount read from text, with the currency written next to it (``None`` when none was).

    ``amount < 0`` is a credit (a minus sign or accounting parentheses).
    """

    amount: float
    currency: str | None = None

    @property
    def is_credit(self) -> bool:
        return self.amount < 0


# ----------------------------------------------------------------------------------------------
# numbers and money
# ----------------------------------------------------------------------------------------------
def _blank(text: object) -> bool:
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):
        return True
    return isinstance(text, str) and text.strip() == ""


def _thousands_set(decimal: str, thousands: str | None) -> str:
    """The characters accepted between digit groups (spaces always are)."""
    if thousands == "auto":
        thousands = "." if decimal == "," else ","
    return (thousands or "") + _SPACES


def _parse_plain(num: str, decimal: str, thousands: str | None) -> float:
    """Digits with optional thousands groups and one decimal separator -> float."""
    if decimal not in (".", ","):
        raise ValueError(f"decimal separator must be '.' or ',', not {decimal!r}")
    seps = _thousands_set(decimal, thousands)
    if decimal in seps:
        raise ValueError(f"the thousands separator cannot also be the decimal separator {decimal!r}")
    if re.fullmatch(r"\d+(?:\.\d+)?[eE][+-]?\d+", num) and decimal == ".":
        return float(num)  # scientific notation from an Excel re-save (1.25E+06)
    groups = "[" + re.escape(seps) + "]"
    dec = re.escape(decimal)
    if re.fullmatch(rf"\d+(?:{dec}\d+)?|{dec}\d+", num):
        return float(num.replace(decimal, "."))
    if re.fullmatch(rf"\d{{1,3}}(?:{groups}\d{{3}})+(?:{dec}\d+)?", num):
        digits = re.sub(groups, "", num)
        return float(digits.replace(decimal, "."))
    last = max(num.rfind("."), num.rfind(","))
    if last >= 0 and num[last] != decimal and len(num) - last - 1 != 3:
        raise ValueParseError(
            f"reads as a decimal {num[last]!r} but this file's decimal separator is {decimal!r}; "
            f"declare decimal: {num[last]!r} for the file if that is its decimal mark"
        )
    raise ValueParseError("is not a number: digit groups must have three digits (1,250,000.00)")


def parse_number(text: object, *, decimal: str = ".", thousands: str | None = "auto",
                 percent: bool = False) -> float | None:
    """Read a plain number; blank -> ``None``.

    Parameters
    ----------
    text
        The cell, e.g. ``"1,200.50"``, ``"1.200,50"`` (with ``decimal=","``), ``"-3"``, ``"1.2E+06"``.
    decimal
        Decimal separator, ``"."`` or ``","``.
    thousands
        Thousands separator; ``"auto"`` = the other of ``.``/``,``; ``None`` = none allowed.
        Spaces (also no-break spaces) between digit groups are always accepted.
    percent
        Accept a trailing ``%`` (the number is kept as written: ``"85%"`` -> 85.0).

    Returns
    -------
    float or None
        The value; ``None`` for a blank cell.

    Raises
    ------
    ValueParseError
        Anything else (letters, currency signs, badly grouped digits, two signs).

    Examples
    --------
    >>> parse_number("1,200.50"), parse_number("1.200,50", decimal=","), parse_number(" ")
    (1200.5, 1200.5, None)
    """
    if _blank(text):
        return None
    s = str(text).strip()
    if percent and s.endswith("%"):
        s = s[:-1].rstrip()
    sign = 1.0
    if s[:1] in "+-−":
        sign = -1.0 if s[0] in "-−" else 1.0
        s = s[1:].lstrip()
    if not s or not re.fullmatch(rf"[0-9.,'{_SPACES}eE+-]+", s) or not any(c.isdigit() for c in s):
        raise ValueParseError("is not a number" + (" (a percentage such as 85 or 85%)" if percent else ""))
    return sign * _parse_plain(s, decimal, thousands)


def parse_money(text: object, *, decimal: str = ".", thousands: str | None = "auto") -> Money | None:
    """Read an amount of money as people type it; blank -> ``None``.

    Accepted: plain numbers (``1250000``, ``1,250,000.00``), currency signs and ISO codes before or
    after the number (``$50K``, ``USD 1,250,000.00``, ``1.200,50 €``, ``EUR 980``), magnitude
    suffixes ``K`` (thousand), ``M``/``MM`` (million), ``B``/``BN`` (billion), and negatives written
    ``-1,500.00``, ``(1,500.00)`` (accounting), ``$-1.5K`` or ``1500-``.

    Parameters
    ----------
    text
        The cell.
    decimal, thousands
        As in :func:`parse_number`.

    Returns
    -------
    Money or None
        ``Money(amount, currency)``; ``currency`` is the ISO code written with the amount
        (``$`` = ``USD``), or ``None`` when the cell carries no currency.

    Raises
    ------
    ValueParseError
        Text that is not an amount (``n/a``, ``TBD``, two currencies, two minus signs).

    Examples
    --------
    >>> parse_money("$50K"), parse_money("(1,500.00)")
    (Money(amount=50000.0, currency='USD'), Money(amount=-1500.0, currency=None))
    >>> parse_money("USD 1,250,000.00").amount, parse_money("$1.2M").amount
    (1250000.0, 1200000.0)
    """
    if _blank(text):
        return None
    s = str(text).strip()
    m = _MONEY_RE.match(s)
    if m is None:
        raise ValueParseError(
            "is not an amount; expected a number such as 1250000, 1,250,000.00, $50K, $1.2M, "
            "USD 1,250,000.00 or (1,500.00) for a credit"
        )
    signs = [m.group(g) for g in ("cur1", "code1", "cur2", "code2") if m.group(g)]
    if len(signs) > 1:
        raise ValueParseError(f"has two currencies ({' and '.join(signs)}); write one amount per cell")
    currency: str | None = None
    if signs:
        raw = signs[0]
        currency = CURRENCY_SIGNS.get(raw, CURRENCY_SIGNS.get(raw.upper(), raw.upper()))
    minus = sum(1 for g in ("lead_minus", "minus1", "minus2", "trail_minus") if m.group(g))
    parens = (m.group("open") is not None, m.group("close") is not None)
    if parens[0] != parens[1]:
        raise ValueParseError("has an unmatched parenthesis; write a credit as (1,500.00) or -1,500.00")
    if minus > 1 or (minus and parens[0]):
        raise ValueParseError("has two minus signs; write a credit as (1,500.00) or -1,500.00")
    value = _parse_plain(m.group("num").strip(), decimal, thousands)
    suffix = m.group("suffix")
    if suffix:
        value *= SUFFIXES[suffix.lower()]
        value = round(value, 6)  # 1.2 * 1e6 -> 1200000.0, not 1199999.9999999998
    if minus or parens[0]:
        value = -value
    return Money(value + 0.0, currency)


def parse_bool(text: object) -> bool | None:
    """Read ``true/false``, ``yes/no``, ``y/n``, ``t/f``, ``1/0`` (any case, as Excel writes ``TRUE``); blank -> ``None``.

    Examples
    --------
    >>> parse_bool("TRUE"), parse_bool(" no "), parse_bool("1"), parse_bool("")
    (True, False, True, None)
    """
    if _blank(text):
        return None
    s = str(text).strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueParseError("is not true or false (also accepted: yes/no, y/n, 1/0)")


# ----------------------------------------------------------------------------------------------
# dates
# ----------------------------------------------------------------------------------------------
def excel_serial_to_date(serial: float, epoch: ExcelEpoch = "1900") -> date:
    """The calendar day of an Excel serial date number (the fraction, a time of day, is dropped).

    In the 1900 system (Windows Excel) day 1 is 1900-01-01 and Excel counts a 29 February 1900 that
    never existed (serial 60), so from serial 61 on the day is 1899-12-30 + serial. In the 1904
    system (old Mac Excel) day 0 is 1904-01-01.

    Raises
    ------
    ValueParseError
        Serial 60 in the 1900 system (the nonexistent 1900-02-29), negative or absurdly large serials.

    Examples
    --------
    >>> excel_serial_to_date(45838), excel_serial_to_date(44376, "1904")
    (datetime.date(2025, 6, 30), datetime.date(2025, 6, 30))
    """
    whole = int(math.floor(serial))
    if whole < 0 or whole > 2_958_465:
        raise ValueParseError("is outside the range of Excel dates")
    if epoch == "1900":
        if whole == 60:
            raise ValueParseError("is Excel's 1900-02-29, a day that does not exist")
        if whole < 60:
            return date(1899, 12, 31) + timedelta(days=whole)
        return _EXCEL_1900_ORIGIN + timedelta(days=whole)
    if epoch == "1904":
        return _EXCEL_1904_ORIGIN + timedelta(days=whole)
    raise ValueError(f"Excel epoch must be '1900' or '1904', not {epoch!r}")


def _real_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ValueParseError(f"is not a real date: there is no month {month}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueParseError(f"is not a real date: month {month} of {year} has no day {day}") from None


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:  # the strptime %y rule: 69-99 -> 19xx, 00-68 -> 20xx
        y += 1900 if y >= 69 else 2000
    return y


def _date_part(s: str, dayfirst: bool | None, excel_epoch: ExcelEpoch | None) -> date:
    if _EXCEL_SERIAL_RE.match(s):
        if excel_epoch is None:
            raise ValueParseError("is a number, not a date; set excel_dates: 1900 or 1904 if it is an Excel serial date")
        return excel_serial_to_date(float(s), excel_epoch)
    if m := _ISO_DATE_RE.match(s):
        return _real_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT_DATE_RE.match(s):
        return _real_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC_DATE_RE.match(s):
        a, b, year = int(m[1]), int(m[3]), _year(m[4])
        if dayfirst is None:
            if a > 12 and b <= 12:
                dayfirst = True
            elif b > 12 and a <= 12:
                dayfirst = False
            elif a == b:
                dayfirst = True
            else:
                raise ValueParseError(
                    f"is ambiguous: {a}/{b} could be day/month or month/day; declare dayfirst: true "
                    "(31/03/2026) or dayfirst: false (03/31/2026) for this file"
                )
        day, month = (a, b) if dayfirst else (b, a)
        order = "day first" if dayfirst else "month first"
        if not 1 <= month <= 12:
            raise ValueParseError(f"is not a real date when read {order}: there is no month {month}")
        return _real_date(year, month, day)
    for fmt in _NAMED_MONTH_FORMATS:
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueParseError("is not a date; expected e.g. 2026-03-31, 31/03/2026, 3/31/2026, 31 Mar 2026 or an Excel serial")


def parse_date(text: object, *, dayfirst: bool | None = None, date_format: str | None = None,
               excel_epoch: ExcelEpoch | None = "1900") -> date | None:
    """Read a calendar day; blank -> ``None``.

    Parameters
    ----------
    text
        ISO (``2026-03-31``, also with ``/`` or ``.``, or ``20260331``), numeric day/month forms
        (``31/03/2026``, ``3/31/26``, ``31.03.2026``), month names (``31 Mar 2026``,
        ``Mar 31, 2026``), an Excel serial number (``45838``) or any of these followed by a time
        (the time is dropped; use :func:`parse_timestamp` to keep it).
    dayfirst
        ``True``: ``01/04/2026`` is 1 April; ``False``: 4 January; ``None``: decide from the value
        (a part above 12 can only be the day) and report ``7/1/2025`` as ambiguous.
    date_format
        A ``strptime`` format (``"%d.%m.%Y"``); when given, only that format is accepted.
    excel_epoch
        ``"1900"`` (Windows Excel), ``"1904"`` (old Mac Excel) or ``None`` (numbers are not dates).

    Raises
    ------
    ValueParseError
        Not a date, not a real date (``2025-13-01``, ``2025-02-30``), or ambiguous day/month order.

    Examples
    --------
    >>> parse_date("45838"), parse_date("7/1/2025", dayfirst=False), parse_date("31/03/2026")
    (datetime.date(2025, 6, 30), datetime.date(2025, 7, 1), datetime.date(2026, 3, 31))
    """
    if _blank(text):
        return None
    s = str(text).strip()
    if date_format:
        try:
            return datetime.strptime(s, date_format).date()
        except ValueError:
            raise ValueParseError(f"does not match the declared date_format {date_format!r}") from None
    m = _TIMESTAMP_RE.match(s)
    if m and (m.group("time") or m.group("tz")) and not _EXCEL_SERIAL_RE.match(s):
        s = m.group("date").strip()
    return _date_part(s, dayfirst, excel_epoch)


def parse_month(text: object, *, dayfirst: bool | None = None, date_format: str | None = None,
                excel_epoch: ExcelEpoch | None = "1900") -> str | None:
    """Read a month as ``YYYY-MM``: ``2026-03``, ``2026/3``, ``03/2026``, ``Mar 2026``, or any date (its month).

    Examples
    --------
    >>> parse_month("2026-3"), parse_month("03/2026"), parse_month("Mar 2026"), parse_month("2026-03-31")
    ('2026-03', '2026-03', '2026-03', '2026-03')
    """
    if _blank(text):
        return None
    s = str(text).strip()
    if not date_format:
        if m := _MONTH_RE.match(s):
            return f"{int(m[1]):04d}-{_real_date(int(m[1]), int(m[2]), 1).month:02d}"
        if m := _MONTH_YEAR_RE.match(s):
            return f"{int(m[2]):04d}-{_real_date(int(m[2]), int(m[1]), 1).month:02d}"
        for fmt in ("%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%b-%y", "%b %y"):
            try:
                return datetime.strptime(s, fmt).strftime("%Y-%m")
            except ValueError:
                continue
    try:
        day = parse_date(s, dayfirst=dayfirst, date_format=date_format, excel_epoch=excel_epoch)
    except ValueParseError as exc:
        if "not a date" in str(exc):
            raise ValueParseError("is not a month; expected e.g. 2026-03, 03/2026 or Mar 2026") from None
        raise
    assert day is not None
    return day.strftime("%Y-%m")


def parse_timestamp(text: object, *, dayfirst: bool | None = None, date_format: str | None = None,
                    excel_epoch: ExcelEpoch | None = "1900") -> datetime | None:
    """Read a date-time; blank -> ``None``.

    The result is *aware* (``tzinfo`` set) when the text carries an offset (``Z``, ``+02:00``,
    ``-0700``, ``UTC``) and *naive* otherwise; :mod:`kpi_kit.tz` decides what a naive time means.
    A date alone is midnight. Times may carry seconds, fractions and ``AM``/``PM``; an Excel serial's
    fraction is the time of day.

    Raises
    ------
    ValueParseError
        Not a date-time, or a time such as ``25:00`` or ``13:00 PM``.

    Examples
    --------
    >>> parse_timestamp("2025-06-13T17:00:00-07:00").isoformat()
    '2025-06-13T17:00:00-07:00'
    >>> parse_timestamp("6/13/2025 5:00 PM", dayfirst=False).isoformat()
    '2025-06-13T17:00:00'
    """
    if _blank(text):
        return None
    s = str(text).strip()
    if date_format:
        try:
            return datetime.strptime(s, date_format)
        except ValueError:
            raise ValueParseError(f"does not match the declared date_format {date_format!r}") from None
    if _EXCEL_SERIAL_RE.match(s) and excel_epoch is not None:
        serial = float(s)
        day = excel_serial_to_date(serial, excel_epoch)
        seconds = round((serial - math.floor(serial)) * 86400)
        return datetime.combine(day, time()) + timedelta(seconds=seconds)
    m = _TIMESTAMP_RE.match(s)
    if m is None:
        raise ValueParseError("is not a date-time; expected e.g. 2026-03-31T14:05:00, 2026-03-31 14:05 "
                              "or 2026-03-31T14:05:00-07:00")
    day = _date_part(m.group("date").strip(), dayfirst, excel_epoch)
    clock = time()
    if m.group("time"):
        parts = re.split(r"[:]", m.group("time"))
        hour, minute = int(parts[0]), int(parts[1])
        sec_text = parts[2].replace(",", ".") if len(parts) > 2 else "0"
        second = int(float(sec_text))
        micro = round((float(sec_text) - second) * 1e6)
        if ampm := m.group("ampm"):
            if not 1 <= hour <= 12:
                raise ValueParseError(f"is not a time: hour {hour} with {ampm.upper()}")
            pm = ampm.lower().startswith("p")
            hour = (hour % 12) + (12 if pm else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueParseError("is not a real time of day (hours 0-23, minutes and seconds 0-59)")
        clock = time(hour, minute, second, micro)
    elif m.group("ampm"):
        raise ValueParseError("is not a date-time")
    result = datetime.combine(day, clock)
    tz = m.group("tz")
    if tz:
        if tz.upper() in ("Z", "UTC", "GMT"):
            return result.replace(tzinfo=UTC)
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 14 or minutes > 59:
            raise ValueParseError(f"has an impossible UTC offset {tz}")
        return result.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return result


# ----------------------------------------------------------------------------------------------
# YAML settings files (mapping, comp plan, book.yaml)
# ----------------------------------------------------------------------------------------------
class YamlParseError(KitError):
    """A YAML text that cannot be read; the message names the source, the line and the problem.

    Attributes
    ----------
    line
        1-based line of the problem (``None`` when YAML gives no position, e.g. a control character).
    problem
        YAML's own description (``"mapping values are not allowed here"``).
    """

    def __init__(self, message: str, line: int | None, problem: str):
        super().__init__(message)
        self.line = line
        self.problem = problem


def parse_yaml(text: str, source: str, todo: str = "fix the file") -> Any:
    """Read YAML text (``yaml.safe_load``: plain data only, no Python objects); an empty text is ``None``.

    The one reader of the kit's YAML files, so each says the same where a file is broken. Reading the
    file (and its encoding) stays with the caller; this function does no I/O.

    Parameters
    ----------
    text
        The file's contents.
    source
        How the message names the file (``"mapping.yaml"``, a path).
    todo
        What the user should do, appended after ``"; "`` (``""``: nothing appended).

    Returns
    -------
    Any
        What the YAML holds (dict, list, scalar) or ``None`` for an empty text.

    Raises
    ------
    YamlParseError
        The text is not valid YAML: ``"{source} line {n}: not valid YAML ({problem}); {todo}"`` (no
        ``line {n}`` when YAML gives no position).

    Examples
    --------
    >>> parse_yaml("base: 60000\\nmetrics: [grr, nrr]\\n", "plan.yaml")
    {'base': 60000, 'metrics': ['grr', 'nrr']}
    >>> parse_yaml("a: 1\\n  b: 2\\n", "plan.yaml")
    Traceback (most recent call last):
    ...
    kpi_kit.parsing.YamlParseError: plan.yaml line 2: not valid YAML (mapping values are not allowed here); fix the file
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = str(getattr(exc, "problem", exc))
        where = f" line {line}" if line is not None else ""
        message = f"{source}{where}: not valid YAML ({problem})" + (f"; {todo}" if todo else "")
        raise YamlParseError(message, line, problem) from None


# ----------------------------------------------------------------------------------------------
# locale detection (a whole file's values at once)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detected:
    """The outcome of a column-level detector: the value chosen (``None`` = no evidence) and why."""

    value: str | bool | None
    evidence: tuple[str, ...] = ()


def _number_core(text: str) -> str | None:
    m = _MONEY_RE.match(text.strip())
    return m.group("num").strip() if m else None


def detect_decimal(values: Iterable[object]) -> Detected:
    """Which decimal separator the values use: ``"."``, ``","`` or ``None`` (no value tells).

    A value tells when its last separator cannot be a thousands separator: ``980,00`` and
    ``1.200,50`` say ``","``; ``1,200.50``, ``12.5`` and ``1,200,000`` say ``"."``. ``1,200`` and
    ``1.200`` alone say nothing.

    Raises
    ------
    ValueParseError
        Values in the same file point both ways (naming one example of each).

    Examples
    --------
    >>> detect_decimal(["1.200,50", "980,00"]).value, detect_decimal(["1,200", "40000"]).value
    (',', None)
    """
    comma: list[str] = []
    point: list[str] = []
    for v in values:
        if _blank(v):
            continue
        core = _number_core(str(v))
        if not core:
            continue
        core = re.sub(f"[{_SPACES}']", "", core)
        if "." in core and "," in core:
            (comma if core.rfind(",") > core.rfind(".") else point).append(str(v))
        elif "," in core:
            if re.fullmatch(r"\d{1,3}(,\d{3}){2,}", core):
                point.append(str(v))
            elif not re.fullmatch(r"\d{1,3},\d{3}", core):
                comma.append(str(v))
        elif "." in core:
            if re.fullmatch(r"\d{1,3}(\.\d{3}){2,}", core):
                comma.append(str(v))
            elif not re.fullmatch(r"\d{1,3}\.\d{3}", core) and not re.search(r"[eE]", core):
                point.append(str(v))
    if comma and point:
        raise ValueParseError(
            f"mixes decimal marks: {comma[0]!r} reads with a decimal comma, {point[0]!r} with a decimal "
            "point; declare decimal: ',' or '.' for the file and correct the odd values"
        )
    if comma:
        return Detected(",", tuple(comma[:3]))
    if point:
        return Detected(".", tuple(point[:3]))
    return Detected(None)


def ambiguous_thousands(values: Iterable[object]) -> list[str]:
    """Values like ``1.200`` that are 1.2 with a decimal point and 1200 with a decimal comma."""
    out = []
    for v in values:
        if _blank(v):
            continue
        core = _number_core(str(v))
        if core and re.fullmatch(r"\d{1,3}\.\d{3}", core):
            out.append(str(v))
    return out


def detect_dayfirst(values: Iterable[object]) -> Detected:
    """Whether numeric dates put the day first: ``True``, ``False`` or ``None`` (no value tells).

    ``31/03/2026`` says day first (31 cannot be a month); ``3/31/2026`` says month first;
    ``01/04/2026`` alone says nothing.

    Raises
    ------
    ValueParseError
        Both orders occur in the same file.

    Examples
    --------
    >>> detect_dayfirst(["01/04/2026", "31/03/2026"]).value, detect_dayfirst(["7/1/2025"]).value
    (True, None)
    """
    day: list[str] = []
    month: list[str] = []
    for v in values:
        if _blank(v):
            continue
        s = str(v).strip()
        m = _TIMESTAMP_RE.match(s)
        if m:
            s = m.group("date").strip()
        n = _NUMERIC_DATE_RE.match(s)
        if not n:
            continue
        a, b = int(n[1]), int(n[3])
        if a > 12 >= b:
            day.append(str(v))
        elif b > 12 >= a:
            month.append(str(v))
    if day and month:
        raise ValueParseError(
            f"mixes date orders: {day[0]!r} is day first, {month[0]!r} is month first; declare "
            "dayfirst: true or false for the file and correct the odd values"
        )
    if day:
        return Detected(True, tuple(day[:3]))
    if month:
        return Detected(False, tuple(month[:3]))
    return Detected(None)


# ----------------------------------------------------------------------------------------------
# data quality: ids, duplicates, credits and missing ARR
# ----------------------------------------------------------------------------------------------
def normalise_id(value: object) -> str | None:
    """The comparison form of an id: spaces trimmed, upper-cased; blank -> ``None``.

    Examples
    --------
    >>> normalise_id(" mike-050 "), normalise_id("0042"), normalise_id("")
    ('MIKE-050', '0042', None)
    """
    if _blank(value):
        return None
    return str(value).strip().upper()


def normalise_ids(values: pd.Series) -> pd.Series:
    """:func:`normalise_id` for a column (pandas ``str`` dtype, missing stays missing)."""
    text = values.astype("str").where(values.notna())
    out = text.str.strip().str.upper()
    return out.where(out != "")


#: A row that cannot be cleaned automatically (``row`` is the spreadsheet row): the kit's shared problem record.
QualityProblem = Problem


@dataclass(frozen=True)
class Duplicates:
    """Rows merged because they describe the same thing.

    Attributes
    ----------
    table
        One row per merge: ``key`` (normalised), ``kept_row``, ``merged_row`` (spreadsheet rows),
        ``kept_id``, ``merged_id`` (as written), ``kind`` (``exact``: the id is written identically;
        ``normalised``: equal only after trimming and upper-casing) and ``differing`` (other
        columns whose values differ; the kept row's values win).
    kept
        The input without the merged rows (the first occurrence of each key is kept).
    problems
        Rows that share a key but disagree on a column that must agree (not merged).
    """

    table: pd.DataFrame
    kept: pd.DataFrame
    problems: tuple[QualityProblem, ...] = ()

    def _repr_html_(self) -> str:
        return "<b>Merged duplicate rows</b>" + self.table.to_html(index=False)


def find_duplicates(frame: pd.DataFrame, id_col: str, *, file: str, also_key: Sequence[str] = (),
                    must_agree: Sequence[str] = ()) -> Duplicates:
    """Find rows that repeat an id (exactly, or after trimming and upper-casing) and merge them.

    Parameters
    ----------
    frame
        Rows indexed by spreadsheet row number (header = 1, first data row = 2).
    id_col
        The id column; compared with :func:`normalise_id`.
    file
        File name used in problems.
    also_key
        Further key columns compared exactly (e.g. ``("month",)`` for ARR lines).
    must_agree
        Columns whose values must be equal for rows to merge (e.g. the owner ``csm_id``, the ARR);
        when they differ the rows are *not* merged and each later row is a problem.

    Returns
    -------
    Duplicates
        The merges (``.table``), the de-duplicated rows (``.kept``) and the conflicts.

    Examples
    --------
    >>> rows = pd.DataFrame({"account_id": ["MIKE-050", "MIKE-050", "mike-050 "],
    ...                      "arr": [40000.0, 40000.0, 40000.0]}, index=[2, 3, 4])
    >>> d = find_duplicates(rows, "account_id", file="book.csv", must_agree=["arr"])
    >>> list(d.table["kind"]), list(d.kept.index)
    (['exact', 'normalised'], [2])
    """
    n = len(frame)
    positions = pd.Series(range(n), index=frame.index)
    keys = pd.DataFrame({"__id": normalise_ids(frame[id_col]).to_numpy()}, index=frame.index)
    for c in also_key:
        keys[c] = frame[c].astype("str").where(frame[c].notna(), "\x00missing")
    valid = keys["__id"].notna()
    first = pd.Series(-1, index=frame.index, dtype="int64")
    if valid.any():
        grouped = positions[valid].groupby([keys.loc[valid, c] for c in keys.columns], sort=False)
        first.loc[valid] = grouped.transform("min").to_numpy()
    dup_mask = valid & (first.to_numpy() != positions.to_numpy())
    dup_pos = positions[dup_mask].to_numpy()
    kept_pos = first[dup_mask].to_numpy()

    def differs(col: str) -> pd.Series:
        a = frame[col].iloc[dup_pos].reset_index(drop=True)
        b = frame[col].iloc[kept_pos].reset_index(drop=True)
        both_missing = a.isna() & b.isna()
        return ~((a == b).fillna(False).astype(bool) | both_missing)

    clash = pd.Series(False, index=range(len(dup_pos)))
    problems: list[QualityProblem] = []
    for c in must_agree:
        diff = differs(c)
        clash |= diff
        for i in diff[diff].index:
            idx, kept = frame.index[dup_pos[i]], frame.index[kept_pos[i]]
            value = frame[c].iloc[dup_pos[i]]
            problems.append(QualityProblem(
                file, int(idx), c, None if pd.isna(value) else str(value),
                f"{id_col} {frame[id_col].iloc[dup_pos[i]]!r} is also on row {kept} with {c} "
                f"{frame[c].iloc[kept_pos[i]]!r}; the rows cannot be merged — keep one of them",
            ))
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    others = [c for c in frame.columns if c != id_col and c not in also_key]
    other_diffs = {c: differs(c).to_numpy() for c in others}
    merge_i = clash[~clash].index.to_numpy()
    ids = frame[id_col].to_numpy()
    key_values = keys.to_numpy()
    labels = frame.index.to_numpy()
    records: list[dict[str, object]] = []
    for i in merge_i:
        k = key_values[dup_pos[i]]
        kept_id, this_id = ids[kept_pos[i]], ids[dup_pos[i]]
        records.append({
            "key": k[0] if len(k) == 1 else " / ".join(str(x) for x in k),
            "kept_row": int(labels[kept_pos[i]]),
            "merged_row": int(labels[dup_pos[i]]),
            "kept_id": kept_id,
            "merged_id": this_id,
            "kind": "exact" if kept_id == this_id else "normalised",
            "differing": ", ".join(c for c in others if other_diffs[c][i]),
        })
    merged_rows = [frame.index[dup_pos[i]] for i in merge_i]
    table = pd.DataFrame(records, columns=["key", "kept_row", "merged_row", "kept_id", "merged_id", "kind", "differing"])
    return Duplicates(table=table, kept=frame.drop(index=merged_rows), problems=tuple(problems))


@dataclass(frozen=True)
class ArrLines:
    """ARR lines cleaned for summing: one per account (and month), credits and blanks set aside.

    Attributes
    ----------
    table
        One row per account (per key): the id as first written, ``arr`` (float; NaN when missing)
        and ``arr_status`` — ``ok``, ``missing`` (blank ARR: left out of sums, the account is kept)
        or ``credit_only`` (the account's only lines were credits).
    credits
        Negative lines (credit memos), kept out of ARR: ``row``, the id, ``arr``.
    missing
        Accounts whose ARR is blank: ``row``, the id.
    merges
        :class:`Duplicates` table of the lines that collapsed into one.
    problems
        Lines that share an account but disagree on ARR or owner (not merged; errors).
    """

    table: pd.DataFrame
    credits: pd.DataFrame
    missing: pd.DataFrame
    merges: pd.DataFrame
    problems: tuple[QualityProblem, ...] = ()
    amount_col: str = "arr"

    @property
    def total(self) -> float:
        """Σ ARR over lines with a known, non-negative ARR (missing and credits left out)."""
        return float(self.table[self.amount_col].sum(skipna=True))

    @property
    def accounts(self) -> int:
        """Accounts in the book, including those with missing ARR."""
        return len(self.table)

    def _repr_html_(self) -> str:
        parts = [f"<b>ARR lines</b>: {self.accounts} accounts, total {self.total:,.2f}", self.table.to_html(index=False)]
        if len(self.credits):
            parts += ["<b>Credits (kept out of ARR)</b>", self.credits.to_html(index=False)]
        if len(self.missing):
            parts += ["<b>Missing ARR</b>", self.missing.to_html(index=False)]
        if len(self.merges):
            parts += ["<b>Merged duplicates</b>", self.merges.to_html(index=False)]
        return "".join(parts)


def clean_arr_lines(frame: pd.DataFrame, *, file: str, id_col: str = "account_id", amount_col: str = "arr",
                    also_key: Sequence[str] = (), must_agree: Sequence[str] = ()) -> ArrLines:
    """Split ARR lines into usable ARR, credits and missing values, and merge repeated lines.

    Rules (in this order):

    1. A negative amount is a **credit** (credit memo, refund): listed in ``credits`` and kept out of
       ARR — no account ever has negative ARR.
    2. A blank amount is **missing**: listed in ``missing``; the account stays in ``table`` with
       ``arr`` NaN, so it counts as an account (coverage denominators) but adds nothing to ARR sums
       and — being unknown, not 0 — must never be read as churn.
    3. Lines whose id is equal after trimming and upper-casing (and equal ``also_key`` values) are
       one account: they merge when ``amount_col`` and every ``must_agree`` column agree
       (:func:`find_duplicates`), otherwise each later line is a problem.

    Parameters
    ----------
    frame
        Parsed lines (``amount_col`` numeric, NaN = blank), indexed by spreadsheet row.
    file
        File name for problems.
    id_col, amount_col
        Id and amount columns.
    also_key
        Further key columns (``("month",)`` for monthly ARR).
    must_agree
        Columns besides the amount that must agree for lines to merge (e.g. ``("csm_id",)``).

    Examples
    --------
    >>> lines = pd.DataFrame({"account_id": ["A", "a ", "B", "C", "C"],
    ...                       "arr": [10.0, 10.0, float("nan"), 5.0, -2.0]}, index=[2, 3, 4, 5, 6])
    >>> clean = clean_arr_lines(lines, file="book.csv")
    >>> clean.total, clean.accounts, list(clean.credits["arr"]), list(clean.missing["account_id"])
    (15.0, 3, [-2.0], ['B'])
    """
    amounts = pd.to_numeric(frame[amount_col], errors="raise")
    credit = amounts < 0
    credits = frame.loc[credit, [id_col, *also_key, amount_col]].copy()
    credits.insert(0, "row", credits.index.astype(int))
    lines = frame.loc[~credit]
    dups = find_duplicates(lines, id_col, file=file, also_key=also_key, must_agree=[amount_col, *must_agree])
    kept = dups.kept
    if dups.problems:
        bad_rows = {p.row for p in dups.problems}
        kept = kept.drop(index=[r for r in kept.index if r in bad_rows])
    keep_cols = [id_col, *also_key, amount_col]
    table = kept[keep_cols].copy()
    table["arr_status"] = ["missing" if pd.isna(v) else "ok" for v in table[amount_col]]
    # an account whose only lines are credits is still an account, with no ARR
    known = set(normalise_ids(table[id_col]).dropna())
    credit_keys = normalise_ids(credits[id_col]) if len(credits) else pd.Series(dtype="str")
    extra = credits.loc[~credit_keys.isin(known)].drop_duplicates(subset=[id_col, *also_key]) if len(credits) else credits
    if len(extra):
        add = extra[[id_col, *also_key]].copy()
        add[amount_col] = float("nan")
        add["arr_status"] = "credit_only"
        table = pd.concat([table, add.set_index(extra["row"].to_numpy())])
    missing = table.loc[table["arr_status"] == "missing", [id_col, *also_key]].copy()
    missing.insert(0, "row", missing.index.astype(int))
    return ArrLines(
        table=table.reset_index(drop=True), credits=credits.reset_index(drop=True),
        missing=missing.reset_index(drop=True), merges=dups.table, problems=dups.problems,
        amount_col=amount_col,
    )
