"""Pacing, period-end forecasts, weekly tracking and simulated attainment for pay forecasts.

Everything here answers "where will this CSM land by the end of the period, judged from today?".
The rules are written out in full in ``docs/forecasting.md``; the short version:

Elapsed share of a period
    Days are counted with **both ends inclusive**: as of 2025-03-15 in the quarter
    2025-02-01..2025-04-30, 43 of 89 days have elapsed (48.3 %). Working days are Monday–Friday
    (optionally minus listed holidays). See :func:`period_progress`.
Pacing (:func:`pace`, :func:`pace_kpi`, :func:`pace_board`)
    *linear* KPIs (calls, touchpoints, QBRs, SQLs, SQL pipeline) project ``actual / elapsed``;
    *coverage* is non-linear and uses the *saturating* curve ``1 − (1 − c)^(1/elapsed)`` (the share
    of accounts still untouched shrinks by the same factor every day); *rates* (conversion,
    compliance, …) are their own projection (*level*). Status: projection within ±5 % of the target
    (inclusive) is **on track**, above is **ahead**, below is **behind**.
Retention forecast (:func:`forecast_retention`)
    Renewals still to come before the period ends renew with a probability from the account's
    health score and open alerts (:class:`RenewalModel`; a book that records neither gives every
    renewal the same probability, :func:`retention_method_words` says which in words), open SQLs on
    surviving accounts convert at the CSM's trailing-12-month rate (:func:`historical_conversion`); the
    expected GRR / NRR are exact sums of probabilities; a seeded Monte Carlo gives the P10/P50/P90 band.
Weekly tracking (:func:`weekly_tracking`)
    ISO weeks (Monday–Sunday) of the period, with the weekly and cumulative leading indicators and
    each one's pacing status at the end of the week.
Attainment samples (:func:`attainment_samples`)
    Simulated period-end attainment (ratios) for each metric of a comp plan, for
    ``kpi_kit.comp.forecast_pay``.

All functions are pure: they read a :class:`~kpi_kit.data.Book` and return frozen dataclasses with a
``.table`` and ``_repr_html_``; randomness only comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.calendar import FiscalCalendar
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import CALL_TYPES, account_arr, as_of_date, csm_metrics, to_reporting_currency
from kpi_kit.periods import Period
from kpi_kit.scorecard import KPIS, targets_for

__all__ = [
    "DEFAULT_SEED", "TOLERANCE", "PACE_CURVES", "Progress", "Pace", "PaceBoard", "RenewalModel", "Conversion",
    "RetentionForecast", "WeeklyTracking", "AttainmentSamples", "resolve_period", "period_progress", "band",
    "pace", "pace_kpi", "pace_board", "historical_conversion", "open_alerts_at", "forecast_retention",
    "weekly_tracking", "attainment_samples", "retention_method_words",
]

#: Seed of every simulation unless the caller gives another one.
DEFAULT_SEED: int = 2026
#: Half-width of the "on track" band: projection within ±5 % of target (inclusive).
TOLERANCE: float = 0.05

Curve = Literal["linear", "saturating", "level"]

#: How each KPI is paced (see the module docstring and ``docs/forecasting.md``).
PACE_CURVES: dict[str, Curve] = {
    "calls": "linear",
    "touchpoints": "linear",
    "qbrs": "linear",
    "sqls": "linear",
    "sql_pipeline": "linear",
    "coverage_pct": "saturating",
    "renewals_90d_contacted_pct": "level",
    "sql_conversion_pct": "level",
    "lifecycle_compliance_pct": "level",
    "closed_alert_pct": "level",
}

_KPI_INFO: dict[str, tuple[str, str]] = {k: (label, unit) for k, label, _kind, unit, _hib in KPIS}
_STATUS_MARK = {"ahead": "⬆️", "on track": "✅", "behind": "❌", "not started": "–", "no data": "–", "no target": "–"}


def _num(value: Any, what: str) -> float | None:
    """A finite float, or None for missing; anything else is a clear error."""
    if fmt.is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise KitError(f"{what} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise KitError(f"{what} must be a finite number, got {value!r}")
    return x


# ------------------------------------------------------------------------------------------------
# periods and elapsed time
# ------------------------------------------------------------------------------------------------

def resolve_period(period: Period | str | tuple[str, str], as_of: str | pd.Timestamp | None = None,
                   calendar: FiscalCalendar | None = None) -> Period:
    """Turn ``period`` into a :class:`~kpi_kit.periods.Period`.

    Parameters
    ----------
    period
        A ``Period``; ``"YYYY-MM"`` (one month); ``"YYYY-MM..YYYY-MM"``; a ``(start, end)`` tuple; or one
        of ``"month"``, ``"quarter"``, ``"year"``: the month / quarter / year containing ``as_of``.
    as_of
        Needed for ``"month"``, ``"quarter"`` and ``"year"``.
    calendar
        Fiscal calendar for ``"quarter"`` and ``"year"`` (default: calendar quarters and years,
        ``FiscalCalendar(start_month=1)``).

    Examples
    --------
    >>> str(resolve_period("quarter", "2025-03-15", FiscalCalendar(2)))
    '2025-02..2025-04'
    >>> str(resolve_period("2026-07..2026-09")), str(resolve_period("month", "2026-07-23"))
    ('2026-07..2026-09', '2026-07..2026-07')
    """
    if isinstance(period, Period):
        return period
    if isinstance(period, tuple):
        if len(period) != 2:
            raise KitError(f"period {period!r}: give (start, end) as two YYYY-MM months")
        return Period.parse(period[0], period[1])
    text = str(period).strip()
    if text in ("month", "quarter", "year"):
        if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
            raise KitError(f"period {text!r} means the {text} containing as_of: give as_of as YYYY-MM-DD")
        try:
            day = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise KitError(f"as_of {as_of!r} is not a date; write it as YYYY-MM-DD") from None
        cal = calendar if calendar is not None else FiscalCalendar(1)
        if text == "month":
            return Period.parse(day.strftime("%Y-%m"))
        if text == "quarter":
            return Period.parse(*cal.quarter_months(day))
        return Period.parse(cal.year_start(day).strftime("%Y-%m"), cal.year_end(day).strftime("%Y-%m"))
    if ".." in text:
        start, end = text.split("..", 1)
        return Period.parse(start, end)
    return Period.parse(text)


@dataclass(frozen=True)
class Progress:
    """How much of a period has elapsed on a date (both ends of every range counted).

    Attributes
    ----------
    total_days, elapsed_days, days_left
        ``total = end − start + 1``; ``elapsed = as_of − start + 1`` clipped to ``0..total``;
        ``days_left = total − elapsed`` (the days after ``as_of``).
    working_days_total, working_days_elapsed, working_days_left
        The same counts over Monday–Friday (minus ``holidays``).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    as_of: pd.Timestamp
    total_days: int
    elapsed_days: int
    days_left: int
    working_days_total: int
    working_days_elapsed: int
    working_days_left: int

    @property
    def fraction(self) -> float:
        """Elapsed share ``elapsed_days / total_days`` (0 before the start, 1 on or after the last day)."""
        return self.elapsed_days / self.total_days


def _busdays(first: pd.Timestamp, last: pd.Timestamp, holidays: Sequence[Any]) -> int:
    """Monday–Friday days in ``[first, last]`` (0 when ``last < first``)."""
    if last < first:
        return 0
    hol = np.array([np.datetime64(pd.Timestamp(h).date(), "D") for h in holidays], dtype="datetime64[D]")
    return int(np.busday_count(np.datetime64(first.date(), "D"), np.datetime64((last + pd.Timedelta(days=1)).date(), "D"),
                               holidays=hol))


def period_progress(start: str | pd.Timestamp, end: str | pd.Timestamp, as_of: str | pd.Timestamp,
                    holidays: Sequence[Any] = ()) -> Progress:
    """Elapsed days and working days of the range ``start..end`` on ``as_of``.

    Parameters
    ----------
    start, end
        First and last day of the period (inclusive).
    as_of
        The day the figures speak from; it counts as elapsed.
    holidays
        Dates that are not working days (in addition to Saturdays and Sundays).

    Examples
    --------
    >>> p = period_progress("2025-02-01", "2025-04-30", "2025-03-15")
    >>> p.elapsed_days, p.total_days, round(p.fraction, 4), p.days_left, p.working_days_left
    (43, 89, 0.4831, 46, 33)
    """
    try:
        s, e, d = (pd.Timestamp(x).normalize() for x in (start, end, as_of))
    except (ValueError, TypeError):
        raise KitError(f"period_progress: start {start!r}, end {end!r} and as_of {as_of!r} must be dates (YYYY-MM-DD)") from None
    if e < s:
        raise KitError(f"period_progress: the period ends ({e.date()}) before it starts ({s.date()})")
    total = (e - s).days + 1
    elapsed = min(max((d - s).days + 1, 0), total)
    last_elapsed = min(d, e)
    return Progress(
        start=s, end=e, as_of=d, total_days=total, elapsed_days=elapsed, days_left=total - elapsed,
        working_days_total=_busdays(s, e, holidays),
        working_days_elapsed=_busdays(s, last_elapsed, holidays),
        working_days_left=_busdays(max(d + pd.Timedelta(days=1), s), e, holidays),
    )


