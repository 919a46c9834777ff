"""kpi_kit.svg: static SVG charts, and charts a report kernel leaves for the runner's worker to render."""

from __future__ import annotations

import altair as alt
import nbformat
import pandas as pd
import pytest

from kpi_kit import charts, svg


def _chart() -> alt.Chart:
    return alt.Chart(pd.DataFrame({"month": ["2026-07", "2026-08"], "calls": [3, 5]})).mark_bar().encode(
        x="month:O", y="calls:Q")


def test_deferred_chart_becomes_the_same_svg_the_kernel_would_have_rendered() -> None:
    spec = _chart().to_dict()
    deferred = svg.spec_renderer(spec)
    assert list(deferred) == [svg.SPEC_MIME] and deferred[svg.SPEC_MIME] == spec
    nb = nbformat.v4.new_notebook()
    text = nbformat.v4.new_output("stream", text="hello\n")
    table = nbformat.v4.new_output("display_data", data={"text/html": "<table></table>"})
    chart = nbformat.v4.new_output("display_data", data=deferred)
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[text, table, chart])]
    nbformat.validate(nb)  # nbformat accepts the spec under an application/...+json key
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # as papermill hands it back

    assert svg.render_deferred(nb) == 1
    outputs = nb.cells[0].outputs
    assert outputs[0].text == "hello\n" and outputs[1].data == {"text/html": "<table></table>"}
    assert dict(outputs[2].data) == svg.svg_renderer(spec) == {svg.SVG_MIME: charts.to_svg(_chart())}
    assert outputs[2].data[svg.SVG_MIME].startswith("<svg")
    assert svg.render_deferred(nb) == 0  # nothing left to render


def test_enable_renderer_defers_only_when_the_runner_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    before = alt.renderers.active
    try:
        monkeypatch.delenv(svg.DEFER_ENV, raising=False)
        assert charts.enable_renderer() == "kpi_kit_svg"
        bundle = _chart()._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert list(data) == [svg.SVG_MIME]
        monkeypatch.setenv(svg.DEFER_ENV, "1")
        assert charts.enable_renderer() == "kpi_kit_spec"
        bundle = _chart()._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert data == {svg.SPEC_MIME: _chart().to_dict()}
    finally:
        alt.renderers.enable(before)


def test_a_spec_vl_convert_rejects_fails_loudly() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "display_data", data={svg.SPEC_MIME: {"mark": "no-such-mark", "data": {"values": []}}})])]
    with pytest.raises(Exception, match="conversion failed"):  # vl-convert's own message
        svg.render_deferred(nb)
