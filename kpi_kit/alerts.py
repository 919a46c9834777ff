"""Churn-risk alerts: the closed-alert rate, time to intervention and what goes with a save (notebook 09).

Definitions (``data/README.md`` and :mod:`kpi_kit.metrics`)

Alerts of a CSM for a period
    Alerts on the CSM's **book accounts** (ARR > 0 at beginning or end, ownership attributed as in the
    KPIs) **flagged in the period** and on or before ``as_of`` (default: the period's last day). The
    outcome is taken as recorded in ``risk_alerts.csv``.
Closed-alert rate %
    ``100 × saved / (saved + churned)``; open alerts are reported separately, never in the denominator.
Time to intervention
    Whole days from ``flagged_date`` to ``first_action_date``. An action dated after ``as_of`` is not
    known yet (treated as no action); an action dated before the flag (validation warns) counts as 0 days.
    The **SLA** is :data:`SLA_DAYS` = 7 days: an alert is *within SLA* when acted on within 7 days, *late*
    when acted on later, *SLA missed* when not acted on and more than 7 days have passed by ``as_of``;
    an alert flagged in the last 7 days without action is *still within SLA* and is left out of the share.
What goes with a save
    Save rates (saved / closed) by time-to-intervention bucket, segment and health band over closed
    alerts, each with its count ``n``. These are associations, not causes; groups with fewer than
    :data:`MIN_N` closed alerts are flagged ``few`` (too few to read). ``health_score`` in
    ``accounts.csv`` is today's score, not the score on the flag date, so the health band partly
    reflects what happened after the alert.

When the book does not record risk alerts (``book.recorded("risk_alerts")`` is False) every count is
None and every table is empty with ``attrs["recorded"] = False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.errors import KitError
from kpi_kit.metrics import as_of_date
from kpi_kit.periods import Period
from kpi_kit.retention import SEGMENT_ORDER, book_accounts

__all__ = [
    "AlertSummary", "HEALTH_BANDS", "MIN_N", "SLA_DAYS", "SavePredictors", "TIME_BUCKETS", "alert_summary",
    "alert_table", "closed_alert_pct", "history", "save_predictors", "save_rate_chart", "save_rates",
]

#: Days within which an alert should get its first action (the seed's intervention SLA).
SLA_DAYS: int = 7
#: Fewer closed alerts than this in a group: the save rate is flagged ``few`` (too few to read).
MIN_N: int = 10
#: Health scores below this are "low health" (``data/README.md``).
LOW_HEALTH: float = 50.0
#: Time-to-intervention buckets, in order.
TIME_BUCKETS: tuple[str, ...] = ("0–3 days", "4–7 days", "8–14 days", "15+ days", "no action recorded")
#: Health bands, in order.
HEALTH_BANDS: tuple[str, ...] = ("below 50", "50–69", "70 and above", "no score")

ALERT_COLUMNS = ["alert_id", "account_id", "account_name", "csm_id", "segment", "health_score", "flagged_date",
                 "first_action_date", "resolved_date", "outcome", "days_to_action", "action_status", "within_sla",
                 "time_bucket", "health_band"]


def closed_alert_pct(saved: int, closed: int) -> float | None:
    """Share of closed risk alerts that were saved: 100 × saved / closed (closed = saved + churned).

    Parameters
    ----------
    saved
        Closed alerts whose account was kept.
    closed
        All closed alerts (saved + churned); open alerts are not counted.

    Returns
    -------
    float or None
        Percent; None when nothing is closed.

    Examples
    --------
    The seed's example: 17 of 20 closed alerts saved → 85 %.

    >>> closed_alert_pct(17, 20)
    85.0
    """
    for value, what in ((saved, "saved"), (closed, "closed")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise KitError(f"{what} must be a whole number of alerts >= 0, got {value!r}")
    if saved > closed:
        raise KitError(f"saved ({saved}) is more than closed ({closed}): closed counts saved + churned alerts")
    return None if closed == 0 else 100.0 * saved / closed


def _empty(recorded: bool) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="str") for c in ALERT_COLUMNS})
    for c in ("flagged_date", "first_action_date", "resolved_date"):
        out[c] = out[c].astype("datetime64[us]")
    out["health_score"] = out["health_score"].astype("float64")
    out["days_to_action"] = out["days_to_action"].astype("Int64")
    out["within_sla"] = out["within_sla"].astype("boolean")
    out.attrs["recorded"] = recorded
    return out


def _alert_list(alerts: pd.DataFrame, book: Book, day: pd.Timestamp) -> pd.DataFrame:
    """The selected alerts enriched (:func:`_enrich`), oldest first, in :data:`ALERT_COLUMNS` (empty: ``_empty``)."""
    if alerts.empty:
        return _empty(True)
    out = _enrich(alerts, book, day)
    out = out.sort_values(["flagged_date", "alert_id"], kind="mergesort")[ALERT_COLUMNS].reset_index(drop=True)
    out.attrs["recorded"] = True
    return out


def _enrich(alerts: pd.DataFrame, book: Book, day: pd.Timestamp) -> pd.DataFrame:
    """Add account fields, days to action, SLA status, time bucket and health band (vectorized)."""
    extra = ["account_id", "account_name", "segment"] + (["health_score"] if "health_score" in book.accounts.columns else [])
    out = alerts.merge(book.accounts[extra], on="account_id", how="left")
    if "health_score" not in out.columns:
        out["health_score"] = np.nan
    out["health_score"] = out["health_score"].astype("float64")
    if "first_action_date" not in out.columns:
        out["first_action_date"] = pd.NaT
    if "resolved_date" not in out.columns:
        out["resolved_date"] = pd.NaT
    for col in ("flagged_date", "first_action_date", "resolved_date"):
        out[col] = out[col].astype("datetime64[us]")
    action = out["first_action_date"].where(out["first_action_date"] <= day)
    days = (action - out["flagged_date"]).dt.days
    out["days_to_action"] = days.clip(lower=0).astype("Int64")
    acted = action.notna()
    waited = (day - out["flagged_date"]).dt.days
    status = np.select([acted & (days <= SLA_DAYS), acted, waited > SLA_DAYS],
                       ["within SLA", "late", "no action, SLA missed"], default="no action yet, within SLA")
    out["action_status"] = pd.Series(status, index=out.index, dtype="str")
    within = pd.Series(acted & (days <= SLA_DAYS), index=out.index).astype("boolean")
    out["within_sla"] = within.where(acted | (waited > SLA_DAYS), pd.NA)
    d = out["days_to_action"].astype("float64")
    bucket = np.select([d.isna(), d <= 3, d <= 7, d <= 14], [TIME_BUCKETS[4], TIME_BUCKETS[0], TIME_BUCKETS[1],
                                                             TIME_BUCKETS[2]], default=TIME_BUCKETS[3])
    out["time_bucket"] = pd.Categorical(bucket, categories=TIME_BUCKETS)
    h = out["health_score"]
    band = np.select([h.isna(), h < LOW_HEALTH, h < 70], [HEALTH_BANDS[3], HEALTH_BANDS[0], HEALTH_BANDS[1]],
                     default=HEALTH_BANDS[2])
    out["health_band"] = pd.Categorical(band, categories=HEALTH_BANDS)
    return out


def alert_table(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None,
                attribution: str = "start") -> pd.DataFrame:
    """The risk alerts of the CSM for the period (see module docstring), oldest flag first.

    Returns
    -------
    pandas.DataFrame
        :data:`ALERT_COLUMNS`: the alert, its account (name, owner, segment, health score), the dates,
        ``outcome``, ``days_to_action`` (``Int64``, ``<NA>`` without action by ``as_of``),
        ``action_status`` (``within SLA``, ``late``, ``no action, SLA missed``, ``no action yet,
        within SLA``), ``within_sla`` (``boolean``; ``<NA>`` while still within the SLA),
        ``time_bucket`` and ``health_band`` (ordered categories). Empty with
        ``attrs["recorded"] = False`` when the book does not record risk alerts.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> t = alert_table(load_book(), "csm_03", Period.parse("2026-07", "2026-09"))
    >>> set(t["outcome"]) <= {"open", "saved", "churned"}
    True
    """
    acc = book_accounts(book, csm_id, period, attribution)
    if not book.recorded("risk_alerts"):
        return _empty(False)
    day = as_of_date(period, as_of)
    alerts = book.risk_alerts.merge(acc[["account_id", "csm_id"]], on="account_id", how="inner")
    alerts = alerts.loc[period.contains(alerts["flagged_date"]) & (alerts["flagged_date"] <= day)]
    return _alert_list(alerts, book, day)


@dataclass(frozen=True)
class AlertSummary:
    """One CSM's risk alerts for a period: outcomes, closed-alert rate and time to intervention.

    Counts and rates are None when the book does not record risk alerts (``recorded`` False);
    rates are None when their denominator is empty.
    """

    csm_id: str
    period: Period
    as_of: str
    recorded: bool
    saved: int | None
    churned: int | None
    open: int | None
    closed_alert_pct: float | None
    acted: int | None
    median_days_to_action: float | None
    sla_judged: int | None
    within_sla: int | None
    within_sla_pct: float | None
    table: pd.DataFrame = field(repr=False)
    sla_days: int = SLA_DAYS

    @property
    def closed(self) -> int | None:
        return None if self.saved is None or self.churned is None else self.saved + self.churned

    def sentence(self) -> str:
        """The summary in words (computed, never typed)."""
        if not self.recorded:
            return "This book does not record risk alerts, so the closed-alert rate and time to intervention are no data."
        if not len(self.table):
            return f"No risk alert was flagged on this book in {self.period}."
        text = (f"{self.closed} closed alert(s): {self.saved} saved, {self.churned} churned → closed-alert rate "
                f"{fmt.pct(self.closed_alert_pct)}; {self.open} still open. ")
        if self.acted:
            text += f"Median time to first action {self.median_days_to_action:g} day(s); "
        else:
            text += "No alert has a recorded first action; "
        if self.sla_judged:
            text += (f"{self.within_sla} of {self.sla_judged} alert(s) acted on within the {self.sla_days}-day SLA "
                     f"({fmt.pct(self.within_sla_pct)}).")
        else:
            text += f"no alert can be judged against the {self.sla_days}-day SLA yet."
        return text

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.sentence())}</p>"


def alert_summary(book: Book, csm_id: str, period: Period, as_of: str | pd.Timestamp | None = None,
                  attribution: str = "start") -> AlertSummary:
    """Summarise :func:`alert_table`: outcome counts (equal to the KPI parts ``alerts_saved``,
    ``alerts_churned``, ``open_alerts``), closed-alert rate, median days to first action over alerts acted
    on, and the share within the SLA over judged alerts (acted on, or older than the SLA without action).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> s = alert_summary(load_book(), "csm_01", Period.parse("2026-07", "2026-09"))
    >>> s.closed_alert_pct is None or 0 <= s.closed_alert_pct <= 100
    True
    """
    csm_id = book.check_csm(csm_id)
    day = as_of_date(period, as_of)
    table = alert_table(book, csm_id, period, day, attribution)
    common = dict(csm_id=csm_id, period=period, as_of=str(day.date()), table=table)
    if not table.attrs.get("recorded", True):
        return AlertSummary(recorded=False, saved=None, churned=None, open=None, closed_alert_pct=None, acted=None,
                            median_days_to_action=None, sla_judged=None, within_sla=None, within_sla_pct=None, **common)
    saved = int((table["outcome"] == "saved").sum())
    churned = int((table["outcome"] == "churned").sum())
    days = table["days_to_action"].dropna().astype("float64")
    judged = table["within_sla"].dropna()
    within = int(judged.sum())
    return AlertSummary(
        recorded=True, saved=saved, churned=churned, open=int((table["outcome"] == "open").sum()),
        closed_alert_pct=closed_alert_pct(saved, saved + churned), acted=int(len(days)),
        median_days_to_action=float(days.median()) if len(days) else None, sla_judged=int(len(judged)),
        within_sla=within, within_sla_pct=100.0 * within / len(judged) if len(judged) else None, **common)


# ------------------------------------------------------------------------------------------------
# what goes with a save
# ------------------------------------------------------------------------------------------------

def _day(as_of: str | pd.Timestamp) -> pd.Timestamp:
    """The as-of day (midnight); required here because a whole history has no period to default from."""
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        raise KitError("as_of is required: give the date the history runs up to as YYYY-MM-DD, e.g. 2026-09-30")
    try:
        return pd.Timestamp(as_of).normalize()
    except (ValueError, TypeError):
        raise KitError(f"as_of {as_of!r} is not a date; write it as YYYY-MM-DD") from None


def history(book: Book, as_of: str | pd.Timestamp, csm_id: str | None = None) -> pd.DataFrame:
    """Every risk alert flagged on or before ``as_of`` (the whole history), enriched like :func:`alert_table`.

    The owner is the account's owner on ``as_of`` (:meth:`kpi_kit.data.Book.owners`); with ``csm_id`` only
    that CSM's accounts. Used for :func:`save_predictors`, because one CSM's alerts in one quarter are
    usually too few to learn from.
    """
    if csm_id is not None:
        csm_id = book.check_csm(csm_id)
    if not book.recorded("risk_alerts"):
        return _empty(False)
    day = _day(as_of)
    accounts = book.accounts[["account_id"]].assign(csm_id=book.owners(day))
    if csm_id is not None:
        accounts = accounts.loc[accounts["csm_id"] == csm_id]
    alerts = book.risk_alerts.loc[book.risk_alerts["flagged_date"] <= day].merge(accounts, on="account_id", how="inner")
    return _alert_list(alerts, book, day)


RATE_COLUMNS = ["group", "n", "saved", "churned", "save_rate_pct", "few"]


def save_rates(alerts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Save rate per group over **closed** alerts (saved or churned): ``saved / n`` with ``n`` shown.

    Parameters
    ----------
    alerts
        :func:`alert_table` or :func:`history` rows.
    by
        ``time_bucket``, ``health_band``, ``segment`` or ``action_status`` (any column of ``alerts``).

    Returns
    -------
    pandas.DataFrame
        :data:`RATE_COLUMNS`: ``group``, ``n`` (closed alerts), ``saved``, ``churned``, ``save_rate_pct``
        (NaN when ``n`` is 0), ``few`` (``n`` < :data:`MIN_N`). Every bucket / band is listed, in order,
        even with ``n`` = 0; segments in the order enterprise, mid-market, smb.

    Examples
    --------
    >>> a = pd.DataFrame({"outcome": ["saved", "saved", "churned", "open"], "segment": ["smb", "smb", "smb", "smb"]})
    >>> save_rates(a, "segment")[["group", "n", "save_rate_pct"]].to_dict("records")
    [{'group': 'smb', 'n': 3, 'save_rate_pct': 66.66666666666667}]
    """
    if by not in alerts.columns:
        raise KitError(f"save_rates: no column {by!r}; use one of time_bucket, health_band, segment, action_status")
    closed = alerts.loc[alerts["outcome"].isin(["saved", "churned"])]
    if by == "time_bucket":
        groups = list(TIME_BUCKETS)
    elif by == "health_band":
        groups = list(HEALTH_BANDS)
    else:
        present = sorted(closed[by].dropna().astype("str").unique())
        groups = [s for s in SEGMENT_ORDER if s in present] + [s for s in present if s not in SEGMENT_ORDER]
    key = closed[by].astype("str")
    saved = (closed["outcome"] == "saved").groupby(key).sum()
    n = key.value_counts()
    out = pd.DataFrame({"group": pd.Series(groups, dtype="str")})
    out["n"] = out["group"].map(n).fillna(0).astype("int64")
    out["saved"] = out["group"].map(saved).fillna(0).astype("int64")
    out["churned"] = out["n"] - out["saved"]
    out["save_rate_pct"] = (100.0 * out["saved"] / out["n"].where(out["n"] > 0)).astype("float64")
    out["few"] = out["n"] < MIN_N
    return out[RATE_COLUMNS]


