"""ARR retention, NRR and churn: the seed's worked examples and the per-CSM tables behind notebooks 06–08.

Every definition is the one of ``data/README.md`` ("Definitions") and of :mod:`kpi_kit.metrics`, so a
figure here always equals the KPI in the CSM's report:

* **beginning cohort** — the CSM's book accounts with beginning ARR > 0 (new logos are never in it);
* **GRR %** = 100 × Σ min(end, begin) / Σ begin over the cohort = 100 × (begin − contraction − churn) / begin;
* **NRR %** = 100 × Σ end / Σ begin over the cohort = 100 × (begin + expansion − contraction − churn) / begin;
* **logo churn %** = cohort accounts with ending ARR 0 / cohort size; **revenue churn %** = 100 − GRR;
* **monthly ↔ annual**: a monthly rate ``m`` compounds to ``100 × (1 − (1 − m/100)^12)`` a year
  (:func:`annual_equivalent`); the other way is :func:`kpi_kit.metrics.monthly_equivalent`.

A ratio with an empty denominator (no beginning ARR, an empty cohort) is ``None``, never 0.
Money is in ``book.reporting_currency``: in a book with several currencies, USD at **constant
currency** (beginning and ending ARR both at the rates of the period's first day, as in
:func:`kpi_kit.metrics.account_arr`), so GRR / NRR measure customers, not exchange rates; the FX
effect is the ``fx_effect`` column of :func:`book_accounts`, never expansion or contraction.
Functions are pure: a :class:`~kpi_kit.data.Book`, a CSM and a :class:`~kpi_kit.periods.Period` in,
numbers and DataFrames out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import account_arr, attributed, monthly_equivalent
from kpi_kit.periods import Period
from kpi_kit.scorecard import targets_for
from kpi_kit.targets import period_rate

__all__ = [
    "REASON_COLUMNS", "Retention", "annual_equivalent", "book_accounts", "churn_chart", "churn_reason_column",
    "churn_table", "churned_accounts", "grr_pct", "nrr_pct", "retention", "retention_by_segment",
]

#: Columns of ``accounts.csv`` (extra, optional) read as the reason an account left, first found wins.
REASON_COLUMNS: tuple[str, ...] = ("churn_reason", "reason_code", "reason")

SEGMENT_ORDER = ("enterprise", "mid-market", "smb")


# ------------------------------------------------------------------------------------------------
# the seed's arithmetic
# ------------------------------------------------------------------------------------------------

def _money_arg(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise KitError(f"{what} must be a number of dollars, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise KitError(f"{what} must be a finite amount >= 0, got {value!r}")
    return x


def grr_pct(beginning_arr: float, churned_arr: float = 0.0, contraction_arr: float = 0.0) -> float | None:
    """Gross revenue retention from the ARR bridge: 100 × (begin − churn − contraction) / begin.

    Parameters
    ----------
    beginning_arr
        ARR of the beginning cohort (USD, ≥ 0).
    churned_arr
        Beginning ARR of the accounts that left (ending ARR 0).
    contraction_arr
        ARR lost by accounts that stayed but shrank.

    Returns
    -------
    float or None
        Percent (at most 100); None when ``beginning_arr`` is 0 (no cohort, no ratio).

    Raises
    ------
    KitError
        A negative or non-numeric amount, or losses larger than the beginning ARR.

    Examples
    --------
    The seed's example: $2M beginning ARR, $100K churned → 95 %.

    >>> grr_pct(2_000_000, churned_arr=100_000)
    95.0
    """
    begin = _money_arg(beginning_arr, "beginning_arr")
    churn = _money_arg(churned_arr, "churned_arr")
    contraction = _money_arg(contraction_arr, "contraction_arr")
    if churn + contraction > begin + 1e-9:
        raise KitError(f"churned_arr + contraction_arr ({churn + contraction:,.2f}) is more than beginning_arr "
                       f"({begin:,.2f}): an account cannot lose more ARR than it began with")
    if begin == 0:
        return None
    return 100.0 * (begin - churn - contraction) / begin


def nrr_pct(beginning_arr: float, churned_arr: float = 0.0, contraction_arr: float = 0.0,
            expansion_arr: float = 0.0) -> float | None:
    """Net revenue retention from the ARR bridge: 100 × (begin + expansion − contraction − churn) / begin.

    New-logo ARR is deliberately not a parameter: NRR measures the beginning cohort only.

    Parameters
    ----------
    beginning_arr, churned_arr, contraction_arr
        As in :func:`grr_pct`.
    expansion_arr
        ARR added by cohort accounts that grew (upsell, cross-sell, price uplift).

    Returns
    -------
    float or None
        Percent; None when ``beginning_arr`` is 0.

    Examples
    --------
    The seed's example: $2M beginning, $100K churned, $300K expansion → 110 %.

    >>> nrr_pct(2_000_000, churned_arr=100_000, expansion_arr=300_000)
    110.0
    """
    begin = _money_arg(beginning_arr, "beginning_arr")
    grr = grr_pct(begin, churned_arr, contraction_arr)
    if grr is None:
        return None
    return grr + 100.0 * _money_arg(expansion_arr, "expansion_arr") / begin


def annual_equivalent(monthly_pct: float | pd.Series | None, months: int = 12) -> float | pd.Series | None:
    """Compound a monthly churn rate over ``months`` months: 100 × (1 − (1 − m/100)^months).

    The inverse of :func:`kpi_kit.metrics.monthly_equivalent`. Churn compounds: each month's churn is
    taken from what is left, so 5 % a month is 46 % a year, not 12 × 5 = 60 %.

    Parameters
    ----------
    monthly_pct
        Monthly churn in percent (0–100), a number or a Series (NaN stays NaN; None gives None).
    months
        Number of months to compound over (12 = a year, 3 = a quarter).

    Examples
    --------
    >>> round(annual_equivalent(5.0), 2)      # 1 − 0.95^12 = 0.4596
    45.96
    >>> round(annual_equivalent(5.0, 3), 4)   # 1 − 0.95^3 = 0.142625
    14.2625
    """
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
        raise KitError(f"months must be a whole number >= 1, got {months!r}")
    if isinstance(monthly_pct, pd.Series):
        m = monthly_pct.astype("float64")
        if ((m < 0) | (m > 100)).any():
            raise KitError("monthly_pct must be a percentage from 0 to 100")
        return 100.0 * (1.0 - (1.0 - m / 100.0) ** months)
    if fmt.is_missing(monthly_pct):
        return None
    if isinstance(monthly_pct, bool) or not isinstance(monthly_pct, (int, float, np.integer, np.floating)) \
            or not 0 <= float(monthly_pct) <= 100:
        raise KitError(f"monthly_pct must be a percentage from 0 to 100, got {monthly_pct!r}")
    return 100.0 * (1.0 - (1.0 - float(monthly_pct) / 100.0) ** int(months))


# ------------------------------------------------------------------------------------------------
# the CSM's book
# ------------------------------------------------------------------------------------------------

def book_accounts(book: Book, csm_id: str | None, period: Period, attribution: str = "start") -> pd.DataFrame:
    """The CSM's book for the period, one row per account, exactly as the KPIs see it.

    ``csm_id=None`` gives the whole team's book (every account counted once).

    Rows of :func:`kpi_kit.metrics.account_arr` with ``in_book`` (ARR > 0 at beginning or end), after
    ownership is attributed (``attribution``, see :func:`kpi_kit.metrics.attributed`). Columns:
    ``account_id, account_name, csm_id, segment, begin, end, in_book, in_cohort, churned, expansion,
    contraction, retained, new``. ``retained`` is min(end, begin) for cohort accounts: the cap at
    beginning ARR that keeps GRR at or below 100 %.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> acc = book_accounts(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> bool((acc.loc[acc["in_cohort"], "retained"] <= acc.loc[acc["in_cohort"], "begin"]).all())
    True
    """
    if csm_id is not None:
        csm_id = book.check_csm(csm_id)
    acc = account_arr(attributed(book, period, attribution), period, csm_id)
    return acc.loc[acc["in_book"]].reset_index(drop=True)


def _pct(num: float, den: float) -> float | None:
    return None if den <= 0 else 100.0 * num / den


@dataclass(frozen=True)
class Retention:
    """GRR, NRR and the ARR bridge of one CSM for a period (see :func:`retention`).

    Attributes
    ----------
    beginning_arr, retained_arr, expansion_arr, contraction_arr, churned_arr, ending_arr
        Sums over the beginning cohort (``ending_arr`` is the cohort's ending ARR).
    new_arr
        Ending ARR of new logos (book accounts outside the cohort) — never part of GRR or NRR.
    cohort_accounts, churned_accounts, new_accounts
        Counts.
    grr_pct, nrr_pct
        The KPIs (None without beginning ARR).
    nrr_with_new_logos_pct
        The classic mistake, 100 × (ending_arr + new_arr) / beginning_arr — shown to teach why it is wrong.
    grr_target, nrr_target
        The CSM's targets for the period (:func:`kpi_kit.scorecard.targets_for`): the annual segment targets
        blended by beginning ARR, held to the period's share (:func:`kpi_kit.targets.period_rate`).
    grr_target_annual, nrr_target_annual
        The blended annual targets before that conversion (equal for a 12-month period).
    table
        The book's accounts (:func:`book_accounts`).
    currency
        ISO code of every amount (``book.reporting_currency``): the book's one currency, or USD at
        constant currency (start-of-period rates) when its accounts are in several.
    """

    csm_id: str
    period: Period
    beginning_arr: float
    retained_arr: float
    expansion_arr: float
    contraction_arr: float
    churned_arr: float
    ending_arr: float
    new_arr: float
    cohort_accounts: int
    churned_accounts: int
    new_accounts: int
    grr_pct: float | None
    nrr_pct: float | None
    nrr_with_new_logos_pct: float | None
    grr_target: float | None
    nrr_target: float | None
    grr_target_annual: float | None
    nrr_target_annual: float | None
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"

    @property
    def grr_gap_arr(self) -> float | None:
        """ARR that would have had to be kept to reach the GRR target (0 when on target; None without data)."""
        if self.grr_pct is None or self.grr_target is None:
            return None
        return max(self.grr_target - self.grr_pct, 0.0) / 100.0 * self.beginning_arr

    @property
    def nrr_gap_arr(self) -> float | None:
        """Net ARR (expansion or avoided losses) missing to reach the NRR target (0 when on target)."""
        if self.nrr_pct is None or self.nrr_target is None:
            return None
        return max(self.nrr_target - self.nrr_pct, 0.0) / 100.0 * self.beginning_arr

    def _target_text(self, target: float | None, annual: float | None) -> str:
        if annual is None or target is None or abs(target - annual) < 1e-9:
            return f"{fmt.pct(target)} target"
        return f"{fmt.pct(target)} target for the period ({fmt.pct(annual)} a year)"

    def _sentence(self, label: str, pct: float | None, target: float | None, annual: float | None,
                  gap_arr: float | None, gap_words: str) -> str:
        if pct is None:
            return f"No beginning ARR in {self.period}, so {label} is no data."
        head = f"{label} {fmt.pct(pct)} vs {self._target_text(target, annual)}"
        if gap_arr:
            return head + f": {target - pct:.1f} points short — {fmt.money(gap_arr, self.currency)} {gap_words}"
        return head + ": on or above target"

    def grr_sentence(self) -> str:
        """GRR against its target in words, with the ARR gap (computed, never typed)."""
        return self._sentence("GRR", self.grr_pct, self.grr_target, self.grr_target_annual, self.grr_gap_arr,
                              "more ARR would have had to stay")

    def nrr_sentence(self) -> str:
        """NRR against its target in words, with the net ARR gap (computed, never typed)."""
        return self._sentence("NRR", self.nrr_pct, self.nrr_target, self.nrr_target_annual, self.nrr_gap_arr,
                              "of net ARR (expansion or avoided losses) missing")

    def _repr_html_(self) -> str:
        c = self.currency
        rows = [("Beginning ARR (cohort)", fmt.money(self.beginning_arr, c)), ("+ Expansion", fmt.money(self.expansion_arr, c)),
                ("− Contraction", fmt.money(self.contraction_arr, c)), ("− Churn", fmt.money(self.churned_arr, c)),
                ("= Ending ARR (cohort)", fmt.money(self.ending_arr, c)),
                ("New logos (not in GRR/NRR)", fmt.money(self.new_arr, c)),
                ("GRR", f"{fmt.pct(self.grr_pct)} (target {fmt.pct(self.grr_target)})"),
                ("NRR", f"{fmt.pct(self.nrr_pct)} (target {fmt.pct(self.nrr_target)})")]
        body = "".join(f"<tr><td>{fmt.text(k)}</td><td style='text-align:right'>{fmt.text(v)}</td></tr>" for k, v in rows)
        return (f"<table><caption>Retention — {fmt.text(self.csm_id)}, {self.period}</caption>"
                f"<tbody>{body}</tbody></table>")


def retention(book: Book, csm_id: str, period: Period, attribution: str = "start") -> Retention:
    """GRR, NRR, the ARR bridge and the targets of ``csm_id`` for ``period``.

    Equal to :func:`kpi_kit.metrics.csm_metrics` (same cohort, same attribution); adds the wrong
    "NRR with new logos" figure for teaching, the targets and the ARR gaps to them.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> r = retention(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> r.grr_pct <= 100 and r.grr_pct <= r.nrr_pct
    True
    """
    acc = book_accounts(book, csm_id, period, attribution)
    cohort = acc.loc[acc["in_cohort"]]
    begin = float(cohort["begin"].sum())
    ending = float(cohort["end"].sum())
    new = float(acc["new"].sum())
    targets = targets_for(book, csm_id, period, attribution)
    return Retention(
        csm_id=csm_id, period=period, beginning_arr=begin, retained_arr=float(cohort["retained"].sum()),
        expansion_arr=float(cohort["expansion"].sum()), contraction_arr=float(cohort["contraction"].sum()),
        churned_arr=float(cohort.loc[cohort["churned"], "begin"].sum()), ending_arr=ending, new_arr=new,
        cohort_accounts=int(len(cohort)), churned_accounts=int(cohort["churned"].sum()),
        new_accounts=int((~acc["in_cohort"]).sum()),
        grr_pct=_pct(float(cohort["retained"].sum()), begin), nrr_pct=_pct(ending, begin),
        nrr_with_new_logos_pct=_pct(ending + new, begin),
        grr_target=targets.get("grr_pct"), nrr_target=targets.get("nrr_pct"),
        grr_target_annual=targets.get("grr_annual_pct"), nrr_target_annual=targets.get("nrr_annual_pct"), table=acc,
        currency=book.reporting_currency)


def _ordered(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Segments in the house order (enterprise, mid-market, smb), anything else after, alphabetically."""
    rank = {s: i for i, s in enumerate(SEGMENT_ORDER)}
    keys = frame[column].astype("str")
    order = keys.map(lambda s: (rank.get(s, len(rank)), s))
    return frame.iloc[sorted(range(len(frame)), key=lambda i: order.iloc[i])].reset_index(drop=True)


def retention_by_segment(book: Book, csm_id: str | None, period: Period, attribution: str = "start") -> pd.DataFrame:
    """GRR and NRR of the CSM's cohort per segment, beside each segment's targets.

    ``csm_id=None`` gives the whole team (useful when a CSM covers one segment only).

    Returns
    -------
    pandas.DataFrame
        One row per segment present in the cohort: ``segment, cohort_accounts, beginning_arr,
        weight_pct`` (share of the CSM's beginning ARR — the weight of the segment in the blended
        target), ``retained_arr, ending_arr, grr_pct, nrr_pct`` (over the period),
        ``grr_target_annual, nrr_target_annual`` (the annual segment targets of ``targets.yaml``,
        defaults 98 / 90 / 80 % GRR and 120 / 105 / 100 % NRR) and ``grr_target, nrr_target`` (those
        held to the period: :func:`kpi_kit.targets.period_rate`). Empty (same columns) when the cohort is empty.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> seg = retention_by_segment(load_book(), "csm_04", Period.parse("2026-07", "2026-09"))
    >>> round(float(seg["weight_pct"].sum()), 6)
    100.0
    """
    acc = book_accounts(book, csm_id, period, attribution)
    cohort = acc.loc[acc["in_cohort"]]
    g = cohort.groupby("segment", observed=True).agg(
        cohort_accounts=("account_id", "size"), beginning_arr=("begin", "sum"),
        retained_arr=("retained", "sum"), ending_arr=("end", "sum")).reset_index()
    total = float(cohort["begin"].sum())
    g["weight_pct"] = 100.0 * g["beginning_arr"] / total if total > 0 else np.nan
    g["grr_pct"] = 100.0 * g["retained_arr"] / g["beginning_arr"]
    g["nrr_pct"] = 100.0 * g["ending_arr"] / g["beginning_arr"]
    segments = book.targets.get("segments", {})
    for key in ("grr", "nrr"):
        annual = g["segment"].map(lambda s, k=key: segments.get(s, {}).get(f"{k}_pct", np.nan)).astype("float64")
        g[f"{key}_target_annual"] = annual
        g[f"{key}_target"] = annual.map(lambda a: period_rate(a, period.months)).astype("float64")
    g["segment"] = g["segment"].astype("str")
    g["cohort_accounts"] = g["cohort_accounts"].astype("int64")
    for col in ("beginning_arr", "retained_arr", "ending_arr", "weight_pct", "grr_pct", "nrr_pct"):
        g[col] = g[col].astype("float64")
    cols = ["segment", "cohort_accounts", "beginning_arr", "weight_pct", "retained_arr", "ending_arr", "grr_pct",
            "nrr_pct", "grr_target_annual", "nrr_target_annual", "grr_target", "nrr_target"]
    return _ordered(g[cols], "segment")


# ------------------------------------------------------------------------------------------------
# churn
# ------------------------------------------------------------------------------------------------

def churn_reason_column(book: Book) -> str | None:
    """The ``accounts.csv`` column holding a churn reason (first of :data:`REASON_COLUMNS`), or None.

    The data contract has no reason column; a book may carry one as an extra column (kept and ignored
    by validation). None means the book does not record why accounts left.
    """
    for column in REASON_COLUMNS:
        if column in book.accounts.columns and _text(book.accounts[column]).notna().any():
            return column
    return None


def _text(values: pd.Series) -> pd.Series:
    """Values of an extra column as trimmed text; blank cells (empty or spaces) are missing."""
    text = values.astype("str").str.strip()
    return text.where(values.notna() & (text != ""))


CHURN_COLUMNS = ["cohort_accounts", "churned_accounts", "logo_churn_pct", "logo_churn_monthly_pct", "beginning_arr",
                 "churned_arr", "contraction_arr", "revenue_churn_pct", "revenue_churn_monthly_pct"]


def churn_table(book: Book, csm_id: str | None, period: Period, by: str = "segment",
                attribution: str = "start") -> pd.DataFrame:
    """Logo churn and revenue churn of the CSM's cohort, per group of an ``accounts.csv`` column.

    ``csm_id=None`` gives the whole team.

    Definitions (per group, over cohort accounts)
        ``logo_churn_pct`` = 100 × churned accounts / cohort accounts;
        ``revenue_churn_pct`` = 100 × (churned ARR + contraction ARR) / beginning ARR = 100 − GRR;
        ``*_monthly_pct`` = :func:`kpi_kit.metrics.monthly_equivalent` over the period's months.
    A last row ``"all"`` gives the CSM's totals (equal to the KPIs ``logo_churn_pct`` and
    ``revenue_churn_pct``). Blank group values are shown as ``"(blank)"``.

    Parameters
    ----------
    by
        A column of ``accounts.csv``: ``segment`` (default), or an extra column such as ``churn_reason``
        (see :func:`churn_reason_column`) or ``plan_tier``.

    Returns
    -------
    pandas.DataFrame
        ``<by>`` then :data:`CHURN_COLUMNS`; segments in the order enterprise, mid-market, smb.

    Raises
    ------
    KitError
        ``by`` is not a column of ``accounts.csv``.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = churn_table(load_book(), "csm_03", Period.parse("2026-07", "2026-09"))
    >>> t["segment"].iloc[-1]
    'all'
    """
    if by not in book.accounts.columns:
        raise KitError(f"accounts.csv has no column {by!r} to group churn by; columns: {', '.join(map(str, book.accounts.columns))}")
    acc = book_accounts(book, csm_id, period, attribution)
    cohort = acc.loc[acc["in_cohort"]]
    if by not in cohort.columns:
        cohort = cohort.merge(book.accounts[["account_id", by]], on="account_id", how="left")
    cohort = cohort.assign(_group=_text(cohort[by]).fillna("(blank)"),
                           _churned_arr=np.where(cohort["churned"], cohort["begin"], 0.0))
    g = cohort.groupby("_group").agg(cohort_accounts=("account_id", "size"), churned_accounts=("churned", "sum"),
                                     beginning_arr=("begin", "sum"), churned_arr=("_churned_arr", "sum"),
                                     contraction_arr=("contraction", "sum")).reset_index()
    g = _ordered(g, "_group") if by == "segment" else g.sort_values("_group", kind="mergesort").reset_index(drop=True)
    total = pd.DataFrame([{"_group": "all", "cohort_accounts": len(cohort), "churned_accounts": int(cohort["churned"].sum()),
                           "beginning_arr": float(cohort["begin"].sum()), "churned_arr": float(cohort["_churned_arr"].sum()),
                           "contraction_arr": float(cohort["contraction"].sum())}])
    g = pd.concat([g, total], ignore_index=True)
    g["cohort_accounts"] = g["cohort_accounts"].astype("int64")
    g["churned_accounts"] = g["churned_accounts"].astype("int64")
    for col in ("beginning_arr", "churned_arr", "contraction_arr"):
        g[col] = g[col].astype("float64")
    n = g["cohort_accounts"].astype("float64")
    g["logo_churn_pct"] = 100.0 * g["churned_accounts"] / n.where(n > 0)
    b = g["beginning_arr"].where(g["beginning_arr"] > 0)
    g["revenue_churn_pct"] = 100.0 * (g["churned_arr"] + g["contraction_arr"]) / b
    g["logo_churn_monthly_pct"] = monthly_equivalent(g["logo_churn_pct"], period.months)
    g["revenue_churn_monthly_pct"] = monthly_equivalent(g["revenue_churn_pct"], period.months)
    g = g.rename(columns={"_group": by})
    g[by] = g[by].astype("str")
    return g[[by, *CHURN_COLUMNS]]


CHURNED_COLUMNS = ["account_id", "account_name", "segment", "begin", "last_month_with_arr", "last_touch",
                   "alerts_before", "reason"]


def churned_accounts(book: Book, csm_id: str, period: Period, attribution: str = "start") -> pd.DataFrame:
    """The cohort accounts the CSM lost in the period (ending ARR 0), largest beginning ARR first.

    Columns
        ``account_id, account_name, segment, begin`` (the ARR lost), ``last_month_with_arr``
        (``"YYYY-MM"``, the last month in the period with ARR > 0, or the month before the period),
        ``last_touch`` (latest activity of any type, by anyone, on or before the period's last day;
        NaT when there is none or activities are not recorded), ``alerts_before`` (risk alerts on the
        account flagged on or before the period's last day, any outcome; ``<NA>`` when risk alerts are
        not recorded) and ``reason`` (from :func:`churn_reason_column`, ``<NA>`` when the book has none).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> lost = churned_accounts(load_book(), "csm_03", Period.parse("2026-07", "2026-09"))
    >>> bool((lost["begin"] > 0).all())
    True
    """
    acc = book_accounts(book, csm_id, period, attribution)
    lost = acc.loc[acc["churned"], ["account_id", "account_name", "segment", "begin"]].copy()
    arr = book.arr_monthly
    live = arr.loc[arr["account_id"].isin(lost["account_id"]) & (arr["arr"] > 0)
                   & (arr["month"] >= period.before) & (arr["month"] <= period.end)]
    last_month = live.groupby("account_id")["month"].max().astype("str")
    lost["last_month_with_arr"] = lost["account_id"].map(last_month).astype("str")
    end_day = period.end_date
    if book.recorded("activities"):
        acts = book.activities
        touches = acts.loc[acts["account_id"].isin(lost["account_id"]) & (acts["date"] <= end_day)]
        last = touches.groupby("account_id")["date"].max()
        # reindex, not Series.map: map() with an empty datetime mapper fails in pandas 3.1 (casts it to float64)
        lost["last_touch"] = last.reindex(lost["account_id"]).to_numpy()
    else:
        lost["last_touch"] = pd.NaT
    lost["last_touch"] = lost["last_touch"].astype("datetime64[us]")
    if book.recorded("risk_alerts"):
        al = book.risk_alerts
        before = al.loc[al["account_id"].isin(lost["account_id"]) & (al["flagged_date"] <= end_day)]
        lost["alerts_before"] = lost["account_id"].map(before.groupby("account_id").size()).fillna(0).astype("Int64")
    else:
        lost["alerts_before"] = pd.Series(pd.NA, index=lost.index, dtype="Int64")
    reason = churn_reason_column(book)
    if reason is None:
        lost["reason"] = pd.Series(pd.NA, index=lost.index, dtype="str")
    else:
        lost["reason"] = lost["account_id"].map(_text(book.accounts.set_index("account_id")[reason])).astype("str")
    lost = lost.sort_values(["begin", "account_id"], ascending=[False, True], kind="mergesort")
    return lost[CHURNED_COLUMNS].reset_index(drop=True)


def churn_chart(table: pd.DataFrame, by: str = "segment") -> alt.Chart:
    """Logo churn vs revenue churn per group (grouped bars, percent), from :func:`churn_table`.

    The ``"all"`` row is included (it is the CSM's total). Groups without data (empty cohort) are left out.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["smb", "all"], "logo_churn_pct": [10.0, 10.0], "revenue_churn_pct": [5.0, 5.0]})
    >>> churn_chart(t).to_dict()["mark"]["type"]
    'bar'
    """
    missing = [c for c in (by, "logo_churn_pct", "revenue_churn_pct") if c not in table.columns]
    if missing:
        raise KitError(f"churn_chart: the frame lacks column(s) {', '.join(missing)}; pass the frame of churn_table()")
    data = table[[by, "logo_churn_pct", "revenue_churn_pct"]].dropna(how="all", subset=["logo_churn_pct", "revenue_churn_pct"])
    order = data[by].astype("str").tolist()
    return (
        alt.Chart(data)
        .transform_fold(["logo_churn_pct", "revenue_churn_pct"], as_=["measure", "pct"])
        .transform_calculate(kind="datum.measure === 'logo_churn_pct' ? 'Logo churn' : 'Revenue churn'")
        .mark_bar()
        .encode(
            x=alt.X(f"{by}:N", sort=order, title=by.replace("_", " ").capitalize(), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("kind:N", sort=["Logo churn", "Revenue churn"]),
            y=alt.Y("pct:Q", title="Churn over the period (%)"),
            color=alt.Color("kind:N", title=None, sort=["Logo churn", "Revenue churn"],
                            scale=alt.Scale(domain=["Logo churn", "Revenue churn"], range=["#e15759", "#f28e2b"])),
            tooltip=[alt.Tooltip(f"{by}:N"), alt.Tooltip("kind:N", title="Measure"),
                     alt.Tooltip("pct:Q", title="Churn %", format=".1f")],
        )
        .properties(title="Logo churn (accounts lost) vs revenue churn (ARR lost)", width=480, height=260)
    )
