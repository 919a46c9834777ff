"""The KPI cascade: company goals → segment targets → per-CSM targets, checked in both directions.

Configured in the book's ``targets.yaml`` (format in :mod:`kpi_kit.targets`; the rules in full, with
worked numbers, in ``docs/cascade.md``).

Going down (allocation)
    * **Company goals** (``company:``): GRR, NRR (annual rates), monthly logo churn and, optionally, a
      SQL pipeline goal (``company.sql_pipeline_per_quarter``; default: the activity standard × number
      of CSMs).
    * **Segment targets** (``segments:``): annual GRR and NRR per account segment.
    * **Per-CSM retention targets**: the segment targets blended by the CSM's *beginning ARR* in each
      segment — ``Σ_s target_s × begin_s / Σ_s begin_s`` over the CSM's beginning cohort — unless the
      CSM has an override (``csms: {id: {grr_pct: …}}``). With no beginning ARR: the company goal.
      The blend is an annual rate; the period is held to its share (see "Period basis" below).
    * **Per-CSM leading targets** (calls, touchpoints, QBRs, coverage, renewals contacted, SQLs,
      pipeline, SQL conversion, lifecycle compliance, closed alerts, logo churn) are the company's
      *activity standards* (``defaults:``), counts scaled to the period, unless overridden.
    These are exactly the targets of each CSM's scorecard (:func:`kpi_kit.targets.csm_targets`).

Going up (the roll-up check, :func:`rollup_check`)
    Do the CSMs' targets add up to the company goal? Each KPI rolls up the way the KPI itself does:

    * counts and pipeline: Σ of the CSMs' targets vs the company goal (standard × CSMs);
    * GRR / NRR: Σ period target_i × beginning ARR_i / Σ beginning ARR_i — the team's period ratio
      when every CSM lands exactly on their period target — against the company's *period* goal; the
      shortfall is ``(period goal − rolled-up) / 100 × Σ beginning ARR`` in ARR;
    * other percentages: weighted by the KPI's own denominator (coverage by book accounts, renewals
      contacted by renewals due, SQL conversion by closed SQLs, lifecycle compliance by touchpoints
      due, closed alerts by closed alerts); the shortfall is in those units;
    * monthly logo churn: each CSM's allowed churn turned into a period rate, weighted by cohort
      accounts, turned back into a monthly rate; the shortfall is in churned logos.

    And for actuals: the team's KPIs are recomputed from the summed parts
    (:func:`kpi_kit.metrics.rollup`) — team GRR = Σ retained / Σ beginning ARR, never an average of
    the CSMs' percentages — and compared with the same goal, gap in the same units.

Line of sight (:func:`line_of_sight`)
    Every CSM target with the company goal it serves and a sentence saying why, for the CSM report.

Period basis
    GRR and NRR targets and goals in ``targets.yaml`` are **annual** rates. GRR and NRR actuals are the
    period's ratios (ending over beginning ARR of the period), so a period of ``m`` months is held to
    the annual rate's share :func:`kpi_kit.targets.period_rate` ``= 100 × (annual / 100) ** (m / 12)``
    (a 98 % annual GRR target is 99.5 % for a quarter; 12 months = the rate as written). Every
    comparison here is period with period: CSM, segment and company retention targets are all scaled
    before they are blended, rolled up or compared, and the ARR gaps are (period goal − period value)
    × the period's beginning ARR. The annual rates are kept beside them (``*_annual_pct`` /
    ``*_target_annual`` / ``company_goal_annual``) and shown in the display texts. Logo churn is
    compared as a monthly equivalent, so it does not depend on the period length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.metrics import account_arr, as_of_date, attributed, finish, metric_parts, monthly_equivalent, rollup
from kpi_kit.periods import Period
from kpi_kit.scorecard import KPIS, attainment, status
from kpi_kit.targets import company_goals, csm_targets, override_problems, period_rate
from kpi_kit.team import SEGMENTS, segment_parts, slice_parts

#: kpi -> (roll-up rule, parts that weight it, unit of the shortfall)
#:   ``sum``: Σ targets; ``weighted``: Σ target × weight / Σ weight; ``churn``: via period churn rates.
ROLLUP_RULES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "calls": ("sum", (), "calls"),
    "touchpoints": ("sum", (), "touchpoints"),
    "qbrs": ("sum", (), "QBRs"),
    "coverage_pct": ("weighted", ("book_accounts",), "accounts"),
    "renewals_90d_contacted_pct": ("weighted", ("renewals_90d",), "renewals"),
    "sqls": ("sum", (), "SQLs"),
    "sql_pipeline": ("sum", (), "money"),
    "sql_conversion_pct": ("weighted", ("sqls_won", "sqls_lost"), "closed SQLs"),
    "lifecycle_compliance_pct": ("weighted", ("lifecycle_met", "lifecycle_overdue"), "touchpoints"),
    "grr_pct": ("weighted", ("beginning_arr",), "money"),
    "nrr_pct": ("weighted", ("beginning_arr",), "money"),
    "logo_churn_monthly_pct": ("churn", ("cohort_accounts",), "logos"),
    "closed_alert_pct": ("weighted", ("alerts_saved", "alerts_churned"), "alerts"),
}

_LABEL = {kpi: label for kpi, label, *_ in KPIS}
_KIND = {kpi: kind for kpi, _, kind, *_ in KPIS}
_UNIT = {kpi: unit for kpi, _, _, unit, _ in KPIS}
_HIGHER = {kpi: higher for kpi, *_, higher in KPIS}

#: Which company goals each KPI serves (the seed's line of sight) and why, in one sentence.
LINE_OF_SIGHT: dict[str, tuple[tuple[str, ...], str]] = {
    "calls": (("grr_pct", "nrr_pct"), "Conversations are where risk is found early and value is shown — the "
              "groundwork of retention and expansion."),
    "touchpoints": (("grr_pct",), "Every account hears from you regularly, so none drifts away unnoticed."),
    "qbrs": (("nrr_pct",), "Business reviews tie the product to the customer's goals; that is where expansion "
             "is found and renewals are prepared."),
    "coverage_pct": (("logo_churn_monthly_pct", "grr_pct"), "An account nobody talks to is the one that churns "
                     "without warning."),
    "renewals_90d_contacted_pct": (("grr_pct", "logo_churn_monthly_pct"), "A renewal contacted 90 days ahead "
                                   "can still be saved; one contacted the week before often cannot."),
    "sqls": (("sql_pipeline", "nrr_pct"), "Expansion leads handed to sales become the expansion ARR that lifts "
             "NRR above 100 %."),
    "sql_pipeline": (("sql_pipeline", "nrr_pct"), "Your share of the company's expansion pipeline."),
    "sql_conversion_pct": (("nrr_pct",), "Well-qualified leads close; closed expansion is what NRR counts."),
    "lifecycle_compliance_pct": (("logo_churn_monthly_pct", "grr_pct"), "Onboarding, adoption and renewal "
                                 "touches on time are the moments that decide whether a customer stays."),
    "grr_pct": (("grr_pct",), "Your book's retained ARR is part of the company's."),
    "nrr_pct": (("nrr_pct",), "Your book's ending ARR is part of the company's."),
    "logo_churn_monthly_pct": (("logo_churn_monthly_pct",), "Each logo you keep is one the company keeps."),
    "closed_alert_pct": (("grr_pct", "logo_churn_monthly_pct"), "A saved risk alert is ARR and a logo kept."),
}

#: The tree's KPIs: key -> (actual column, target source, higher is better)
TREE_KPIS: tuple[tuple[str, str, bool], ...] = (
    ("grr", "grr_pct", True), ("nrr", "nrr_pct", True), ("logo_churn", "logo_churn_monthly_pct", False),
    ("coverage", "coverage_pct", True),
)

_EPS = 1e-9


def _as_period(start: str | Period, end: str | None = None) -> Period:
    return start if isinstance(start, Period) else Period.parse(start, end)


def _missing(value: Any) -> bool:
    return fmt.is_missing(value)


#: The retention KPIs whose targets are annual rates held to the period's share.
RETENTION_KPIS: tuple[str, ...] = ("grr_pct", "nrr_pct")


def _annual_key(kpi: str) -> str:
    return kpi.replace("_pct", "_annual_pct")


def period_words(months: int | None) -> str:
    """The period in words for target texts.

    >>> period_words(3), period_words(1), period_words(12), period_words(6), period_words(None)
    ('the quarter', 'the month', 'the year', 'these 6 months', 'the period')
    """
    if months is None:
        return "the period"
    return {1: "the month", 3: "the quarter", 12: "the year"}.get(months, f"these {months} months")


def retention_target_text(period_pct: float | None, annual_pct: float | None, months: int | None) -> str:
    """A GRR / NRR target with its basis: the period's share first, the annual rate in brackets.

    ``period_pct`` is :func:`kpi_kit.targets.period_rate` of ``annual_pct`` for ``months`` months.

    >>> retention_target_text(period_rate(98, 3), 98.0, 3)   # 100 × 0.98 ** (3/12) = 99.50
    '99.5 % for the quarter (98.0 % a year)'
    >>> retention_target_text(92.0, 92.0, 12), retention_target_text(None, 92.0, 3)
    ('92.0 % a year', 'no data')
    """
    if _missing(period_pct):
        return fmt.NO_DATA
    if _missing(annual_pct):
        return fmt.pct(period_pct)
    if months == 12:
        return f"{fmt.pct(annual_pct)} a year"
    return f"{fmt.pct(period_pct)} for {period_words(months)} ({fmt.pct(annual_pct)} a year)"


def period_share_text(annual_pct: float, months: int, period_pct: float) -> str:
    """How an annual rate becomes the period's share, in words a reader can check by hand.

    Plain text (the reports render offline, without a formula renderer): ``^`` is "to the power".
    ``period_pct`` is :func:`kpi_kit.targets.period_rate` of ``annual_pct`` for ``months`` months.

    >>> period_share_text(90.0, 3, period_rate(90, 3))   # 100 × 0.9 ** 0.25 = 97.40
    'the annual 90.0 % compounded over 3 of 12 months: 100 × 0.9^(3/12) = 97.4 %'
    """
    over = f"{months} of 12 months" if months < 12 else f"{months} months"
    return (f"the annual {fmt.pct(annual_pct)} compounded over {over}: "
            f"100 × {annual_pct / 100:g}^({months}/12) = {fmt.pct(period_pct)}")


def goal_text(key: str, goals: dict[str, float], months: int | None = None, currency: str = "USD") -> str:
    """A company goal in words, e.g. ``"company GRR 97.9 % for the quarter (92.0 % a year)"``.

    GRR / NRR goals show the period's share (``goals[key]``) and the annual rate
    (``goals["<kpi>_annual_pct"]``, when present) for a period of ``months`` months.

    >>> from kpi_kit.targets import DEFAULT_TARGETS
    >>> goal_text("grr_pct", company_goals(DEFAULT_TARGETS, 3, 1), 3)   # 100 × 0.92 ** (3/12) = 97.94
    'company GRR 97.9 % for the quarter (92.0 % a year)'
    """
    if key in RETENTION_KPIS:
        label = "GRR" if key == "grr_pct" else "NRR"
        return f"company {label} {retention_target_text(goals[key], goals.get(_annual_key(key)), months)}"
    if key == "logo_churn_monthly_pct":
        return f"company logo churn below {fmt.pct(goals['logo_churn_monthly_pct'])} a month"
    if key == "sql_pipeline":
        return f"company SQL pipeline {fmt.money(goals['sql_pipeline'], currency)} this period"
    raise KeyError(key)


def segment_mix(book: Book, period: Period, attribution: str = "start") -> pd.DataFrame:
    """Beginning ARR of every CSM's beginning cohort by segment (rows CSMs in ``csms.csv`` order, columns segments).

    This is the weight of the blend in :func:`kpi_kit.targets.csm_targets`.
    """
    acc = account_arr(attributed(book, period, attribution), period)
    cohort = acc.loc[acc["in_cohort"]]
    mix = cohort.groupby(["csm_id", "segment"])["begin"].sum().unstack("segment", fill_value=0.0)
    segments = [s for s in SEGMENTS if s in mix.columns] + sorted(c for c in mix.columns if c not in SEGMENTS)
    mix = mix.reindex(index=pd.Index(book.csm_ids(), name="csm_id", dtype="str"), columns=segments, fill_value=0.0)
    mix.columns.name = None
    return mix.astype("float64")


def csm_target_table(book: Book, period: Period, attribution: str = "start") -> pd.DataFrame:
    """Every CSM's targets for the period, one row per CSM (index ``csm_id``), one column per KPI.

    Exactly :func:`kpi_kit.scorecard.targets_for` for each CSM (segment retention targets blended by
    beginning ARR, counts scaled to the period, per-CSM overrides), computed with one pass over the book.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = csm_target_table(load_book(), Period.parse("2026-07", "2026-09"))
    >>> float(t["calls"].iloc[0])      # 20 calls a month x 3 months
    60.0
    """
    return _target_frame(book, period, attribution)[[kpi for kpi, *_ in KPIS]]


def _target_frame(book: Book, period: Period, attribution: str) -> pd.DataFrame:
    """Every key of :func:`kpi_kit.targets.csm_targets` per CSM: the KPI targets and ``*_annual_pct``."""
    acc = account_arr(attributed(book, period, attribution), period)
    cohort = acc.loc[acc["in_cohort"]]
    by_csm = cohort.groupby(["csm_id", "segment"])["begin"].sum()
    rows = {}
    for csm_id in book.csm_ids():
        weights = by_csm.loc[csm_id].to_dict() if csm_id in by_csm.index.get_level_values(0) else {}
        rows[csm_id] = csm_targets(book.targets, csm_id, period.months, weights)
    columns = [kpi for kpi, *_ in KPIS] + [_annual_key(k) for k in RETENTION_KPIS]
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns).astype("float64")
    table.index = pd.Index(table.index, name="csm_id", dtype="str")
    return table


def _overrides(book: Book, csm_id: str) -> dict[str, float]:
    return dict((book.targets.get("csms") or {}).get(csm_id, {}))


@dataclass(frozen=True)
class CascadeTargets:
    """Every CSM's targets with what they are derived from.

    ``table``: one row per CSM (index ``csm_id``): ``csm_name``, ``beginning_arr``, ``share_pct`` (of
    the team's beginning ARR), one ``mix_<segment>_pct`` column per segment (share of the CSM's own
    beginning ARR), one column per KPI target (GRR / NRR: the period's share of the annual rate),
    ``grr_annual_pct`` and ``nrr_annual_pct`` (the annual rates they come from) and ``overrides`` (the
    keys set in ``targets.yaml``).
    """

    period: Period
    goals: dict[str, float]
    segment_targets: dict[str, dict[str, float]]
    mix: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency (beginning ARR, pipeline)

    def _repr_html_(self) -> str:
        show = self.table.copy()
        for col in show.columns:
            if col.endswith("_pct"):
                show[col] = show[col].map(fmt.pct)
            elif col in ("beginning_arr", "sql_pipeline"):
                show[col] = show[col].map(lambda v: fmt.money(v, self.currency))
            elif col in ("calls", "touchpoints", "qbrs", "sqls"):
                show[col] = show[col].map(fmt.count)
        return (f"<div><p><b>Per-CSM targets</b> — {fmt.text(self.period)}. GRR and NRR targets are for "
                f"{period_words(self.period.months)}: the share of the annual rate in *_annual_pct.</p>"
                f"{show.to_html(escape=True)}</div>")


def cascade_targets(book: Book, start: str | Period, end: str | None = None,
                    attribution: str = "start") -> CascadeTargets:
    """Every CSM's targets for the period and the shares they are derived from (see :class:`CascadeTargets`)."""
    period = _as_period(start, end)
    mix = segment_mix(book, period, attribution)
    targets = _target_frame(book, period, attribution)
    begin = mix.sum(axis=1)
    total = float(begin.sum())
    table = pd.DataFrame(index=targets.index)
    table["csm_name"] = pd.Series([book.csm_name(c) for c in targets.index], index=targets.index, dtype="str")
    table["beginning_arr"] = begin
    table["share_pct"] = (100.0 * begin / total) if total > 0 else float("nan")
    for seg in mix.columns:
        table[f"mix_{seg}_pct"] = (100.0 * mix[seg] / begin.where(begin > 0)).astype("float64")
    table = pd.concat([table, targets], axis=1)
    table["overrides"] = pd.Series([", ".join(sorted(_overrides(book, c))) for c in targets.index],
                                   index=targets.index, dtype="str")
    goals = company_goals(book.targets, period.months, len(book.csms))
    segs = {s: dict(v) for s, v in book.targets["segments"].items()}
    return CascadeTargets(period=period, goals=goals, segment_targets=segs, mix=mix, table=table,
                          currency=book.reporting_currency)


# -- the roll-up check -----------------------------------------------------------------------------------


def _company_goal(kpi: str, goals: dict[str, float], n_csms: int) -> float:
    if kpi in ("grr_pct", "nrr_pct", "logo_churn_monthly_pct", "sql_pipeline"):
        return goals[kpi]
    rule = ROLLUP_RULES[kpi][0]
    standard = goals[f"{kpi}_standard"]
    return standard * n_csms if rule == "sum" else standard


def _period_rate(monthly_pct: float, months: int) -> float:
    """Monthly churn % -> the churn share over ``months`` months (0..1)."""
    return 1.0 - (1.0 - monthly_pct / 100.0) ** months


def _weight(parts: pd.DataFrame, kpi: str) -> pd.Series:
    cols = ROLLUP_RULES[kpi][1]
    return parts[list(cols)].sum(axis=1, min_count=len(cols)).astype("float64")


def rolled_up_target(kpi: str, targets: pd.Series, parts: pd.DataFrame, months: int) -> float | None:
    """The team-level value ``kpi`` reaches when every CSM lands exactly on their target.

    ``targets`` (index ``csm_id``) and ``parts`` (the CSMs' metric parts, same index) — see the module
    docstring for the rule of each KPI. ``None`` when nothing weighs the KPI (e.g. no renewals due).

    >>> parts = pd.DataFrame({"beginning_arr": [3_000_000.0, 1_000_000.0]}, index=["a", "b"])
    >>> rolled_up_target("grr_pct", pd.Series([90.0, 80.0], index=["a", "b"]), parts, 3)
    87.5
    """
    rule = ROLLUP_RULES[kpi][0]
    if rule == "sum":
        return float(targets.sum())
    w = _weight(parts, kpi).reindex(targets.index)
    total = w.sum(min_count=1)
    if _missing(total) or total <= 0:
        return None
    if rule == "weighted":
        return float((targets * w).sum() / total)
    rate = sum(_period_rate(t, months) * wi for t, wi in zip(targets, w, strict=True) if wi > 0) / total
    return float(monthly_equivalent(100.0 * rate, months))


def shortfall(kpi: str, goal: float, value: float | None, weight: float | None, months: int) -> float | None:
    """How far ``value`` (team level) is from the company ``goal``, in the KPI's shortfall unit.

    Positive = short of the goal, negative = ahead of it. Counts and pipeline: ``goal − value``.
    Percentages: ``(goal − value) / 100 × weight`` (ARR for GRR/NRR, accounts for coverage, …).
    Monthly logo churn: ``(period rate(value) − period rate(goal)) × cohort accounts`` churned logos.

    >>> shortfall("grr_pct", 92.0, 90.0, 1_000_000.0, 3)   # period goal 92 %, period value 90 %: 2 points of $1M
    20000.0
    >>> shortfall("calls", 420.0, 400.0, None, 3)
    20.0
    """
    if _missing(value):
        return None
    rule = ROLLUP_RULES[kpi][0]
    if rule == "sum":
        return float(goal - value)
    if _missing(weight):
        return None
    if rule == "weighted":
        return float((goal - value) / 100.0 * weight)
    return float((_period_rate(value, months) - _period_rate(goal, months)) * weight)


def whole_count(size: float, short: bool) -> int:
    """A gap counted in whole things: a shortfall rounds **up**, a lead **down**.

    A team 12.7 touchpoints short of a goal needs 13 more to reach it; a team 20.9 accounts ahead can
    lose 20 and still be on it. A hair of float noise (1e-6) is ignored so 12.0000001 short stays 12.

    >>> whole_count(12.7, short=True), whole_count(20.9, short=False), whole_count(0.2, short=True)
    (13, 20, 1)
    >>> whole_count(3.0000000001, short=True), whole_count(2.9999999999, short=False)
    (3, 3)
    """
    return math.ceil(size - 1e-6) if short else math.floor(size + 1e-6)


def _things(n: int, unit: str) -> str:
    """``n`` and the unit, singular for one: ``"1 closed SQL"``, ``"13 touchpoints"``."""
    return f"{fmt.count(n)} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


def shortfall_text(kpi: str, gap: float | None, actual: bool = False, currency: str = "USD") -> str:
    """A shortfall in words: ``"$31,250 of ARR short"``, ``"2 calls ahead"``, ``"on the goal"``.

    ``actual=True`` words a gap of the team's actuals (logo churn: "churned logos over the goal"
    instead of "too many allowed" by the targets). Money is shown to the dollar; counts of things
    (calls, accounts, touchpoints, closed SQLs, alerts, churned logos) are whole numbers
    (:func:`whole_count`): a shortfall rounded up (what it takes to reach the goal), a lead rounded
    down (what can be lost and still reach it); a lead of less than one is "on the goal". The exact
    gap stays in the table's ``*_shortfall`` columns.

    >>> shortfall_text("nrr_pct", 31250.0), shortfall_text("calls", -2.0), shortfall_text("qbrs", 0.0)
    ('$31,250 of ARR short', '2 calls ahead', 'on the goal')
    >>> shortfall_text("lifecycle_compliance_pct", 12.7), shortfall_text("coverage_pct", -20.9)
    ('13 touchpoints short', '20 accounts ahead')
    >>> shortfall_text("closed_alert_pct", 1.2), shortfall_text("sql_conversion_pct", -0.4)
    ('2 alerts short', 'on the goal')
    >>> shortfall_text("logo_churn_monthly_pct", -27.8, actual=True)
    '27 churned logos under the goal'
    """
    if _missing(gap):
        return fmt.NO_DATA
    unit = ROLLUP_RULES[kpi][2]
    if abs(gap) < 1e-6:
        return "on the goal"
    short = gap > 0
    word = "short" if short else "ahead"
    size = abs(gap)
    if kpi in ("grr_pct", "nrr_pct"):
        return f"{fmt.money(size, currency)} of ARR {word}"
    if unit == "money":
        return f"{fmt.money(size, currency)} {word}"
    n = whole_count(size, short)
    if n == 0:
        return "on the goal"
    if kpi == "logo_churn_monthly_pct":
        if actual:
            return f"{_things(n, 'churned logos')} {'over' if short else 'under'} the goal"
        return f"{_things(n, 'churned logos')} {'too many allowed' if short else 'of headroom'}"
    return f"{_things(n, unit)} {word}"


@dataclass(frozen=True)
class RollupCheck:
    """Do the CSMs' targets (and the team's actuals) reach the company goals?

    ``table`` — one row per KPI: ``kpi, label, kind, company_goal`` (GRR/NRR: the period's share of the
    annual goal), ``company_goal_annual`` (GRR/NRR: the annual goal as written; NaN for the other KPIs),
    ``segment_target`` (GRR/NRR: the segments' period targets blended by the segments' beginning ARR),
    ``csm_target`` (the CSMs' period targets rolled up),
    ``weight`` (what the roll-up is weighted by, its total), ``target_shortfall`` (+ short, − ahead, in the
    KPI's unit), ``targets_reach_goal``, ``team_actual`` (recomputed from summed parts),
    ``actual_shortfall``, ``actual_reaches_goal`` and the two ``*_text`` columns in words.
    """

    period: Period
    as_of: str
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency

    @property
    def ok(self) -> bool:
        """True when every KPI's rolled-up target reaches its company goal (KPIs without data ignored)."""
        return bool(self.table["targets_reach_goal"].dropna().astype(bool).all())

    def shortfalls(self) -> pd.DataFrame:
        """The KPIs whose CSM targets do not add up to the company goal."""
        return self.table.loc[self.table["targets_reach_goal"].eq(False)]

    def _repr_html_(self) -> str:
        rows = []
        for r in self.table.itertuples(index=False):
            unit = _UNIT[r.kpi]
            mark = {True: "✅", False: "❌"}.get(r.targets_reach_goal, "–")
            goal = (retention_target_text(r.company_goal, r.company_goal_annual, self.period.months)
                    if r.kpi in RETENTION_KPIS else _fmt(r.company_goal, unit, self.currency))
            # only GRR and NRR have segment targets: the others are not set per segment ("no data" would
            # say the book lacks something)
            segment = _fmt(r.segment_target, unit, self.currency) if r.kpi in RETENTION_KPIS else NOT_PER_SEGMENT
            rows.append(
                f"<tr><td>{fmt.text(r.label)}</td><td style='text-align:right'>{fmt.text(goal)}</td>"
                f"<td style='text-align:right'>{segment}</td>"
                f"<td style='text-align:right'>{_fmt(r.csm_target, unit, self.currency)}</td>"
                f"<td>{mark} {fmt.text(r.target_shortfall_text)}</td>"
                f"<td style='text-align:right'>{_fmt(r.team_actual, unit, self.currency)}</td>"
                f"<td>{fmt.text(r.actual_shortfall_text)}</td></tr>")
        return (f"<table><caption>Roll-up check — {fmt.text(self.period)}, as of {fmt.text(self.as_of)}: do the "
                "CSMs' targets reach the company goals?</caption><thead><tr><th>KPI</th><th>company goal</th>"
                "<th>segment targets give</th><th>CSM targets give</th><th>targets vs goal</th>"
                "<th>team actual</th><th>actual vs goal</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
                f"<p>{NOT_PER_SEGMENT} in “segment targets give”: the KPI has no segment targets (only GRR and "
                "NRR are set per segment). Counts of things in words are whole: a shortfall rounded up, a lead "
                "rounded down.</p>")


#: The roll-up check's "segment targets give" cell for a KPI that has no segment targets.
NOT_PER_SEGMENT = "—"


def _fmt(value: Any, unit: str, currency: str = "USD") -> str:
    if _missing(value):
        return fmt.NO_DATA
    if unit == "money":
        return fmt.money(value, currency)
    return {"pct": fmt.pct, "count": fmt.count}[unit](value)


def _segment_blend(key: str, segment_targets: dict[str, dict[str, float]], seg_parts: pd.DataFrame,
                   months: int) -> float | None:
    """The period ratio when every account lands on its segment's period target.

    Σ_s period_rate(annual target_s, months) × beginning ARR_s / Σ_s beginning ARR_s.
    """
    begin = seg_parts["beginning_arr"]
    total = float(begin.sum())
    if total <= 0:
        return None
    return float(sum(period_rate(segment_targets[s][key], months) * b for s, b in begin.items() if b > 0) / total)


def _check_table(book: Book, period: Period, parts: pd.DataFrame, targets: CascadeTargets,
                 seg_parts: pd.DataFrame) -> pd.DataFrame:
    n_csms = len(book.csms)
    team = rollup(parts, period).iloc[0]
    rows = []
    for kpi, label, kind, _unit, _higher in KPIS:
        rule, weight_cols, _ = ROLLUP_RULES[kpi]
        goal = _company_goal(kpi, targets.goals, n_csms)
        rolled = rolled_up_target(kpi, targets.table[kpi], parts, period.months)
        weight = None if rule == "sum" else team[list(weight_cols)].sum(min_count=len(weight_cols))
        weight = None if _missing(weight) else float(weight)
        seg_target = (_segment_blend(kpi, targets.segment_targets, seg_parts, period.months)
                      if kpi in RETENTION_KPIS else None)
        actual = team[kpi]
        actual = None if _missing(actual) else float(actual)
        t_gap = shortfall(kpi, goal, rolled, weight, period.months)
        if kpi == "logo_churn_monthly_pct" and actual is not None:
            # straight from counts: churned logos − the goal's allowance on the team's cohort
            a_gap = float(team["churned_accounts"] - _period_rate(goal, period.months) * team["cohort_accounts"])
        else:
            a_gap = shortfall(kpi, goal, actual, weight, period.months)
        rows.append({
            "kpi": kpi, "label": label, "kind": kind, "company_goal": goal,
            "company_goal_annual": targets.goals[_annual_key(kpi)] if kpi in RETENTION_KPIS else None,
            "segment_target": seg_target,
            "csm_target": rolled, "weight": ("CSM count" if rule == "sum" else " + ".join(weight_cols)),
            "weight_total": float(n_csms) if rule == "sum" else weight,
            "target_shortfall": t_gap, "targets_reach_goal": None if t_gap is None else bool(t_gap <= 1e-6),
            "target_shortfall_text": shortfall_text(kpi, t_gap, currency=book.reporting_currency),
            "team_actual": actual, "actual_shortfall": a_gap,
            "actual_reaches_goal": None if a_gap is None else bool(a_gap <= 1e-6),
            "actual_shortfall_text": shortfall_text(kpi, a_gap, actual=True, currency=book.reporting_currency),
        })
    table = pd.DataFrame(rows)
    for col in ("company_goal", "company_goal_annual", "segment_target", "csm_target", "weight_total",
                "target_shortfall", "team_actual", "actual_shortfall"):
        table[col] = table[col].astype("float64")
    for col in ("targets_reach_goal", "actual_reaches_goal"):
        table[col] = table[col].astype("boolean")
    return table


def rollup_check(book: Book, start: str | Period, end: str | None = None,
                 as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> RollupCheck:
    """Check that the CSMs' targets, rolled up, reach the company goals — and where the team's actuals are.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> check = rollup_check(load_book(), "2026-07", "2026-09")
    >>> list(check.table["kpi"])[-4:]
    ['grr_pct', 'nrr_pct', 'logo_churn_monthly_pct', 'closed_alert_pct']
    """
    period = _as_period(start, end)
    parts = metric_parts(book, period, as_of, attribution=attribution)
    targets = cascade_targets(book, period, attribution=attribution)
    seg = segment_parts(book, period, as_of, attribution)
    return RollupCheck(period=period, as_of=str(as_of_date(period, as_of).date()),
                       table=_check_table(book, period, parts, targets, seg), currency=book.reporting_currency)


# -- line of sight ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineOfSight:
    """One CSM's targets with the company goal each one serves and why (the seed's line of sight).

    ``table`` columns: ``kpi, label, kind, target, target_text, serves, explanation``.
    """

    csm_id: str
    csm_name: str
    period: Period
    table: pd.DataFrame = field(repr=False)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{fmt.text(r.label)}</td><td style='text-align:right'>{fmt.text(r.target_text)}</td>"
            f"<td>{fmt.text(r.serves)}</td><td>{fmt.text(r.explanation)}</td></tr>"
            for r in self.table.itertuples(index=False))
        return (f"<table><caption>Why these targets — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), "
                f"{fmt.text(self.period)}</caption><thead><tr><th>KPI</th><th>target</th><th>serves</th>"
                f"<th>why</th></tr></thead><tbody>{rows}</tbody></table>")


_STANDARD_KEY = {
    "calls": "calls_per_month", "touchpoints": "touchpoints_per_quarter", "qbrs": "qbrs_per_quarter",
    "sqls": "sqls_per_quarter", "sql_pipeline": "sql_pipeline_per_quarter",
}


def _derivation(kpi: str, csm_id: str, row: pd.Series, book: Book, period: Period, goals: dict[str, float],
                segment_targets: dict[str, dict[str, float]], mix: pd.Series, team_begin: float) -> str:
    """How the target was set, in words, with the numbers."""
    unit = _UNIT[kpi]
    target = row[kpi]
    cur = book.reporting_currency
    overrides = _overrides(book, csm_id)
    key = _STANDARD_KEY.get(kpi, kpi)
    scaled = ""
    if kpi in RETENTION_KPIS and period.months != 12:
        annual = float(row[_annual_key(kpi)])
        scaled = f" For {period_words(period.months)} that is {period_share_text(annual, period.months, target)}."
    if key in overrides:
        per_year = " % a year" if kpi in RETENTION_KPIS else ""
        return f"Set for you in targets.yaml (csms.{csm_id}.{key} = {fmt.count(overrides[key])}{per_year}).{scaled}"
    if kpi in RETENTION_KPIS:
        begin = float(mix.sum())
        if begin <= 0:
            return (f"No beginning ARR this period, so the company goal applies "
                    f"({retention_target_text(target, row[_annual_key(kpi)], period.months)}).")
        parts = [f"{s} {fmt.pct(segment_targets[s][kpi])} × {fmt.pct(100 * b / begin, 0)}"
                 for s, b in mix.items() if b > 0]
        share = 100.0 * begin / team_begin if team_begin > 0 else float("nan")
        return (f"Segment targets blended by your beginning ARR ({'; '.join(parts)}) = "
                f"{fmt.pct(row[_annual_key(kpi)])} a year.{scaled} "
                f"Your {fmt.money(begin, cur)} is {fmt.pct(share)} of the team's beginning ARR: one point of your "
                f"{'GRR' if kpi == 'grr_pct' else 'NRR'} is {fmt.money(begin / 100, cur)} of ARR and moves the "
                f"company figure by {share / 100:.2f} points.")
    if kpi in _STANDARD_KEY:
        per = _STANDARD_KEY[kpi].rsplit("_per_", 1)[1]
        standard = book.targets["defaults"][_STANDARD_KEY[kpi]]
        text = (f"Company activity standard {_fmt(standard, unit, cur)} a {per}, {_fmt(target, unit, cur)} for these "
                f"{period.months} month{'s' if period.months != 1 else ''}.")
        if kpi == "sql_pipeline" and goals["sql_pipeline"] > 0:
            text += (f" That is {fmt.pct(100 * target / goals['sql_pipeline'])} of the "
                     f"{goal_text('sql_pipeline', goals, currency=cur)}.")
        return text
    return f"Company standard {_fmt(target, unit, cur)}, the same for every CSM."


def line_of_sight(book: Book, csm_id: str, start: str | Period, end: str | None = None,
                  attribution: str = "start") -> LineOfSight:
    """Every target of ``csm_id`` with the company goal it serves and why (for the per-CSM report).

    Targets are those of the CSM's scorecard (:func:`csm_target_table`); GRR / NRR targets are the
    period's share of the annual rate and ``target_text`` says both (``"98.7 % for the quarter (94.8 %
    a year)"``). ``serves`` names the company goal(s) from ``targets.yaml``; ``explanation`` says how
    the target was set (blend of segment targets, activity standard or a per-CSM override, then the
    scaling to the period) and why the KPI matters.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> los = line_of_sight(load_book(), "csm_01", "2026-07", "2026-09")
    >>> list(los.table.columns)
    ['kpi', 'label', 'kind', 'target', 'target_text', 'serves', 'explanation']
    """
    period = _as_period(start, end)
    csm_id = book.check_csm(csm_id)
    ct = cascade_targets(book, period, attribution=attribution)
    row = ct.table.loc[csm_id]
    team_begin = float(ct.table["beginning_arr"].sum())
    rows = []
    for kpi, label, kind, unit, _higher in KPIS:
        serves, why = LINE_OF_SIGHT[kpi]
        how = _derivation(kpi, csm_id, row, book, period, ct.goals, ct.segment_targets, ct.mix.loc[csm_id],
                          team_begin)
        text = (retention_target_text(row[kpi], row[_annual_key(kpi)], period.months) if kpi in RETENTION_KPIS
                else _fmt(row[kpi], unit, book.reporting_currency))
        rows.append({"kpi": kpi, "label": label, "kind": kind, "target": float(row[kpi]), "target_text": text,
                     "serves": "; ".join(goal_text(g, ct.goals, period.months, book.reporting_currency) for g in serves),
                     "explanation": f"{why} {how}"})
    return LineOfSight(csm_id=csm_id, csm_name=book.csm_name(csm_id), period=period, table=pd.DataFrame(rows))


# -- the cascade tree ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CascadeTree:
    """Company → segment → CSM, each node with its own targets and its actuals.

    ``table`` has one row per node in display order: ``level`` (company / segment / csm), ``depth``
    (0, 1, 2), ``segment``, ``csm_id``, ``name``, ``book_accounts``, ``beginning_arr``, ``ending_arr``,
    ``share_pct`` (of the company's beginning ARR) and for each of ``grr``, ``nrr``, ``logo_churn``
    (monthly) and ``coverage``: ``<kpi>_target``, ``<kpi>_actual``, ``<kpi>_status``; and
    ``grr_target_annual``, ``nrr_target_annual``.

    A CSM node is the CSM's accounts *in that segment* (a CSM with a mixed book appears under each of
    their segments); its retention targets are the segment's (or the CSM's override), its logo churn
    and coverage targets the CSM's. A segment node carries the segment targets, the company node the
    company goals. GRR / NRR targets are annual rates: ``grr_target`` / ``nrr_target`` are their share
    for the period (:func:`kpi_kit.targets.period_rate`), which the period's actuals are compared with,
    and ``*_target_annual`` the rates as written. Actuals at every level are recomputed from summed
    parts, so ARR adds up down the tree.
    """

    period: Period
    as_of: str
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency

    def nested(self) -> dict[str, Any]:
        """The tree as nested dicts: ``{"level", "name", "targets", "targets_annual", "actuals", "children": [...]}``.

        ``targets`` are the period's (GRR / NRR: the share of the annual rate); ``targets_annual`` the
        annual GRR / NRR rates they come from.
        """
        nodes: list[dict[str, Any]] = []
        for r in self.table.to_dict("records"):
            node = {
                "level": r["level"], "name": r["name"], "segment": r["segment"], "csm_id": r["csm_id"],
                "beginning_arr": r["beginning_arr"], "ending_arr": r["ending_arr"],
                "targets": {k: _none(r[f"{k}_target"]) for k, *_ in TREE_KPIS},
                "targets_annual": {k: _none(r[f"{k}_target_annual"]) for k in ("grr", "nrr")},
                "actuals": {k: _none(r[f"{k}_actual"]) for k, *_ in TREE_KPIS},
                "status": {k: r[f"{k}_status"] for k, *_ in TREE_KPIS},
                "children": [],
            }
            while len(nodes) > r["depth"]:
                nodes.pop()
            if nodes:
                nodes[-1]["children"].append(node)
            nodes.append(node)
        return nodes[0] if nodes else {}

    def _repr_html_(self) -> str:
        words = fmt.text(period_words(self.period.months))
        head = (f"<tr><th>level</th><th>beginning ARR</th><th>share</th><th>GRR target for {words}</th><th>GRR</th>"
                f"<th>NRR target for {words}</th><th>NRR</th><th>logo churn/mo target</th><th>logo churn/mo</th>"
                "<th>coverage target</th><th>coverage</th></tr>")
        from kpi_kit.scorecard import STATUS_MARK

        rows = []
        for r in self.table.to_dict("records"):
            cells = [f"<td style='padding-left:{1.5 * r['depth'] + 0.3:.1f}em'>"
                     f"{'<b>' if r['depth'] < 2 else ''}{fmt.text(r['name'])}{'</b>' if r['depth'] < 2 else ''}</td>",
                     f"<td style='text-align:right'>{fmt.money(r['beginning_arr'], self.currency)}</td>",
                     f"<td style='text-align:right'>{fmt.pct(r['share_pct'])}</td>"]
            for k, *_ in TREE_KPIS:
                target = fmt.pct(r[f"{k}_target"])
                if k in ("grr", "nrr") and not _missing(r[f"{k}_target_annual"]) and self.period.months != 12:
                    target += f" ({fmt.pct(r[f'{k}_target_annual'])} a year)"
                cells.append(f"<td style='text-align:right'>{fmt.text(target)}</td>")
                cells.append(f"<td style='text-align:right'>{fmt.pct(r[f'{k}_actual'])} "
                             f"{STATUS_MARK[r[f'{k}_status']]}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return (f"<table><caption>KPI cascade — {fmt.text(self.period)}, as of {fmt.text(self.as_of)}</caption>"
                f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")


def _none(value: Any) -> Any:
    return None if _missing(value) else value


def _node(level: str, depth: int, segment: str, csm_id: str, name: str, actual: pd.Series,
          targets: dict[str, float | None], company_begin: float, months: int) -> dict[str, Any]:
    """One tree row. ``targets`` holds *annual* GRR / NRR rates; they are held to the period's share here."""
    row: dict[str, Any] = {
        "level": level, "depth": depth, "segment": segment, "csm_id": csm_id, "name": name,
        "book_accounts": int(actual["book_accounts"]), "beginning_arr": float(actual["beginning_arr"]),
        "ending_arr": float(actual["ending_arr"]),
        "share_pct": 100.0 * float(actual["beginning_arr"]) / company_begin if company_begin > 0 else float("nan"),
    }
    for key, col, higher in TREE_KPIS:
        value, target = _none(actual[col]), targets.get(col)
        if col in RETENTION_KPIS:
            row[f"{key}_target_annual"] = target
            target = None if target is None else period_rate(target, months)
        row[f"{key}_target"] = target
        row[f"{key}_actual"] = value
        row[f"{key}_status"] = status(attainment(value, target, higher))
    return row


def cascade_tree(book: Book, start: str | Period, end: str | None = None,
                 as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> CascadeTree:
    """The cascade as a tree (company → segment → CSM) with targets and actuals (see :class:`CascadeTree`).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> tree = cascade_tree(load_book(), "2026-07", "2026-09")
    >>> tree.table["level"].iloc[0], tree.nested()["level"]
    ('company', 'company')
    """
    period = _as_period(start, end)
    slices = slice_parts(book, period, as_of, attribution)
    parts = metric_parts(book, period, as_of, attribution=attribution)
    return _tree(book, period, as_of, cascade_targets(book, period, attribution=attribution), parts, slices,
                 _segments_from_slices(slices))


def _segments_from_slices(slices: pd.DataFrame) -> pd.DataFrame:
    """Segment parts as the sum of their (CSM, segment) slices — equal to :func:`kpi_kit.team.segment_parts`."""
    summed = slices.groupby(level="segment").sum(min_count=1)
    order = [s for s in SEGMENTS if s in summed.index] + sorted(s for s in summed.index if s not in SEGMENTS)
    return summed.loc[order]


def _tree(book: Book, period: Period, as_of: str | pd.Timestamp | None, ct: CascadeTargets,
          csm_parts: pd.DataFrame, slice_parts_: pd.DataFrame, segment_parts_: pd.DataFrame) -> CascadeTree:
    slices = finish(slice_parts_, period)
    segments = finish(segment_parts_, period)
    company = rollup(csm_parts, period).iloc[0]  # = the segments' sum, and defined for an empty book
    company_begin = float(company["beginning_arr"])
    goals = ct.goals
    months = period.months
    rows = [_node("company", 0, "", "", f"Company ({book.name})", company, {
        "grr_pct": goals["grr_annual_pct"], "nrr_pct": goals["nrr_annual_pct"],
        "logo_churn_monthly_pct": goals["logo_churn_monthly_pct"], "coverage_pct": goals["coverage_pct_standard"],
    }, company_begin, months)]
    for seg, actual in segments.iterrows():
        if actual["book_accounts"] <= 0:
            continue
        seg_t = ct.segment_targets.get(str(seg), {})
        rows.append(_node("segment", 1, str(seg), "", f"{seg}", actual, {
            "grr_pct": seg_t.get("grr_pct"), "nrr_pct": seg_t.get("nrr_pct"),
            "logo_churn_monthly_pct": goals["logo_churn_monthly_pct_standard"],
            "coverage_pct": goals["coverage_pct_standard"],
        }, company_begin, months))
        mine = slices.xs(seg, level="segment")
        for csm_id in book.csm_ids():
            if csm_id not in mine.index or mine.at[csm_id, "book_accounts"] <= 0:
                continue
            over = _overrides(book, csm_id)
            t = ct.table.loc[csm_id]
            rows.append(_node("csm", 2, str(seg), csm_id, f"{book.csm_name(csm_id)} ({csm_id})", mine.loc[csm_id], {
                "grr_pct": over.get("grr_pct", seg_t.get("grr_pct")), "nrr_pct": over.get("nrr_pct", seg_t.get("nrr_pct")),
                "logo_churn_monthly_pct": float(t["logo_churn_monthly_pct"]), "coverage_pct": float(t["coverage_pct"]),
            }, company_begin, months))
    table = pd.DataFrame(rows)
    for key, *_ in TREE_KPIS:
        for suffix in ("target", "actual"):
            table[f"{key}_{suffix}"] = table[f"{key}_{suffix}"].astype("float64")
    for key in ("grr", "nrr"):
        table[f"{key}_target_annual"] = table[f"{key}_target_annual"].astype("float64")
    return CascadeTree(period=period, as_of=str(as_of_date(period, as_of).date()), table=table,
                       currency=book.reporting_currency)


# -- forecast vs goal ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastVsGoal:
    """Where the team will land on GRR / NRR by the period end, against the company goals.

    ``table``: one row per CSM and a last ``team`` row: ``csm_id, csm_name, beginning_arr,
    expected_retained_arr, expected_ending_arr, expected_grr_pct, expected_nrr_pct, grr_target,
    nrr_target, grr_target_annual, nrr_target_annual, grr_gap_arr, nrr_gap_arr, grr_status, nrr_status``.
    CSM rows use the CSM's targets, the team row the company goals; ``*_target`` is the period's share
    of the annual rate ``*_target_annual`` (:func:`kpi_kit.targets.period_rate`), the one the expected
    period ratio is compared with; ``*_gap_arr`` = (target − expected) / 100 × beginning ARR (positive =
    short). The team's expectation is Σ expected ARR / Σ beginning ARR (expectations add up exactly;
    the CSMs' simulated bands do not, so no team band is given).
    """

    period: Period
    as_of: str
    goals: dict[str, float]
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency

    @property
    def team(self) -> pd.Series:
        return self.table.set_index("csm_id").loc["team"]

    def sentence(self) -> str:
        t = self.team
        parts = []
        for key, label in (("grr", "GRR"), ("nrr", "NRR")):
            gap = t[f"{key}_gap_arr"]
            if _missing(t[f"expected_{key}_pct"]):
                parts.append(f"{label}: no beginning ARR")
                continue
            where = (f"{fmt.money(gap, self.currency)} of ARR short" if gap > 0
                     else f"{fmt.money(-gap, self.currency)} of ARR ahead")
            goal = retention_target_text(t[f"{key}_target"], t[f"{key}_target_annual"], self.period.months)
            parts.append(f"team {label} expected {fmt.pct(t[f'expected_{key}_pct'])} vs the company goal of "
                         f"{goal} ({where})")
        return f"{self.period}, as of {self.as_of}: " + "; ".join(parts) + "."

    def _repr_html_(self) -> str:
        show = self.table.copy()
        for col in ("beginning_arr", "expected_retained_arr", "expected_ending_arr", "grr_gap_arr", "nrr_gap_arr"):
            show[col] = show[col].map(lambda v: fmt.money(v, self.currency))
        for col in ("expected_grr_pct", "expected_nrr_pct", "grr_target", "nrr_target", "grr_target_annual",
                    "nrr_target_annual"):
            show[col] = show[col].map(fmt.pct)
        labels = self.labels()
        show = show[[c for c in labels if c in show.columns]].rename(columns=labels)
        start = labels["beginning_arr"]
        return (f"<div><p><b>Forecast vs goal</b> — {fmt.text(self.sentence())}</p>"
                f"{show.to_html(index=False, escape=True)}"
                f"<p>{fmt.text(start)}: every account's ARR at the end of {fmt.text(self.period.before)}, the month "
                f"before {fmt.text(self.period)} — new logos signed by then included — the base the expected GRR "
                "and NRR are measured on. "
                "Gap: ARR short of the target at the expected rate (negative = ahead of it).</p></div>")

    def labels(self) -> dict[str, str]:
        """Column headings as shown: :data:`FORECAST_LABELS`, the starting ARR naming its month.

        >>> ForecastVsGoal(Period.parse("2026-10", "2026-12"), "2026-09-30", {}, pd.DataFrame()).labels()["beginning_arr"]
        'book ARR, end of 2026-09'
        """
        return {**FORECAST_LABELS, "beginning_arr": f"book ARR, end of {self.period.before}"}


#: Column headings of :class:`ForecastVsGoal`'s table as shown to a reader (``table`` keeps the names).
FORECAST_LABELS: dict[str, str] = {
    "csm_name": "CSM", "beginning_arr": "book ARR at the start", "expected_ending_arr": "expected ending ARR",
    "expected_grr_pct": "expected GRR", "grr_target": "GRR target", "grr_gap_arr": "GRR gap", "grr_status": "GRR",
    "expected_nrr_pct": "expected NRR", "nrr_target": "NRR target", "nrr_gap_arr": "NRR gap", "nrr_status": "NRR",
}


def forecast_vs_goal(book: Book, start: str | Period, end: str | None = None,
                     as_of: str | pd.Timestamp | None = None, n: int = 2000, seed: int | None = None) -> ForecastVsGoal:
    """Expected period-end GRR / NRR of every CSM (:func:`kpi_kit.forecast.forecast_retention`) and the team's.

    The team row sums the CSMs' expected retained and ending ARR and divides by their summed beginning
    ARR (never an average of percentages) and is compared with the company goals for the period (the
    share of the annual goals, :func:`kpi_kit.targets.company_goals`). ``as_of`` should lie
    inside or before the period (after the period end the forecast is simply the actual).
    """
    from kpi_kit.forecast import DEFAULT_SEED, forecast_retention

    period = _as_period(start, end)
    goals = company_goals(book.targets, period.months, len(book.csms))
    rows = []
    day = as_of_date(period, as_of)
    for csm_id in book.csm_ids():
        fc = forecast_retention(book, csm_id, period, day, n=n, seed=DEFAULT_SEED if seed is None else seed)
        rows.append({"csm_id": csm_id, "csm_name": fc.csm_name, "beginning_arr": fc.beginning_arr,
                     "expected_retained_arr": fc.expected_retained_arr, "expected_ending_arr": fc.expected_ending_arr,
                     "expected_grr_pct": fc.expected_grr_pct, "expected_nrr_pct": fc.expected_nrr_pct,
                     "grr_target": fc.grr_target, "nrr_target": fc.nrr_target,
                     "grr_target_annual": fc.grr_target_annual, "nrr_target_annual": fc.nrr_target_annual})
    begin = sum(r["beginning_arr"] for r in rows)
    retained = sum(r["expected_retained_arr"] for r in rows)
    ending = sum(r["expected_ending_arr"] for r in rows)
    rows.append({"csm_id": "team", "csm_name": "Team", "beginning_arr": begin, "expected_retained_arr": retained,
                 "expected_ending_arr": ending,
                 "expected_grr_pct": 100.0 * retained / begin if begin > 0 else None,
                 "expected_nrr_pct": 100.0 * ending / begin if begin > 0 else None,
                 "grr_target": goals["grr_pct"], "nrr_target": goals["nrr_pct"],
                 "grr_target_annual": goals["grr_annual_pct"], "nrr_target_annual": goals["nrr_annual_pct"]})
    table = pd.DataFrame(rows)
    for key in ("grr", "nrr"):
        table[f"expected_{key}_pct"] = table[f"expected_{key}_pct"].astype("float64")
        table[f"{key}_target"] = table[f"{key}_target"].astype("float64")
        table[f"{key}_target_annual"] = table[f"{key}_target_annual"].astype("float64")
        table[f"{key}_gap_arr"] = (table[f"{key}_target"] - table[f"expected_{key}_pct"]) / 100.0 * table["beginning_arr"]
        table[f"{key}_status"] = [status(attainment(_none(e), _none(t)))
                                  for e, t in zip(table[f"expected_{key}_pct"], table[f"{key}_target"], strict=True)]
    return ForecastVsGoal(period=period, as_of=str(day.date()), goals=goals, table=table,
                          currency=book.reporting_currency)


# -- everything at once ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cascade:
    """The whole cascade for a period: goals, per-CSM targets, the roll-up check and the tree.

    ``table`` is the tree's table; ``notes`` lists problems worth reading (ignored overrides in
    ``targets.yaml``, segment targets that cannot reach the company goal).
    """

    period: Period
    as_of: str
    goals: dict[str, float]
    targets: CascadeTargets
    check: RollupCheck
    tree: CascadeTree
    notes: tuple[str, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        return self.tree.table

    def _repr_html_(self) -> str:
        goals = ", ".join(goal_text(k, self.goals, self.period.months, self.check.currency)
                          for k in ("grr_pct", "nrr_pct", "logo_churn_monthly_pct", "sql_pipeline"))
        notes = "".join(f"<li>{fmt.text(n)}</li>" for n in self.notes)
        return (f"<div><p><b>Company goals</b>: {fmt.text(goals)}.</p>"
                f"{'<ul>' + notes + '</ul>' if notes else ''}{self.check._repr_html_()}{self.tree._repr_html_()}</div>")


def cascade(book: Book, start: str | Period, end: str | None = None,
            as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> Cascade:
    """Goals, per-CSM targets, the roll-up check and the tree for the period, in one object.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> c = cascade(load_book(), "2026-07", "2026-09")
    >>> round(c.goals["nrr_pct"], 2), c.goals["nrr_annual_pct"], c.tree.table["level"].iloc[0]
    (102.41, 110.0, 'company')
    """
    period = _as_period(start, end)
    parts = metric_parts(book, period, as_of, attribution=attribution)
    targets = cascade_targets(book, period, attribution=attribution)
    slices = slice_parts(book, period, as_of, attribution)
    seg = _segments_from_slices(slices)
    check = RollupCheck(period=period, as_of=str(as_of_date(period, as_of).date()),
                        table=_check_table(book, period, parts, targets, seg), currency=book.reporting_currency)
    tree = _tree(book, period, as_of, targets, parts, slices, seg)
    notes = list(override_problems(book.targets, book.csm_ids()))
    for r in check.table.itertuples(index=False):
        if r.kpi in RETENTION_KPIS and not _missing(r.segment_target) and r.segment_target < r.company_goal - _EPS:
            # period with period: segment period targets blended vs the company's period goal
            short = (r.company_goal - r.segment_target) / 100.0 * r.weight_total
            goal = retention_target_text(r.company_goal, r.company_goal_annual, period.months)
            notes.append(f"Even with every account on its segment target, {r.label} reaches {fmt.pct(r.segment_target)} "
                         f"for {period_words(period.months)} on this book's segment mix, below the company goal of "
                         f"{goal} ({fmt.money(short, book.reporting_currency)} of ARR): raise segment targets or "
                         "accept the gap.")
    return Cascade(period=period, as_of=check.as_of, goals=targets.goals, targets=targets, check=check, tree=tree,
                   notes=tuple(notes))
