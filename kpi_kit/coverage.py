"""Coverage: the share of the book engaged per month and per period, the tiered coverage model and the
weekly coverage rota.

**Coverage %** (``data/README.md``) = book accounts with at least one activity of any type (by anyone,
automated included) in the period / book size. This module adds the views the seed teaches with:

* :func:`monthly_coverage` — the KPI month by month and for the whole period;
* :func:`tiered_coverage` — a blended coverage target from tiers of accounts with their own targets
  (the seed's model: 10 high-touch accounts at 100 %, 20 mid-touch at 90 %, 20 low-touch at 80 %), and
  :func:`book_tiered_coverage`, the same model on a CSM's book with the segments as tiers;
* :func:`coverage_rota` — the seed's weekly rota (week 1 accounts A–L, week 2 M–Z, week 3 at-risk,
  week 4 renewing in 90 days) built from the book.

Every function is pure. When the book does not record activities the covered counts are ``<NA>`` and
percentages NaN/None — never 0.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import account_arr, as_of_date, csm_metrics
from kpi_kit.periods import Period

__all__ = [
    "ROTA_WEEKS", "SEED_CLAIMED_PCT", "SEED_TIERS", "SEGMENT_TIERS", "CoverageRota", "Tier", "TieredCoverage",
    "book_tiered_coverage", "coverage_rota", "monthly_coverage", "rota_week", "tiered_coverage", "uncovered_accounts",
]


# --------------------------------------------------------------------------------------------
# coverage per month and per period
# --------------------------------------------------------------------------------------------

def monthly_coverage(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Coverage % of the CSM's book for each month of the period, then for the whole period.

    Definition
    ----------
    A month's row is the coverage KPI for the one-month period M..M
    (:func:`kpi_kit.strategic.coverage_matrix`): the book of M (ARR > 0 at the end of M − 1 or of M)
    and activities dated in M. The last row (``scope`` = ``period``) is the KPI for the whole period
    (:func:`kpi_kit.metrics.csm_metrics`): an account touched in any month counts, so the period's
    coverage is at least as high as the lowest month's when the book does not change.

    Returns
    -------
    pandas.DataFrame
        ``scope`` (``month`` / ``period``), ``label`` (``"YYYY-MM"`` or ``"START..END"``),
        ``book_accounts, covered_accounts`` (``Int64``, covered ``<NA>`` without activity data) and
        ``coverage_pct`` (float).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = monthly_coverage(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> t["label"].tolist()
    ['2026-07', '2026-08', '2026-09', '2026-07..2026-09']
    """
    from kpi_kit.strategic import coverage_matrix

    csm_id = book.check_csm(csm_id)
    months = coverage_matrix(book, period, as_of)
    months = months.loc[months["csm_id"] == csm_id]
    m = csm_metrics(book, csm_id, period, as_of=as_of)
    rows = pd.DataFrame({
        "scope": ["month"] * len(months) + ["period"],
        "label": [*months["month"].astype("str"), str(period)],
        "book_accounts": [*months["book_accounts"], m["book_accounts"]],
        "covered_accounts": [*months["covered_accounts"], m["covered_accounts"]],
    })
    out = pd.DataFrame({"scope": rows["scope"].astype("str"), "label": rows["label"].astype("str")})
    out["book_accounts"] = pd.array([int(v) for v in rows["book_accounts"]], dtype="Int64")
    out["covered_accounts"] = pd.array([pd.NA if fmt.is_missing(v) else int(v) for v in rows["covered_accounts"]],
                                       dtype="Int64")
    book_n = out["book_accounts"].astype("float64")
    out["coverage_pct"] = (100.0 * out["covered_accounts"].astype("float64") / book_n.where(book_n > 0)).astype("float64")
    return out


