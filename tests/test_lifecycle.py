"""Lifecycle touchpoint windows, matching and statuses (hand-computed)."""

from __future__ import annotations

import pytest

from kpi_kit.data import load_book
from kpi_kit.metrics import csm_metrics, lifecycle_table
from kpi_kit.periods import Period
from tests.test_metrics import acc, act

CSMS = [{"csm_id": "c", "csm_name": "C", "team": "T"}]
ARR = [{"month": m, "account_id": a, "arr": 100} for m in ("2025-03", "2025-06") for a in ("N", "R")]


def _book(book_dir, activities, escalations=None, alerts=None):
    files = dict(csms=CSMS, arr_monthly=ARR, activities=activities, risk_alerts=alerts or [],
                 accounts=[acc("N", "c", since="2025-04-01"), acc("R", "c", renewal="2025-08-29")])
    if escalations is not None:
        files["escalations"] = escalations
    return load_book(book_dir(**files))


def test_onboarding_window_edges(book_dir):
    # N became a customer on 1 April: welcome due 2 Apr (window 1–4 Apr), check-in due 8 Apr (5–11 Apr),
    # review due 1 May (24 Apr–8 May), adoption assessment due 31 May (24 May–7 Jun).
    book = _book(book_dir, [
        act(1, "2025-04-04", "N", "c", "call", "onboarding_welcome"),      # last day of the window: met
        act(2, "2025-04-12", "N", "c", "call", "onboarding_checkin"),      # one day late: overdue
        act(3, "2025-04-24", "N", "c", "meeting", "onboarding_review"),    # first day of the window: met
        act(4, "2025-05-23", "N", "c", "call", "adoption_assessment"),     # one day early: overdue
    ])
    table = lifecycle_table(book, Period.parse("2025-04", "2025-06"), as_of=Period.parse("2025-06").end_date)
    status = dict(zip(table.loc[table["account_id"] == "N", "touchpoint"], table.loc[table["account_id"] == "N", "status"]))
    assert status == {"onboarding_welcome": "met", "onboarding_checkin": "overdue",
                      "onboarding_review": "met", "adoption_assessment": "overdue"}


def test_renewal_touchpoints_and_pending(book_dir):
    # R renews 29 Aug 2025: renewal_180 due 2 Mar, renewal_90 due 31 May (window 17 May–7 Jun),
    # renewal_60 due 30 Jun (16 Jun–7 Jul), renewal_30 due 30 Jul (outside Q2).
    book = _book(book_dir, [act(1, "2025-05-20", "R", "c", "email", "renewal_90")])
    period = Period.parse("2025-04", "2025-06")
    # as of 30 June the renewal_60 window is still open and nothing was done: pending, not overdue
    table = lifecycle_table(book, period, as_of=period.end_date)
    r = table.loc[table["account_id"] == "R"].set_index("touchpoint")["status"].to_dict()
    assert r == {"renewal_90": "met", "renewal_60": "pending"}
    m = csm_metrics(book, "c", "2025-04", "2025-06")
    # N's four onboarding touchpoints are all overdue (no activities); R: 1 met, 1 pending
    # -> met 1, overdue 4, pending 1 -> compliance 1 / 5 = 20 %
    assert (m["lifecycle_met"], m["lifecycle_overdue"], m["lifecycle_pending"]) == (1, 4, 1)
    assert m["lifecycle_compliance_pct"] == pytest.approx(20.0)


def test_escalation_response_is_24_calendar_hours(book_dir):
    esc = [
        {"escalation_id": "E1", "account_id": "R", "opened_at": "2025-05-02T17:00:00", "csm_engaged_at": "2025-05-03T17:00:00"},  # exactly 24 h: met
        {"escalation_id": "E2", "account_id": "R", "opened_at": "2025-05-02T17:00:00", "csm_engaged_at": "2025-05-03T17:01:00"},  # 24 h 1 min: overdue
        {"escalation_id": "E3", "account_id": "R", "opened_at": "2025-05-09T10:00:00-07:00", "csm_engaged_at": "2025-05-09T18:00:00Z"},  # 1 h later: met
    ]
    book = _book(book_dir, [], escalations=esc)
    period = Period.parse("2025-04", "2025-06")
    table = lifecycle_table(book, period, as_of=period.end_date)
    esc_rows = table.loc[table["touchpoint"] == "escalation_response"]
    by_anchor = esc_rows.groupby(esc_rows["anchor"].astype(str))["status"].apply(sorted).to_dict()
    # E3 opened 10:00 at UTC-7 = 17:00 UTC, engaged 18:00 UTC: one hour
    assert by_anchor == {"2025-05-02 17:00:00": ["met", "overdue"], "2025-05-09 17:00:00": ["met"]}
