"""SQLs (service-qualified leads): the qualification checklist, a quality score, conversion by score, and
the seed's example SQL.

The KPIs (``data/README.md``): **SQLs** = the CSM's SQLs created in the period; **SQL pipeline** = Σ
their ``expansion_arr``; **SQL conversion %** = won / (won + lost) among the CSM's SQLs closed in the
period (:func:`kpi_kit.metrics.csm_metrics`). This module adds:

**qualification checklist**
    the seed's four criteria, recorded per SQL in ``sqls.csv`` as booleans: ``need`` (a real business
    need), ``budget``, ``timeline`` and ``stakeholder`` (a decision maker involved).
**quality score** of an SQL
    the share of the four criteria met, in percent: 0, 25, 50, 75 or 100. An SQL with any criterion
    blank has **no score** (``NaN``) — a blank is "not recorded", not "not met". A book without the
    checklist columns has no scores at all.
**average quality score**
    the mean score over the scored SQLs (``None`` when none is scored).

**money**
    ``expansion_arr`` is in the account's currency in ``sqls.csv``; every amount this module returns is
    in ``book.reporting_currency``. In a book with several currencies that is USD at **constant
    currency** — converted at the rates of the period's first day, exactly like the KPI *SQL pipeline*
    (:func:`kpi_kit.metrics.to_reporting_currency`) — so the rows of :func:`sql_quality` add up to it.

Expansion signals from usage (feature adoption < 70 %, seats used ≥ 90 % of purchased) are in
:func:`kpi_kit.strategic.expansion_signals`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import as_of_date, to_reporting_currency
from kpi_kit.periods import Period

__all__ = [
    "CRITERIA", "SEED_EXAMPLE", "SqlAssessment", "SqlQuality", "assess_sql", "conversion_by_score",
    "has_checklist", "quality_scores", "sql_quality",
]

#: The seed's qualification checklist, in order.
CRITERIA: tuple[str, ...] = ("need", "budget", "timeline", "stakeholder")

SCORE_LEVELS: tuple[float, ...] = (0.0, 25.0, 50.0, 75.0, 100.0)
NOT_SCORED = "not scored"


def has_checklist(book: Book) -> bool:
    """True when the book records SQLs and ``sqls.csv`` has all four checklist columns."""
    return book.recorded("sqls") and all(c in book.sqls.columns for c in CRITERIA)


def quality_scores(sqls: pd.DataFrame) -> pd.Series:
    """Quality score (percent) of each SQL row: 100 × criteria met / 4; NaN when any criterion is blank.

    ``sqls`` needs the four :data:`CRITERIA` columns (booleans, blanks allowed).

    >>> rows = pd.DataFrame({"need": [True, True, None], "budget": [True, False, True],
    ...                      "timeline": [True, False, True], "stakeholder": [False, False, True]}, dtype="boolean")
    >>> quality_scores(rows).tolist()
    [75.0, 25.0, nan]
    """
    missing = [c for c in CRITERIA if c not in sqls.columns]
    if missing:
        raise KitError(f"sqls.csv has no column(s) {', '.join(missing)}: the quality score needs the checklist "
                       f"({', '.join(CRITERIA)}) as true/false per SQL")
    checks = sqls[list(CRITERIA)].astype("boolean")
    met = checks.fillna(False).astype("int64").sum(axis=1)
    complete = checks.notna().all(axis=1)
    return (100.0 * met / len(CRITERIA)).where(complete).astype("float64")


@dataclass(frozen=True)
class SqlQuality:
    """The qualification checklist of one CSM's SQLs created in a period (see :func:`sql_quality`)."""

    csm_id: str
    period: Period
    recorded: bool
    table: pd.DataFrame = field(repr=False)
    currency: str = "USD"

    @property
    def pipeline(self) -> float:
        """Σ ``expansion_arr`` of the listed SQLs, in :attr:`currency` — the KPI *SQL pipeline*."""
        return float(self.table["expansion_arr"].sum())

    @property
    def scored(self) -> int:
        return int(self.table["quality_score_pct"].notna().sum()) if self.recorded else 0

    @property
    def average_score_pct(self) -> float | None:
        """Mean quality score over the scored SQLs (None when none is scored or there is no checklist)."""
        if not self.recorded or self.scored == 0:
            return None
        return float(self.table["quality_score_pct"].mean())

    def criterion_rates(self) -> pd.DataFrame:
        """Per criterion: SQLs where it is recorded, where it is met, and the share met (percent)."""
        rows = []
        for c in CRITERIA:
            values = self.table[c].astype("boolean") if self.recorded else pd.Series(dtype="boolean")
            known = int(values.notna().sum())
            met = int(values.fillna(False).astype(bool).sum())
            rows.append({"criterion": c, "recorded": known, "met": met,
                         "met_pct": (100.0 * met / known) if known else np.nan})
        out = pd.DataFrame(rows)
        out["criterion"] = out["criterion"].astype("str")
        out["met_pct"] = out["met_pct"].astype("float64")
        return out

    def _repr_html_(self) -> str:
        if not self.recorded:
            return "<p>This book does not record the SQL qualification checklist.</p>"
        show = self.table.copy()
        show["expansion_arr"] = show["expansion_arr"].map(lambda v: fmt.money(v, self.currency))
        if "expansion_arr_local" in show.columns:
            show["expansion_arr_local"] = [fmt.money(v, c) for v, c in zip(show["expansion_arr_local"], show["currency"])]
        show["quality_score_pct"] = show["quality_score_pct"].map(lambda v: fmt.pct(v, 0))
        return (f"<p>{len(self.table)} SQLs of {fmt.text(self.csm_id)} created in {self.period}, worth "
                f"{fmt.money(self.pipeline, self.currency)}; average quality score "
                f"{fmt.pct(self.average_score_pct)} over {self.scored} scored.</p>" + show.to_html(index=False))


