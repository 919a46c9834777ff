"""Exercises (and the seed's worked examples) of notebook ``11_forecasting``.

Each ``q_11_*`` factory computes the right answer with :mod:`kpi_kit.forecast` for any book and CSM;
an answer that needs data the book does not record is ``None`` ("no data").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.forecast import Pace, pace, pace_kpi, period_progress, resolve_period
from kpi_kit.periods import Period

__all__ = ["seed_pacing", "distinct_mistakes", "q_11_1", "q_11_2", "q_11_3"]


def distinct_mistakes(mistakes: Sequence[Mistake], expected: Any, tolerance: float = 0.01) -> tuple[Mistake, ...]:
    """The mistakes whose value differs from the right answer (a "typical mistake" that happens to give the
    right number for this book is not a mistake) and from the earlier ones."""
    kept: list[Mistake] = []
    for m in mistakes:
        values = [expected, *(k.value for k in kept)]
        if m.value is None or any(v is not None and abs(float(m.value) - float(v)) <= tolerance for v in values):
            continue
        kept.append(m)
    return tuple(kept)


def seed_pacing() -> dict[str, Pace]:
    """The seed's three pacing examples, each with the "as of" that ``docs/forecasting.md`` assigns it.

    * ``calls`` — "5 calls this week → on track for 20 monthly": February 2027 (28 days), as of Sunday
      7 February (week 1 of 4): f = 7/28 = 0.25, projection 5 / 0.25 = **20** (on track).
    * ``sqls`` — "1 SQL → on track for 4 quarterly": Q3 2026 (92 days), as of 2026-07-23: f = 23/92 = 0.25,
      projection 1 / 0.25 = **4** (on track).
    * ``coverage`` — "40 % of book engaged → on track for 90 %": same quarter and day, saturating curve:
      100 × (1 − 0.6⁴) = **87.04 %**, ratio 0.967 (on track: within 5 %).

    Returns
    -------
    dict
        ``{"calls": Pace, "sqls": Pace, "coverage": Pace}``.

    Examples
    --------
    >>> s = seed_pacing()
    >>> s["calls"].projection, s["sqls"].projection, round(s["coverage"].projection, 2)
    (20.0, 4.0, 87.04)
    """
    feb = period_progress("2027-02-01", "2027-02-28", "2027-02-07")
    q3 = period_progress("2026-07-01", "2026-09-30", "2026-07-23")
    common = dict(days_left=q3.days_left, working_days_left=q3.working_days_left, period="2026-07..2026-09",
                  as_of="2026-07-23")
    return {
        "calls": pace(5, 20, feb.fraction, days_left=feb.days_left, working_days_left=feb.working_days_left,
                      kpi="calls", label="Calls", period="2027-02", as_of="2027-02-07"),
        "sqls": pace(1, 4, q3.fraction, kpi="sqls", label="SQLs", **common),
        "coverage": pace(40, 90, q3.fraction, curve="saturating", kpi="coverage_pct", label="Coverage", unit="pct",
                         **common),
    }


def _progress(period: Period | str, as_of: str | pd.Timestamp) -> tuple[float, int, int]:
    per = resolve_period(period, as_of)
    p = period_progress(per.start_date, per.end_date, as_of)
    return p.fraction, p.elapsed_days, p.total_days


def q_11_1(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp) -> Checker:
    """11.1 — the CSM's calls projected to the period end, by hand: calls so far / elapsed share of the period."""
    p = pace_kpi(book, csm_id, "calls", period, as_of)
    f, elapsed, total = _progress(period, as_of)
    mistakes: list[Mistake] = []
    if p.projection is not None and p.actual is not None and elapsed > 1:
        mistakes.append(Mistake(p.actual * total / (elapsed - 1),
                                "you left out the as-of day: it counts as elapsed (both ends of the range are included)."))
        per = resolve_period(period, as_of)
        wd = period_progress(per.start_date, per.end_date, as_of)
        if wd.working_days_elapsed:
            mistakes.append(Mistake(p.actual * wd.working_days_total / wd.working_days_elapsed,
                                    "you used working days; the kit's elapsed share counts calendar days."))
    return Checker(
        "11.1", "Project your calls to the end of the period by hand (calls so far / elapsed share)", p.projection,
        tolerance=0.05,
        hint_text=("Elapsed share f = (as_of − first day + 1) / (last day − first day + 1), in calendar days. "
                   "Calls so far: your activities of type call, meeting or qbr dated from the first day up to as_of. "
                   "Projection = calls / f. None when the book does not record activities."),
        solution_text=("per = resolve_period(period, as_of)\n"
                       "day = pd.Timestamp(as_of)\n"
                       "f = ((day - per.start_date).days + 1) / ((per.end_date - per.start_date).days + 1)\n"
                       "acts = book.activities\n"
                       "mine = acts.loc[(acts['csm_id'] == csm_id) & acts['type'].isin(['call', 'meeting', 'qbr'])\n"
                       "                & (acts['date'] >= per.start_date) & (acts['date'] <= day)]\n"
                       "answer = len(mine) / f if book.recorded('activities') else None"),
        mistakes=distinct_mistakes(mistakes, p.projection),
    )


