"""Strategic lists (kpi_kit.strategic) on a hand-built book; every expected value is worked out in comments.

The book: csm_a (Ana) owns A1..A6, csm_b (Ben) owns B1; both live in the same files, so every test
also checks that one CSM's list never shows the other's accounts. Period Q2 2025 (April–June):
beginning ARR = March, ending ARR = June; the default as-of day is 30 June 2025.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_kit import strategic
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.metrics import csm_metrics
from kpi_kit.periods import Period
from kpi_kit.scorecard import scorecard
from tests.conftest import arr_rows, write_book
from tests.test_metrics import act

Q2 = Period.parse("2025-04", "2025-06")
MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06")


def account(aid: str, csm: str, segment: str, renewal: str = "", health: float | str = "",
            since: str = "2020-01-01") -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": since, "renewal_date": renewal, "health_score": health}


def alert(aid: str, acct: str, flagged: str, outcome: str, first_action: str = "") -> dict:
    return {"alert_id": aid, "account_id": acct, "flagged_date": flagged, "outcome": outcome,
            "first_action_date": first_action, "resolved_date": ""}


def sql(sid: str, acct: str, csm: str, created: str, status: str, closed: str = "") -> dict:
    return {"sql_id": sid, "created_date": created, "account_id": acct, "csm_id": csm, "expansion_arr": 10_000,
            "status": status, "closed_date": closed}


def usage(month: str, acct: str, adoption: float, purchased: float, used: float) -> dict:
    return {"month": month, "account_id": acct, "feature_adoption_pct": adoption, "seats_purchased": purchased,
            "seats_used": used}


ACCOUNTS = [
    account("A1", "csm_a", "enterprise", renewal="2025-08-15", health=40),
    account("A2", "csm_a", "mid-market", renewal="2025-09-26", health=80),
    account("A3", "csm_a", "smb"),
    account("A4", "csm_a", "smb", renewal="2026-05-10", health=45, since="2025-05-10"),
    account("A5", "csm_a", "smb", health=10),                   # never has ARR: not in any book
    account("A6", "csm_a", "enterprise", renewal="2025-07-20", health=90),
    account("B1", "csm_b", "enterprise", renewal="2025-07-01", health=20),
]
ARR = [
    *arr_rows("A1", dict(zip(MONTHS, (1_000_000, 1_000_000, 1_300_000, 1_300_000)))),  # expands by 300,000
    *arr_rows("A2", dict(zip(MONTHS, (900_000, 900_000, 800_000, 800_000)))),          # contracts by 100,000
    *arr_rows("A3", dict(zip(MONTHS[:2], (100_000, 100_000)))),                         # churns in May
    *arr_rows("A4", {"2025-05": 500_000, "2025-06": 500_000}),                          # new logo
    *arr_rows("A6", dict(zip(MONTHS, (200_000,) * 4))),                                 # flat
    *arr_rows("B1", dict(zip(MONTHS, (50_000, 50_000, 60_000, 60_000)))),
]
ACTIVITIES = [
    act(1, "2025-04-02", "A1", "csm_a", "call"),
    act(2, "2025-06-25", "A1", "csm_b", "check_in"),               # another CSM touching csm_a's account
    act(3, "2025-03-15", "A2", "csm_a", "meeting"),                # before the period
    act(4, "2025-06-28", "A2", "csm_a", "automated_email"),
    act(5, "2025-07-02", "A6", "csm_a", "call"),                   # after the as-of day
    act(6, "2025-05-15", "A4", "csm_a", "qbr"),
    act(7, "2025-05-20", "A4", "csm_a", "email"),
    act(8, "2025-05-05", "B1", "csm_b", "call"),
    act(9, "2025-04-10", "A5", "csm_a", "call"),                   # csm_a's call on an account outside the book
    act(10, "2025-05-10", "A4", "csm_a", "email", "onboarding_welcome"),
    act(11, "2025-06-18", "A6", "csm_a", "call", "renewal_30"),
]
ALERTS = [
    alert("R1", "A2", "2025-04-05", "open"),
    alert("R2", "A2", "2025-06-01", "open"),
    alert("R3", "A1", "2025-05-01", "saved", first_action="2025-05-02"),
    alert("R4", "A6", "2025-07-05", "open"),                       # flagged after 30 June
    alert("R5", "A5", "2025-05-01", "open"),                       # A5 is not in the book
    alert("R6", "B1", "2025-05-01", "open"),
    alert("R7", "A3", "2025-03-01", "open"),
    alert("R8", "A1", "2025-06-20", "open"),
]
SQLS = [
    sql("S1", "A2", "csm_a", "2025-06-01", "won", closed="2025-07-10"),   # still open on 30 June
    sql("S2", "A6", "csm_a", "2025-05-01", "lost", closed="2025-06-15"),  # closed before 30 June
]
USAGE = [
    usage("2025-05", "A1", 60, 100, 80),
    usage("2025-06", "A1", 65, 100, 95),         # latest: adoption 65 < 70 and 95 >= 90 % of 100
    usage("2025-06", "A2", 85, 50, 45),          # 45 >= 90 % of 50 = 45 (boundary): seat expansion
    usage("2025-06", "A4", 90, 20, 10),          # no signal
    usage("2025-06", "A6", 69.9, 10, 8),         # adoption play only
    usage("2025-07", "A6", 95, 10, 8),           # after June: used only when as-of is in July
    usage("2025-06", "A5", 5, 10, 10),           # not in the book
    usage("2025-06", "B1", 10, 10, 10),          # csm_b's
]
OTHER_CSM_IDS = {"B1"}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Loaded once per module: the strategic functions are pure, and a test checks they modify nothing."""
    return load_book(write_book(tmp_path_factory.mktemp("strategic"),
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
        accounts=ACCOUNTS, arr_monthly=ARR, activities=ACTIVITIES, risk_alerts=ALERTS, sqls=SQLS, usage=USAGE,
        targets="csms:\n  csm_a: {calls_per_month: 25}\n",
    ))


