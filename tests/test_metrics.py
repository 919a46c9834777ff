"""Hand-computed tests for every indicator (expected values worked out in the comments)."""

from __future__ import annotations

import json

import pytest

from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.metrics import csm_metrics, metric_parts, rollup, team_metrics
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q2 = ("2025-04", "2025-06")  # beginning ARR = 2025-03, ending ARR = 2025-06


def acc(aid: str, csm: str, segment: str = "enterprise", since: str = "2020-01-01", renewal: str = "") -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": since, "renewal_date": renewal}


def act(i: int, date: str, aid: str, csm: str, kind: str, purpose: str = "") -> dict:
    return {"activity_id": f"X{i}", "date": date, "account_id": aid, "csm_id": csm, "type": kind, "purpose": purpose}


@pytest.fixture
def seed_book(book_dir):
    """The seed's $2M book for csm_a plus a new logo, and a small book for csm_b in the same files."""
    return load_book(book_dir(
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
        accounts=[acc("A1", "csm_a"), acc("A2", "csm_a", "mid-market"), acc("A3", "csm_a", "smb"),
                  acc("A4", "csm_a", "smb", since="2025-05-10"), acc("A5", "csm_a", "smb"), acc("B1", "csm_b")],
        arr_monthly=[
            *arr_rows("A1", {"2025-03": 1_000_000, "2025-06": 1_300_000}),   # expands by 300,000
            *arr_rows("A2", {"2025-03": 900_000, "2025-06": 900_000}),       # flat
            *arr_rows("A3", {"2025-03": 100_000, "2025-04": 100_000}),       # churned (no June row = 0)
            *arr_rows("A4", {"2025-06": 500_000}),                           # new logo
            *arr_rows("B1", {"2025-03": 50_000, "2025-06": 60_000}),
        ],
        activities=[
            act(1, "2025-04-02", "A1", "csm_a", "call"), act(2, "2025-04-15", "A1", "csm_a", "qbr"),
            act(3, "2025-05-03", "A2", "csm_a", "meeting"), act(4, "2025-05-20", "A2", "csm_a", "email"),
            act(5, "2025-06-30", "A4", "csm_a", "automated_email"),
            act(6, "2025-03-31", "A3", "csm_a", "call"), act(7, "2025-07-01", "A3", "csm_a", "call"),
            act(8, "2025-05-05", "B1", "csm_b", "call"), act(9, "2025-05-06", "A1", "csm_b", "check_in"),
            act(10, "2025-06-01", "A5", "csm_b", "webinar"),
            act(11, "2025-06-12", "A2", "csm_a", "call", "risk_intervention"),
        ],
        sqls=[
            {"sql_id": "S1", "created_date": "2025-04-10", "account_id": "A1", "csm_id": "csm_a", "expansion_arr": 50_000, "status": "won", "closed_date": "2025-05-01"},
            {"sql_id": "S2", "created_date": "2025-01-15", "account_id": "A2", "csm_id": "csm_a", "expansion_arr": 20_000, "status": "lost", "closed_date": "2025-04-20"},
            {"sql_id": "S3", "created_date": "2025-06-15", "account_id": "A2", "csm_id": "csm_a", "expansion_arr": 30_000, "status": "open", "closed_date": ""},
            {"sql_id": "S4", "created_date": "2025-07-02", "account_id": "A1", "csm_id": "csm_a", "expansion_arr": 99_000, "status": "open", "closed_date": ""},
            {"sql_id": "S5", "created_date": "2025-05-01", "account_id": "A1", "csm_id": "csm_a", "expansion_arr": 10_000, "status": "won", "closed_date": "2025-07-15"},
            {"sql_id": "S6", "created_date": "2025-05-01", "account_id": "B1", "csm_id": "csm_b", "expansion_arr": 5_000, "status": "lost", "closed_date": "2025-05-30"},
        ],
        risk_alerts=[
            {"alert_id": "R1", "account_id": "A1", "flagged_date": "2025-04-05", "outcome": "saved", "first_action_date": "2025-04-07"},
            {"alert_id": "R2", "account_id": "A2", "flagged_date": "2025-05-05", "outcome": "churned"},
            {"alert_id": "R3", "account_id": "A3", "flagged_date": "2025-06-01", "outcome": "saved", "first_action_date": "2025-06-20"},
            {"alert_id": "R4", "account_id": "A2", "flagged_date": "2025-06-10", "outcome": "open"},
            {"alert_id": "R5", "account_id": "A1", "flagged_date": "2025-03-20", "outcome": "churned"},
            {"alert_id": "R6", "account_id": "B1", "flagged_date": "2025-04-01", "outcome": "saved"},
        ],
    ))


