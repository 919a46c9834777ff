"""Tests for the RavenStack importer (kpi_kit.ravenstack).

Two kinds of tests:

* tiny hand-built RavenStack files written into ``tmp_path``, one rule per test, expected values worked
  out by hand (arithmetic in comments);
* the real dataset (``<project root>/../shared/datasets/ravenstack``; skipped when absent), checked
  against figures computed here with the plain ``csv`` module and ``datetime`` — an implementation of
  the documented rules written independently of ``kpi_kit.ravenstack`` — and by hand for one account.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import importlib.util
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from kpi_kit.errors import KitError
from kpi_kit.ravenstack import import_ravenstack

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASET = PROJECT_ROOT.parent / "shared" / "datasets" / "ravenstack"

HEADERS = {
    "ravenstack_accounts.csv": [
        "account_id", "account_name", "industry", "country", "signup_date", "referral_source",
        "plan_tier", "seats", "is_trial", "churn_flag",
    ],
    "ravenstack_subscriptions.csv": [
        "subscription_id", "account_id", "start_date", "end_date", "plan_tier", "seats", "mrr_amount",
        "arr_amount", "is_trial", "upgrade_flag", "downgrade_flag", "churn_flag", "billing_frequency",
        "auto_renew_flag",
    ],
    "ravenstack_churn_events.csv": [
        "churn_event_id", "account_id", "churn_date", "reason_code", "refund_amount_usd",
        "preceding_upgrade_flag", "preceding_downgrade_flag", "is_reactivation", "feedback_text",
    ],
    "ravenstack_feature_usage.csv": [
        "usage_id", "subscription_id", "usage_date", "feature_name", "usage_count", "usage_duration_secs",
        "error_count", "is_beta_feature",
    ],
    "ravenstack_support_tickets.csv": [
        "ticket_id", "account_id", "submitted_at", "closed_at", "resolution_time_hours", "priority",
        "first_response_time_minutes", "satisfaction_score", "escalation_flag",
    ],
}


# ------------------------------------------------------------------------------------------------
# helpers for hand-built fixtures
# ------------------------------------------------------------------------------------------------
def acc(aid: str, tier: str = "Pro", signup: str = "2024-01-01", churn: str = "FALSE", name: str = "") -> dict:
    return {
        "account_id": aid, "account_name": name or f"Name {aid}", "industry": "FinTech", "country": "US",
        "signup_date": signup, "referral_source": "organic", "plan_tier": tier, "seats": "5",
        "is_trial": "FALSE", "churn_flag": churn,
    }


def sub(
    sid: str, aid: str, start: str, end: str = "", arr: int = 1200, trial: str = "FALSE",
    freq: str = "monthly", seats: int = 5,
) -> dict:
    return {
        "subscription_id": sid, "account_id": aid, "start_date": start, "end_date": end, "plan_tier": "Pro",
        "seats": str(seats), "mrr_amount": str(arr // 12), "arr_amount": str(arr), "is_trial": trial,
        "upgrade_flag": "FALSE", "downgrade_flag": "FALSE", "churn_flag": "TRUE" if end else "FALSE",
        "billing_frequency": freq, "auto_renew_flag": "TRUE",
    }


def churn(cid: str, aid: str, day: str, react: str = "FALSE") -> dict:
    return {
        "churn_event_id": cid, "account_id": aid, "churn_date": day, "reason_code": "budget",
        "refund_amount_usd": "0", "preceding_upgrade_flag": "FALSE", "preceding_downgrade_flag": "FALSE",
        "is_reactivation": react, "feedback_text": "",
    }


def use(uid: str, sid: str, day: str, feature: str, count: int = 3) -> dict:
    return {
        "usage_id": uid, "subscription_id": sid, "usage_date": day, "feature_name": feature,
        "usage_count": str(count), "usage_duration_secs": "60", "error_count": "0", "is_beta_feature": "FALSE",
    }


def ticket(tid: str, aid: str, day: str, minutes: str = "90", esc: str = "FALSE") -> dict:
    return {
        "ticket_id": tid, "account_id": aid, "submitted_at": day, "closed_at": day,
        "resolution_time_hours": "5", "priority": "high", "first_response_time_minutes": minutes,
        "satisfaction_score": "", "escalation_flag": esc,
    }


def write_src(
    folder: Path,
    accounts: list[dict],
    subs: list[dict],
    churns: list[dict] | None = None,
    usage: list[dict] | None = None,
    tickets: list[dict] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "ravenstack_accounts.csv": accounts,
        "ravenstack_subscriptions.csv": subs,
        "ravenstack_churn_events.csv": churns or [],
        "ravenstack_feature_usage.csv": usage or [],
        "ravenstack_support_tickets.csv": tickets or [],
    }
    for name, rows in data.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=HEADERS[name], lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return folder


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def arr_of(book: Path) -> dict[tuple[str, str], int]:
    """Every row of arr_monthly.csv, explicit 0 rows included."""
    return {(r["month"], r["account_id"]): int(r["arr"]) for r in read_rows(book / "arr_monthly.csv")}


def paid_of(book: Path) -> dict[tuple[str, str], int]:
    """The rows with ARR > 0 (the figures; a 0 row and a missing row are the same ARR)."""
    return {k: v for k, v in arr_of(book).items() if v > 0}


def build(tmp_path: Path, *args, **kwargs) -> Path:
    src = write_src(tmp_path / "src", *args, **kwargs)
    return import_ravenstack(src, tmp_path / "book")


# ------------------------------------------------------------------------------------------------
# one rule per test (hand-built fixtures)
# ------------------------------------------------------------------------------------------------
def test_trial_subscription_counts_zero_even_with_an_amount(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [
            sub("S1", "A1", "2024-01-05", arr=9000, trial="TRUE"),  # trial: 0 whatever arr_amount says
            sub("S2", "A1", "2024-02-10", arr=1200),
        ],
    )
    # Jan: only the trial is active -> 0 -> no row. Feb: paid S2 -> 1200.
    assert arr_of(book) == {("2024-02", "A1"): 1200}


def test_end_date_is_exclusive_and_respected(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1"), acc("A2"), acc("A3")],
        [
            sub("S1", "A1", "2024-01-15", end="2024-03-31", arr=1200),  # ends ON March's last day
            sub("S2", "A2", "2024-01-15", end="2024-04-01", arr=2400),  # still active on 31 March
            sub("S3", "A3", "2024-01-31", end="2024-02-14", arr=600),   # active on 31 Jan only
        ],
        tickets=[ticket("T1", "A1", "2024-04-20")],  # latest date -> months run to 2024-04
    )
    # active on day D <=> start <= D < end.
    # A1: 31 Jan, 29 Feb active; 31 Mar = end -> not active.  A2: Jan, Feb, Mar; 30 Apr >= 1 Apr -> not.
    # A3: 31 Jan active (start = 31 Jan); 29 Feb >= 14 Feb -> not.
    assert arr_of(book) == {
        ("2024-01", "A1"): 1200, ("2024-02", "A1"): 1200,
        ("2024-01", "A2"): 2400, ("2024-02", "A2"): 2400, ("2024-03", "A2"): 2400,
        ("2024-01", "A3"): 600,
    }


def test_blank_end_date_runs_to_the_month_of_the_latest_date_in_the_data(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [sub("S1", "A1", "2024-02-20", arr=3000)],
        usage=[use("U1", "S1", "2024-05-03", "f1")],  # latest date anywhere: 2024-05-03
    )
    # Feb (start 20 Feb <= 29 Feb), Mar, Apr, May -> 4 rows of 3000; no June row (no data after May).
    assert arr_of(book) == {(m, "A1"): 3000 for m in ("2024-02", "2024-03", "2024-04", "2024-05")}


def test_overlapping_subscriptions_are_summed(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [
            sub("S1", "A1", "2024-01-01", end="2024-03-15", arr=1200),
            sub("S2", "A1", "2024-02-01", arr=600),
        ],
    )
    # Jan: S1 = 1200; Feb: S1 + S2 = 1200 + 600 = 1800; Mar: S1 ended 15 Mar -> S2 = 600.
    # (latest date in the data = 2024-03-15, so months stop at March)
    assert arr_of(book) == {("2024-01", "A1"): 1200, ("2024-02", "A1"): 1800, ("2024-03", "A1"): 600}


def test_churn_event_ends_every_active_subscription(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [
            sub("S1", "A1", "2024-01-10", arr=1200),                    # no end date
            sub("S2", "A1", "2024-01-20", end="2024-06-30", arr=2400),  # end after the churn
        ],
        churns=[churn("C1", "A1", "2024-02-10")],
        tickets=[ticket("T1", "A1", "2024-04-02")],
    )
    # Jan: 1200 + 2400 = 3600. Churn on 10 Feb cuts both -> Feb, Mar, Apr: 0 (no rows).
    assert arr_of(book) == {("2024-01", "A1"): 3600}


def test_churn_event_with_no_active_subscription_changes_nothing(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [sub("S1", "A1", "2024-03-01", arr=1200)],
        churns=[churn("C1", "A1", "2024-02-10")],  # before the only subscription starts
        tickets=[ticket("T1", "A1", "2024-04-02")],
    )
    # Mar and Apr: 1200 each; the earlier churn date precedes S1's start so it cannot end it.
    assert arr_of(book) == {("2024-03", "A1"): 1200, ("2024-04", "A1"): 1200}


def test_reactivation_shows_when_the_next_subscription_starts(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1"), acc("A2"), acc("A3")],
        [
            sub("S1", "A1", "2024-01-05", arr=1200),
            sub("S2", "A1", "2024-03-05", arr=600),   # after the churn: the return
            sub("S3", "A2", "2024-01-05", arr=2400),  # A2: flagged reactivated, but no later subscription
            sub("S4", "A3", "2024-01-05", arr=3600),
            sub("S5", "A3", "2024-03-20", arr=480),   # A3: flag says "no reactivation" yet billed again
        ],
        churns=[
            churn("C1", "A1", "2024-02-10", react="TRUE"),
            churn("C2", "A2", "2024-02-10", react="TRUE"),
            churn("C3", "A3", "2024-02-10", react="FALSE"),
        ],
        tickets=[ticket("T1", "A1", "2024-04-10")],
    )
    # A1: Jan 1200; Feb 0 (churned 10 Feb); Mar, Apr 600 (S2 only: S1 was ended by the churn).
    # A2: Jan 2400; then 0 — a reactivation flag without a subscription creates no ARR.
    # A3: Jan 3600; Feb 0; Mar, Apr 480 — the later subscription is a billing record and is kept.
    # Feb of A1 and A3 lies between two paid months: written as an explicit 0 row (churned and won
    # back, known from the billing record), so `kpi-kit validate` sees no gap. A2 never comes back:
    # no rows after January (a missing row is 0 too; only gaps *between* rows are written).
    assert arr_of(book) == {
        ("2024-01", "A1"): 1200, ("2024-02", "A1"): 0, ("2024-03", "A1"): 600, ("2024-04", "A1"): 600,
        ("2024-01", "A2"): 2400,
        ("2024-01", "A3"): 3600, ("2024-02", "A3"): 0, ("2024-03", "A3"): 480, ("2024-04", "A3"): 480,
    }


def test_account_churn_flag_ends_revenue_on_its_last_recorded_date(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1", churn="TRUE"), acc("A2", churn="TRUE")],
        [
            sub("S1", "A1", "2024-01-05", arr=1200),
            sub("S2", "A1", "2024-03-12", arr=600),  # last recorded date of A1: 12 Mar
            sub("S3", "A2", "2024-01-05", end="2024-02-20", arr=2400),
            sub("S4", "A2", "2024-01-25", arr=360),  # A2's last record: S3's end 20 Feb
        ],
        tickets=[ticket("T1", "A1", "2024-04-10")],  # tickets do not move the final churn date
    )
    # A1 final churn date = max(5 Jan, 12 Mar) = 12 Mar: Jan 1200, Feb 1200, Mar 0 (S1 ended 12 Mar,
    #   S2 starts and ends 12 Mar -> never active at a month end), Apr 0.
    # A2 final churn date = max(5 Jan, 20 Feb, 25 Jan) = 20 Feb: Jan 2400 + 360 = 2760; Feb 0.
    assert arr_of(book) == {("2024-01", "A1"): 1200, ("2024-02", "A1"): 1200, ("2024-01", "A2"): 2760}


def test_accounts_segment_names_customer_since_and_renewal(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [
            acc("A1", tier="Enterprise", signup="2023-05-02", name="Acme, Inc."),
            acc("A2", tier="Pro", signup="2023-06-03"),
            acc("A3", tier="Basic", signup="2023-07-04"),
            acc("A4", tier="Basic", signup="2023-08-05"),
        ],
        [
            sub("S1", "A1", "2023-02-28", arr=1200, freq="annual"),
            sub("S1b", "A1", "2022-12-01", arr=99000, freq="monthly"),  # older: not the current one
            sub("S2", "A2", "2024-01-31", arr=1200, freq="monthly"),
            sub("S3", "A3", "2024-01-10", end="2024-02-01", arr=1200, freq="annual"),
            sub("S4", "A4", "2024-02-01", arr=0, trial="TRUE", freq="annual"),
        ],
        tickets=[ticket("T1", "A2", "2024-02-29")],  # as-of = 2024-02-29
    )
    rows = {r["account_id"]: r for r in read_rows(book / "accounts.csv")}
    assert [(r["segment"], r["customer_since"], r["plan_tier"]) for r in rows.values()] == [
        ("enterprise", "2023-05-02", "Enterprise"),
        ("mid-market", "2023-06-03", "Pro"),
        ("smb", "2023-07-04", "Basic"),
        ("smb", "2023-08-05", "Basic"),
    ]
    assert rows["A1"]["account_name"] == "Acme, Inc."
    # A1: current = latest-started active paid subscription = S1 (28 Feb 2023, annual).
    #     Anniversaries: 2024-02-28 (<= as-of 29 Feb) -> next is 2025-02-28.
    assert rows["A1"]["renewal_date"] == "2025-02-28"
    # A2: monthly from 31 Jan 2024: +1 month = 29 Feb 2024 (clamped) <= as-of -> +2 months = 31 Mar 2024.
    assert rows["A2"]["renewal_date"] == "2024-03-31"
    # A3: its only subscription ended 1 Feb -> nothing active on the as-of date -> blank.
    # A4: only a trial -> blank.
    assert rows["A3"]["renewal_date"] == "" and rows["A4"]["renewal_date"] == ""


def test_default_owner_rule_is_segment_plus_sha256(tmp_path: Path) -> None:
    ids = [f"A-{i:04d}" for i in range(30)]
    tiers = ["Enterprise", "Pro", "Basic"]
    accounts = [acc(a, tier=tiers[i % 3]) for i, a in enumerate(ids)]
    book = build(tmp_path, accounts, [sub("S1", ids[0], "2024-01-01")])
    pools = {"enterprise": ["csm_01", "csm_02"], "mid-market": ["csm_03", "csm_04"], "smb": ["csm_05"]}
    for r in read_rows(book / "accounts.csv"):
        pool = pools[r["segment"]]
        h = int(hashlib.sha256(r["account_id"].encode("utf-8")).hexdigest(), 16)
        assert r["csm_id"] == pool[h % len(pool)], r
    csms = read_rows(book / "csms.csv")
    assert [c["csm_id"] for c in csms] == ["csm_01", "csm_02", "csm_03", "csm_04", "csm_05"]
    assert {c["team"] for c in csms} == {"Enterprise", "Mid-Market", "SMB"}


def test_assignments_file_sets_owners_and_csms(tmp_path: Path) -> None:
    src = write_src(tmp_path / "src", [acc("A1"), acc("A2")], [sub("S1", "A1", "2024-01-01")])
    assign = tmp_path / "owners.csv"
    assign.write_text(
        "account_id,csm_id,csm_name,team\nA1,0042,Dana Lee,East\nA2,0042,Dana Lee,East\n", encoding="utf-8"
    )
    book = import_ravenstack(src, tmp_path / "book", assign)
    assert [r["csm_id"] for r in read_rows(book / "accounts.csv")] == ["0042", "0042"]  # stays text
    assert read_rows(book / "csms.csv") == [
        {"csm_id": "0042", "csm_name": "Dana Lee", "team": "East", "time_zone": "UTC"}
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("account_id,csm_id\nA1,c1\n", "A2"),                         # A2 has no owner
        ("account_id,csm_id\nA1,c1\nA2,c1\nA9,c2\n", "A9"),           # unknown account
        ("account_id,csm_id\nA1,c1\nA2,c1\nA1,c2\n", "row 4"),        # A1 twice (header = row 1)
        ("account,csm\nA1,c1\n", "missing column"),
    ],
)
def test_bad_assignments_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    src = write_src(tmp_path / "src", [acc("A1"), acc("A2")], [sub("S1", "A1", "2024-01-01")])
    assign = tmp_path / "owners.csv"
    assign.write_text(content, encoding="utf-8")
    with pytest.raises(KitError, match=message):
        import_ravenstack(src, tmp_path / "book", assign)
    assert not (tmp_path / "book").exists()


def test_usage_adoption_and_seats(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1"), acc("A2")],
        [
            sub("S1", "A1", "2024-01-01", seats=10),
            sub("S2", "A1", "2024-02-15", seats=4, trial="TRUE", arr=0),  # trial seats are not purchased
            sub("S3", "A1", "2024-02-20", seats=6),
            sub("S4", "A2", "2024-03-01", seats=7),
        ],
        usage=[
            use("U1", "S1", "2024-01-03", "f1"),
            use("U2", "S1", "2024-01-09", "f1"),            # same feature again: still one
            use("U3", "S1", "2024-01-09", "f2", count=0),   # count 0: recorded but not used
            use("U4", "S3", "2024-02-21", "f2"),
            use("U5", "S2", "2024-02-22", "f3"),            # usage on a trial still counts as usage
            use("U6", "S3", "2024-02-23", "f4"),
            use("U4", "S4", "2024-02-11", "f1"),            # repeated usage_id (as in the real file)
        ],
    )
    rows = read_rows(book / "usage.csv")
    # distinct features in the file: f1, f2, f3, f4 -> 4.
    # 2024-01 A1: used {f1} -> 100 * 1/4 = 25; seats: S1 active on 31 Jan -> 10.
    # 2024-02 A1: used {f2, f3, f4} -> 100 * 3/4 = 75; seats: S1 10 + S3 6 = 16 (S2 is a trial).
    # 2024-02 A2: used {f1} -> 25; seats: S4 starts 1 Mar -> nothing active on 29 Feb -> 0.
    # No 2024-03 rows: no usage records in March (absence of records is not "0 %").
    assert [(r["month"], r["account_id"], r["feature_adoption_pct"], r["seats_purchased"], r["seats_used"])
            for r in rows] == [
        ("2024-01", "A1", "25", "10", ""),
        ("2024-02", "A1", "75", "16", ""),
        ("2024-02", "A2", "25", "0", ""),
    ]


def test_adoption_is_rounded_half_up_to_two_decimals(tmp_path: Path) -> None:
    features = [f"f{i}" for i in range(1, 7)]  # 6 distinct features
    book = build(
        tmp_path,
        [acc("A1"), acc("A2")],
        [sub("S1", "A1", "2024-01-01"), sub("S2", "A2", "2024-01-01")],
        usage=[use(f"U{i}", "S2", "2024-01-02", f) for i, f in enumerate(features)]
        + [use("V1", "S1", "2024-01-02", "f1")],
    )
    rows = {r["account_id"]: r["feature_adoption_pct"] for r in read_rows(book / "usage.csv")}
    # A1: 100 * 1/6 = 16.666... -> 16.67.  A2: 6/6 -> 100.
    assert rows == {"A1": "16.67", "A2": "100"}


def test_escalations_use_first_response_as_engagement(tmp_path: Path) -> None:
    book = build(
        tmp_path,
        [acc("A1")],
        [sub("S1", "A1", "2024-01-01")],
        tickets=[
            ticket("T2", "A1", "2024-01-31", minutes="1500", esc="TRUE"),
            ticket("T1", "A1", "2024-01-05", minutes="90", esc="TRUE"),
            ticket("T3", "A1", "2024-01-06", minutes="10", esc="FALSE"),  # not escalated -> left out
            ticket("T4", "A1", "2024-01-07", minutes="", esc="TRUE"),     # no response time -> blank
        ],
    )
    # T1: midnight 5 Jan + 90 min = 01:30. T2: midnight 31 Jan + 1500 min (25 h) = 1 Feb 01:00.
    assert read_rows(book / "escalations.csv") == [
        {"escalation_id": "T1", "account_id": "A1", "opened_at": "2024-01-05T00:00:00",
         "csm_engaged_at": "2024-01-05T01:30:00"},
        {"escalation_id": "T4", "account_id": "A1", "opened_at": "2024-01-07T00:00:00", "csm_engaged_at": ""},
        {"escalation_id": "T2", "account_id": "A1", "opened_at": "2024-01-31T00:00:00",
         "csm_engaged_at": "2024-02-01T01:00:00"},
    ]


def test_not_recorded_files_have_headers_only(tmp_path: Path) -> None:
    book = build(tmp_path, [acc("A1")], [sub("S1", "A1", "2024-01-01")])
    assert (book / "activities.csv").read_text(encoding="utf-8") == "activity_id,date,account_id,csm_id,type,purpose\n"
    assert (book / "sqls.csv").read_text(encoding="utf-8").count("\n") == 1
    assert (book / "risk_alerts.csv").read_text(encoding="utf-8").count("\n") == 1
    yaml_text = (book / "book.yaml").read_text(encoding="utf-8")
    assert "not_recorded: [activities, risk_alerts, sqls]" in yaml_text
    assert "River @ Rivalytics" in yaml_text and "River @ Rivalytics" in (book / "README.md").read_text("utf-8")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    src = write_src(tmp_path / "src", [acc("A1")], [sub("S1", "A1", "2024-01-01")])
    (src / "ravenstack_churn_events.csv").unlink()
    with pytest.raises(KitError, match="ravenstack_churn_events.csv: file not found"):
        import_ravenstack(src, tmp_path / "book")


def test_missing_column_names_the_column(tmp_path: Path) -> None:
    src = write_src(tmp_path / "src", [acc("A1")], [sub("S1", "A1", "2024-01-01")])
    (src / "ravenstack_subscriptions.csv").write_text("subscription_id,account_id\nS1,A1\n", encoding="utf-8")
    with pytest.raises(KitError, match=r"ravenstack_subscriptions.csv: missing column\(s\) start_date"):
        import_ravenstack(src, tmp_path / "book")


def test_bad_cells_are_listed_with_spreadsheet_rows(tmp_path: Path) -> None:
    src = write_src(
        tmp_path / "src",
        [acc("A1")],
        [
            sub("S1", "A1", "2024-01-01"),
            sub("S2", "A1", "31/01/2024"),                       # row 3: day-first date
            sub("S3", "A1", "2024-03-01", end="2024-02-01"),     # row 4: ends before it starts
            sub("S4", "A9", "2024-03-01"),                       # row 5: unknown account
        ],
    )
    with pytest.raises(KitError) as info:
        import_ravenstack(src, tmp_path / "book")
    text = str(info.value)
    assert "ravenstack_subscriptions.csv row 3, column start_date: '31/01/2024'" in text
    assert "row 4, column end_date: '2024-02-01'" in text
    assert "row 5, column account_id: 'A9'" in text
    assert not (tmp_path / "book").exists()


def test_output_is_deterministic_and_inputs_untouched(tmp_path: Path) -> None:
    src = write_src(
        tmp_path / "src",
        [acc("A2", tier="Basic"), acc("A1", tier="Enterprise")],
        [sub("S2", "A2", "2024-02-01"), sub("S1", "A1", "2024-01-01", arr=5000)],
        churns=[churn("C1", "A2", "2024-03-03")],
        usage=[use("U1", "S1", "2024-01-02", "f1")],
        tickets=[ticket("T1", "A1", "2024-03-30", esc="TRUE")],
    )
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    one = import_ravenstack(src, tmp_path / "one")
    two = import_ravenstack(src, tmp_path / "two")
    files = sorted(p.name for p in one.iterdir())
    assert files == sorted(p.name for p in two.iterdir())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before
    # rows sorted by month then account
    assert [(r["month"], r["account_id"]) for r in read_rows(one / "arr_monthly.csv")] == [
        ("2024-01", "A1"), ("2024-02", "A1"), ("2024-02", "A2"), ("2024-03", "A1"),
    ]


def test_out_folder_with_other_files_is_refused_and_previous_import_replaced(tmp_path: Path) -> None:
    src = write_src(tmp_path / "src", [acc("A1")], [sub("S1", "A1", "2024-01-01")])
    out = tmp_path / "book"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(KitError, match="notes.txt"):
        import_ravenstack(src, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]  # untouched
    (out / "notes.txt").unlink()
    import_ravenstack(src, out)
    (out / "arr_monthly.csv").write_text("stale", encoding="utf-8")
    import_ravenstack(src, out)  # a previous import is replaced
    assert (out / "arr_monthly.csv").read_text(encoding="utf-8") == "month,account_id,arr\n2024-01,A1,1200\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book", "src"]  # no temp folders left


# ------------------------------------------------------------------------------------------------
# the real dataset
# ------------------------------------------------------------------------------------------------
needs_dataset = pytest.mark.skipif(
    not DATASET.is_dir(), reason=f"RavenStack dataset not found at {DATASET} (expected ../shared beside the project)"
)


def _d(text: str) -> date:
    return date.fromisoformat(text)


def independent_month_end_arr(folder: Path) -> dict[tuple[str, str], int]:
    """Month-end ARR from the raw files, written without kpi_kit (plain csv + datetime).

    Documented rules, phrased per day: a paid subscription counts on month-end day L when
    start <= L, (end blank or L < end) and the account has no churn date c with start <= c <= L, where
    churn dates are the churn events plus, for accounts with churn_flag TRUE, the account's latest
    churn/start/end date.
    """
    accounts = read_rows(folder / "ravenstack_accounts.csv")
    subs = read_rows(folder / "ravenstack_subscriptions.csv")
    events = read_rows(folder / "ravenstack_churn_events.csv")
    stops: dict[str, list[date]] = defaultdict(list)
    for e in events:
        stops[e["account_id"]].append(_d(e["churn_date"]))
    flagged = {a["account_id"] for a in accounts if a["churn_flag"] == "TRUE"}
    for aid in flagged:
        recorded = list(stops[aid])
        for s in subs:
            if s["account_id"] == aid:
                recorded.append(_d(s["start_date"]))
                if s["end_date"]:
                    recorded.append(_d(s["end_date"]))
        stops[aid].append(max(recorded))
    every_date = [_d(a["signup_date"]) for a in accounts] + [_d(e["churn_date"]) for e in events]
    every_date += [_d(s["start_date"]) for s in subs] + [_d(s["end_date"]) for s in subs if s["end_date"]]
    every_date += [_d(r["usage_date"]) for r in read_rows(folder / "ravenstack_feature_usage.csv")]
    every_date += [_d(t["submitted_at"][:10]) for t in read_rows(folder / "ravenstack_support_tickets.csv")]
    first, last = min(_d(s["start_date"]) for s in subs), max(every_date)
    out: dict[tuple[str, str], int] = defaultdict(int)
    for y in range(first.year, last.year + 1):
        for m in range(1, 13):
            if (y, m) < (first.year, first.month) or (y, m) > (last.year, last.month):
                continue
            day = date(y, m, calendar.monthrange(y, m)[1])
            for s in subs:
                start = _d(s["start_date"])
                if s["is_trial"] == "TRUE" or start > day:
                    continue
                if s["end_date"] and day >= _d(s["end_date"]):
                    continue
                if any(start <= c <= day for c in stops[s["account_id"]]):
                    continue
                out[(f"{y}-{m:02d}", s["account_id"])] += int(s["arr_amount"])
    return {k: v for k, v in out.items() if v > 0}


@pytest.fixture(scope="module")
def real_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DATASET.is_dir():
        pytest.skip(f"RavenStack dataset not found at {DATASET}")
    return import_ravenstack(DATASET, tmp_path_factory.mktemp("ravenstack") / "book")


def independent_zero_rows(paid: dict[tuple[str, str], int]) -> set[tuple[str, str]]:
    """Months strictly between an account's first and last month with ARR > 0 that have no ARR."""
    held: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for (m, a) in paid:
        held[a].add((int(m[:4]), int(m[5:])))
    out = set()
    for a, months in held.items():
        (y, mo), last = min(months), max(months)
        while (y, mo) < last:
            if (y, mo) not in months:
                out.add((f"{y}-{mo:02d}", a))
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