def _ids(frame: pd.DataFrame) -> list[str]:
    return frame["account_id"].tolist()


# --------------------------------------------------------------------------------------------
# at-risk accounts
# --------------------------------------------------------------------------------------------

def test_at_risk_accounts(book):
    table = strategic.at_risk_accounts(book, "csm_a", Q2)
    # book = A1, A2, A3, A4, A6 (A5 has no ARR). As of 30 June:
    #   A1 health 40 < 50 and R8 open (R3 was saved)       ARR 1,300,000
    #   A2 R1 + R2 open, health 80                          ARR   800,000
    #   A4 health 45 < 50                                   ARR   500,000
    #   A3 R7 open (health blank) but ARR 0: churned in May, lost rather than at risk -> left out
    #   A6 health 90, R4 flagged 5 July -> not at risk yet
    assert _ids(table) == ["A1", "A2", "A4"]
    assert table["arr"].tolist() == [1_300_000, 800_000, 500_000]
    assert table["open_alerts"].tolist() == [1, 2, 0]
    assert table["oldest_open_alert"].iloc[1] == pd.Timestamp("2025-04-05")
    assert table["reason"].tolist() == [
        "1 open risk alert (oldest flagged 2025-06-20); low health 40 (below 50)",
        "2 open risk alerts (oldest flagged 2025-04-05)",
        "low health 45 (below 50)",
    ]
    assert table["renewal_date"].iloc[0] == pd.Timestamp("2025-08-15")


def test_at_risk_as_of_later_day_adds_newly_flagged(book):
    # on 10 July R4 (flagged 5 July) is open too: A6 joins with ARR 200,000 after A4 (A3 churned: left out)
    table = strategic.at_risk_accounts(book, "csm_a", Q2, as_of="2025-07-10")
    assert _ids(table) == ["A1", "A2", "A4", "A6"]