@dataclass(frozen=True)
class SavePredictors:
    """Save rates by time to intervention, segment and health band (see :func:`save_predictors`)."""

    scope: str
    as_of: str
    recorded: bool
    n_closed: int
    save_rate_pct: float | None
    by_time: pd.DataFrame
    by_segment: pd.DataFrame
    by_health: pd.DataFrame
    table: pd.DataFrame = field(repr=False)

    def sentence(self) -> str:
        """What the numbers say, with their counts; never more than the data allow."""
        if not self.recorded:
            return "This book does not record risk alerts, so nothing can be said about what predicts a save."
        if self.n_closed == 0:
            return f"No closed alert up to {self.as_of} in {self.scope}: nothing to learn from yet."
        fast = self.by_time.iloc[:2]
        slow = self.by_time.iloc[2:4]
        fast_n, slow_n = int(fast["n"].sum()), int(slow["n"].sum())
        text = (f"{self.n_closed} closed alerts in {self.scope} up to {self.as_of}, {fmt.pct(self.save_rate_pct)} saved. ")
        if fast_n and slow_n:
            fast_rate = 100.0 * fast["saved"].sum() / fast_n
            slow_rate = 100.0 * slow["saved"].sum() / slow_n
            text += (f"Acted on within {SLA_DAYS} days: {fmt.pct(fast_rate)} saved (n = {fast_n}); "
                     f"later: {fmt.pct(slow_rate)} (n = {slow_n})")
            text += " — too few late alerts to be sure." if slow_n < MIN_N else "."
        else:
            text += f"Not enough alerts on both sides of the {SLA_DAYS}-day SLA to compare."
        return text

    def _repr_html_(self) -> str:
        return f"<p>{fmt.text(self.sentence())}</p>" + self.table.to_html(index=False, escape=True)