@needs_dataset
def test_real_arr_matches_an_independent_computation(real_book: Path) -> None:
    expected = independent_month_end_arr(DATASET)
    got = arr_of(real_book)
    assert paid_of(real_book) == expected
    # every other row is an explicit 0 for a month between two paid months, and there is one for each
    assert {k for k, v in got.items() if v == 0} == independent_zero_rows(expected)
    # total ARR at one month-end, summed from the independent computation
    total_june = sum(v for (m, _), v in expected.items() if m == "2024-06")
    assert sum(v for (m, _), v in got.items() if m == "2024-06") == total_june
    assert total_june > 0


@needs_dataset
def test_real_accounts_churned_in_2024_q3(real_book: Path) -> None:
    expected = independent_month_end_arr(DATASET)
    begin = {a for (m, a) in expected if m == "2024-06"}   # ARR > 0 at the end of June
    end = {a for (m, a) in expected if m == "2024-09"}     # ARR > 0 at the end of September
    churned_expected = begin - end
    got = arr_of(real_book)
    churned_got = ({a for (m, a), v in got.items() if m == "2024-06" and v > 0}
                   - {a for (m, a), v in got.items() if m == "2024-09" and v > 0})
    assert churned_got == churned_expected
    assert len(churned_got) > 0


@needs_dataset
def test_real_account_history_by_hand(real_book: Path) -> None:
    # A-f1f639 in the raw files (Basic, churn_flag FALSE):
    #   S-07c2c2 2023-07-03 .. (blank)  1140    S-343bab 2023-08-18 .. (blank) 11940
    #   S-ab212b 2024-01-16 .. (blank)   456    S-f52fd6 2024-09-19 .. (blank) 21492   (no trials)
    #   churn events: 2023-10-18 (is_reactivation TRUE), 2024-04-07 (FALSE)
    # 2023-07: 1140; 2023-08, 2023-09: 1140 + 11940 = 13080; churn 18 Oct ends both -> 0 until
    # S-ab212b: 2024-01..2024-03: 456; churn 7 Apr ends it -> 0 until S-f52fd6: 2024-09..2024-12: 21492.
    # The 0 months 2023-10..2023-12 and 2024-04..2024-08 lie between paid months: explicit 0 rows.
    history = {m: v for (m, a), v in arr_of(real_book).items() if a == "A-f1f639"}
    assert history == {
        "2023-07": 1140, "2023-08": 13080, "2023-09": 13080, "2023-10": 0, "2023-11": 0, "2023-12": 0,
        "2024-01": 456, "2024-02": 456, "2024-03": 456,
        "2024-04": 0, "2024-05": 0, "2024-06": 0, "2024-07": 0, "2024-08": 0,
        "2024-09": 21492, "2024-10": 21492, "2024-11": 21492, "2024-12": 21492,
    }
    # A-1e6fc3 (Pro): trial S-e6cfc1 (0), paid S-1a20b6 from 2024-04-01 at 2940, trial S-941e0f (0),
    # paid S-cb8a5c from 2024-12-17 at 2388 (annual); its churn event 2024-03-20 precedes both paid ones.
    # 2024-04..2024-11: 2940; 2024-12: 2940 + 2388 = 5328. Renewal: current = S-cb8a5c -> 2025-12-17.
    history = {m: v for (m, a), v in arr_of(real_book).items() if a == "A-1e6fc3"}
    assert history == {**{f"2024-{m:02d}": 2940 for m in range(4, 12)}, "2024-12": 5328}
    row = next(r for r in read_rows(real_book / "accounts.csv") if r["account_id"] == "A-1e6fc3")
    assert (row["segment"], row["renewal_date"], row["customer_since"]) == ("mid-market", "2025-12-17", "2023-12-06")