# ------------------------------------------------------------------------------------------------
# pacing
# ------------------------------------------------------------------------------------------------

def band(ratio: float, tolerance: float = TOLERANCE) -> str:
    """Status of a ``projection / target`` ratio: ``ahead`` above ``1 + tolerance``, ``on track`` within
    ``[1 − tolerance, 1 + tolerance]`` (both ends inclusive), ``behind`` below.

    Ratios are rounded to 9 decimals first so that 19/20 counts as exactly 0.95.

    >>> band(0.95), band(0.9499), band(1.05), band(1.0501)
    ('on track', 'behind', 'on track', 'ahead')
    """
    r = round(ratio, 9)
    if r > round(1 + tolerance, 9):
        return "ahead"
    if r >= round(1 - tolerance, 9):
        return "on track"
    return "behind"


def _band_array(ratio: np.ndarray, tolerance: float) -> np.ndarray:
    """Vectorized :func:`band`; NaN ratios give ``""``."""
    r = np.round(ratio.astype("float64"), 9)
    return np.select([np.isnan(r), r > round(1 + tolerance, 9), r >= round(1 - tolerance, 9)],
                     ["", "ahead", "on track"], default="behind")


def _curve_projection(actual: float, f: float, curve: Curve) -> float:
    if curve == "linear":
        return actual / f
    if curve == "saturating":
        return 100.0 * (1.0 - (1.0 - actual / 100.0) ** (1.0 / f))
    return actual


def _curve_expected(target: float, f: float, curve: Curve) -> float:
    if curve == "linear":
        return target * f
    if curve == "saturating":
        return 100.0 * (1.0 - (1.0 - target / 100.0) ** f)
    return target


@dataclass(frozen=True)
class Pace:
    """Pacing of one KPI: where it stands, where it is heading, what it takes to reach the target.

    Attributes
    ----------
    actual, target
        To-date actual and the full-period target (KPI units).
    elapsed_fraction
        Share of the period elapsed (0..1).
    curve
        ``linear``, ``saturating`` or ``level`` (see :func:`pace`).
    projection
        Period-end value at the current pace (None before the period starts or without data).
    expected_to_date
        Where the pace line says the KPI should be today to end exactly on target.
    ratio
        ``projection / target`` — the number the status is read from.
    status
        ``ahead``, ``on track``, ``behind``, ``not started`` (nothing elapsed), ``no data``, ``no target``.
    remaining
        ``max(target − actual, 0)`` (KPI units; None for level KPIs, which are not accumulated).
    days_left, working_days_left
        Days after ``as_of`` up to the period end (None when not known).
    per_week, per_working_day
        Required run-rate for the rest of the period: ``remaining × 7 / days_left`` and
        ``remaining / working_days_left`` (0 when nothing remains, None when no day is left).
    currency
        ISO code of a money KPI's amounts (``book.reporting_currency``), used only to display them.
    """

    actual: float | None
    target: float | None
    elapsed_fraction: float
    curve: Curve
    tolerance: float
    projection: float | None
    expected_to_date: float | None
    ratio: float | None
    status: str
    remaining: float | None
    days_left: int | None
    working_days_left: int | None
    per_week: float | None
    per_working_day: float | None
    kpi: str = ""
    label: str = ""
    unit: str = "count"
    period: str = ""
    as_of: str = ""
    note: str = ""
    currency: str = "USD"

    @property
    def final(self) -> bool:
        """True once the whole period has elapsed: the projection is the actual."""
        return self.elapsed_fraction >= 1.0

    def _fmt(self, value: Any) -> str:
        if self.unit == "money":
            return fmt.money(value, self.currency)
        return {"pct": fmt.pct}.get(self.unit, fmt.count)(value)

    def _rate(self, value: Any) -> str:
        if fmt.is_missing(value):
            return fmt.NO_DATA
        return fmt.pct(value) if self.unit == "pct" else (
            fmt.money(value, self.currency) if self.unit == "money" else f"{value:,.1f}")

    def sentence(self) -> str:
        """The pacing in one sentence, e.g. ``"Calls: 5 after 25.0 % of the period -> projected 20 vs 20 target: on track"``."""
        name = self.label or self.kpi or "KPI"
        if self.status == "no data":
            return f"{name}: no data in this book"
        if self.status == "no target":
            return f"{name}: {self._fmt(self.actual)} so far, no target set"
        head = f"{name}: {self._fmt(self.actual)} after {fmt.pct(100 * self.elapsed_fraction)} of the period"
        if self.status == "not started":
            return head + f" — the period has not started; {self._fmt(self.target)} to do"
        verb = "final" if self.final else "projected"
        out = f"{head} → {verb} {self._fmt(self.projection)} vs {self._fmt(self.target)} target: {self.status}"
        if self.remaining and self.per_week is not None:
            out += f" (still {self._fmt(self.remaining)} to go: {self._rate(self.per_week)} a week"
            if self.per_working_day is not None:
                out += f", {self._rate(self.per_working_day)} per working day"
            out += ")"
        if self.note:
            out += f"; {self.note}"
        return out

    @property
    def table(self) -> pd.DataFrame:
        """One row with every field (numbers unformatted)."""
        row = {k: getattr(self, k) for k in (
            "kpi", "label", "curve", "actual", "target", "elapsed_fraction", "expected_to_date", "projection",
            "ratio", "status", "remaining", "days_left", "working_days_left", "per_week", "per_working_day",
            "period", "as_of", "note")}
        out = pd.DataFrame([row])
        for col in ("actual", "target", "elapsed_fraction", "expected_to_date", "projection", "ratio", "remaining",
                    "per_week", "per_working_day"):
            out[col] = out[col].astype("float64")
        for col in ("days_left", "working_days_left"):
            out[col] = out[col].astype("Int64")
        return out

    def _repr_html_(self) -> str:
        return f"<p>{_STATUS_MARK.get(self.status, '')} {fmt.text(self.sentence())}</p>"


