"""Exercises of notebook 07 (NRR). Each factory computes the right answer with the kit for any book and CSM."""

from __future__ import annotations

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.periods import Period
from kpi_kit.retention import retention

__all__ = ["q_7_1", "q_7_2"]

NEW_LOGOS = "you included new logos in NRR: only the beginning cohort (begin > 0) counts, in the numerator too."


def q_7_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 7.1: the CSM's NRR % by hand (None without beginning ARR)."""
    r = retention(book, csm_id, period)
    return Checker(
        "7.1", "NRR % of your book, computed by hand with pandas", r.nrr_pct,
        hint_text="Keep only the beginning cohort (begin > 0); NRR = 100 × Σ end / Σ begin over it.",
        solution_text=("acc = retention.book_accounts(book, csm_id, period)\n"
                       "cohort = acc.loc[acc[\"in_cohort\"]]\n"
                       "answer = 100 * cohort[\"end\"].sum() / cohort[\"begin\"].sum() if len(cohort) else None"),
        mistakes=(Mistake(r.nrr_with_new_logos_pct, NEW_LOGOS),
                  Mistake(r.grr_pct, "You capped each account at its beginning ARR: that is GRR. NRR counts "
                                     "expansion too: Σ end / Σ begin.")),
    )


def q_7_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 7.2: net ARR (in dollars) missing to reach the NRR target (0 when on target)."""
    r = retention(book, csm_id, period)
    points = None if r.nrr_pct is None or r.nrr_target is None else max(r.nrr_target - r.nrr_pct, 0.0)
    with_new = None
    if r.nrr_with_new_logos_pct is not None and r.nrr_target is not None:
        with_new = max(r.nrr_target - r.nrr_with_new_logos_pct, 0.0) / 100.0 * r.beginning_arr
    return Checker(
        "7.2", "dollars of net ARR (expansion or avoided losses) missing to reach your NRR target", r.nrr_gap_arr,
        tolerance=1.0,
        hint_text="Points short = max(target − NRR, 0). Each point is 1 % of your beginning ARR.",
        solution_text="answer = max(ret.nrr_target - ret.nrr_pct, 0) / 100 * ret.beginning_arr",
        mistakes=(Mistake(points, "That is the gap in percentage points; turn it into dollars: × beginning ARR / 100."),
                  Mistake(with_new, "You started from NRR with new logos: " + NEW_LOGOS)),
    )
