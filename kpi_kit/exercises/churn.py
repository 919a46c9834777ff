"""Exercises of notebook 08 (churn). Each factory computes the right answer with the kit for any book and CSM."""

from __future__ import annotations

from kpi_kit.data import Book
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.metrics import monthly_equivalent
from kpi_kit.periods import Period
from kpi_kit.retention import annual_equivalent, retention

__all__ = ["q_8_1", "q_8_2", "q_8_3"]


def q_8_1(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 8.1: logo churn % over the period by hand (None with an empty cohort)."""
    r = retention(book, csm_id, period)
    n = r.cohort_accounts
    logo = 100.0 * r.churned_accounts / n if n else None
    book_n = n + r.new_accounts
    return Checker(
        "8.1", "logo churn % of your beginning cohort over the period, by hand with pandas", logo,
        hint_text="Cohort = accounts with begin > 0. Churned = cohort accounts with end == 0. 100 × churned / cohort.",
        solution_text=("acc = retention.book_accounts(book, csm_id, period)\n"
                       "cohort = acc.loc[acc[\"in_cohort\"]]\n"
                       "answer = 100 * (cohort[\"end\"] == 0).sum() / len(cohort) if len(cohort) else None"),
        mistakes=(Mistake(100.0 * r.churned_accounts / book_n if book_n and r.new_accounts else None,
                          "You divided by the whole book, new logos included. New logos were not customers at the "
                          "start, so they cannot churn out of the cohort: divide by the cohort only."),
                  Mistake(None if r.grr_pct is None else 100.0 - r.grr_pct,
                          "That is revenue churn (ARR lost). Logo churn counts accounts.")),
    )


def q_8_2(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 8.2: the monthly equivalent of the period's logo churn (compounded, not divided)."""
    r = retention(book, csm_id, period)
    logo = 100.0 * r.churned_accounts / r.cohort_accounts if r.cohort_accounts else None
    expected = None if logo is None else float(monthly_equivalent(logo, period.months))
    return Checker(
        "8.2", f"the monthly equivalent of your logo churn over the {period.months}-month period", expected,
        hint_text="A rate p over n months is 100 × (1 − (1 − p/100)^(1/n)) a month: churn compounds.",
        solution_text="answer = metrics.monthly_equivalent(logo_churn, period.months)",
        mistakes=(Mistake(None if logo is None or period.months == 1 else logo / period.months,
                          "You divided by the number of months. Churn compounds — each month's churn is taken from "
                          "what is left — so use 1 − (1 − p)^(1/n)."),),
    )


def q_8_3(book: Book, csm_id: str, period: Period) -> Checker:
    """Exercise 8.3: a year of the CSM's monthly revenue churn, compounded (None without beginning ARR)."""
    r = retention(book, csm_id, period)
    revenue = None if r.grr_pct is None else 100.0 - r.grr_pct
    monthly = None if revenue is None else float(monthly_equivalent(revenue, period.months))
    expected = None if monthly is None else annual_equivalent(monthly, 12)
    return Checker(
        "8.3", "your monthly revenue churn equivalent, compounded over 12 months", expected,
        hint_text="Annual = 100 × (1 − (1 − m/100)^12) with m the monthly rate (retention.annual_equivalent).",
        solution_text=("monthly = metrics.monthly_equivalent(100 - ret.grr_pct, period.months)\n"
                       "answer = retention.annual_equivalent(monthly, 12)"),
        mistakes=(Mistake(None if monthly is None or monthly == 0 else 12 * monthly,
                          "You multiplied by 12: that overstates churn (5 % a month is 46 % a year, not 60 %) "
                          "because each month churns a share of what is left."),),
    )