def test_at_risk_without_health_column_or_alerts(book_dir):
    no_health = [{k: v for k, v in a.items() if k != "health_score"} for a in ACCOUNTS]
    book = load_book(book_dir(csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"},
                                    {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
                              accounts=no_health, arr_monthly=ARR, risk_alerts=ALERTS))
    table = strategic.at_risk_accounts(book, "csm_a", Q2)
    # only open alerts count now: A1 (R8), A2 (R1, R2) (A3's R7 is on a churned account); A4's low health is unknown
    assert _ids(table) == ["A1", "A2"]
    assert table["health_score"].isna().all()
    unrecorded = load_book(book_dir(csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}],
                                    accounts=[account("A1", "csm_a", "smb", health=30)],
                                    arr_monthly=arr_rows("A1", {"2025-06": 100}), book="not_recorded: [risk_alerts]\n"))
    table = strategic.at_risk_accounts(unrecorded, "csm_a", Q2)
    # alerts not recorded: open_alerts is unknown (<NA>), not 0; health 30 still flags it
    assert _ids(table) == ["A1"] and table["open_alerts"].isna().all()
    assert table.attrs["not_recorded"] == ("risk_alerts",)


# --------------------------------------------------------------------------------------------
# renewals due
# --------------------------------------------------------------------------------------------

def test_renewals_due(book):
    table = strategic.renewals_due(book, "csm_a", "2025-06-30", period=Q2)
    # window (30 Jun, 28 Sep]: A6 20 Jul (20 days), A1 15 Aug (31 + 15 = 46), A2 26 Sep (31 + 31 + 26 = 88);
    # A4 (May 2026) and A3 (blank) are outside; B1 (1 Jul) is csm_b's
    assert _ids(table) == ["A6", "A1", "A2"]
    assert table["days_to_renewal"].tolist() == [20, 46, 88]
    # last touch on or before 30 June, any type, anyone: A6 the renewal call 18 June (12 days; its 2 July
    # call is after the day); A1 csm_b's check-in 25 June (5 days); A2 the automated email 28 June (2 days)
    assert table["last_touch"].tolist() == [pd.Timestamp("2025-06-18"), pd.Timestamp("2025-06-25"),
                                            pd.Timestamp("2025-06-28")]
    assert table["days_since_touch"].tolist() == [12, 5, 2]
    # contacted = a non-automated activity after 1 April (30 June - 90 days): A6 yes (18 Jun call), A1 yes
    # (2 Apr call, 25 Jun check-in), A2 no (15 March meeting too old, 28 June email automated)
    assert table["contacted_90d"].tolist() == [True, True, False]
    # open alerts on 30 June: A6 0 (R4 flagged 5 July), A1 1 (R8), A2 2 (R1, R2)
    assert table["open_alerts"].tolist() == [0, 1, 2]
    assert table["arr"].tolist() == [200_000, 1_300_000, 800_000]


def test_renewals_due_never_touched(book_dir):
    book = load_book(book_dir(csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
                              accounts=[account("N", "c", "smb", renewal="2025-07-31")],
                              arr_monthly=arr_rows("N", {"2025-06": 100}),
                              activities=[act(1, "2025-07-01", "N", "c", "call")]))
    table = strategic.renewals_due(book, "c", "2025-06-30")
    # the only activity is after the day: never touched -> NaT / <NA>, not 0; 31 days to renewal
    assert table["last_touch"].isna().all() and table["days_since_touch"].isna().all()
    assert table["contacted_90d"].tolist() == [False] and table["days_to_renewal"].tolist() == [31]


def test_renewals_due_agrees_with_the_kpi(book):
    for csm in ("csm_a", "csm_b"):
        m = csm_metrics(book, csm, Q2)
        table = strategic.renewals_due(book, csm, m["as_of"], period=Q2)
        assert len(table) == m["renewals_90d"], csm
        assert int(table["contacted_90d"].sum()) == m["renewals_90d_contacted"], csm
    # csm_b: B1 renews 1 July (1 day), contacted by the 5 May call
    b = strategic.renewals_due(book, "csm_b", "2025-06-30")
    assert _ids(b) == ["B1"] and b["days_to_renewal"].tolist() == [1] and b["contacted_90d"].tolist() == [True]


