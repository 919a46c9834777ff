"""Chart builders for the reports, the teaching notebooks and the explorers (altair 6).

Every builder takes an **already aggregated** frame (from :mod:`kpi_kit.strategic` or
:func:`kpi_kit.comp.payout_curve_table`) and embeds exactly that frame as the chart's data — never
raw activity rows — so a chart carries a handful of rows, far below altair's 5,000-row limit.
Builders are deterministic: no random ids, no selections with generated names, months as ordinal
``"YYYY-MM"`` strings (never temporal fields, so the viewer's time zone cannot shift a month).
Titles and axis labels are plain words; money axes show the currency ($ for USD, the ISO code otherwise).

:func:`to_svg` renders a chart to a self-contained SVG string through vl-convert (offline, no
network); the report's HTML export uses it so charts render without a CDN.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import altair as alt
import pandas as pd

from kpi_kit.errors import KitError
from kpi_kit.strategic import QUADRANTS
from kpi_kit.svg import DEFER_ENV, spec_renderer, spec_to_svg, svg_renderer

__all__ = [
    "arr_bridge_chart", "coverage_by_segment_chart", "coverage_heatmap", "enable_renderer", "payout_curve", "quadrant", "to_svg",
    "touches_vs_target",
]

#: Size of the single-panel charts (pixels).
WIDTH, HEIGHT = 480, 260
#: d3-format strings used on axes and labels.
MONEY, MONEY_SHORT, PCT = "$,.0f", "$,.3~s", ".0f"


def money_formats(currency: str = "USD") -> tuple[str, str, str]:
    """Axis format, short label format and axis-title suffix for amounts in ``currency`` (ISO code).

    d3-format's ``$`` is the locale's dollar sign, right only for USD; other currencies get plain numbers
    and the code in the axis title, so a EUR book never shows "$".

    >>> money_formats("USD"), money_formats("eur")
    (('$,.0f', '$,.3~s', 'USD'), (',.0f', ',.3~s', 'EUR'))
    """
    code = str(currency).strip().upper() or "USD"
    if code == "USD":
        return MONEY, MONEY_SHORT, code
    return MONEY.lstrip("$"), MONEY_SHORT.lstrip("$"), code

#: Colours (colour-blind-safe Tableau 10 tones) by meaning.
INCREASE, DECREASE, TOTAL, NEUTRAL, TARGET = "#59a14f", "#e15759", "#4e79a7", "#bab0ac", "#222222"
#: One fixed colour per diagnosis, so every team's chart uses the same legend.
QUADRANT_COLOURS: dict[str, str] = {
    QUADRANTS[(True, True)]: INCREASE,
    QUADRANTS[(True, False)]: DECREASE,
    QUADRANTS[(False, False)]: "#b07aa1",
    QUADRANTS[(False, True)]: "#f28e2b",
    "No activity data": NEUTRAL,
}


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """A clear error when the frame given to a chart builder lacks the columns it needs."""
    if not isinstance(frame, pd.DataFrame):
        raise KitError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KitError(f"{what}: the frame lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))}); "
                       f"pass the frame built by the matching kpi_kit.strategic function")


def touches_vs_target(monthly: pd.DataFrame) -> alt.LayerChart:
    """Calls and touchpoints per month (bars) against their monthly targets (black ticks).

    Parameters
    ----------
    monthly
        :func:`kpi_kit.strategic.monthly_touches` — ``month, calls, touchpoints, calls_target,
        touchpoints_target``. The chart's data is this frame; the long form is made in Vega-Lite
        (a fold transform), so no rows are added.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"month": ["2026-07"], "calls": [18], "touchpoints": [25],
    ...                   "calls_target": [20.0], "touchpoints_target": [30.0]})
    >>> touches_vs_target(m).to_dict()["layer"][0]["mark"]["type"]
    'bar'
    """
    _require(monthly, ["month", "calls", "touchpoints", "calls_target", "touchpoints_target"], "touches_vs_target")
    base = (
        alt.Chart(monthly)
        .transform_fold(["calls", "touchpoints"], as_=["measure", "actual"])
        .transform_calculate(
            target="datum.measure === 'calls' ? datum.calls_target : datum.touchpoints_target",
            activity="datum.measure === 'calls' ? 'Calls' : 'Touchpoints'",
        )
    )
    x = alt.X("month:O", title="Month", sort="ascending", axis=alt.Axis(labelAngle=0))
    offset = alt.XOffset("activity:N", sort=["Calls", "Touchpoints"])
    bars = base.mark_bar().encode(
        x=x, xOffset=offset,
        y=alt.Y("actual:Q", title="Activities in the month"),
        color=alt.Color("activity:N", title="Activity", sort=["Calls", "Touchpoints"],
                        scale=alt.Scale(domain=["Calls", "Touchpoints"], range=[TOTAL, "#f28e2b"])),
        tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("activity:N", title="Activity"),
                 alt.Tooltip("actual:Q", title="Done"), alt.Tooltip("target:Q", title="Target", format=".1f")],
    )
    ticks = base.mark_tick(color=TARGET, thickness=2).encode(x=x, xOffset=offset, y=alt.Y("target:Q"))
    return alt.layer(bars, ticks).properties(
        title="Calls and touchpoints per month (bars) vs monthly target (black line)", width=WIDTH, height=HEIGHT)


def arr_bridge_chart(bridge: pd.DataFrame, currency: str = "USD") -> alt.LayerChart:
    """The ARR bridge as a waterfall: totals in blue, increases in green, decreases in red.

    Parameters
    ----------
    bridge
        :func:`kpi_kit.strategic.arr_bridge` — ``step, label, kind, amount, bar_start, bar_end``.
    currency
        ISO code of the amounts (``book.reporting_currency``); see :func:`money_formats`.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"step": [1, 2], "label": ["Beginning ARR", "Expansion"], "kind": ["total", "increase"],
    ...                   "amount": [100.0, 20.0], "bar_start": [0.0, 100.0], "bar_end": [100.0, 120.0]})
    >>> arr_bridge_chart(b).to_dict()["layer"][0]["encoding"]["y"]["axis"]["format"]
    '$,.0f'
    """
    _require(bridge, ["step", "label", "kind", "amount", "bar_start", "bar_end"], "arr_bridge_chart")
    money, money_short, code = money_formats(currency)
    order = bridge.sort_values("step")["label"].astype(str).tolist()
    base = alt.Chart(bridge)
    x = alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=110))
    bars = base.mark_bar(size=40).encode(
        x=x,
        y=alt.Y("bar_start:Q", title=f"ARR ({code})", axis=alt.Axis(format=money)),
        y2="bar_end:Q",
        color=alt.Color("kind:N", title=None, legend=None,
                        scale=alt.Scale(domain=["total", "increase", "decrease"], range=[TOTAL, INCREASE, DECREASE])),
        tooltip=[alt.Tooltip("label:N", title="Step"), alt.Tooltip("amount:Q", title=f"Amount ({code})", format=money)],
    )
    labels = base.mark_text(dy=-6, baseline="bottom", fontSize=11).encode(
        x=x, y=alt.Y("top:Q"), text=alt.Text("amount:Q", format=money_short),
    ).transform_calculate(top="max(datum.bar_start, datum.bar_end)")
    return alt.layer(bars, labels).properties(title="ARR bridge: beginning to ending ARR", width=WIDTH + 120,
                                              height=HEIGHT)


def coverage_by_segment_chart(cov: pd.DataFrame, target: float | None = None) -> alt.Chart | alt.LayerChart:
    """Coverage % per segment (bars, 0–100 %), labelled "covered of book"; optional target line.

    Parameters
    ----------
    cov
        :func:`kpi_kit.strategic.coverage_by_segment` — ``segment, book_accounts, covered_accounts,
        coverage_pct``.
    target
        Coverage target in percent (e.g. the scorecard's 90); drawn as a dashed line when given.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"segment": ["smb"], "book_accounts": [4], "covered_accounts": [3], "coverage_pct": [75.0]})
    >>> coverage_by_segment_chart(c).to_dict()["layer"][0]["encoding"]["y"]["scale"]["domain"]
    [0, 100]
    """
    _require(cov, ["segment", "book_accounts", "covered_accounts", "coverage_pct"], "coverage_by_segment_chart")
    base = alt.Chart(cov)
    x = alt.X("segment:N", title="Segment", sort=cov["segment"].astype(str).tolist(), axis=alt.Axis(labelAngle=0))
    y = alt.Y("coverage_pct:Q", title="Coverage (%)", scale=alt.Scale(domain=[0, 100]))
    bars = base.mark_bar(color=TOTAL, size=50).encode(
        x=x, y=y,
        tooltip=[alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("coverage_pct:Q", title="Coverage %", format=".1f"),
                 alt.Tooltip("covered_accounts:Q", title="Accounts engaged"),
                 alt.Tooltip("book_accounts:Q", title="Book accounts")],
    )
    labels = base.mark_text(dy=-6, baseline="bottom").encode(x=x, y=y, text="label:N").transform_calculate(
        label="datum.covered_accounts + ' of ' + datum.book_accounts")
    layers: list[alt.Chart] = [bars, labels]
    if target is not None:
        layers.append(alt.Chart().mark_rule(color=TARGET, strokeDash=[6, 4]).encode(y=alt.datum(float(target))))
    title = "Coverage by segment (% of book accounts engaged)" + ("" if target is None else f", target {target:g} % (dashed)")
    return alt.layer(*layers).properties(title=title, width=max(180, 110 * len(cov)), height=HEIGHT)


def coverage_heatmap(matrix: pd.DataFrame) -> alt.LayerChart:
    """Coverage % per CSM (rows) and month (columns); darker is better, blank is no data.

    Parameters
    ----------
    matrix
        :func:`kpi_kit.strategic.coverage_matrix` — ``csm_name, month, coverage_pct`` (+ counts).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"csm_id": ["a"], "csm_name": ["Ana"], "month": ["2026-07"], "book_accounts": [5],
    ...                   "covered_accounts": [4], "coverage_pct": [80.0]})
    >>> coverage_heatmap(m).to_dict()["layer"][0]["mark"]["type"]
    'rect'
    """
    _require(matrix, ["csm_name", "month", "coverage_pct"], "coverage_heatmap")
    names = list(dict.fromkeys(matrix["csm_name"].astype(str)))
    base = alt.Chart(matrix)
    x = alt.X("month:O", title="Month", sort="ascending", axis=alt.Axis(labelAngle=0))
    y = alt.Y("csm_name:N", title="CSM", sort=names)
    tooltip = [alt.Tooltip("csm_name:N", title="CSM"), alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("coverage_pct:Q", title="Coverage %", format=".1f")]
    for col, title in (("covered_accounts", "Accounts engaged"), ("book_accounts", "Book accounts")):
        if col in matrix.columns:
            tooltip.append(alt.Tooltip(f"{col}:Q", title=title))
    cells = base.mark_rect(stroke="white").encode(
        x=x, y=y,
        color=alt.Color("coverage_pct:Q", title="Coverage %", scale=alt.Scale(domain=[0, 100], scheme="blues")),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=11).encode(
        x=x, y=y, text="cell:N",
        color=alt.condition("datum.coverage_pct > 60", alt.value("white"), alt.value("black")),
    ).transform_calculate(
        cell="isValid(datum.coverage_pct) ? format(datum.coverage_pct, '.0f') + ' %' : 'no data'")
    n_months = max(1, matrix["month"].nunique())
    return alt.layer(cells, text).properties(
        title="Coverage by CSM and month (% of book accounts engaged)",
        width=max(240, min(WIDTH + 240, 70 * n_months)), height=24 * max(1, len(names)))


def quadrant(team_table: pd.DataFrame, leading_ok: float = 95.0, lagging_ok: float = 90.0) -> alt.LayerChart:
    """Leading vs lagging attainment per CSM: who has strong activity but weak outcomes.

    x = leading attainment (mean, each KPI capped at 150 %), y = lagging attainment (the worst lagging
    KPI); the dashed lines are the scorecard's thresholds (95 % and 90 %), so the lower-right area is
    "strong activity, weak outcomes" — look at execution quality there.

    Parameters
    ----------
    team_table
        :func:`kpi_kit.strategic.team_quadrant` — ``csm_name, leading_attainment_pct,
        lagging_attainment_pct, quadrant``.
    leading_ok, lagging_ok
        Where the dashed lines are drawn (percent).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"csm_name": ["Ana"], "leading_attainment_pct": [110.0],
    ...                   "lagging_attainment_pct": [70.0], "quadrant": ["Strong activity, weak outcomes"]})
    >>> quadrant(t).to_dict()["layer"][0]["mark"]["type"]
    'point'
    """
    _require(team_table, ["csm_name", "leading_attainment_pct", "lagging_attainment_pct", "quadrant"], "quadrant")
    # the legend lists only the diagnoses some CSM has, each in its fixed colour (unknown ones: neutral)
    present = list(dict.fromkeys(str(q) for q in team_table["quadrant"].dropna()))
    domain = [q for q in QUADRANT_COLOURS if q in present] + [q for q in present if q not in QUADRANT_COLOURS]
    colours = [QUADRANT_COLOURS.get(q, NEUTRAL) for q in domain]
    base = alt.Chart(team_table)
    x = alt.X("leading_attainment_pct:Q", title="Leading attainment (activity, %)", scale=alt.Scale(zero=True))
    y = alt.Y("lagging_attainment_pct:Q", title="Lagging attainment (outcomes, worst KPI, %)", scale=alt.Scale(zero=True))
    points = base.mark_point(filled=True, size=90).encode(
        x=x, y=y,
        color=alt.Color("quadrant:N", title="Diagnosis", legend=alt.Legend(orient="bottom", columns=2),
                        scale=alt.Scale(domain=domain, range=colours)),
        tooltip=[alt.Tooltip("csm_name:N", title="CSM"),
                 alt.Tooltip("leading_attainment_pct:Q", title="Leading %", format=".0f"),
                 alt.Tooltip("lagging_attainment_pct:Q", title="Lagging %", format=".0f"),
                 alt.Tooltip("quadrant:N", title="Diagnosis")],
    )
    names = base.mark_text(align="left", dx=7, dy=-6, fontSize=11).encode(x=x, y=y, text="csm_name:N")
    vline = alt.Chart().mark_rule(color=TARGET, strokeDash=[6, 4]).encode(x=alt.datum(float(leading_ok)))
    hline = alt.Chart().mark_rule(color=TARGET, strokeDash=[6, 4]).encode(y=alt.datum(float(lagging_ok)))
    return alt.layer(points, names, vline, hline).properties(
        title="Activity vs outcomes: leading and lagging attainment per CSM", width=WIDTH, height=WIDTH * 3 // 4)


def payout_curve(points: pd.DataFrame, y: str = "variable_payout", current: float | None = None,
                 currency: str = "USD") -> alt.LayerChart:
    """The comp plan's payout curve: attainment (%) on x, payout on y; optional marker at ``current``.

    Parameters
    ----------
    points
        :func:`kpi_kit.comp.payout_curve_table` — ``attainment_pct`` and the ``y`` column.
    y
        ``variable_payout`` or ``total_earnings`` (money, dollar axis) or ``multiple_pct``
        (payout as % of the variable target).
    current
        An attainment (percent) to mark with a dashed vertical line, e.g. the CSM's own.
    currency
        ISO code of the plan's pay (``CompPlan.currency``); see :func:`money_formats`.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"attainment_pct": [0.0, 100.0], "variable_payout": [0.0, 20000.0]})
    >>> payout_curve(p).to_dict()["layer"][0]["encoding"]["y"]["axis"]["format"]
    '$,.0f'
    """
    money, _, code = money_formats(currency)
    titles = {"variable_payout": (f"Variable payout ({code}, annual)", money),
              "total_earnings": (f"Total earnings ({code}, annual)", money),
              "multiple_pct": ("Payout (% of variable target)", PCT)}
    if y not in titles:
        raise KitError(f"payout_curve: y = {y!r}; expected one of {', '.join(titles)}")
    _require(points, ["attainment_pct", y], "payout_curve")
    y_title, y_format = titles[y]
    base = alt.Chart(points)
    x = alt.X("attainment_pct:Q", title="Attainment (%)")
    line = base.mark_line(color=TOTAL, strokeWidth=2).encode(
        x=x, y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format)),
        tooltip=[alt.Tooltip("attainment_pct:Q", title="Attainment %", format=".0f"),
                 alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)],
    )
    layers: list[alt.Chart] = [line]
    if current is not None:
        layers.append(alt.Chart().mark_rule(color=DECREASE, strokeDash=[6, 4]).encode(x=alt.datum(float(current))))
    title = "Payout curve: attainment to payout" + ("" if current is None else f" (dashed: {current:g} %)")
    return alt.layer(*layers).properties(title=title, width=WIDTH, height=HEIGHT)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render ``chart`` to an SVG string with vl-convert: offline, deterministic, no external references.

    vl-convert is told to load nothing from the network (``allowed_base_urls=[]``); the charts embed
    their data, so nothing is needed. Element ids are renamed from the spec's hash (see
    :func:`kpi_kit.svg.stable_ids`), so the same chart always gives the same bytes and several charts can be
    inlined in one HTML page. The result can be written to a ``.svg`` file or inlined in HTML.

    Examples
    --------
    >>> import pandas as pd
    >>> svg = to_svg(payout_curve(pd.DataFrame({"attainment_pct": [0.0, 100.0], "variable_payout": [0.0, 1.0]})))
    >>> svg.startswith("<svg")
    True
    """
    if not isinstance(chart, alt.TopLevelMixin):
        raise KitError(f"to_svg: expected an altair chart, got {type(chart).__name__}")
    return spec_to_svg(chart.to_dict())


def enable_renderer() -> str:
    """Make altair display charts as static SVG (offline, deterministic ids); returns the renderer's name.

    Registers two renderers: ``kpi_kit_svg`` (:func:`kpi_kit.svg.svg_renderer`, the default) and
    ``kpi_kit_spec`` (:func:`kpi_kit.svg.spec_renderer`), enabled instead when the environment variable
    :data:`kpi_kit.svg.DEFER_ENV` is ``1`` — set by ``kpi-kit report`` for its kernels, whose charts the
    runner's long-lived workers render (see :mod:`kpi_kit.svg`).
    """
    alt.renderers.register("kpi_kit_svg", svg_renderer)
    alt.renderers.register("kpi_kit_spec", spec_renderer)
    name = "kpi_kit_spec" if os.environ.get(DEFER_ENV) == "1" else "kpi_kit_svg"
    alt.renderers.enable(name)
    return name