def pace(actual: float | None, target: float | None, elapsed_fraction: float, *, curve: Curve = "linear",
         tolerance: float = TOLERANCE, days_left: int | None = None, working_days_left: int | None = None,
         kpi: str = "", label: str = "", unit: str = "count", period: str = "", as_of: str = "",
         note: str = "", currency: str = "USD") -> Pace:
    """Pace a KPI: project the to-date ``actual`` to the period end and compare it with ``target``.

    Definitions (``f`` = ``elapsed_fraction``, ``a`` = actual, ``T`` = target):

    * ``linear`` (counts and money that accumulate evenly): projection ``a / f``; pace line ``T × f``.
    * ``saturating`` (coverage %, which cannot pass 100 % and slows down as accounts get touched):
      assuming every still-untouched account has the same daily chance of being touched, the untouched
      share shrinks geometrically, so projection ``100 × (1 − (1 − a/100)^(1/f))`` and pace line
      ``100 × (1 − (1 − T/100)^f)``. Example: 40 % covered at f = 1/4 projects to
      ``100 × (1 − 0.6⁴) = 87.04 %``, within 5 % of a 90 % target.
    * ``level`` (rates such as conversion %): the to-date value is the projection; pace line ``T``.

    Status = :func:`band` of ``projection / T``: within ±``tolerance`` (inclusive) ``on track``.
    ``f = 0`` (period not started) gives no projection and status ``not started``; ``f = 1`` (period
    over) makes the projection the actual. ``actual`` None → ``no data``; target None or 0 → ``no target``.

    Run-rate: ``remaining = max(T − a, 0)``; ``per_week = remaining × 7 / days_left``;
    ``per_working_day = remaining / working_days_left`` (0 when nothing remains; None without days left).

    Parameters
    ----------
    actual, target
        To-date value and full-period target, in the KPI's unit (percent for ``saturating``).
    elapsed_fraction
        Share of the period elapsed, 0..1 (see :func:`period_progress`).
    curve, tolerance
        Pacing rule and the half-width of the on-track band (0.05 = ±5 %).
    days_left, working_days_left
        Days after ``as_of`` to the period end; needed for the run-rates.
    kpi, label, unit, period, as_of, note
        Descriptive fields copied into the result (``unit``: ``count``, ``pct`` or ``money``).
    currency
        ISO code money KPIs are displayed in (``book.reporting_currency``); no effect on the numbers.

    Returns
    -------
    Pace

    Examples
    --------
    The seed's "5 calls this week → on track for 20 a month" (week 1 of a 4-week month):

    >>> p = pace(5, 20, 7 / 28, days_left=21, working_days_left=15)
    >>> p.projection, p.status, p.per_week, p.per_working_day
    (20.0, 'on track', 5.0, 1.0)
    """
    f = _num(elapsed_fraction, "elapsed_fraction")
    if f is None or not 0.0 <= f <= 1.0:
        raise KitError(f"elapsed_fraction must be between 0 and 1, got {elapsed_fraction!r}")
    tol = _num(tolerance, "tolerance")
    if tol is None or not 0.0 <= tol < 1.0:
        raise KitError(f"tolerance must be between 0 and 1 (0.05 = ±5 %), got {tolerance!r}")
    if curve not in ("linear", "saturating", "level"):
        raise KitError(f"curve must be 'linear', 'saturating' or 'level', got {curve!r}")
    a = _num(actual, "actual")
    t = _num(target, "target")
    for v, what in ((a, "actual"), (t, "target")):
        if v is not None and v < 0:
            raise KitError(f"{what} must be >= 0, got {v!r}")
    if curve == "saturating":
        for v, what in ((a, "actual"), (t, "target")):
            if v is not None and v > 100:
                raise KitError(f"{what} {v!r}: a saturating (coverage) KPI is a percentage from 0 to 100")
    for v, what in ((days_left, "days_left"), (working_days_left, "working_days_left")):
        if v is not None and (isinstance(v, bool) or int(v) != v or v < 0):
            raise KitError(f"{what} must be a whole number >= 0, got {v!r}")

    common = dict(actual=a, target=t, elapsed_fraction=f, curve=curve, tolerance=tol, days_left=days_left,
                  working_days_left=working_days_left, kpi=kpi, label=label, unit=unit, period=period,
                  as_of=as_of, note=note, currency=currency)
    remaining = None
    if a is not None and t is not None and curve != "level":
        remaining = max(t - a, 0.0)
    per_week = per_day = None
    if remaining is not None:
        if remaining == 0:
            per_week = per_day = 0.0
        else:
            per_week = remaining * 7.0 / days_left if days_left else None
            per_day = remaining / working_days_left if working_days_left else None
    rates = dict(remaining=remaining, per_week=per_week, per_working_day=per_day)
    if a is None:
        return Pace(projection=None, expected_to_date=None, ratio=None, status="no data", **rates, **common)
    expected = _curve_expected(t, f, curve) if t is not None else None
    if f == 0.0:
        return Pace(projection=None, expected_to_date=expected, ratio=None, status="not started", **rates, **common)
    projection = _curve_projection(a, f, curve)
    if t is None or t == 0:
        return Pace(projection=projection, expected_to_date=expected, ratio=None, status="no target", **rates, **common)
    ratio = projection / t
    return Pace(projection=projection, expected_to_date=expected, ratio=ratio, status=band(ratio, tol), **rates, **common)


def _pace_from(m: dict[str, Any], targets: dict[str, Any], prog: Progress, kpi: str, period: Period,
               tolerance: float, currency: str = "USD") -> Pace:
    if kpi in ("grr_pct", "nrr_pct"):
        raise KitError(f"{kpi} is not paced (ARR moves at renewals, not evenly): use forecast_retention() for a "
                       "period-end GRR/NRR forecast")
    if kpi not in PACE_CURVES:
        raise KitError(f"cannot pace {kpi!r}; pace-able KPIs: {', '.join(PACE_CURVES)}")
    label, unit = _KPI_INFO.get(kpi, (kpi, "count"))
    note = ""
    actual, target = m.get(kpi), targets.get(kpi)
    if kpi == "coverage_pct" and m.get("book_accounts") and not fmt.is_missing(actual) and not fmt.is_missing(target):
        need = max(math.ceil(round(target / 100 * m["book_accounts"] - m["covered_accounts"], 9)), 0)
        note = f"{need} more of {m['book_accounts']} accounts to engage"
        if need and prog.days_left:
            note += f" ({need * 7 / prog.days_left:.1f} a week)"
    return pace(actual, target, prog.fraction, curve=PACE_CURVES[kpi], tolerance=tolerance,
                days_left=prog.days_left, working_days_left=prog.working_days_left, kpi=kpi, label=label,
                unit=unit, period=str(period), as_of=str(prog.as_of.date()), note=note, currency=currency)


def pace_kpi(book: Book, csm_id: str, kpi: str, period: Period | str | tuple[str, str],
             as_of: str | pd.Timestamp, *, calendar: FiscalCalendar | None = None,
             tolerance: float = TOLERANCE, holidays: Sequence[Any] = ()) -> Pace:
    """Pace one KPI of one CSM: to-date actual from ``kpi_kit.metrics`` (``as_of``), target from
    :func:`kpi_kit.scorecard.targets_for`, elapsed share from :func:`period_progress`, rule from
    :data:`PACE_CURVES`.

    Parameters
    ----------
    book, csm_id
        The book and the CSM.
    kpi
        A key of :data:`PACE_CURVES` (``calls``, ``coverage_pct``, ``sqls`` …). GRR/NRR are forecast with
        :func:`forecast_retention` instead.
    period
        See :func:`resolve_period` (``"quarter"`` = the quarter containing ``as_of`` in ``calendar``).
    as_of
        The day the figures speak from (it counts as elapsed).
    calendar
        Fiscal calendar for ``"quarter"`` / ``"year"`` periods (default: ``book.calendar``, from book.yaml).
    tolerance, holidays
        On-track band (±5 %) and non-working days besides weekends.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> p = pace_kpi(load_book(), "csm_01", "calls", "quarter", "2026-08-15")
    >>> p.period, p.elapsed_fraction, p.days_left  # 46 of 92 days: 31 in July + 15 in August
    ('2026-07..2026-09', 0.5, 46)
    """
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of, calendar if calendar is not None else book.calendar)
    day = as_of_date(per, as_of)
    prog = period_progress(per.start_date, per.end_date, day, holidays)
    m = csm_metrics(book, csm_id, per, as_of=day)
    return _pace_from(m, targets_for(book, csm_id, per), prog, kpi, per, tolerance, book.reporting_currency)


@dataclass(frozen=True)
class PaceBoard:
    """Pacing of every pace-able KPI of one CSM (one row per KPI in ``.table``)."""

    csm_id: str
    csm_name: str
    period: Period
    progress: Progress
    paces: tuple[Pace, ...]
    table: pd.DataFrame = field(repr=False)

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{_STATUS_MARK.get(p.status, '')} {fmt.text(p.sentence())}</li>" for p in self.paces)
        return (f"<p><strong>Pacing — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), {self.period}, as of "
                f"{self.progress.as_of.date()}</strong>: day {self.progress.elapsed_days} of {self.progress.total_days} "
                f"({fmt.pct(100 * self.progress.fraction)}), {self.progress.working_days_left} working days left</p>"
                f"<ul>{rows}</ul>")


def pace_board(book: Book, csm_id: str, period: Period | str | tuple[str, str], as_of: str | pd.Timestamp, *,
               kpis: Sequence[str] | None = None, calendar: FiscalCalendar | None = None,
               tolerance: float = TOLERANCE, holidays: Sequence[Any] = ()) -> PaceBoard:
    """:func:`pace_kpi` for several KPIs at once (default: all of :data:`PACE_CURVES`), metrics computed once.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> board = pace_board(load_book(), "csm_01", "quarter", "2026-08-15")
    >>> list(board.table["kpi"])[:3]
    ['calls', 'touchpoints', 'qbrs']
    """
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of, calendar if calendar is not None else book.calendar)
    day = as_of_date(per, as_of)
    prog = period_progress(per.start_date, per.end_date, day, holidays)
    m = csm_metrics(book, csm_id, per, as_of=day)
    targets = targets_for(book, csm_id, per)
    paces = tuple(_pace_from(m, targets, prog, k, per, tolerance, book.reporting_currency)
                  for k in (kpis or list(PACE_CURVES)))
    table = pd.concat([p.table for p in paces], ignore_index=True)
    return PaceBoard(csm_id=csm_id, csm_name=book.csm_name(csm_id), period=per, progress=prog, paces=paces, table=table)


