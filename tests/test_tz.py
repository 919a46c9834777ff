"""Time zones, daylight saving and SLA clocks (kpi_kit.tz). Expected values are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from kpi_kit.errors import KitError
from kpi_kit.tz import (
    SLA,
    activity_days,
    basis_label,
    elapsed_hours,
    get_zone,
    local_days,
    localize,
    sla_deadline,
    sla_met,
    to_utc,
)


# ---------------------------------------------------------------------------------------------- DST
@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [
        # spring forward, 1 hour at 02:00: 02:30 does not exist → 03:00 local
        ("America/Los_Angeles", datetime(2025, 3, 9, 2, 30), "2025-03-09T10:00:00+00:00"),   # 03:00 PDT (−7)
        ("America/New_York", datetime(2025, 3, 9, 2, 30), "2025-03-09T07:00:00+00:00"),      # 03:00 EDT (−4)
        ("Europe/Berlin", datetime(2025, 3, 30, 2, 30), "2025-03-30T01:00:00+00:00"),        # 03:00 CEST (+2)
        ("Australia/Sydney", datetime(2025, 10, 5, 2, 30), "2025-10-04T16:00:00+00:00"),     # 03:00 AEDT (+11)
        # Lord Howe Island moves by 30 minutes: 02:00 → 02:30 (+11)
        ("Australia/Lord_Howe", datetime(2025, 10, 5, 2, 15), "2025-10-04T15:30:00+00:00"),
    ],
)
def test_nonexistent_times_shift_forward_with_a_warning(zone: str, wall: datetime, utc: str) -> None:
    ts, note = localize(wall, zone)
    assert ts.tz_convert("UTC").isoformat() == utc
    assert note is not None and "does not exist" in note and "shifted forward" in note


@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [
        # fall back: 01:30 happens twice; the first is still summer time
        ("America/Los_Angeles", datetime(2025, 11, 2, 1, 30), "2025-11-02T08:30:00+00:00"),  # PDT −7
        ("America/New_York", datetime(2025, 11, 2, 1, 30), "2025-11-02T05:30:00+00:00"),     # EDT −4
        ("Europe/Berlin", datetime(2025, 10, 26, 2, 30), "2025-10-26T00:30:00+00:00"),       # CEST +2
        ("Australia/Sydney", datetime(2025, 4, 6, 2, 30), "2025-04-05T15:30:00+00:00"),      # AEDT +11
    ],
)
def test_repeated_times_take_the_first_occurrence_with_a_warning(zone: str, wall: datetime, utc: str) -> None:
    ts, note = localize(wall, zone)
    assert ts.tz_convert("UTC").isoformat() == utc
    assert note is not None and "happens twice" in note and "first occurrence" in note


def test_ordinary_times_have_no_warning() -> None:
    ts, note = localize(datetime(2025, 6, 13, 17, 0), "America/Los_Angeles")
    assert note is None and ts.isoformat() == "2025-06-13T17:00:00-07:00"
    with pytest.raises(ValueError):
        localize(pd.Timestamp("2025-06-13T17:00:00Z"), "UTC")


def test_unknown_zone() -> None:
    with pytest.raises(KitError, match="America/Los_Angeles"):
        get_zone("America/Los_Angelos")
    assert get_zone("").key == "UTC"


# ---------------------------------------------------------------------------------------------- instants and days
def test_to_utc_reads_offsets_naive_utc_and_naive_local() -> None:
    values = pd.Series(["2025-03-31T23:30:00Z", "2025-06-13T17:00:00-07:00", "2025-06-13 17:00", ""], index=[2, 3, 4, 5])
    as_utc = to_utc(values, naive="utc")
    assert as_utc.utc.iloc[2].isoformat() == "2025-06-13T17:00:00+00:00"
    local = to_utc(values, naive="local", zones="America/Los_Angeles")
    assert local.utc.iloc[0].isoformat() == "2025-03-31T23:30:00+00:00"      # offsets win
    assert local.utc.iloc[1].isoformat() == "2025-06-14T00:00:00+00:00"      # 17:00 − (−7 h)
    assert local.utc.iloc[2].isoformat() == "2025-06-14T00:00:00+00:00"      # naive read as PDT
    assert pd.isna(local.utc.iloc[3])
    named = to_utc(values.iloc[2:3], naive="Europe/Berlin")
    assert named.utc.iloc[0].isoformat() == "2025-06-13T15:00:00+00:00"      # 17:00 CEST (+2)


def test_to_utc_per_row_zones_and_errors() -> None:
    values = pd.Series(["2025-06-13 09:00", "2025-06-13 09:00"], index=[2, 3])
    zones = pd.Series(["America/New_York", "Asia/Tokyo"], index=[2, 3])
    got = to_utc(values, naive="local", zones=zones)
    # 09:00 EDT (−4) = 13:00Z; 09:00 JST (+9) = 00:00Z
    assert [t.isoformat() for t in got.utc] == ["2025-06-13T13:00:00+00:00", "2025-06-13T00:00:00+00:00"]
    with pytest.raises(KitError, match="row 3, column ts: 'soon'"):
        to_utc(pd.Series(["2025-06-13", "soon"], index=[2, 3]), file="a.csv", column="ts")


@pytest.mark.parametrize(
    ("stamp", "zone", "local_day", "utc_day"),
    [
        ("2025-04-01T02:30:00Z", "America/Los_Angeles", "2025-03-31", "2025-04-01"),  # 19:30 PDT on 31 March
        ("2025-03-31T23:30:00Z", "America/Los_Angeles", "2025-03-31", "2025-03-31"),  # 16:30 PDT
        ("2025-03-31T22:30:00Z", "Asia/Tokyo", "2025-04-01", "2025-03-31"),           # 07:30 JST next day
        ("2025-12-31T23:00:00Z", "Europe/Berlin", "2026-01-01", "2025-12-31"),        # new year in Berlin
    ],
)
def test_days_follow_the_basis(stamp: str, zone: str, local_day: str, utc_day: str) -> None:
    utc = pd.Series(pd.to_datetime([stamp], utc=True))
    assert str(local_days(utc, zone, "csm_local").iloc[0].date()) == local_day
    assert str(local_days(utc, zone, "utc").iloc[0].date()) == utc_day
    days = activity_days(pd.Series([stamp]), zone)
    assert days.table["month"].iloc[0] == local_day[:7]
    assert days.basis == "csm_local" and "CSM's time zone" in days.label


def test_month_buckets_are_text_not_datetimes() -> None:
    # text months cannot be re-bucketed by a browser in another time zone
    days = activity_days(pd.Series(["2025-04-01T02:30:00Z"]), "America/Los_Angeles")
    assert pd.api.types.is_string_dtype(days.table["month"])
    assert days.table["date"].dtype == "datetime64[ns]" and days.table["date"].dt.tz is None


def test_basis_label() -> None:
    assert "UTC" in basis_label("utc")
    with pytest.raises(KitError):
        basis_label("browser")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- SLA
FRI_17 = "2025-06-13T17:00:00-07:00"


@pytest.mark.parametrize(
    ("text", "amount", "clock", "label"),
    [
        ("2 business days", 2, "business_days", "2 business days"),
        ("1 business day", 1, "business_days", "1 business day"),
        ("48 hours", 48, "calendar_hours", "48 calendar hours"),
        ("24 calendar hours", 24, "calendar_hours", "24 calendar hours"),
        ("2 calendar days", 48, "calendar_hours", "48 calendar hours"),   # 2 × 24
        ("36h", 36, "calendar_hours", "36 calendar hours"),
    ],
)
def test_sla_parse(text: str, amount: float, clock: str, label: str) -> None:
    sla = SLA.parse(text)
    assert (sla.amount, sla.clock, sla.label) == (amount, clock, label)


@pytest.mark.parametrize("text", ["2 days", "soon", "1.5 business days", "-3 hours"])
def test_sla_parse_errors(text: str) -> None:
    with pytest.raises(KitError):
        SLA.parse(text)


@pytest.mark.parametrize(
    ("opened", "sla", "deadline"),
    [
        (FRI_17, SLA(2, "business_days"), "2025-06-17T17:00:00-07:00"),     # Fri → Mon (1) → Tue (2)
        (FRI_17, SLA(1, "business_days"), "2025-06-16T17:00:00-07:00"),     # Fri → Mon
        (FRI_17, SLA(48, "calendar_hours"), "2025-06-15T17:00:00-07:00"),   # Sun 17:00
        # opened on Saturday: the clock starts Monday 00:00, one business day later is Tuesday 00:00
        ("2025-06-14T10:00:00-07:00", SLA(1, "business_days"), "2025-06-17T00:00:00-07:00"),
        # a holiday (Monday 16 June) is skipped: Fri → Tue (1) → Wed (2)
        (FRI_17, SLA(2, "business_days", holidays=(date(2025, 6, 16),)), "2025-06-18T17:00:00-07:00"),
        # business days read in the SLA's zone: Fri 17:00 PDT is Sat 00:00 UTC → clock starts Mon 00:00 UTC
        (FRI_17, SLA(1, "business_days", zone="UTC"), "2025-06-17T00:00:00+00:00"),
        # crossing the spring-forward night: wall-clock time kept (Fri 7 Mar 02:30 + 2 bd = Tue 11 Mar 02:30 PDT)
        ("2025-03-07 02:30", SLA(2, "business_days", zone="America/Los_Angeles"), "2025-03-11T02:30:00-07:00"),
    ],
)
def test_sla_deadline(opened: str, sla: SLA, deadline: str) -> None:
    assert sla_deadline(opened, sla) == pd.Timestamp(deadline)


def test_sla_met_boundaries() -> None:
    two_days = SLA.parse("2 business days")
    assert sla_met(FRI_17, "2025-06-17T17:00:00-07:00", two_days) is True    # exactly at the deadline
    assert sla_met(FRI_17, "2025-06-17T17:00:01-07:00", two_days) is False
    assert sla_met(FRI_17, None, two_days) is None                            # still open, no as_of
    assert sla_met(FRI_17, None, two_days, as_of="2025-06-16T12:00:00-07:00") is None
    assert sla_met(FRI_17, None, two_days, as_of="2025-06-18T00:00:00-07:00") is False
    with pytest.raises(KitError, match="before opened"):
        sla_met(FRI_17, "2025-06-13T16:00:00-07:00", two_days)


def test_elapsed_hours_across_dst() -> None:
    # 2025-03-08 12:00 PST (−8) to 2025-03-09 12:00 PDT (−7) is 23 hours, not 24
    assert elapsed_hours("2025-03-08 12:00", "2025-03-09 12:00", zone="America/Los_Angeles") == 23.0


def test_sla_validation() -> None:
    with pytest.raises(KitError, match="clock"):
        SLA(2, "weekdays")  # type: ignore[arg-type]
    with pytest.raises(KitError, match="whole days"):
        SLA(1.5, "business_days")
    with pytest.raises(KitError, match="time zone"):
        SLA(2, "business_days", zone="Mars/Olympus")