def test_renewals_due_shorter_window_and_bad_input(book):
    # 30 days after 30 June = up to 30 July: only A6 (20 July)
    assert _ids(strategic.renewals_due(book, "csm_a", "2025-06-30", days=30)) == ["A6"]
    with pytest.raises(KitError, match="days"):
        strategic.renewals_due(book, "csm_a", "2025-06-30", days=0)
    with pytest.raises(KitError, match="YYYY-MM-DD"):
        strategic.renewals_due(book, "csm_a", "30/06/2025")
    with pytest.raises(KitError, match="as_of is required"):
        strategic.renewals_due(book, "csm_a", "")
    with pytest.raises(KitError, match="unknown CSM"):
        strategic.renewals_due(book, "csm_z", "2025-06-30")


# --------------------------------------------------------------------------------------------
# lifecycle touchpoints
# --------------------------------------------------------------------------------------------

def test_overdue_touchpoints(book):
    table = strategic.overdue_touchpoints(book, "csm_a", Q2)
    # due in Q2 on the book, as of 30 June (windows from kpi_kit.lifecycle):
    #   met: A4 welcome (email 10 May in 10–13 May), A6 renewal_30 (call 18 Jun in 6–27 Jun),
    #        R3 risk intervention on A1 (first action 2 May in 1–8 May)
    #   overdue (window end -> days to 30 June):
    #        R1 on A2         12 Apr -> 18 + 31 + 30 = 79      A6 renewal_90   28 Apr -> 2 + 31 + 30 = 63
    #        A4 check-in      20 May -> 11 + 30 = 41           A1 renewal_90   24 May -> 7 + 30 = 37
    #        A6 renewal_60    28 May -> 3 + 30 = 33            R2 on A2         8 Jun -> 22
    #        A4 review        16 Jun -> 14                     A1 renewal_60   23 Jun -> 7
    #        R8 on A1         27 Jun -> 3
    #   pending: A2 renewal_90 due 28 Jun, window 14 Jun–5 Jul -> 5 days left
    assert list(zip(table["account_id"], table["touchpoint"])) == [
        ("A2", "risk_intervention"), ("A6", "renewal_90"), ("A4", "onboarding_checkin"), ("A1", "renewal_90"),
        ("A6", "renewal_60"), ("A2", "risk_intervention"), ("A4", "onboarding_review"), ("A1", "renewal_60"),
        ("A1", "risk_intervention"), ("A2", "renewal_90"),
    ]
    assert table["status"].tolist() == ["overdue"] * 9 + ["pending"]
    assert table["days_overdue"].tolist()[:9] == [79, 63, 41, 37, 33, 22, 14, 7, 3]
    # what the report shows: the touchpoint in words and its window, so "days overdue" can be checked by hand
    assert table["touchpoint_label"].tolist()[:3] == [
        "risk intervention within 7 days of the alert", "renewal touch 90 days before renewal",
        "onboarding check-in, day 7 after the customer start"]
    assert str(table["window_end"].iloc[1].date()) == "2025-04-28"  # A6 renewal_90: 28 Apr + 63 days = 30 Jun
    assert ((pd.Timestamp("2025-06-30") - table["window_end"].iloc[:9]).dt.days == table["days_overdue"].iloc[:9]).all()
    assert pd.isna(table["days_overdue"].iloc[9]) and table["days_left"].iloc[9] == 5
    assert table["days_left"].iloc[:9].isna().all()
    m = csm_metrics(book, "csm_a", Q2)
    assert (m["lifecycle_met"], m["lifecycle_overdue"], m["lifecycle_pending"]) == (3, 9, 1)


