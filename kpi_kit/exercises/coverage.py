"""Exercises of ``03_coverage`` (and the warm-up 0.1 of ``00_start_here``)."""

from __future__ import annotations

import pandas as pd

from kpi_kit.coverage import SEED_TIERS, tiered_coverage
from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import account_arr, csm_metrics
from kpi_kit.periods import Period
from kpi_kit.strategic import renewals_due

__all__ = ["q_0_1", "q_3_1", "q_3_2", "q_3_3"]


def q_0_1(book: Book, csm_id: str, period: Period) -> Checker:
    """0.1 — the number of accounts in the CSM's book for the period."""
    acc = account_arr(book, period, csm_id)
    expected = int(acc["in_book"].sum())
    return Checker(
        "0.1", "How many accounts are in the CSM's book for the period?", expected,
        hint_text="account_arr(book, period, csm_id) has one row per account the CSM owns; the column "
                  "`in_book` says whether it has ARR > 0 at the beginning or the end of the period.",
        solution_text="acc = account_arr(book, period, csm_id)\nanswer = int(acc['in_book'].sum())",
        mistakes=(Mistake(len(acc), "you counted every account assigned to the CSM; the book only holds accounts "
                                    "with ARR > 0 in the month before START or in END."),),
    )


def q_3_1(book: Book, csm_id: str, period: Period) -> Checker:
    """3.1 — coverage % by hand: book accounts with any activity in the period / book size."""
    expected = csm_metrics(book, csm_id, period)["coverage_pct"]
    mistakes: list[Mistake] = []
    if book.recorded("activities"):
        acc = account_arr(book, period, csm_id)
        books = acc.loc[acc["in_book"], "account_id"]
        acts = book.activities.loc[period.contains(book.activities["date"])]
        personal = acts.loc[acts["type"] != "automated_email", "account_id"]
        own = acts.loc[acts["csm_id"] == csm_id, "account_id"]
        if len(books):
            mistakes += [
                Mistake(100.0 * int(books.isin(personal).sum()) / len(books),
                        "automated emails count for coverage: any activity type engages an account."),
                Mistake(100.0 * int(books.isin(own).sum()) / len(books),
                        "coverage counts activities by anyone on the account, not only the CSM's own."),
            ]
            mistakes.append(Mistake(int(books.isin(acts["account_id"]).sum()),
                                    "that is the number of accounts covered; give the percentage of the book."))
    return Checker(
        "3.1", "Compute the CSM's coverage % by hand (pandas) and compare with the kit", expected,
        hint_text="Book accounts: account_arr(book, period, csm_id) with in_book True. Covered: those whose "
                  "account_id appears in book.activities dated in the period (any type, anyone). "
                  "100 × covered / book size; None when activities are not recorded.",
        solution_text=("acc = account_arr(book, period, csm_id)\n"
                       "book_ids = acc.loc[acc['in_book'], 'account_id']\n"
                       "touched = book.activities.loc[period.contains(book.activities['date']), 'account_id']\n"
                       "answer = 100 * book_ids.isin(touched).mean() if book.recorded('activities') else None"),
        mistakes=tuple(mistakes),
    )


def q_3_2(book: Book, csm_id: str, period: Period) -> Checker:
    """3.2 — the seed's tiered coverage by hand (88 %, not the claimed 90 %)."""
    model = tiered_coverage(SEED_TIERS)
    return Checker(
        "3.2", "Blend the seed's tiers (10 at 100 %, 20 at 90 %, 20 at 80 %) into one coverage %",
        model.blended_target_pct,
        hint_text="Count the accounts each tier engages (accounts × target), add them up and divide by all accounts.",
        solution_text="answer = 100 * (10 * 1.0 + 20 * 0.9 + 20 * 0.8) / 50",
        mistakes=(Mistake(model.simple_average_pct, "that is the plain average of the three targets (and the seed's "
                                                    "claim): weight each tier by its number of accounts."),),
    )


def q_3_3(book: Book, csm_id: str, period: Period) -> Checker:
    """3.3 — the renewals in the 90 days after the period's end that have had no personal touch in 90 days."""
    due = renewals_due(book, csm_id, period.end_date, 90, period)
    if book.recorded("activities"):
        expected: frozenset[str] | None = frozenset(due.loc[~due["contacted_90d"].astype(bool), "account_id"])
        all_due = frozenset(due["account_id"])
    else:
        expected, all_due = None, None
    return Checker(
        "3.3", "Which accounts renewing in the 90 days after the period's end have not been contacted?", expected,
        hint_text="renewals_due(book, csm_id, period.end_date, 90, period) lists the renewals with a boolean "
                  "column `contacted_90d`; give the account_ids where it is False (a set). None without activity data.",
        solution_text=("due = renewals_due(book, csm_id, period.end_date, 90, period)\n"
                       "answer = set(due.loc[~due['contacted_90d'].astype(bool), 'account_id']) "
                       "if book.recorded('activities') else None"),
        mistakes=(Mistake(all_due if all_due != expected else None,
                          "that is every renewal in the window; keep only those not contacted."),),
        compare=_same_ids,
    )


def _same_ids(answer: object, expected: object) -> bool:
    if expected is None or answer is None:
        return answer is None and expected is None
    if isinstance(answer, (str, bytes)):
        return False
    values = answer.tolist() if isinstance(answer, (pd.Series, pd.Index)) else answer
    try:
        return {str(v) for v in values} == set(expected)  # type: ignore[arg-type,union-attr]
    except TypeError:
        return False
