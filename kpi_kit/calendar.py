"""Fiscal calendars: fiscal years that start in any month, quarter labels and pacing.

A fiscal year is twelve whole months starting on the first day of ``start_month``. Its name is the
calendar year in which it *ends* (``naming="end"``, the common US convention: a year running
February 2025 - January 2026 is FY2026) or *starts* (``naming="start"``: FY2025). Quarters are
three whole months counted from the fiscal year's start. With ``start_month=1`` both namings give
the calendar year and quarters are calendar quarters.

All functions are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import pandas as pd

from kpi_kit.errors import KitError

DateLike = date | datetime | pd.Timestamp | str


def _as_date(value: DateLike) -> date:
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            raise KitError("a fiscal calendar needs a date, got a missing value (NaT)")
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise KitError(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31") from None


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    ny, nm = _add_months(year, month, 1)
    return date.fromordinal(date(ny, nm, 1).toordinal() - 1)


@dataclass(frozen=True)
class FiscalCalendar:
    """A fiscal year starting on the first day of ``start_month``.

    Parameters
    ----------
    start_month
        First month of the fiscal year, 1 (January) to 12.
    naming
        ``"end"``: the fiscal year carries the calendar year in which it ends;
        ``"start"``: the year in which it starts.

    Examples
    --------
    >>> cal = FiscalCalendar(start_month=2, naming="end")
    >>> cal.label("2025-02-01"), cal.label("2025-01-31")
    ('FY2026 Q1', 'FY2025 Q4')
    >>> str(cal.quarter_start("2025-03-15")), str(cal.quarter_end("2025-03-15"))
    ('2025-02-01', '2025-04-30')
    >>> round(cal.pacing("2025-03-15"), 4)  # 43 of 89 days, both ends counted
    0.4831
    """

    start_month: int = 1
    naming: Literal["end", "start"] = "end"

    def __post_init__(self) -> None:
        if isinstance(self.start_month, bool) or not isinstance(self.start_month, int) or not 1 <= self.start_month <= 12:
            raise KitError(f"fiscal start_month must be a whole number from 1 (January) to 12, got {self.start_month!r}")
        if self.naming not in ("end", "start"):
            raise KitError(f"fiscal naming must be 'end' (named for the year it ends) or 'start', got {self.naming!r}")

    # -- positions -----------------------------------------------------------------------------
    def _offset(self, d: date) -> int:
        """Months since the start of the fiscal year containing ``d`` (0..11)."""
        return (d.month - self.start_month) % 12

    def _start_year(self, d: date) -> int:
        """Calendar year in which the fiscal year containing ``d`` starts."""
        return d.year if d.month >= self.start_month else d.year - 1

    def fiscal_year(self, value: DateLike) -> int:
        """The fiscal year's number (per ``naming``) of the date.

        A fiscal year starting in January ends in the same calendar year; one starting later ends
        in the next calendar year.
        """
        d = _as_date(value)
        start_year = self._start_year(d)
        if self.naming == "start" or self.start_month == 1:
            return start_year
        return start_year + 1

    def quarter(self, value: DateLike) -> int:
        """Fiscal quarter 1-4: ``offset // 3 + 1`` where offset = months since the fiscal year start."""
        return self._offset(_as_date(value)) // 3 + 1

    def label(self, value: DateLike) -> str:
        """``"FY2026 Q1"``: fiscal year and quarter of the date."""
        return f"FY{self.fiscal_year(value)} Q{self.quarter(value)}"

    # -- boundaries ----------------------------------------------------------------------------
    def year_start(self, value: DateLike) -> date:
        """First day of the fiscal year containing the date."""
        d = _as_date(value)
        return date(self._start_year(d), self.start_month, 1)

    def year_end(self, value: DateLike) -> date:
        """Last day of the fiscal year containing the date (start + 12 months − 1 day)."""
        s = self.year_start(value)
        return _month_end(*_add_months(s.year, s.month, 11))

    def quarter_start(self, value: DateLike) -> date:
        """First day of the fiscal quarter containing the date."""
        d = _as_date(value)
        s = self.year_start(d)
        y, m = _add_months(s.year, s.month, (self.quarter(d) - 1) * 3)
        return date(y, m, 1)

    def quarter_end(self, value: DateLike) -> date:
        """Last day of the fiscal quarter containing the date (its third month's last day)."""
        q = self.quarter_start(value)
        return _month_end(*_add_months(q.year, q.month, 2))

    def quarter_months(self, value: DateLike) -> tuple[str, str]:
        """``(START, END)`` as ``YYYY-MM`` for ``kpi_kit.periods.Period.parse``: the fiscal quarter's months."""
        return self.quarter_start(value).strftime("%Y-%m"), self.quarter_end(value).strftime("%Y-%m")

    def quarter_bounds(self, fiscal_year: int, quarter: int) -> tuple[date, date]:
        """First and last day of quarter ``quarter`` (1-4) of fiscal year ``fiscal_year`` (per ``naming``)."""
        if quarter not in (1, 2, 3, 4):
            raise KitError(f"a fiscal quarter is 1, 2, 3 or 4, got {quarter!r}")
        start_year = fiscal_year if (self.naming == "start" or self.start_month == 1) else fiscal_year - 1
        y, m = _add_months(start_year, self.start_month, (quarter - 1) * 3)
        first = date(y, m, 1)
        return first, self.quarter_end(first)

    # -- pacing --------------------------------------------------------------------------------
    def pacing(self, as_of: DateLike, period: Literal["quarter", "year"] = "quarter") -> float:
        """Fraction of the fiscal quarter (or year) elapsed on ``as_of``, counting both ends.

        ``pacing = (as_of − start + 1 day) / (end − start + 1 day)``: on the first day it is
        1/length, on the last day exactly 1. Multiply a quarterly target by it to get the target
        "to date".
        """
        d = _as_date(as_of)
        if period == "quarter":
            start, end = self.quarter_start(d), self.quarter_end(d)
        elif period == "year":
            start, end = self.year_start(d), self.year_end(d)
        else:
            raise KitError(f"pacing period must be 'quarter' or 'year', got {period!r}")
        return ((d - start).days + 1) / ((end - start).days + 1)

    def labels(self, dates: pd.Series) -> pd.Series:
        """:meth:`label` for a column of dates (missing dates stay missing)."""
        values = pd.to_datetime(dates)
        return pd.Series(
            [None if pd.isna(v) else self.label(v) for v in values], index=dates.index, dtype="str"
        )