# --------------------------------------------------------------------------------------------
# expansion signals
# --------------------------------------------------------------------------------------------

def test_expansion_signals(book):
    table = strategic.expansion_signals(book, "csm_a", "2025-06-30")
    # live accounts in June: A1, A2, A4, A6. Latest usage up to June:
    #   A1 65 % adoption (< 70) and 95 of 100 seats (>= 90) -> both;  A2 45 of 50 = 90 % -> seat expansion,
    #   but S1 (created 1 Jun, closed 10 Jul) is open on 30 June -> left out;  A4 90 %, 10 of 20 -> nothing;
    #   A6 69.9 % -> adoption play (S2 closed 15 Jun, so no open SQL). A5 is not in the book; B1 is csm_b's.
    assert _ids(table) == ["A1", "A6"]
    assert table["adoption_play"].tolist() == [True, True]
    assert table["seat_expansion"].tolist() == [True, False]
    assert table["seat_use_pct"].tolist() == [95.0, 80.0]        # 100 x 95 / 100, 100 x 8 / 10
    assert table["usage_month"].tolist() == ["2025-06", "2025-06"]
    assert table["signal"].iloc[0] == "adoption play (feature adoption 65 % < 70 %); seat expansion (95 of 100 seats used)"
    assert table["signal"].iloc[1] == "adoption play (feature adoption 69.9 % < 70 %)"
    assert table.attrs["recorded"] is True


def test_expansion_signals_later_as_of(book):
    # as of 15 July (with Q2's book and June ARR): S1 closed 10 July -> A2 is a candidate again
    # (seat expansion, 45 of 50); A6's July usage (95 %) replaces June's -> no signal
    table = strategic.expansion_signals(book, "csm_a", "2025-07-15", period=Q2)
    assert _ids(table) == ["A1", "A2"]
    assert table["signal"].iloc[1] == "seat expansion (45 of 50 seats used)"


def test_expansion_signals_not_recorded(book_dir):
    book = load_book(book_dir(csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}],
                              accounts=[account("A1", "csm_a", "smb")], arr_monthly=arr_rows("A1", {"2025-06": 100})))
    table = strategic.expansion_signals(book, "csm_a", "2025-06-30")
    # no usage.csv: "not recorded", which is not the same as "no signals"
    assert table.empty and table.attrs["recorded"] is False
    assert "usage" in table.attrs["not_recorded"]
    assert list(table.columns) == strategic.EXPANSION_COLUMNS


# --------------------------------------------------------------------------------------------
# ARR bridge, monthly touches, coverage
# --------------------------------------------------------------------------------------------

def test_arr_bridge(book):
    bridge = strategic.arr_bridge(book, "csm_a", Q2)
    # cohort (March ARR > 0): A1 1,000,000 + A2 900,000 + A3 100,000 + A6 200,000 = 2,200,000
    # expansion A1 +300,000; contraction A2 -100,000; churn A3 -100,000
    # ending cohort 1,300,000 + 800,000 + 0 + 200,000 = 2,300,000 = 2,200,000 + 300,000 - 100,000 - 100,000
    # new logo A4 +500,000 -> book ending 2,800,000
    assert bridge["label"].tolist() == ["Beginning ARR", "Expansion", "Contraction", "Churn", "Ending ARR (cohort)",
                                        "New logos", "Ending ARR (book)"]
    assert bridge["amount"].tolist() == [2_200_000, 300_000, -100_000, -100_000, 2_300_000, 500_000, 2_800_000]
    assert bridge["accounts"].tolist() == [4, 1, 1, 1, 3, 1, 4]
    a = bridge.set_index("label")["amount"]
    assert a["Beginning ARR"] + a["Expansion"] + a["Contraction"] + a["Churn"] == a["Ending ARR (cohort)"]  # exact
    assert a["Ending ARR (cohort)"] + a["New logos"] == a["Ending ARR (book)"]
    # waterfall bars: each step starts where the previous ended
    assert bridge["bar_start"].tolist() == [0, 2_200_000, 2_500_000, 2_400_000, 0, 2_300_000, 0]
    assert bridge["bar_end"].tolist() == [2_200_000, 2_500_000, 2_400_000, 2_300_000, 2_300_000, 2_800_000, 2_800_000]
    m = csm_metrics(book, "csm_a", Q2)
    assert (m["beginning_arr"], m["expansion_arr"], m["contraction_arr"], m["churned_arr"], m["ending_arr"], m["new_arr"]) \
        == (a["Beginning ARR"], a["Expansion"], -a["Contraction"], -a["Churn"], a["Ending ARR (cohort)"], a["New logos"])


