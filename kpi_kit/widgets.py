"""Interactive explorers (ipywidgets 8) for the notebooks ``notebooks/explore_*.ipynb``.

Every explorer is two layers:

* a **pure function** that does the arithmetic and that tests call directly —
  :func:`comp_what_if` (attainment and weights → payout and earnings), :func:`coverage_what_if`
  (tier sizes and touch rates → blended coverage) and :func:`scorecard_view` (CSM and period →
  scorecard and charts);
* a **builder** that lays the widgets out and wires an observer to each control:
  :func:`comp_explorer`, :func:`coverage_explorer`, :func:`scorecard_explorer`. A builder returns an
  :class:`Explorer` (the widget tree, the controls by name, and the ``widgets.HTML`` that shows the
  result). Results are written into HTML widgets — text, tables and charts rendered to inline SVG
  with :func:`kpi_kit.charts.to_svg` — so an observer can be tested without a kernel (read
  ``explorer.output.value``) and nothing is loaded from the network.

Live widgets need a running kernel; an exported (static) notebook cannot move a slider. The
explorer notebooks therefore also show a static result (table and chart) computed with the same
pure function, so the story survives the export.

Conventions: sliders are in **percent** (attainment 100 = on target; weights 45 = 45 %), because
that is what a CSM reads on a comp plan. The pure functions take percent too and say so in their
argument names (``attainment_pcts``, ``weight_pcts``); :mod:`kpi_kit.comp` itself works in ratios.
Money is exact (``Decimal``) and formatted to the cent only for display.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ipywidgets as widgets
import pandas as pd

from kpi_kit import fmt
from kpi_kit.comp import HUNDRED, CompPlan, PayStatement, as_decimal, load_plan, metric_attainment, payout_curve_table, statement
from kpi_kit.coverage import SEED_CLAIMED_PCT, SEED_TIERS, Tier, TieredCoverage, tiered_coverage
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.periods import Period

__all__ = [
    "COMP_SUMMARY_CLASS", "COVERAGE_SUMMARY_CLASS", "SCORECARD_OUTPUT_CLASS", "Explorer", "comp_what_if", "csm_attainment_pcts", "comp_explorer", "coverage_what_if", "coverage_explorer",
    "period_options", "scorecard_view", "scorecard_explorer", "money_cents",
]

#: CSS classes put on the result widgets (the browser test finds them by class).
COMP_SUMMARY_CLASS = "kpi-comp-summary"
COVERAGE_SUMMARY_CLASS = "kpi-coverage-summary"
SCORECARD_OUTPUT_CLASS = "kpi-scorecard-output"
_SLIDER_STYLE = {"description_width": "11em"}
_SLIDER_LAYOUT = {"width": "30em"}


def money_cents(value: Any, currency: str = "USD") -> str:
    """Money to the cent for the explorers: ``Decimal("21125")`` → ``"$21,125.00"`` (None → ``"no data"``).

    ``currency`` is the comp plan's (``CompPlan.currency``), see :func:`kpi_kit.fmt.money`.
    """
    return fmt.money(value, currency, digits=2)


@dataclass(frozen=True, eq=False)
class Explorer:
    """A built explorer: ``widget`` (the tree to display), ``controls`` (name → widget) and ``output``
    (the ``widgets.HTML`` whose ``value`` the observers rewrite). Displaying an ``Explorer`` in a
    notebook displays ``widget``."""

    widget: widgets.Box
    controls: dict[str, widgets.Widget]
    output: widgets.HTML
    extra: dict[str, widgets.Widget] = field(default_factory=dict)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


# --------------------------------------------------------------------------------------------
# comp what-if
# --------------------------------------------------------------------------------------------

def _check_keys(given: Mapping[str, Any], names: Sequence[str], what: str) -> None:
    unknown = [k for k in given if k not in names]
    missing = [n for n in names if n not in given]
    if unknown or missing:
        raise KitError(f"{what}: keys must be the plan's metrics {list(names)} "
                       f"(unknown: {unknown or 'none'}, missing: {missing or 'none'})")


def _plan_with_weights(plan: CompPlan, weight_pcts: Mapping[str, Any]) -> CompPlan:
    names = [m.name for m in plan.metrics]
    _check_keys(weight_pcts, names, "weight_pcts")
    weights = {}
    for name in names:
        w = as_decimal(weight_pcts[name], f"weight of {name}")
        if not Decimal(0) <= w <= HUNDRED:
            raise KitError(f"weight of {name} = {weight_pcts[name]!r} %: expected a percentage from 0 to 100")
        weights[name] = w
    total = sum(weights.values(), Decimal(0))
    if total != HUNDRED:
        gap = HUNDRED - total
        move = f"add {gap.normalize():f} points to" if gap > 0 else f"take {(-gap).normalize():f} points from"
        raise KitError(f"the weights sum to {total.normalize():f} %; a plan's weights must sum to exactly 100 % — "
                       f"{move} one of them")
    layout = plan.to_dict()
    for name in names:
        layout["metrics"][name]["weight"] = weights[name] / HUNDRED
    return load_plan(layout, source=f"{plan.name} (what-if weights)")


def _attainment_space(plan: CompPlan) -> CompPlan:
    """The plan with every metric higher-is-better: the what-if gives attainments, not actuals, so a churn-like
    metric's attainment must not be inverted a second time."""
    if not any(m.lower_is_better for m in plan.metrics):
        return plan
    layout = plan.to_dict()
    for spec in layout["metrics"].values():
        spec["lower_is_better"] = False
    return load_plan(layout, source=plan.source)


