"""Exercises of notebook 09 (closed risk alerts). Each factory computes the right answer with the kit for any
book and CSM; a book that does not record risk alerts has no data, so the right answer is None."""

from __future__ import annotations

import statistics

from kpi_kit.alerts import alert_summary
from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.periods import Period

__all__ = ["q_9_1", "q_9_2"]


def q_9_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 9.1: closed-alert rate % by hand (None when no alert is closed or alerts are not recorded)."""
    s = alert_summary(book, csm_id, period)
    with_open = None
    if s.recorded and s.saved is not None and len(s.table) and s.open:
        with_open = 100.0 * s.saved / len(s.table)
    return Checker(
        "9.1", "closed-alert rate: saved / (saved + churned) among alerts on your book flagged in the period", s.closed_alert_pct,
        hint_text=("Alerts on your book accounts (retention.book_accounts) flagged in the period; count saved and "
                   "churned; open alerts are not closed, so they stay out of the denominator."),
        solution_text=("mine = retention.book_accounts(book, csm_id, period)[\"account_id\"]\n"
                       "al = book.risk_alerts\n"
                       "al = al.loc[al[\"account_id\"].isin(mine) & period.contains(al[\"flagged_date\"])]\n"
                       "saved, churned = (al[\"outcome\"] == \"saved\").sum(), (al[\"outcome\"] == \"churned\").sum()\n"
                       "answer = 100 * saved / (saved + churned) if saved + churned else None"),
        mistakes=(Mistake(with_open, "You counted open alerts in the denominator. Open alerts are not decided yet: "
                                     "report them separately."),),
    )


def q_9_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 9.2: median days from flag to first action (None when no alert was acted on or not recorded)."""
    s = alert_summary(book, csm_id, period)
    days = [] if not s.recorded else [float(d) for d in s.table["days_to_action"].dropna()]
    mean = statistics.fmean(days) if days else None
    return Checker(
        "9.2", "median whole days from flagged_date to first_action_date over your alerts acted on", s.median_days_to_action,
        hint_text=("Days = (first_action_date − flagged_date).dt.days for alerts with a first action on or before the "
                   "period's last day (an action before the flag counts as 0). Take the median, not the mean."),
        solution_text=("acted = al.loc[al[\"first_action_date\"] <= period.end_date]\n"
                       "days = (acted[\"first_action_date\"] - acted[\"flagged_date\"]).dt.days.clip(lower=0)\n"
                       "answer = float(days.median()) if len(days) else None"),
        mistakes=(Mistake(mean, "You took the mean: one very late alert pulls it up. The median is the middle alert."),),
    )
