"""The weekly 1:1 (the seed's structure) and the weekly reflection, built from a CSM's own figures (notebook 10).

The seed's weekly 1:1 has four parts; :func:`one_on_one` fills each from the book:

1. **Metrics review** — the balanced scorecard (:func:`kpi_kit.scorecard.scorecard`), leading and
   lagging KPIs side by side (:func:`side_by_side`).
2. **Gap analysis** — every KPI at risk or behind, said in its own unit (``Scorecard.behind["gap"]``),
   and the diagnosis from leading vs lagging attainment (``Scorecard.diagnosis()``).
3. **Strategic list** — at-risk accounts, renewals in the next 90 days, overdue lifecycle touchpoints
   and expansion signals (:mod:`kpi_kit.strategic`).
4. **Action items** — concrete next steps derived from 2 and 3 (:func:`action_items`).

The weekly reflection compares what was done with what was planned (:func:`reflection`; the seed's
example: 12 of 20 planned calls = 60 %). Books record what was done, not what was planned, so
:func:`weekly_reflection` takes the plan to be the pace of the calls target: the monthly target × 12 / 52
a week (20 a month → 4.6 a week).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi_kit import fmt, strategic
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.forecast import Pace, pace_kpi
from kpi_kit.metrics import CALL_TYPES, as_of_date
from kpi_kit.periods import Period
from kpi_kit.scorecard import STATUS_MARK, Scorecard, scorecard, targets_for

__all__ = [
    "OneOnOne", "Reflection", "action_items", "first_week_pace", "one_on_one", "reflection", "side_by_side",
    "weekly_reflection",
]

#: Weeks in a year over months in a year: a weekly plan is the monthly target × 12 / 52.
WEEKS_PER_MONTH: float = 52.0 / 12.0


def reflection(done: float, planned: float) -> float | None:
    """Share of the plan that was done: 100 × done / planned.

    Parameters
    ----------
    done
        What was done (e.g. calls made this week), ≥ 0.
    planned
        What was planned, ≥ 0.

    Returns
    -------
    float or None
        Percent (can exceed 100 when more was done than planned); None when nothing was planned
        or ``done`` is unknown (None).

    Examples
    --------
    The seed's weekly reflection: 12 of 20 planned calls → 60 %.

    >>> reflection(12, 20)
    60.0
    """
    if fmt.is_missing(done):
        return None
    for value, what in ((done, "done"), (planned, "planned")):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= 0:
            raise KitError(f"{what} must be a number >= 0, got {value!r}")
    return None if planned == 0 else 100.0 * float(done) / float(planned)


@dataclass(frozen=True)
class Reflection:
    """One week's reflection: calls done vs planned (see :func:`weekly_reflection`)."""

    csm_id: str
    week_start: pd.Timestamp
    week_end: pd.Timestamp
    done: int | None
    planned: float
    pct: float | None

    def sentence(self) -> str:
        week = f"the week of {self.week_start.date()} to {self.week_end.date()}"
        if self.done is None:
            return f"This book does not record CSM activities, so {week} cannot be reflected on."
        return (f"In {week}: {self.done} calls done of {self.planned:.1f} planned (the weekly pace of the calls target) "
                f"= {fmt.pct(self.pct)}.")

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.sentence())}</p>"


