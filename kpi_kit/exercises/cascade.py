"""Exercises of notebook 01 (the KPI cascade). Each factory computes the right answer with the kit
for any book and CSM, and recognises the typical mistakes."""

from __future__ import annotations

import pandas as pd

from kpi_kit import fmt
from kpi_kit.cascade import cascade_targets
from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import account_arr, attributed
from kpi_kit.periods import Period
from kpi_kit.team import team_rollup

__all__ = ["q_1_1", "q_1_2"]


def _value(x: object) -> float | None:
    """A float, or None for a missing value (NaN / None / NA)."""
    return None if fmt.is_missing(x) else float(x)  # type: ignore[arg-type]


def _blend(weights: pd.Series, segment_targets: dict[str, dict[str, float]], key: str) -> float | None:
    """Σ target_s × weight_s / Σ weight_s over the segments with a positive weight (None when none)."""
    weights = weights.loc[weights > 0]
    total = float(weights.sum())
    if total <= 0:
        return None
    return float(sum(segment_targets[str(s)][key] * w for s, w in weights.items()) / total)


def q_1_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 1.1: the CSM's annual GRR target, blended by hand from beginning ARR by segment.

    The expected value is the kit's annual GRR target of the CSM (``grr_annual_pct`` of
    :func:`kpi_kit.cascade.cascade_targets`): the segments' annual GRR targets weighted by the CSM's
    beginning ARR in each segment, Σ target_s × begin_s / Σ begin_s over the beginning cohort; the
    company goal without beginning ARR; a ``targets.yaml`` override when the CSM has one.
    """
    csm_id = book.check_csm(csm_id)
    ct = cascade_targets(book, period)
    expected = float(ct.table.at[csm_id, "grr_annual_pct"])
    held = float(ct.table.at[csm_id, "grr_pct"])
    segments = book.targets["segments"]
    acc = account_arr(attributed(book, period), period, csm_id)
    cohort = acc.loc[acc["in_cohort"]]
    by_begin = cohort.groupby("segment")["begin"].sum()
    by_end = cohort.groupby("segment")["end"].sum()
    own = [segments[str(s)]["grr_pct"] for s, b in by_begin.items() if b > 0]
    every = [v["grr_pct"] for v in segments.values()]
    blend = _blend(by_begin, segments, "grr_pct")
    override = (book.targets.get("csms") or {}).get(csm_id, {}).get("grr_pct")
    mistakes = [
        Mistake(held if abs(held - expected) > 1e-9 else None,
                "That is the target held to the period (the period's share of the annual rate). The exercise "
                "asks for the annual blend, before period_rate scales it."),
        Mistake(sum(own) / len(own) if len(own) > 1 else None,
                "You averaged your segments' targets without weights. A $1M enterprise account must count "
                "more than a $10K SMB one: weight each segment's target by your beginning ARR in it."),
        Mistake(sum(every) / len(every) if every else None,
                "You averaged all the segment targets. Use only your own book, weighted by your beginning ARR."),
        Mistake(_blend(by_end, segments, "grr_pct"),
                "You weighted by ending ARR. Targets are set at the start of the period, so the weight is "
                "the beginning ARR (`begin`) of your beginning cohort."),
        Mistake(float(book.targets["company"]["grr_pct"]),
                "That is the company's GRR goal. Your target is the segment targets blended by your book's mix."),
    ]
    if override is not None:
        mistakes.insert(0, Mistake(blend, "Right blend, but targets.yaml sets your GRR target "
                                          f"(csms.{csm_id}.grr_pct); the override wins over the blend."))
    return Checker(
        "1.1", "your annual GRR target: segment targets weighted by your beginning ARR in each segment",
        expected,
        hint_text=("Take metrics.account_arr(...) for your book, keep the beginning cohort (in_cohort), sum `begin` "
                   "by segment, then Σ (segment GRR target × beginning ARR) / Σ beginning ARR. The segment "
                   "targets are in book.targets[\"segments\"]."),
        solution_text=(
            "acc = metrics.account_arr(metrics.attributed(book, period), period, csm_id)\n"
            "begin_by_segment = acc.loc[acc[\"in_cohort\"]].groupby(\"segment\")[\"begin\"].sum()\n"
            "segment_grr = pd.Series({seg: t[\"grr_pct\"] for seg, t in book.targets[\"segments\"].items()})\n"
            "if begin_by_segment.sum() > 0:\n"
            "    answer = (segment_grr[begin_by_segment.index] * begin_by_segment).sum() / begin_by_segment.sum()\n"
            "else:\n"
            "    answer = book.targets[\"company\"][\"grr_pct\"]"),
        mistakes=tuple(mistakes),
    )


def q_1_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 1.2: the team's NRR % from the CSMs' parts, Σ ending ARR / Σ beginning ARR.

    The expected value is the team row of :func:`kpi_kit.team.team_rollup` (None when the team has no
    beginning ARR). The typical mistake — the average of the CSMs' NRR percentages — is recognised.
    """
    csm_id = book.check_csm(csm_id)
    r = team_rollup(book, period)
    csms, team = r.csms, r.team.iloc[0]
    begin = float(csms["beginning_arr"].sum())
    with_new = 100.0 * (float(csms["ending_arr"].sum()) + float(csms["new_arr"].sum())) / begin if begin > 0 else None
    return Checker(
        "1.2", "the team's NRR % from the CSMs' beginning and ending ARR", _value(team["nrr_pct"]),
        hint_text=("team_rollup(book, period).csms has one row per CSM with beginning_arr and ending_arr. Add "
                   "them up first, then divide: 100 × Σ ending / Σ beginning. Never average the percentages."),
        solution_text=("csms = team.team_rollup(book, period).csms\n"
                       "answer = 100 * csms[\"ending_arr\"].sum() / csms[\"beginning_arr\"].sum()"),
        mistakes=(
            Mistake(_value(csms["nrr_pct"].mean()),
                    "You averaged the CSMs' NRRs. A CSM with a $100K book would weigh as much as one with $3M; "
                    "sum the ending ARR and the beginning ARR over the CSMs, then divide."),
            Mistake(with_new, "You included new logos in NRR: ending_arr already covers the beginning cohort; "
                              "new_arr (accounts won during the period) is not part of NRR."),
            Mistake(_value(team["grr_pct"]), "That is the team's GRR (retained ARR). NRR uses ending ARR, "
                                             "expansion included."),
            Mistake(_value(csms.at[csm_id, "nrr_pct"]), "That is your own NRR; the exercise asks for the team's."),
        ),
    )
