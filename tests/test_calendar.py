"""Fiscal calendars (kpi_kit.calendar). Expected values are worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_kit.calendar import FiscalCalendar
from kpi_kit.errors import KitError


@pytest.mark.parametrize(
    ("start_month", "naming", "day", "label"),
    [
        # calendar year: FY = calendar year, Q = calendar quarter
        (1, "end", "2025-01-01", "FY2025 Q1"),
        (1, "start", "2025-12-31", "FY2025 Q4"),
        (1, "end", "2025-07-15", "FY2025 Q3"),
        # July start (e.g. Microsoft): FY2026 runs 2025-07-01 .. 2026-06-30
        (7, "end", "2025-07-01", "FY2026 Q1"),
        (7, "end", "2025-06-30", "FY2025 Q4"),
        (7, "end", "2026-01-15", "FY2026 Q3"),   # Jan is month 7 of the FY → offset 6 → Q3
        (7, "start", "2026-01-15", "FY2025 Q3"),
        # October start (US federal): FY2026 runs 2025-10-01 .. 2026-09-30
        (10, "end", "2025-10-01", "FY2026 Q1"),
        (10, "end", "2025-09-30", "FY2025 Q4"),
        # December start: one month in the previous calendar year
        (12, "end", "2025-12-01", "FY2026 Q1"),
        (12, "end", "2025-11-30", "FY2025 Q4"),
        (12, "start", "2026-02-28", "FY2025 Q1"),  # Dec 2025 - Feb 2026 is Q1 of the FY starting in 2025
    ],
)
def test_labels_for_other_fiscal_years(start_month: int, naming: str, day: str, label: str) -> None:
    assert FiscalCalendar(start_month, naming).label(day) == label  # type: ignore[arg-type]


def test_boundaries_july_start() -> None:
    cal = FiscalCalendar(start_month=7)
    assert cal.year_start("2026-01-15") == date(2025, 7, 1)
    assert cal.year_end("2026-01-15") == date(2026, 6, 30)
    assert cal.quarter_start("2026-01-15") == date(2026, 1, 1)
    assert cal.quarter_end("2026-01-15") == date(2026, 3, 31)
    assert cal.quarter_bounds(2026, 3) == (date(2026, 1, 1), date(2026, 3, 31))
    assert cal.quarter_bounds(2026, 1) == (date(2025, 7, 1), date(2025, 9, 30))


def test_quarter_end_in_a_leap_february() -> None:
    # FY from December: Q1 = Dec 2023, Jan 2024, Feb 2024 → ends 2024-02-29 (leap year)
    assert FiscalCalendar(12).quarter_end("2024-01-10") == date(2024, 2, 29)


def test_pacing() -> None:
    cal = FiscalCalendar()
    # Q1 2026 = Jan 31 + Feb 28 + Mar 31 = 90 days
    assert cal.pacing("2026-01-01") == pytest.approx(1 / 90)
    assert cal.pacing("2026-03-31") == 1.0
    assert cal.pacing("2026-02-14") == pytest.approx(45 / 90)  # 31 Jan days + 14 = 45
    # the year: 2026 has 365 days; 1 July is day 181 + 1 = 182 (Jan..Jun = 181 days)
    assert cal.pacing("2026-07-01", period="year") == pytest.approx(182 / 365)


def test_quarter_months_feed_periods() -> None:
    assert FiscalCalendar(2).quarter_months("2025-03-15") == ("2025-02", "2025-04")


def test_labels_series_keeps_missing() -> None:
    got = FiscalCalendar(2).labels(pd.Series(pd.to_datetime(["2025-02-01", None])))
    assert got.iloc[0] == "FY2026 Q1" and pd.isna(got.iloc[1])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"start_month": 0}, "start_month"), ({"start_month": 13}, "start_month"),
    ({"start_month": 2.0}, "start_month"), ({"naming": "middle"}, "naming"),
])
def test_bad_configuration_is_a_clear_error(kwargs: dict, match: str) -> None:
    with pytest.raises(KitError, match=match):
        FiscalCalendar(**kwargs)


def test_bad_dates_are_clear_errors() -> None:
    cal = FiscalCalendar()
    with pytest.raises(KitError, match="not a date"):
        cal.label("2025-13-01")
    with pytest.raises(KitError, match="quarter"):
        cal.quarter_bounds(2025, 5)
    with pytest.raises(KitError, match="pacing period"):
        cal.pacing("2025-01-01", period="month")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    start_month=st.integers(1, 12),
    naming=st.sampled_from(["end", "start"]),
)
def test_invariants(day: date, start_month: int, naming: str) -> None:
    cal = FiscalCalendar(start_month, naming)  # type: ignore[arg-type]
    q0, q1 = cal.quarter_start(day), cal.quarter_end(day)
    y0, y1 = cal.year_start(day), cal.year_end(day)
    assert y0 <= q0 <= day <= q1 <= y1
    assert 89 <= (q1 - q0).days + 1 <= 92          # three whole months
    assert 365 <= (y1 - y0).days + 1 <= 366
    assert y0.month == start_month and y0.day == 1
    assert (y1 + timedelta(days=1)) == date(y0.year + 1, y0.month, 1)
    # the day after a quarter's end starts the next quarter (or the next fiscal year's Q1)
    nxt = q1 + timedelta(days=1)
    assert cal.quarter(nxt) == cal.quarter(day) % 4 + 1
    assert 0 < cal.pacing(day) <= 1
    # naming: "end" and "start" differ by one year exactly when the fiscal year spans two calendar years
    other = FiscalCalendar(start_month, "start" if naming == "end" else "end")  # type: ignore[arg-type]
    spans = start_month != 1
    assert abs(cal.fiscal_year(day) - other.fiscal_year(day)) == (1 if spans else 0)
    assert cal.fiscal_year(day) == (y1.year if naming == "end" else y0.year)