def test_seed_two_million_book_retention(seed_book):
    m = csm_metrics(seed_book, "csm_a", *Q2)
    # cohort A1, A2, A3: begin 1,000,000 + 900,000 + 100,000 = 2,000,000
    assert m["beginning_arr"] == 2_000_000
    # min(end, begin): 1,000,000 + 900,000 + 0 = 1,900,000 -> GRR 95 %
    assert m["grr_pct"] == pytest.approx(95.0)
    # end: 1,300,000 + 900,000 + 0 = 2,200,000 -> NRR 110 % (the new logo A4 is not in the cohort)
    assert m["ending_arr"] == 2_200_000
    assert m["nrr_pct"] == pytest.approx(110.0)
    assert m["expansion_arr"] == 300_000
    assert m["contraction_arr"] == 0
    assert m["churned_arr"] == 100_000
    assert m["new_arr"] == 500_000
    # book = A1..A4 (A5 has no ARR at either end); cohort = 3, one churned -> 33.33 %
    assert m["book_accounts"] == 4
    assert m["logo_churn_pct"] == pytest.approx(100 / 3)
    assert m["revenue_churn_pct"] == pytest.approx(5.0)
    # monthly equivalent of 5 % over 3 months: 1 - 0.95 ** (1/3) = 1 - 0.983048 = 1.6952 %
    assert m["revenue_churn_monthly_pct"] == pytest.approx(1.6952, abs=1e-4)


def test_activity_indicators(seed_book):
    m = csm_metrics(seed_book, "csm_a", *Q2)
    # csm_a in Q2: X1 call, X2 qbr, X3 meeting, X11 call (calls = 4); X4 email, X5 automated (touchpoints = 6)
    # X6 (31 March) and X7 (1 July) are outside the period; X9 and X10 are csm_b's
    assert (m["calls"], m["touchpoints"], m["qbrs"]) == (4, 6, 1)
    # book A1..A4; A1, A2 touched by csm_a, A4 by an automated email, A3 untouched -> 3 / 4
    assert m["coverage_pct"] == pytest.approx(75.0)
    b = csm_metrics(seed_book, "csm_b", *Q2)
    # csm_b: X8 call; X9 check-in on csm_a's account and X10 webinar still count as csm_b's touchpoints
    assert (b["calls"], b["touchpoints"], b["qbrs"], b["coverage_pct"]) == (1, 3, 0, 100.0)


def test_sqls(seed_book):
    m = csm_metrics(seed_book, "csm_a", *Q2)
    # created in Q2: S1 50,000 + S3 30,000 + S5 10,000 (S2 created in January, S4 in July)
    assert m["sqls"] == 3
    assert m["sql_pipeline"] == 90_000
    # closed in Q2: S1 won, S2 lost (S5 closes in July) -> 1 / 2
    assert m["sql_conversion_pct"] == pytest.approx(50.0)
    assert csm_metrics(seed_book, "csm_b", *Q2)["sql_conversion_pct"] == pytest.approx(0.0)


def test_closed_alerts_and_lifecycle(seed_book):
    m = csm_metrics(seed_book, "csm_a", *Q2)
    # flagged in Q2 on csm_a's book: R1 saved, R2 churned, R3 saved, R4 open (R5 flagged in March)
    assert m["closed_alert_pct"] == pytest.approx(200 / 3)
    assert m["open_alerts"] == 1
    # risk interventions due flagged + 7 days: R1 first action day 2 (met), R2 nothing (overdue),
    # R3 first action day 19 (overdue), R4 risk_intervention call day 2 (met);
    # plus the new logo A4 (customer since 10 May): welcome due 11 May, check-in 17 May, review 9 June,
    # none done -> overdue (adoption assessment is due 9 July, outside Q2) -> met 2, overdue 2 + 3 = 5
    assert m["lifecycle_met"] == 2 and m["lifecycle_overdue"] == 5
    assert m["lifecycle_compliance_pct"] == pytest.approx(200 / 7)
    # csm_b: R6 flagged 1 April, no action -> 0 / 1
    assert csm_metrics(seed_book, "csm_b", *Q2)["lifecycle_compliance_pct"] == pytest.approx(0.0)


