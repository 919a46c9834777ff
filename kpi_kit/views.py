"""HTML views of kit results for reports and notebooks (every piece of data text is escaped).

Each function takes results computed elsewhere in the kit and returns an HTML string; none computes
a metric. Used by ``notebooks/reports/csm_report.ipynb`` so the template stays thin.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.scorecard import STATUS_MARK, Scorecard

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

_STYLE = ("<style>.kpi-table{border-collapse:collapse;margin:0.5em 0}"
          ".kpi-table th,.kpi-table td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
          ".kpi-table td.num{text-align:right}.kpi-note{color:#555}</style>")


def table_html(frame: pd.DataFrame, columns: dict[str, str], formats: dict[str, str] | None = None,
               empty: str = "None.", limit: int = 25, currency: str = "USD") -> str:
    """A small HTML table of ``frame[columns]`` with headers ``columns.values()``.

    ``formats`` maps a column to ``money``, ``pct``, ``count``, ``date`` or ``bool``; text is escaped.
    Money is shown in ``currency`` (pass ``book.reporting_currency``). At most ``limit`` rows are
    shown, with a note of how many more there are.
    """
    if frame is None or frame.empty:
        return f"<p class='kpi-note'>{fmt.text(empty)}</p>"
    formats = formats or {}
    shown = frame.head(limit)
    head = "".join(f"<th>{fmt.text(label)}</th>" for label in columns.values())
    body = []
    for _, row in shown.iterrows():
        cells = []
        for col in columns:
            kind = formats.get(col, "text")
            cells.append(f"<td class='{'num' if kind in ('money', 'pct', 'count') else ''}'>{_cell(row.get(col), kind, currency)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = f"<p class='kpi-note'>… and {len(frame) - limit} more.</p>" if len(frame) > limit else ""
    return f"{_STYLE}<table class='kpi-table'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def styled(frame: pd.DataFrame, formats: dict[str, Any] | None = None, *, money: Sequence[str] = (),
           currency: str = "USD", money_digits: int = 0, na_rep: str = fmt.NO_DATA,
           caption: str | None = None) -> Styler:
    """``frame.style`` for a notebook, the kit's way.

    Every text cell is HTML-escaped (an account named ``<img src=x onerror=…>`` shows as text, as in
    ``DataFrame.to_html``; a plain ``.style.format(...)`` would render it as markup). ``money`` columns are
    written by :func:`kpi_kit.fmt.money` in ``currency`` (pass ``book.reporting_currency``); the other
    columns by ``formats`` (format strings or callables, as for ``Styler.format``); missing values are
    ``na_rep`` ("no data"). ``caption`` is escaped too.

    >>> frame = pd.DataFrame({"account_name": ["<b>Acme</b>"], "arr": [1250.0], "grr_pct": [None]})
    >>> html = styled(frame, {"grr_pct": "{:.1f}"}, money=["arr"], currency="EUR", caption="A & B").to_html()
    >>> "&lt;b&gt;Acme&lt;/b&gt;" in html, "<b>" in html, "€1,250" in html, "no data" in html, "A &amp; B" in html
    (True, False, True, True, True)
    """
    formatter: dict[str, Any] = {**(formats or {})}
    formatter.update({c: partial(fmt.money, currency=currency, digits=money_digits) for c in money})
    styler = frame.style.format(formatter, na_rep=na_rep, escape="html")
    return styler if caption is None else styler.set_caption(fmt.text(caption))


def _cell(value: Any, kind: str, currency: str = "USD") -> str:
    if fmt.is_missing(value) or (kind == "date" and pd.isna(value)):
        return "–"
    if kind == "money":
        return fmt.text(fmt.money(value, currency))
    if kind == "pct":
        return fmt.text(fmt.pct(value))
    if kind == "count":
        return fmt.text(fmt.count(value))
    if kind == "date":
        return fmt.text(pd.Timestamp(value).date())
    if kind == "bool":
        return "yes" if bool(value) else "no"
    return fmt.text(value)


def scorecard_html(card: Scorecard) -> str:
    """The balanced scorecard with target, actual, attainment, status and the gap in words."""
    rows = []
    for r in card.table.itertuples(index=False):
        rows.append(
            f"<tr><td>{fmt.text(r.label)}</td><td>{r.kind}</td><td class='num'>{fmt.text(r.target_text)}</td>"
            f"<td class='num'>{fmt.text(r.actual_text)}</td><td class='num'>{fmt.text(fmt.pct(r.attainment_pct, 0))}</td>"
            f"<td>{STATUS_MARK[r.status]} {r.status}</td></tr>")
    return (f"{_STYLE}<table class='kpi-table'><thead><tr><th>KPI</th><th>kind</th><th>target</th><th>actual</th>"
            f"<th>attainment</th><th>status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def gaps_html(card: Scorecard) -> str:
    """The KPIs behind or at risk, each gap said in words from the numbers (worst first)."""
    behind = card.behind
    if behind.empty:
        return "<p>Every KPI with data is on track.</p>"
    items = "".join(f"<li>{STATUS_MARK[r.status]} {fmt.text(r.gap)}</li>" for r in behind.itertuples(index=False))
    return f"<ul>{items}</ul>"


def no_data_html(card: Scorecard) -> str:
    """A sentence naming the KPIs this book has no data for (never shown as 0)."""
    missing = card.table.loc[card.table["status"] == "no data", "label"].tolist()
    if not missing:
        return ""
    return (f"<p class='kpi-note'>No data for: {fmt.text(', '.join(missing))} — nothing to measure for this CSM in "
            "the period (e.g. no SQL or risk alert closed), or the book does not record it. These are shown as "
            "“no data”, not as zero.</p>")


def bullet_list(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{fmt.text(line)}</li>" for line in lines) + "</ul>"