def test_arr_bridge_adds_up_with_cents(book_dir):
    book = load_book(book_dir(
        csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
        accounts=[account("U", "c", "smb"), account("D", "c", "smb"), account("X", "c", "smb")],
        arr_monthly=[*arr_rows("U", {"2025-03": 1000.25, "2025-06": 1500.75}),
                     *arr_rows("D", {"2025-03": 2000.50, "2025-06": 1999.25}),
                     *arr_rows("X", {"2025-03": 300.00})]))
    b = strategic.arr_bridge(book, "c", Q2).set_index("label")["amount"]
    # begin 1000.25 + 2000.50 + 300 = 3300.75; expansion 500.50; contraction 1.25; churn 300
    # ending 1500.75 + 1999.25 = 3500.00 = 3300.75 + 500.50 - 1.25 - 300 (all exact binary fractions)
    assert b.tolist()[:5] == [3300.75, 500.50, -1.25, -300.0, 3500.0]
    assert b["Beginning ARR"] + b["Expansion"] + b["Contraction"] + b["Churn"] == b["Ending ARR (cohort)"]


def test_monthly_touches(book):
    table = strategic.monthly_touches(book, "csm_a", Q2)
    # csm_a's activities in Q2: April X1 call, X9 call -> calls 2, touchpoints 2
    #   May X6 qbr, X7 email, X10 email -> calls 1 (the QBR), touchpoints 3, qbrs 1
    #   June X4 automated email, X11 call -> calls 1, touchpoints 2 (X2 is csm_b's; X3 March; X5 July)
    assert table["month"].tolist() == ["2025-04", "2025-05", "2025-06"]
    assert table["calls"].tolist() == [2, 1, 1]
    assert table["touchpoints"].tolist() == [2, 3, 2]
    assert table["qbrs"].tolist() == [0, 1, 0]
    # targets: targets.yaml gives csm_a 25 calls a month; touchpoints default 90 a quarter = 30 a month
    assert table["calls_target"].tolist() == [25.0] * 3
    assert table["touchpoints_target"].tolist() == [30.0] * 3
    m = csm_metrics(book, "csm_a", Q2)
    assert (table["calls"].sum(), table["touchpoints"].sum(), table["qbrs"].sum()) == (m["calls"], m["touchpoints"], m["qbrs"])
    # csm_b keeps the default 20 calls a month
    assert strategic.monthly_touches(book, "csm_b", Q2)["calls_target"].tolist() == [20.0] * 3


def test_coverage_by_segment(book):
    table = strategic.coverage_by_segment(book, "csm_a", Q2)
    # touched in Q2 (anyone, any type): A1 (X1, X2), A2 (X4, automated counts), A4 (X6, X7, X10), A6 (X11);
    # not A3. enterprise A1, A6 -> 2 of 2 = 100 %; mid-market A2 -> 1 of 1 = 100 %; smb A3, A4 -> 1 of 2 = 50 %
    assert table["segment"].tolist() == ["enterprise", "mid-market", "smb"]
    assert table["book_accounts"].tolist() == [2, 1, 2]
    assert table["covered_accounts"].tolist() == [2, 1, 1]
    assert table["coverage_pct"].tolist() == [100.0, 100.0, 50.0]
    m = csm_metrics(book, "csm_a", Q2)
    # parts add up to the KPI: 4 of 5 = 80 %
    assert (table["covered_accounts"].sum(), table["book_accounts"].sum()) == (m["covered_accounts"], m["book_accounts"])
    assert m["coverage_pct"] == pytest.approx(80.0)