def uncovered_accounts(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The CSM's book accounts with no activity at all in the period (the complement of coverage).

    Definition
    ----------
    Book accounts of the period (ARR > 0 in the month before START or in END) with no activity of any
    type, by anyone, dated in the period and on or before ``as_of`` (default the period's last day) —
    exactly the accounts the coverage KPI counts as not covered. ``last_touch`` is the latest activity
    on the account before the period (``NaT`` if none).

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, segment, arr`` (ARR in END) and ``last_touch``, largest ARR first.
        Empty with ``attrs["recorded"]`` False when activities are not recorded.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> list(uncovered_accounts(load_book(), "csm_04", Period.parse("2026-07", "2026-09")).columns)
    ['account_id', 'account_name', 'segment', 'arr', 'last_touch']
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    acc = account_arr(book, period, csm_id)
    books = acc.loc[acc["in_book"], ["account_id", "account_name", "segment", "end"]].rename(columns={"end": "arr"})
    acts = book.activities
    acts = acts.loc[acts["account_id"].isin(books["account_id"]) & (acts["date"] <= day)]
    touched = acts.loc[period.contains(acts["date"]), "account_id"].unique()
    last = acts.loc[acts["date"] < period.start_date].groupby("account_id")["date"].max()
    out = books.loc[~books["account_id"].isin(touched)].copy()
    out["last_touch"] = pd.Series(last.reindex(out["account_id"]).to_numpy(), index=out.index).astype("datetime64[us]")
    return activity_account_list(book, out)


# --------------------------------------------------------------------------------------------
# the tiered coverage model
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tier:
    """A tier of accounts with its coverage target (percent); ``covered`` = accounts actually engaged."""

    name: str
    accounts: int
    target_pct: float
    covered: int | None = None


#: The seed's tiered model: 10 high-touch accounts at 100 %, 20 mid-touch at 90 %, 20 low-touch at 80 %.
SEED_TIERS: tuple[Tier, ...] = (Tier("high-touch", 10, 100.0), Tier("mid-touch", 20, 90.0), Tier("low-touch", 20, 80.0))
#: What the seed says the model achieves ("90 % achieved") — which its own numbers do not give.
SEED_CLAIMED_PCT: float = 90.0
#: Segments as tiers on a real book, with the seed's tier targets.
SEGMENT_TIERS: dict[str, tuple[str, float]] = {
    "enterprise": ("high-touch", 100.0), "mid-market": ("mid-touch", 90.0), "smb": ("low-touch", 80.0),
}


@dataclass(frozen=True)
class TieredCoverage:
    """A blended coverage target from tiers (see :func:`tiered_coverage`)."""

    tiers: tuple[Tier, ...]
    claimed_pct: float | None
    table: pd.DataFrame = field(repr=False)

    @property
    def accounts(self) -> int:
        return int(self.table["accounts"].sum())

    @property
    def target_accounts(self) -> float:
        """Σ accounts × target % / 100: how many accounts the tiers' targets engage."""
        return float(self.table["target_accounts"].sum())

    @property
    def blended_target_pct(self) -> float | None:
        """100 × Σ(accounts × target %) / 100 / Σ accounts — the accounts-weighted target (None: no accounts)."""
        return None if self.accounts == 0 else 100.0 * self.target_accounts / self.accounts

    @property
    def simple_average_pct(self) -> float | None:
        """The unweighted mean of the tier targets — the usual mistake (it ignores tier sizes)."""
        return None if not self.tiers else float(np.mean([t.target_pct for t in self.tiers]))

    @property
    def covered(self) -> int | None:
        """Accounts actually engaged over all tiers (None when a tier has no actual)."""
        if any(t.covered is None for t in self.tiers):
            return None
        return int(sum(t.covered or 0 for t in self.tiers))

    @property
    def actual_pct(self) -> float | None:
        """100 × covered / accounts over all tiers (None without actuals or accounts)."""
        covered = self.covered
        return None if covered is None or self.accounts == 0 else 100.0 * covered / self.accounts

    @property
    def claim_holds(self) -> bool | None:
        """Whether the claimed coverage follows from the tiers' numbers (None when nothing is claimed)."""
        blended = self.blended_target_pct
        if self.claimed_pct is None or blended is None:
            return None
        return abs(blended - self.claimed_pct) < 1e-9

    def verdict(self) -> str:
        """The blended figure in words and, when a figure is claimed, whether it follows."""
        blended = self.blended_target_pct
        if blended is None:
            return "No accounts in any tier, so there is no blended coverage."
        sizes = " + ".join(f"{t.accounts} × {t.target_pct:g} %" for t in self.tiers)
        text = (f"The tiers engage ({sizes}) = {self.target_accounts:g} of {self.accounts} accounts: "
                f"a blended coverage of {fmt.pct(blended)}.")
        if self.claim_holds is False:
            need = int(np.ceil(round(self.claimed_pct / 100 * self.accounts - self.target_accounts, 9)))
            text += (f" The claimed {fmt.pct(self.claimed_pct)} does not follow from these numbers: it would take "
                     f"{fmt.count(self.claimed_pct / 100 * self.accounts)} engaged accounts, {need} more than the tiers' "
                     "targets give.")
            if self.simple_average_pct is not None and abs(self.simple_average_pct - self.claimed_pct) < 1e-9:
                text += (f" {fmt.pct(self.claimed_pct)} is the plain average of the tier targets, which ignores that "
                         "the tiers differ in size.")
        elif self.claim_holds:
            text += f" That is the claimed {fmt.pct(self.claimed_pct)}."
        return text

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.verdict())}</p>" + self.table.to_html(index=False)