def sql_quality(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> SqlQuality:
    """The CSM's SQLs created in the period with their checklist and quality score.

    Definition
    ----------
    The SQLs counted by the KPI *SQLs*: raised by the CSM (``sqls.csm_id``) with ``created_date`` in
    the period and on or before ``as_of`` (default the period's last day). Score: :func:`quality_scores`.

    Returns
    -------
    SqlQuality
        ``table``: ``sql_id, created_date, account_id, account_name, expansion_arr, status,
        closed_date``, the four criteria (``boolean``), ``criteria_met`` (``Int64``) and
        ``quality_score_pct`` (float, NaN when not scored), newest first; ``recorded`` is False when
        the book has no SQLs or no checklist (then the criteria columns are ``<NA>``).
        ``expansion_arr`` is in ``currency`` (``book.reporting_currency``): in a book with several
        currencies, USD at the rates of the period's first day (the KPI *SQL pipeline*'s conversion,
        so ``pipeline`` equals the KPI), and the table then also has ``currency`` (the account's) and
        ``expansion_arr_local`` (the amount as written in ``sqls.csv``).

    Raises
    ------
    kpi_kit.errors.KitError
        A multi-currency book without the rate needed (the message names the currency and the day).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> q = sql_quality(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> q.average_score_pct is None or 0 <= q.average_score_pct <= 100
    True
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    sqls = book.sqls
    mine = sqls.loc[(sqls["csm_id"] == csm_id) & period.contains(sqls["created_date"]) & (sqls["created_date"] <= day)]
    mine = mine.reset_index(drop=True)
    recorded = has_checklist(book)
    out = mine[["sql_id", "created_date", "account_id", "expansion_arr", "status", "closed_date"]].merge(
        book.accounts[["account_id", "account_name"]], on="account_id", how="left")
    for c in CRITERIA:
        out[c] = mine[c].astype("boolean") if recorded else pd.array([pd.NA] * len(out), dtype="boolean")
    checks = out[list(CRITERIA)]
    out["criteria_met"] = pd.array(checks.fillna(False).astype("int64").sum(axis=1).to_numpy(), dtype="Int64") \
        if recorded else pd.array([pd.NA] * len(out), dtype="Int64")
    out["quality_score_pct"] = quality_scores(out) if recorded else pd.Series(np.nan, index=out.index, dtype="float64")
    local = out["expansion_arr"].astype("float64")
    out["expansion_arr"] = to_reporting_currency(book, out["account_id"], local, period.start_date)
    cols = ["sql_id", "created_date", "account_id", "account_name", "expansion_arr", "status", "closed_date", *CRITERIA,
            "criteria_met", "quality_score_pct"]
    if book.multi_currency:
        out["currency"] = book.account_currency(out["account_id"])
        out["expansion_arr_local"] = local
        cols += ["currency", "expansion_arr_local"]
    out = out.sort_values(["created_date", "sql_id"], ascending=[False, True], kind="mergesort")
    return SqlQuality(csm_id=csm_id, period=period, recorded=recorded, table=out[cols].reset_index(drop=True),
                      currency=book.reporting_currency)


def conversion_by_score(book: Book, period: Period, csm_id: str | None = None,
                        as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """SQL conversion per quality score: do better-qualified SQLs win more often?

    Definition
    ----------
    The SQLs of the KPI *SQL conversion*: closed in the period (``closed_date`` in the period and on or
    before ``as_of``) with status ``won`` or ``lost`` — of one CSM (``sqls.csm_id``) or, with
    ``csm_id=None``, of the whole team. Grouped by quality score (:func:`quality_scores`; SQLs with a
    blank criterion in a ``not scored`` row): ``won``, ``lost``, ``closed`` = won + lost and
    **conversion %** = 100 × won / closed (NaN for an empty row). Summing ``won`` and ``closed`` over
    the rows gives the KPI's parts.

    Returns
    -------
    pandas.DataFrame
        One row per score level 0, 25, 50, 75, 100 (``score`` as text, e.g. ``"75 %"``), plus
        ``not scored`` when there are such SQLs: ``score, won, lost, closed, conversion_pct``. Empty
        (no rows) when the book does not record SQLs or their checklist.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = conversion_by_score(load_book(), Period.parse("2025-01", "2026-09"))
    >>> t["score"].tolist()[:5]
    ['0 %', '25 %', '50 %', '75 %', '100 %']
    """
    day = as_of_date(period, as_of)
    columns = {"score": "str", "won": "int64", "lost": "int64", "closed": "int64", "conversion_pct": "float64"}
    if not has_checklist(book):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    sqls = book.sqls
    if csm_id is not None:
        csm_id = book.check_csm(csm_id)
        sqls = sqls.loc[sqls["csm_id"] == csm_id]
    closed = sqls.loc[period.contains(sqls["closed_date"]) & (sqls["closed_date"] <= day)
                      & sqls["status"].isin(["won", "lost"])]
    score = quality_scores(closed)
    label = score.map(lambda v: f"{v:g} %").where(score.notna(), NOT_SCORED).astype("str")
    frame = pd.DataFrame({"score": label, "won": (closed["status"] == "won").astype("int64"),
                          "lost": (closed["status"] == "lost").astype("int64")})
    grouped = frame.groupby("score")[["won", "lost"]].sum()
    order = [f"{v:g} %" for v in SCORE_LEVELS] + ([NOT_SCORED] if NOT_SCORED in grouped.index else [])
    grouped = grouped.reindex(order, fill_value=0)
    out = pd.DataFrame({"score": pd.array(order, dtype="str")})
    out["won"] = grouped["won"].to_numpy(dtype="int64")
    out["lost"] = grouped["lost"].to_numpy(dtype="int64")
    out["closed"] = out["won"] + out["lost"]
    n = out["closed"].astype("float64")
    out["conversion_pct"] = (100.0 * out["won"] / n.where(n > 0)).astype("float64")
    return out


# --------------------------------------------------------------------------------------------
# the seed's example SQL
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SqlAssessment:
    """One SQL assessed against the checklist, with what it would mean for the account if won."""

    account_arr: float
    expansion_arr: float
    checks: dict[str, bool]
    pipeline_target: float | None = None
    currency: str = "USD"

    @property
    def criteria_met(self) -> int:
        return sum(bool(v) for v in self.checks.values())

    @property
    def quality_score_pct(self) -> float:
        """100 × criteria met / 4."""
        return 100.0 * self.criteria_met / len(CRITERIA)

    @property
    def qualified(self) -> bool:
        """All four criteria met: ready to hand to sales."""
        return self.criteria_met == len(CRITERIA)

    @property
    def missing(self) -> list[str]:
        return [c for c in CRITERIA if not self.checks[c]]

    @property
    def arr_if_won(self) -> float:
        """The account's ARR if the expansion is won: account ARR + expansion ARR."""
        return self.account_arr + self.expansion_arr

    @property
    def expansion_pct(self) -> float | None:
        """The expansion as a percentage of the account's current ARR (None when the ARR is 0)."""
        return None if self.account_arr == 0 else 100.0 * self.expansion_arr / self.account_arr

    @property
    def account_nrr_if_won_pct(self) -> float | None:
        """The account's NRR if won and nothing else changes: 100 × ARR if won / current ARR."""
        return None if self.account_arr == 0 else 100.0 * self.arr_if_won / self.account_arr

    @property
    def share_of_pipeline_target_pct(self) -> float | None:
        """The SQL's expansion ARR as a share of a pipeline target (None without a target)."""
        if not self.pipeline_target:
            return None
        return 100.0 * self.expansion_arr / self.pipeline_target

    def summary(self) -> str:
        c = self.currency
        text = (f"An SQL worth {fmt.money(self.expansion_arr, c)} on a {fmt.money(self.account_arr, c)} account: quality score "
                f"{fmt.pct(self.quality_score_pct, 0)} ({self.criteria_met} of {len(CRITERIA)} criteria)")
        text += "; qualified." if self.qualified else f"; not yet qualified (missing: {', '.join(self.missing)})."
        if self.expansion_pct is not None:
            text += (f" If won, the account grows to {fmt.money(self.arr_if_won, c)} (+{fmt.pct(self.expansion_pct, 0)} "
                     f"of its ARR, an account NRR of {fmt.pct(self.account_nrr_if_won_pct, 0)}).")
        if self.share_of_pipeline_target_pct is not None:
            text += (f" It is {fmt.pct(self.share_of_pipeline_target_pct, 0)} of a "
                     f"{fmt.money(self.pipeline_target, c)} pipeline target.")
        return text

    @property
    def table(self) -> pd.DataFrame:
        """The assessment as one row per figure (``item, value``)."""
        c = self.currency
        rows = [("account ARR", fmt.money(self.account_arr, c)),
                ("expansion ARR (potential)", fmt.money(self.expansion_arr, c)),
                *((c, "yes" if self.checks[c] else "no") for c in CRITERIA),
                ("quality score", fmt.pct(self.quality_score_pct, 0)), ("qualified", "yes" if self.qualified else "no"),
                ("ARR if won", fmt.money(self.arr_if_won, c)), ("expansion, % of ARR", fmt.pct(self.expansion_pct, 0))]
        return pd.DataFrame(rows, columns=["item", "value"]).astype("str")

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.summary())}</p>" + self.table.to_html(index=False)


