"""The eight CSM indicators, computed for every CSM of a book in vectorized passes.

Definitions are exact and written in ``data/README.md`` ("Definitions"); the short version:

Leading indicators
    ``calls`` (call, meeting, qbr by the CSM), ``touchpoints`` (all activities by the CSM), ``qbrs``,
    ``coverage_pct`` (book accounts touched by anyone / book size), ``renewals_90d_contacted_pct``,
    ``sqls`` / ``sql_pipeline`` / ``sql_conversion_pct`` and ``lifecycle_compliance_pct``.
Lagging indicators
    ``grr_pct`` = 100 × Σ min(end, begin) / Σ begin over the beginning cohort, ``nrr_pct`` = 100 × Σ end /
    Σ begin, ``logo_churn_pct``, ``revenue_churn_pct`` = 100 − GRR (and ``*_monthly_pct`` equivalents),
    ``closed_alert_pct`` (saved / (saved + churned) among alerts flagged in the period).

Every percentage is recomputed from additive *parts* (``retained_arr``, ``cohort_accounts``,
``covered_accounts``, ``sqls_won`` …) that are reported too, so a team roll-up (:func:`rollup`) sums
the parts and recomputes — it never averages percentages. A ratio with an empty denominator is
``None``. KPIs whose data the source system does not record (``book.not_recorded``) are ``None``.

Money is reported in ``book.reporting_currency``. A book whose accounts are in several currencies is
reported in USD at **constant currency**: beginning and ending ARR (and the SQL pipeline) are converted
at the rates of the period's first day, so GRR/NRR show what customers did; what exchange rates did is
the separate part ``fx_effect`` (cohort ending ARR at period-end rates minus at start rates), never
expansion or contraction (see :func:`account_arr`).

Implementation: one vectorized pass for the whole team; there is no Python loop over CSMs or accounts.
Ids are turned into integer positions once and every part is a per-CSM tally over them (:func:`_tally`);
activities are cut by date to what the period and the 90-day renewal look-back use before any id is
looked at. :func:`csm_metrics` filters the book to one CSM first, then runs the same code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kpi_kit import lifecycle
from kpi_kit.data import Book
from kpi_kit.periods import Period

#: Keys of ``kpi-kit metrics --json`` (the CLI contract), in order.
CONTRACT_KEYS: tuple[str, ...] = (
    "csm_id", "start", "end", "calls", "touchpoints", "qbrs", "coverage_pct", "sqls", "sql_pipeline",
    "sql_conversion_pct", "lifecycle_compliance_pct", "grr_pct", "nrr_pct", "logo_churn_pct",
    "revenue_churn_pct", "closed_alert_pct", "beginning_arr", "ending_arr", "expansion_arr",
    "contraction_arr", "churned_arr", "new_arr", "fx_effect",
)

#: Additive parts: summing them over CSMs gives the team's parts.
PART_KEYS: tuple[str, ...] = (
    "calls", "touchpoints", "qbrs", "book_accounts", "covered_accounts", "cohort_accounts",
    "churned_accounts", "new_accounts", "unknown_arr_accounts", "beginning_arr", "ending_arr", "retained_arr", "expansion_arr",
    "contraction_arr", "churned_arr", "new_arr", "sqls", "sql_pipeline", "sqls_won", "sqls_lost",
    "alerts_saved", "alerts_churned", "open_alerts", "lifecycle_met", "lifecycle_overdue",
    "lifecycle_pending", "renewals_90d", "renewals_90d_contacted", "fx_effect",
)

#: Parts that are money (in ``book.reporting_currency``); the others are counts.
MONEY_KEYS: tuple[str, ...] = tuple(k for k in PART_KEYS if k.endswith("_arr") or k in ("sql_pipeline", "fx_effect"))

#: Parts that are counts (shown as whole numbers).
COUNT_KEYS: tuple[str, ...] = tuple(k for k in PART_KEYS if k not in MONEY_KEYS)

PCT_KEYS: tuple[str, ...] = (
    "coverage_pct", "renewals_90d_contacted_pct", "sql_conversion_pct", "lifecycle_compliance_pct",
    "grr_pct", "nrr_pct", "logo_churn_pct", "logo_churn_monthly_pct", "revenue_churn_pct",
    "revenue_churn_monthly_pct", "closed_alert_pct",
)

#: Which recorded source each part depends on.
_NEEDS: dict[str, str] = {
    "calls": "activities", "touchpoints": "activities", "qbrs": "activities",
    "covered_accounts": "activities", "renewals_90d_contacted": "activities",
    "sqls": "sqls", "sql_pipeline": "sqls", "sqls_won": "sqls", "sqls_lost": "sqls",
    "alerts_saved": "risk_alerts", "alerts_churned": "risk_alerts", "open_alerts": "risk_alerts",
    # Lifecycle compliance is judged on CSM activities; without them (e.g. the RavenStack import, whose
    # escalation "engagement" is support's first response) it is no data, not a compliance figure.
    "lifecycle_met": "activities", "lifecycle_overdue": "activities", "lifecycle_pending": "activities",
}

CALL_TYPES = ("call", "meeting", "qbr")


def as_of_date(period: Period, as_of: str | pd.Timestamp | None) -> pd.Timestamp:
    """The date the figures speak from: ``as_of`` if given, else the last day of the period."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return period.end_date
    try:
        if isinstance(as_of, str):  # ISO only: "01/02/2026" is ambiguous (day or month first)
            return pd.to_datetime(as_of.strip(), format="%Y-%m-%d")
        return pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        from kpi_kit.errors import KitError

        raise KitError(f"as_of {as_of!r} is not a date; write it as YYYY-MM-DD") from None