def comp_what_if(plan: CompPlan | Mapping[str, Any] | None, attainment_pcts: Mapping[str, Any],
                 weight_pcts: Mapping[str, Any] | None = None, *, months: int = 12) -> dict[str, Any]:
    """Pay for a set of per-metric attainments and (optionally) different metric weights.

    Definition
    ----------
    Each metric's attainment (percent; for a lower-is-better metric such as churn, its attainment, not
    its actual) is capped at the plan's ``metric_attainment_cap_pct``; with the
    seed's plan (``curve_applies_to: overall``) the overall attainment is ``Σ wᵢ × aᵢ`` and the payout
    curve is applied once to it (:func:`kpi_kit.comp.statement`, exact ``Decimal`` arithmetic, rounded
    half-up to cents once). ``weight_pcts`` replaces the plan's weights; they must sum to exactly 100.

    Parameters
    ----------
    plan
        A ``CompPlan``, a plan mapping, or ``None`` for the seed's plan.
    attainment_pcts
        ``{metric: attainment %}`` for every metric of the plan (``100`` = on target), each >= 0.
    weight_pcts
        ``{metric: weight %}`` for every metric, summing to 100; ``None`` keeps the plan's weights.
    months
        Length of the pay period (12 = annual amounts; base and variable target are × months / 12).

    Returns
    -------
    dict
        ``attainment_pct`` (overall, Decimal), ``multiple_pct`` (payout as % of the variable target),
        ``variable_payout``, ``base``, ``variable_target``, ``total_earnings``, ``ote`` (Decimal, cents),
        ``weights`` (``{metric: Decimal %}``), ``statement`` (the :class:`~kpi_kit.comp.PayStatement`),
        ``plan`` (the plan with the weights used) and ``summary`` (one line for display).

    Raises
    ------
    KitError
        A metric missing or unknown, a negative attainment, weights outside 0–100 or not summing to 100.

    Examples
    --------
    Retention 5 points above target, the rest on target: overall 0.45 × 105 + 0.35 × 100 + 0.20 × 100
    = 102.25 %, which pays 100 + 2.5 × 2.25 = 105.625 % of $20,000:

    >>> r = comp_what_if(None, {"retention": 105, "expansion": 100, "activity": 100})
    >>> float(r["attainment_pct"]), str(r["variable_payout"]), str(r["total_earnings"])
    (102.25, '21125.00', '101125.00')
    """
    base_plan = load_plan(plan)
    names = [m.name for m in base_plan.metrics]
    _check_keys(attainment_pcts, names, "attainment_pcts")
    used = base_plan if weight_pcts is None else _plan_with_weights(base_plan, weight_pcts)
    pairs = {}
    for name in names:
        a = as_decimal(attainment_pcts[name], f"attainment of {name}")
        if a < 0:
            raise KitError(f"attainment of {name} = {attainment_pcts[name]!r} %: expected a percentage >= 0")
        pairs[name] = (HUNDRED, a)  # target 100, actual = attainment %: metric_attainment gives a / 100, capped
    s: PayStatement = statement(_attainment_space(used), pairs, months=months)
    overall = s.attainment * HUNDRED
    cur = used.currency
    summary = (f"Overall attainment {fmt.pct(overall, 2)} → variable payout {money_cents(s.variable_payout, cur)} "
               f"of {money_cents(s.variable_target, cur)}; total earnings {money_cents(s.total_earnings, cur)} "
               f"(OTE {money_cents(s.ote, cur)}, {months} months)")
    return {
        "attainment_pct": overall,
        "multiple_pct": s.multiple * HUNDRED,
        "variable_payout": s.variable_payout,
        "base": s.base,
        "variable_target": s.variable_target,
        "total_earnings": s.total_earnings,
        "ote": s.ote,
        "weights": {m.name: m.weight * HUNDRED for m in used.metrics},
        "statement": s,
        "plan": used,
        "summary": summary,
    }