# ------------------------------------------------------------------------------------------------
# retention forecast
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RenewalModel:
    """Probability that a renewal due before the period end renews (keeps its current ARR).

    ``bands`` are ``(lowest health score, probability)`` pairs in decreasing order of health; the
    first band whose threshold the score reaches applies. The default is the kit's documented
    assumption: health >= 70 → 0.95, 50 to < 70 → 0.85, < 50 → 0.60; no health score → 0.85; an open
    risk alert on the account multiplies the probability by 0.7.

    Examples
    --------
    >>> m = RenewalModel()
    >>> [round(p, 4) for p in m.probabilities(pd.Series([85.0, 70.0, 69.9, 20.0, None]),
    ...                                         pd.Series([False, True, False, False, True]))]
    [0.95, 0.665, 0.85, 0.6, 0.595]
    """

    bands: tuple[tuple[float, float], ...] = ((70.0, 0.95), (50.0, 0.85), (0.0, 0.60))
    unknown_health: float = 0.85
    open_alert_factor: float = 0.7

    def __post_init__(self) -> None:
        if not self.bands:
            raise KitError("RenewalModel.bands is empty: give (lowest health score, probability) pairs, e.g. ((70, 0.95), (0, 0.6))")
        thresholds = [float(b[0]) for b in self.bands]
        if any(b >= a for a, b in zip(thresholds, thresholds[1:], strict=False)) or thresholds[-1] != 0:
            raise KitError(f"RenewalModel.bands thresholds {thresholds} must decrease strictly and end at 0 "
                           "(so every health score 0-100 falls in a band)")
        for value, what in [(b[1], f"probability for health >= {b[0]}") for b in self.bands] + [
                (self.unknown_health, "unknown_health"), (self.open_alert_factor, "open_alert_factor")]:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise KitError(f"RenewalModel {what} = {value!r} must be a number from 0 to 1")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> "RenewalModel":
        """Build from a plain mapping (e.g. read from YAML): ``{"bands": [[70, 0.95], [50, 0.85], [0, 0.6]],
        "unknown_health": 0.85, "open_alert_factor": 0.7}``; missing keys keep their defaults."""
        unknown = set(config) - {"bands", "unknown_health", "open_alert_factor"}
        if unknown:
            raise KitError(f"renewal model: unknown key(s) {sorted(unknown)}; allowed: bands, unknown_health, open_alert_factor")
        kwargs: dict[str, Any] = dict(config)
        if "bands" in kwargs:
            try:
                kwargs["bands"] = tuple((float(h), float(p)) for h, p in kwargs["bands"])
            except (TypeError, ValueError):
                raise KitError(f"renewal model bands {config['bands']!r}: expected a list of [health, probability] pairs") from None
        return cls(**kwargs)

    def probabilities(self, health: pd.Series, open_alert: pd.Series) -> pd.Series:
        """Renewal probability per row of ``health`` (NaN = unknown) and ``open_alert`` (bool)."""
        h = pd.to_numeric(health, errors="coerce").astype("float64").to_numpy()
        known = ~np.isnan(h)
        p = np.full(len(h), float(self.unknown_health))
        assigned = ~known
        for threshold, prob in self.bands:
            hit = known & ~assigned & (h >= threshold)
            p[hit] = prob
            assigned |= hit
        alert = open_alert.astype(bool).to_numpy()
        p = np.where(alert, p * self.open_alert_factor, p)
        return pd.Series(p, index=health.index, dtype="float64")

    def describe(self) -> str:
        parts = []
        for i, (h, p) in enumerate(self.bands):
            upper = f" to < {self.bands[i - 1][0]:g}" if i else " or more"
            parts.append(f"health {h:g}{upper}: {p:g}")
        return "; ".join(parts) + f"; no health score: {self.unknown_health:g}; open alert: × {self.open_alert_factor:g}"


@dataclass(frozen=True)
class Conversion:
    """Historical SQL conversion used to value open SQLs.

    ``rate`` = won / (won + lost) over SQLs whose ``closed_date`` lies in the 12 months up to and
    including ``as_of``; ``source`` says whose: ``csm``, ``team`` (the CSM closed none),
    ``target`` (nobody closed any: the ``sql_conversion_pct`` target is assumed) or ``not recorded``
    (the book has no SQL data: ``rate`` is None).
    """

    rate: float | None
    source: str
    won: int
    lost: int
    since: pd.Timestamp
    until: pd.Timestamp


def historical_conversion(book: Book, csm_id: str, as_of: str | pd.Timestamp, *, months: int = 12,
                          fallback_pct: float | None = None) -> Conversion:
    """The CSM's SQL conversion over the trailing ``months`` months (team rate when the CSM has none).

    Window: ``as_of − months`` (exclusive) to ``as_of`` (inclusive), by ``closed_date``.

    Parameters
    ----------
    fallback_pct
        Rate (percent) assumed when nobody closed an SQL in the window; default: the CSM's
        ``sql_conversion_pct`` target.
    """
    csm_id = book.check_csm(csm_id)
    day = pd.Timestamp(as_of).normalize()
    since = day - pd.DateOffset(months=months)
    if not book.recorded("sqls"):
        return Conversion(None, "not recorded", 0, 0, since, day)
    sqls = book.sqls
    closed = sqls.loc[(sqls["closed_date"] > since) & (sqls["closed_date"] <= day) & sqls["status"].isin(["won", "lost"])]
    mine = closed.loc[closed["csm_id"] == csm_id]
    for frame, source in ((mine, "csm"), (closed, "team")):
        won = int((frame["status"] == "won").sum())
        lost = int((frame["status"] == "lost").sum())
        if won + lost:
            return Conversion(won / (won + lost), source, won, lost, since, day)
    if fallback_pct is None:
        fallback_pct = float(book.targets["defaults"]["sql_conversion_pct"])
        fallback_pct = float(book.targets.get("csms", {}).get(csm_id, {}).get("sql_conversion_pct", fallback_pct))
    return Conversion(fallback_pct / 100.0, "target", 0, 0, since, day)


def open_alerts_at(book: Book, day: pd.Timestamp) -> pd.Series:
    """Account ids with a risk alert open on ``day``: flagged on or before it and either still ``open``
    or resolved after it (``resolved_date`` > day). An alert closed (saved/churned) without a
    ``resolved_date`` counts as closed."""
    alerts = book.risk_alerts
    if not book.recorded("risk_alerts") or not len(alerts):
        return pd.Series([], dtype="str")
    resolved = alerts["resolved_date"] if "resolved_date" in alerts.columns else pd.Series(pd.NaT, index=alerts.index)
    is_open = (alerts["flagged_date"] <= day) & ((alerts["outcome"] == "open") | (resolved > day))
    return alerts.loc[is_open, "account_id"].drop_duplicates().reset_index(drop=True)


def _band_words(model: RenewalModel, i: int) -> str:
    low = model.bands[i][0]
    if i == 0:
        return f"{low:g} or more"
    high = model.bands[i - 1][0]
    return f"under {high:g}" if low == 0 else f"{low:g} to under {high:g}"


def retention_method_words(book: Book, model: RenewalModel | None = None) -> str:
    """How :func:`forecast_retention` values renewals and open SQLs *in this book*, in words for a report.

    The renewal probability uses only what the book records: account health (``health_score``,
    :func:`kpi_kit.strategic.health_recorded`) and open risk alerts. Without health scores every renewal
    starts from ``model.unknown_health``; without risk alerts nothing lowers it; with neither, every
    renewal due gets that one probability — said so, never "weighted by health and alerts". Without
    recorded SQLs no expansion is forecast.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> retention_method_words(load_book())[:91]
    'renewals still due renew with a probability from the account health score (70 or more: 95 %'
    """
    from kpi_kit.strategic import health_recorded

    model = model if model is not None else RenewalModel()
    health, alerts = health_recorded(book), book.recorded("risk_alerts")
    base = fmt.pct(100 * model.unknown_health, 0)
    bands = ", ".join(f"{_band_words(model, i)}: {fmt.pct(100 * p, 0)}" for i, (_h, p) in enumerate(model.bands))
    alert = f"× {model.open_alert_factor:g} while a risk alert is open on the account"
    if health and alerts:
        renewals = (f"renewals still due renew with a probability from the account health score ({bands}; "
                    f"{base} without a score), {alert}")
    elif health:
        renewals = (f"renewals still due renew with a probability from the account health score ({bands}; "
                    f"{base} without a score); this book does not record risk alerts, so open alerts do not lower it")
    elif alerts:
        renewals = (f"renewals still due renew with a probability of {base}, {alert}; this book records no account "
                    "health scores, so health does not change it")
    else:
        renewals = (f"every renewal still due renews with the same {base} probability (the kit's assumption for an "
                    "account without a health score): this book records neither account health scores nor risk "
                    "alerts, so the forecast uses neither")
    if book.recorded("sqls"):
        sqls = ("open SQLs convert at the CSM's conversion rate over the last 12 months (the team's, or the target, "
                "when the CSM closed none)")
    else:
        sqls = "this book does not record SQLs, so no expansion from open SQLs is forecast"
    return f"{renewals}; {sqls}"