def attributed(book: Book, period: Period, attribution: str = "start") -> Book:
    """The book with each account owned by the CSM who answers for it in ``period``.

    ``attribution="start"`` (default): the owner on the first day of the period answers for the
    whole cohort, whatever happens later; ``"end"``: the owner on the last day. Only matters when the
    book has ``assignments.csv`` (ownership history); every account is counted exactly once either way.
    """
    if attribution not in ("start", "end"):
        from kpi_kit.errors import KitError

        raise KitError(f"attribution {attribution!r} is not known; use start or end")
    return book.with_owners(period.start_date if attribution == "start" else period.end_date)


def book_changes(book: Book, period: Period) -> pd.DataFrame:
    """Accounts whose owner changed during the period (owner on the first vs the last day)."""
    before, after = book.owners(period.start_date), book.owners(period.end_date)
    moved = before != after
    return pd.DataFrame({
        "account_id": book.accounts.loc[moved, "account_id"], "account_name": book.accounts.loc[moved, "account_name"],
        "from_csm": before[moved], "to_csm": after[moved],
    }).reset_index(drop=True)


def to_reporting_currency(book: Book, account_ids: pd.Series, amounts: pd.Series,
                          on: pd.Timestamp) -> pd.Series:
    """Amounts in their account's currency converted to ``book.reporting_currency`` at the rates of day ``on``.

    ``converted = amount × usd_per_unit(account currency, on)`` for a book in several currencies, where the
    rate "on" a day is the latest ``fx_rates.csv`` rate dated on or before it and at most 31 days old
    (:func:`kpi_kit.fx.rate_on`); a single-currency book is returned unchanged (its own currency is the
    reporting currency, no rates needed). Zero and missing amounts need no rate and stay as they are.

    Raises
    ------
    kpi_kit.errors.KitError
        A needed rate is missing: the message names every currency and date (:func:`kpi_kit.fx.to_usd`).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> book = load_book()   # one currency (USD): nothing to convert
    >>> to_reporting_currency(book, pd.Series(["x"]), pd.Series([100.0]), pd.Timestamp("2026-07-01")).tolist()
    [100.0]
    """
    amounts = amounts.astype("float64")
    if not book.multi_currency:
        return amounts
    from kpi_kit.fx import to_usd

    live = amounts.notna() & (amounts != 0)
    if not live.any():
        return amounts
    out = amounts.copy()
    out.loc[live] = to_usd(amounts.loc[live], book.account_currency(account_ids.loc[live]), book.fx_rates, on)
    return out