def csm_attainment_pcts(book: Book, csm_id: str, period: Period, plan: CompPlan | Mapping[str, Any] | None = None,
                        as_of: str | pd.Timestamp | None = None, *, card: Any = None,
                        capped: bool = True) -> dict[str, float | None]:
    """Each plan metric's attainment (percent) for one CSM and period, from the scorecard.

    Definition: :func:`kpi_kit.comp.metric_attainment` of the scorecard's target and actual for the
    metric's KPI (exact, capped at the plan's ``metric_attainment_cap_pct``), times 100. A KPI with no
    data in the book (e.g. calls when activities are not recorded) or no target gives ``None``. ``card``
    reuses a :class:`~kpi_kit.scorecard.Scorecard` of the same CSM and period (computed otherwise);
    ``capped=False`` leaves the cap out (to show what the cap changes; a lower-is-better KPI at 0 then
    has no finite attainment and gives ``None``).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> pcts = csm_attainment_pcts(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> sorted(pcts)
    ['activity', 'expansion', 'retention']
    """
    from kpi_kit.scorecard import scorecard

    used = load_plan(plan if plan is not None else book.comp_plan)
    table = (card if card is not None else scorecard(book, csm_id, period, as_of=as_of)).table.set_index("kpi")
    out: dict[str, float | None] = {}
    for m in used.metrics:
        if m.kpi not in table.index:
            raise KitError(f"plan metric {m.name!r} is measured by {m.kpi!r}, which the scorecard does not have "
                           f"(it has: {', '.join(table.index)})")
        t, x = table.at[m.kpi, "target"], table.at[m.kpi, "actual"]
        if fmt.is_missing(t) or fmt.is_missing(x) or t == 0:
            out[m.name] = None
            continue
        if not capped and m.lower_is_better and x == 0:
            out[m.name] = None
            continue
        cap = used.metric_attainment_cap if capped else Decimal(10) ** 12  # "no cap": far above any real attainment
        att = metric_attainment(t, x, lower_is_better=m.lower_is_better, cap=cap)
        out[m.name] = float(att * HUNDRED)
    return out


def _slider(value: float, lo: float, hi: float, description: str, whole: bool = True) -> widgets.Widget:
    value = min(max(value, lo), hi)
    if whole:
        return widgets.IntSlider(value=int(round(value)), min=int(lo), max=int(hi), step=1, description=description,
                                 continuous_update=True, style=_SLIDER_STYLE, layout=_SLIDER_LAYOUT)
    return widgets.FloatSlider(value=round(value, 1), min=lo, max=hi, step=0.1, description=description,
                               readout_format=".1f", style=_SLIDER_STYLE, layout=_SLIDER_LAYOUT)


