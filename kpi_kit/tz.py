"""Time zones: which day an activity happened on, daylight-saving rules, and SLA clocks.

**Which day.** An activity's *day* (what KPIs count per month and quarter) is taken in the CSM's
time zone by default (``basis="csm_local"``): a call at 16:30 on 31 March in Los Angeles is a March
activity, although it is already 1 April in UTC after 17:00 local. ``basis="utc"`` takes days in
UTC instead. The basis is a setting and reports should print :func:`basis_label`.

**What a timestamp means.** Timestamps with an offset (``Z``, ``-07:00``) are exact instants.
A *naive* timestamp (no offset) is read as UTC (``naive="utc"``), as wall-clock time in each row's
zone (``naive="local"``), or in one named zone (``naive="Europe/Paris"``).

**Daylight saving (naive local times only).**

- A time that does not exist (the clocks jump from 02:00 to 03:00) is *shifted forward* to the
  first valid instant after the gap (02:30 -> 03:00) and a :class:`TimeNote` warns about it.
- A time that happens twice (the clocks fall back from 02:00 to 01:00) takes the *first*
  occurrence (the one still in summer time) and a :class:`TimeNote` warns about it.

**Charts.** Bucket by the ``month`` strings (``"2025-03"``) that :func:`activity_days` returns, not by
timezone-aware datetimes: a browser would re-bucket those into the *viewer's* local time.

**SLA clocks** are explicit: :class:`SLA` counts either business days (weekends and listed holidays
do not count) or calendar hours.

All functions are pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone, UTC
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.errors import KitError
from kpi_kit.parsing import ValueParseError, parse_timestamp

DayBasis = Literal["csm_local", "utc"]
DAY_BASES: tuple[str, ...] = ("csm_local", "utc")

TimestampLike = str | datetime | pd.Timestamp


def basis_label(basis: DayBasis) -> str:
    """Sentence to print on reports: how activity days were counted."""
    if basis == "csm_local":
        return "Activity days are counted in each CSM's time zone (csms.csv time_zone, default UTC)."
    if basis == "utc":
        return "Activity days are counted in UTC."
    raise KitError(f"day basis must be one of {', '.join(DAY_BASES)}, got {basis!r}")


def get_zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (blank or ``None`` = UTC).

    Raises
    ------
    KitError
        Unknown zone name, with close matches.
    """
    if name is None or str(name).strip() == "":
        return ZoneInfo("UTC")
    text = str(name).strip()
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(text, sorted(available_timezones()), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KitError(f"{text!r} is not a time zone; use an IANA name such as America/Los_Angeles or "
                       f"Europe/Berlin{hint}") from None


@dataclass(frozen=True)
class TimeNote:
    """A warning about a naive local time that daylight saving made nonexistent or ambiguous."""

    row: object
    value: str
    zone: str
    kind: Literal["nonexistent", "ambiguous"]
    resolved: pd.Timestamp
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.value!r}: {self.message}"


def localize(naive: datetime | pd.Timestamp, zone_name: str) -> tuple[pd.Timestamp, str | None]:
    """Attach ``zone_name`` to a wall-clock time, applying the daylight-saving rules.

    Returns
    -------
    (pandas.Timestamp, str or None)
        The aware instant in the zone and ``None``, or — for a nonexistent or repeated wall time —
        the resolved instant and a sentence saying what was done.

    Examples
    --------
    >>> ts, note = localize(datetime(2025, 3, 9, 2, 30), "America/Los_Angeles")
    >>> ts.isoformat(), note is not None
    ('2025-03-09T03:00:00-07:00', True)
    >>> localize(datetime(2025, 11, 2, 1, 30), "America/Los_Angeles")[0].isoformat()
    '2025-11-02T01:30:00-07:00'
    """
    zone = get_zone(zone_name)
    dt = naive.to_pydatetime() if isinstance(naive, pd.Timestamp) else naive
    if dt.tzinfo is not None:
        raise ValueError("localize() takes a naive (wall-clock) time")
    first = dt.replace(tzinfo=zone, fold=0)
    second = dt.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return pd.Timestamp(first), None
    back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != dt:  # in a spring-forward gap: the wall time never shows on a clock
        shifted = pd.Timestamp(_gap_end(first, second, zone))
        return shifted, (
            f"{dt:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks jump forward for daylight saving); "
            f"shifted forward to {shifted:%H:%M} ({shifted.isoformat()})"
        )
    resolved = pd.Timestamp(first)
    return resolved, (
        f"{dt:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks fall back); the first occurrence "
        f"({resolved.isoformat()}) is used"
    )