def account_arr(book: Book, period: Period, csm_id: str | None = None) -> pd.DataFrame:
    """One row per account (optionally of one owner) with its beginning/ending ARR and movement.

    Columns: ``account_id, account_name, csm_id, segment, begin, end, arr_unknown, in_book, in_cohort,
    churned, expansion, contraction, retained, new, fx_effect`` (money in ``book.reporting_currency``). An
    account whose ARR row at either end has a blank value has ``arr_unknown``: it is in the book (coverage
    and lifecycle denominators) but in no ARR sum and never churned; ``begin``/``end`` are NaN.

    In a book with several currencies, ``begin`` and ``end`` are in USD at **constant currency**: both
    converted at the rates of ``period.start_date`` (:func:`to_reporting_currency`), so every movement
    column measures customers, not exchange rates. ``fx_effect`` = ending ARR at the rates of
    ``period.end_date`` minus ending ARR at the start rates, for cohort accounts (0 elsewhere, and 0 in a
    single-currency book): the change a finance report at period-end rates would add on top.
    """
    accounts = book.accounts
    if csm_id is not None:
        accounts = accounts.loc[accounts["csm_id"] == csm_id]
    arr = book.arr_monthly
    at_begin = arr.loc[arr["month"] == period.before]
    at_end = arr.loc[arr["month"] == period.end]
    out = accounts[["account_id", "account_name", "csm_id", "segment"]].copy()
    # a missing row is ARR 0; a row with a blank value is unknown (left out of every ARR sum)
    unknown = out["account_id"].isin(at_begin.loc[at_begin["arr"].isna(), "account_id"]) | \
        out["account_id"].isin(at_end.loc[at_end["arr"].isna(), "account_id"])
    out["begin"] = out["account_id"].map(at_begin.set_index("account_id")["arr"]).fillna(0.0).astype("float64")
    out["end"] = out["account_id"].map(at_end.set_index("account_id")["arr"]).fillna(0.0).astype("float64")
    end_local = out["end"]
    out["begin"] = to_reporting_currency(book, out["account_id"], out["begin"], period.start_date)
    out["end"] = to_reporting_currency(book, out["account_id"], end_local, period.start_date)
    end_at_end_rates = to_reporting_currency(book, out["account_id"], end_local, period.end_date)
    out["arr_unknown"] = unknown
    out["in_cohort"] = (out["begin"] > 0) & ~unknown
    out["in_book"] = out["in_cohort"] | (out["end"] > 0) | unknown
    cohort = out["in_cohort"]
    out["churned"] = cohort & (out["end"] == 0)
    out["retained"] = np.where(cohort, np.minimum(out["begin"], out["end"]), 0.0)
    out["expansion"] = np.where(cohort, np.maximum(out["end"] - out["begin"], 0.0), 0.0)
    out["contraction"] = np.where(cohort & (out["end"] > 0), np.maximum(out["begin"] - out["end"], 0.0), 0.0)
    out["new"] = np.where(~cohort & out["in_book"] & ~unknown, out["end"], 0.0)
    out["fx_effect"] = np.where(cohort, end_at_end_rates - out["end"], 0.0)
    out.loc[unknown, ["begin", "end"]] = np.nan
    return out.reset_index(drop=True)


def _csm_codes(csm_ids: pd.Series, csm_index: pd.Index) -> np.ndarray:
    """Position of each row's CSM in ``csm_index`` (-1 for a CSM not in it): ids become integers once.

    Every per-CSM tally below counts or sums over these integer codes instead of grouping the text ids
    again and again (grouping 5 million text ids costs far more than grouping their integer positions).
    """
    return csm_index.get_indexer(csm_ids)


def _tally(codes: np.ndarray, n: int, mask: pd.Series | np.ndarray | None = None,
           values: pd.Series | None = None) -> np.ndarray:
    """Per-CSM count of the rows where ``mask`` (or the sum of their ``values``), one entry per CSM code.

    Parameters
    ----------
    codes
        Each row's CSM position (:func:`_csm_codes`); rows with -1 (not a listed CSM) are left out.
    n
        Number of CSMs; the result has ``n`` entries, 0 for a CSM without rows.
    mask
        Rows to count (boolean, aligned with ``codes``); all rows when None.
    values
        When given, the sum of these values over the counted rows (missing values count as 0, like
        pandas' ``groupby().sum()``, which does the summing) instead of the number of rows.

    Examples
    --------
    >>> _tally(np.array([0, 1, 1, -1]), 3).tolist()                        # CSM 2 has no rows
    [1, 2, 0]
    >>> _tally(np.array([0, 1, 1]), 2, values=pd.Series([5.0, 1.0, 2.5])).tolist()
    [5.0, 3.5]
    """
    keep = codes >= 0
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool)
    if values is None:
        return np.bincount(codes[keep], minlength=n).astype("int64")
    sums = pd.Series(np.asarray(values)[keep]).groupby(codes[keep]).sum()
    return sums.reindex(range(n), fill_value=0).to_numpy()