def test_coverage_matrix(book):
    matrix = strategic.coverage_matrix(book, Q2)
    cell = matrix.set_index(["csm_id", "month"])["coverage_pct"]
    # csm_a April: book = ARR > 0 end of March or April = A1, A2, A3, A6; touched in April: A1 -> 1/4 = 25 %
    # May: A1, A2, A3 (April ARR), A4, A6 = 5; touched: A4 -> 1/5 = 20 %
    # June: A1, A2, A4, A6 (A3 has no May/June ARR) = 4; touched: A1 (X2), A2 (X4), A6 (X11) -> 3/4 = 75 %
    # csm_b (B1 each month): April 0 %, May 100 % (X8), June 0 %
    assert cell["csm_a"].tolist() == [25.0, 20.0, 75.0]
    assert cell["csm_b"].tolist() == [0.0, 100.0, 0.0]
    assert matrix["book_accounts"].tolist() == [4, 5, 4, 1, 1, 1]
    for (csm, month), value in cell.items():  # each cell is the coverage KPI of that one month
        assert value == pytest.approx(csm_metrics(book, csm, month, month)["coverage_pct"]), (csm, month)


def test_coverage_matrix_months_after_as_of_are_no_data(book):
    matrix = strategic.coverage_matrix(book, Q2, as_of="2025-05-15")
    cell = matrix.set_index(["csm_id", "month"])["coverage_pct"]
    # as of 15 May: April as before; May counts X6 (15 May), X10 (10 May), X8 (5 May) -> csm_a 1/5, csm_b 1/1;
    # June has not started -> no data (NaN), not 0
    assert cell["csm_a"].tolist()[:2] == [25.0, 20.0] and cell["csm_b"].tolist()[:2] == [0.0, 100.0]
    assert cell.loc[(slice(None), "2025-06")].isna().all()


def test_team_quadrant(book):
    q = strategic.team_quadrant(book, Q2).set_index("csm_id")
    # csm_b, leading attainment (targets for 3 months): calls 1/60 = 1.667 %, touchpoints 2/90 = 2.222 %,
    # QBRs 0/3 = 0, coverage 100/90 = 111.111 %, renewals contacted 1/1 -> 100/100 = 100 %, SQLs 0, pipeline 0,
    # lifecycle 0 met of 4 (B1 renewal 90/60/30 and R6 overdue) = 0; SQL conversion has no data.
    # mean = (5/3 + 20/9 + 1000/9 + 100) / 8 = 215 / 8 = 26.875 -> activity behind (< 95)
    assert q.at["csm_b", "leading_attainment_pct"] == pytest.approx(26.875)
    # lagging (enterprise targets 98 / 120 % a year held to the quarter: 100 × 0.98 ** (3/12) = 99.49621 %,
    # 100 × 1.20 ** (3/12) = 104.66351 %): GRR 100 / 99.49621 = 100.5063 %, NRR 120 / 104.66351 = 114.653 %,
    # logo churn 0 -> 200 %, closed alerts no data -> worst 100.5063 %
    assert q.at["csm_b", "lagging_attainment_pct"] == pytest.approx(100 * 100 / 99.49621, abs=1e-4)
    assert q.at["csm_b", "quadrant"] == "Outcomes holding, activity behind"
    diagnosis_to_quadrant = {
        "Strong activity but weak": "Strong activity, weak outcomes",
        "Weak activity and weak": "Weak activity, weak outcomes",
        "Outcomes are holding": "Outcomes holding, activity behind",
        "Activity and outcomes are both": "Activity and outcomes on track",
        "No activity data": "No activity data",
    }
    for csm in ("csm_a", "csm_b"):  # the chart's position always agrees with the report's diagnosis
        text = scorecard(book, csm, Q2).diagnosis()
        expected = [v for k, v in diagnosis_to_quadrant.items() if text.startswith(k)]
        assert [q.at[csm, "quadrant"]] == expected, (csm, text)


