"""Exercises of ``02_engagement`` (and the warm-up 0.2 of ``00_start_here``).

Each factory computes the right answer from the learner's own book with the kit, so it works for any
book and CSM; when the book does not record activities the right answer is ``None`` (no data, not 0).
"""

from __future__ import annotations

import pandas as pd

from kpi_kit.data import Book
from kpi_kit.engagement import SEED_PLAN_COUNTS, plan_calls, tier_minimums
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import CALL_TYPES, csm_metrics
from kpi_kit.periods import Period

__all__ = ["q_0_2", "q_2_1", "q_2_2", "q_2_3"]


def _activities_in_period(book: Book, period: Period) -> pd.DataFrame:
    acts = book.activities
    return acts.loc[period.contains(acts["date"])]


def q_0_2(book: Book, csm_id: str, period: Period) -> Checker:
    """0.2 — the CSM's touchpoints in the period, read from the kit's metrics."""
    m = csm_metrics(book, csm_id, period)
    return Checker(
        "0.2", "How many touchpoints (all activities) did the CSM log in the period?", m["touchpoints"],
        hint_text="`m = csm_metrics(book, csm_id, period)` returns a dict; the key is \"touchpoints\". "
                  "A book that does not record activities has None there (no data), never 0.",
        solution_text='answer = csm_metrics(book, csm_id, period)["touchpoints"]',
        mistakes=(Mistake(m["calls"], "that is the number of calls (call, meeting, QBR); touchpoints are all activities."),),
    )


def q_2_1(book: Book, csm_id: str, period: Period) -> Checker:
    """2.1 — calls by hand with pandas: the CSM's activities of type call, meeting or qbr in the period."""
    expected = csm_metrics(book, csm_id, period)["calls"]
    mistakes: list[Mistake] = []
    if book.recorded("activities"):
        acts = _activities_in_period(book, period)
        mine = acts.loc[acts["csm_id"] == csm_id]
        mistakes += [
            Mistake(len(mine), "you counted every activity type: calls are only call, meeting and qbr."),
            Mistake(int((mine["type"] == "call").sum()), "meetings and QBRs are calls too: use type in call, meeting, qbr."),
        ]
        others = acts.loc[acts["type"].isin(CALL_TYPES) & acts["account_id"].isin(
            book.accounts.loc[book.accounts["csm_id"] == csm_id, "account_id"])]
        mistakes.append(Mistake(len(others), "you counted calls on the CSM's accounts by anyone; calls count for the "
                                             "CSM who made them (filter on activities.csm_id)."))
    return Checker(
        "2.1", "Count the CSM's calls in the period by hand (pandas) and compare with the kit", expected,
        hint_text="Filter book.activities on csm_id, on the date (period.contains(acts['date'])) and on "
                  "type.isin(['call', 'meeting', 'qbr']), then take len(). If book.recorded('activities') is "
                  "False the answer is None.",
        solution_text=("acts = book.activities\n"
                       "calls = acts[(acts['csm_id'] == csm_id) & period.contains(acts['date'])\n"
                       "             & acts['type'].isin(['call', 'meeting', 'qbr'])]\n"
                       "answer = len(calls) if book.recorded('activities') else None"),
        mistakes=tuple(mistakes),
    )


def q_2_2(book: Book, csm_id: str, period: Period) -> Checker:
    """2.2 — how many book accounts miss their tier minimum (None without activity data)."""
    check = tier_minimums(book, csm_id, period)
    expected = len(check.missing) if check.recorded else None
    meeting = int(check.table["meets"].sum()) if check.recorded else None
    return Checker(
        "2.2", "How many of the CSM's book accounts miss their tier minimum in the period?", expected,
        hint_text="tier_minimums(book, csm_id, period) returns a result whose .table has a boolean column "
                  "`meets` (and .missing lists the accounts that miss).",
        solution_text="check = tier_minimums(book, csm_id, period)\n"
                      "answer = len(check.missing) if check.recorded else None",
        mistakes=(Mistake(meeting, "that is the number of accounts that *meet* their minimum."),),
    )


def q_2_3(book: Book, csm_id: str, period: Period, budget: int = 25) -> Checker:
    """2.3 — the seed's plan with another budget: months for the mid-market rotation to go round once."""
    plan = plan_calls(SEED_PLAN_COUNTS, budget)
    expected = plan.rotation_months
    calls = plan.calls("mid-market")
    exact = SEED_PLAN_COUNTS["mid-market"] / calls if calls else None
    return Checker(
        "2.3", f"With a budget of {budget} calls, how many months does the seed's mid-market rotation take?",
        expected,
        hint_text="plan_calls(SEED_PLAN_COUNTS, budget) serves enterprise (2 each) and at-risk (1 each) first; "
                  "the rest rotates over the mid-market accounts. A rotation takes whole months.",
        solution_text=f"answer = plan_calls(SEED_PLAN_COUNTS, {budget}).rotation_months",
        mistakes=(Mistake(exact if exact != expected else None,
                          "a rotation takes whole months: round the accounts / calls up."),),
    )
