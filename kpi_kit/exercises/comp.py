"""Pay outlook, the worth of closing a gap, and the exercises of notebook ``12_comp_modelling``.

* :func:`pay_outlook` — the CSM's projected pay for the period from the current pace:
  :func:`kpi_kit.forecast.attainment_samples` (seeded simulation of each plan metric's period-end
  attainment) priced by :func:`kpi_kit.comp.forecast_pay` (P10 / P50 / P90).
* :func:`gap_worth` — what *n* more points of attainment on one metric add to the variable pay.

Both are pure (no I/O, seeded randomness only). A book that does not record what a plan metric needs
(e.g. activities for ``calls``) gets no forecast and a plain-language reason, never a silent 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.comp import CompPlan, PayForecast, forecast_pay, load_plan
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.exercises.forecasting import distinct_mistakes
from kpi_kit.forecast import DEFAULT_SEED, AttainmentSamples, attainment_samples, resolve_period
from kpi_kit.periods import Period
from kpi_kit.widgets import comp_what_if, csm_attainment_pcts

__all__ = ["PayOutlook", "pay_outlook", "gap_worth", "gap_table", "months_so_far", "points_to_threshold", "retention_metric", "q_12_1", "q_12_2"]

#: Which book file each simulated KPI needs.
_SOURCES = {"calls": "activities", "touchpoints": "activities", "qbrs": "activities", "sqls": "sqls"}
_SOURCE_WORDS = {"activities": "CSM activities", "sqls": "SQLs"}


@dataclass(frozen=True)
class PayOutlook:
    """Projected pay for a period, judged from ``as_of`` (see :func:`pay_outlook`).

    Attributes
    ----------
    forecast
        The :class:`~kpi_kit.comp.PayForecast` (P10 / P50 / P90), or None when it cannot be made.
    samples
        The simulated attainments, or None.
    median_pcts
        Each metric's median simulated attainment (percent), or None.
    reason
        Why there is no forecast ("" when there is one).
    """

    csm_id: str
    period: Period
    as_of: str
    months: int
    plan: CompPlan
    forecast: PayForecast | None
    samples: AttainmentSamples | None
    median_pcts: dict[str, float] | None
    reason: str = ""

    @property
    def table(self) -> pd.DataFrame:
        """``percentile, variable_payout, total_earnings`` (empty without a forecast)."""
        if self.forecast is None:
            return pd.DataFrame({"percentile": pd.Series(dtype="str"), "variable_payout": pd.Series(dtype="float64"),
                                 "total_earnings": pd.Series(dtype="float64")})
        return self.forecast.table

    def sentence(self) -> str:
        """The outlook in one sentence."""
        if self.forecast is None:
            return self.reason
        f = self.forecast
        cur = self.plan.currency
        return (f"At the current pace, {self.csm_id}'s total earnings for {self.period} ({self.months} months) land "
                f"between {fmt.money(f.p10, cur)} (P10) and {fmt.money(f.p90, cur)} (P90), median {fmt.money(f.p50, cur)} "
                f"— on-target earnings are {fmt.money(self.plan.ote * self.months / 12, cur)}.")

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.sentence())}</p>" + ("" if self.forecast is None else self.table.to_html(index=False))


def pay_outlook(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp,
                plan: CompPlan | Mapping[str, Any] | None = None, *, n: int = 1000,
                seed: int = DEFAULT_SEED) -> PayOutlook:
    """Projected pay for ``period`` from the CSM's pace on ``as_of``.

    Definition: ``n`` seeded simulations of every plan metric's period-end attainment
    (:func:`kpi_kit.forecast.attainment_samples` — retention from the renewal model, counts from the
    to-date rate), each priced with the plan (:func:`kpi_kit.comp.forecast_pay`, ``months`` = the
    period's length). P10 / P50 / P90 are inverted-CDF percentiles of the simulated payouts.

    Parameters
    ----------
    plan
        Default: the book's ``comp_plan.yaml``, else the seed's plan.

    Returns
    -------
    PayOutlook
        With ``forecast = None`` and a ``reason`` when the book does not record a plan metric's data
        or the simulation is impossible (e.g. no beginning ARR).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> o = pay_outlook(load_book(), "csm_01", "2026-01..2026-12", "2026-09-30", n=200)
    >>> o.forecast.p10 <= o.forecast.p50 <= o.forecast.p90
    True
    """
    used = load_plan(plan if plan is not None else book.comp_plan)
    csm_id = book.check_csm(csm_id)
    per = resolve_period(period, as_of)
    months = per.months

    def empty(reason: str) -> PayOutlook:
        return PayOutlook(csm_id, per, str(as_of), months, used, None, None, None, reason)

    for m in used.metrics:
        source = _SOURCES.get(m.kpi)
        if source is not None and not book.recorded(source):
            return empty(f"This book does not record {_SOURCE_WORDS[source]}, so the plan's {m.name} metric "
                         f"({m.kpi}, {fmt.pct(float(m.weight) * 100, 0)} of the variable pay) cannot be measured "
                         "or forecast: no pay forecast.")
    try:
        samples = attainment_samples(book, csm_id, per, as_of, n=n, seed=seed, plan=used)
    except KitError as exc:
        return empty(f"No pay forecast: {exc}")
    forecast = forecast_pay(used, samples, months=months)
    medians = {str(r.metric): float(r.p50_pct) for r in samples.table.itertuples(index=False)}
    return PayOutlook(csm_id, per, samples.as_of, months, used, forecast, samples, medians)


def months_so_far(period: Period, as_of: str | pd.Timestamp) -> Period | None:
    """The months of ``period`` that have ended by ``as_of`` (a month counts once ``as_of`` is its last day or later).

    Examples
    --------
    >>> p = Period.parse("2026-01", "2026-12")
    >>> str(months_so_far(p, "2026-09-30")), str(months_so_far(p, "2026-09-29")), months_so_far(p, "2026-01-15")
    ('2026-01..2026-09', '2026-01..2026-08', None)
    """
    try:
        day = pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError):
        raise KitError(f"as_of {as_of!r} is not a date; write it as YYYY-MM-DD") from None
    month = pd.Period(day, freq="M")
    last = month if day == month.end_time.normalize() else month - 1
    last = min(last, period.end)
    return None if last < period.start else Period(period.start, last)


def retention_metric(plan: CompPlan) -> str:
    """The name of the plan metric measured by GRR (``retention`` in the seed's plan), else the first metric."""
    return next((m.name for m in plan.metrics if m.kpi == "grr_pct"), plan.metrics[0].name)


def gap_worth(plan: CompPlan | Mapping[str, Any] | None, attainment_pcts: Mapping[str, float], metric: str,
              points: float = 5, *, months: int = 12) -> dict[str, Decimal]:
    """What ``points`` more points of attainment on ``metric`` add to the variable pay.

    Definition: ``variable_payout(a with a[metric] + points) − variable_payout(a)`` with
    :func:`kpi_kit.widgets.comp_what_if` (each metric capped, weighted, the curve applied, cents).

    Returns
    -------
    dict
        ``before``, ``after``, ``worth`` (Decimal money) and ``attainment_before``, ``attainment_after``
        (overall attainment, percent).

    Examples
    --------
    Seed plan, everything on target, +5 points of retention: overall +0.45 × 5 = 2.25 points, each
    point between 80 % and 120 % is worth 2.5 % of $20,000 = $500, so 2.25 × $500 = $1,125:

    >>> str(gap_worth(None, {"retention": 100, "expansion": 100, "activity": 100}, "retention")["worth"])
    '1125.00'
    """
    if metric not in attainment_pcts:
        raise KitError(f"gap_worth: metric {metric!r} is not among {list(attainment_pcts)}")
    before = comp_what_if(plan, attainment_pcts, months=months)
    after = comp_what_if(plan, {**attainment_pcts, metric: float(attainment_pcts[metric]) + float(points)}, months=months)
    return {"before": before["variable_payout"], "after": after["variable_payout"],
            "worth": after["variable_payout"] - before["variable_payout"],
            "attainment_before": before["attainment_pct"], "attainment_after": after["attainment_pct"]}


def gap_table(plan: CompPlan | Mapping[str, Any] | None, attainment_pcts: Mapping[str, float],
              points: tuple[float, ...] = (5, 10, 20), *, months: int = 12) -> pd.DataFrame:
    """:func:`gap_worth` for every metric and each number of ``points``.

    Returns
    -------
    pandas.DataFrame
        ``metric, attainment_pct`` (the starting attainment), ``points``, ``overall_after_pct``,
        ``worth`` (extra variable pay, money rounded to cents), one row per (metric, points).

    Examples
    --------
    Seed plan on target: +5 points of activity (weight 20 %) = 1 point overall = $500.

    >>> t = gap_table(None, {"retention": 100, "expansion": 100, "activity": 100}, (5,))
    >>> t.set_index("metric")["worth"].to_dict()
    {'retention': 1125.0, 'expansion': 875.0, 'activity': 500.0}
    """
    used = load_plan(plan)
    rows = []
    for m in used.metrics:
        for pts in points:
            g = gap_worth(used, attainment_pcts, m.name, pts, months=months)
            rows.append({"metric": m.name, "attainment_pct": float(attainment_pcts[m.name]), "points": float(pts),
                         "overall_after_pct": float(g["attainment_after"]), "worth": float(g["worth"])})
    return pd.DataFrame(rows, columns=["metric", "attainment_pct", "points", "overall_after_pct", "worth"]).astype(
        {"metric": "str"})


def points_to_threshold(plan: CompPlan | Mapping[str, Any] | None,
                        attainment_pcts: Mapping[str, float]) -> dict[str, float | None]:
    """Points of attainment each metric alone would need to lift the overall attainment to the plan's threshold.

    Definition: with overall ``A = Σ wⱼ·min(aⱼ, cap)`` (percent) and threshold ``T``, metric *i* needs
    ``(T − A) / wᵢ`` more points (0 when ``A ≥ T``); None when its cap (or a weight of 0) makes that impossible.

    Examples
    --------
    Overall 70 % on the seed plan (threshold 80 %): 10 points short, so retention (weight 0.45) needs
    10 / 0.45 = 22.2 points, activity (0.20) 50:

    >>> r = points_to_threshold(None, {"retention": 70, "expansion": 70, "activity": 70})
    >>> round(r["retention"], 1), r["activity"]
    (22.2, 50.0)
    """
    used = load_plan(plan)
    cap = used.metric_attainment_cap * 100
    capped = {m.name: min(Decimal(str(attainment_pcts[m.name])), cap) for m in used.metrics}
    overall = sum((m.weight * capped[m.name] for m in used.metrics), Decimal(0))
    short = used.threshold * 100 - overall
    out: dict[str, float | None] = {}
    for m in used.metrics:
        if short <= 0:
            out[m.name] = 0.0
        elif m.weight == 0 or capped[m.name] + short / m.weight > cap:
            out[m.name] = None
        else:
            out[m.name] = float(short / m.weight)
    return out


def q_12_1(book: Book, csm_id: str, period: Period | None, plan: CompPlan | Mapping[str, Any] | None = None, *,
           card: Any = None) -> Checker:
    """12.1 — the CSM's overall (weighted) attainment % for the period, by hand from the scorecard.

    ``period`` None (no month over yet) or a plan metric without data gives the expected answer None.
    ``card``: the CSM's :class:`~kpi_kit.scorecard.Scorecard` for the period, when already computed.
    """
    from kpi_kit.scorecard import scorecard

    used = load_plan(plan if plan is not None else book.comp_plan)
    pcts: dict[str, float | None] = {m.name: None for m in used.metrics}
    if period is not None:
        card = card if card is not None else scorecard(book, csm_id, period)
        pcts = csm_attainment_pcts(book, csm_id, period, used, card=card)
    expected = None
    mistakes: list[Mistake] = []
    if period is not None and all(v is not None for v in pcts.values()):
        expected = float(comp_what_if(used, pcts)["attainment_pct"])
        values = [float(v) for v in pcts.values() if v is not None]
        mistakes.append(Mistake(sum(values) / len(values),
                                "that is the plain average of the metrics' attainments; weight each one by the plan."))
        raw = csm_attainment_pcts(book, csm_id, period, used, card=card, capped=False)
        if all(v is not None for v in raw.values()):
            uncapped = sum(float(m.weight) * float(raw[m.name] or 0) for m in used.metrics)
            if abs(uncapped - expected) > 0.01:
                mistakes.append(Mistake(uncapped, f"cap each metric's attainment at "
                                                  f"{fmt.pct(float(used.metric_attainment_cap) * 100, 0)} before weighting."))
    return Checker(
        "12.1", "Your overall attainment %: the plan's weights × each metric's attainment", expected,
        hint_text=("For each plan metric (plan.table: metric, kpi, weight) take the scorecard row of its kpi: "
                   "attainment = 100 × actual / target, at most 200. Overall = Σ weight × attainment. "
                   "None when a metric has no data in this book."),
        solution_text=("t = card.table.set_index('kpi')\n"
                       "rows = plan.table.assign(target=lambda d: d['kpi'].map(t['target']),\n"
                       "                         actual=lambda d: d['kpi'].map(t['actual']))\n"
                       "att = (100 * rows['actual'] / rows['target']).clip(upper=200)\n"
                       "answer = None if att.isna().any() else float((rows['weight'] * att).sum())"),
        mistakes=distinct_mistakes(mistakes, expected),
    )


def q_12_2(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp,
           plan: CompPlan | Mapping[str, Any] | None = None, *, points: float = 5, n: int = 1000,
           seed: int = DEFAULT_SEED, outlook: PayOutlook | None = None) -> Checker:
    """12.2 — what ``points`` more points of retention attainment are worth at the median outcome (variable pay, $).

    ``outlook``: the :func:`pay_outlook` of the same arguments, when already computed.
    """
    if outlook is None:
        outlook = pay_outlook(book, csm_id, period, as_of, plan, n=n, seed=seed)
    expected = None
    mistakes: list[Mistake] = []
    if outlook.median_pcts is not None:
        name = retention_metric(outlook.plan)
        months = outlook.months
        expected = float(gap_worth(outlook.plan, outlook.median_pcts, name, points, months=months)["worth"])
        overall = float(comp_what_if(outlook.plan, outlook.median_pcts, months=months)["attainment_pct"])
        from kpi_kit.comp import variable_payout

        unweighted = float(variable_payout(outlook.plan, (overall + points) / 100, months=months)
                           - variable_payout(outlook.plan, overall / 100, months=months))
        if abs(unweighted - expected) > 0.01:
            mistakes.append(Mistake(unweighted, f"you added {points:g} points to the overall attainment; they go to "
                                                f"{name} only, which counts for its weight."))
    return Checker(
        "12.2", f"What are {points:g} more points of retention attainment worth at your median outcome?", expected,
        hint_text=("Start from outlook.median_pcts, add the points to the retention metric, and compare "
                   "comp_what_if(plan, ...)['variable_payout'] before and after (months = the period's length). "
                   "None when there is no pay forecast for this book."),
        solution_text=("if outlook.median_pcts is None:\n"
                       "    answer = None\n"
                       "else:\n"
                       "    name = retention_metric(outlook.plan)\n"
                       "    base = comp_what_if(outlook.plan, outlook.median_pcts, months=outlook.months)\n"
                       "    more = comp_what_if(outlook.plan, {**outlook.median_pcts, name: outlook.median_pcts[name] + 5},\n"
                       "                        months=outlook.months)\n"
                       "    answer = float(more['variable_payout'] - base['variable_payout'])"),
        mistakes=distinct_mistakes(mistakes, expected),
    )