#: The seed's example SQL: a $50K ARR account with $75K expansion potential, the checklist complete.
SEED_EXAMPLE: dict[str, float | bool] = {
    "account_arr": 50_000.0, "expansion_arr": 75_000.0,
    "need": True, "budget": True, "timeline": True, "stakeholder": True,
}


def assess_sql(account_arr: float, expansion_arr: float, need: bool, budget: bool, timeline: bool,
               stakeholder: bool, pipeline_target: float | None = None, currency: str = "USD") -> SqlAssessment:
    """Assess one SQL: checklist, quality score and what it means for the account if won.

    Definition
    ----------
    quality score = 100 × criteria met / 4; **qualified** = all four met; ARR if won = account ARR +
    expansion ARR; expansion % = 100 × expansion / account ARR; the account's NRR if won (nothing else
    changing) = 100 × ARR if won / account ARR. The seed's example (:data:`SEED_EXAMPLE`): a $50,000
    account, $75,000 potential, checklist complete → score 100 %, qualified, $125,000 if won, +150 %,
    account NRR 250 %. ``currency`` (ISO code, default USD) is the currency of both amounts; it only
    changes how they are displayed (``"€75,000"``).

    Examples
    --------
    >>> ex = assess_sql(**SEED_EXAMPLE)
    >>> ex.quality_score_pct, ex.qualified, ex.arr_if_won, ex.expansion_pct
    (100.0, True, 125000.0, 150.0)
    """
    for name, value in (("account_arr", account_arr), ("expansion_arr", expansion_arr)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= 0:
            raise KitError(f"{name} = {value!r}: expected an amount in {currency} >= 0, e.g. 50000")
    checks = {"need": need, "budget": budget, "timeline": timeline, "stakeholder": stakeholder}
    for name, value in checks.items():
        if not isinstance(value, (bool, np.bool_)):
            raise KitError(f"{name} = {value!r}: expected True or False (is the criterion met?)")
    return SqlAssessment(account_arr=float(account_arr), expansion_arr=float(expansion_arr),
                         checks={k: bool(v) for k, v in checks.items()},
                         pipeline_target=None if pipeline_target is None else float(pipeline_target),
                         currency=str(currency).strip().upper() or "USD")