# --------------------------------------------------------------------------------------------
# isolation: one CSM's lists never show another CSM's accounts
# --------------------------------------------------------------------------------------------

def _all_lists(book, csm: str) -> dict[str, pd.DataFrame]:
    return {
        "at_risk": strategic.at_risk_accounts(book, csm, Q2),
        "renewals": strategic.renewals_due(book, csm, "2025-06-30", period=Q2),
        "touchpoints": strategic.overdue_touchpoints(book, csm, Q2),
        "expansion": strategic.expansion_signals(book, csm, "2025-06-30"),
        "bridge": strategic.arr_bridge(book, csm, Q2),
        "monthly": strategic.monthly_touches(book, csm, Q2),
        "coverage": strategic.coverage_by_segment(book, csm, Q2),
    }


def test_one_csm_never_sees_another_csms_accounts(book):
    lists = _all_lists(book, "csm_a")
    for name, frame in lists.items():
        text = frame.to_csv(index=False)
        assert not any(other in text for other in OTHER_CSM_IDS), name
        if "account_id" in frame.columns:
            assert set(frame["account_id"]) <= {"A1", "A2", "A3", "A4", "A6"}, name
    # and the other way round: csm_b's lists hold only B1 (which is in each of these four lists)
    b = _all_lists(book, "csm_b")
    for name in ("at_risk", "renewals", "touchpoints", "expansion"):
        assert set(b[name]["account_id"]) == {"B1"}, name
    assert b["bridge"]["amount"].iloc[0] == 50_000   # B1's March ARR only


def test_inputs_are_not_modified(book):
    before = {name: getattr(book, name).copy() for name in ("accounts", "activities", "arr_monthly", "risk_alerts", "usage")}
    _all_lists(book, "csm_a")
    strategic.coverage_matrix(book, Q2)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(book, name), frame)


@pytest.mark.slow
def test_sample_book_lists_agree_with_the_kpis():
    """On the bundled sample book, for every CSM: the bridge adds up exactly and each list agrees with its KPI."""
    sample = load_book()
    period = Period.parse("2026-07", "2026-09")
    owners = sample.accounts.set_index("account_id")["csm_id"]
    for csm in sample.csm_ids():
        m = csm_metrics(sample, csm, period)
        a = strategic.arr_bridge(sample, csm, period).set_index("label")["amount"]
        assert a["Beginning ARR"] + a["Expansion"] + a["Contraction"] + a["Churn"] == a["Ending ARR (cohort)"], csm
        assert a["Ending ARR (cohort)"] == m["ending_arr"] and a["New logos"] == m["new_arr"], csm
        renewals = strategic.renewals_due(sample, csm, m["as_of"], period=period)
        assert (len(renewals), int(renewals["contacted_90d"].sum())) == (m["renewals_90d"], m["renewals_90d_contacted"])
        tps = strategic.overdue_touchpoints(sample, csm, period)
        assert ((tps["status"] == "overdue").sum(), (tps["status"] == "pending").sum()) == \
            (m["lifecycle_overdue"], m["lifecycle_pending"]), csm
        monthly = strategic.monthly_touches(sample, csm, period)
        assert (monthly["calls"].sum(), monthly["touchpoints"].sum()) == (m["calls"], m["touchpoints"]), csm
        cov = strategic.coverage_by_segment(sample, csm, period)
        assert cov["covered_accounts"].sum() == m["covered_accounts"], csm
        for frame in (strategic.at_risk_accounts(sample, csm, period), renewals, tps,
                      strategic.expansion_signals(sample, csm, m["as_of"])):
            assert (owners[frame["account_id"]] == csm).all(), csm
