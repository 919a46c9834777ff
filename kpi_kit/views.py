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
from kpi_kit.scorecard import STATUS_MARK, Scorecard, attainment_text

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from kpi_kit.comp import PayStatement
    from kpi_kit.data import Book

_STYLE = ("<style>.kpi-table{border-collapse:collapse;margin:0.5em 0}"
          ".kpi-table th,.kpi-table td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}"
          ".kpi-table td.num{text-align:right}.kpi-note{color:#555}</style>")


def table_html(frame: pd.DataFrame, columns: dict[str, str], formats: dict[str, str] | None = None,
               empty: str = "None.", limit: int = 25, currency: str = "USD") -> str:
    """A small HTML table of ``frame[columns]`` with headers ``columns.values()``.

    ``formats`` maps a column to ``money``, ``pct``, ``count``, ``date``, ``bool`` or ``figure`` (text
    already formatted as a number, e.g. ``"200.0 % (capped)"``, right-aligned); text is escaped.
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
            cells.append(f"<td class='{'num' if kind in _NUMERIC else ''}'>{_cell(row.get(col), kind, currency)}</td>")
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


_NUMERIC = ("money", "pct", "count", "figure")


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
            f"<td class='num'>{fmt.text(r.actual_text)}</td><td class='num'>{fmt.text(attainment_text(r.attainment_pct))}</td>"
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


#: The book file each scorecard KPI is measured from, for the KPIs that need more than accounts and ARR
#: (:data:`kpi_kit.metrics._NEEDS` per part; a test checks that a book without the file has no data for them).
KPI_SOURCE: dict[str, str] = {
    "calls": "activities", "touchpoints": "activities", "qbrs": "activities", "coverage_pct": "activities",
    "renewals_90d_contacted_pct": "activities", "lifecycle_compliance_pct": "activities",
    "sqls": "sqls", "sql_pipeline": "sqls", "sql_conversion_pct": "sqls", "closed_alert_pct": "risk_alerts",
}
#: How a report names each optional book file.
SOURCE_WORDS: dict[str, str] = {
    "activities": "CSM activities (activities.csv)", "sqls": "SQLs (sqls.csv)",
    "risk_alerts": "risk alerts (risk_alerts.csv)", "escalations": "escalations (escalations.csv)",
    "usage": "product usage (usage.csv)",
}


def unrecorded_sources(card: Scorecard, book: Book | None, kpis: Sequence[str] | None = None) -> list[str]:
    """The files the book does not record (``book.yaml`` ``not_recorded``) behind ``kpis`` (default: every KPI
    of the card), in the order of :data:`SOURCE_WORDS`. Empty without a book or when everything is recorded."""
    if book is None:
        return []
    wanted = card.table["kpi"].tolist() if kpis is None else list(kpis)
    needed = {KPI_SOURCE[k] for k in wanted if k in KPI_SOURCE}
    return [src for src in SOURCE_WORDS if src in needed and not book.recorded(src)]


def no_data_html(card: Scorecard, book: Book | None = None) -> str:
    """A sentence naming the KPIs this book has no data for (never shown as 0), and why.

    With ``book``, KPIs measured from a file the book declares it does not record (``book.yaml``
    ``not_recorded``, e.g. the RavenStack import has no CSM activities) are explained by naming those
    files; the others (or all, without ``book``) by "nothing to measure in the period".
    """
    table = card.table
    missing = table.loc[table["status"] == "no data"]
    if missing.empty:
        return ""
    gone = set(unrecorded_sources(card, book, missing["kpi"].tolist()))
    unrecorded = missing["kpi"].map(lambda k: KPI_SOURCE.get(k) in gone)
    parts = []
    if unrecorded.any():
        files = fmt.join_and([SOURCE_WORDS[s] for s in SOURCE_WORDS if s in gone], "or")
        parts.append(f"No data for: {', '.join(missing.loc[unrecorded, 'label'])} — this book does not record "
                     f"{files}, so these KPIs cannot be measured.")
    if (~unrecorded).any():
        rest = ", ".join(missing.loc[~unrecorded, "label"])
        if unrecorded.any():
            parts.append(f"Also no data for: {rest} — nothing to measure for this CSM in the period.")
        else:
            parts.append(f"No data for: {rest} — nothing to measure for this CSM in the period (e.g. no SQL or risk "
                         "alert closed), or the book does not record it.")
    parts.append("These are shown as “no data”, not as zero.")
    return f"<p class='kpi-note'>{fmt.text(' '.join(parts))}</p>"


def on_track_lines(card: Scorecard, book: Book | None = None) -> list[str]:
    """Two lines (plain text): how many leading and how many lagging KPIs with data are on track.

    A kind with no KPI that has data says so instead of "0 of 0": with ``book``, naming the files the book
    does not record ("Leading KPIs: no leading KPI has data in this book — it does not record CSM activities
    (activities.csv) or SQLs (sqls.csv)").
    """
    lines = []
    for kind in ("leading", "lagging"):
        rows = card.table.loc[card.table["kind"] == kind]
        with_data = rows.loc[rows["status"] != "no data"]
        if len(with_data):
            lines.append(f"{kind.capitalize()} KPIs on track: {int((with_data['status'] == 'on track').sum())} of "
                         f"{len(with_data)} with data")
            continue
        gone = unrecorded_sources(card, book, rows["kpi"].tolist())
        if gone:
            lines.append(f"{kind.capitalize()} KPIs: no {kind} KPI has data in this book — it does not record "
                         f"{fmt.join_and([SOURCE_WORDS[s] for s in gone], 'or')}")
        else:
            lines.append(f"{kind.capitalize()} KPIs: no {kind} KPI has data for this CSM in the period")
    return lines


def pay_html(statement: PayStatement) -> str:
    """A pay statement for a report: the money in a sentence, the currency of pay when it is not the KPIs',
    how the overall attainment and the payout follow from the metrics (:meth:`PayStatement.explain`) and the
    per-metric table (:meth:`PayStatement.breakdown`: KPI labels, capped attainment, weight, points, payout)."""
    s = statement
    title = f"Pay statement{' — ' + s.label if s.label else ''}"
    note = s.currency_note()
    head = (f"<p><strong>{fmt.text(title)}</strong> ({fmt.text(s.plan.name)}, {s.months} months)"
            + (f" <span class='kpi-note'>{fmt.text(note)}</span>" if note else "")
            + f"<br>{fmt.text(s.summary())}</p>")
    explain = "".join(f"<p>{fmt.text(line)}</p>" for line in s.explain())
    per_metric = s.plan.curve_applies_to == "metric"
    cap = f"{(s.plan.metric_attainment_cap * 100).normalize():f} %"  # exact, as the plan says it: "200 %"
    frame = s.breakdown()
    if all(ln.target is None for ln in s.lines):  # pay_at: one overall attainment, no metrics to break down
        columns = {"label": "", "attainment": "attainment", "multiple": "curve multiple", "payout": "variable payout"}
        frame = frame.tail(1)
    else:
        columns = {"label": "KPI", "target": "target", "actual": "actual", "attainment": f"attainment (capped at {cap})",
                   "weight": "weight", "points": "points (weight × attainment)", "multiple": "curve multiple",
                   "payout": "payout" if per_metric else "payout (split by weight)"}
    formats = dict.fromkeys(("target", "actual", "attainment", "weight", "points", "multiple", "payout"), "figure")
    table = table_html(frame, columns, formats)  # money already in the plan's currency (PayStatement.breakdown)
    return head + explain + table


def bullet_list(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{fmt.text(line)}</li>" for line in lines) + "</ul>"
