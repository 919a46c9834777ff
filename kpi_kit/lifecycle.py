"""Lifecycle touchpoints: which required touches fell due, which were done in time, which are overdue.

Required touchpoints and their windows (day 0 = the anchor date; both ends of a window count):

=====================  ==================  =======================  =====================
touchpoint             anchor              due                      window (done between)
=====================  ==================  =======================  =====================
onboarding_welcome     customer_since      day 1                    day 0 .. day 3
onboarding_checkin     customer_since      day 7                    day 4 .. day 10
onboarding_review      customer_since      day 30                   day 23 .. day 37
adoption_assessment    customer_since      day 60                   day 53 .. day 67
renewal_180/90/60/30   renewal_date        180/90/60/30 days        14 days before the due
                                           before renewal           day .. 7 days after it
risk_intervention      flagged_date        day 7                    day 0 .. day 7
escalation_response    opened_at           24 hours later           csm_engaged_at within
                                                                    24 calendar hours
=====================  ==================  =======================  =====================

Matching: a touchpoint is **met** when an activity on the same account with the touchpoint's
``purpose`` is dated inside the window (any type, by anyone). A risk intervention is also met when the
alert's ``first_action_date`` lies in the window. An escalation response is met when
``csm_engaged_at - opened_at`` is at most 24 hours (calendar hours, not business hours).

A touchpoint **falls due in a period** when its due date lies in the period. As of a date, a touchpoint
whose window has not closed yet and is not met is **pending** (not counted); one whose window closed
without a match is **overdue**. Compliance % = met / (met + overdue); ``None`` when nothing was due.
When the book does not record activities (``book.yaml`` ``not_recorded: [activities]``) compliance is
``None`` (no data): the touchpoints are CSM activities. Escalation rows are still listed for information.
"""

from __future__ import annotations

import pandas as pd

ONBOARDING: tuple[tuple[str, int, int, int], ...] = (
    # purpose, due day, window start day, window end day (relative to customer_since)
    ("onboarding_welcome", 1, 0, 3),
    ("onboarding_checkin", 7, 4, 10),
    ("onboarding_review", 30, 23, 37),
    ("adoption_assessment", 60, 53, 67),
)
RENEWAL_DAYS: tuple[int, ...] = (180, 90, 60, 30)
RENEWAL_EARLY, RENEWAL_LATE = 14, 7
RISK_DAYS = 7
ESCALATION_HOURS = 24

COLUMNS = ["account_id", "csm_id", "touchpoint", "anchor", "due", "window_start", "window_end", "status"]

#: Each touchpoint in words, for reports (``renewal_90`` -> "renewal touch 90 days before renewal").
TOUCHPOINT_LABELS: dict[str, str] = {
    **{purpose: f"{purpose.replace('_', ' ').replace('checkin', 'check-in')}, day {due} after the customer start"
       for purpose, due, _w0, _w1 in ONBOARDING},
    **{f"renewal_{days}": f"renewal touch {days} days before renewal" for days in RENEWAL_DAYS},
    "risk_intervention": f"risk intervention within {RISK_DAYS} days of the alert",
    "escalation_response": f"escalation response within {ESCALATION_HOURS} hours",
}


def touchpoint_label(touchpoint: str) -> str:
    """The touchpoint in words (:data:`TOUCHPOINT_LABELS`); an unknown name is returned as it is.

    >>> touchpoint_label("renewal_90"), touchpoint_label("onboarding_checkin")
    ('renewal touch 90 days before renewal', 'onboarding check-in, day 7 after the customer start')
    """
    return TOUCHPOINT_LABELS.get(touchpoint, touchpoint)


def describe_windows() -> str:
    """The touchpoint windows in one plain sentence, for a report reader (built from the constants above).

    >>> print(describe_windows())  # doctest: +NORMALIZE_WHITESPACE
    Windows: onboarding welcome by day 3, check-in days 4–10, review days 23–37 and adoption assessment days
    53–67 after the customer start; renewal touches 180, 90, 60 and 30 days before renewal, each done from 14
    days before to 7 days after that date; a risk intervention within 7 days of the alert; an escalation
    response within 24 hours.
    """
    onboarding = []
    for purpose, _due, w0, w1 in ONBOARDING:
        name = purpose.replace("onboarding_", "").replace("checkin", "check-in").replace("_", " ")
        onboarding.append(f"{name} by day {w1}" if w0 == 0 else f"{name} days {w0}–{w1}")
    renewal = [str(d) for d in RENEWAL_DAYS]
    return (f"Windows: onboarding {', '.join(onboarding[:-1])} and {onboarding[-1]} after the customer start; "
            f"renewal touches {', '.join(renewal[:-1])} and {renewal[-1]} days before renewal, each done from "
            f"{RENEWAL_EARLY} days before to {RENEWAL_LATE} days after that date; a risk intervention within "
            f"{RISK_DAYS} days of the alert; an escalation response within {ESCALATION_HOURS} hours.")


def _days(n: int) -> pd.Timedelta:
    return pd.Timedelta(days=n)


