"""Exercises of ``04_sqls``."""

from __future__ import annotations

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import csm_metrics
from kpi_kit.periods import Period
from kpi_kit.sqls import SEED_EXAMPLE, assess_sql, sql_quality

__all__ = ["q_4_1", "q_4_2", "q_4_3"]


def q_4_1(book: Book, csm_id: str, period: Period) -> Checker:
    """4.1 — SQL pipeline by hand: Σ expansion_arr of the CSM's SQLs created in the period."""
    expected = csm_metrics(book, csm_id, period)["sql_pipeline"]
    mistakes: list[Mistake] = []
    if book.recorded("sqls"):
        sqls = book.sqls.loc[book.sqls["csm_id"] == csm_id]
        created = sqls.loc[period.contains(sqls["created_date"])]
        closed = sqls.loc[period.contains(sqls["closed_date"])]
        mistakes += [
            Mistake(float(created.loc[created["status"] == "won", "expansion_arr"].sum()),
                    "the pipeline is every SQL raised in the period, whatever its status, not only the won ones."),
            Mistake(float(closed["expansion_arr"].sum()),
                    "you took the SQLs *closed* in the period; the pipeline counts the SQLs *created* in it."),
            Mistake(float(len(created)), "that is the number of SQLs; the pipeline is the sum of their expansion_arr."),
        ]
    return Checker(
        "4.1", "Compute the CSM's SQL pipeline by hand (pandas) and compare with the kit", expected,
        hint_text="Filter book.sqls on csm_id and on created_date in the period (period.contains), then sum "
                  "expansion_arr. None when the book does not record SQLs.",
        solution_text=("sqls = book.sqls\n"
                       "raised = sqls[(sqls['csm_id'] == csm_id) & period.contains(sqls['created_date'])]\n"
                       "answer = float(raised['expansion_arr'].sum()) if book.recorded('sqls') else None"),
        mistakes=tuple(mistakes),
    )


def q_4_2(book: Book, csm_id: str, period: Period) -> Checker:
    """4.2 — the average quality score of the CSM's SQLs created in the period."""
    quality = sql_quality(book, csm_id, period)
    expected = quality.average_score_pct
    mistakes: list[Mistake] = []
    if quality.scored:
        scores = quality.table["quality_score_pct"].dropna()
        mistakes.append(Mistake(100.0 * float((scores == 100).mean()),
                                "that is the share of fully qualified SQLs; the score is the share of the four "
                                "criteria met, averaged over the SQLs."))
        mistakes.append(Mistake(float(quality.table["criteria_met"].astype("float64").mean()),
                                "that is the average number of criteria met (out of 4); give it as a percentage."))
    return Checker(
        "4.2", "What is the average quality score (share of need/budget/timeline/stakeholder met) of the CSM's SQLs?",
        expected,
        hint_text="sql_quality(book, csm_id, period).table has quality_score_pct per SQL (NaN when a criterion "
                  "is blank); .average_score_pct is None when nothing is scored.",
        solution_text="answer = sql_quality(book, csm_id, period).average_score_pct",
        mistakes=tuple(mistakes),
    )


def q_4_3(book: Book, csm_id: str, period: Period) -> Checker:
    """4.3 — the seed's example SQL: the expansion as a percentage of the account's current ARR."""
    ex = assess_sql(**SEED_EXAMPLE)  # type: ignore[arg-type]
    return Checker(
        "4.3", "The seed's SQL: $75K potential on a $50K ARR account. The expansion is what % of current ARR?",
        ex.expansion_pct,
        hint_text="Divide the expansion by the account's ARR, times 100.",
        solution_text="answer = 100 * 75_000 / 50_000",
        mistakes=(Mistake(100.0 * ex.account_arr / ex.expansion_arr, "you divided the wrong way round: expansion / ARR."),
                  Mistake(ex.account_nrr_if_won_pct, "that is the account's ARR after the expansion (its NRR if "
                                                     "won); the expansion alone is the increase.")),
    )
