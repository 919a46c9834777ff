"""Engagement: calls, touchpoints and QBRs against the seed's ranges, tier minimums, touch cadence vs
retention, a call-allocation planner and lifecycle compliance per touchpoint.

Vocabulary (the KPIs themselves are defined in ``data/README.md`` and computed by :mod:`kpi_kit.metrics`):

**personal touch**
    an activity of any type except ``automated_email`` (by anyone, on the account) — the same rule as
    "contacted" in the KPI *renewals in 90 days contacted*.
**live month** of an account
    a calendar month M in which the account had ARR > 0 at the end of M − 1 or at the end of M — the
    rule of the monthly coverage matrix (:func:`kpi_kit.strategic.coverage_matrix`), so a new logo is
    not judged before it arrives and a churned account not after it left.
**strategic accounts**
    the ``enterprise`` segment (the seed's QBR range, 3–5 a quarter, is "for strategic accounts").

**ARR** in the tables (``arr``, ``begin``, ``retained`` …)
    comes from :func:`kpi_kit.metrics.account_arr`, in ``book.reporting_currency``: in a book with
    several currencies, USD at constant currency (the rates of the period's first day).

Every function is pure (no I/O, no printing). When the book does not record activities
(``book.recorded("activities")`` is False, e.g. the RavenStack import) the activity figures are
missing values (``<NA>`` / ``None``), never 0, and the result says ``recorded = False``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.coverage import activity_account_list
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import account_arr, as_of_date, csm_metrics, lifecycle_table
from kpi_kit.periods import Period

__all__ = [
    "ACTIVITY_RANGES", "CADENCES", "PLAN_GROUPS", "SEED_PLAN_BUDGET", "SEED_PLAN_COUNTS", "TIER_MINIMUMS",
    "ActivityRange", "CadenceRetention", "CallPlan", "TierMinimum", "TierMinimums", "activity_vs_ranges",
    "cadence_retention", "call_plan", "lifecycle_by_touchpoint", "lifecycle_slas", "plan_calls", "plan_counts",
    "qbr_gaps", "tier_minimums", "touch_cadence",
]

AUTOMATED = "automated_email"
CALL_TYPES = ("call", "meeting", "qbr")


# --------------------------------------------------------------------------------------------
# calls, touchpoints and QBRs against the seed's ranges
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActivityRange:
    """A typical range from the seed: ``low``–``high`` activities per ``per_months`` months."""

    kpi: str
    label: str
    low: float
    high: float
    per_months: int
    note: str = ""

    def scaled(self, months: int) -> tuple[float, float]:
        """The range for a period of ``months`` months (``low × months / per_months``, same for high).

        >>> ACTIVITY_RANGES[1].scaled(3)
        (80.0, 100.0)
        """
        return self.low * months / self.per_months, self.high * months / self.per_months


#: The seed's typical activity levels: 15–25 calls a month, 80–100 touchpoints a quarter,
#: 3–5 QBRs a quarter (for strategic accounts).
ACTIVITY_RANGES: tuple[ActivityRange, ...] = (
    ActivityRange("calls", "Calls (call, meeting, QBR)", 15.0, 25.0, 1),
    ActivityRange("touchpoints", "Touchpoints (all activities)", 80.0, 100.0, 3),
    ActivityRange("qbrs", "QBRs", 3.0, 5.0, 3, "the seed's range is for strategic (enterprise) accounts"),
)


def activity_vs_ranges(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The CSM's calls, touchpoints and QBRs against the seed's typical ranges, scaled to the period.

    Definition
    ----------
    Actuals are the KPIs of :func:`kpi_kit.metrics.csm_metrics` (calls = the CSM's activities of type
    call, meeting or qbr dated in the period; touchpoints = all the CSM's activities; QBRs = type qbr).
    The range for a period of ``n`` months is ``low × n / per`` .. ``high × n / per`` where ``per`` is
    1 for calls (a month) and 3 for touchpoints and QBRs (a quarter): a quarter's calls range is 45–75.
    ``status`` is ``below range`` (actual < low), ``in range`` (low ≤ actual ≤ high), ``above range``
    (actual > high) or ``no data`` (activities not recorded).

    Returns
    -------
    pandas.DataFrame
        One row per KPI (calls, touchpoints, qbrs): ``kpi, label, actual`` (``Int64``), ``low, high``
        (float), ``typical`` (the seed's range in words), ``status`` and ``note``.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = activity_vs_ranges(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> t["kpi"].tolist(), t["low"].tolist(), t["high"].tolist()
    (['calls', 'touchpoints', 'qbrs'], [45.0, 80.0, 3.0], [75.0, 100.0, 5.0])
    """
    m = csm_metrics(book, csm_id, period, as_of=as_of)
    rows = []
    for r in ACTIVITY_RANGES:
        low, high = r.scaled(period.months)
        actual = m[r.kpi]
        if actual is None:
            state = "no data"
        elif actual < low:
            state = "below range"
        elif actual > high:
            state = "above range"
        else:
            state = "in range"
        unit = "a month" if r.per_months == 1 else "a quarter"
        rows.append({"kpi": r.kpi, "label": r.label, "actual": actual, "low": low, "high": high,
                     "typical": f"{r.low:g}–{r.high:g} {unit}", "status": state, "note": r.note})
    out = pd.DataFrame(rows)
    out["actual"] = pd.array([pd.NA if v is None else int(v) for v in out["actual"]], dtype="Int64")
    for col in ("kpi", "label", "typical", "status", "note"):
        out[col] = out[col].astype("str")
    return out