def save_predictors(book: Book, as_of: str | pd.Timestamp, csm_id: str | None = None) -> SavePredictors:
    """Plain statistics on what goes with a save, over all closed alerts flagged up to ``as_of``.

    Save rates (:func:`save_rates`) by ``time_bucket``, ``segment`` and ``health_band`` of
    :func:`history` (the team by default, one CSM with ``csm_id``). ``table`` stacks the three with a
    ``factor`` column. Read with the counts: see the module docstring for the caveats.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> sp = save_predictors(load_book(), "2026-09-30")
    >>> list(sp.by_time["group"])[:2]
    ['0–3 days', '4–7 days']
    """
    alerts = history(book, as_of, csm_id)
    day = _day(as_of)
    scope = "the team" if csm_id is None else f"{book.csm_name(csm_id)}'s book"
    by_time, by_segment, by_health = (save_rates(alerts, by) for by in ("time_bucket", "segment", "health_band"))
    table = pd.concat([f.assign(factor=name) for name, f in (("time to first action", by_time), ("segment", by_segment),
                                                             ("health band (today's score)", by_health))],
                      ignore_index=True)[["factor", *RATE_COLUMNS]]
    n = int(by_time["n"].sum())
    saved = int(by_time["saved"].sum())
    return SavePredictors(scope=scope, as_of=str(day.date()), recorded=bool(alerts.attrs.get("recorded", True)),
                          n_closed=n, save_rate_pct=100.0 * saved / n if n else None, by_time=by_time,
                          by_segment=by_segment, by_health=by_health, table=table)


