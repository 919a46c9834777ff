"""Reporting periods: ranges of whole calendar months.

A period is START..END inclusive (``YYYY-MM``). Beginning ARR is the ARR of the month before START;
ending ARR is the ARR of END (see ``data/README.md``).

Periods follow the book's fiscal calendar (``book.yaml`` ``fiscal_year_start_month``, see
:attr:`kpi_kit.data.Book.calendar`) where a calendar matters: :func:`latest_full_quarter` is a fiscal
quarter, :func:`fiscal_label` names a period ``FY2026 Q1``, and :func:`resolve_period` accepts fiscal
quarters (``FY2026Q1``) and years (``FY2026``) besides months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpi_kit.errors import KitError

if TYPE_CHECKING:
    from kpi_kit.calendar import FiscalCalendar
    from kpi_kit.data import Book


def parse_month(value: str | pd.Period, what: str = "month") -> pd.Period:
    """Parse ``YYYY-MM`` into a monthly ``pd.Period``; a clear error otherwise."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    text = str(value).strip()
    try:
        if len(text) != 7 or text[4] != "-":
            raise ValueError
        return pd.Period(text, freq="M")
    except (ValueError, TypeError):
        raise KitError(f"{what} {value!r} is not a month: write it as YYYY-MM, e.g. 2026-07") from None


