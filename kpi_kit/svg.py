"""Vega-Lite specs to static SVG with vl-convert — offline and deterministic.

This module imports neither altair nor pandas, so the report runner's worker processes can render
charts without paying for those imports. :func:`kpi_kit.charts.to_svg` and the kit's notebook
renderers (:func:`svg_renderer`, :func:`spec_renderer`) build on :func:`spec_to_svg`.

Deferred charts (``kpi-kit report``)
    Starting vl-convert's JavaScript engine costs ~0.8 s of CPU in every new process. A report kernel
    is a new process per report, a runner worker lives for the whole run. So the runner sets
    :data:`DEFER_ENV` for its kernels: :func:`kpi_kit.setup_notebook` then enables
    :func:`spec_renderer`, which emits each chart's Vega-Lite spec under :data:`SPEC_MIME`, and the
    worker replaces every such output by the SVG (:func:`render_deferred`) before it saves the
    notebook and exports the HTML. The saved notebook and HTML are the same as when the kernel renders
    the SVG itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from typing import Any

#: MIME type of a chart's Vega-Lite spec waiting to be rendered by the report runner. nbformat accepts
#: any JSON under an ``application/…+json`` key.
SPEC_MIME = "application/vnd.kpi-kit.vegalite+json"
#: Environment variable the report runner sets for its kernels (value ``"1"``): charts are emitted as specs.
DEFER_ENV = "KPI_KIT_DEFER_CHARTS"
SVG_MIME = "image/svg+xml"

_SCHEMA_VERSION = re.compile(r"/v(\d+)\.(\d+)(?:\.\d+)?\.json$")
_SVG_ID = re.compile(r'\bid="([^"]+)"')


@cache
def _bundled_versions() -> frozenset[str]:
    import vl_convert as vlc

    return frozenset(vlc.get_vegalite_versions())


def vl_version(spec: dict[str, Any]) -> str | None:
    """The Vega-Lite version a spec was written for (from its ``$schema``) when vl-convert bundles it.

    ``None`` lets vl-convert use its default version.

    >>> vl_version({"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json"}) in ("6.4", None)
    True
    >>> vl_version({}) is None
    True
    """
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    if not match:
        return None
    wanted = f"{match.group(1)}.{match.group(2)}"
    return wanted if wanted in _bundled_versions() else None


def stable_ids(svg: str, spec_json: str) -> str:
    """Rename the SVG's element ids (``gradient_7``, ``clip12``) to ``c<hash>-<n>``.

    vl-convert numbers gradients and clip paths with a process-wide counter, so the same chart
    rendered twice differs, and two charts inlined in one HTML page can share an id (the second
    chart would then borrow the first one's gradient). A prefix from the spec's hash makes the
    ids deterministic and unique per chart.

    >>> stable_ids('<svg><clipPath id="clip7"/><g clip-path="url(#clip7)"/></svg>', "{}")
    '<svg><clipPath id="c44136fa355-0"/><g clip-path="url(#c44136fa355-0)"/></svg>'
    """
    ids = list(dict.fromkeys(_SVG_ID.findall(svg)))
    if not ids:
        return svg
    prefix = "c" + hashlib.sha256(spec_json.encode("utf-8")).hexdigest()[:10]
    mapping = {old: f"{prefix}-{n}" for n, old in enumerate(ids)}
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=[")])')
    return pattern.sub(lambda m: m.group(1) + mapping[m.group(2)], svg)


def spec_to_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec (a dict) to an SVG string: no network, same bytes every time.

    vl-convert may load nothing (``allowed_base_urls=[]``): the kit's charts embed their data.
    Element ids are made deterministic and unique per chart (:func:`stable_ids`).
    """
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=vl_version(spec), allowed_base_urls=[])
    return stable_ids(svg, json.dumps(spec, sort_keys=True))


def svg_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    """altair renderer: the chart as static SVG (:func:`spec_to_svg`)."""
    return {SVG_MIME: spec_to_svg(spec)}


def spec_renderer(spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """altair renderer for report kernels: the spec under :data:`SPEC_MIME`, rendered later by the runner."""
    return {SPEC_MIME: spec}


def chart_description(spec: dict[str, Any]) -> str:
    """A short text for a chart: the spec's ``description``, else its title (and subtitle), else "Chart".

    Used as the alt text of the chart's image in the HTML reports (:func:`render_deferred`).

    >>> chart_description({"title": "ARR bridge: beginning to ending ARR"})
    'ARR bridge: beginning to ending ARR'
    >>> chart_description({"title": {"text": ["Coverage", "by segment"], "subtitle": "target dashed"}})
    'Coverage by segment — target dashed'
    >>> chart_description({"mark": "bar"})
    'Chart'
    """
    def words(value: Any) -> str:
        if isinstance(value, (list, tuple)):
            return " ".join(str(v) for v in value if v)
        return "" if value is None else str(value)

    if words(spec.get("description")).strip():
        return words(spec["description"]).strip()
    title = spec.get("title")
    if isinstance(title, dict):
        text, sub = words(title.get("text")).strip(), words(title.get("subtitle")).strip()
        title = f"{text} — {sub}" if text and sub else text or sub
    return words(title).strip() or "Chart"


def render_deferred(nb: Any) -> int:
    """Replace every :data:`SPEC_MIME` output in an executed notebook by its SVG, in place.

    The output's data then holds exactly what :func:`svg_renderer` would have produced in the kernel;
    its metadata gets ``{"image/svg+xml": {"alt": chart_description(spec)}}``, which the report's
    nbconvert template (``kpi_report``) writes as the image's alt text.
    Returns the number of charts rendered. A spec that vl-convert rejects raises its error (the
    report fails rather than silently losing a chart).
    """
    rendered = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and SPEC_MIME in data:
                spec = dict(data[SPEC_MIME])
                data.clear()
                data[SVG_MIME] = spec_to_svg(spec)
                metadata = output.setdefault("metadata", {})
                metadata.pop(SPEC_MIME, None)
                metadata[SVG_MIME] = {"alt": chart_description(spec)}
                rendered += 1
    return rendered
