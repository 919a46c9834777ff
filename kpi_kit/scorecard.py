"""The balanced scorecard: every leading and lagging KPI with target, actual, attainment and status.

Attainment
    Higher-is-better KPIs: ``100 × actual / target``. Lower-is-better KPIs (monthly logo churn):
    ``100 × target / actual`` — at target it is 100 %, half the allowed churn is 200 %; zero churn
    counts as 200 % (the display cap). A KPI with no data or a zero target has no attainment.
Status
    ``on track`` at 100 % or more, ``at risk`` from 90 % to 100 %, ``behind`` below 90 %, ``no data``.
Gaps
    Said in words from the numbers ("coverage 85.0 % vs 90.0 % target — 5 more accounts to engage").
Diagnosis (the seed's gap analysis)
    leading attainment (mean over leading KPIs with data) against lagging status: strong activity but
    weak outcomes → look at execution quality; weak activity → plan more touches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.metrics import account_arr, attributed, csm_metrics
from kpi_kit.periods import Period
from kpi_kit.targets import csm_targets

#: kpi, label, kind, unit, higher_is_better
KPIS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("calls", "Calls (call, meeting, QBR)", "leading", "count", True),
    ("touchpoints", "Touchpoints (all activities)", "leading", "count", True),
    ("qbrs", "QBRs", "leading", "count", True),
    ("coverage_pct", "Coverage (% of book engaged)", "leading", "pct", True),
    ("renewals_90d_contacted_pct", "Renewals in 90 days contacted", "leading", "pct", True),
    ("sqls", "SQLs raised", "leading", "count", True),
    ("sql_pipeline", "SQL pipeline", "leading", "money", True),
    ("sql_conversion_pct", "SQL conversion", "leading", "pct", True),
    ("lifecycle_compliance_pct", "Lifecycle touchpoint compliance", "leading", "pct", True),
    ("grr_pct", "GRR (ARR retention)", "lagging", "pct", True),
    ("nrr_pct", "NRR", "lagging", "pct", True),
    ("logo_churn_monthly_pct", "Logo churn (monthly equivalent)", "lagging", "pct", False),
    ("closed_alert_pct", "Closed risk alerts saved", "lagging", "pct", True),
)

#: Each KPI's label as the scorecard shows it (``"grr_pct"`` -> ``"GRR (ARR retention)"``).
KPI_LABELS: dict[str, str] = {kpi: label for kpi, label, *_ in KPIS}

ATTAINMENT_CAP = 200.0
STATUS_MARK = {"on track": "✅", "at risk": "⚠️", "behind": "❌", "no data": "–"}


def attainment(actual: Any, target: Any, higher_is_better: bool = True) -> float | None:
    """Attainment % of ``actual`` against ``target`` (see module docstring); None without data.

    >>> attainment(85, 90), attainment(2.5, 5, higher_is_better=False), attainment(0, 5, False), attainment(None, 5)
    (94.44444444444444, 200.0, 200.0, None)
    """
    if fmt.is_missing(actual) or fmt.is_missing(target) or target == 0:
        return None
    if higher_is_better:
        return min(100.0 * actual / target, ATTAINMENT_CAP)
    if actual == 0:
        return ATTAINMENT_CAP
    return min(100.0 * target / actual, ATTAINMENT_CAP)


def status(att: float | None) -> str:
    """``on track`` (≥ 100), ``at risk`` (≥ 90), ``behind`` (< 90), ``no data``."""
    if att is None:
        return "no data"
    if att >= 100 - 1e-9:
        return "on track"
    if att >= 90:
        return "at risk"
    return "behind"


def attainment_text(att: float | None) -> str:
    """Attainment as shown beside its status: one decimal, rounded **down**, so the text never crosses a
    status boundary the value has not reached (89.96 % is ``behind`` and reads "89.9 %", not "90 %" next
    to ❌; ``at risk`` starts at 90). A float hair below a whole tenth (99.9999999) counts as that tenth,
    as :func:`status` does at 100.

    >>> attainment_text(89.96), status(89.96), attainment_text(90), status(90)
    ('89.9 %', 'behind', '90.0 %', 'at risk')
    >>> attainment_text(99.9999999999), attainment_text(200), attainment_text(None)
    ('100.0 %', '200.0 %', 'no data')
    """
    if fmt.is_missing(att):
        return fmt.NO_DATA
    return fmt.pct(math.floor(float(att) * 10 + 1e-6) / 10, 1)


def _fmt(value: Any, unit: str, currency: str = "USD") -> str:
    if unit == "money":
        return fmt.money(value, currency)
    return {"pct": fmt.pct, "count": fmt.count}[unit](value)


def gap_sentence(kpi: str, label: str, unit: str, actual: Any, target: Any, m: dict[str, Any],
                 currency: str = "USD") -> str:
    """One sentence naming the gap in the KPI's own unit (what it takes to close it); money in ``currency``."""
    if fmt.is_missing(actual):
        return f"{label}: no data in this book"
    head = f"{label} {_fmt(actual, unit, currency)} vs {_fmt(target, unit, currency)} target"
    if kpi == "logo_churn_monthly_pct":
        return head + (" — within target" if actual <= target else " — above the allowed churn")
    short = target - actual
    if short <= 1e-9:
        return head + " — on target"
    if kpi == "coverage_pct" and m.get("book_accounts"):
        need = math.ceil(round(target / 100 * m["book_accounts"] - m["covered_accounts"], 9))
        return head + f" — {need} more account{'s' if need != 1 else ''} to engage"
    if kpi == "renewals_90d_contacted_pct" and m.get("renewals_90d"):
        need = math.ceil(round(target / 100 * m["renewals_90d"] - m["renewals_90d_contacted"], 9))
        return head + f" — {need} renewal{'s' if need != 1 else ''} in the next 90 days still to contact"
    if kpi in ("calls", "touchpoints", "qbrs", "sqls"):
        need = math.ceil(round(short, 9))
        noun = {"calls": "call", "touchpoints": "touchpoint", "qbrs": "QBR", "sqls": "SQL"}[kpi]
        return head + f" — {need} more {noun}{'s' if need != 1 else ''}"
    if kpi == "sql_pipeline":
        return head + f" — {fmt.money(short, currency)} more pipeline"
    if kpi in ("grr_pct", "nrr_pct") and m.get("beginning_arr"):
        return head + f" — {fmt.money(short / 100 * m['beginning_arr'], currency)} of ARR short of target"
    if kpi == "lifecycle_compliance_pct":
        return head + f" — {m.get('lifecycle_overdue', 0)} touchpoint(s) overdue"
    return head + f" — {short:.1f} points short"