@needs_dataset
def test_real_book_shape(real_book: Path) -> None:
    accounts = read_rows(real_book / "accounts.csv")
    raw = read_rows(DATASET / "ravenstack_accounts.csv")
    assert len(accounts) == len(raw) == 500
    assert [a["account_id"] for a in accounts] == sorted(a["account_id"] for a in raw)
    tickets = read_rows(DATASET / "ravenstack_support_tickets.csv")
    assert len(read_rows(real_book / "escalations.csv")) == sum(t["escalation_flag"] == "TRUE" for t in tickets)
    usage = read_rows(real_book / "usage.csv")
    assert {u["seats_used"] for u in usage} == {""}
    assert all(0 <= float(u["feature_adoption_pct"]) <= 100 for u in usage)


@needs_dataset
def test_real_import_is_byte_identical_twice(real_book: Path, tmp_path: Path) -> None:
    again = import_ravenstack(DATASET, tmp_path / "again")
    for p in sorted(real_book.iterdir()):
        assert (again / p.name).read_bytes() == p.read_bytes(), p.name


@needs_dataset
def test_real_book_loads_without_validation_errors(real_book: Path) -> None:
    if importlib.util.find_spec("kpi_kit.data") is None:
        pytest.skip("kpi_kit.data.load_book does not exist yet (the lead is writing it)")
    from kpi_kit.data import load_book

    book = load_book(real_book)
    assert len(book.accounts) == 500
    assert {"activities", "sqls", "risk_alerts"} <= set(book.not_recorded)


