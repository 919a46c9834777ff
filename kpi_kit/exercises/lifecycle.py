"""Exercises of ``05_lifecycle_touchpoints``."""

from __future__ import annotations

import pandas as pd

from kpi_kit import lifecycle
from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import account_arr, csm_metrics, lifecycle_table
from kpi_kit.periods import Period
from kpi_kit.strategic import overdue_touchpoints, renewals_due

__all__ = ["q_5_1", "q_5_2", "q_5_3"]


def q_5_1(book: Book, csm_id: str, period: Period) -> Checker:
    """5.1 — lifecycle compliance % by hand from the touchpoint table: met / (met + overdue)."""
    expected = csm_metrics(book, csm_id, period)["lifecycle_compliance_pct"]
    mistakes: list[Mistake] = []
    if book.recorded("activities"):
        acc = account_arr(book, period, csm_id)
        tps = lifecycle_table(book, period, period.end_date, acc.loc[acc["in_book"]])
        counts = tps["status"].value_counts()
        met, overdue, pending = (int(counts.get(s, 0)) for s in ("met", "overdue", "pending"))
        if met + overdue + pending:
            mistakes.append(Mistake(100.0 * met / (met + overdue + pending),
                                    "pending touchpoints are not due yet: leave them out of the denominator."))
        if met + overdue:
            mistakes.append(Mistake(100.0 * overdue / (met + overdue),
                                    "that is the share overdue; compliance is the share met."))
    return Checker(
        "5.1", "Compute the CSM's lifecycle compliance % from the touchpoint table and compare with the kit",
        expected,
        hint_text="lifecycle_table(book, period, period.end_date, books) has a `status` column (met / overdue / "
                  "pending); books = the rows of account_arr(book, period, csm_id) with in_book. Compliance = "
                  "100 × met / (met + overdue); None when activities are not recorded.",
        solution_text=("acc = account_arr(book, period, csm_id)\n"
                       "tps = lifecycle_table(book, period, period.end_date, acc[acc['in_book']])\n"
                       "n = tps['status'].value_counts()\n"
                       "judged = n.get('met', 0) + n.get('overdue', 0)\n"
                       "answer = 100 * n.get('met', 0) / judged if book.recorded('activities') and judged else None"),
        mistakes=tuple(mistakes),
    )


def q_5_2(book: Book, csm_id: str, period: Period) -> Checker:
    """5.2 — the accounts with at least one overdue touchpoint (a set of account ids)."""
    table = overdue_touchpoints(book, csm_id, period)
    expected = frozenset(table.loc[table["status"] == "overdue", "account_id"])
    with_pending = frozenset(table["account_id"])
    return Checker(
        "5.2", "Which of the CSM's accounts have at least one overdue lifecycle touchpoint?", expected,
        hint_text="overdue_touchpoints(book, csm_id, period) lists overdue and pending touchpoints; keep the rows "
                  "whose status is 'overdue' and give their account_ids as a set.",
        solution_text=("late = overdue_touchpoints(book, csm_id, period)\n"
                       "answer = set(late.loc[late['status'] == 'overdue', 'account_id'])"),
        mistakes=(Mistake(with_pending if with_pending != expected else None,
                          "you included pending touchpoints, whose window is still open."),),
    )


def q_5_3(book: Book, csm_id: str, period: Period) -> Checker:
    """5.3 — the CSM's next renewal after the period: the day its renewal_30 window closes."""
    upcoming = renewals_due(book, csm_id, period.end_date, 365, period)
    renewal = upcoming["renewal_date"].min() if len(upcoming) else None
    if renewal is None or pd.isna(renewal):
        expected = due = opens = None  # no renewal in the next year: no data
    else:
        day = pd.Timestamp(renewal).normalize() - pd.Timedelta(days=30)
        # dates as YYYY-MM-DD text: the verdict shows them plainly; _same_day compares any date-like answer
        expected = str((day + pd.Timedelta(days=lifecycle.RENEWAL_LATE)).date())
        due = str(day.date())
        opens = str((day - pd.Timedelta(days=lifecycle.RENEWAL_EARLY)).date())
    return Checker(
        "5.3", "On which day does the renewal_30 window of the CSM's next renewal after the period close?",
        expected,
        hint_text="renewals_due(book, csm_id, period.end_date, 365, period) lists the renewals of the next year; take "
                  "the earliest renewal_date. renewal_30 is due 30 days before it and its window stays open "
                  "lifecycle.RENEWAL_LATE days after the due day.",
        solution_text=("upcoming = renewals_due(book, csm_id, period.end_date, 365, period)\n"
                       "answer = upcoming['renewal_date'].min() - pd.Timedelta(days=30 - lifecycle.RENEWAL_LATE)"),
        mistakes=(Mistake(due, "that is the due day (30 days before the renewal); the window stays open a week longer."),
                  Mistake(opens, "that is the day the window opens; it closes 7 days after the due day.")),
        compare=_same_day,
    )


def _same_day(answer: object, expected: object) -> bool:
    """Dates compare by calendar day; a missing date (None, NaT) matches only a missing expected date."""
    def day(value: object) -> pd.Timestamp | None:
        if value is None:
            return None
        try:
            ts = pd.Timestamp(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return None if pd.isna(ts) else ts.normalize()

    if expected is None:
        return answer is None or (day(answer) is None and not isinstance(answer, str))
    return day(answer) == day(expected)