@dataclass(frozen=True)
class Scorecard:
    """One CSM's balanced scorecard for a period."""

    csm_id: str
    csm_name: str
    period: Period
    as_of: str
    metrics: dict[str, Any]
    targets: dict[str, Any]
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency: every money figure in ``metrics`` and ``table``

    @property
    def behind(self) -> pd.DataFrame:
        """KPIs at risk or behind, worst first."""
        bad = self.table.loc[self.table["status"].isin(["behind", "at risk"])]
        return bad.sort_values("attainment_pct")

    def diagnosis(self) -> str:
        """The seed's gap-analysis diagnosis from leading vs lagging attainment."""
        lead = self.table.loc[self.table["kind"] == "leading", "attainment_pct"].dropna()
        lag = self.table.loc[self.table["kind"] == "lagging", "status"]
        lead_ok = len(lead) > 0 and lead.clip(upper=150).mean() >= 95
        lag_ok = not lag.isin(["behind"]).any()
        if not len(lead):
            return "No activity data in this book: only the lagging (outcome) KPIs can be judged."
        if lead_ok and not lag_ok:
            return ("Strong activity but weak outcomes: the touches are happening, so look at execution quality — "
                    "are the conversations about value, are at-risk accounts getting a real plan?")
        if not lead_ok and not lag_ok:
            return "Weak activity and weak outcomes: plan more touches, starting with at-risk and renewing accounts."
        if not lead_ok:
            return "Outcomes are holding but activity is behind: plan more touches before it shows in retention."
        watch = self.table.loc[self.table["status"] == "at risk", "label"].tolist()
        leading_behind = self.table.loc[self.table["status"] == "behind", "label"].tolist()  # leading ones only here
        if leading_behind:
            # on track *overall*: the leading average carries a KPI that is behind — name it, never "nothing behind"
            return ("Activity and outcomes are both on track overall (no outcome behind; the activity KPIs average "
                    f"{lead.clip(upper=150).mean():.0f} % of target, each counted up to 150 %), but "
                    f"{fmt.join_and(leading_behind)} {'is' if len(leading_behind) == 1 else 'are'} behind: plan for "
                    f"{'it' if len(leading_behind) == 1 else 'them'} this week"
                    + (f", and watch {fmt.join_and(watch)} (at risk, 90–100 % of target)." if watch else "."))
        if watch:
            return ("Activity and outcomes are both on track (nothing behind): keep the cadence, and watch "
                    f"{', '.join(watch)} (at risk, 90–100 % of target).")
        return "Activity and outcomes are both on track: keep the cadence and look for expansion."

    def _repr_html_(self) -> str:
        rows = []
        for r in self.table.itertuples(index=False):
            rows.append(
                f"<tr><td>{fmt.text(r.label)}</td><td>{r.kind}</td><td style='text-align:right'>{fmt.text(r.target_text)}</td>"
                f"<td style='text-align:right'>{fmt.text(r.actual_text)}</td>"
                f"<td style='text-align:right'>{fmt.text(attainment_text(r.attainment_pct))}</td>"
                f"<td>{STATUS_MARK[r.status]} {r.status}</td></tr>")
        return (f"<table><caption>Scorecard — {fmt.text(self.csm_name)} ({fmt.text(self.csm_id)}), {self.period}, "
                f"as of {self.as_of}</caption><thead><tr><th>KPI</th><th>kind</th><th>target</th><th>actual</th>"
                f"<th>attainment</th><th>status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def targets_for(book: Book, csm_id: str, period: Period, attribution: str = "start") -> dict[str, Any]:
    """The CSM's targets for the period (segment retention targets blended by beginning ARR)."""
    acc = account_arr(attributed(book, period, attribution), period, csm_id)
    by_segment = acc.loc[acc["in_cohort"]].groupby("segment")["begin"].sum().to_dict()
    return csm_targets(book.targets, csm_id, period.months, by_segment)


def scorecard(book: Book, csm_id: str, start: str | Period, end: str | None = None,
              as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> Scorecard:
    """Build the balanced scorecard of ``csm_id`` for the period.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> card = scorecard(load_book(), "csm_01", "2026-07", "2026-09")
    >>> list(card.table.columns)[:6]
    ['kpi', 'label', 'kind', 'target', 'actual', 'attainment_pct']
    """
    period = start if isinstance(start, Period) else Period.parse(start, end)
    m = csm_metrics(book, csm_id, period, as_of=as_of, attribution=attribution)
    targets = targets_for(book, m["csm_id"], period, attribution)
    currency = book.reporting_currency
    rows = []
    for kpi, label, kind, unit, higher in KPIS:
        actual, target = m.get(kpi), targets.get(kpi)
        att = attainment(actual, target, higher)
        rows.append({
            "kpi": kpi, "label": label, "kind": kind, "target": target, "actual": actual,
            "attainment_pct": att, "status": status(att), "unit": unit, "higher_is_better": higher,
            "target_text": _fmt(target, unit, currency), "actual_text": _fmt(actual, unit, currency),
            "gap": gap_sentence(kpi, label, unit, actual, target, m, currency),
        })
    table = pd.DataFrame(rows)
    table["attainment_pct"] = table["attainment_pct"].astype("float64")
    return Scorecard(csm_id=m["csm_id"], csm_name=book.csm_name(m["csm_id"]), period=period, as_of=m["as_of"],
                     metrics=m, targets=targets, table=table, currency=currency)