def _curve_svg(points: pd.DataFrame, current: float | None, currency: str = "USD") -> str:
    from kpi_kit import charts

    return charts.to_svg(charts.payout_curve(points, current=current, currency=currency))


def comp_explorer(plan: CompPlan | Mapping[str, Any] | None = None,
                  attainment_pcts: Mapping[str, float | None] | None = None, *, months: int = 12,
                  chart: bool = True) -> Explorer:
    """Sliders for each metric's attainment and weight; payout, earnings and the curve update live.

    Parameters
    ----------
    plan
        The plan (``None`` = the seed's).
    attainment_pcts
        Starting attainment (%) per metric, e.g. from :func:`csm_attainment_pcts`; ``None`` values and
        missing metrics start at 100. Sliders hold whole percentages (values are rounded).
    months
        Pay period length (12 = annual).
    chart
        Draw the payout curve (inline SVG) with a dashed line at the overall attainment.

    Returns
    -------
    Explorer
        ``controls``: ``attainment:<metric>`` (IntSlider 0 .. the plan's attainment cap, step 1) and
        ``weight:<metric>`` (IntSlider 0–100 in %, or a FloatSlider with 0.1 steps when a plan weight
        is not a whole percentage); ``output``: the summary line (:func:`comp_what_if`'s ``summary``,
        or the error when the weights do not sum to 100); ``extra["chart"]``: the curve.
    """
    used = load_plan(plan)
    start = dict(attainment_pcts or {})
    cap = float(used.metric_attainment_cap * HUNDRED)
    controls: dict[str, widgets.Widget] = {}
    for m in used.metrics:
        value = start.get(m.name)
        controls[f"attainment:{m.name}"] = _slider(100.0 if value is None else float(value), 0, cap,
                                                   f"{m.name} attainment %")
    whole = all((m.weight * HUNDRED) == (m.weight * HUNDRED).to_integral_value() for m in used.metrics)
    for m in used.metrics:
        controls[f"weight:{m.name}"] = _slider(float(m.weight * HUNDRED), 0, 100, f"{m.name} weight %", whole)
    summary = widgets.HTML()
    summary.add_class(COMP_SUMMARY_CLASS)
    curve = widgets.HTML()
    points = payout_curve_table(used)

    def update(_change: Any = None) -> None:
        att = {m.name: controls[f"attainment:{m.name}"].value for m in used.metrics}
        wts = {m.name: controls[f"weight:{m.name}"].value for m in used.metrics}
        try:
            result = comp_what_if(used, att, wts, months=months)
        except KitError as exc:
            summary.value = f"<p><strong>⚠️ {fmt.text(exc)}</strong></p>"
            return
        summary.value = (f"<p><strong>Variable payout {fmt.text(money_cents(result['variable_payout'], used.currency))}</strong> · "
                         f"total earnings {fmt.text(money_cents(result['total_earnings'], used.currency))} · overall attainment "
                         f"{fmt.pct(result['attainment_pct'], 2)}</p><p>{fmt.text(result['summary'])}</p>")
        if chart:
            curve.value = _curve_svg(points, float(result["attainment_pct"]), used.currency)

    for w in controls.values():
        w.observe(update, names="value")
    update()
    att_box = widgets.VBox([widgets.HTML("<b>Attainment per metric</b>")]
                           + [controls[f"attainment:{m.name}"] for m in used.metrics])
    wt_box = widgets.VBox([widgets.HTML("<b>Weights (must sum to 100 %)</b>")]
                          + [controls[f"weight:{m.name}"] for m in used.metrics])
    tree = widgets.VBox([widgets.HBox([att_box, wt_box]), summary] + ([curve] if chart else []))
    return Explorer(tree, controls, summary, {"chart": curve})


# --------------------------------------------------------------------------------------------
# coverage planner
# --------------------------------------------------------------------------------------------