@needs_dataset
def test_real_book_validates_without_gap_warnings(real_book: Path) -> None:
    # Before explicit 0 rows, `kpi-kit validate` listed 191 "gap" warnings (410 months of 164 accounts
    # churned and won back). Every such month now has a 0 row, so the gap check has nothing to say.
    from kpi_kit.data import validate_book
    from kpi_kit.validate import GAP_PREFIX

    problems = validate_book(real_book)
    assert [p for p in problems if GAP_PREFIX in p.message] == []
    assert [p for p in problems if p.severity == "error"] == []


def test_zero_rows_keep_every_kpi_and_quiet_the_gap_check(tmp_path: Path) -> None:
    from kpi_kit.data import load_book, validate_book
    from kpi_kit.metrics import csm_metrics
    from kpi_kit.periods import Period
    from kpi_kit.validate import GAP_PREFIX

    book = build(
        tmp_path,
        [acc("A1")],
        [sub("S1", "A1", "2024-01-05", arr=1200), sub("S2", "A1", "2024-04-05", arr=600)],
        churns=[churn("C1", "A1", "2024-02-10")],
    )
    # Jan 1200; churn 10 Feb ends S1 -> Feb, Mar 0 (explicit rows); S2 from 5 Apr -> Apr 600.
    assert arr_of(book) == {("2024-01", "A1"): 1200, ("2024-02", "A1"): 0, ("2024-03", "A1"): 0,
                            ("2024-04", "A1"): 600}
    assert not [p for p in validate_book(book) if GAP_PREFIX in p.message]
    loaded = load_book(book)
    csm = str(loaded.accounts["csm_id"].iloc[0])  # the default rule gives A1 its segment's CSM
    # Feb..Mar: beginning ARR = Jan 1200, ending ARR = Mar 0 -> churned; GRR = 100 × 0 / 1200 = 0
    m = csm_metrics(loaded, csm, Period.parse("2024-02", "2024-03"))
    assert m["beginning_arr"] == 1200 and m["churned_arr"] == 1200 and m["grr_pct"] == 0.0
    # Apr: beginning = Mar 0 -> not in the cohort; ending 600 is a new logo (won back), not expansion
    m = csm_metrics(loaded, csm, Period.parse("2024-04", "2024-04"))
    assert m["beginning_arr"] == 0 and m["new_arr"] == 600 and m["grr_pct"] is None