def metric_parts(book: Book, period: Period, as_of: str | pd.Timestamp | None = None,
                 csm_id: str | None = None, attribution: str = "start") -> pd.DataFrame:
    """The additive parts of every KPI, one row per CSM (index ``csm_id``).

    With ``csm_id`` the book is filtered to that CSM first. Parts whose source is not recorded are NaN.
    Account ownership follows ``attribution`` (see :func:`attributed`).

    Implementation: ids are turned into integer positions once (CSMs: :func:`_csm_codes`; accounts:
    positions in the book's account list) and every part is a :func:`_tally` over them; activities are
    first cut to the dates any part can use (the period and the 90 days up to ``as_of``).
    """
    book = attributed(book, period, attribution)
    day = as_of_date(period, as_of)
    csm_index = pd.Index(book.csms["csm_id"] if csm_id is None else [csm_id], name="csm_id", dtype="str")
    n = len(csm_index)
    acc = account_arr(book, period, csm_id)
    books = acc.loc[acc["in_book"]].reset_index(drop=True)
    book_index = pd.Index(books["account_id"])  # account ids are unique (validated by load_book)
    book_csm = _csm_codes(books["csm_id"], csm_index)
    parts = pd.DataFrame(index=csm_index)

    def per_csm(mask: pd.Series | np.ndarray | None = None, values: pd.Series | None = None) -> np.ndarray:
        return _tally(book_csm, n, mask, values)

    parts["book_accounts"] = per_csm()
    parts["cohort_accounts"] = per_csm(books["in_cohort"])
    parts["churned_accounts"] = per_csm(books["churned"])
    parts["new_accounts"] = per_csm(~books["in_cohort"] & ~books["arr_unknown"])
    parts["unknown_arr_accounts"] = per_csm(books["arr_unknown"])
    for part, column in (("beginning_arr", "begin"), ("retained_arr", "retained"), ("expansion_arr", "expansion"),
                         ("contraction_arr", "contraction"), ("new_arr", "new")):
        parts[part] = per_csm(values=books[column]).astype("float64")
    parts["ending_arr"] = per_csm(books["in_cohort"], values=books["end"]).astype("float64")
    parts["churned_arr"] = per_csm(books["churned"], values=books["begin"]).astype("float64")
    parts["fx_effect"] = per_csm(values=books["fx_effect"]).astype("float64")

    # -- activities ------------------------------------------------------------------------------
    # Only activities up to ``day`` dated in the period (calls, touchpoints, coverage) or in the 90 days up
    # to ``day`` (renewal contact) are used: cut them out once by date, then work on that slice.
    acts = book.activities
    dates = acts["date"]
    ninety = pd.Timedelta(days=90)
    used = (dates <= day) & ((dates >= period.start_date) | (dates > day - ninety))
    win = acts.loc[used, ["date", "account_id", "csm_id", "type"]]
    in_period = (period.contains(win["date"]) & (win["date"] <= day)).to_numpy()
    win_csm = _csm_codes(win["csm_id"], csm_index)
    win_account = book_index.get_indexer(win["account_id"])  # -1: not a book account
    types = win["type"]
    parts["calls"] = _tally(win_csm, n, in_period & types.isin(CALL_TYPES).to_numpy())
    parts["touchpoints"] = _tally(win_csm, n, in_period)
    parts["qbrs"] = _tally(win_csm, n, in_period & (types == "qbr").to_numpy())
    touched = np.zeros(len(books), dtype=bool)
    touched[win_account[in_period & (win_account >= 0)]] = True  # touched by anyone in the period
    parts["covered_accounts"] = per_csm(touched)

    own = book.accounts.drop_duplicates("account_id").set_index("account_id")["renewal_date"]
    renewal = own.reindex(book_index)
    renewing = (renewal.notna() & (renewal > day) & (renewal <= day + ninety)).to_numpy()
    recent = ((win["date"] > day - ninety) & (types != "automated_email")).to_numpy()
    contacted = np.zeros(len(books), dtype=bool)
    contacted[win_account[recent & (win_account >= 0)]] = True
    parts["renewals_90d"] = per_csm(renewing)
    parts["renewals_90d_contacted"] = per_csm(renewing & contacted)

    # -- SQLs --------------------------------------------------------------------------------------
    sqls = book.sqls if csm_id is None else book.sqls.loc[book.sqls["csm_id"] == csm_id]
    created = period.contains(sqls["created_date"]) & (sqls["created_date"] <= day)
    if book.multi_currency:  # the pipeline at constant currency: the period's first-day rates
        sqls = sqls.assign(expansion_arr=to_reporting_currency(
            book, sqls["account_id"], sqls["expansion_arr"].where(created, 0.0), period.start_date))
    closed = period.contains(sqls["closed_date"]) & (sqls["closed_date"] <= day)
    sql_csm = _csm_codes(sqls["csm_id"], csm_index)
    parts["sqls"] = _tally(sql_csm, n, created)
    parts["sql_pipeline"] = _tally(sql_csm, n, created, values=sqls["expansion_arr"]).astype("float64")
    parts["sqls_won"] = _tally(sql_csm, n, closed & (sqls["status"] == "won"))
    parts["sqls_lost"] = _tally(sql_csm, n, closed & (sqls["status"] == "lost"))

    # -- risk alerts on the CSM's book accounts (the book owner answers for them) -------------------
    alerts = book.risk_alerts
    at = book_index.get_indexer(alerts["account_id"])
    alert_csm = np.full(len(at), -1, dtype="int64")
    alert_csm[at >= 0] = book_csm[at[at >= 0]]
    flagged = (period.contains(alerts["flagged_date"]) & (alerts["flagged_date"] <= day)).to_numpy()
    for part, outcome in (("alerts_saved", "saved"), ("alerts_churned", "churned"), ("open_alerts", "open")):
        parts[part] = _tally(alert_csm, n, flagged & (alerts["outcome"] == outcome).to_numpy())

    # -- lifecycle touchpoints ---------------------------------------------------------------------
    tps = lifecycle_table(book, period, day, books)
    tp_csm = _csm_codes(tps["csm_id"], csm_index)
    for status in ("met", "overdue", "pending"):
        parts[f"lifecycle_{status}"] = _tally(tp_csm, n, tps["status"] == status)

    for part, source in _NEEDS.items():
        if not book.recorded(source):
            parts[part] = np.nan
    return parts