def coverage_what_if(sizes: Mapping[str, int], touch_pcts: Mapping[str, float],
                     claimed_pct: float | None = None) -> TieredCoverage:
    """Blended coverage of tiers of accounts touched at different rates.

    Definition (:func:`kpi_kit.coverage.tiered_coverage`): tier *i* engages ``sizeᵢ × touchᵢ / 100``
    accounts; blended coverage = ``100 × Σ sizeᵢ × touchᵢ / 100 / Σ sizeᵢ``.

    Parameters
    ----------
    sizes
        ``{tier: number of accounts}`` (whole numbers >= 0), in display order.
    touch_pcts
        ``{tier: share of the tier's accounts engaged, %}`` for the same tiers.
    claimed_pct
        A coverage figure to check against the tiers (the seed claims 90 %).

    Examples
    --------
    The seed's model: (10 × 100 % + 20 × 90 % + 20 × 80 %) / 50 = 44 / 50 = 88 %:

    >>> m = coverage_what_if({"high": 10, "mid": 20, "low": 20}, {"high": 100, "mid": 90, "low": 80})
    >>> m.blended_target_pct, m.target_accounts
    (88.0, 44.0)
    """
    if set(sizes) != set(touch_pcts):
        raise KitError(f"coverage_what_if: sizes has tiers {list(sizes)} but touch_pcts has {list(touch_pcts)}; "
                       "give both for the same tiers")
    return tiered_coverage([Tier(str(name), sizes[name], float(touch_pcts[name])) for name in sizes], claimed_pct)


def coverage_explorer(tiers: Sequence[Tier] = SEED_TIERS, claimed_pct: float | None = SEED_CLAIMED_PCT, *,
                      max_accounts: int = 200) -> Explorer:
    """Sliders for each tier's size and touch rate → blended coverage, live.

    Defaults are the seed's tiers (10 high-touch at 100 %, 20 mid-touch at 90 %, 20 low-touch at 80 %
    → 88 %) and its claimed 90 %. ``controls``: ``accounts:<tier>`` (IntSlider 0..``max_accounts``) and
    ``touch:<tier>`` (IntSlider 0–100 %); ``output``: the verdict and the tier table.
    """
    if not tiers:
        raise KitError("coverage_explorer: give at least one tier")
    controls: dict[str, widgets.Widget] = {}
    for t in tiers:
        controls[f"accounts:{t.name}"] = _slider(t.accounts, 0, max(max_accounts, t.accounts), f"{t.name} accounts")
        controls[f"touch:{t.name}"] = _slider(t.target_pct, 0, 100, f"{t.name} touched %")
    out = widgets.HTML()
    out.add_class(COVERAGE_SUMMARY_CLASS)

    def update(_change: Any = None) -> None:
        sizes = {t.name: int(controls[f"accounts:{t.name}"].value) for t in tiers}
        touch = {t.name: float(controls[f"touch:{t.name}"].value) for t in tiers}
        model = coverage_what_if(sizes, touch, claimed_pct)
        head = f"<p><strong>Blended coverage {fmt.pct(model.blended_target_pct, 1)}</strong></p>"
        table = model.table[["tier", "accounts", "target_pct", "target_accounts"]].rename(
            columns={"target_pct": "touched %", "target_accounts": "accounts engaged"})
        out.value = head + f"<p>{fmt.text(model.verdict())}</p>" + table.to_html(index=False, float_format="{:,.1f}".format)

    for w in controls.values():
        w.observe(update, names="value")
    update()
    rows = [widgets.HBox([controls[f"accounts:{t.name}"], controls[f"touch:{t.name}"]]) for t in tiers]
    return Explorer(widgets.VBox([*rows, out]), controls, out)


# --------------------------------------------------------------------------------------------
# scorecard drill-down
# --------------------------------------------------------------------------------------------

def period_options(book: Book) -> list[str]:
    """Calendar quarters whose beginning and ending ARR months both lie in the book's ARR history,
    newest first, as ``"YYYY-MM..YYYY-MM"``.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> period_options(load_book())[:2]
    ['2026-07..2026-09', '2026-04..2026-06']
    """
    months = book.arr_monthly["month"]
    if months.empty:
        return []
    first, last = months.min(), months.max()
    q_end = last - (last.month % 3)  # the last month that closes a quarter, at or before `last`
    out = []
    while q_end - 3 >= first:  # the month before the quarter must be in the history
        out.append(str(Period(q_end - 2, q_end)))
        q_end -= 3
    return out