def save_rate_chart(rates: pd.DataFrame, title: str = "Save rate of closed alerts") -> alt.LayerChart:
    """Save rate per group (bars, 0–100 %) labelled with ``n``; groups with few alerts are drawn pale.

    Parameters
    ----------
    rates
        :func:`save_rates` output (``group, n, save_rate_pct, few``).

    Examples
    --------
    >>> r = pd.DataFrame({"group": ["a"], "n": [3], "saved": [2], "churned": [1], "save_rate_pct": [66.7], "few": [True]})
    >>> save_rate_chart(r).to_dict()["layer"][1]["mark"]["type"]
    'text'
    """
    missing = [c for c in ("group", "n", "save_rate_pct", "few") if c not in rates.columns]
    if missing:
        raise KitError(f"save_rate_chart: the frame lacks column(s) {', '.join(missing)}; pass save_rates() output")
    data = rates.assign(label="n = " + rates["n"].astype("int64").astype("str"),
                        reading=np.where(rates["few"], f"fewer than {MIN_N} alerts", "enough alerts"))
    data = data.assign(save_rate_pct=data["save_rate_pct"].fillna(0.0))
    order = data["group"].astype("str").tolist()
    base = alt.Chart(data)
    x = alt.X("group:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=120))
    bars = base.mark_bar().encode(
        x=x, y=alt.Y("save_rate_pct:Q", title="Saved (% of closed alerts)", scale=alt.Scale(domain=[0, 100])),
        opacity=alt.Opacity("reading:N", title=None, sort=["enough alerts", f"fewer than {MIN_N} alerts"],
                            scale=alt.Scale(domain=["enough alerts", f"fewer than {MIN_N} alerts"], range=[1.0, 0.35])),
        color=alt.value("#4e79a7"),
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("n:Q", title="Closed alerts"),
                 alt.Tooltip("save_rate_pct:Q", title="Saved %", format=".1f")],
    )
    labels = base.mark_text(dy=-6, baseline="bottom", fontSize=11).encode(x=x, y="save_rate_pct:Q", text="label:N")
    return alt.layer(bars, labels).properties(title=title, width=480, height=240)

