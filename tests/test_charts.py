"""Chart builders (kpi_kit.charts): specs asserted through ``chart.to_dict()``, SVG rendering offline.

Each chart must embed exactly the aggregated frame it is given (never raw rows), use plain-word
titles, format money axes as dollars, use ordinal "YYYY-MM" months (no temporal fields) and be
deterministic. Expected values are the literal frames written in each test.
"""

from __future__ import annotations

import json
import re
from typing import Any

import altair as alt
import pandas as pd
import pytest

from kpi_kit import charts, strategic
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.periods import Period
from tests.conftest import arr_rows

MONTHLY = pd.DataFrame({
    "month": ["2026-07", "2026-08", "2026-09"],
    "calls": pd.array([18, 22, 0], dtype="Int64"),
    "touchpoints": pd.array([25, 31, 4], dtype="Int64"),
    "qbrs": pd.array([1, 0, 0], dtype="Int64"),
    "calls_target": [20.0, 20.0, 20.0],
    "touchpoints_target": [30.0, 30.0, 30.0],
})
BRIDGE = pd.DataFrame({
    "step": [1, 2, 3, 4, 5, 6, 7],
    "label": ["Beginning ARR", "Expansion", "Contraction", "Churn", "Ending ARR (cohort)", "New logos", "Ending ARR (book)"],
    "kind": ["total", "increase", "decrease", "decrease", "total", "increase", "total"],
    # 2,000,000 + 300,000 - 50,000 - 100,000 = 2,150,000; + 400,000 new = 2,550,000
    "amount": [2_000_000.0, 300_000.0, -50_000.0, -100_000.0, 2_150_000.0, 400_000.0, 2_550_000.0],
    "bar_start": [0.0, 2_000_000.0, 2_300_000.0, 2_250_000.0, 0.0, 2_150_000.0, 0.0],
    "bar_end": [2_000_000.0, 2_300_000.0, 2_250_000.0, 2_150_000.0, 2_150_000.0, 2_550_000.0, 2_550_000.0],
    "accounts": [10, 3, 1, 1, 9, 2, 11],
})
COVERAGE = pd.DataFrame({
    "segment": ["enterprise", "mid-market", "smb"],
    "book_accounts": pd.array([4, 6, 10], dtype="Int64"),
    "covered_accounts": pd.array([4, 5, 6], dtype="Int64"),
    "coverage_pct": [100.0, 500 / 6, 60.0],
})
MATRIX = pd.DataFrame({
    "csm_id": ["a", "a", "b", "b"],
    "csm_name": ["Ana", "Ana", "Ben", "Ben"],
    "team": ["T"] * 4,
    "month": ["2026-07", "2026-08", "2026-07", "2026-08"],
    "book_accounts": pd.array([10, 10, 0, 5], dtype="Int64"),
    "covered_accounts": pd.array([9, 7, 0, 5], dtype="Int64"),
    "coverage_pct": [90.0, 70.0, float("nan"), 100.0],   # Ben has no book in July: no data, not 0
})
TEAM = pd.DataFrame({
    "csm_id": ["a", "b", "c"],
    "csm_name": ["Ana", "Ben", "Cy"],
    "team": ["T"] * 3,
    "leading_attainment_pct": [110.0, 60.0, 98.0],
    "lagging_attainment_pct": [70.0, 95.0, 100.0],
    "quadrant": ["Strong activity, weak outcomes", "Outcomes holding, activity behind", "Activity and outcomes on track"],
})
PAYOUT = pd.DataFrame({
    "attainment_pct": [0.0, 80.0, 100.0, 120.0],
    "multiple_pct": [0.0, 50.0, 100.0, 150.0],
    "variable_payout": [0.0, 10_000.0, 20_000.0, 30_000.0],
    "total_earnings": [80_000.0, 90_000.0, 100_000.0, 110_000.0],
})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as JSON records (missing -> None), the form a chart's inline dataset takes."""
    out = frame.astype(object).where(frame.notna(), None)
    return json.loads(json.dumps(out.to_dict("records")))


