"""Reporting periods: ranges of whole calendar months.

A period is START..END inclusive (``YYYY-MM``). Beginning ARR is the ARR of the month before START;
ending ARR is the ARR of END (see ``data/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpi_kit.errors import KitError

if TYPE_CHECKING:
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
    """The latest calendar quarter whose three months all lie within the book's ARR history.

    The history ends at the last month present in ``arr_monthly.csv``; if that month closes a
    quarter (March, June, September, December) that quarter is returned, otherwise the one before.
    """
    if book.arr_monthly.empty:
        raise KitError("arr_monthly.csv has no rows, so there is no latest quarter: give --start and --end")
    last: pd.Period = book.arr_monthly["month"].max()
    q_end = last if last.month % 3 == 0 else last - (last.month % 3)
    return Period(q_end - 2, q_end)