def _known_month(period: Period, day: pd.Timestamp) -> pd.Period:
    """The last month whose month-end ARR is known on ``day`` (capped at the period's end)."""
    month = pd.Period(day, freq="M")
    if day != month.end_time.normalize():
        month -= 1
    month = min(month, period.end)
    if month < period.before:
        raise KitError(f"as_of {day.date()} is before the period's beginning ARR ({period.before} month-end) is known: "
                       f"forecast from {period.before.end_time.date()} or later")
    return month


@dataclass(frozen=True)
class _Setup:
    """Everything the retention simulation needs (per cohort account and per open SQL)."""

    accounts: pd.DataFrame   # cohort accounts: begin, current, renews, p_renew …
    sqls: pd.DataFrame       # open SQLs on cohort accounts with their account's row position
    conversion: Conversion
    known_month: pd.Period
    day: pd.Timestamp


def _setup(book: Book, csm_id: str, period: Period, day: pd.Timestamp, model: RenewalModel) -> _Setup:
    known = _known_month(period, day)
    known_end = known.end_time.normalize()
    acc = account_arr(book, period, csm_id)
    cohort = acc.loc[acc["in_cohort"], ["account_id", "account_name", "segment", "begin"]].reset_index(drop=True)
    arr = book.arr_monthly
    current = arr.loc[arr["month"] == known].set_index("account_id")["arr"]
    current_local = cohort["account_id"].map(current).fillna(0.0).astype("float64")
    # constant currency: the same start-of-period rates as ``begin`` (kpi_kit.metrics.account_arr), so a
    # rate move between the period's first day and as_of is never read as churn, contraction or growth
    cohort["current"] = to_reporting_currency(book, cohort["account_id"], current_local, period.start_date)
    info = book.accounts.set_index("account_id")
    cohort["renewal_date"] = cohort["account_id"].map(info["renewal_date"])
    health = info["health_score"] if "health_score" in info.columns else pd.Series(np.nan, index=info.index)
    cohort["health_score"] = cohort["account_id"].map(health).astype("float64")
    cohort["open_alert"] = cohort["account_id"].isin(open_alerts_at(book, day))
    cohort["renews"] = (cohort["current"] > 0) & cohort["renewal_date"].notna() & \
        (cohort["renewal_date"] > known_end) & (cohort["renewal_date"] <= period.end_date)
    p = model.probabilities(cohort["health_score"], cohort["open_alert"])
    cohort["p_renew"] = np.where(cohort["renews"], p, np.where(cohort["current"] > 0, 1.0, 0.0)).astype("float64")
    cohort["retained_now"] = np.minimum(cohort["current"], cohort["begin"])

    conv = historical_conversion(book, csm_id, day)
    if book.recorded("sqls"):
        s = book.sqls
        open_now = (s["created_date"] <= day) & ((s["status"] == "open") | (s["closed_date"] > day))
        sq = s.loc[open_now & s["account_id"].isin(cohort["account_id"]),
                   ["sql_id", "account_id", "csm_id", "created_date", "expansion_arr"]].reset_index(drop=True)
        sq["expansion_arr"] = to_reporting_currency(book, sq["account_id"], sq["expansion_arr"], period.start_date)
    else:
        sq = pd.DataFrame({"sql_id": pd.Series(dtype="str"), "account_id": pd.Series(dtype="str"),
                           "csm_id": pd.Series(dtype="str"), "created_date": pd.Series(dtype="datetime64[us]"),
                           "expansion_arr": pd.Series(dtype="float64")})
    pos = pd.Series(np.arange(len(cohort)), index=cohort["account_id"])
    sq["account_pos"] = sq["account_id"].map(pos).astype("int64")
    q = conv.rate if conv.rate is not None else 0.0
    sq["p_convert"] = q
    sq["p_account"] = cohort["p_renew"].to_numpy()[sq["account_pos"].to_numpy()] if len(sq) else np.array([], dtype="float64")
    sq["expected_expansion"] = sq["expansion_arr"].astype("float64") * sq["p_account"] * q
    exp_by_acc = sq.groupby("account_id")["expected_expansion"].sum()
    open_by_acc = sq.groupby("account_id")["expansion_arr"].sum()
    cohort["open_sql_arr"] = cohort["account_id"].map(open_by_acc).fillna(0.0).astype("float64")
    cohort["expected_retained"] = cohort["p_renew"] * cohort["retained_now"]
    cohort["expected_expansion"] = cohort["account_id"].map(exp_by_acc).fillna(0.0).astype("float64")
    cohort["expected_end"] = cohort["p_renew"] * cohort["current"] + cohort["expected_expansion"]
    return _Setup(accounts=cohort, sqls=sq, conversion=conv, known_month=known, day=day)