def q_11_2(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp) -> Checker:
    """11.2 — coverage projected with the saturating curve: 100 × (1 − (1 − c/100)^(1/f))."""
    p = pace_kpi(book, csm_id, "coverage_pct", period, as_of)
    mistakes: list[Mistake] = []
    if p.projection is not None and p.actual is not None and p.elapsed_fraction > 0:
        mistakes.append(Mistake(p.actual / p.elapsed_fraction,
                                "that is the linear projection (coverage / f). Coverage counts distinct accounts and "
                                "cannot pass 100 %: use the saturating curve."))
        mistakes.append(Mistake(p.actual, "that is the coverage so far, not its projection to the period end."))
    return Checker(
        "11.2", "Project your coverage % to the end of the period with the saturating curve", p.projection,
        hint_text=("Take your coverage so far c (pace.actual, in %) and the elapsed share f (pace.elapsed_fraction). "
                   "The untouched share shrinks by the same factor every day, so the projection is "
                   "100 × (1 − (1 − c/100) ** (1/f)). None when activities are not recorded."),
        solution_text=("p = pace_kpi(book, csm_id, 'coverage_pct', period, as_of)\n"
                       "answer = None if p.actual is None else 100 * (1 - (1 - p.actual / 100) ** (1 / p.elapsed_fraction))"),
        mistakes=distinct_mistakes(mistakes, p.projection),
    )


def q_11_3(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp) -> Checker:
    """11.3 — calls needed per week for the rest of the period: max(target − calls so far, 0) × 7 / days left."""
    p = pace_kpi(book, csm_id, "calls", period, as_of)
    expected = p.per_week
    mistakes: list[Mistake] = []
    if expected and p.target is not None and p.days_left:
        mistakes.append(Mistake(p.target * 7 / p.days_left,
                                "you spread the whole target over the days left; subtract the calls already made."))
        mistakes.append(Mistake(p.remaining, "that is the number of calls still to make; divide it by the weeks left."))
    return Checker(
        "11.3", "How many calls a week do you need for the rest of the period?", expected,
        hint_text=("remaining = max(target − calls so far, 0); weeks left = days left / 7 (days after as_of up to the "
                   "period's last day). 0 when nothing remains; None when the book does not record activities, or when calls "
                   "remain but no day is left."),
        solution_text=("p = pace_kpi(book, csm_id, 'calls', period, as_of)\n"
                       "remaining = None if p.actual is None else max(p.target - p.actual, 0)\n"
                       "if remaining is None:\n"
                       "    answer = None  # activities not recorded\n"
                       "else:\n"
                       "    answer = 0.0 if remaining == 0 else (remaining * 7 / p.days_left if p.days_left else None)"),
        mistakes=distinct_mistakes(mistakes, expected),
    )