def qbr_gaps(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The CSM's strategic (enterprise) accounts that had no QBR in the period, largest ARR first.

    Definition
    ----------
    Live strategic accounts = the CSM's enterprise book accounts with ARR > 0 in END. An account **had a
    QBR** when an activity of type ``qbr`` (by anyone) on it is dated in the period and on or before
    ``as_of`` (default the period's last day). Listed: the accounts without one, with the date of their
    last QBR ever (on or before ``as_of``; ``NaT`` if none).

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, arr`` (ARR in END) and ``last_qbr``; empty when the CSM has no
        enterprise accounts. ``attrs["recorded"]`` is False (and the frame empty) when activities are
        not recorded.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> list(qbr_gaps(load_book(), "csm_04", Period.parse("2026-07", "2026-09")).columns)
    ['account_id', 'account_name', 'arr', 'last_qbr']
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    acc = account_arr(book, period, csm_id)
    live = acc.loc[acc["in_book"] & (acc["end"] > 0) & (acc["segment"] == "enterprise"),
                   ["account_id", "account_name", "end"]].rename(columns={"end": "arr"})
    acts = book.activities
    qbrs = acts.loc[(acts["type"] == "qbr") & acts["account_id"].isin(live["account_id"]) & (acts["date"] <= day)]
    last = qbrs.groupby("account_id")["date"].max()
    in_period = qbrs.loc[period.contains(qbrs["date"]), "account_id"].unique()
    out = live.loc[~live["account_id"].isin(in_period)].copy()
    out["last_qbr"] = pd.Series(last.reindex(out["account_id"]).to_numpy(), index=out.index).astype("datetime64[us]")
    return activity_account_list(book, out)


# --------------------------------------------------------------------------------------------
# live months and personal touches (shared helpers)
# --------------------------------------------------------------------------------------------

def _months(first: pd.Period, last: pd.Period) -> pd.PeriodIndex:
    return pd.period_range(first, last, freq="M")


def _live_months(book: Book, account_ids: pd.Series, first: pd.Period, last: pd.Period) -> pd.DataFrame:
    """``account_id, month`` pairs: months in ``first..last`` in which the account was live (module docstring)."""
    arr = book.arr_monthly
    live = arr.loc[(arr["arr"] > 0) & arr["account_id"].isin(account_ids) & (arr["month"] >= first - 1)
                   & (arr["month"] <= last), ["account_id", "month"]]
    pairs = pd.concat([live, live.assign(month=live["month"] + 1)], ignore_index=True)
    pairs = pairs.loc[(pairs["month"] >= first) & (pairs["month"] <= last)].drop_duplicates()
    return pairs.sort_values(["account_id", "month"], kind="mergesort").reset_index(drop=True)


def _touches_by_month(book: Book, account_ids: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Per (account, month): ``personal`` (non-automated activities) and ``all`` activities dated in [start, end]."""
    acts = book.activities
    acts = acts.loc[acts["account_id"].isin(account_ids) & (acts["date"] >= start) & (acts["date"] <= end)]
    frame = pd.DataFrame({"account_id": acts["account_id"], "month": acts["date"].dt.to_period("M"),
                          "personal": (acts["type"] != AUTOMATED).astype("int64"), "all": 1})
    return frame.groupby(["account_id", "month"], as_index=False)[["personal", "all"]].sum()


# --------------------------------------------------------------------------------------------
# tier minimums
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierMinimum:
    """A segment's minimum touch frequency: ``touches`` per ``unit`` (``month`` or ``quarter``).

    ``personal_only``: only personal touches count (not automated emails).
    """

    segment: str
    touches: int
    unit: str
    personal_only: bool
    text: str


#: The seed's tier minimums: enterprise 2 personal touches a month, mid-market 1 a month,
#: SMB one touch a quarter, which may be automated.
TIER_MINIMUMS: dict[str, TierMinimum] = {
    "enterprise": TierMinimum("enterprise", 2, "month", True, "2 personal touches a month"),
    "mid-market": TierMinimum("mid-market", 1, "month", True, "1 personal touch a month"),
    "smb": TierMinimum("smb", 1, "quarter", False, "1 touch a quarter (automated counts)"),
}


@dataclass(frozen=True)
class TierMinimums:
    """Tier-minimum check of one CSM's book: ``table`` per account, ``summary`` per segment."""

    csm_id: str
    period: Period
    recorded: bool
    table: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)

    @property
    def missing(self) -> pd.DataFrame:
        """Accounts that miss their tier minimum (empty when activities are not recorded)."""
        return self.table.loc[self.table["meets"].eq(False).fillna(False).astype(bool)]

    def _repr_html_(self) -> str:
        if not self.recorded:
            return "<p>This book does not record CSM activities, so tier minimums cannot be checked.</p>"
        return (f"<p>Tier minimums, {fmt.text(self.csm_id)}, {self.period}: {len(self.missing)} of "
                f"{len(self.table)} accounts miss theirs.</p>" + self.summary.to_html(index=False))


def tier_minimums(book: Book, csm_id: str, period: Period) -> TierMinimums:
    """Check every account of the CSM's book against its segment's minimum touch frequency.

    Definition
    ----------
    Book accounts of the period (ARR > 0 in the month before START or in END). Minimums
    (:data:`TIER_MINIMUMS`): enterprise ≥ 2 *personal* touches (any activity type except
    ``automated_email``, by anyone) in every live month of the period; mid-market ≥ 1 personal touch
    in every live month; SMB ≥ 1 touch of any type (automated emails count) in every calendar quarter
    that contains a live month of the period, counting the quarter's activities up to the period's last
    day. An account **meets** its minimum when every judged month (quarter) does.

    Returns
    -------
    TierMinimums
        ``table``: one row per book account — ``account_id, account_name, segment, arr`` (ARR in END),
        ``minimum`` (in words), ``judged`` (months or quarters judged), ``met`` (how many reached the
        minimum), ``meets`` (``boolean``; ``<NA>`` without activity data) and ``short`` (the months or
        quarters that fell short, e.g. ``"2026-08 (1 of 2)"``); accounts that miss come first, then by
        ARR. ``summary``: per segment ``segment, minimum, accounts, meeting, meeting_pct``.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> check = tier_minimums(load_book(), "csm_04", Period.parse("2026-07", "2026-09"))
    >>> set(check.table["segment"])
    {'enterprise'}
    """
    csm_id = book.check_csm(csm_id)
    acc = account_arr(book, period, csm_id)
    acc = acc.loc[acc["in_book"], ["account_id", "account_name", "segment", "end"]].rename(columns={"end": "arr"})
    unknown = sorted(set(acc["segment"]) - set(TIER_MINIMUMS))
    if unknown:
        raise KitError(f"accounts.csv: segment {unknown[0]!r} has no tier minimum; expected one of "
                       f"{', '.join(TIER_MINIMUMS)}")
    live = _live_months(book, acc["account_id"], period.start, period.end)
    live = live.merge(acc[["account_id", "segment"]], on="account_id", how="left")
    monthly = live.loc[live["segment"] != "smb"].copy()
    quarterly = live.loc[live["segment"] == "smb"].copy()

    # monthly tiers: personal touches per live month
    touches = _touches_by_month(book, acc["account_id"], period.start_date, period.end_date)
    monthly = monthly.merge(touches, on=["account_id", "month"], how="left")
    monthly["count"] = monthly["personal"].fillna(0).astype("int64")
    monthly["need"] = monthly["segment"].map({k: v.touches for k, v in TIER_MINIMUMS.items()}).astype("int64")
    monthly["unit_label"] = monthly["month"].astype("str")

    # SMB: any touch per calendar quarter (up to the period's last day)
    quarterly["quarter"] = quarterly["month"].dt.asfreq("Q")
    quarterly = quarterly.drop_duplicates(["account_id", "quarter"])[["account_id", "segment", "quarter"]]
    first_day = period.start.asfreq("Q").start_time.normalize()
    q_touch = _touches_by_month(book, quarterly["account_id"], first_day, period.end_date)
    q_touch = q_touch.assign(quarter=q_touch["month"].dt.asfreq("Q")).groupby(
        ["account_id", "quarter"], as_index=False)["all"].sum()
    quarterly = quarterly.merge(q_touch, on=["account_id", "quarter"], how="left")
    quarterly["count"] = quarterly["all"].fillna(0).astype("int64")
    quarterly["need"] = TIER_MINIMUMS["smb"].touches
    quarterly["unit_label"] = quarterly["quarter"].astype("str")

    units = pd.concat([monthly[["account_id", "unit_label", "count", "need"]],
                       quarterly[["account_id", "unit_label", "count", "need"]]], ignore_index=True)
    units["ok"] = units["count"] >= units["need"]
    units["short_text"] = units["unit_label"] + " (" + units["count"].astype("str") + " of " + units["need"].astype("str") + ")"
    per = units.groupby("account_id").agg(judged=("ok", "size"), met=("ok", "sum"))
    shorts = units.loc[~units["ok"]].groupby("account_id")["short_text"].agg(", ".join)

    out = acc.copy()
    out["minimum"] = out["segment"].map({k: v.text for k, v in TIER_MINIMUMS.items()}).astype("str")
    out["judged"] = out["account_id"].map(per["judged"]).fillna(0).astype("int64")
    out["met"] = out["account_id"].map(per["met"]).fillna(0).astype("int64")
    # merge, not map: mapping with an empty Series would give float NaN that "" cannot fill
    out = out.merge(shorts.astype("str").rename("short"), left_on="account_id", right_index=True, how="left")
    out["short"] = out["short"].astype("str").fillna("")
    recorded = book.recorded("activities")
    meets = pd.array((out["met"] == out["judged"]).to_numpy(), dtype="boolean")
    out["meets"] = meets if recorded else pd.array([pd.NA] * len(out), dtype="boolean")
    if not recorded:
        out["met"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["short"] = ""
    out["arr"] = out["arr"].astype("float64")
    out["_rank"] = out["meets"].fillna(True).astype(bool)
    out = out.sort_values(["_rank", "arr", "account_id"], ascending=[True, False, True], kind="mergesort")
    table = out[["account_id", "account_name", "segment", "arr", "minimum", "judged", "met", "meets", "short"]]
    table = table.reset_index(drop=True)

    summary = table.groupby("segment", sort=False).agg(accounts=("account_id", "size"),
                                                       meeting=("meets", lambda s: s.sum() if recorded else pd.NA))
    order = [s for s in TIER_MINIMUMS if s in summary.index]
    summary = summary.reindex(order).reset_index()
    summary.insert(1, "minimum", summary["segment"].map({k: v.text for k, v in TIER_MINIMUMS.items()}).astype("str"))
    summary["meeting"] = pd.array([pd.NA if not recorded else int(v) for v in summary["meeting"]], dtype="Int64")
    summary["meeting_pct"] = (100.0 * summary["meeting"].astype("float64") / summary["accounts"]).astype("float64")
    summary["segment"] = summary["segment"].astype("str")
    return TierMinimums(csm_id=csm_id, period=period, recorded=recorded, table=table, summary=summary)


# --------------------------------------------------------------------------------------------
# touch cadence -> retention
# --------------------------------------------------------------------------------------------

#: The cadence classes, in order.
CADENCES: tuple[str, ...] = ("monthly", "quarterly", "reactive only")
#: A class with fewer accounts than this is flagged as too small to read much into.
SMALL_CLASS = 10


def touch_cadence(book: Book, period: Period, window_months: int = 6, csm_id: str | None = None) -> pd.DataFrame:
    """Classify each beginning-cohort account by its touch cadence before the period.

    Definition
    ----------
    **Cohort**: book accounts with beginning ARR > 0 (ARR in the month before START), of one CSM or of
    the whole team. **Window**: the ``window_months`` calendar months ending with the month before
    START — the cadence is measured *before* the retention it is compared with, so a churned account's
    silence after it left cannot count against it. In each **live month** of the window (module
    docstring) the account is *touched* when it had at least one **personal touch** (any activity type
    except ``automated_email``, by anyone). ``longest_gap`` = the longest run of consecutive live months
    of the window without a personal touch. Cadence:

    * ``monthly`` — touched in every live month of the window (``longest_gap`` = 0);
    * ``quarterly`` — at least one personal touch in the window and never 3 live months in a row
      without one (``longest_gap`` 1 or 2);
    * ``reactive only`` — no personal touch in the window, or a gap of 3 live months or more. The book
      does not record who started a conversation, so "reactive" means "no regular cadence".

    Retention columns follow :func:`kpi_kit.metrics.account_arr` (``begin``, ``end``, ``retained`` =
    min(begin, end), ``churned`` = end is 0).

    Returns
    -------
    pandas.DataFrame
        One row per cohort account: ``account_id, account_name, csm_id, segment, begin, end, retained,
        churned, live_months, touched_months, longest_gap`` and ``cadence`` (``<NA>`` when activities
        are not recorded).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = touch_cadence(load_book(), Period.parse("2026-07", "2026-09"))
    >>> set(t["cadence"].dropna()) <= set(CADENCES)
    True
    """
    if isinstance(window_months, bool) or not isinstance(window_months, (int, np.integer)) or window_months < 1:
        raise KitError(f"window_months = {window_months!r}: expected a whole number of months >= 1, e.g. 6")
    if csm_id is not None:
        csm_id = book.check_csm(csm_id)
    acc = account_arr(book, period, csm_id)
    cohort = acc.loc[acc["in_cohort"], ["account_id", "account_name", "csm_id", "segment", "begin", "end", "retained",
                                        "churned"]].reset_index(drop=True)
    last = period.before
    first = last - (int(window_months) - 1)
    live = _live_months(book, cohort["account_id"], first, last)
    touches = _touches_by_month(book, cohort["account_id"], first.start_time.normalize(), last.end_time.normalize())
    live = live.merge(touches[["account_id", "month", "personal"]], on=["account_id", "month"], how="left")
    live["touched"] = live["personal"].fillna(0) > 0
    # runs of untouched months: a new block starts at every touched month
    live["block"] = live.groupby("account_id")["touched"].cumsum()
    gaps = live.loc[~live["touched"]].groupby(["account_id", "block"]).size().groupby("account_id").max()
    per = live.groupby("account_id").agg(live_months=("month", "size"), touched_months=("touched", "sum"))

    out = cohort.copy()
    out["live_months"] = out["account_id"].map(per["live_months"]).fillna(0).astype("int64")
    out["touched_months"] = out["account_id"].map(per["touched_months"]).fillna(0).astype("int64")
    out["longest_gap"] = out["account_id"].map(gaps).fillna(0).astype("int64")
    cadence = np.select(
        [out["touched_months"] == 0, out["longest_gap"] == 0, out["longest_gap"] <= 2],
        ["reactive only", "monthly", "quarterly"], default="reactive only")
    out["cadence"] = pd.Series(cadence, index=out.index, dtype="str")
    if not book.recorded("activities"):
        for col in ("touched_months", "longest_gap"):
            out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["cadence"] = pd.Series(pd.NA, index=out.index, dtype="str")
    out.attrs["window"] = (str(first), str(last))
    acts = book.activities
    out.attrs["first_activity_ok"] = bool(len(acts) == 0 or acts["date"].min() <= first.start_time)
    return out


@dataclass(frozen=True)
class CadenceRetention:
    """GRR and logo churn per touch-cadence class (see :func:`cadence_retention`)."""

    period: Period
    window: tuple[str, str]
    csm_id: str | None
    recorded: bool
    table: pd.DataFrame = field(repr=False)
    accounts: pd.DataFrame = field(repr=False)

    @property
    def window_covered(self) -> bool:
        """False when the book's activities start after the window's first day (the cadence would be understated)."""
        return self.accounts.attrs.get("first_activity_ok", True)

    def by_segment(self) -> pd.DataFrame:
        """The same table per (segment, cadence): cadence follows segment, so compare within a segment."""
        acc = self.accounts.dropna(subset=["cadence"])
        grouped = acc.groupby(["segment", "cadence"], sort=False).agg(
            accounts=("account_id", "size"), beginning_arr=("begin", "sum"), retained_arr=("retained", "sum"),
            churned_accounts=("churned", "sum")).reset_index()
        rank = {c: i for i, c in enumerate(CADENCES)}
        grouped = grouped.assign(_s=grouped["segment"].map({"enterprise": 0, "mid-market": 1, "smb": 2}).fillna(3),
                                 _c=grouped["cadence"].map(rank)).sort_values(["_s", "_c"]).drop(columns=["_s", "_c"])
        begin = grouped["beginning_arr"].astype("float64")
        grouped["grr_pct"] = (100.0 * grouped["retained_arr"] / begin.where(begin > 0)).astype("float64")
        grouped["churned_accounts"] = grouped["churned_accounts"].astype("int64")
        return grouped.reset_index(drop=True)

    def verdict(self) -> str:
        """What the table says, in one or two sentences built from its numbers."""
        if not self.recorded:
            return "This book does not record CSM activities, so touch cadence cannot be compared with retention."
        shown = self.table.loc[self.table["accounts"] > 0]
        parts = [f"{r.cadence}: GRR {fmt.pct(r.grr_pct)} over {r.accounts} account{'s' if r.accounts != 1 else ''}"
                 for r in shown.itertuples()]
        text = "; ".join(parts) + "."
        monthly = self.grr("monthly")
        rest = self.table.loc[self.table["cadence"] != "monthly"]
        rest_begin = float(rest["beginning_arr"].sum())
        if monthly is not None and rest_begin > 0:
            other = 100.0 * float(rest["retained_arr"].sum()) / rest_begin
            if monthly >= other:
                text += (f" Accounts touched every month kept more of their ARR ({fmt.pct(monthly)}) than the others "
                         f"({fmt.pct(other)}).")
            else:
                text += (f" Here accounts touched every month kept less of their ARR ({fmt.pct(monthly)}) than the others "
                         f"({fmt.pct(other)}): cadence alone does not keep customers — look at what the touches are "
                         "about, and compare within a segment.")
        small = shown.loc[shown["accounts"] < SMALL_CLASS, "cadence"].tolist()
        if small:
            text += f" Too few accounts to read much into: {', '.join(small)} (fewer than {SMALL_CLASS})."
        if not self.window_covered:
            text += " Note: the book's activities start after the window begins, so early months look untouched."
        return text

    def grr(self, cadence: str) -> float | None:
        """GRR % of one class (``None`` when the class is empty or activities are not recorded)."""
        row = self.table.loc[self.table["cadence"] == cadence, "grr_pct"]
        return None if row.empty or pd.isna(row.iloc[0]) else float(row.iloc[0])

    def _repr_html_(self) -> str:
        if not self.recorded:
            return "<p>This book does not record CSM activities, so touch cadence cannot be measured.</p>"
        who = "the team" if self.csm_id is None else fmt.text(self.csm_id)
        return (f"<p>Touch cadence in {self.window[0]}..{self.window[1]} vs retention in {self.period} ({who})</p>"
                + self.table.to_html(index=False))


def cadence_retention(book: Book, period: Period, window_months: int = 6, csm_id: str | None = None) -> CadenceRetention:
    """The cadence → retention table: GRR and logo churn of the cohort per touch-cadence class.

    Definition
    ----------
    Accounts are classified by :func:`touch_cadence` (cadence over the ``window_months`` months before
    START). Per class: ``accounts``; ``beginning_arr`` = Σ begin; ``retained_arr`` = Σ min(begin, end);
    **GRR %** = 100 × retained_arr / beginning_arr (the kit's GRR, restricted to the class);
    ``churned_accounts`` (ending ARR 0) and **logo churn %** = churned / accounts. An empty class has
    ``None``/NaN percentages, never 0. Summing ``retained_arr`` and ``beginning_arr`` over the classes
    gives the cohort's GRR.

    Returns
    -------
    CadenceRetention
        ``table`` (one row per class in :data:`CADENCES` order: ``cadence, accounts, beginning_arr,
        retained_arr, grr_pct, churned_accounts, logo_churn_pct``) and ``accounts`` (the per-account
        classification).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> r = cadence_retention(load_book(), Period.parse("2026-07", "2026-09"))
    >>> r.table["cadence"].tolist()
    ['monthly', 'quarterly', 'reactive only']
    """
    accounts = touch_cadence(book, period, window_months, csm_id)
    recorded = book.recorded("activities")
    grouped = accounts.groupby("cadence").agg(accounts=("account_id", "size"), beginning_arr=("begin", "sum"),
                                              retained_arr=("retained", "sum"), churned_accounts=("churned", "sum"))
    grouped = grouped.reindex(list(CADENCES), fill_value=0)
    table = pd.DataFrame({"cadence": pd.array(list(CADENCES), dtype="str")})
    table["accounts"] = grouped["accounts"].to_numpy(dtype="int64")
    table["beginning_arr"] = grouped["beginning_arr"].to_numpy(dtype="float64")
    table["retained_arr"] = grouped["retained_arr"].to_numpy(dtype="float64")
    begin = table["beginning_arr"].where(table["beginning_arr"] > 0)
    table["grr_pct"] = (100.0 * table["retained_arr"] / begin).astype("float64")
    table["churned_accounts"] = grouped["churned_accounts"].to_numpy(dtype="int64")
    n = table["accounts"].astype("float64")
    table["logo_churn_pct"] = (100.0 * table["churned_accounts"] / n.where(n > 0)).astype("float64")
    if not recorded:
        for col in ("accounts", "churned_accounts"):
            table[col] = pd.array([pd.NA] * len(table), dtype="Int64")
        for col in ("beginning_arr", "retained_arr", "grr_pct", "logo_churn_pct"):
            table[col] = np.nan
    return CadenceRetention(period=period, window=accounts.attrs["window"], csm_id=csm_id, recorded=recorded,
                            table=table, accounts=accounts)


# --------------------------------------------------------------------------------------------
# call allocation planner
# --------------------------------------------------------------------------------------------

#: Planner groups, in priority order, with calls per account per month at the tier minimum.
PLAN_GROUPS: tuple[tuple[str, int, str], ...] = (
    ("enterprise", 2, "enterprise minimum: 2 calls a month each"),
    ("at-risk", 1, "one call this month each (at-risk mid-market and SMB accounts)"),
    ("mid-market", 1, "rotating: the mid-market minimum is 1 a month each"),
    ("smb", 0, "no calls: quarterly automated touch (healthy SMB)"),
)
#: The seed's 20-call plan: 10 enterprise, 5 rotating over 15 mid-market, 5 at-risk SMB. The seed gives
#: the calls and the 15 mid-market accounts; 5 enterprise accounts (at the enterprise minimum of 2 calls
#: a month) and 5 at-risk SMB accounts (one call each) are the counts that give its plan.
SEED_PLAN_COUNTS: dict[str, int] = {"enterprise": 5, "at-risk": 5, "mid-market": 15, "smb": 0}
SEED_PLAN_BUDGET: int = 20


@dataclass(frozen=True)
class CallPlan:
    """A month's call plan (see :func:`plan_calls`)."""

    budget: int
    counts: Mapping[str, int]
    table: pd.DataFrame = field(repr=False)

    def calls(self, group: str) -> int:
        """Calls a month planned for ``group``."""
        return int(self.table.loc[self.table["group"] == group, "calls"].iloc[0])

    @property
    def rotation_months(self) -> int | None:
        """Months for the mid-market rotation to reach every mid-market account once (None: no calls left)."""
        n, calls = self.counts.get("mid-market", 0), self.calls("mid-market")
        if n == 0:
            return 0
        return math.ceil(n / calls) if calls else None

    @property
    def spare(self) -> int:
        """Calls of the budget that no minimum needs (for expansion conversations, QBR preparation…)."""
        return self.budget - int(self.table["calls"].sum())

    @property
    def shortfall(self) -> int:
        """Calls the tier minimums need beyond the budget (0 when the budget covers them)."""
        return int(self.table["shortfall"].sum())

    def summary(self) -> str:
        """The plan in one sentence, e.g. the seed's "10 enterprise, 5 rotating over 15 mid-market, 5 at-risk".

        Groups without accounts are left out; healthy SMB accounts get no calls and are not named.
        """
        parts = []
        if self.counts.get("enterprise", 0):
            parts.append(f"{self.calls('enterprise')} enterprise")
        n_mid, rot = self.counts.get("mid-market", 0), self.rotation_months
        if n_mid and rot is not None and rot > 1:
            parts.append(f"{self.calls('mid-market')} rotating over {n_mid} mid-market (each every {rot} months)")
        elif n_mid:
            parts.append(f"{self.calls('mid-market')} mid-market"
                         + (" (one each)" if rot == 1 else " (none: the budget is used up)"))
        if self.counts.get("at-risk", 0):
            parts.append(f"{self.calls('at-risk')} at-risk")
        tail = f"; {self.spare} spare" if self.spare else ""
        tail += f"; {self.shortfall} short of the tier minimums" if self.shortfall else ""
        return f"{self.budget} calls: " + (", ".join(parts) or "no accounts need calls") + tail

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.summary())}</p>" + self.table.to_html(index=False)


def plan_calls(counts: Mapping[str, int], budget: int = SEED_PLAN_BUDGET) -> CallPlan:
    """Allocate a month's call budget over account groups in priority order.

    Definition
    ----------
    Groups (:data:`PLAN_GROUPS`), served in this order until the budget runs out:

    1. ``enterprise`` — 2 calls a month per account (the enterprise tier minimum);
    2. ``at-risk`` — 1 call per at-risk mid-market or SMB account (at-risk enterprise accounts already
       get their 2);
    3. ``mid-market`` — the rest of the budget, at most 1 call per account; when it is smaller than the
       number of accounts the calls **rotate**: each account gets a call every ⌈accounts / calls⌉ months;
    4. ``smb`` (healthy) — no calls; their minimum is a quarterly automated touch.

    ``shortfall`` per group = calls its minimum needs − calls planned (what the budget cannot cover);
    budget left after all groups is ``spare``. The seed's plan (:data:`SEED_PLAN_COUNTS`, budget 20) is
    10 enterprise, 5 rotating over 15 mid-market (each every 3 months), 5 at-risk.

    Parameters
    ----------
    counts
        Accounts per group (keys from :data:`PLAN_GROUPS`; a missing key is 0).
    budget
        Calls available in the month (whole number ≥ 0).

    Examples
    --------
    >>> plan = plan_calls(SEED_PLAN_COUNTS, 20)
    >>> plan.calls("enterprise"), plan.calls("mid-market"), plan.calls("at-risk"), plan.rotation_months
    (10, 5, 5, 3)
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
        raise KitError(f"budget = {budget!r}: expected a whole number of calls >= 0, e.g. 20")
    names = [g for g, _, _ in PLAN_GROUPS]
    unknown = sorted(set(counts) - set(names))
    if unknown:
        raise KitError(f"plan_calls: unknown group {unknown[0]!r}; use {', '.join(names)}")
    clean: dict[str, int] = {}
    for g in names:
        n = counts.get(g, 0)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise KitError(f"plan_calls: {g} = {n!r}: expected a whole number of accounts >= 0")
        clean[g] = int(n)
    left = int(budget)
    rows = []
    for group, per_account, rule in PLAN_GROUPS:
        need = clean[group] * per_account
        calls = min(need, left)
        left -= calls
        rows.append({"group": group, "accounts": clean[group], "calls": calls, "minimum_calls": need,
                     "shortfall": need - calls, "rule": rule})
    table = pd.DataFrame(rows)
    for col in ("accounts", "calls", "minimum_calls", "shortfall"):
        table[col] = table[col].astype("int64")
    for col in ("group", "rule"):
        table[col] = table[col].astype("str")
    return CallPlan(budget=int(budget), counts=clean, table=table)


def plan_counts(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> dict[str, int]:
    """Accounts per planner group for the CSM's live book (for :func:`plan_calls`).

    Definition
    ----------
    Live accounts = the CSM's book accounts with ARR > 0 in END. ``enterprise`` = live enterprise
    accounts; ``at-risk`` = live mid-market and SMB accounts that are at risk as of ``as_of`` (default
    the period's last day) by :func:`kpi_kit.strategic.at_risk_accounts` (an open risk alert or health
    below 50); ``mid-market`` and ``smb`` = the other live accounts of those segments.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> sorted(plan_counts(load_book(), "csm_01", Period.parse("2026-07", "2026-09")))
    ['at-risk', 'enterprise', 'mid-market', 'smb']
    """
    from kpi_kit.strategic import at_risk_accounts

    csm_id = book.check_csm(csm_id)
    acc = account_arr(book, period, csm_id)
    live = acc.loc[acc["in_book"] & (acc["end"] > 0)]
    risky = set(at_risk_accounts(book, csm_id, period, as_of)["account_id"])
    at_risk = live["account_id"].isin(risky) & (live["segment"] != "enterprise")
    return {
        "enterprise": int((live["segment"] == "enterprise").sum()),
        "at-risk": int(at_risk.sum()),
        "mid-market": int(((live["segment"] == "mid-market") & ~at_risk).sum()),
        "smb": int(((live["segment"] == "smb") & ~at_risk).sum()),
    }


def call_plan(book: Book, csm_id: str, period: Period, budget: int | None = None,
              as_of: str | pd.Timestamp | None = None) -> CallPlan:
    """The call plan for the CSM's live book: :func:`plan_counts` fed to :func:`plan_calls`.

    ``budget`` defaults to the CSM's calls-per-month target (``targets.yaml``; the seed's 20).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> call_plan(load_book(), "csm_01", Period.parse("2026-07", "2026-09")).budget
    20
    """
    from kpi_kit.targets import csm_targets

    csm_id = book.check_csm(csm_id)
    if budget is None:
        budget = int(round(float(csm_targets(book.targets, csm_id, 1)["calls"] or 0)))
    return plan_calls(plan_counts(book, csm_id, period, as_of), budget)


# --------------------------------------------------------------------------------------------
# lifecycle compliance per touchpoint
# --------------------------------------------------------------------------------------------

TOUCHPOINT_ORDER: tuple[str, ...] = (
    "onboarding_welcome", "onboarding_checkin", "onboarding_review", "adoption_assessment",
    "renewal_180", "renewal_90", "renewal_60", "renewal_30", "risk_intervention", "escalation_response",
)


def lifecycle_by_touchpoint(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Lifecycle touchpoints due in the period on the CSM's book, counted per touchpoint and status.

    Definition
    ----------
    From :func:`kpi_kit.metrics.lifecycle_table` (windows and matching rules in :mod:`kpi_kit.lifecycle`)
    as of ``as_of`` (default the period's last day), restricted to the CSM's book accounts. Per
    touchpoint: ``met``, ``overdue``, ``pending`` and **compliance %** = met / (met + overdue) (NaN when
    nothing has been judged). Summing ``met`` and ``overdue`` over the rows gives the KPI's parts —
    except that without activity data the KPI is no data, and so is every row's compliance here.

    Returns
    -------
    pandas.DataFrame
        One row per touchpoint that fell due: ``touchpoint, met, overdue, pending`` (int64) and
        ``compliance_pct`` (float), in lifecycle order.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = lifecycle_by_touchpoint(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> list(t.columns)
    ['touchpoint', 'met', 'overdue', 'pending', 'compliance_pct']
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    acc = account_arr(book, period, csm_id)
    books = acc.loc[acc["in_book"]]
    tps = lifecycle_table(book, period, day, books)
    counts = pd.crosstab(tps["touchpoint"], tps["status"]) if len(tps) else pd.DataFrame()
    counts = counts.reindex(columns=["met", "overdue", "pending"], fill_value=0)
    order = [t for t in TOUCHPOINT_ORDER if t in counts.index] + sorted(set(counts.index) - set(TOUCHPOINT_ORDER))
    counts = counts.reindex(order)
    out = pd.DataFrame({"touchpoint": pd.array(order, dtype="str")})
    for col in ("met", "overdue", "pending"):
        out[col] = counts[col].to_numpy(dtype="int64")
    judged = (out["met"] + out["overdue"]).astype("float64")
    out["compliance_pct"] = (100.0 * out["met"] / judged.where(judged > 0)).astype("float64")
    if not book.recorded("activities"):
        out["compliance_pct"] = np.nan
    return out


def lifecycle_slas() -> pd.DataFrame:
    """The lifecycle touchpoints and their windows as a table (from the constants of :mod:`kpi_kit.lifecycle`).

    Day 0 is the anchor; a negative day is before it. Both ends of a window count.

    Returns
    -------
    pandas.DataFrame
        ``touchpoint, anchor, due, window_opens, window_closes`` (text: "day 7", "90 days before
        renewal", …) and ``due_day, open_day, close_day`` (int, relative to the anchor; escalations in hours).

    Examples
    --------
    >>> t = lifecycle_slas()
    >>> t.loc[t["touchpoint"] == "renewal_90", ["open_day", "due_day", "close_day"]].iloc[0].tolist()
    [-104, -90, -83]
    """
    from kpi_kit import lifecycle as lc

    def day(n: int, what: str) -> str:
        if what == "renewal":
            return f"{-n} days before renewal" if n < 0 else f"{n} days after renewal"
        return f"day {n}"

    rows = [(purpose, "customer_since", due, w0, w1, "customer") for purpose, due, w0, w1 in lc.ONBOARDING]
    rows += [(f"renewal_{d}", "renewal_date", -d, -d - lc.RENEWAL_EARLY, -d + lc.RENEWAL_LATE, "renewal")
             for d in lc.RENEWAL_DAYS]
    rows.append(("risk_intervention", "flagged_date", lc.RISK_DAYS, 0, lc.RISK_DAYS, "alert"))
    out = pd.DataFrame([{
        "touchpoint": name, "anchor": anchor, "due": day(due, kind), "window_opens": day(w0, kind),
        "window_closes": day(w1, kind), "due_day": due, "open_day": w0, "close_day": w1,
    } for name, anchor, due, w0, w1, kind in rows])
    esc = pd.DataFrame([{"touchpoint": "escalation_response", "anchor": "opened_at",
                         "due": f"{lc.ESCALATION_HOURS} hours later", "window_opens": "hour 0",
                         "window_closes": f"hour {lc.ESCALATION_HOURS} (calendar hours)",
                         "due_day": lc.ESCALATION_HOURS, "open_day": 0, "close_day": lc.ESCALATION_HOURS}])
    out = pd.concat([out, esc], ignore_index=True)
    for col in ("touchpoint", "anchor", "due", "window_opens", "window_closes"):
        out[col] = out[col].astype("str")
    for col in ("due_day", "open_day", "close_day"):
        out[col] = out[col].astype("int64")
    return out