def required_touchpoints(accounts: pd.DataFrame, alerts: pd.DataFrame | None,
                         start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Activity-evidenced touchpoints due in ``[start, end]`` for ``accounts`` (columns account_id, csm_id,
    customer_since, renewal_date) and ``alerts`` (account_id, flagged_date, optional first_action_date)."""
    parts: list[pd.DataFrame] = []
    base = accounts[["account_id", "csm_id", "customer_since", "renewal_date"]]
    # only accounts with a touchpoint that can fall due in [start, end] (the same rows, far fewer to build)
    first_due, last_due = ONBOARDING[0][1], ONBOARDING[-1][1]
    onboarding = base.loc[(base["customer_since"] >= start - _days(last_due)) & (base["customer_since"] <= end - _days(first_due))]
    renew = base.loc[(base["renewal_date"] >= start + _days(min(RENEWAL_DAYS))) &
                     (base["renewal_date"] <= end + _days(max(RENEWAL_DAYS)))]
    for purpose, due, w0, w1 in ONBOARDING:
        parts.append(pd.DataFrame({
            "account_id": onboarding["account_id"], "csm_id": onboarding["csm_id"], "touchpoint": purpose,
            "anchor": onboarding["customer_since"], "due": onboarding["customer_since"] + _days(due),
            "window_start": onboarding["customer_since"] + _days(w0), "window_end": onboarding["customer_since"] + _days(w1),
        }))
    for days in RENEWAL_DAYS:
        due = renew["renewal_date"] - _days(days)
        parts.append(pd.DataFrame({
            "account_id": renew["account_id"], "csm_id": renew["csm_id"], "touchpoint": f"renewal_{days}",
            "anchor": renew["renewal_date"], "due": due,
            "window_start": due - _days(RENEWAL_EARLY), "window_end": due + _days(RENEWAL_LATE),
        }))
    if alerts is not None and len(alerts):
        owned = alerts.merge(base[["account_id", "csm_id"]], on="account_id", how="inner")
        risk = pd.DataFrame({
            "account_id": owned["account_id"], "csm_id": owned["csm_id"], "touchpoint": "risk_intervention",
            "anchor": owned["flagged_date"], "due": owned["flagged_date"] + _days(RISK_DAYS),
            "window_start": owned["flagged_date"], "window_end": owned["flagged_date"] + _days(RISK_DAYS),
        })
        if "first_action_date" in owned.columns:
            risk["first_action_date"] = owned["first_action_date"]
        parts.append(risk)
    table = pd.concat(parts, ignore_index=True)
    in_period = (table["due"] >= start) & (table["due"] <= end)
    return table.loc[in_period].reset_index(drop=True)


def assess(due: pd.DataFrame, activities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Add ``status`` (met / overdue / pending) to ``due`` using purposeful ``activities`` up to ``as_of``."""
    out = due.copy()
    if "purpose" in activities.columns and len(out):
        # only activities dated inside some window and up to as_of can match: select them by date first
        # (a cheap datetime comparison) so the merge below sees a few rows, not the whole history
        dates = activities["date"]
        near = (dates >= out["window_start"].min()) & (dates <= min(out["window_end"].max(), as_of))
        done = activities.loc[near, ["account_id", "purpose", "date"]]
        done = done.loc[done["purpose"].notna()]
    else:
        done = activities.iloc[0:0][["account_id", "date"]].assign(purpose="")
    out["_key"] = range(len(out))
    pairs = out[["_key", "account_id", "touchpoint", "window_start", "window_end"]].merge(
        done, left_on=["account_id", "touchpoint"], right_on=["account_id", "purpose"], how="inner")
    hit = pairs.loc[(pairs["date"] >= pairs["window_start"]) & (pairs["date"] <= pairs["window_end"]), "_key"]
    met = out["_key"].isin(hit)
    if "first_action_date" in out.columns:
        fa = out["first_action_date"]
        met |= fa.notna() & (fa >= out["window_start"]) & (fa <= out["window_end"]) & (fa <= as_of)
    closed = out["window_end"] < as_of.normalize()
    out["status"] = "pending"
    out.loc[met, "status"] = "met"
    out.loc[~met & closed, "status"] = "overdue"
    return out.drop(columns=["_key", "first_action_date"], errors="ignore")


def escalation_touchpoints(escalations: pd.DataFrame, accounts: pd.DataFrame,
                           start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Escalation-response touchpoints (24 calendar hours) for escalations opened in ``[start, end]``."""
    owned = escalations.merge(accounts[["account_id", "csm_id"]], on="account_id", how="inner")
    owned = owned.loc[(owned["opened_at"] >= start) & (owned["opened_at"] < end + _days(1))]
    limit = owned["opened_at"] + pd.Timedelta(hours=ESCALATION_HOURS)
    engaged = owned["csm_engaged_at"]
    met = engaged.notna() & (engaged <= limit)
    status = pd.Series("pending", index=owned.index, dtype="str")
    status[met] = "met"
    status[~met & (limit < as_of)] = "overdue"
    return pd.DataFrame({
        "account_id": owned["account_id"], "csm_id": owned["csm_id"], "touchpoint": "escalation_response",
        "anchor": owned["opened_at"], "due": limit, "window_start": owned["opened_at"], "window_end": limit,
        "status": status,
    }).reset_index(drop=True)
