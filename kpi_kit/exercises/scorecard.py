"""Exercises of notebook 10 (scorecard and the weekly 1:1). Each factory computes the right answer with the kit
for any book and CSM."""

from __future__ import annotations

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.one_on_one import weekly_reflection
from kpi_kit.periods import Period
from kpi_kit.scorecard import scorecard

__all__ = ["q_10_1", "q_10_2"]


def q_10_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 10.1: the weekly reflection by hand — calls done in the reflection week vs planned (None without activities)."""
    r = weekly_reflection(book, csm_id, period)
    inverted = None if not r.done else 100.0 * r.planned / r.done
    all_touches = None
    if r.done is not None and r.planned:
        acts = book.activities
        week = (acts["csm_id"] == csm_id) & (acts["date"] >= r.week_start) & (acts["date"] <= r.week_end)
        all_touches = 100.0 * int(week.sum()) / r.planned
    return Checker(
        "10.1", "calls done in the reflection week as a % of the planned calls", r.pct,
        hint_text=("Count your activities of type call, meeting or qbr dated from week.week_start to week.week_end "
                   "(inclusive); 100 × done / week.planned."),
        solution_text=("acts = book.activities\n"
                       "mine = acts.loc[(acts[\"csm_id\"] == csm_id) & acts[\"type\"].isin([\"call\", \"meeting\", \"qbr\"])\n"
                       "                & acts[\"date\"].between(week.week_start, week.week_end)]\n"
                       "answer = 100 * len(mine) / week.planned if book.recorded(\"activities\") else None"),
        mistakes=(Mistake(inverted, "You divided the plan by what was done; it is done / planned."),
                  Mistake(all_touches, "You counted every activity. Calls are call, meeting and qbr only.")),
    )


def q_10_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 10.2: the set of scorecard KPIs (``kpi`` keys) whose status is ``behind``."""
    table = scorecard(book, csm_id, period).table
    behind = frozenset(table.loc[table["status"] == "behind", "kpi"])
    with_risk = frozenset(table.loc[table["status"].isin(["behind", "at risk"]), "kpi"])
    return Checker(
        "10.2", "the KPIs (kpi column of card.table) that are behind", behind,
        hint_text="card.table has a status column: keep the rows whose status is exactly 'behind'.",
        solution_text="answer = set(card.table.loc[card.table[\"status\"] == \"behind\", \"kpi\"])",
        mistakes=(Mistake(with_risk if with_risk != behind else None,
                          "You included KPIs 'at risk' (90–100 % of target). Only 'behind' (below 90 %) was asked."),),
    )