def _datasets_used(spec: dict[str, Any]) -> list[str]:
    names: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "name" in data:
                names.append(data["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k != "datasets"})
    return names


def _frame_rows(spec: dict[str, Any], frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The inline rows the chart uses for ``frame``: every dataset it references, except altair's ``[{}]``."""
    used = {name for name in _datasets_used(spec)}
    rows = [spec["datasets"][n] for n in sorted(used) if spec["datasets"][n] != [{}]]
    assert len(rows) == 1, "one aggregated dataset per chart"
    assert "values" not in json.dumps({k: v for k, v in spec.items() if k != "datasets"}), "no other inline data"
    return rows[0]


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["layer"] if "layer" in spec else [spec]


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    return title if isinstance(title, str) else title["text"]


def _assert_common(chart: alt.TopLevelMixin, frame: pd.DataFrame) -> dict[str, Any]:
    spec = chart.to_dict()
    assert _frame_rows(spec, frame) == _records(frame)               # exactly the aggregated frame
    text = json.dumps(spec)
    assert '"temporal"' not in text                                   # months are ordinal strings
    assert "param_" not in text and "view_" not in text               # no generated names
    assert json.dumps(chart.to_dict()) == text                        # deterministic
    assert re.fullmatch(r"[A-Z][A-Za-z ,:()%'.0-9-]+", _title(spec)), _title(spec)
    return spec


# --------------------------------------------------------------------------------------------
# one test per builder
# --------------------------------------------------------------------------------------------

def test_touches_vs_target():
    chart = charts.touches_vs_target(MONTHLY)
    assert isinstance(chart, alt.LayerChart)
    spec = _assert_common(chart, MONTHLY)
    bars, ticks = _layers(spec)
    assert bars["mark"]["type"] == "bar" and ticks["mark"]["type"] == "tick"
    assert bars["encoding"]["x"]["field"] == "month" and bars["encoding"]["x"]["type"] == "ordinal"
    assert bars["encoding"]["xOffset"]["field"] == "activity"
    assert bars["encoding"]["y"]["field"] == "actual" and ticks["encoding"]["y"]["field"] == "target"
    # the long form (calls / touchpoints) is made by Vega-Lite, so the data stays 3 rows
    assert bars["transform"][0] == {"fold": ["calls", "touchpoints"], "as": ["measure", "actual"]}
    assert bars["encoding"]["y"]["title"] == "Activities in the month"


def test_arr_bridge_chart_is_a_dollar_waterfall():
    spec = _assert_common(charts.arr_bridge_chart(BRIDGE), BRIDGE)
    bars, labels = _layers(spec)
    assert bars["mark"]["type"] == "bar" and labels["mark"]["type"] == "text"
    enc = bars["encoding"]
    assert (enc["y"]["field"], enc["y2"]["field"]) == ("bar_start", "bar_end")
    assert enc["y"]["axis"]["format"] == "$,.0f" and enc["y"]["title"] == "ARR (USD)"
    assert enc["x"]["sort"] == BRIDGE["label"].tolist()              # steps in order, not alphabetical
    assert enc["color"]["scale"]["domain"] == ["total", "increase", "decrease"]
    assert labels["encoding"]["text"]["format"].startswith("$")


def test_coverage_by_segment_chart_and_target_line():
    spec = _assert_common(charts.coverage_by_segment_chart(COVERAGE), COVERAGE)
    bars = _layers(spec)[0]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["y"]["field"] == "coverage_pct" and bars["encoding"]["y"]["scale"]["domain"] == [0, 100]
    assert len(_layers(spec)) == 2                                    # bars + "covered of book" labels
    with_target = charts.coverage_by_segment_chart(COVERAGE, target=90).to_dict()
    rule = _layers(with_target)[2]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["y"]["datum"] == 90.0
    assert "target 90 %" in _title(with_target)


def test_coverage_heatmap():
    spec = _assert_common(charts.coverage_heatmap(MATRIX), MATRIX)
    cells, text = _layers(spec)
    assert cells["mark"]["type"] == "rect" and text["mark"]["type"] == "text"
    assert cells["encoding"]["x"]["field"] == "month" and cells["encoding"]["x"]["type"] == "ordinal"
    assert cells["encoding"]["y"]["field"] == "csm_name" and cells["encoding"]["y"]["sort"] == ["Ana", "Ben"]
    assert cells["encoding"]["color"]["field"] == "coverage_pct"
    assert cells["encoding"]["color"]["scale"]["domain"] == [0, 100]
    assert "no data" in json.dumps(text["transform"])                # a missing cell says so, never 0


def test_quadrant():
    spec = _assert_common(charts.quadrant(TEAM), TEAM)
    points, names, vline, hline = _layers(spec)
    assert points["mark"]["type"] == "point" and names["mark"]["type"] == "text"
    assert points["encoding"]["x"]["field"] == "leading_attainment_pct"
    assert points["encoding"]["y"]["field"] == "lagging_attainment_pct"
    # the thresholds are the scorecard diagnosis's: 95 % leading, 90 % lagging
    assert vline["encoding"]["x"]["datum"] == strategic.LEADING_OK == 95.0
    assert hline["encoding"]["y"]["datum"] == strategic.LAGGING_OK == 90.0
    # the legend lists the three diagnoses TEAM has (not "No activity data"), in QUADRANT_COLOURS order,
    # each in its fixed colour: on track green, strong/weak red, outcomes holding orange
    scale = points["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Activity and outcomes on track", "Strong activity, weak outcomes",
                               "Outcomes holding, activity behind"]
    assert scale["range"] == ["#59a14f", "#e15759", "#f28e2b"]


def test_payout_curve():
    spec = _assert_common(charts.payout_curve(PAYOUT), PAYOUT)
    line = _layers(spec)[0]
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["field"] == "attainment_pct"
    assert line["encoding"]["y"]["field"] == "variable_payout" and line["encoding"]["y"]["axis"]["format"] == "$,.0f"
    pct = charts.payout_curve(PAYOUT, y="multiple_pct", current=93).to_dict()
    assert _layers(pct)[0]["encoding"]["y"]["axis"]["format"] == ".0f"
    assert _layers(pct)[1]["encoding"]["x"]["datum"] == 93.0
    with pytest.raises(KitError, match="expected one of"):
        charts.payout_curve(PAYOUT, y="bonus")


def test_payout_curve_from_the_comp_module():
    from kpi_kit.comp import payout_curve_table

    points = payout_curve_table()                                     # 0..200 %: 201 rows
    spec = charts.payout_curve(points).to_dict()
    assert len(_frame_rows(spec, points)) == 201 < 5000


@pytest.mark.parametrize("builder, frame", [
    (charts.touches_vs_target, MONTHLY.drop(columns=["calls_target"])),
    (charts.arr_bridge_chart, BRIDGE.drop(columns=["bar_end"])),
    (charts.coverage_by_segment_chart, COVERAGE.drop(columns=["coverage_pct"])),
    (charts.coverage_heatmap, MATRIX.drop(columns=["month"])),
    (charts.quadrant, TEAM.drop(columns=["quadrant"])),
])
def test_wrong_frame_is_a_clear_error(builder, frame):
    with pytest.raises(KitError, match="lacks column"):
        builder(frame)


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------

ALL = [
    lambda: charts.touches_vs_target(MONTHLY), lambda: charts.arr_bridge_chart(BRIDGE),
    lambda: charts.coverage_by_segment_chart(COVERAGE, target=90), lambda: charts.coverage_heatmap(MATRIX),
    lambda: charts.quadrant(TEAM), lambda: charts.payout_curve(PAYOUT, current=100),
]


@pytest.mark.parametrize("build", ALL, ids=["touches", "bridge", "coverage", "heatmap", "quadrant", "payout"])
def test_to_svg_is_offline_and_deterministic(build):
    svg = charts.to_svg(build())
    assert svg.startswith("<svg")
    # the only URLs allowed are the XML namespace names (identifiers, never fetched)
    without_ns = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", svg)
    assert "http" not in without_ns and "href=" not in without_ns.replace('xlink:href="#', "")
    assert charts.to_svg(build()) == svg
    # the title is drawn as text in the SVG
    assert _title(build().to_dict()).split(" ")[0] in svg


def test_svg_ids_are_stable_and_unique_per_chart():
    # vl-convert numbers gradients and clip paths with a counter that keeps growing in the process
    heat = charts.to_svg(charts.coverage_heatmap(MATRIX))
    other = charts.to_svg(charts.coverage_heatmap(MATRIX.assign(coverage_pct=[10.0, 20.0, 30.0, 40.0])))
    ids = re.findall(r'\bid="([^"]+)"', heat)
    assert ids and all(f"url(#{i})" in heat or f'href="#{i}"' in heat for i in ids)   # references follow
    assert not set(ids) & set(re.findall(r'\bid="([^"]+)"', other))                   # two charts, one page
    assert "gradient_" not in heat


def test_to_svg_rejects_non_charts():
    with pytest.raises(KitError, match="altair chart"):
        charts.to_svg({"mark": "bar"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# end to end: aggregate first, never embed raw rows
# --------------------------------------------------------------------------------------------

def test_charts_from_a_book_with_more_activities_than_altair_allows(book_dir):
    # 6,000 activities (altair refuses more than 5,000 inline rows): 2,000 a month in Q3 2026,
    # every other one a call -> 1,000 calls and 2,000 touchpoints a month
    activities = [
        {"activity_id": f"X{i}", "date": f"2026-{7 + i // 2000:02d}-{1 + i % 28:02d}", "account_id": "A1",
         "csm_id": "a", "type": "call" if i % 2 == 0 else "email", "purpose": ""}
        for i in range(6000)
    ]
    book = load_book(book_dir(
        csms=[{"csm_id": "a", "csm_name": "Ana", "team": "T"}, {"csm_id": "b", "csm_name": "Ben", "team": "T"}],
        accounts=[{"account_id": "A1", "account_name": "A1 Co", "csm_id": "a", "segment": "smb",
                   "customer_since": "2020-01-01", "renewal_date": ""},
                  {"account_id": "B1", "account_name": "B1 Co", "csm_id": "b", "segment": "enterprise",
                   "customer_since": "2020-01-01", "renewal_date": ""}],
        arr_monthly=[*arr_rows("A1", {"2026-06": 1000, "2026-09": 1200}), *arr_rows("B1", {"2026-06": 500, "2026-09": 500})],
        activities=activities,
    ))
    period = Period.parse("2026-07", "2026-09")
    monthly = strategic.monthly_touches(book, "a", period)
    assert monthly["calls"].tolist() == [1000] * 3 and monthly["touchpoints"].tolist() == [2000] * 3
    built = {
        "touches": (charts.touches_vs_target(monthly), monthly),
        "bridge": (charts.arr_bridge_chart(b := strategic.arr_bridge(book, "a", period)), b),
        "coverage": (charts.coverage_by_segment_chart(c := strategic.coverage_by_segment(book, "a", period)), c),
        "heatmap": (charts.coverage_heatmap(m := strategic.coverage_matrix(book, period)), m),
    }
    for name, (chart, frame) in built.items():
        spec = chart.to_dict()                        # would raise MaxRowsError with raw activity rows
        rows = _frame_rows(spec, frame)
        assert len(rows) == len(frame) <= 7, name     # 3 months, 7 bridge steps, 1 segment, 2 CSMs x 3 months
        assert "X1" not in json.dumps(spec), name     # no activity ids anywhere


def test_money_axes_show_the_books_currency_never_a_dollar_for_euros():
    bridge = pd.DataFrame({"step": [1, 2], "label": ["Beginning ARR", "Expansion"], "kind": ["total", "increase"],
                           "amount": [100.0, 20.0], "bar_start": [0.0, 100.0], "bar_end": [100.0, 120.0]})
    eur = json.dumps(charts.arr_bridge_chart(bridge, currency="EUR").to_dict())
    assert '"ARR (EUR)"' in eur and "$" not in eur.replace("$schema", "")
    usd = charts.arr_bridge_chart(bridge).to_dict()["layer"][0]["encoding"]["y"]
    assert usd["title"] == "ARR (USD)" and usd["axis"]["format"] == "$,.0f"
    points = pd.DataFrame({"attainment_pct": [0.0, 100.0], "variable_payout": [0.0, 20000.0]})
    gbp = charts.payout_curve(points, currency="GBP").to_dict()["layer"][0]["encoding"]["y"]
    assert gbp["title"] == "Variable payout (GBP, annual)" and gbp["axis"]["format"] == ",.0f"
