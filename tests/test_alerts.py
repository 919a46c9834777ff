"""kpi_kit.alerts and the exercises of notebook 09, on the seed's example and a hand-built book.

Period Q2 2025, as of 30 June 2025 (the period's last day). csm_a owns A1 (enterprise, health 40),
A2 (mid-market, health 80) and A3 (smb, no health score); csm_b owns B1 (enterprise, health 60).

    alert  account  flagged     first action   outcome   days  status (as of 2025-06-30)
    R1     A1       2025-04-01  2025-04-03     saved      2    within SLA
    R2     A2       2025-04-10  2025-04-20     churned   10    late
    R3     A1       2025-05-01  2025-05-05     saved      4    within SLA
    R4     A3       2025-06-01  -              open       -    no action, SLA missed (29 days waited)
    R5     A2       2025-06-27  -              open       -    no action yet, within SLA (3 days waited)
    R6     A1       2025-03-15  2025-03-30     saved     15    (flagged before the period)
    R7     B1       2025-04-05  -              churned    -    (csm_b's account)
    R8     A3       2025-05-10  2025-05-08     churned    0    within SLA (action before the flag counts as 0)
    R9     A3       2025-06-20  2025-07-03     open       -    no action, SLA missed (the action is after as-of)

csm_a in Q2: R1 R2 R3 R4 R5 R8 R9 -> saved 2 (R1, R3), churned 2 (R2, R8), open 3 (R4, R5, R9)
    closed-alert rate 100 × 2 / 4 = 50.0 %
    days to action 0, 2, 4, 10 -> median (2 + 4) / 2 = 3.0; mean 16 / 4 = 4.0
    SLA judged: R1 R2 R3 R4 R8 R9 (R5 still in its window) -> within R1 R3 R8 = 3 of 6 = 50.0 %
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_kit import alerts
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import alerts as ex9
from kpi_kit.metrics import csm_metrics
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q2 = Period.parse("2025-04", "2025-06")


def account(aid: str, csm: str, segment: str, health: float | str) -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": "", "health_score": health}


def alert(aid: str, acct: str, flagged: str, outcome: str, action: str = "") -> dict:
    return {"alert_id": aid, "account_id": acct, "flagged_date": flagged, "outcome": outcome,
            "first_action_date": action, "resolved_date": ""}


ALERTS = [
    alert("R1", "A1", "2025-04-01", "saved", "2025-04-03"),
    alert("R2", "A2", "2025-04-10", "churned", "2025-04-20"),
    alert("R3", "A1", "2025-05-01", "saved", "2025-05-05"),
    alert("R4", "A3", "2025-06-01", "open"),
    alert("R5", "A2", "2025-06-27", "open"),
    alert("R6", "A1", "2025-03-15", "saved", "2025-03-30"),
    alert("R7", "B1", "2025-04-05", "churned"),
    alert("R8", "A3", "2025-05-10", "churned", "2025-05-08"),
    alert("R9", "A3", "2025-06-20", "open", "2025-07-03"),
]


def make_book(book_dir, **extra):
    return load_book(book_dir(
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
        accounts=[account("A1", "csm_a", "enterprise", 40), account("A2", "csm_a", "mid-market", 80),
                  account("A3", "csm_a", "smb", ""), account("B1", "csm_b", "enterprise", 60)],
        arr_monthly=[r for a in ("A1", "A2", "A3", "B1") for r in arr_rows(a, {"2025-03": 100_000, "2025-06": 100_000})],
        risk_alerts=ALERTS, **extra))


@pytest.fixture
def book(book_dir):
    return make_book(book_dir)


def test_seed_closed_alert_example():
    # 100 × 17 / 20 = 85.0
    assert alerts.closed_alert_pct(17, 20) == 85.0


def test_closed_alert_pct_edges():
    assert alerts.closed_alert_pct(0, 0) is None       # nothing closed: no data, not 0
    assert alerts.closed_alert_pct(0, 4) == 0.0
    for saved, closed in ((5, 4), (-1, 3), (True, 3), (1.5, 3)):
        with pytest.raises(KitError):
            alerts.closed_alert_pct(saved, closed)


def test_alert_table(book):
    t = alerts.alert_table(book, "csm_a", Q2).set_index("alert_id")
    assert t.index.tolist() == ["R1", "R2", "R3", "R8", "R4", "R9", "R5"]  # by flagged date
    assert t["days_to_action"].tolist() == [2, 10, 4, 0, pd.NA, pd.NA, pd.NA]
    assert t["action_status"].tolist() == ["within SLA", "late", "within SLA", "within SLA", "no action, SLA missed",
                                           "no action, SLA missed", "no action yet, within SLA"]
    assert t["within_sla"].tolist() == [True, False, True, True, False, False, pd.NA]
    assert t["time_bucket"].astype(str).tolist() == ["0–3 days", "8–14 days", "4–7 days", "0–3 days",
                                                     "no action recorded", "no action recorded", "no action recorded"]
    assert t.at["R1", "health_band"] == "below 50" and t.at["R2", "health_band"] == "70 and above"
    assert t.at["R4", "health_band"] == "no score"
    assert t.at["R9", "first_action_date"] == pd.Timestamp("2025-07-03")  # kept as recorded, not counted as of June


def test_alert_summary_matches_hand_counts_and_the_kpis(book):
    s = alerts.alert_summary(book, "csm_a", Q2)
    assert (s.saved, s.churned, s.open, s.closed) == (2, 2, 3, 4)
    assert s.closed_alert_pct == 50.0
    assert (s.acted, s.median_days_to_action) == (4, 3.0)
    assert (s.within_sla, s.sla_judged, s.within_sla_pct) == (3, 6, 50.0)
    m = csm_metrics(book, "csm_a", Q2)
    assert (m["alerts_saved"], m["alerts_churned"], m["open_alerts"]) == (s.saved, s.churned, s.open)
    assert m["closed_alert_pct"] == s.closed_alert_pct
    text = s.sentence()
    assert "2 saved, 2 churned" in text and "50.0 %" in text and "3 of 6" in text
    assert "Median time to first action 3 day(s)" in text


def test_as_of_earlier_in_the_period(book):
    # as of 2025-04-15: R1 (acted day 2) and R2 (flagged 04-10, acted 04-20 = after as-of, waited 5 days)
    s = alerts.alert_summary(book, "csm_a", Q2, as_of="2025-04-15")
    assert s.table["alert_id"].tolist() == ["R1", "R2"]
    assert s.table["action_status"].tolist() == ["within SLA", "no action yet, within SLA"]
    assert (s.sla_judged, s.within_sla, s.median_days_to_action) == (1, 1, 2.0)


def test_other_csm_and_empty(book):
    s = alerts.alert_summary(book, "csm_b", Q2)
    assert (s.saved, s.churned, s.open) == (0, 1, 0) and s.closed_alert_pct == 0.0
    assert s.median_days_to_action is None and s.within_sla_pct == 0.0   # R7: no action, 86 days -> missed
    quiet = alerts.alert_summary(book, "csm_b", Period.parse("2025-01", "2025-02"))
    assert quiet.closed_alert_pct is None and "No risk alert was flagged" in quiet.sentence()


def test_not_recorded_is_no_data(book_dir):
    b = make_book(book_dir, book="not_recorded: [risk_alerts]\n")
    s = alerts.alert_summary(b, "csm_a", Q2)
    assert not s.recorded and s.saved is None and s.closed_alert_pct is None and s.table.empty
    assert "does not record risk alerts" in s.sentence()
    sp = alerts.save_predictors(b, "2025-06-30")
    assert not sp.recorded and sp.n_closed == 0 and sp.save_rate_pct is None
    assert ex9.q_9_1(b, "csm_a", Q2).verdict(None)[0] and ex9.q_9_2(b, "csm_a", Q2).verdict(None)[0]


def test_save_predictors_on_the_team_history(book):
    sp = alerts.save_predictors(book, "2025-06-30")
    # closed up to 06-30: R1 s, R2 c, R3 s, R6 s, R7 c, R8 c -> 3 of 6 saved
    assert (sp.n_closed, sp.save_rate_pct) == (6, 50.0)
    t = sp.by_time.set_index("group")
    # 0–3: R1 s, R8 c; 4–7: R3 s; 8–14: R2 c; 15+: R6 s; no action: R7 c
    assert t["n"].tolist() == [2, 1, 1, 1, 1] and t["saved"].tolist() == [1, 1, 0, 1, 0]
    assert t["save_rate_pct"].tolist() == [50.0, 100.0, 0.0, 100.0, 0.0]
    seg = sp.by_segment.set_index("group")
    # enterprise: R1 R3 R6 (A1) saved, R7 (B1) churned -> 3 of 4; mid-market R2 c; smb R8 c
    assert seg.index.tolist() == ["enterprise", "mid-market", "smb"]
    assert seg.at["enterprise", "save_rate_pct"] == 75.0 and seg.at["smb", "n"] == 1
    health = sp.by_health.set_index("group")
    # below 50 (A1): 3 of 3; 50–69 (B1): R7 churned; 70+ (A2): R2 churned; no score (A3): R8 churned
    assert health["n"].tolist() == [3, 1, 1, 1] and health.at["below 50", "save_rate_pct"] == 100.0
    assert sp.table["few"].all()                         # every group has fewer than 10
    # within 7 days (first two buckets): 2 of 3 saved = 66.7 %; later (8–14, 15+): 1 of 2 = 50.0 %
    assert "66.7 % saved (n = 3)" in sp.sentence() and "50.0 % (n = 2)" in sp.sentence()
    assert "too few" in sp.sentence()


def test_save_predictors_for_one_csm(book):
    sp = alerts.save_predictors(book, "2025-06-30", csm_id="csm_b")
    assert sp.n_closed == 1 and sp.save_rate_pct == 0.0 and sp.scope == "Ben's book"
    with pytest.raises(KitError, match="as_of is required"):
        alerts.save_predictors(book, "")


def test_save_rates_on_a_small_frame():
    a = pd.DataFrame({"outcome": ["saved", "saved", "churned", "open"], "segment": ["smb", "smb", "smb", "smb"]})
    rates = alerts.save_rates(a, "segment")
    # 2 saved of 3 closed (the open alert is not closed)
    assert rates[["group", "n", "saved", "churned"]].to_dict("records") == [{"group": "smb", "n": 3, "saved": 2, "churned": 1}]
    assert rates.at[0, "save_rate_pct"] == pytest.approx(200 / 3)
    with pytest.raises(KitError, match="no column"):
        alerts.save_rates(a, "colour")


def test_save_rate_chart(book):
    spec = alerts.save_rate_chart(alerts.save_predictors(book, "2025-06-30").by_time).to_dict()
    assert spec["layer"][0]["mark"]["type"] == "bar" and spec["layer"][1]["mark"]["type"] == "text"
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    assert [r["label"] for r in rows] == ["n = 2", "n = 1", "n = 1", "n = 1", "n = 1"]
    with pytest.raises(KitError):
        alerts.save_rate_chart(pd.DataFrame({"group": ["a"]}))


def test_exercise_9_1(book):
    q = ex9.q_9_1(book, "csm_a", Q2)
    assert q.expected == 50.0
    ok, msg = q.verdict(100 * 2 / 7)                    # open alerts counted: 2 saved of all 7
    assert not ok and "open alerts in the denominator" in msg


def test_exercise_9_2(book):
    q = ex9.q_9_2(book, "csm_a", Q2)
    assert q.expected == 3.0
    ok, msg = q.verdict(4.0)                              # the mean of 0, 2, 4, 10
    assert not ok and "median" in msg