def test_team_rollup_is_not_an_average(seed_book):
    period = Period.parse(*Q2)
    parts = metric_parts(seed_book, period)
    team = rollup(parts, period).iloc[0]
    # begin 2,000,000 + 50,000; retained 1,900,000 + 50,000; end 2,200,000 + 60,000
    assert team["grr_pct"] == pytest.approx(100 * 1_950_000 / 2_050_000)   # 95.12 %, not (95 + 100) / 2
    assert team["nrr_pct"] == pytest.approx(100 * 2_260_000 / 2_050_000)   # 110.24 %, not (110 + 120) / 2
    assert team["grr_pct"] != pytest.approx(97.5)
    assert team["calls"] == 5 and team["touchpoints"] == 9


def test_contraction_keeps_grr_capped(book_dir):
    book = load_book(book_dir(
        csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
        accounts=[acc("U", "c"), acc("D", "c")],
        arr_monthly=[*arr_rows("U", {"2025-03": 100, "2025-06": 400}), *arr_rows("D", {"2025-03": 300, "2025-06": 200})],
    ))
    m = csm_metrics(book, "c", *Q2)
    # GRR: (min(400,100) + min(200,300)) / 400 = 300 / 400 = 75 %; NRR: 600 / 400 = 150 %
    assert m["grr_pct"] == pytest.approx(75.0)
    assert m["nrr_pct"] == pytest.approx(150.0)
    assert (m["expansion_arr"], m["contraction_arr"], m["churned_arr"]) == (300, 100, 0)


def test_empty_book_gives_nulls_not_zero(book_dir):
    book = load_book(book_dir(csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}]))
    m = csm_metrics(book, "c", *Q2)
    for key in ("grr_pct", "nrr_pct", "coverage_pct", "logo_churn_pct", "sql_conversion_pct",
                "closed_alert_pct", "lifecycle_compliance_pct", "revenue_churn_pct"):
        assert m[key] is None, key
    assert m["calls"] == 0 and m["beginning_arr"] == 0
    json.dumps(m)  # JSON-ready


def test_not_recorded_activities_are_no_data(book_dir):
    book = load_book(book_dir(
        csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
        accounts=[acc("U", "c")], arr_monthly=arr_rows("U", {"2025-03": 100, "2025-06": 100}),
        book="not_recorded: [activities, sqls]\n",
    ))
    m = csm_metrics(book, "c", *Q2)
    assert m["calls"] is None and m["coverage_pct"] is None and m["sqls"] is None and m["sql_pipeline"] is None
    assert m["grr_pct"] == pytest.approx(100.0)


def test_unknown_csm_lists_valid_ids(seed_book):
    with pytest.raises(KitError, match="unknown CSM 'nope'.*csm_a, csm_b"):
        csm_metrics(seed_book, "nope", *Q2)


def test_team_metrics_rows_match_single_csm(seed_book):
    table = team_metrics(seed_book, *Q2).set_index("csm_id")
    for csm in ("csm_a", "csm_b"):
        single = csm_metrics(seed_book, csm, *Q2)
        for key in ("calls", "touchpoints", "coverage_pct", "grr_pct", "nrr_pct", "sqls", "closed_alert_pct",
                    "lifecycle_compliance_pct", "new_arr"):
            assert table.at[csm, key] == pytest.approx(single[key]), (csm, key)


def test_ownership_change_attribution(book_dir):
    # A1 moves from csm_a to csm_b on 15 May (inside Q2); A2 stays with csm_a.
    book = load_book(book_dir(
        csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}, {"csm_id": "csm_b", "csm_name": "Ben", "team": "T"}],
        accounts=[acc("A1", "csm_b"), acc("A2", "csm_a")],
        arr_monthly=[*arr_rows("A1", {"2025-03": 100, "2025-06": 150}), *arr_rows("A2", {"2025-03": 300, "2025-06": 0})],
        assignments=[{"account_id": "A1", "csm_id": "csm_a", "from_date": "2024-01-01", "to_date": "2025-05-14"},
                     {"account_id": "A1", "csm_id": "csm_b", "from_date": "2025-05-15", "to_date": ""}],
    ))
    start_a = csm_metrics(book, "csm_a", *Q2)                       # default: owner on 1 April answers
    # csm_a: cohort A1 (100 -> 150) + A2 (300 -> 0): GRR = (100 + 0) / 400 = 25 %, NRR = 150 / 400 = 37.5 %
    assert (start_a["beginning_arr"], start_a["grr_pct"], start_a["nrr_pct"]) == (400, 25.0, 37.5)
    assert csm_metrics(book, "csm_b", *Q2)["beginning_arr"] == 0
    end_b = csm_metrics(book, "csm_b", *Q2, attribution="end")      # owner on 30 June answers
    assert (end_b["beginning_arr"], end_b["nrr_pct"]) == (100, 150.0)
    # every account counted exactly once in the team, whichever policy
    for policy in ("start", "end"):
        assert team_metrics(book, *Q2, attribution=policy)["beginning_arr"].sum() == 400
    from kpi_kit.metrics import book_changes
    moved = book_changes(book, Period.parse(*Q2))
    assert moved.to_dict("records") == [{"account_id": "A1", "account_name": "A1 Co", "from_csm": "csm_a", "to_csm": "csm_b"}]