def tiered_coverage(tiers: Sequence[Tier], claimed_pct: float | None = None) -> TieredCoverage:
    """Blend tiers of accounts with different coverage targets into one coverage figure.

    Definition
    ----------
    Each tier engages ``accounts × target_pct / 100`` accounts; the **blended coverage** is
    ``100 × Σ(accounts × target_pct / 100) / Σ accounts`` — a mean of the targets *weighted by the
    number of accounts*, not their plain average. The seed's model (:data:`SEED_TIERS`):
    (10 × 1.0 + 20 × 0.9 + 20 × 0.8) / 50 = 44 / 50 = **88 %** — so its "90 % achieved"
    (:data:`SEED_CLAIMED_PCT`) does not follow from its own numbers (90 % is the plain average of
    100, 90 and 80). With ``covered`` given per tier the table also shows the actual coverage.

    Parameters
    ----------
    tiers
        The tiers (name, accounts ≥ 0, target 0–100, optional covered accounts 0..accounts).
    claimed_pct
        A coverage figure claimed for the model, checked by :attr:`TieredCoverage.claim_holds`.

    Returns
    -------
    TieredCoverage
        ``table``: one row per tier — ``tier, accounts, target_pct, target_accounts`` (accounts ×
        target / 100, may be fractional), ``covered`` (``Int64``) and ``coverage_pct``.

    Examples
    --------
    >>> model = tiered_coverage(SEED_TIERS, SEED_CLAIMED_PCT)
    >>> round(model.blended_target_pct, 2), model.target_accounts, model.claim_holds
    (88.0, 44.0, False)
    """
    if not tiers:
        raise KitError("tiered_coverage: give at least one tier (name, accounts, target_pct)")
    for t in tiers:
        if isinstance(t.accounts, bool) or not isinstance(t.accounts, (int, np.integer)) or t.accounts < 0:
            raise KitError(f"tier {t.name!r}: accounts = {t.accounts!r}; expected a whole number >= 0")
        if not 0 <= float(t.target_pct) <= 100:
            raise KitError(f"tier {t.name!r}: target_pct = {t.target_pct!r}; expected a percentage from 0 to 100")
        if t.covered is not None and not 0 <= t.covered <= t.accounts:
            raise KitError(f"tier {t.name!r}: covered = {t.covered!r}; expected 0 to {t.accounts} (the tier's accounts)")
    if claimed_pct is not None and not 0 <= float(claimed_pct) <= 100:
        raise KitError(f"claimed_pct = {claimed_pct!r}; expected a percentage from 0 to 100")
    table = pd.DataFrame({
        "tier": pd.array([t.name for t in tiers], dtype="str"),
        "accounts": np.array([t.accounts for t in tiers], dtype="int64"),
        "target_pct": np.array([t.target_pct for t in tiers], dtype="float64"),
    })
    table["target_accounts"] = table["accounts"] * table["target_pct"] / 100.0
    table["covered"] = pd.array([t.covered for t in tiers], dtype="Int64")
    n = table["accounts"].astype("float64")
    table["coverage_pct"] = (100.0 * table["covered"].astype("float64") / n.where(n > 0)).astype("float64")
    return TieredCoverage(tiers=tuple(tiers), claimed_pct=None if claimed_pct is None else float(claimed_pct),
                          table=table)


