"""Exercises of notebook 06 (ARR retention / GRR). Each factory computes the right answer with the kit
for any book and CSM, and recognises the typical mistakes."""

from __future__ import annotations

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.periods import Period
from kpi_kit.retention import retention, retention_by_segment

__all__ = ["q_6_1", "q_6_2"]


def q_6_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 6.1: the CSM's GRR % by hand from ``kpi_kit.retention.book_accounts`` (None without beginning ARR)."""
    r = retention(book, csm_id, period)
    churn = None if r.grr_pct is None else 100.0 - r.grr_pct
    return Checker(
        "6.1", "GRR % of your book, computed by hand with pandas", r.grr_pct,
        hint_text=("Keep the beginning cohort (begin > 0). For each account take min(end, begin) — the cap at "
                   "beginning ARR — then 100 × the sum of that / the sum of begin."),
        solution_text=("acc = retention.book_accounts(book, csm_id, period)\n"
                       "cohort = acc.loc[acc[\"in_cohort\"]]\n"
                       "kept = cohort[[\"begin\", \"end\"]].min(axis=1)\n"
                       "answer = 100 * kept.sum() / cohort[\"begin\"].sum() if len(cohort) else None"),
        mistakes=(Mistake(r.nrr_pct, "You did not cap each account at its beginning ARR: Σ end / Σ begin is NRR. "
                                     "GRR takes min(end, begin) per account, so expansion cannot hide losses."),
                  Mistake(churn, "That is revenue churn (100 − GRR). GRR is the share of beginning ARR kept.")),
    )


def q_6_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 6.2: the CSM's annual GRR target, the segment targets blended by beginning ARR."""
    r = retention(book, csm_id, period)
    segments = book.targets.get("segments", {})
    plain = [v["grr_pct"] for v in segments.values() if "grr_pct" in v]
    mine = retention_by_segment(book, csm_id, period)
    simple_mine = float(mine["grr_target_annual"].mean()) if len(mine) else None
    held = r.grr_target if r.grr_target != r.grr_target_annual else None
    return Checker(
        "6.2", "your annual GRR target: the segment targets weighted by your beginning ARR in each segment",
        r.grr_target_annual,
        hint_text=("retention_by_segment(...) gives each segment's beginning ARR and annual GRR target "
                   "(grr_target_annual). The blend is Σ (target × beginning ARR) / Σ beginning ARR."),
        solution_text=("seg = retention.retention_by_segment(book, csm_id, period)\n"
                       "answer = (seg[\"grr_target_annual\"] * seg[\"beginning_arr\"]).sum() / seg[\"beginning_arr\"].sum()"),
        mistakes=(Mistake(sum(plain) / len(plain) if plain else None,
                          "You averaged all segment targets. Weight each segment's target by your beginning ARR in it."),
                  Mistake(simple_mine, "You averaged your segments' targets without weights: a $1M enterprise "
                                       "account must count more than a $10K SMB one. Weight by beginning ARR."),
                  Mistake(held, "That is the target held to the period (grr_target); the exercise asks for the "
                                "annual blend (grr_target_annual)."),
                  Mistake(book.targets.get("company", {}).get("grr_pct"),
                          "That is the company's GRR goal, not your segment-blended target.")),
    )