def _gap_end(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after a daylight-saving gap, in ``zone``.

    ``before`` / ``after`` are the gap's wall time read with the offsets before and after the
    change; the change happens between their UTC instants. Found by bisection on whole seconds
    (pandas' ``nonexistent="shift_forward"`` assumes one-hour gaps and is wrong for e.g.
    Australia/Lord_Howe's 30-minute change).
    """
    lo = int(after.astimezone(UTC).timestamp())   # still before the change
    hi = int(before.astimezone(UTC).timestamp())  # already after the change
    target = after.utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, zone)


@dataclass(frozen=True)
class Instants:
    """Timestamps as UTC instants, with the daylight-saving notes raised while reading them."""

    utc: pd.Series
    notes: tuple[TimeNote, ...] = ()


def _zones_for(index: pd.Index, zones: pd.Series | str | None) -> pd.Series:
    if zones is None or isinstance(zones, str):
        return pd.Series(zones or "UTC", index=index, dtype="str")
    text = zones.reindex(index).astype("str").where(zones.reindex(index).notna(), "")
    return text.str.strip().where(text.str.strip() != "", "UTC")


def to_utc(values: pd.Series, *, naive: str = "utc", zones: pd.Series | str | None = None,
           file: str = "", column: str = "") -> Instants:
    """Read timestamps (text or datetimes) as UTC instants.

    Parameters
    ----------
    values
        Text such as ``2025-03-31T23:30:00Z`` / ``2025-11-02 01:30:00``, or datetimes; index =
        row labels (spreadsheet rows) used in notes and errors. Blank -> NaT.
    naive
        Meaning of timestamps without an offset: ``"utc"``, ``"local"`` (the row's zone from
        ``zones``) or an IANA zone name for all rows.
    zones
        Per-row zone names (e.g. the CSM's ``time_zone``) or one name; blank = UTC.
    file, column
        For error messages.

    Returns
    -------
    Instants
        ``utc``: ``datetime64[ns, UTC]`` Series; ``notes``: one :class:`TimeNote` per shifted or
        ambiguous local time.

    Raises
    ------
    KitError
        A value that is not a timestamp (every bad row listed) or an unknown zone.

    Examples
    --------
    >>> s = pd.Series(["2025-03-31T23:30:00Z", "2025-03-09 02:30:00"], index=[2, 3])
    >>> got = to_utc(s, naive="local", zones="America/Los_Angeles")
    >>> [t.isoformat() for t in got.utc], [n.kind for n in got.notes]
    (['2025-03-31T23:30:00+00:00', '2025-03-09T10:00:00+00:00'], ['nonexistent'])
    """
    row_zones = _zones_for(values.index, zones)
    if naive not in ("utc", "local"):
        get_zone(naive)
    for name in set(row_zones):
        get_zone(name)
    out: list[object] = []  # Timestamps and NaT
    notes: list[TimeNote] = []
    problems: list[str] = []
    where = f"{file} " if file else ""
    col = f", column {column}" if column else ""
    for row, value, zone_name in zip(values.index, values, row_zones):
        if value is None or (not isinstance(value, str) and pd.isna(value)) or (isinstance(value, str) and not value.strip()):
            out.append(pd.NaT)
            continue
        try:
            dt = parse_timestamp(value) if isinstance(value, str) else pd.Timestamp(value).to_pydatetime()
        except ValueParseError as exc:
            problems.append(f"{where}row {row}{col}: {value!r} {exc}")
            out.append(pd.NaT)
            continue
        assert dt is not None
        if dt.tzinfo is not None:
            out.append(pd.Timestamp(dt).tz_convert("UTC"))
            continue
        target = "UTC" if naive == "utc" else (zone_name if naive == "local" else naive)
        ts, message = localize(dt, target)
        if message:
            kind: Literal["nonexistent", "ambiguous"] = "nonexistent" if "does not exist" in message else "ambiguous"
            notes.append(TimeNote(row, str(value), target, kind, ts.tz_convert("UTC"), message))
        out.append(ts.tz_convert("UTC"))
    if problems:
        raise KitError(f"{len(problems)} timestamp(s) cannot be read:\n" + "\n".join(f"  - {p}" for p in problems))
    return Instants(utc=pd.Series(out, index=values.index, dtype="datetime64[ns, UTC]"), notes=tuple(notes))


def local_days(utc: pd.Series, zones: pd.Series | str | None = None, basis: DayBasis = "csm_local") -> pd.Series:
    """The calendar day of each instant: in the row's zone (``csm_local``) or in UTC.

    Returns naive ``datetime64`` midnights (the contract's ``date`` type); NaT stays NaT.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2025-03-31T23:30:00Z"], utc=True))
    >>> str(local_days(t, "America/Los_Angeles")[0].date()), str(local_days(t, basis="utc")[0].date())
    ('2025-03-31', '2025-03-31')
    """
    basis_label(basis)
    if basis == "utc":
        return utc.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    row_zones = _zones_for(utc.index, zones)
    out = pd.Series(pd.NaT, index=utc.index, dtype="datetime64[ns]")
    for name in sorted(set(row_zones)):
        get_zone(name)
        mask = row_zones == name
        out.loc[mask] = utc.loc[mask].dt.tz_convert(name).dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")
    return out


@dataclass(frozen=True)
class ActivityDays:
    """Activity timestamps turned into days and months.

    Attributes
    ----------
    table
        ``utc`` (instant), ``zone`` (where the day was taken), ``local_time`` (wall clock there, text),
        ``date`` (naive midnight) and ``month`` (``"YYYY-MM"`` text — bucket charts by this).
    notes
        Daylight-saving warnings (:class:`TimeNote`).
    basis
        ``csm_local`` or ``utc``; print :attr:`label` on reports.
    """

    table: pd.DataFrame
    notes: tuple[TimeNote, ...]
    basis: DayBasis

    @property
    def label(self) -> str:
        return basis_label(self.basis)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{fmt.text(n)}</li>" for n in self.notes)
        return f"<p>{fmt.text(self.label)}</p>" + (f"<ul>{notes}</ul>" if notes else "") + self.table.to_html()


def activity_days(values: pd.Series, zones: pd.Series | str | None = None, *, naive: str = "local",
                  basis: DayBasis = "csm_local", file: str = "", column: str = "") -> ActivityDays:
    """Days (and months) of activity timestamps, counted per :func:`basis_label`.

    Parameters
    ----------
    values
        Timestamps (text or datetimes), indexed by row.
    zones
        Each row's CSM time zone (or one zone); blank = UTC.
    naive
        How to read timestamps without offset (see :func:`to_utc`); default: the CSM's local time.
    basis
        ``csm_local`` (default) or ``utc``.

    Examples
    --------
    >>> s = pd.Series(["2025-04-01T02:30:00Z"])  # 19:30 on 31 March in Los Angeles
    >>> activity_days(s, "America/Los_Angeles").table["month"].tolist()
    ['2025-03']
    >>> activity_days(s, "America/Los_Angeles", basis="utc").table["month"].tolist()
    ['2025-04']
    """
    instants = to_utc(values, naive=naive, zones=zones, file=file, column=column)
    row_zones = _zones_for(values.index, zones) if basis == "csm_local" else pd.Series("UTC", index=values.index, dtype="str")
    days = local_days(instants.utc, row_zones, basis)
    local_text = [
        "" if pd.isna(t) else t.tz_convert(z).strftime("%Y-%m-%d %H:%M %z") for t, z in zip(instants.utc, row_zones)
    ]
    table = pd.DataFrame({
        "utc": instants.utc,
        "zone": row_zones,
        "local_time": pd.Series(local_text, index=values.index, dtype="str"),
        "date": days,
        "month": days.dt.strftime("%Y-%m").astype("str"),
    })
    return ActivityDays(table=table, notes=instants.notes, basis=basis)


# ----------------------------------------------------------------------------------------------
# SLA clocks
# ----------------------------------------------------------------------------------------------
Clock = Literal["business_days", "calendar_hours"]
_SLA_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(business\s+days?|calendar\s+hours?|hours?|h|calendar\s+days?)\s*$", re.I)


@dataclass(frozen=True)
class SLA:
    """A service-level clock: ``amount`` business days or calendar hours.

    Parameters
    ----------
    amount
        Whole business days, or hours (may be fractional).
    clock
        ``"business_days"``: the deadline is the same time of day ``amount`` business days later
        (weekends per ``weekmask`` and ``holidays`` skipped); a clock started on a non-business day
        starts at 00:00 of the next business day. ``"calendar_hours"``: the deadline is
        ``amount`` elapsed hours later, nights and weekends included.
    zone
        IANA zone in which business days and times of day are read; ``None`` = the opening
        timestamp's own offset (UTC for naive times).
    weekmask
        Business weekdays (numpy ``busday`` syntax).
    holidays
        Days that are not business days.

    Examples
    --------
    >>> SLA.parse("2 business days").label, SLA.parse("48 hours").label
    ('2 business days', '48 calendar hours')
    """

    amount: float
    clock: Clock
    zone: str | None = None
    weekmask: str = "Mon Tue Wed Thu Fri"
    holidays: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.clock not in ("business_days", "calendar_hours"):
            raise KitError(f"an SLA clock is 'business_days' or 'calendar_hours', got {self.clock!r}")
        if not self.amount >= 0:
            raise KitError(f"an SLA amount must be zero or more, got {self.amount!r}")
        if self.clock == "business_days" and float(self.amount) != int(self.amount):
            raise KitError(f"a business-day SLA counts whole days, got {self.amount!r}")
        if self.zone is not None:
            get_zone(self.zone)

    @classmethod
    def parse(cls, text: str, zone: str | None = None, holidays: tuple[date, ...] = ()) -> SLA:
        """Read ``"2 business days"``, ``"48 hours"``, ``"24 calendar hours"`` or ``"3 calendar days"`` (= 72 hours)."""
        m = _SLA_RE.match(str(text))
        if not m:
            raise KitError(f"{text!r} is not an SLA; write e.g. '2 business days' or '48 calendar hours'")
        amount, unit = float(m[1]), m[2].lower()
        if unit.startswith("business"):
            return cls(amount, "business_days", zone, holidays=holidays)
        if unit.startswith("calendar") and "day" in unit:
            return cls(amount * 24, "calendar_hours", zone, holidays=holidays)
        return cls(amount, "calendar_hours", zone, holidays=holidays)

    @property
    def label(self) -> str:
        n = f"{self.amount:g}"
        if self.clock == "business_days":
            return f"{n} business day{'s' if self.amount != 1 else ''}"
        return f"{n} calendar hour{'s' if self.amount != 1 else ''}"


def _instant(value: TimestampLike, sla: SLA, what: str) -> pd.Timestamp:
    if isinstance(value, str):
        try:
            dt = parse_timestamp(value)
        except ValueParseError as exc:
            raise KitError(f"{what} {value!r} {exc}") from None
        if dt is None:
            raise KitError(f"{what} is blank")
    else:
        dt = pd.Timestamp(value).to_pydatetime()
    if dt.tzinfo is None:
        ts, _ = localize(dt, sla.zone or "UTC")
        return ts
    ts = pd.Timestamp(dt)
    return ts.tz_convert(sla.zone) if sla.zone else ts


def sla_deadline(opened: TimestampLike, sla: SLA) -> pd.Timestamp:
    """When the SLA clock started at ``opened`` runs out (see :class:`SLA` for both clocks).

    Examples
    --------
    >>> str(sla_deadline("2025-06-13T17:00:00-07:00", SLA(2, "business_days")))  # Friday -> Tuesday
    '2025-06-17 17:00:00-07:00'
    """
    start = _instant(opened, sla, "opened")
    if sla.clock == "calendar_hours":
        return start + pd.Timedelta(hours=float(sla.amount))
    holidays = np.array([np.datetime64(d, "D") for d in sla.holidays], dtype="datetime64[D]")
    day = np.datetime64(start.date(), "D")
    clock = start.time()
    if not bool(np.is_busday(day, weekmask=sla.weekmask, holidays=holidays)):
        day = np.busday_offset(day, 0, roll="forward", weekmask=sla.weekmask, holidays=holidays)
        clock = time(0, 0)
    end_day = np.busday_offset(day, int(sla.amount), roll="forward", weekmask=sla.weekmask, holidays=holidays)
    wall = datetime.combine(pd.Timestamp(end_day).date(), clock)
    tz = start.tzinfo
    if isinstance(tz, ZoneInfo):
        resolved, _ = localize(wall, tz.key)
        return resolved
    return pd.Timestamp(wall).tz_localize(tz)


def elapsed_hours(opened: TimestampLike, closed: TimestampLike, zone: str | None = None) -> float:
    """Calendar hours between two instants (naive times read in ``zone``, default UTC).

    Examples
    --------
    >>> elapsed_hours("2025-06-13T17:00:00-07:00", "2025-06-17T09:00:00-07:00")  # Fri 17:00 -> Tue 09:00
    88.0
    """
    clock = SLA(0, "calendar_hours", zone)
    return (_instant(closed, clock, "closed") - _instant(opened, clock, "opened")) / pd.Timedelta(hours=1)


def sla_met(opened: TimestampLike, closed: TimestampLike | None, sla: SLA, *,
            as_of: TimestampLike | None = None) -> bool | None:
    """Whether something opened at ``opened`` and closed at ``closed`` met ``sla``.

    Met means ``closed <= sla_deadline(opened, sla)`` (closing exactly at the deadline meets it).

    Parameters
    ----------
    opened, closed
        Instants (text with or without offset, datetimes). ``closed=None``: still open.
    sla
        The clock and amount (:class:`SLA`).
    as_of
        For a still-open item: ``False`` once ``as_of`` is past the deadline, else ``None``.

    Returns
    -------
    bool or None
        ``None`` when still open and not yet late.

    Raises
    ------
    KitError
        ``closed`` before ``opened``.

    Examples
    --------
    >>> opened, closed = "2025-06-13T17:00:00-07:00", "2025-06-17T09:00:00-07:00"  # 88 hours
    >>> sla_met(opened, closed, SLA.parse("2 business days")), sla_met(opened, closed, SLA.parse("48 hours"))
    (True, False)
    """
    deadline = sla_deadline(opened, sla)
    if closed is None or (not isinstance(closed, str) and pd.isna(closed)):
        if as_of is None:
            return None
        return False if _instant(as_of, sla, "as_of") > deadline else None
    start, end = _instant(opened, sla, "opened"), _instant(closed, sla, "closed")
    if end < start:
        raise KitError(f"closed {end.isoformat()} is before opened {start.isoformat()}; check the two timestamps")
    return bool(end <= deadline)
