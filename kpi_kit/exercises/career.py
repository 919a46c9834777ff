"""A CSM's attainment history, the seed's career trajectory, and the exercises of ``13_career_ladder``.

* :func:`attainment_history` — month by month, the CSM's **overall plan attainment over the trailing
  window** (default 3 months: a rolling quarter), the number the career ladder
  (:mod:`kpi_kit.career`) reads. Monthly GRR/NRR over a single month hardly move, so a rolling
  quarter is used; the window is a parameter.
* :func:`seed_trajectory` — the seed's four years (98 %, 110 %, 115 % + a playbook, 120 % + mentoring
  3 CSMs) as a history and achievements for :func:`kpi_kit.career.replay`.
* :func:`attainment_chart` — the history as a line against the promotion bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from kpi_kit.career import DEFAULT_LADDER, CareerRule, career_status, replay
from kpi_kit.comp import HUNDRED, CompPlan, load_plan, metric_attainment
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.exercises import Checker, Mistake
from kpi_kit.exercises.forecasting import distinct_mistakes
from kpi_kit.metrics import CALL_TYPES, account_arr, attributed, csm_metrics
from kpi_kit.periods import Period, parse_month
from kpi_kit.scorecard import targets_for

__all__ = ["SEED_YEARS", "seed_trajectory", "attainment_history", "history_series", "attainment_chart",
           "q_13_1", "q_13_2"]

#: The seed's four years of attainment (ratios), 2023..2026.
SEED_YEARS: dict[int, float] = {2023: 0.98, 2024: 1.10, 2025: 1.15, 2026: 1.20}
_FAST_KPIS = ("grr_pct", "nrr_pct", "calls", "touchpoints", "qbrs", "sqls")


def seed_trajectory(playbook_month: str = "2025-06") -> tuple[dict[str, float], list[tuple[str, str, str]]]:
    """The seed's four-year trajectory as ``(history, achievements)`` for :func:`kpi_kit.career.replay`.

    Year 1 (2023) 98 %, year 2 110 %, year 3 115 % with a renewal playbook (recorded in
    ``playbook_month``), year 4 120 % mentoring Ana, Ben and Chloe (recorded 2026-03, -05, -08).
    With the default ladder: Senior at 2024-12, Lead at 2025-12, Manager at 2026-12.

    Examples
    --------
    >>> history, achievements = seed_trajectory()
    >>> [(str(p.month), p.to_level) for p in replay(history, achievements).promotions]
    [('2024-12', 'Senior'), ('2025-12', 'Lead'), ('2026-12', 'Manager')]
    """
    history = {f"{y}-{m:02d}": a for y, a in SEED_YEARS.items() for m in range(1, 13)}
    achievements = [(playbook_month, "strategic_project", "renewal playbook"),
                    ("2026-03", "mentoring", "Ana"), ("2026-05", "mentoring", "Ben"), ("2026-08", "mentoring", "Chloe")]
    return history, achievements


def _kpi_value(book: Book, csm_id: str, per: Period, kpi: str, acc: pd.DataFrame) -> float | None:
    """One KPI of the CSM over ``per`` with the definitions of ``data/README.md`` (as :func:`csm_metrics`)."""
    if kpi in ("grr_pct", "nrr_pct"):
        cohort = acc.loc[acc["in_cohort"]]
        begin = float(cohort["begin"].sum())
        if begin <= 0:
            return None
        return 100.0 * float(cohort["retained" if kpi == "grr_pct" else "end"].sum()) / begin
    if kpi == "sqls":
        if not book.recorded("sqls"):
            return None
        s = book.sqls
        return float(((s["csm_id"] == csm_id) & per.contains(s["created_date"])).sum())
    if not book.recorded("activities"):
        return None
    a = book.activities
    mask = (a["csm_id"] == csm_id) & per.contains(a["date"])
    if kpi == "calls":
        mask &= a["type"].isin(CALL_TYPES)
    elif kpi == "qbrs":
        mask &= a["type"] == "qbr"
    return float(mask.sum())


def attainment_history(book: Book, csm_id: str, start: str | pd.Period, end: str | pd.Period, *, window: int = 3,
                       plan: CompPlan | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The CSM's overall plan attainment over a trailing window, month by month.

    Definition
    ----------
    For each month *m* from ``start`` to ``end``, the period is the ``window`` months ending with *m*
    (``m − window + 1 .. m``). Each plan metric's attainment is the scorecard rule
    (:func:`kpi_kit.comp.metric_attainment`: actual / target, capped at the plan's cap) with the
    period's targets (:func:`kpi_kit.scorecard.targets_for`); the overall attainment is
    ``Σ weight × attainment``. A metric with no data (activities not recorded, no beginning ARR because
    the window starts where the ARR history does) makes the month's overall attainment NaN: no data,
    not 0.

    Parameters
    ----------
    book, csm_id
        The book and the CSM.
    start, end
        First and last month of the history (``YYYY-MM``).
    window
        Months in each trailing period (3 = a rolling quarter).
    plan
        Default: the book's ``comp_plan.yaml``, else the seed's plan.

    Returns
    -------
    pandas.DataFrame
        ``month`` (``"YYYY-MM"``), ``period`` (``"YYYY-MM..YYYY-MM"``), one ``<metric>_pct`` column per
        plan metric, ``attainment_pct`` (overall, percent) and ``attainment`` (the same as a ratio, the
        column :func:`kpi_kit.career.career_status` reads). Floats; NaN = no data.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> h = attainment_history(load_book(), "csm_01", "2026-07", "2026-09")
    >>> h["period"].tolist()
    ['2026-05..2026-07', '2026-06..2026-08', '2026-07..2026-09']
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise KitError(f"window {window!r}: expected a whole number of months >= 1")
    csm_id = book.check_csm(csm_id)
    used = load_plan(plan if plan is not None else book.comp_plan)
    first, last = parse_month(start, "start"), parse_month(end, "end")
    if last < first:
        raise KitError(f"the history ends ({last}) before it starts ({first}): give start before end")
    fast = all(m.kpi in _FAST_KPIS for m in used.metrics)
    rows = []
    month = first
    while month <= last:
        per = Period(month - (window - 1), month)
        targets = targets_for(book, csm_id, per)
        if fast:
            acc = account_arr(attributed(book, per), per, csm_id)
            values = {m.kpi: _kpi_value(book, csm_id, per, m.kpi, acc) for m in used.metrics}
        else:
            kpis = csm_metrics(book, csm_id, per)
            values = {m.kpi: kpis.get(m.kpi) for m in used.metrics}
        row: dict[str, Any] = {"month": str(month), "period": str(per)}
        overall: Decimal | None = Decimal(0)
        for m in used.metrics:
            x, t = values[m.kpi], targets.get(m.kpi)
            if x is None or t is None or t == 0:
                row[f"{m.name}_pct"] = float("nan")
                overall = None
                continue
            att = metric_attainment(t, x, lower_is_better=m.lower_is_better, cap=used.metric_attainment_cap)
            row[f"{m.name}_pct"] = float(att * HUNDRED)
            if overall is not None:
                overall += m.weight * att
        row["attainment_pct"] = float("nan") if overall is None else float(overall * HUNDRED)
        row["attainment"] = float("nan") if overall is None else float(overall)
        rows.append(row)
        month += 1
    out = pd.DataFrame(rows)
    return out.astype({"month": "str", "period": "str", **{c: "float64" for c in out.columns if c not in ("month", "period")}})


def history_series(history: pd.DataFrame) -> pd.Series:
    """The months of :func:`attainment_history` that have data, as a Series ``{"YYYY-MM": ratio}`` for
    :func:`kpi_kit.career.career_status` (a month without data is left out, so it breaks a streak)."""
    known = history.loc[history["attainment"].notna()]
    return pd.Series(known["attainment"].to_numpy(), index=known["month"].to_numpy(), dtype="float64")


def attainment_chart(history: pd.DataFrame, bar_pct: float | None = None, title: str = "Attainment by month") -> alt.LayerChart:
    """Overall attainment (%) by month as a line with points; a dashed rule at ``bar_pct`` (the promotion bar).

    ``history``: ``month`` and ``attainment_pct`` columns (e.g. :func:`attainment_history`); months
    without data are left out of the line.

    Examples
    --------
    >>> h = pd.DataFrame({"month": ["2026-01", "2026-02"], "attainment_pct": [98.0, 104.0]})
    >>> attainment_chart(h, 100).to_dict()["layer"][1]["encoding"]["y"]["datum"]
    100.0
    """
    for col in ("month", "attainment_pct"):
        if col not in history.columns:
            raise KitError(f"attainment_chart: the frame lacks column {col!r}; pass attainment_history(...)")
    data = history.loc[history["attainment_pct"].notna(), ["month", "attainment_pct"]].astype({"month": "str"})
    line = alt.Chart(data).mark_line(point=True, color="#4e79a7").encode(
        x=alt.X("month:O", title="Month"), y=alt.Y("attainment_pct:Q", title="Attainment (%)", scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("attainment_pct:Q", title="Attainment %", format=".1f")])
    layers: list[alt.Chart] = [line]
    if bar_pct is not None:
        layers.append(alt.Chart().mark_rule(color="#e15759", strokeDash=[6, 4]).encode(y=alt.datum(float(bar_pct))))
    return alt.layer(*layers).properties(title=title, width=480, height=220)


def _rule(level: str, ladder: tuple[CareerRule, ...] = DEFAULT_LADDER) -> CareerRule | None:
    return next((r for r in ladder if r.from_level == level), None)


def q_13_1(book: Book, csm_id: str, period: Period, level: str = "CSM", *,
           history: pd.DataFrame | None = None) -> Checker:
    """13.1 — the streak by hand: consecutive months, ending with the last month of the history, at or
    above the bar of the next promotion from ``level`` (None when the history has no data)."""
    hist = history if history is not None else attainment_history(book, csm_id, period.start, period.end)
    series = history_series(hist)
    rule = _rule(level)
    expected = None
    mistakes: list[Mistake] = []
    if len(series) and rule is not None:
        expected = career_status(series, level=level).streak
        bar = float(rule.min_attainment)
        meets = (hist["attainment"].round(10) >= bar).tolist()
        mistakes.append(Mistake(sum(meets), "you counted every month at or above the bar; only the unbroken run that "
                                            "ends with the latest month counts."))
        longest = run = 0
        for ok in meets:
            run = run + 1 if ok else 0
            longest = max(longest, run)
        mistakes.append(Mistake(longest, "that is your longest run; the ladder counts the run that ends with the latest month."))
    bar_text = "the bar" if rule is None else f"{float(rule.min_attainment) * 100:g} %"
    return Checker(
        "13.1", f"How many months in a row, up to the latest, is your attainment at or above {bar_text}?", expected,
        tolerance=0,
        hint_text=("Walk the history backwards from its last month and count while attainment >= the bar; stop at the "
                   "first month below it or without data (NaN). None when no month has data."),
        solution_text=("ok = history['attainment'].round(10) >= bar   # NaN compares False\n"
                       "streak = 0\n"
                       "for meets in reversed(ok.tolist()):\n"
                       "    if not meets:\n"
                       "        break\n"
                       "    streak += 1\n"
                       "answer = streak if history['attainment'].notna().any() else None"),
        mistakes=distinct_mistakes(mistakes, expected),
    )


def q_13_2(book: Book, csm_id: str, period: Period) -> Checker:
    """13.2 — the seed's CSM records the playbook in 2026-03 instead of 2025-06: the month of the promotion to Lead."""
    history, achievements = seed_trajectory("2026-03")
    path = replay(history, achievements)
    lead = next(str(p.month) for p in path.promotions if p.to_level == "Lead")
    return Checker(
        "13.2", "If the playbook is only recorded in 2026-03, in which month does the seed's CSM become Lead?", lead,
        hint_text=("The attainment part for Lead (12 months at 110 % or more as a Senior) is complete by 2025-12; the "
                   "promotion waits for the missing requirement. Check with replay(history, achievements)."),
        solution_text=("history, achievements = seed_trajectory('2026-03')\n"
                       "path = replay(history, achievements)\n"
                       "answer = next(str(p.month) for p in path.promotions if p.to_level == 'Lead')"),
        mistakes=(Mistake("2025-12", "that is when the 12 months at 110 % were complete, but the playbook was not "
                                     "recorded yet; a promotion needs every requirement."),
                  Mistake("2026-04", "the promotion happens at the end of the month in which the rule first holds.")),
    )