def _simulate(setup: _Setup, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Simulated (retained ARR, ending ARR) per draw. Draw order: one uniform per (draw, cohort account),
    then one per (draw, open SQL)."""
    acc, sq = setup.accounts, setup.sqls
    p = acc["p_renew"].to_numpy()
    alive = rng.random((n, len(acc))) < p                       # p = 1 always alive, p = 0 never
    retained = alive @ acc["retained_now"].to_numpy()
    ending = alive @ acc["current"].to_numpy()
    if len(sq):
        won = rng.random((n, len(sq))) < float(sq["p_convert"].iloc[0])
        won &= alive[:, sq["account_pos"].to_numpy()]          # a churned account does not expand
        ending = ending + won @ sq["expansion_arr"].to_numpy(dtype="float64")
    return retained, ending


def _check_n_seed(n: int, seed: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise KitError(f"n (number of simulations) must be a whole number >= 1, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise KitError(f"seed must be a whole number >= 0, got {seed!r}")


@dataclass(frozen=True)
class RetentionForecast:
    """Period-end GRR / NRR forecast of one CSM (see :func:`forecast_retention`).

    ``.table``: one row per KPI (``grr_pct``, ``nrr_pct``) with ``expected, p10, p50, p90, target,
    target_annual, gap_arr``. ``target`` is the period's share of the annual rate ``target_annual``
    (``targets.yaml`` holds annual GRR / NRR targets; :func:`kpi_kit.targets.period_rate`), the one the
    period's GRR / NRR are compared with; ``gap_arr`` is the ARR short of it at the expected value
    (negative = ahead of it),
    ``chance_on_target`` (share of simulations at or above target) and ``status`` (:func:`band` of
    expected / target). ``.accounts`` holds the per-account inputs and expectations, ``.sqls`` the
    open SQLs, ``.samples`` every simulated GRR/NRR. Every amount (``beginning_arr``, ``gap_arr``,
    ``accounts.begin/current``, ``sqls.expansion_arr`` …) is in ``currency`` (``book.reporting_currency``),
    at constant currency in a multi-currency book (see :func:`forecast_retention`).
    """

    csm_id: str
    csm_name: str
    period: Period
    as_of: str
    known_month: str
    beginning_arr: float
    expected_retained_arr: float
    expected_ending_arr: float
    expected_expansion_arr: float
    expected_grr_pct: float | None
    expected_nrr_pct: float | None
    grr_band: tuple[float, float, float] | None
    nrr_band: tuple[float, float, float] | None
    grr_target: float | None
    nrr_target: float | None
    conversion: Conversion
    model: RenewalModel
    n: int
    seed: int
    table: pd.DataFrame = field(repr=False)
    accounts: pd.DataFrame = field(repr=False)
    sqls: pd.DataFrame = field(repr=False)
    samples: pd.DataFrame = field(repr=False)
    grr_target_annual: float | None = None
    nrr_target_annual: float | None = None
    currency: str = "USD"

    def sentence(self) -> str:
        from kpi_kit.cascade import retention_target_text

        if self.expected_grr_pct is None:
            return f"{self.csm_name}: no beginning ARR in {self.period}, so GRR/NRR cannot be forecast"
        rows = []
        for r in self.table.itertuples(index=False):
            gap = "" if fmt.is_missing(r.gap_arr) else (
                f", {fmt.money(r.gap_arr, self.currency)} of ARR short" if r.gap_arr > 0
                else f", {fmt.money(-r.gap_arr, self.currency)} of ARR ahead")
            target = retention_target_text(r.target, r.target_annual, self.period.months)
            rows.append(f"{r.kpi.replace('_pct', '').upper()} expected {fmt.pct(r.expected)} (P10–P90 "
                        f"{fmt.pct(r.p10)}–{fmt.pct(r.p90)}) vs target {target}{gap}: {r.status}")
        return "; ".join(rows)

    def _repr_html_(self) -> str:
        show = self.table.copy()
        for col in ("expected", "p10", "p50", "p90", "target", "target_annual"):
            show[col] = show[col].map(fmt.pct)
        show["gap_arr"] = show["gap_arr"].map(lambda v: fmt.money(v, self.currency))
        show["chance_on_target"] = show["chance_on_target"].map(lambda v: fmt.pct(100 * v, 0) if not fmt.is_missing(v) else fmt.NO_DATA)
        conv = ("no SQL data" if self.conversion.rate is None
                else f"{fmt.pct(100 * self.conversion.rate)} ({self.conversion.source})")
        return (f"<p><strong>Retention forecast — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), {self.period}, "
                f"as of {self.as_of}</strong> (ARR known to {self.known_month} month-end; beginning ARR "
                f"{fmt.money(self.beginning_arr, self.currency)}; {int(self.accounts['renews'].sum())} renewal(s) still due; "
                f"{len(self.sqls)} open SQL(s) at {fmt.text(conv)} conversion; {self.n:,} simulations, seed {self.seed})</p>"
                + show.to_html(index=False, escape=True))


def forecast_retention(book: Book, csm_id: str, period: Period | str | tuple[str, str],
                       as_of: str | pd.Timestamp | None = None, *, model: RenewalModel | None = None,
                       n: int = 10_000, seed: int = DEFAULT_SEED, calendar: FiscalCalendar | None = None,
                       tolerance: float = TOLERANCE) -> RetentionForecast:
    """Forecast the CSM's period-end GRR and NRR from the book as it stands on ``as_of``.

    Model (every step in ``docs/forecasting.md``):

    1. **Beginning cohort** as in ``data/README.md`` (ARR > 0 in the month before the period).
    2. **Current ARR** = the month-end ARR of the last month that has ended on ``as_of`` (the
       *known month*, at most the period's last month). Accounts at 0 have churned already.
    3. **Renewals still to come**: cohort accounts with current ARR > 0 whose ``renewal_date`` lies after
       the known month-end and on or before the period end. Each renews (keeps its current ARR) with
       probability ``p`` from :class:`RenewalModel` (health score band × 0.7 if a risk alert is open
       on ``as_of``), or churns to 0. Other accounts keep their current ARR (``p = 1``).
    4. **Expansion**: every SQL on a cohort account that is open on ``as_of`` (created by then, not
       closed by then) is won with probability ``q`` = :func:`historical_conversion`, independently,
       and adds its ``expansion_arr`` only if its account is still a customer. It raises NRR only
       (GRR counts ``min(end, begin)``, and expansion is treated as new ARR on top).
    5. Expected values are exact: ``E[retained] = Σ p·min(current, begin)``,
       ``E[ending] = Σ p·current + Σ_SQL p_account·q·expansion_arr``, ``E[GRR] = 100·E[retained]/B``,
       ``E[NRR] = 100·E[ending]/B`` with ``B`` the beginning ARR.
    6. **Band**: ``n`` Monte Carlo draws with ``numpy.random.default_rng(seed)`` (one uniform per draw and
       account, then one per draw and SQL); P10/P50/P90 by ``numpy.percentile`` (linear interpolation).
    7. **Versus target**: targets from :func:`kpi_kit.scorecard.targets_for`: the annual GRR / NRR
       rates of ``targets.yaml`` held to the period's share ``100 × (annual / 100) ** (months / 12)``
       (:func:`kpi_kit.targets.period_rate`; a 90 % annual GRR target is 97.4 % for a quarter), since
       the forecast is of the period's ratio; ``gap_arr = (target − expected) / 100 × B``; status by
       :func:`band` (±``tolerance``).

    **Currencies.** In a book with several currencies every amount — beginning ARR, current ARR and the
    open SQLs' ``expansion_arr`` — is converted to ``book.reporting_currency`` (USD) at the rates of the
    period's **first day** (:func:`kpi_kit.metrics.to_reporting_currency`, the conversion behind the
    KPIs), so the forecast GRR / NRR are at constant currency like the KPIs they forecast: a rate move
    is never read as churn or expansion. A missing rate is a ``KitError`` naming the currency and day.

    ``renewal_date`` and ``health_score`` are snapshots of the export day: forecast as of that day (the
    sample book's 2026-09-30) for the next quarter. A CSM without beginning ARR gets ``None`` values.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> fc = forecast_retention(load_book(), "csm_04", "2026-10..2026-12", "2026-09-30", n=2000)
    >>> fc.grr_band[0] <= fc.expected_grr_pct <= fc.grr_band[2]
    True
    """
    _check_n_seed(n, seed)
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of, calendar if calendar is not None else book.calendar)
    day = as_of_date(per, as_of)
    model = model if model is not None else RenewalModel()
    setup = _setup(book, csm_id, per, day, model)
    acc = setup.accounts
    begin = float(acc["begin"].sum())
    targets = targets_for(book, csm_id, per)
    e_ret = float(acc["expected_retained"].sum())
    e_end = float(acc["expected_end"].sum())
    e_exp = float(acc["expected_expansion"].sum())
    retained, ending = _simulate(setup, n, np.random.default_rng(seed))
    if begin > 0:
        grr_s, nrr_s = 100.0 * retained / begin, 100.0 * ending / begin
        e_grr, e_nrr = 100.0 * e_ret / begin, 100.0 * e_end / begin
    else:
        grr_s = nrr_s = np.full(n, np.nan)
        e_grr = e_nrr = None
    samples = pd.DataFrame({"grr_pct": grr_s, "nrr_pct": nrr_s})
    rows = []
    bands: dict[str, tuple[float, float, float] | None] = {}
    for kpi, expected, sims in (("grr_pct", e_grr, grr_s), ("nrr_pct", e_nrr, nrr_s)):
        target, annual = targets.get(kpi), targets.get(kpi.replace("_pct", "_annual_pct"))
        if expected is None:
            bands[kpi] = None
            rows.append({"kpi": kpi, "expected": np.nan, "p10": np.nan, "p50": np.nan, "p90": np.nan,
                         "target": target, "target_annual": annual, "gap_arr": np.nan, "chance_on_target": np.nan,
                         "status": "no data"})
            continue
        p10, p50, p90 = (float(v) for v in np.percentile(sims, [10, 50, 90]))
        bands[kpi] = (p10, p50, p90)
        has_target = target is not None and target > 0
        rows.append({
            "kpi": kpi, "expected": expected, "p10": p10, "p50": p50, "p90": p90, "target": target,
            "target_annual": annual, "gap_arr": (target - expected) / 100.0 * begin if target is not None else np.nan,
            "chance_on_target": float(np.mean(np.round(sims, 9) >= round(target, 9))) if target is not None else np.nan,
            "status": band(expected / target, tolerance) if has_target else "no target",
        })
    table = pd.DataFrame(rows)
    for col in ("expected", "p10", "p50", "p90", "target", "target_annual", "gap_arr", "chance_on_target"):
        table[col] = table[col].astype("float64")
    return RetentionForecast(
        csm_id=csm_id, csm_name=book.csm_name(csm_id), period=per, as_of=str(day.date()),
        known_month=str(setup.known_month), beginning_arr=begin, expected_retained_arr=e_ret,
        expected_ending_arr=e_end, expected_expansion_arr=e_exp, expected_grr_pct=e_grr, expected_nrr_pct=e_nrr,
        grr_band=bands["grr_pct"], nrr_band=bands["nrr_pct"], grr_target=targets.get("grr_pct"),
        nrr_target=targets.get("nrr_pct"), conversion=setup.conversion, model=model, n=int(n), seed=int(seed),
        table=table, accounts=acc, sqls=setup.sqls, samples=samples,
        grr_target_annual=targets.get("grr_annual_pct"), nrr_target_annual=targets.get("nrr_annual_pct"),
        currency=book.reporting_currency,
    )


# ------------------------------------------------------------------------------------------------
# weekly tracking
# ------------------------------------------------------------------------------------------------

_WEEKLY_KPIS: tuple[tuple[str, str], ...] = (
    ("calls", "calls"), ("touchpoints", "touchpoints"), ("sqls", "sqls"), ("coverage", "coverage_pct"))


@dataclass(frozen=True)
class WeeklyTracking:
    """Week-by-week leading indicators of one CSM against the period's pace (see :func:`weekly_tracking`)."""

    csm_id: str
    csm_name: str
    period: Period
    as_of: str
    targets: dict[str, float | None]
    book_accounts: int
    tolerance: float
    table: pd.DataFrame = field(repr=False)

    @property
    def behind_weeks(self) -> pd.DataFrame:
        """Weeks ending with at least one indicator behind its pace."""
        return self.table.loc[self.table["behind_on"] != ""]

    @property
    def fell_behind(self) -> pd.DataFrame:
        """Weeks in which an indicator *became* behind (it was not behind the week before)."""
        return self.table.loc[self.table["fell_behind_on"] != ""]

    def _repr_html_(self) -> str:
        cols = ["week", "calls", "touchpoints", "sqls", "escalations", "calls_cum", "calls_pace", "sqls_cum",
                "sqls_pace", "coverage_pct_cum", "coverage_pace_pct", "behind_on"]
        show = self.table[cols].copy()
        show["week"] = show["week"].dt.strftime("%Y-%m-%d")
        for col in ("calls_pace", "sqls_pace"):
            show[col] = show[col].map(lambda v: f"{v:.1f}")
        for col in ("coverage_pct_cum", "coverage_pace_pct"):
            show[col] = show[col].map(fmt.pct)
        return (f"<p><strong>Weekly tracking — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), {self.period}, "
                f"as of {self.as_of}</strong>: targets calls {fmt.count(self.targets.get('calls'))}, touchpoints "
                f"{fmt.count(self.targets.get('touchpoints'))}, SQLs {fmt.count(self.targets.get('sqls'))}, coverage "
                f"{fmt.pct(self.targets.get('coverage_pct'))}; {len(self.behind_weeks)} of {len(self.table)} week(s) "
                f"ended behind on something</p>" + show.to_html(index=False, escape=True))


def _week_start(dates: pd.Series) -> pd.Series:
    return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()


def weekly_tracking(book: Book, csm_id: str, period: Period | str | tuple[str, str],
                    as_of: str | pd.Timestamp | None = None, *, calendar: FiscalCalendar | None = None,
                    tolerance: float = TOLERANCE) -> WeeklyTracking:
    """The CSM's leading indicators week by week, against the pace to the period's targets.

    Weeks are ISO weeks (Monday–Sunday) that overlap the period, up to the week containing ``as_of``
    (default: the period end). Days outside the period, or after ``as_of``, are not counted. Columns:

    * ``week`` (the Monday), ``week_end`` (the last day counted: Sunday, the period end or ``as_of``);
    * ``calls``, ``touchpoints``, ``sqls`` (same definitions as ``kpi_kit.metrics``), ``escalations``
      (escalations opened on the CSM's book accounts that week, by UTC day; NaN when not recorded),
      ``newly_covered`` (book accounts touched for the first time in the period that week);
    * ``*_cum`` running totals and ``accounts_covered_cum`` / ``coverage_pct_cum`` (cumulative coverage);
    * ``elapsed_pct``: share of the period elapsed at ``week_end`` (both ends inclusive);
    * pace lines at ``week_end``: ``calls_pace``, ``touchpoints_pace``, ``sqls_pace`` = target × elapsed
      share, ``coverage_pace_pct`` = the saturating curve of :func:`pace`;
    * ``calls_status`` … ``coverage_status``: :func:`pace` status at ``week_end`` (cumulative / pace line
      for the linear KPIs, which equals projection / target), ``behind_on`` lists the indicators behind,
      ``fell_behind_on`` those that were not behind the week before.

    The period's targets are :func:`kpi_kit.scorecard.targets_for` (calls 20 a month and SQLs 4 a quarter by
    default, scaled to the period's length), so a quarter gives the quarterly pace.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> wt = weekly_tracking(load_book(), "csm_01", "2026-07..2026-09")
    >>> len(wt.table), str(wt.table["week"].iloc[0].date())
    (14, '2026-06-29')
    """
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of, calendar if calendar is not None else book.calendar)
    day = as_of_date(per, as_of)
    cutoff = min(day, per.end_date)
    targets = targets_for(book, csm_id, per)
    acc = account_arr(book, per, csm_id)
    books = acc.loc[acc["in_book"], "account_id"]
    n_book = int(len(books))

    first_monday = per.start_date - pd.Timedelta(days=per.start_date.day_of_week)
    if cutoff < per.start_date:
        weeks = pd.DatetimeIndex([], dtype="datetime64[us]")
    else:
        weeks = pd.date_range(first_monday, cutoff, freq="7D", unit="us")
    frame = pd.DataFrame({"week": weeks})
    frame["week_end"] = (frame["week"] + pd.Timedelta(days=6)).clip(upper=cutoff)
    frame["days"] = ((frame["week_end"] - frame["week"].clip(lower=per.start_date)).dt.days + 1).astype("int64")

    def weekly_count(dates: pd.Series) -> pd.Series:
        return _week_start(dates).value_counts().reindex(frame["week"], fill_value=0).to_numpy()

    in_window = lambda d: per.contains(d) & (d <= cutoff)  # noqa: E731
    acts = book.activities
    mine = acts.loc[in_window(acts["date"]) & (acts["csm_id"] == csm_id)]
    recorded_acts = book.recorded("activities")
    frame["calls"] = weekly_count(mine.loc[mine["type"].isin(CALL_TYPES), "date"]) if recorded_acts else np.nan
    frame["touchpoints"] = weekly_count(mine["date"]) if recorded_acts else np.nan
    sqls = book.sqls
    mine_sql = sqls.loc[(sqls["csm_id"] == csm_id) & in_window(sqls["created_date"])]
    frame["sqls"] = weekly_count(mine_sql["created_date"]) if book.recorded("sqls") else np.nan
    if book.escalations is not None and book.recorded("escalations"):
        esc = book.escalations
        opened = esc["opened_at"].dt.normalize()
        frame["escalations"] = weekly_count(opened.loc[esc["account_id"].isin(books) & in_window(opened)])
    else:
        frame["escalations"] = np.nan
    on_book = acts.loc[in_window(acts["date"]) & acts["account_id"].isin(books)]
    first_touch = on_book.groupby("account_id")["date"].min()
    frame["newly_covered"] = weekly_count(first_touch) if recorded_acts else np.nan
    for col in ("calls", "touchpoints", "sqls", "escalations", "newly_covered"):
        frame[col] = frame[col].astype("float64") if frame[col].isna().any() else frame[col].astype("int64")

    total_days = (per.end_date - per.start_date).days + 1
    f = ((frame["week_end"] - per.start_date).dt.days + 1).to_numpy(dtype="float64") / total_days
    frame["elapsed_pct"] = 100.0 * f
    for col in ("calls", "touchpoints", "sqls"):
        frame[f"{col}_cum"] = frame[col].cumsum()
    frame["accounts_covered_cum"] = frame["newly_covered"].cumsum()
    frame["coverage_pct_cum"] = (100.0 * frame["accounts_covered_cum"] / n_book) if n_book else np.nan
    behind_cols = []
    for name, kpi in _WEEKLY_KPIS:
        target = targets.get(kpi)
        t = np.nan if target is None else float(target)
        if name == "coverage":
            pace_line = 100.0 * (1.0 - (1.0 - t / 100.0) ** f)
            cum = frame["coverage_pct_cum"].to_numpy(dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                projection = 100.0 * (1.0 - (1.0 - cum / 100.0) ** (1.0 / f))
            frame["coverage_pace_pct"] = pace_line
        else:
            pace_line = t * f
            cum = frame[f"{name}_cum"].to_numpy(dtype="float64")
            projection = cum / f
            frame[f"{name}_pace"] = pace_line
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = projection / t if t and t > 0 else np.full(len(frame), np.nan)
        status = _band_array(np.asarray(ratio, dtype="float64"), tolerance)
        frame[f"{name}_status"] = pd.array(status, dtype="str")
        behind_cols.append((name, status == "behind"))
    behind = np.column_stack([b for _, b in behind_cols]) if len(frame) else np.zeros((0, len(behind_cols)), bool)
    before = np.vstack([np.zeros((1, behind.shape[1]), bool), behind[:-1]]) if len(frame) else behind
    names = [n for n, _ in behind_cols]
    frame["behind_on"] = pd.array([", ".join(n for n, b in zip(names, row, strict=True) if b) for row in behind], dtype="str")
    frame["fell_behind_on"] = pd.array([", ".join(n for n, b, was in zip(names, row, prev, strict=True) if b and not was)
                                        for row, prev in zip(behind, before, strict=True)], dtype="str")
    return WeeklyTracking(csm_id=csm_id, csm_name=book.csm_name(csm_id), period=per, as_of=str(day.date()),
                          targets={k: targets.get(k) for _, k in _WEEKLY_KPIS}, book_accounts=n_book,
                          tolerance=tolerance, table=frame)


# ------------------------------------------------------------------------------------------------
# simulated attainment for the pay forecast
# ------------------------------------------------------------------------------------------------

_COUNT_SIM = ("calls", "touchpoints", "qbrs", "sqls")


@dataclass(frozen=True, eq=False)
class AttainmentSamples(Mapping[str, np.ndarray]):
    """Simulated period-end attainment (ratios, 1.2 = 120 %) per comp-plan metric.

    Behaves as a read-only mapping ``{metric name: array of n attainments}`` — draw *k* of every metric
    is one joint outcome — so it can be passed straight to ``kpi_kit.comp.forecast_pay``. ``.frame``
    has every draw; ``.table`` summarises each metric (target, to-date actual, P10/P50/P90 attainment %).
    """

    csm_id: str
    period: Period
    as_of: str
    n: int
    seed: int
    kpis: dict[str, str]
    targets: dict[str, float]
    to_date: dict[str, float | None]
    frame: pd.DataFrame = field(repr=False)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.frame[key].to_numpy()

    def __iter__(self) -> Iterator[str]:
        return iter(self.kpis)

    def __len__(self) -> int:
        return len(self.kpis)

    @property
    def table(self) -> pd.DataFrame:
        rows = []
        for name, kpi in self.kpis.items():
            p10, p50, p90 = np.percentile(self.frame[name].to_numpy(), [10, 50, 90])
            rows.append({"metric": name, "kpi": kpi, "target": self.targets[name], "to_date": self.to_date[name],
                         "p10_pct": 100 * p10, "p50_pct": 100 * p50, "p90_pct": 100 * p90})
        out = pd.DataFrame(rows)
        for col in ("target", "to_date", "p10_pct", "p50_pct", "p90_pct"):
            out[col] = out[col].astype("float64")
        return out

    def _repr_html_(self) -> str:
        return (f"<p><strong>Simulated attainment — {fmt.text(self.csm_id)}, {self.period}, as of {self.as_of}</strong> "
                f"({self.n:,} draws, seed {self.seed})</p>" + self.table.to_html(index=False, escape=True))


def attainment_samples(book: Book, csm_id: str, period: Period | str | tuple[str, str],
                       as_of: str | pd.Timestamp, n: int = 1000, seed: int = DEFAULT_SEED, *, plan: Any = None,
                       model: RenewalModel | None = None, calendar: FiscalCalendar | None = None,
                       holidays: Sequence[Any] = ()) -> AttainmentSamples:
    """Simulated period-end attainment per metric of a comp plan, for ``kpi_kit.comp.forecast_pay``.

    For each metric of ``plan`` (default: the book's ``comp_plan.yaml``, else the seed's plan —
    retention = ``grr_pct``, expansion = ``nrr_pct``, activity = ``calls``):

    * ``grr_pct`` / ``nrr_pct``: the :func:`forecast_retention` draws (the same draws for both, so they
      move together), divided by the period's target (the period's share of the annual rate, as in
      :func:`forecast_retention`).
    * counts (``calls``, ``touchpoints``, ``qbrs``, ``sqls``): to-date actual + a Poisson number for the
      days left, with mean ``rate × days_left``; ``rate`` = to-date count / elapsed days, or the count
      of the 28 days up to ``as_of`` / 28 when fewer than 7 days of the period have elapsed. Divided by
      the target.

    Attainment is ``simulated / target`` (uncapped; the plan's caps are applied by ``kpi_kit.comp``).
    All draws come from one ``numpy.random.default_rng(seed)``: first the retention draws, then one
    Poisson array per count metric in plan order.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> from kpi_kit.comp import forecast_pay
    >>> s = attainment_samples(load_book(), "csm_01", "2026-07..2026-09", "2026-08-15", n=200)
    >>> sorted(s)
    ['activity', 'expansion', 'retention']
    >>> pay = forecast_pay(None, s, months=3)
    >>> pay.p10 <= pay.p50 <= pay.p90
    True
    """
    from kpi_kit.comp import load_plan

    _check_n_seed(n, seed)
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of, calendar if calendar is not None else book.calendar)
    day = as_of_date(per, as_of)
    specs = load_plan(plan if plan is not None else book.comp_plan).metrics
    wanted = {s.name: s.kpi for s in specs}
    bad = sorted(s.name for s in specs if s.kpi not in ("grr_pct", "nrr_pct", *_COUNT_SIM) or s.lower_is_better)
    if bad:
        raise KitError(f"attainment_samples cannot simulate plan metric(s) {bad} (KPIs "
                       f"{[wanted[b] for b in bad]}); supported KPIs: grr_pct, nrr_pct, {', '.join(_COUNT_SIM)}")
    targets = targets_for(book, csm_id, per)
    m = csm_metrics(book, csm_id, per, as_of=day)
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    to_date: dict[str, float | None] = {}
    tgt: dict[str, float] = {}
    if any(k in ("grr_pct", "nrr_pct") for k in wanted.values()):
        setup = _setup(book, csm_id, per, day, model if model is not None else RenewalModel())
        begin = float(setup.accounts["begin"].sum())
        if begin <= 0:
            raise KitError(f"{csm_id} has no beginning ARR in {per}: retention attainment cannot be simulated")
        retained, ending = _simulate(setup, n, rng)
        sims = {"grr_pct": 100.0 * retained / begin, "nrr_pct": 100.0 * ending / begin}
    prog = period_progress(per.start_date, per.end_date, day, holidays)
    for name, kpi in wanted.items():
        target = targets.get(kpi)
        if target is None or target <= 0:
            raise KitError(f"plan metric {name!r}: the {kpi} target is {target!r}; attainment needs a target > 0")
        tgt[name] = float(target)
        if kpi in ("grr_pct", "nrr_pct"):
            columns[name] = sims[kpi] / target
            to_date[name] = None
            continue
        actual = m.get(kpi)
        if fmt.is_missing(actual):
            raise KitError(f"plan metric {name!r}: {kpi} is not recorded in this book, so it cannot be simulated")
        to_date[name] = float(actual)
        if prog.elapsed_days >= 7:
            rate = float(actual) / prog.elapsed_days
        else:
            rate = _trailing_count(book, csm_id, kpi, day, 28) / 28.0
        columns[name] = (float(actual) + rng.poisson(rate * prog.days_left, n)) / target
    frame = pd.DataFrame({name: columns[name].astype("float64") for name in wanted})
    return AttainmentSamples(csm_id=csm_id, period=per, as_of=str(day.date()), n=int(n), seed=int(seed),
                             kpis=dict(wanted), targets=tgt, to_date=to_date, frame=frame)


def _trailing_count(book: Book, csm_id: str, kpi: str, day: pd.Timestamp, days: int) -> int:
    """Count of a count-KPI's events by the CSM in the ``days`` days up to and including ``day``."""
    lo = day - pd.Timedelta(days=days - 1)
    if kpi == "sqls":
        s = book.sqls
        return int(((s["csm_id"] == csm_id) & (s["created_date"] >= lo) & (s["created_date"] <= day)).sum())
    a = book.activities
    mask = (a["csm_id"] == csm_id) & (a["date"] >= lo) & (a["date"] <= day)
    if kpi == "calls":
        mask &= a["type"].isin(CALL_TYPES)
    elif kpi == "qbrs":
        mask &= a["type"] == "qbr"
    return int(mask.sum())