def test_overlapping_assignments_are_an_error(book_dir):
    from kpi_kit.validate import BookError

    with pytest.raises(BookError, match=r"assignments.csv row 3, column from_date: '2025-05-01': overlaps"):
        load_book(book_dir(
            csms=[{"csm_id": "csm_a", "csm_name": "Ana", "team": "T"}], accounts=[acc("A1", "csm_a")],
            assignments=[{"account_id": "A1", "csm_id": "csm_a", "from_date": "2024-01-01", "to_date": "2025-06-01"},
                         {"account_id": "A1", "csm_id": "csm_a", "from_date": "2025-05-01", "to_date": ""}]))


def test_metrics_cli_json_contract(seed_book, capsys):
    from kpi_kit.cli import main
    from kpi_kit.metrics import CONTRACT_KEYS

    assert main(["metrics", "--data", str(seed_book.path), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(CONTRACT_KEYS) <= set(out)
    assert (out["csm_id"], out["start"], out["end"], out["grr_pct"], out["nrr_pct"], out["calls"]) == \
        ("csm_a", "2025-04", "2025-06", 95.0, 110.0, 4)
    assert main(["metrics", "--data", str(seed_book.path), "--csm", "csm_a", "--start", "2025-04", "--end", "2025-06"]) == 0
    table = capsys.readouterr().out
    assert "GRR (ARR retention)" in table and "95.0 %" in table and "Diagnosis:" in table
    assert main(["metrics", "--data", str(seed_book.path), "--csm", "zz", "--start", "2025-04", "--end", "2025-06"]) == 1
    assert "valid ids: csm_a, csm_b" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["30/06/2025", "2025-06-31", "June"])
def test_as_of_must_be_an_iso_date(seed_book, bad):
    with pytest.raises(KitError, match="YYYY-MM-DD"):
        csm_metrics(seed_book, "csm_a", *Q2, as_of=bad)


def test_blank_arr_is_unknown_not_churn(book_dir):
    # The duplicates-blanks-credits case at book level: MIKE 40,000 and OSCR 12,000 known; NOVA's ARR is blank.
    book = load_book(book_dir(
        csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
        accounts=[acc("MIKE-050", "c"), acc("NOVA-051", "c"), acc("OSCR-052", "c")],
        arr_monthly=[*arr_rows("MIKE-050", {"2025-03": 40_000, "2025-06": 40_000}),
                     *arr_rows("OSCR-052", {"2025-03": 12_000, "2025-06": 12_000}),
                     {"month": "2025-03", "account_id": "NOVA-051", "arr": 9_000},
                     {"month": "2025-06", "account_id": "NOVA-051", "arr": ""}],
        activities=[act(1, "2025-04-02", "MIKE-050", "c", "call")],
    ))
    assert any("is blank: ARR unknown" in str(w) for w in book.warnings)
    m = csm_metrics(book, "c", *Q2)
    # book ARR = 40,000 + 12,000 = 52,000 (NOVA left out); accounts in the book = 3
    assert (m["beginning_arr"], m["ending_arr"], m["book_accounts"], m["unknown_arr_accounts"]) == (52_000, 52_000, 3, 1)
    # NOVA is never churn: GRR 100 %, logo churn 0 of a cohort of 2
    assert (m["grr_pct"], m["logo_churn_pct"], m["cohort_accounts"]) == (100.0, 0.0, 2)
    # but it is in the coverage denominator: 1 of 3 accounts touched
    assert m["coverage_pct"] == pytest.approx(100 / 3)