def lifecycle_table(book: Book, period: Period, as_of: pd.Timestamp, books: pd.DataFrame | None = None,
                    attribution: str = "start") -> pd.DataFrame:
    """Every lifecycle touchpoint due in the period on book accounts, with its status (see ``kpi_kit.lifecycle``).

    ``books`` (rows of :func:`account_arr` in the book) is passed by :func:`metric_parts`, whose book is
    already attributed; called on its own, ownership follows ``attribution``.
    """
    if books is None:
        book = attributed(book, period, attribution)
        acc = account_arr(book, period)
        books = acc.loc[acc["in_book"]]
    accounts = book.accounts.loc[book.accounts["account_id"].isin(books["account_id"]),
                                 ["account_id", "csm_id", "customer_since", "renewal_date"]]
    frames: list[pd.DataFrame] = []
    if book.recorded("activities"):
        alerts = book.risk_alerts if book.recorded("risk_alerts") else None
        due = lifecycle.required_touchpoints(accounts, alerts, period.start_date, period.end_date)
        frames.append(lifecycle.assess(due, book.activities, as_of))
    if book.escalations is not None and book.recorded("escalations"):
        frames.append(lifecycle.escalation_touchpoints(book.escalations, accounts, period.start_date,
                                                       period.end_date, as_of))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in lifecycle.COLUMNS})
    return pd.concat(frames, ignore_index=True)[lifecycle.COLUMNS]


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """100 × num / den, NaN where den is 0 or unknown."""
    num = num.astype("float64")
    den = den.astype("float64")
    return (100.0 * num / den.where(den > 0)).astype("float64")


