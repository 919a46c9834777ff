"""kpi_kit.coverage: monthly coverage, the tiered model (the seed's 88 %), the weekly rota — expected values
worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi_kit import coverage as c
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import coverage as ex
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q3 = Period.parse("2026-07", "2026-09")
CSMS = [{"csm_id": "c1", "csm_name": "Ann", "team": "T"}, {"csm_id": "c2", "csm_name": "Bo", "team": "T"}]
ALL_MONTHS = {"2026-06": 1.0, "2026-07": 1.0, "2026-08": 1.0, "2026-09": 1.0}


def _acc(aid: str, name: str, segment: str = "smb", renewal: str = "", health: float = 80, csm: str = "c1") -> dict:
    return {"account_id": aid, "account_name": name, "csm_id": csm, "segment": segment,
            "customer_since": "2024-01-01", "renewal_date": renewal, "health_score": health}


def _act(n: int, date: str, account: str, kind: str = "call", csm: str = "c1") -> dict:
    return {"activity_id": f"a{n}", "date": date, "account_id": account, "csm_id": csm, "type": kind}


# ------------------------------------------------------------------------------------------------
# the tiered model
# ------------------------------------------------------------------------------------------------

def test_seed_tiered_model_is_88_not_90():
    model = c.tiered_coverage(c.SEED_TIERS, c.SEED_CLAIMED_PCT)
    # (10 x 1.0 + 20 x 0.9 + 20 x 0.8) / 50 = (10 + 18 + 16) / 50 = 44 / 50 = 88 %
    assert model.target_accounts == 44.0 and model.accounts == 50
    assert model.blended_target_pct == pytest.approx(88.0)
    assert model.table["target_accounts"].tolist() == [10.0, 18.0, 16.0]
    assert model.simple_average_pct == pytest.approx(90.0)  # (100 + 90 + 80) / 3: the seed's figure
    assert model.claim_holds is False
    text = model.verdict()
    # 90 % of 50 = 45 accounts, one more than 44
    assert "88.0 %" in text and "does not follow" in text and "45 engaged accounts, 1 more" in text
    assert "plain average" in text


def test_tiered_model_with_actuals_and_a_claim_that_holds():
    model = c.tiered_coverage([c.Tier("a", 10, 100.0, 9), c.Tier("b", 20, 90.0, 20)], claimed_pct=280 / 3)
    # target (10 + 18) / 30 = 93.33 %; actual (9 + 20) / 30 = 96.67 %
    assert model.blended_target_pct == pytest.approx(280 / 3)
    assert model.actual_pct == pytest.approx(100 * 29 / 30)
    assert model.claim_holds is True and "That is the claimed" in model.verdict()
    assert model.table["coverage_pct"].tolist() == pytest.approx([90.0, 100.0])
    assert c.tiered_coverage(c.SEED_TIERS).claim_holds is None and c.tiered_coverage(c.SEED_TIERS).actual_pct is None


@pytest.mark.parametrize(("tiers", "claimed", "match"), [
    ([], None, "at least one tier"),
    ([c.Tier("a", -1, 90.0)], None, "accounts"),
    ([c.Tier("a", 10, 120.0)], None, "target_pct"),
    ([c.Tier("a", 10, 90.0, 11)], None, "covered"),
    ([c.Tier("a", 10, 90.0)], 101.0, "claimed_pct"),
])
def test_tiered_model_rejects_bad_tiers(tiers, claimed, match):
    with pytest.raises(KitError, match=match):
        c.tiered_coverage(tiers, claimed)


def test_empty_tiers_have_no_blended_figure():
    model = c.tiered_coverage([c.Tier("a", 0, 90.0)])
    assert model.blended_target_pct is None and "No accounts" in model.verdict()


# ------------------------------------------------------------------------------------------------
# coverage on a book
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def small_book(book_dir):
    accounts = [_acc("p", "Pine", "enterprise"), _acc("q", "Quartz", "enterprise"), _acc("r", "Reed"),
                _acc("s", "Sage"), _acc("t", "Teal")]
    arr = []
    for aid in "pqrst":
        arr += arr_rows(aid, {m: 100.0 for m in ALL_MONTHS})
    acts = [_act(1, "2026-07-10", "p"), _act(2, "2026-08-10", "r", "automated_email", csm="c2"),
            _act(3, "2026-08-20", "s", csm="c2"), _act(4, "2026-09-05", "t"), _act(5, "2026-05-02", "q")]
    return load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr, activities=acts))


def test_monthly_coverage(small_book):
    t = c.monthly_coverage(small_book, "c1", Q3)
    assert t["label"].tolist() == ["2026-07", "2026-08", "2026-09", "2026-07..2026-09"]
    # book of 5 each month; Jul: p; Aug: r (automated, by c2: counts), s (by c2: counts); Sep: t; period: p, r, s, t
    assert t["covered_accounts"].tolist() == [1, 2, 1, 4]
    assert t["coverage_pct"].tolist() == pytest.approx([20.0, 40.0, 20.0, 80.0])


def test_uncovered_accounts(small_book):
    silent = c.uncovered_accounts(small_book, "c1", Q3)
    # q had no activity in Q3; its last touch was 2026-05-02
    assert silent["account_id"].tolist() == ["q"] and str(silent.loc[0, "last_touch"].date()) == "2026-05-02"


def test_book_tiered_coverage(small_book):
    model = c.book_tiered_coverage(small_book, "c1", Q3)
    # enterprise p, q at 100 % -> 2 accounts; smb r, s, t at 80 % -> 2.4; blended (2 + 2.4) / 5 = 88 %
    assert model.blended_target_pct == pytest.approx(88.0)
    assert model.table["tier"].tolist() == ["high-touch (enterprise)", "low-touch (smb)"]
    # covered: enterprise p (1 of 2), smb r, s, t (3 of 3) -> 4 / 5 = 80 %
    assert model.table["covered"].tolist() == [1, 3] and model.actual_pct == pytest.approx(80.0)


def test_monthly_coverage_without_activities(book_dir):
    book = load_book(book_dir(csms=CSMS[:1], accounts=[_acc("p", "Pine")], arr_monthly=arr_rows("p", ALL_MONTHS),
                              book="not_recorded: [activities]\n"))
    t = c.monthly_coverage(book, "c1", Q3)
    assert t["covered_accounts"].isna().all() and t["coverage_pct"].isna().all()
    assert c.book_tiered_coverage(book, "c1", Q3).actual_pct is None
    assert c.uncovered_accounts(book, "c1", Q3).attrs["recorded"] is False


# ------------------------------------------------------------------------------------------------
# the weekly rota
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "week"), [
    ("Acme", 1), ("lumen", 1), ("Lumen", 1), ("Meridian", 2), ("zephyr", 2), ("Émile", 1), ("Östra", 2),
    ("3M", 1), ("", 1), ("  Nova", 2),
])
def test_rota_week(name, week):
    assert c.rota_week(name) == week


def test_coverage_rota(book_dir):
    accounts = [_acc("a1", "Acme", health=40), _acc("a2", "lumen"), _acc("a3", "Meridian", renewal="2026-11-15"),
                _acc("a4", "Zephyr"), _acc("a5", "3M", renewal="2027-03-01"), _acc("a6", "Émile"), _acc("a7", "Quill")]
    arr = []
    for aid in ("a1", "a2", "a3", "a4", "a5", "a6"):
        arr += arr_rows(aid, ALL_MONTHS)
    arr += arr_rows("a7", {"2026-06": 5.0})  # churned: ARR 0 at the end, not live
    alerts = [{"alert_id": "r1", "account_id": "a4", "flagged_date": "2026-09-01", "outcome": "open"}]
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr, risk_alerts=alerts))
    rota = c.coverage_rota(book, "c1", Q3)
    names = {w: rota.week(w)["account_name"].tolist() for w in (1, 2, 3, 4)}
    # week 1: A-L (and names starting with a digit); week 2: M-Z; week 3: Acme (health 40 < 50) and Zephyr
    # (open alert); week 4: Meridian renews 2026-11-15, 46 days after 2026-09-30 (31 days of October + 15)
    assert sorted(names[1]) == ["3M", "Acme", "lumen", "Émile"]
    assert sorted(names[2]) == ["Meridian", "Zephyr"]
    assert sorted(names[3]) == ["Acme", "Zephyr"]
    assert names[4] == ["Meridian"] and rota.week(4).loc[0, "reason"] == "renews 2026-11-15 (in 46 days)"
    assert rota.summary["accounts"].tolist() == [4, 2, 2, 1]
    assert "Quill" not in rota.table["account_name"].tolist()


# ------------------------------------------------------------------------------------------------
# exercises
# ------------------------------------------------------------------------------------------------

def test_exercise_3_1_coverage_by_hand(small_book):
    q = ex.q_3_1(small_book, "c1", Q3)
    assert q.expected == pytest.approx(80.0)                     # p, r, s, t of 5
    assert "automated emails count" in q.verdict(60.0)[1]        # without r's automated email: p, s, t -> 3 of 5
    assert "by anyone" in q.verdict(40.0)[1]                     # c1's own activities only: p, t -> 2 of 5
    assert "percentage" in q.verdict(4)[1]                       # the count, not the %


def test_exercise_3_2_is_the_seeds_88(small_book):
    q = ex.q_3_2(small_book, "c1", Q3)
    assert q.verdict(88)[0] and "plain average" in q.verdict(90)[1]


def test_exercise_3_3_uncontacted_renewals(book_dir):
    accounts = [_acc("a", "Alder", renewal="2026-10-20"), _acc("b", "Birch", renewal="2026-11-20"),
                _acc("d", "Dune", renewal="2027-06-01")]
    arr = arr_rows("a", ALL_MONTHS) + arr_rows("b", ALL_MONTHS) + arr_rows("d", ALL_MONTHS)
    acts = [_act(1, "2026-09-01", "a"), _act(2, "2026-09-02", "b", "automated_email")]
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr, activities=acts))
    q = ex.q_3_3(book, "c1", Q3)
    # a and b renew within 90 days of 2026-09-30; a was called, b only got an automated email; d is too far out
    assert q.expected == frozenset({"b"})
    assert q.verdict({"b"})[0] and q.verdict(pd.Series(["b"]))[0] and q.verdict(["b"])[0]
    assert not q.verdict("b")[0]                                 # a string is not a set of ids
    assert "every renewal" in q.verdict({"a", "b"})[1]


def test_exercise_0_1_book_size(book_dir):
    accounts = [_acc("a", "Alder"), _acc("b", "Birch")]
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr_rows("a", ALL_MONTHS)))
    q = ex.q_0_1(book, "c1", Q3)
    # b has no ARR at all: assigned to c1 but not in the book
    assert q.expected == 1 and "every account assigned" in q.verdict(2)[1]
    assert math.isclose(ex.q_3_2(book, "c1", Q3).expected, 88.0)