def book_tiered_coverage(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> TieredCoverage:
    """The tiered model on the CSM's book: segments as tiers with the seed's tier targets.

    Definition
    ----------
    Tiers (:data:`SEGMENT_TIERS`): enterprise = high-touch (100 %), mid-market = mid-touch (90 %),
    SMB = low-touch (80 %). ``accounts`` and ``covered`` per tier come from
    :func:`kpi_kit.strategic.coverage_by_segment` (the coverage KPI per segment), so the blended
    target is what the seed's model asks of *this* book and ``actual_pct`` is the coverage KPI.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> model = book_tiered_coverage(load_book(), "csm_04", Period.parse("2026-07", "2026-09"))
    >>> model.blended_target_pct
    100.0
    """
    from kpi_kit.strategic import coverage_by_segment

    cov = coverage_by_segment(book, csm_id, period, as_of)
    tiers = []
    for r in cov.itertuples(index=False):
        name, target = SEGMENT_TIERS.get(str(r.segment), (str(r.segment), 80.0))
        covered = None if pd.isna(r.covered_accounts) else int(r.covered_accounts)
        tiers.append(Tier(f"{name} ({r.segment})", int(r.book_accounts), target, covered))
    if not tiers:
        raise KitError(f"{csm_id} has no book accounts in {period}: there is nothing to cover")
    return tiered_coverage(tiers)


# --------------------------------------------------------------------------------------------
# the weekly coverage rota
# --------------------------------------------------------------------------------------------

#: The seed's four-week rota: week, focus.
ROTA_WEEKS: tuple[tuple[int, str], ...] = (
    (1, "accounts A–L"), (2, "accounts M–Z"), (3, "at-risk accounts"), (4, "renewing in the next 90 days"),
)


def rota_week(name: str) -> int:
    """Week 1 or 2 of the rota for an account name: first letter A–L → 1, M–Z → 2.

    Accents are ignored (``Émile`` → E → week 1); a name that starts with a digit or a symbol goes to
    week 1, as does an empty name (it sorts before "A").

    >>> rota_week("Acme"), rota_week("lumen"), rota_week("Meridian"), rota_week("Émile"), rota_week("3M")
    (1, 1, 2, 1, 1)
    """
    plain = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").strip().upper()
    first = plain[:1]
    return 2 if "M" <= first <= "Z" else 1


@dataclass(frozen=True)
class CoverageRota:
    """The four-week coverage rota of one CSM (see :func:`coverage_rota`)."""

    csm_id: str
    as_of: str
    table: pd.DataFrame = field(repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """Accounts and ARR per week."""
        grouped = self.table.groupby(["week", "focus"], sort=True).agg(accounts=("account_id", "size"),
                                                                      arr=("arr", "sum"))
        weeks = pd.MultiIndex.from_tuples(ROTA_WEEKS, names=["week", "focus"])
        grouped = grouped.reindex(weeks, fill_value=0).reset_index()
        grouped["accounts"] = grouped["accounts"].astype("int64")
        grouped["arr"] = grouped["arr"].astype("float64")
        grouped["focus"] = grouped["focus"].astype("str")
        return grouped

    def week(self, n: int) -> pd.DataFrame:
        """The accounts of week ``n`` (1–4)."""
        return self.table.loc[self.table["week"] == n].reset_index(drop=True)

    def _repr_html_(self) -> str:
        return (f"<p>Coverage rota for {fmt.text(self.csm_id)} as of {self.as_of}</p>"
                + self.summary.to_html(index=False))


def coverage_rota(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> CoverageRota:
    """The seed's weekly coverage rota built from the CSM's book.

    Definition
    ----------
    Live accounts = the CSM's book accounts of the period with ARR > 0 in END. As of ``as_of``
    (default the period's last day):

    * week 1 — live accounts whose name starts with A–L (and names starting with a digit or symbol),
      week 2 — M–Z (:func:`rota_week`): every live account is in exactly one of weeks 1–2, so the rota
      engages the whole book every month;
    * week 3 — the at-risk accounts (:func:`kpi_kit.strategic.at_risk_accounts`: an open risk alert or
      health below 50);
    * week 4 — the accounts renewing in the 90 days after ``as_of``
      (:func:`kpi_kit.strategic.renewals_due`).

    Weeks 3 and 4 repeat accounts from weeks 1–2 on purpose: they get a second, focused touch.

    Returns
    -------
    CoverageRota
        ``table``: ``week, focus, account_id, account_name, segment, arr`` (ARR in END) and ``reason``
        (why the account is in week 3 or 4), sorted by week then account name.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> rota = coverage_rota(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> rota.summary["week"].tolist()
    [1, 2, 3, 4]
    """
    from kpi_kit.strategic import at_risk_accounts, renewals_due

    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    acc = account_arr(book, period, csm_id)
    live = acc.loc[acc["in_book"] & (acc["end"] > 0), ["account_id", "account_name", "segment", "end"]]
    live = live.rename(columns={"end": "arr"})
    alpha = live.assign(week=live["account_name"].map(rota_week).astype("int64"), reason="")
    risk = at_risk_accounts(book, csm_id, period, day)
    risk = risk.loc[risk["account_id"].isin(live["account_id"]), ["account_id", "account_name", "segment", "arr", "reason"]]
    due = renewals_due(book, csm_id, day, 90, period)
    due = due.loc[due["account_id"].isin(live["account_id"])]
    due = due.assign(reason="renews " + due["renewal_date"].dt.strftime("%Y-%m-%d").astype("str")
                     + " (in " + due["days_to_renewal"].astype("str") + " days)")
    frames = [alpha, risk.assign(week=3), due[["account_id", "account_name", "segment", "arr", "reason"]].assign(week=4)]
    table = pd.concat(frames, ignore_index=True)
    focus = dict(ROTA_WEEKS)
    table["week"] = table["week"].astype("int64")
    table["focus"] = table["week"].map(focus).astype("str")
    table["arr"] = table["arr"].astype("float64")
    for col in ("account_id", "account_name", "segment", "reason"):
        table[col] = table[col].astype("str")
    table = table.sort_values(["week", "account_name", "account_id"], kind="mergesort")
    table = table[["week", "focus", "account_id", "account_name", "segment", "arr", "reason"]].reset_index(drop=True)
    return CoverageRota(csm_id=csm_id, as_of=str(day.date()), table=table)


def activity_account_list(book: Book, accounts: pd.DataFrame) -> pd.DataFrame:
    """An account list judged on activities, ready to show: ARR as float, largest first (ties by id),
    empty when the book does not record activities; ``attrs["recorded"]`` says which."""
    out = accounts.assign(arr=accounts["arr"].astype("float64"))
    recorded = book.recorded("activities")
    if not recorded:
        out = out.iloc[0:0]
    out = out.sort_values(["arr", "account_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out.attrs["recorded"] = recorded
    return out