@dataclass(frozen=True)
class Period:
    """A range of whole months ``start..end`` (inclusive).

    Examples
    --------
    >>> p = Period.parse("2026-07", "2026-09")
    >>> p.months, p.label, str(p.start_date.date()), str(p.end_date.date())
    (3, '2026-07_2026-09', '2026-07-01', '2026-09-30')
    """

    start: pd.Period
    end: pd.Period

    @classmethod
    def parse(cls, start: str | pd.Period, end: str | pd.Period | None = None) -> "Period":
        s = parse_month(start, "start")
        e = parse_month(end if end not in (None, "") else start, "end")
        if e < s:
            raise KitError(f"the period ends ({e}) before it starts ({s}): give --start before --end")
        return cls(s, e)

    @property
    def months(self) -> int:
        return (self.end - self.start).n + 1

    @property
    def before(self) -> pd.Period:
        """The month whose ARR is the beginning ARR."""
        return self.start - 1

    @property
    def start_date(self) -> pd.Timestamp:
        return self.start.start_time.normalize()

    @property
    def end_date(self) -> pd.Timestamp:
        """Last calendar day of END (midnight)."""
        return self.end.end_time.normalize()

    @property
    def label(self) -> str:
        return f"{self.start}_{self.end}"

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask: which dates (datetime64) fall in the period (by calendar day)."""
        return (dates >= self.start_date) & (dates < self.end_date + pd.Timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def latest_full_quarter(book: "Book") -> Period:
    """The latest fiscal quarter (``book.calendar``) whose three months all lie within the ARR history.

    The history ends at the last month present in ``arr_monthly.csv``; if that month closes a fiscal
    quarter that quarter is returned, otherwise the one before. A quarter closes in the months
    ``m`` with ``(m − fiscal_year_start_month) mod 3 = 2``: March, June, September, December for
    calendar years; April, July, October, January when the fiscal year starts in February.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> str(latest_full_quarter(load_book()))   # the sample book ends in 2026-09
    '2026-07..2026-09'
    """
    if book.arr_monthly.empty:
        raise KitError("arr_monthly.csv has no rows, so there is no latest quarter: give --start and --end")
    last: pd.Period = book.arr_monthly["month"].max()
    into = (last.month - book.calendar.start_month) % 3  # months since the start of last's fiscal quarter
    q_end = last if into == 2 else last - (into + 1)
    return Period(q_end - 2, q_end)


def fiscal_label(book: "Book", period: Period) -> str:
    """The period named in the book's fiscal calendar (``book.calendar``), for titles and tables.

    ``FY2026`` for a whole fiscal year, ``FY2026 Q1`` for one fiscal quarter, ``FY2026 Q1..FY2026 Q3``
    for whole quarters, and otherwise the months with the fiscal quarters they fall in:
    ``2025-03..2025-04 (FY2026 Q1)``. Unlike :attr:`Period.label` it is not meant for file names.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from kpi_kit.data import load_book
    >>> feb = replace(load_book(), meta={"fiscal_year_start_month": 2})   # FY named for the year it ends
    >>> fiscal_label(feb, Period.parse("2025-02", "2025-04")), fiscal_label(feb, Period.parse("2025-02", "2026-01"))
    ('FY2026 Q1', 'FY2026')
    >>> fiscal_label(feb, Period.parse("2025-03", "2025-04"))
    '2025-03..2025-04 (FY2026 Q1)'
    """
    cal = book.calendar
    first, last = period.start_date, period.end_date
    starts_quarter = cal.quarter_start(first) == first.date()
    ends_quarter = cal.quarter_end(last) == last.date()
    q_first, q_last = cal.label(first), cal.label(last)
    if starts_quarter and ends_quarter:
        if cal.year_start(first) == first.date() and cal.year_end(first) == last.date():
            return f"FY{cal.fiscal_year(first)}"
        return q_first if q_first == q_last else f"{q_first}..{q_last}"
    return f"{period} ({q_first})" if q_first == q_last else f"{period} ({q_first}..{q_last})"


_FISCAL_RE = re.compile(r"^FY\s*(?P<year>\d{4})(?:\s*[- ]?\s*Q(?P<quarter>[1-4]))?$", re.IGNORECASE)


def fiscal_months(text: str, calendar: "FiscalCalendar") -> tuple[pd.Period, pd.Period] | None:
    """First and last month of a fiscal quarter (``FY2026Q1``, ``FY2026 Q1``, ``fy2026-q1``) or year
    (``FY2026``) in ``calendar``; ``None`` when ``text`` is not written that way.

    Examples
    --------
    >>> from kpi_kit.calendar import FiscalCalendar
    >>> [str(m) for m in fiscal_months("FY2026Q1", FiscalCalendar(2))]   # Feb-Apr 2025
    ['2025-02', '2025-04']
    >>> [str(m) for m in fiscal_months("FY2026", FiscalCalendar(2))], fiscal_months("2025-02", FiscalCalendar(2))
    (['2025-02', '2026-01'], None)
    """
    m = _FISCAL_RE.match(str(text).strip())
    if m is None:
        return None
    year = int(m.group("year"))
    if m.group("quarter"):
        first, last = calendar.quarter_bounds(year, int(m.group("quarter")))
    else:
        first, _ = calendar.quarter_bounds(year, 1)
        _, last = calendar.quarter_bounds(year, 4)
    return pd.Period(first, freq="M"), pd.Period(last, freq="M")


def resolve_period(book: "Book", start: str | None, end: str | None) -> Period:
    """The period of ``--start`` / ``--end``: months (``YYYY-MM``) or fiscal quarters / years of the book.

    - neither given: :func:`latest_full_quarter` (a fiscal quarter);
    - ``start`` only: that month, or that whole fiscal quarter / year (``FY2026Q1``, ``FY2026``);
    - both: from the first month of ``start`` to the last month of ``end`` (``--start FY2026Q1
      --end FY2026Q3`` = three fiscal quarters; months and fiscal names may be mixed).

    Raises
    ------
    KitError
        ``end`` without ``start``, a value that is neither a month nor a fiscal quarter/year, or an end
        before the start.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from kpi_kit.data import load_book
    >>> feb = replace(load_book(), meta={"fiscal_year_start_month": 2})
    >>> str(resolve_period(feb, "FY2026Q1", "")), str(resolve_period(feb, "FY2026Q1", "FY2026Q2"))
    ('2025-02..2025-04', '2025-02..2025-07')
    """
    start = (start or "").strip()
    end = (end or "").strip()
    if not start and not end:
        return latest_full_quarter(book)
    if not start:
        raise KitError("--end was given without --start: give both (YYYY-MM or a fiscal quarter such as FY2026Q1), "
                       "or neither for the latest full quarter")
    cal = book.calendar
    first, last = fiscal_months(start, cal) or (_month_or_fiscal(start, "start", cal),) * 2
    if end:
        last = (fiscal_months(end, cal) or (_month_or_fiscal(end, "end", cal),) * 2)[1]
    return Period.parse(first, last)


def _month_or_fiscal(text: str, what: str, cal: "FiscalCalendar") -> pd.Period:
    try:
        return parse_month(text, what)
    except KitError:
        raise KitError(f"{what} {text!r} is neither a month (YYYY-MM, e.g. 2026-07) nor a fiscal quarter or year "
                       f"(FY2026Q1, FY2026; fiscal years start in month {cal.start_month} in this book)") from None
