"""Strategic lists: the account-level tables behind the per-CSM report, the notebooks and the team report.

Every function is pure (a :class:`~kpi_kit.data.Book`, a CSM, a :class:`~kpi_kit.periods.Period`
and a date in; a DataFrame out), works in vectorized pandas passes and returns data of the one CSM
asked for (except :func:`coverage_matrix` and :func:`team_quadrant`, which are team views).
Money stays raw ``float`` (format it at display time with :mod:`kpi_kit.fmt`), dates stay
``datetime64``, months are ``"YYYY-MM"`` strings (so a chart viewer's time zone can never shift a month).

The definitions reuse :mod:`kpi_kit.metrics` so a list always agrees with the KPI it explains:

* **book accounts** of a CSM for a period — accounts the CSM owns with ARR > 0 in the month before
  START or in END (:func:`kpi_kit.metrics.account_arr`);
* **ARR** shown in a list — the account's ARR in END (``arr_monthly.csv``), the ARR at stake, in
  ``book.reporting_currency``: in a book with several currencies, USD at **constant currency** (the
  rates of the period's first day, :func:`kpi_kit.metrics.account_arr`), so lists sort and add up in
  one money and agree with the KPIs; every frame carries the code in ``attrs["currency"]``;
* **open risk alert** as of a day — an alert on the account flagged on or before that day whose
  ``outcome`` is ``open``;
* **contacted** — at least one non-automated activity (by anyone) in the 90 days up to and including
  the day, exactly as in the KPI *renewals in 90 days contacted*;
* **coverage** — at least one activity of any type (by anyone, automated included) in the period.

When the source system does not record a file (``book.yaml`` ``not_recorded``, or an optional file
is absent) the columns that need it are missing values (``<NA>``/``NaT``), never 0, and the frame's
``attrs["not_recorded"]`` names the files (``attrs["recorded"]`` is ``False`` when the whole list
cannot be built, e.g. :func:`expansion_signals` without ``usage.csv``, or :func:`at_risk_accounts` in a
book with neither risk alerts nor health scores). :func:`at_risk_words` and :func:`expansion_words` put
what a list can and cannot say into sentences for a report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.lifecycle import touchpoint_label
from kpi_kit.metrics import CALL_TYPES, account_arr, lifecycle_table
from kpi_kit.periods import Period

#: Health scores below this count as "low health" (``data/README.md``).
LOW_HEALTH = 50.0
#: Look-back of "contacted" (days up to and including the as-of day), as in the KPI definition.
CONTACT_DAYS = 90
#: Feature adoption below this (percent) is an adoption-play signal.
ADOPTION_PLAY_BELOW = 70.0
#: Seats used at or above this share of seats purchased (percent) is a seat-expansion signal.
SEAT_EXPANSION_AT = 90.0

__all__ = [
    "arr_bridge", "at_risk_accounts", "at_risk_words", "coverage_by_segment", "coverage_matrix", "expansion_signals",
    "expansion_words", "health_recorded", "monthly_touches", "overdue_touchpoints", "renewals_due", "team_quadrant",
]

SEGMENT_ORDER = ("enterprise", "mid-market", "smb")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def _as_period(period: Period | str | tuple[str, str]) -> Period:
    if isinstance(period, Period):
        return period
    if isinstance(period, tuple):
        return Period.parse(*period)
    return Period.parse(period)


def _day(as_of: str | pd.Timestamp | None, period: Period | None = None) -> pd.Timestamp:
    """The as-of day (midnight). ``None``/blank means the period's last day (an error without a period).

    Text must be ISO ``YYYY-MM-DD``: ``01/02/2026`` is ambiguous (January or February?) and is refused.
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        if period is None:
            raise KitError("as_of is required: give the date the list speaks from as YYYY-MM-DD, e.g. 2026-09-30")
        return period.end_date
    if isinstance(as_of, str):
        try:
            return pd.to_datetime(as_of.strip(), format="%Y-%m-%d")
        except (ValueError, TypeError):
            raise KitError(f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-09-30") from None
    try:
        return pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        raise KitError(f"as_of {as_of!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-09-30") from None


def _month_of(day: pd.Timestamp) -> Period:
    month = day.to_period("M")
    return Period(month, month)


def _book_accounts(book: Book, csm_id: str, period: Period) -> pd.DataFrame:
    """The CSM's book accounts for ``period`` with ``arr`` (ARR in END) and account attributes."""
    acc = account_arr(book, period, csm_id)
    acc = acc.loc[acc["in_book"]]
    extra = ["account_id", "renewal_date"] + (["health_score"] if "health_score" in book.accounts.columns else [])
    out = acc[["account_id", "account_name", "csm_id", "segment", "begin", "end"]].merge(
        book.accounts[extra], on="account_id", how="left")
    if "health_score" not in out.columns:
        out["health_score"] = np.nan
    out["health_score"] = out["health_score"].astype("float64")
    return out.rename(columns={"end": "arr"}).reset_index(drop=True)


def _open_alerts(book: Book, account_ids: pd.Series, day: pd.Timestamp) -> pd.DataFrame:
    """Per account: ``open_alerts`` (count) and ``oldest_open_alert`` (earliest flagged date) as of ``day``."""
    alerts = book.risk_alerts
    open_ = alerts.loc[alerts["account_id"].isin(account_ids) & (alerts["flagged_date"] <= day)
                       & (alerts["outcome"] == "open")]
    return open_.groupby("account_id").agg(open_alerts=("alert_id", "size"),
                                           oldest_open_alert=("flagged_date", "min"))


def _attach_open_alerts(frame: pd.DataFrame, book: Book, day: pd.Timestamp) -> pd.DataFrame:
    out = frame.copy()
    if book.recorded("risk_alerts"):
        per = _open_alerts(book, out["account_id"], day)
        out = out.merge(per, left_on="account_id", right_index=True, how="left")
        out["open_alerts"] = out["open_alerts"].fillna(0).astype("Int64")
        out["oldest_open_alert"] = out["oldest_open_alert"].astype("datetime64[us]")
    else:
        out["open_alerts"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
        out["oldest_open_alert"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    return out


def _flag(frame: pd.DataFrame, book: Book, needs: tuple[str, ...], recorded: bool = True) -> pd.DataFrame:
    """Attach ``attrs``: ``not_recorded`` (files the list needs that the book lacks), ``recorded`` and
    ``currency`` (``book.reporting_currency``, the currency of every money column)."""
    frame.attrs["not_recorded"] = tuple(n for n in needs if not book.recorded(n))
    frame.attrs["recorded"] = recorded
    frame.attrs["currency"] = book.reporting_currency
    return frame


def _plural(n: pd.Series, word: str) -> pd.Series:
    return n.astype("int64").astype("str") + " " + word + np.where(n == 1, "", "s")


def health_recorded(book: Book) -> bool:
    """True when the book records account health: ``accounts.csv`` has a ``health_score`` column with at
    least one value (a column left blank everywhere says nothing about any account's health)."""
    accounts = book.accounts
    return "health_score" in accounts.columns and bool(accounts["health_score"].notna().any())


# --------------------------------------------------------------------------------------------
# lists
# --------------------------------------------------------------------------------------------

AT_RISK_COLUMNS = ["account_id", "account_name", "segment", "arr", "renewal_date", "health_score",
                   "open_alerts", "oldest_open_alert", "reason"]


def at_risk_accounts(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The CSM's book accounts that are at risk as of ``as_of``, largest ARR first.

    Definition
    ----------
    A book account (ARR > 0 in the month before START or in END) is **at risk** when, as of
    ``as_of`` (default: the last day of the period), it has at least one **open risk alert** (flagged
    on or before ``as_of``, ``outcome`` = ``open``) or **low health** (``health_score`` < 50, only when
    ``accounts.csv`` has the column). Accounts that have already churned (ARR 0 in END) are lost,
    not at risk, and are left out.

    Parameters
    ----------
    book, csm_id, period
        The book, the CSM and the reporting period.
    as_of
        The day the list speaks from (``YYYY-MM-DD``); default the period's last day.

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, segment, arr`` (ARR in END), ``renewal_date, health_score``
        (NaN when not recorded), ``open_alerts`` (``<NA>`` when risk alerts are not recorded),
        ``oldest_open_alert`` and ``reason`` (the criteria in words). Sorted by ARR descending, then
        ``account_id``. ``attrs["criteria"]`` names the criteria this book can apply (``"risk_alerts"``
        when risk alerts are recorded, ``"health_score"`` when :func:`health_recorded`); with neither the
        frame is empty and ``attrs["recorded"]`` is ``False``: at-risk accounts cannot be judged, which is
        not the same as "none at risk" (:func:`at_risk_words` says it in words).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> table = at_risk_accounts(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> list(table.columns)[:4]
    ['account_id', 'account_name', 'segment', 'arr']
    """
    csm_id = book.check_csm(csm_id)
    period = _as_period(period)
    day = _day(as_of, period)
    acc = _attach_open_alerts(_book_accounts(book, csm_id, period), book, day)
    n_alerts = acc["open_alerts"].fillna(0).astype("int64")
    low = (acc["health_score"] < LOW_HEALTH).fillna(False).astype(bool)
    at_risk = ((n_alerts > 0) | low) & ~(acc["arr"] == 0)
    acc = acc.loc[at_risk].copy()
    n_alerts, low = n_alerts[at_risk], low[at_risk]

    alert_text = (_plural(n_alerts, "open risk alert") + " (oldest flagged "
                  + acc["oldest_open_alert"].dt.strftime("%Y-%m-%d").fillna("") + ")")
    health_text = "low health " + acc["health_score"].round(1).map("{:g}".format).astype("str") + f" (below {LOW_HEALTH:g})"
    alert_text = alert_text.where(n_alerts > 0, "")
    health_text = health_text.where(low, "")
    both = (n_alerts > 0) & low
    acc["reason"] = (alert_text + np.where(both, "; ", "") + health_text).astype("str")
    acc = acc.sort_values(["arr", "account_id"], ascending=[False, True], kind="mergesort")
    criteria = tuple(c for c, ok in (("risk_alerts", book.recorded("risk_alerts")), ("health_score", health_recorded(book)))
                     if ok)
    out = _flag(acc[AT_RISK_COLUMNS].reset_index(drop=True), book, ("risk_alerts",), recorded=bool(criteria))
    out.attrs["criteria"] = criteria
    return out


def at_risk_words(table: pd.DataFrame) -> tuple[str, str]:
    """What an :func:`at_risk_accounts` list means in its book, and what to say when it is empty.

    Returns ``(definition, when_empty)``: the criteria the book supports (``attrs["criteria"]``) in words,
    naming the source the book does not record; and the sentence for an empty list. In a book with neither
    risk alerts nor health scores both say the list cannot be built — never "no at-risk accounts".

    Examples
    --------
    >>> table = pd.DataFrame(columns=AT_RISK_COLUMNS)
    >>> table.attrs["criteria"] = ("health_score",)
    >>> at_risk_words(table)[0]
    'A health score below 50. This book does not record risk alerts, so open alerts are not a criterion.'
    >>> table.attrs["criteria"] = ()
    >>> at_risk_words(table)[1]
    'This book records neither risk alerts nor account health scores, so at-risk accounts cannot be listed.'
    """
    criteria = set(table.attrs.get("criteria", ("risk_alerts", "health_score")))
    low = f"a health score below {LOW_HEALTH:g}"
    if criteria >= {"risk_alerts", "health_score"}:
        return f"Open risk alerts or {low}.", "No at-risk accounts."
    if "risk_alerts" in criteria:
        return ("Open risk alerts. This book records no account health scores, so low health is not a criterion.",
                "No account has an open risk alert.")
    if "health_score" in criteria:
        return (f"{low[0].upper()}{low[1:]}. This book does not record risk alerts, so open alerts are not a criterion.",
                f"No account has {low}.")
    neither = "This book records neither risk alerts nor account health scores, so at-risk accounts cannot be listed."
    return neither, neither


RENEWAL_COLUMNS = ["account_id", "account_name", "segment", "arr", "renewal_date", "days_to_renewal",
                   "last_touch", "days_since_touch", "contacted_90d", "open_alerts"]


def renewals_due(book: Book, csm_id: str, as_of: str | pd.Timestamp, days: int = 90,
                 period: Period | None = None) -> pd.DataFrame:
    """The CSM's book accounts renewing in the ``days`` days after ``as_of``, soonest first.

    Definition
    ----------
    Book accounts (of ``period``; default the calendar month of ``as_of``) whose ``renewal_date`` lies
    in (``as_of``, ``as_of`` + ``days``] — the window of the KPI *renewals in 90 days contacted* when
    ``days`` = 90. For each: the **last touch** (the latest activity of any type, by anyone, dated on
    or before ``as_of``; ``NaT`` if there was none) and the days since it; **contacted_90d** (at least
    one non-automated activity in the 90 days up to and including ``as_of``, the KPI's rule) and the
    number of open risk alerts as of ``as_of``.

    Parameters
    ----------
    book, csm_id
        The book and the CSM.
    as_of
        The day the list speaks from (``YYYY-MM-DD``), required.
    days
        Look-ahead window in days (default 90).
    period
        Which period's book to use; pass the report's period to match its KPI exactly.

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, segment, arr`` (ARR in the period's END), ``renewal_date,
        days_to_renewal, last_touch, days_since_touch`` (``Int64``), ``contacted_90d`` (``boolean``) and
        ``open_alerts`` (``Int64``); activity columns are ``<NA>``/``NaT`` when activities are not
        recorded. Sorted by renewal date, then ARR descending.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> table = renewals_due(load_book(), "csm_01", "2026-09-30")
    >>> bool((table["days_to_renewal"] > 0).all() and (table["days_to_renewal"] <= 90).all())
    True
    """
    csm_id = book.check_csm(csm_id)
    day = _day(as_of)
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise KitError(f"days = {days!r}: expected a whole number of days >= 1, e.g. 90")
    period = _month_of(day) if period is None else _as_period(period)
    acc = _book_accounts(book, csm_id, period)
    due = acc["renewal_date"].notna() & (acc["renewal_date"] > day) & (acc["renewal_date"] <= day + pd.Timedelta(days=int(days)))
    acc = acc.loc[due].copy()
    acc["days_to_renewal"] = (acc["renewal_date"] - day).dt.days.astype("int64")

    if book.recorded("activities"):
        acts = book.activities
        acts = acts.loc[acts["account_id"].isin(acc["account_id"]) & (acts["date"] <= day)]
        last = acts.groupby("account_id")["date"].max().rename("last_touch")
        recent = acts.loc[(acts["date"] > day - pd.Timedelta(days=CONTACT_DAYS)) & (acts["type"] != "automated_email"),
                          "account_id"].unique()
        acc = acc.merge(last, left_on="account_id", right_index=True, how="left")
        acc["last_touch"] = acc["last_touch"].astype("datetime64[us]")
        acc["days_since_touch"] = (day - acc["last_touch"]).dt.days.astype("Int64")
        acc["contacted_90d"] = acc["account_id"].isin(recent).astype("boolean")
    else:
        acc["last_touch"] = pd.Series(pd.NaT, index=acc.index, dtype="datetime64[us]")
        acc["days_since_touch"] = pd.Series(pd.NA, index=acc.index, dtype="Int64")
        acc["contacted_90d"] = pd.Series(pd.NA, index=acc.index, dtype="boolean")
    acc = _attach_open_alerts(acc, book, day)
    acc = acc.sort_values(["renewal_date", "arr", "account_id"], ascending=[True, False, True], kind="mergesort")
    return _flag(acc[RENEWAL_COLUMNS].reset_index(drop=True), book, ("activities", "risk_alerts"))


TOUCHPOINT_COLUMNS = ["account_id", "account_name", "arr", "touchpoint", "touchpoint_label", "status", "due",
                      "window_start", "window_end", "days_overdue", "days_left"]


def overdue_touchpoints(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Lifecycle touchpoints of the CSM's book that are overdue or still pending, most urgent first.

    Definition
    ----------
    From :func:`kpi_kit.metrics.lifecycle_table` (windows and matching in :mod:`kpi_kit.lifecycle`):
    touchpoints due in the period on the CSM's book accounts whose status as of ``as_of`` (default the
    period's last day) is **overdue** (window closed without a matching activity) or **pending**
    (window still open, not yet met). Met touchpoints are left out.

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, arr, touchpoint, touchpoint_label`` (the touchpoint in words,
        :func:`kpi_kit.lifecycle.touchpoint_label`), ``status, due, window_start, window_end``,
        ``days_overdue`` (whole days from the window's end to ``as_of``; overdue rows) and
        ``days_left`` (whole days from ``as_of`` to the window's end; pending rows), both ``Int64``.
        Overdue rows first (oldest window first), then pending rows (closing soonest first).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> table = overdue_touchpoints(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> set(table["status"]) <= {"overdue", "pending"}
    True
    """
    csm_id = book.check_csm(csm_id)
    period = _as_period(period)
    day = _day(as_of, period)
    acc = _book_accounts(book, csm_id, period)
    tps = lifecycle_table(book, period, day, acc[["account_id", "csm_id"]])
    tps = tps.loc[tps["status"].isin(["overdue", "pending"])].copy()
    for col in ("due", "window_start", "window_end"):
        tps[col] = pd.to_datetime(tps[col]).astype("datetime64[us]")
    tps = tps.merge(acc[["account_id", "account_name", "arr"]], on="account_id", how="left")
    end_day = tps["window_end"].dt.normalize()
    overdue = tps["status"] == "overdue"
    tps["days_overdue"] = (day - end_day).dt.days.astype("Int64").where(overdue, pd.NA)
    tps["days_left"] = (end_day - day).dt.days.astype("Int64").where(~overdue, pd.NA)
    tps["touchpoint_label"] = tps["touchpoint"].map(touchpoint_label).astype("str")
    tps["_rank"] = np.where(overdue, 0, 1)
    tps = tps.sort_values(["_rank", "window_end", "account_id", "touchpoint"], kind="mergesort")
    return _flag(tps[TOUCHPOINT_COLUMNS].reset_index(drop=True), book, ("activities",))


EXPANSION_COLUMNS = ["account_id", "account_name", "segment", "arr", "usage_month", "feature_adoption_pct",
                     "seats_purchased", "seats_used", "seat_use_pct", "adoption_play", "seat_expansion", "signal"]


def expansion_signals(book: Book, csm_id: str, as_of: str | pd.Timestamp, period: Period | None = None) -> pd.DataFrame:
    """SQL candidates from product usage: adoption plays and seat expansions, largest ARR first.

    Definition
    ----------
    For each of the CSM's live accounts (book accounts of ``period`` — default the calendar month of
    ``as_of`` — with ARR > 0 in END) take its latest ``usage.csv`` row with ``month`` on or before the
    month of ``as_of``. It is a signal when

    * **adoption play**: ``feature_adoption_pct`` < 70, or
    * **seat expansion**: ``seats_used`` ≥ 90 % of ``seats_purchased`` (``seats_purchased`` > 0);

    accounts that already have an **open SQL** as of ``as_of`` (created on or before it and not closed
    by then: status ``open``, or ``closed_date`` after ``as_of``) are left out — they are in the pipeline.

    Returns
    -------
    pandas.DataFrame
        ``account_id, account_name, segment, arr, usage_month`` (``"YYYY-MM"``),
        ``feature_adoption_pct, seats_purchased, seats_used, seat_use_pct`` (100 × used / purchased),
        ``adoption_play, seat_expansion`` (bool) and ``signal`` (in words). When usage is not recorded
        the frame is empty and ``attrs["recorded"]`` is ``False`` ("not recorded", not "no signals").
        ``attrs`` also says what the usage could judge, over the live accounts with a usage row (before
        accounts with an open SQL are left out): ``usage_accounts`` (how many), ``highest_adoption_pct``
        (their highest feature adoption, NaN without any) and ``seats_recorded`` (``False`` when none of
        them has both ``seats_purchased`` > 0 and ``seats_used``: seat expansion cannot be judged, which
        is not "no seat expansion"). :func:`expansion_words` says it in words.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> table = expansion_signals(load_book(), "csm_01", "2026-09-30")
    >>> table.attrs["recorded"] in (True, False)
    True
    """
    csm_id = book.check_csm(csm_id)
    day = _day(as_of)
    period = _month_of(day) if period is None else _as_period(period)
    usage = book.usage
    if usage is None or not book.recorded("usage"):
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in EXPANSION_COLUMNS})
        for col in ("account_id", "account_name", "segment", "usage_month", "signal"):
            empty[col] = empty[col].astype("str")
        for col in ("adoption_play", "seat_expansion"):
            empty[col] = empty[col].astype(bool)
        empty = _flag(empty, book, ("usage", "sqls"), recorded=False)
        empty.attrs.update(usage_accounts=0, highest_adoption_pct=float("nan"), seats_recorded=False)
        return empty

    acc = _book_accounts(book, csm_id, period)
    acc = acc.loc[acc["arr"] > 0]
    month = day.to_period("M")
    rows = usage.loc[usage["account_id"].isin(acc["account_id"]) & (usage["month"] <= month)]
    latest = rows.sort_values(["account_id", "month"], kind="mergesort").drop_duplicates("account_id", keep="last")
    out = acc[["account_id", "account_name", "segment", "arr"]].merge(
        latest[["account_id", "month", "feature_adoption_pct", "seats_purchased", "seats_used"]], on="account_id",
        how="inner")
    for col in ("feature_adoption_pct", "seats_purchased", "seats_used"):
        out[col] = out[col].astype("float64")
    out["usage_month"] = out["month"].astype("str")
    purchased = out["seats_purchased"].where(out["seats_purchased"] > 0)
    out["seat_use_pct"] = 100.0 * out["seats_used"] / purchased
    out["adoption_play"] = (out["feature_adoption_pct"] < ADOPTION_PLAY_BELOW).fillna(False).astype(bool)
    # used >= 90 % of purchased, compared without division: 100 x used >= 90 x purchased
    out["seat_expansion"] = ((100.0 * out["seats_used"] >= SEAT_EXPANSION_AT * out["seats_purchased"])
                             & (out["seats_purchased"] > 0)).fillna(False).astype(bool)
    judged = {"usage_accounts": int(len(out)),
              "highest_adoption_pct": float(out["feature_adoption_pct"].max()) if len(out) else float("nan"),
              "seats_recorded": bool((out["seats_used"].notna() & (out["seats_purchased"] > 0)).any())}
    if book.recorded("sqls"):
        sqls = book.sqls
        open_at_day = (sqls["created_date"] <= day) & (
            (sqls["status"] == "open") | (sqls["closed_date"].notna() & (sqls["closed_date"] > day)))
        out = out.loc[~out["account_id"].isin(sqls.loc[open_at_day, "account_id"])]
    out = out.loc[out["adoption_play"] | out["seat_expansion"]].copy()
    # .astype("str"): an empty map keeps float64, and "text" + float64 would raise (a book with no signal)
    adoption = ("adoption play (feature adoption " + out["feature_adoption_pct"].round(1).map("{:g}".format).astype("str")
                + f" % < {ADOPTION_PLAY_BELOW:g} %)")
    seats = ("seat expansion (" + out["seats_used"].map("{:g}".format).astype("str") + " of "
             + out["seats_purchased"].map("{:g}".format).astype("str") + " seats used)")
    both = out["adoption_play"] & out["seat_expansion"]
    out["signal"] = (adoption.where(out["adoption_play"], "") + np.where(both, "; ", "")
                     + seats.where(out["seat_expansion"], "")).astype("str")
    out = out.sort_values(["arr", "account_id"], ascending=[False, True], kind="mergesort")
    out = _flag(out[EXPANSION_COLUMNS].reset_index(drop=True), book, ("usage", "sqls"))
    out.attrs.update(judged)
    return out


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def expansion_words(table: pd.DataFrame, limit: int | None = None) -> str:
    """An :func:`expansion_signals` list in words: how many accounts, of which kind, and what the usage
    data cannot tell.

    * the total count, split into adoption plays and seat expansions, and how many accounts are both;
    * with ``limit`` and more rows than that, which rows a table of ``limit`` rows shows (the largest ARR);
    * seat use not recorded (``attrs["seats_recorded"]`` False): seat expansion cannot be judged — the
      count of seat expansions is not given as 0;
    * every account with usage below the adoption threshold (``attrs["highest_adoption_pct"]`` < 70 with at
      least two accounts): the signal singles nobody out, so the book's adoption measure needs a look
      (the RavenStack import's thin synthetic usage does this, ``docs/ravenstack.md``).

    Usage not recorded at all (``attrs["recorded"]`` False) is said as such.

    Examples
    --------
    >>> t = pd.DataFrame({"adoption_play": [True, True, False], "seat_expansion": [False, True, True]})
    >>> t.attrs.update(recorded=True, usage_accounts=9, highest_adoption_pct=95.0, seats_recorded=True)
    >>> expansion_words(t)
    '3 accounts with a signal, largest ARR first: 2 adoption plays and 2 seat expansions (1 account has both).'
    """
    if not table.attrs.get("recorded", True):
        return "This book does not record product usage, so there are no expansion signals to judge."
    n = len(table)
    seats = bool(table.attrs.get("seats_recorded", True))
    adoption = int(table["adoption_play"].sum()) if n else 0
    expansion = int(table["seat_expansion"].sum()) if n else 0
    if n == 0:
        parts = ["No account has an expansion signal." if seats else
                 f"No account is below {ADOPTION_PLAY_BELOW:g} % feature adoption."]
    elif seats:
        both = adoption + expansion - n
        parts = [f"{_count(n, 'account')} with a signal, largest ARR first: {_count(adoption, 'adoption play')} "
                 f"and {_count(expansion, 'seat expansion')}"
                 + (f" ({_count(both, 'account has', 'accounts have')} both)." if both else ".")]
    else:
        parts = [f"{_count(n, 'account')} with an adoption signal, largest ARR first."]
    if limit is not None and n > limit:
        parts.append(f"The {limit:,} with the largest ARR are listed, the other {n - limit:,} are not.")
    if not seats:
        parts.append("Seat use is not recorded in this book, so seat expansion cannot be judged.")
    highest = table.attrs.get("highest_adoption_pct", float("nan"))
    if table.attrs.get("usage_accounts", 0) >= 2 and not pd.isna(highest) and highest < ADOPTION_PLAY_BELOW:
        parts.append(f"Every account with usage data is below {ADOPTION_PLAY_BELOW:g} % feature adoption (the highest "
                     f"is {highest:g} %), so the adoption signal singles no account out: check how this book "
                     "measures feature adoption before acting on it.")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# aggregates for charts
# --------------------------------------------------------------------------------------------

BRIDGE_COLUMNS = ["step", "label", "kind", "amount", "bar_start", "bar_end", "accounts"]


def arr_bridge(book: Book, csm_id: str, period: Period) -> pd.DataFrame:
    """The ARR bridge (waterfall) of the CSM's book: beginning → expansion → contraction → churn → ending.

    Definition
    ----------
    From :func:`kpi_kit.metrics.account_arr` over the **beginning cohort** (book accounts with
    beginning ARR > 0): beginning ARR, + expansion (Σ max(end − begin, 0)), − contraction
    (Σ (begin − end) where 0 < end < begin), − churn (Σ begin where end = 0), = ending ARR of the
    cohort. New logos (book accounts outside the cohort) are shown separately after it, then the
    book's total ending ARR. By the definitions
    ``beginning + expansion − contraction − churn = ending (cohort)`` and
    ``ending (cohort) + new logos = ending (book)``.

    Returns
    -------
    pandas.DataFrame
        Seven rows, ``step`` 1..7: ``label`` (plain words), ``kind`` (``total``, ``increase``,
        ``decrease``), ``amount`` (totals: the level; steps: the signed change), ``bar_start`` /
        ``bar_end`` (the waterfall bar, running total) and ``accounts`` (how many accounts make the step).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> b = arr_bridge(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> b["label"].tolist()[:4]
    ['Beginning ARR', 'Expansion', 'Contraction', 'Churn']
    """
    csm_id = book.check_csm(csm_id)
    period = _as_period(period)
    acc = account_arr(book, period, csm_id)
    acc = acc.loc[acc["in_book"]]
    cohort = acc.loc[acc["in_cohort"]]
    begin = float(cohort["begin"].sum())
    expansion = float(cohort["expansion"].sum())
    contraction = float(cohort["contraction"].sum())
    churn = float(cohort.loc[cohort["churned"], "begin"].sum())
    ending = float(cohort["end"].sum())
    new = float(acc["new"].sum())
    after_exp = begin + expansion
    after_contr = after_exp - contraction
    rows: list[dict[str, Any]] = [
        {"label": "Beginning ARR", "kind": "total", "amount": begin, "bar_start": 0.0, "bar_end": begin,
         "accounts": len(cohort)},
        {"label": "Expansion", "kind": "increase", "amount": expansion, "bar_start": begin, "bar_end": after_exp,
         "accounts": int((cohort["expansion"] > 0).sum())},
        {"label": "Contraction", "kind": "decrease", "amount": 0.0 - contraction, "bar_start": after_exp,
         "bar_end": after_contr, "accounts": int((cohort["contraction"] > 0).sum())},
        {"label": "Churn", "kind": "decrease", "amount": 0.0 - churn, "bar_start": after_contr,
         "bar_end": after_contr - churn, "accounts": int(cohort["churned"].sum())},
        {"label": "Ending ARR (cohort)", "kind": "total", "amount": ending, "bar_start": 0.0, "bar_end": ending,
         "accounts": int((cohort["end"] > 0).sum())},
        {"label": "New logos", "kind": "increase", "amount": new, "bar_start": ending, "bar_end": ending + new,
         "accounts": int((~acc["in_cohort"]).sum())},
        {"label": "Ending ARR (book)", "kind": "total", "amount": ending + new, "bar_start": 0.0,
         "bar_end": ending + new, "accounts": int((acc["end"] > 0).sum())},
    ]
    out = pd.DataFrame(rows)
    out.insert(0, "step", range(1, len(out) + 1))
    out["accounts"] = out["accounts"].astype("int64")
    for col in ("amount", "bar_start", "bar_end"):
        out[col] = out[col].astype("float64")
    out["label"] = out["label"].astype("str")
    out["kind"] = out["kind"].astype("str")
    return _flag(out[BRIDGE_COLUMNS], book, ())


def _months(period: Period) -> pd.PeriodIndex:
    return pd.period_range(period.start, period.end, freq="M")


def monthly_touches(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Calls and touchpoints per month of the period against the monthly targets.

    Definition
    ----------
    Per calendar month of the period: **calls** = the CSM's activities of type call, meeting or qbr;
    **touchpoints** = all the CSM's activities; **qbrs** = type qbr (activities dated on or before
    ``as_of``, default the period's last day — the KPI's rule, so the months add up to the KPI). The
    monthly targets are the scorecard's period targets (:func:`kpi_kit.scorecard.targets_for`)
    divided by the number of months: ``calls_per_month`` and ``touchpoints_per_quarter`` / 3.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month`` (``"YYYY-MM"``), ``calls, touchpoints, qbrs`` (``Int64``, ``<NA>``
        when activities are not recorded), ``calls_target, touchpoints_target`` (float).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> monthly_touches(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))["month"].tolist()
    ['2026-07', '2026-08', '2026-09']
    """
    from kpi_kit.scorecard import targets_for

    csm_id = book.check_csm(csm_id)
    period = _as_period(period)
    day = _day(as_of, period)
    months = _months(period)
    acts = book.activities
    mine = acts.loc[(acts["csm_id"] == csm_id) & period.contains(acts["date"]) & (acts["date"] <= day)]
    by_month = mine.assign(month=mine["date"].dt.to_period("M"),
                           call=mine["type"].isin(CALL_TYPES), qbr=mine["type"] == "qbr")
    grouped = by_month.groupby("month").agg(calls=("call", "sum"), touchpoints=("activity_id", "size"),
                                            qbrs=("qbr", "sum"))
    grouped = grouped.reindex(months, fill_value=0)
    out = pd.DataFrame({"month": months.astype("str")})
    recorded = book.recorded("activities")
    for col in ("calls", "touchpoints", "qbrs"):
        values = pd.array(grouped[col].to_numpy(dtype="int64"), dtype="Int64")
        out[col] = values if recorded else pd.array([pd.NA] * len(months), dtype="Int64")
    targets = targets_for(book, csm_id, period)
    out["calls_target"] = float(targets["calls"]) / period.months
    out["touchpoints_target"] = float(targets["touchpoints"]) / period.months
    out["month"] = out["month"].astype("str")
    return _flag(out, book, ("activities",))


def coverage_by_segment(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Coverage of the CSM's book per segment.

    Definition
    ----------
    **Coverage %** = book accounts with at least one activity of any type (by anyone, automated
    included) dated in the period and on or before ``as_of`` / book accounts — the KPI's definition,
    per ``segment``. Summing ``covered_accounts`` and ``book_accounts`` over the rows gives the KPI's parts.

    Returns
    -------
    pandas.DataFrame
        One row per segment that has book accounts (enterprise, mid-market, smb order):
        ``segment, book_accounts, covered_accounts`` (``Int64``; covered ``<NA>`` when activities are not
        recorded) and ``coverage_pct`` (float, NaN when unknown).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> cov = coverage_by_segment(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> list(cov.columns)
    ['segment', 'book_accounts', 'covered_accounts', 'coverage_pct']
    """
    csm_id = book.check_csm(csm_id)
    period = _as_period(period)
    day = _day(as_of, period)
    acc = _book_accounts(book, csm_id, period)
    acts = book.activities
    touched_ids = acts.loc[period.contains(acts["date"]) & (acts["date"] <= day), "account_id"].unique()
    acc["covered"] = acc["account_id"].isin(touched_ids)
    grouped = acc.groupby("segment").agg(book_accounts=("account_id", "size"), covered_accounts=("covered", "sum"))
    order = [s for s in SEGMENT_ORDER if s in grouped.index] + sorted(set(grouped.index) - set(SEGMENT_ORDER))
    grouped = grouped.reindex(order)
    out = pd.DataFrame({
        "segment": pd.array(order, dtype="str"),
        "book_accounts": pd.array(grouped["book_accounts"].to_numpy(dtype="int64"), dtype="Int64"),
        "covered_accounts": pd.array(grouped["covered_accounts"].to_numpy(dtype="int64"), dtype="Int64"),
    })
    if not book.recorded("activities"):
        out["covered_accounts"] = pd.array([pd.NA] * len(out), dtype="Int64")
    covered = out["covered_accounts"].astype("float64")
    out["coverage_pct"] = (100.0 * covered / out["book_accounts"].astype("float64")).astype("float64")
    return _flag(out, book, ("activities",))


def coverage_matrix(book: Book, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Coverage % of every CSM in every month of the period (long format, for the team heatmap).

    Definition
    ----------
    The cell (CSM, month M) is the **coverage %** KPI for the one-month period M..M: the CSM's book
    accounts for M (ARR > 0 at the end of the month before M or at the end of M) with at least one
    activity of any type (by anyone) dated in M and on or before ``as_of`` (default the period's last
    day), divided by that book's size. Months that start after ``as_of`` have not happened yet and are
    NaN, as is a month with an empty book.

    Returns
    -------
    pandas.DataFrame
        One row per (CSM, month), CSMs in ``csms.csv`` order: ``csm_id, csm_name, team, month``
        (``"YYYY-MM"``), ``book_accounts, covered_accounts`` (``Int64``) and ``coverage_pct`` (float).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> m = coverage_matrix(load_book(), Period.parse("2026-07", "2026-09"))
    >>> len(m) == 3 * len(load_book().csms)
    True
    """
    period = _as_period(period)
    day = _day(as_of, period)
    months = _months(period)
    arr = book.arr_monthly
    live = arr.loc[(arr["arr"] > 0) & (arr["month"] >= period.before) & (arr["month"] <= period.end),
                   ["account_id", "month"]]
    # an account with ARR > 0 at the end of month X is in the book of month X (ending ARR) and of X + 1 (beginning)
    pairs = pd.concat([live, live.assign(month=live["month"] + 1)], ignore_index=True)
    pairs = pairs.loc[pairs["month"].isin(months)].drop_duplicates()
    pairs = pairs.merge(book.accounts[["account_id", "csm_id"]], on="account_id", how="inner")
    acts = book.activities
    acts = acts.loc[period.contains(acts["date"]) & (acts["date"] <= day)]
    touched = acts[["account_id"]].assign(month=acts["date"].dt.to_period("M")).drop_duplicates()
    touched["covered"] = True
    pairs = pairs.merge(touched, on=["account_id", "month"], how="left")
    pairs["covered"] = pairs["covered"].fillna(False).astype(bool)
    grouped = pairs.groupby(["csm_id", "month"]).agg(book_accounts=("account_id", "size"),
                                                     covered_accounts=("covered", "sum"))
    csms = book.csms[["csm_id", "csm_name", "team"]].reset_index(drop=True)
    grid = pd.MultiIndex.from_product([csms["csm_id"], months], names=["csm_id", "month"])
    grouped = grouped.reindex(grid, fill_value=0).reset_index()
    out = grouped.merge(csms, on="csm_id", how="left")
    started = (out["month"].dt.start_time <= day).astype(bool)
    out["month"] = out["month"].astype("str")
    out["book_accounts"] = out["book_accounts"].astype("Int64")
    out["covered_accounts"] = out["covered_accounts"].astype("Int64").where(started & book.recorded("activities"), pd.NA)
    book_n = out["book_accounts"].astype("float64")
    out["coverage_pct"] = (100.0 * out["covered_accounts"].astype("float64") / book_n.where(book_n > 0)).astype("float64")
    out = out[["csm_id", "csm_name", "team", "month", "book_accounts", "covered_accounts", "coverage_pct"]]
    return _flag(out.reset_index(drop=True), book, ("activities",))


#: Thresholds of the quadrant (the scorecard's diagnosis): leading attainment mean (each capped at 150 %)
#: of at least 95 % is "strong activity"; outcomes are "weak" when a lagging KPI is behind (< 90 %).
LEADING_OK, LAGGING_OK, LEADING_CAP = 95.0, 90.0, 150.0

QUADRANTS = {
    (True, True): "Activity and outcomes on track",
    (True, False): "Strong activity, weak outcomes",
    (False, False): "Weak activity, weak outcomes",
    (False, True): "Outcomes holding, activity behind",
}


def team_quadrant(book: Book, period: Period, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Leading vs lagging attainment per CSM: who has strong activity but weak outcomes.

    Definition
    ----------
    From each CSM's balanced scorecard (:func:`kpi_kit.scorecard.scorecard`):

    * ``leading_attainment_pct`` = mean attainment of the leading KPIs with data, each capped at 150 %;
      **strong activity** when it is at least 95 %;
    * ``lagging_attainment_pct`` = the *lowest* attainment among the lagging KPIs with data (the worst
      outcome); **weak outcomes** when it is below 90 % (a lagging KPI is "behind").

    These are exactly the tests of :meth:`kpi_kit.scorecard.Scorecard.diagnosis`, so a CSM's point on
    the quadrant chart and the diagnosis in their report always agree.

    Returns
    -------
    pandas.DataFrame
        One row per CSM: ``csm_id, csm_name, team, leading_attainment_pct, lagging_attainment_pct``
        (NaN without data), ``quadrant`` (in words; ``"No activity data"`` without leading data).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> q = team_quadrant(load_book(), Period.parse("2026-07", "2026-09"))
    >>> list(q.columns)[:3]
    ['csm_id', 'csm_name', 'team']
    """
    from kpi_kit.scorecard import scorecard

    period = _as_period(period)
    frames = []
    for csm_id in book.csm_ids():  # the scorecard is per CSM; a team is a handful of rows
        table = scorecard(book, csm_id, period, as_of=as_of).table
        frames.append(table.assign(csm_id=csm_id)[["csm_id", "kind", "attainment_pct"]])
    cards = pd.concat(frames, ignore_index=True)
    lead = cards.loc[cards["kind"] == "leading"].assign(
        capped=lambda t: t["attainment_pct"].clip(upper=LEADING_CAP)).groupby("csm_id")["capped"].mean()
    lag = cards.loc[cards["kind"] == "lagging"].groupby("csm_id")["attainment_pct"].min()
    out = book.csms[["csm_id", "csm_name", "team"]].reset_index(drop=True).copy()
    out["leading_attainment_pct"] = out["csm_id"].map(lead).astype("float64")
    out["lagging_attainment_pct"] = out["csm_id"].map(lag).astype("float64")
    lead_ok = out["leading_attainment_pct"] >= LEADING_OK
    lag_ok = ~(out["lagging_attainment_pct"] < LAGGING_OK)
    out["quadrant"] = pd.Series(np.select(
        [out["leading_attainment_pct"].isna(), lead_ok & lag_ok, lead_ok & ~lag_ok, ~lead_ok & ~lag_ok],
        ["No activity data", QUADRANTS[(True, True)], QUADRANTS[(True, False)], QUADRANTS[(False, False)]],
        default=QUADRANTS[(False, True)]), index=out.index, dtype="str")
    return _flag(out, book, ())