def weekly_reflection(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> Reflection:
    """The reflection for the last full week (Monday–Sunday) ending on or before ``as_of``.

    ``done`` = the CSM's calls (call, meeting, QBR — the KPI's definition) dated in that week;
    ``planned`` = the CSM's monthly calls target (:func:`kpi_kit.scorecard.targets_for`, the period's calls
    target / months) × 12 / 52; ``pct`` = :func:`reflection`. ``done`` is None when activities are not recorded.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> r = weekly_reflection(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> str(r.week_start.date()), str(r.week_end.date()), round(r.planned, 2)   # 30 Sep 2026 is a Wednesday
    ('2026-09-21', '2026-09-27', 4.62)
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    week_end = day - pd.Timedelta(days=(day.day_of_week + 1) % 7)  # the last Sunday on or before day
    week_start = week_end - pd.Timedelta(days=6)
    target = targets_for(book, csm_id, period).get("calls")
    planned = 0.0 if target is None else float(target) / period.months / WEEKS_PER_MONTH
    done: int | None = None
    if book.recorded("activities"):
        acts = book.activities
        mine = (acts["csm_id"] == csm_id) & acts["type"].isin(CALL_TYPES) & (acts["date"] >= week_start) & \
            (acts["date"] <= week_end)
        done = int(mine.sum())
    return Reflection(csm_id=csm_id, week_start=week_start, week_end=week_end, done=done, planned=planned,
                      pct=reflection(done, planned) if done is not None else None)


def first_week_pace(book: Book, csm_id: str, period: Period, kpi: str = "calls", days: int = 7) -> Pace:
    """Pace of ``kpi`` in the period's last month after its first ``days`` days (the seed's weekly pacing).

    :func:`kpi_kit.forecast.pace_kpi` for the one-month period END..END as of day ``days`` of that month:
    "5 calls in the first week → on track for 20 this month".

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> p = first_week_pace(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> p.period, p.as_of, p.days_left   # September has 30 days: 7 elapsed, 23 left
    ('2026-09..2026-09', '2026-09-07', 23)
    """
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise KitError(f"days must be a whole number >= 1, got {days!r}")
    month = Period(period.end, period.end)
    day = month.start_date + pd.Timedelta(days=min(int(days), month.end.days_in_month) - 1)
    return pace_kpi(book, csm_id, kpi, month, day)


def side_by_side(card: Scorecard) -> pd.DataFrame:
    """Leading and lagging KPIs of a scorecard next to each other (display table, formatted text).

    Columns ``leading, leading actual, leading target, leading status, lagging, lagging actual,
    lagging target, lagging status``; the shorter side is padded with empty strings.
    """
    sides = []
    for kind in ("leading", "lagging"):
        part = card.table.loc[card.table["kind"] == kind].reset_index(drop=True)
        sides.append(pd.DataFrame({
            kind: part["label"].astype("str"), f"{kind} actual": part["actual_text"].astype("str"),
            f"{kind} target": part["target_text"].astype("str"),
            f"{kind} status": (part["status"].map(STATUS_MARK) + " " + part["status"]).astype("str")}))
    return pd.concat(sides, axis=1).fillna("")


def _first(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    return frame.head(max(int(n), 0))


def action_items(card: Scorecard, at_risk: pd.DataFrame, renewals: pd.DataFrame, overdue: pd.DataFrame,
                 signals: pd.DataFrame, max_per_kind: int = 3) -> tuple[str, ...]:
    """Concrete action items for the 1:1, derived from the gap analysis and the strategic list.

    In this order, at most ``max_per_kind`` of each kind:

    1. each KPI behind target, worst first: "Close the gap: <gap sentence>";
    2. renewals in the next 90 days with no non-automated contact in 90 days, soonest first: "Call …";
    3. at-risk accounts still paying (ARR in END > 0), largest ARR first: "Agree a save plan with …";
    4. overdue lifecycle touchpoints (one item: how many, and the oldest);
    5. expansion signals, largest ARR first: "Qualify an SQL at …".

    Lists whose data the book does not record are skipped (nothing is said about what is not known).
    """
    items: list[str] = []
    behind = card.table.loc[card.table["status"] == "behind"].sort_values("attainment_pct", kind="mergesort")
    items += [f"Close the gap: {gap}." for gap in _first(behind, max_per_kind)["gap"]]
    if len(renewals) and renewals["contacted_90d"].notna().all():
        silent = renewals.loc[~renewals["contacted_90d"].astype(bool)]
        items += [f"Call {r.account_name} before its renewal on {r.renewal_date.date()} ({fmt.money(r.arr, card.currency)}): "
                  f"no CSM contact in 90 days." for r in _first(silent, max_per_kind).itertuples()]
    live = at_risk.loc[at_risk["arr"] > 0] if len(at_risk) else at_risk  # an account already lost needs no save plan
    items += [f"Agree a save plan with {r.account_name} ({fmt.money(r.arr, card.currency)}): {r.reason}."
              for r in _first(live, max_per_kind).itertuples()]
    late = overdue.loc[overdue["status"] == "overdue"] if len(overdue) else overdue
    if len(late):
        oldest = late.iloc[0]
        items.append(f"Catch up {len(late)} overdue lifecycle touchpoint(s), starting with {oldest['account_name']} "
                     f"({oldest['touchpoint']}, {int(oldest['days_overdue'])} days overdue).")
    if len(signals) and "signal" in signals.columns:
        top = signals.sort_values(["arr", "account_id"], ascending=[False, True], kind="mergesort")
        items += [f"Qualify an SQL at {r.account_name} ({fmt.money(r.arr, card.currency)}): {r.signal}."
                  for r in _first(top, max_per_kind).itertuples()]
    return tuple(items)


@dataclass(frozen=True)
class OneOnOne:
    """The seed's weekly 1:1 for one CSM: metrics review, gap analysis, strategic list, action items."""

    csm_id: str
    csm_name: str
    period: Period
    as_of: str
    card: Scorecard = field(repr=False)
    gaps: tuple[str, ...]
    diagnosis: str
    at_risk: pd.DataFrame = field(repr=False)
    renewals: pd.DataFrame = field(repr=False)
    overdue: pd.DataFrame = field(repr=False)
    signals: pd.DataFrame = field(repr=False)
    action_items: tuple[str, ...]

    @property
    def table(self) -> pd.DataFrame:
        """The metrics review: leading and lagging KPIs side by side."""
        return side_by_side(self.card)

    def strategic_summary(self) -> str:
        """The strategic list in one sentence of counts."""
        # a book with neither risk alerts nor health scores cannot say who is at risk: never "0 at-risk"
        at_risk = (f"{len(self.at_risk)} at-risk account(s)" if self.at_risk.attrs.get("criteria", True)
                   else "at-risk accounts cannot be listed (no risk alerts or health scores recorded)")
        parts = [at_risk, f"{len(self.renewals)} renewal(s) in the next 90 days"]
        if self.renewals["contacted_90d"].notna().all():
            parts[-1] += f" ({int((~self.renewals['contacted_90d'].astype(bool)).sum())} not contacted)"
        if self.overdue.attrs.get("not_recorded"):
            parts.append("lifecycle touchpoints not recorded")
        else:
            parts.append(f"{int((self.overdue['status'] == 'overdue').sum())} overdue lifecycle touchpoint(s)")
        if self.signals.attrs.get("recorded", True):
            parts.append(f"{len(self.signals)} expansion signal(s)")
        else:
            parts.append("no usage data for expansion signals")
        return ", ".join(parts) + "."

    def _repr_html_(self) -> str:
        gaps = "".join(f"<li>{fmt.text(g)}</li>" for g in self.gaps) or "<li>No KPI at risk or behind.</li>"
        acts = "".join(f"<li>{fmt.text(a)}</li>" for a in self.action_items) or "<li>Nothing urgent: keep the cadence.</li>"
        return (f"<h4>Weekly 1:1 — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), {self.period}, as of {self.as_of}</h4>"
                f"<p><strong>1. Metrics review</strong></p>{self.table.to_html(index=False, escape=True)}"
                f"<p><strong>2. Gap analysis</strong></p><ul>{gaps}</ul><p>{fmt.text(self.diagnosis)}</p>"
                f"<p><strong>3. Strategic list</strong>: {fmt.text(self.strategic_summary())}</p>"
                f"<p><strong>4. Action items</strong></p><ol>{acts}</ol>")


def one_on_one(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None,
               max_per_kind: int = 3) -> OneOnOne:
    """Build the seed's weekly 1:1 for ``csm_id`` from the book (see module docstring).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> o = one_on_one(load_book(), "csm_04", Period.parse("2026-07", "2026-09"))
    >>> len(o.action_items) > 0
    True
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    card = scorecard(book, csm_id, period, as_of=day)
    at_risk = strategic.at_risk_accounts(book, csm_id, period, day)
    renewals = strategic.renewals_due(book, csm_id, day, 90, period)
    overdue = strategic.overdue_touchpoints(book, csm_id, period, day)
    signals = strategic.expansion_signals(book, csm_id, day, period)
    bad = card.behind
    return OneOnOne(
        csm_id=csm_id, csm_name=card.csm_name, period=period, as_of=str(day.date()), card=card,
        gaps=tuple(bad["gap"]), diagnosis=card.diagnosis(), at_risk=at_risk, renewals=renewals, overdue=overdue,
        signals=signals, action_items=action_items(card, at_risk, renewals, overdue, signals, max_per_kind))