def monthly_equivalent(pct: pd.Series | float, months: int) -> pd.Series | float:
    """Convert a churn % over ``months`` months to the monthly rate: 100 × (1 − (1 − p)^(1/months)).

    >>> round(monthly_equivalent(46.0, 12), 2)
    5.01
    """
    return 100.0 * (1.0 - (1.0 - pd.Series(pct, dtype="float64") / 100.0) ** (1.0 / months)) \
        if isinstance(pct, pd.Series) else 100.0 * (1.0 - (1.0 - pct / 100.0) ** (1.0 / months))


def finish(parts: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Percentages (and derived ARR figures) recomputed from additive parts."""
    out = parts.copy()
    out["coverage_pct"] = _ratio(parts["covered_accounts"], parts["book_accounts"])
    out["renewals_90d_contacted_pct"] = _ratio(parts["renewals_90d_contacted"], parts["renewals_90d"])
    out["sql_conversion_pct"] = _ratio(parts["sqls_won"], parts["sqls_won"] + parts["sqls_lost"])
    out["lifecycle_compliance_pct"] = _ratio(parts["lifecycle_met"], parts["lifecycle_met"] + parts["lifecycle_overdue"])
    out["grr_pct"] = _ratio(parts["retained_arr"], parts["beginning_arr"])
    out["nrr_pct"] = _ratio(parts["ending_arr"], parts["beginning_arr"])
    out["logo_churn_pct"] = _ratio(parts["churned_accounts"], parts["cohort_accounts"])
    out["revenue_churn_pct"] = 100.0 - out["grr_pct"]
    out["logo_churn_monthly_pct"] = monthly_equivalent(out["logo_churn_pct"], period.months)
    out["revenue_churn_monthly_pct"] = monthly_equivalent(out["revenue_churn_pct"], period.months)
    out["closed_alert_pct"] = _ratio(parts["alerts_saved"], parts["alerts_saved"] + parts["alerts_churned"])
    out.insert(0, "start", str(period.start))
    out.insert(1, "end", str(period.end))
    return out


def team_metrics(book: Book, start: str | Period, end: str | None = None,
                 as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> pd.DataFrame:
    """Every CSM's KPIs for the period, one row per CSM (column ``csm_id`` first).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> table = team_metrics(load_book(), "2026-07", "2026-09")
    >>> {"csm_id", "grr_pct", "nrr_pct", "coverage_pct"} <= set(table.columns)
    True
    """
    period = start if isinstance(start, Period) else Period.parse(start, end)
    table = finish(metric_parts(book, period, as_of, attribution=attribution), period)
    return table.reset_index()


def rollup(parts: pd.DataFrame, period: Period, by: str | pd.Series | None = None) -> pd.DataFrame:
    """Roll CSM rows up (to the team, or to groups ``by``): parts summed, percentages recomputed.

    Never an average of percentages: team GRR = Σ retained ARR / Σ beginning ARR over the CSMs' cohorts.
    A part that is unknown (NaN) for every CSM stays unknown.
    """
    cols = [c for c in PART_KEYS if c in parts.columns]
    if by is None:
        summed = parts[cols].sum(min_count=1).to_frame().T
        summed.index = pd.Index(["team"], name="csm_id")
    else:
        summed = parts[cols].groupby(by).sum(min_count=1)
    return finish(summed, period)


def csm_metrics(book: Book, csm_id: str, start: str | Period, end: str | None = None,
                as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> dict[str, Any]:
    """One CSM's KPIs as a plain dict (JSON-ready: ``None`` for no data, ints for counts).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> m = csm_metrics(load_book(), "csm_01", "2026-07", "2026-09")
    >>> 0 <= m["grr_pct"] <= 100 and m["grr_pct"] <= m["nrr_pct"]
    True
    """
    csm_id = book.check_csm(csm_id)
    period = start if isinstance(start, Period) else Period.parse(start, end)
    row = finish(metric_parts(book, period, as_of, csm_id=csm_id, attribution=attribution), period).iloc[0]
    out: dict[str, Any] = {"csm_id": csm_id}
    out.update({key: to_python(row[key]) for key in row.index})
    for key in COUNT_KEYS:
        if isinstance(out.get(key), float) and out[key].is_integer():
            out[key] = int(out[key])
    out["attribution"] = attribution
    out["as_of"] = str(as_of_date(period, as_of).date())
    return out


def to_python(value: Any) -> Any:
    """NaN -> None, whole-number counts -> int, numpy scalars -> Python scalars."""
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return float(value)
    return value