def scorecard_view(book: Book, csm_id: str, period: Period | str, as_of: str | pd.Timestamp | None = None) -> dict[str, Any]:
    """The drill-down of one CSM and period: scorecard, diagnosis and the charts that explain it.

    Parameters
    ----------
    book, csm_id
        The book and the CSM.
    period
        A ``Period`` or ``"YYYY-MM..YYYY-MM"``.

    Returns
    -------
    dict
        ``scorecard`` (:class:`~kpi_kit.scorecard.Scorecard`), ``diagnosis`` (str), ``charts``
        (``{title: altair chart}``: calls and touchpoints per month when activities are recorded, the
        ARR bridge) and ``notes`` (what could not be drawn and why).
    """
    from kpi_kit import charts, strategic
    from kpi_kit.forecast import resolve_period
    from kpi_kit.scorecard import scorecard

    per = resolve_period(period)
    csm_id = book.check_csm(csm_id)
    card = scorecard(book, csm_id, per, as_of=as_of)
    drawn: dict[str, Any] = {}
    notes: list[str] = []
    if book.recorded("activities"):
        drawn["Calls and touchpoints per month"] = charts.touches_vs_target(strategic.monthly_touches(book, csm_id, per, as_of))
    else:
        notes.append("This book does not record CSM activities, so there is no calls and touchpoints chart.")
    drawn["ARR bridge"] = charts.arr_bridge_chart(strategic.arr_bridge(book, csm_id, per), currency=book.reporting_currency)
    return {"scorecard": card, "diagnosis": card.diagnosis(), "charts": drawn, "notes": notes}


def _view_html(view: dict[str, Any]) -> str:
    from kpi_kit import charts

    parts = [view["scorecard"]._repr_html_(), f"<p><em>{fmt.text(view['diagnosis'])}</em></p>"]
    parts += [f"<p>{fmt.text(n)}</p>" for n in view["notes"]]
    parts += [f"<h4>{fmt.text(title)}</h4>{charts.to_svg(chart)}" for title, chart in view["charts"].items()]
    return "".join(parts)


def scorecard_explorer(book: Book, csm_id: str | None = None, period: Period | str | None = None, *,
                       render: Callable[[dict[str, Any]], str] = _view_html) -> Explorer:
    """CSM and period pickers → the scorecard, its diagnosis and charts (:func:`scorecard_view`).

    ``controls``: ``csm`` (Dropdown of ``"name (id)"`` → id) and ``period`` (Dropdown of
    :func:`period_options`, plus ``period`` itself when it is not a quarter of the history).
    ``output``: the rendered view (HTML with inline SVG charts).
    """
    ids = book.csm_ids()
    if not ids:
        raise KitError(f"{book.path}: the book has no CSMs")
    start_csm = book.check_csm(csm_id) if csm_id is not None else ids[0]
    options = period_options(book)
    from kpi_kit.forecast import resolve_period

    start_period = str(resolve_period(period)) if period is not None else (options[0] if options else None)
    if start_period is None:
        raise KitError(f"{book.path}: no ARR history, so there is no period to show")
    if start_period not in options:
        options = [start_period, *options]
    controls: dict[str, widgets.Widget] = {
        "csm": widgets.Dropdown(options=[(f"{book.csm_name(c)} ({c})", c) for c in ids], value=start_csm,
                                description="CSM", style=_SLIDER_STYLE),
        "period": widgets.Dropdown(options=options, value=start_period, description="Period", style=_SLIDER_STYLE),
    }
    out = widgets.HTML()
    out.add_class(SCORECARD_OUTPUT_CLASS)

    def update(_change: Any = None) -> None:
        try:
            out.value = render(scorecard_view(book, controls["csm"].value, controls["period"].value))
        except KitError as exc:
            out.value = f"<p><strong>⚠️ {fmt.text(exc)}</strong></p>"

    for w in controls.values():
        w.observe(update, names="value")
    update()
    return Explorer(widgets.VBox([widgets.HBox([controls["csm"], controls["period"]]), out]), controls, out)

