"""kpi_kit.sqls: quality score, conversion by score, the seed's example SQL — expected values by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi_kit import sqls as q
from kpi_kit.data import load_book
from kpi_kit.errors import KitError
from kpi_kit.exercises import sqls as ex
from kpi_kit.metrics import csm_metrics
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q3 = Period.parse("2026-07", "2026-09")
CSMS = [{"csm_id": "c1", "csm_name": "Ann", "team": "T"}, {"csm_id": "c2", "csm_name": "Bo", "team": "T"}]
T, F, BLANK = "true", "false", None


def _sql(sid: str, created: str, csm: str, amount: float, status: str, closed: str | None,
         need, budget, timeline, stakeholder, account: str = "a") -> dict:
    return {"sql_id": sid, "created_date": created, "account_id": account, "csm_id": csm, "expansion_arr": amount,
            "status": status, "closed_date": closed, "need": need, "budget": budget, "timeline": timeline,
            "stakeholder": stakeholder}


@pytest.fixture
def sql_book(book_dir):
    accounts = [{"account_id": "a", "account_name": "Alder", "csm_id": "c1", "segment": "smb",
                 "customer_since": "2024-01-01", "renewal_date": ""}]
    sqls = [
        _sql("s1", "2026-07-05", "c1", 10_000, "won", "2026-08-10", T, T, T, T),        # score 100
        _sql("s2", "2026-07-20", "c1", 4_000, "lost", "2026-09-01", T, F, F, F),        # score 25
        _sql("s3", "2026-08-02", "c1", 6_000, "won", "2026-09-05", T, T, BLANK, T),     # not scored (blank)
        _sql("s4", "2026-06-30", "c1", 8_000, "won", "2026-07-15", T, T, T, T),         # created before Q3
        _sql("s5", "2026-07-10", "c2", 1_000, "won", "2026-08-01", F, F, F, F),         # another CSM, score 0
        _sql("s6", "2026-09-10", "c1", 2_000, "open", None, F, T, T, T),                # score 75, open
    ]
    return load_book(book_dir(csms=CSMS, accounts=accounts, arr_monthly=arr_rows("a", {"2026-06": 100, "2026-09": 100}),
                              sqls=sqls))


def test_quality_scores():
    rows = pd.DataFrame({"need": [True, True, None, False], "budget": [True, False, True, False],
                         "timeline": [True, False, True, False], "stakeholder": [False, False, True, False]},
                        dtype="boolean")
    # 3 of 4 -> 75; 1 of 4 -> 25; a blank -> not scored; 0 of 4 -> 0 (a real score, not missing)
    assert q.quality_scores(rows).tolist() == [75.0, 25.0, pytest.approx(math.nan, nan_ok=True), 0.0]
    with pytest.raises(KitError, match="checklist"):
        q.quality_scores(rows.drop(columns=["budget"]))


def test_sql_quality_of_a_csm(sql_book):
    quality = q.sql_quality(sql_book, "c1", Q3)
    t = quality.table.set_index("sql_id")
    # c1's SQLs created in Q3: s1, s2, s3, s6 (s4 is from June, s5 is c2's); newest first
    assert quality.table["sql_id"].tolist() == ["s6", "s3", "s2", "s1"]
    assert t["quality_score_pct"].dropna().to_dict() == {"s6": 75.0, "s2": 25.0, "s1": 100.0}
    assert math.isnan(t.loc["s3", "quality_score_pct"])
    assert t["criteria_met"].tolist() == [3, 3, 1, 4]  # s3: need, budget, stakeholder met; timeline blank
    # average over the scored: (75 + 25 + 100) / 3 = 66.67
    assert quality.scored == 3 and quality.average_score_pct == pytest.approx(200 / 3)
    rates = quality.criterion_rates().set_index("criterion")
    # need: recorded 4, met 3 (s6 false); timeline: recorded 3 (s3 blank), met 2 (s1, s6)
    assert rates.loc["need", ["recorded", "met"]].tolist() == [4, 3]
    assert rates.loc["timeline", ["recorded", "met"]].tolist() == [3, 2]
    assert rates.loc["timeline", "met_pct"] == pytest.approx(200 / 3)


def test_conversion_by_score_adds_up_to_the_kpi(sql_book):
    t = q.conversion_by_score(sql_book, Q3, "c1").set_index("score")
    # closed in Q3 by c1: s1 won (100), s2 lost (25), s3 won (not scored), s4 won (closed Jul 15, score 100)
    assert t.index.tolist() == ["0 %", "25 %", "50 %", "75 %", "100 %", "not scored"]
    assert t.loc["100 %", ["won", "lost", "closed"]].tolist() == [2, 0, 2]
    assert t.loc["25 %", ["won", "lost"]].tolist() == [0, 1] and t.loc["25 %", "conversion_pct"] == 0.0
    assert t.loc["not scored", "won"] == 1 and math.isnan(t.loc["50 %", "conversion_pct"])
    # the rows add up to the KPI: won 3 of 4 closed = 75 %
    assert t["won"].sum() == 3 and t["closed"].sum() == 4
    assert csm_metrics(sql_book, "c1", Q3)["sql_conversion_pct"] == pytest.approx(75.0)
    team = q.conversion_by_score(sql_book, Q3).set_index("score")
    assert team.loc["0 %", "won"] == 1  # c2's s5 (all criteria false) joins the team view


def test_no_checklist_means_no_scores(book_dir):
    accounts = [{"account_id": "a", "account_name": "Alder", "csm_id": "c1", "segment": "smb",
                 "customer_since": "2024-01-01", "renewal_date": ""}]
    sqls = [{"sql_id": "s1", "created_date": "2026-07-05", "account_id": "a", "csm_id": "c1", "expansion_arr": 100,
             "status": "won", "closed_date": "2026-08-01"}]
    book = load_book(book_dir(csms=CSMS[:1], accounts=accounts, arr_monthly=arr_rows("a", {"2026-09": 100}), sqls=sqls))
    assert not q.has_checklist(book)
    quality = q.sql_quality(book, "c1", Q3)
    assert not quality.recorded and quality.average_score_pct is None and quality.scored == 0
    assert quality.table["quality_score_pct"].isna().all() and len(quality.table) == 1
    assert q.conversion_by_score(book, Q3).empty
    assert ex.q_4_2(book, "c1", Q3).expected is None


def test_seed_example_sql():
    ex_sql = q.assess_sql(**q.SEED_EXAMPLE, pipeline_target=100_000)
    # all four criteria: 4/4 = 100 %; 50,000 + 75,000 = 125,000; 75,000 / 50,000 = 150 %; 125,000 / 50,000 = 250 %
    assert ex_sql.quality_score_pct == 100.0 and ex_sql.qualified and ex_sql.missing == []
    assert ex_sql.arr_if_won == 125_000.0 and ex_sql.expansion_pct == 150.0 and ex_sql.account_nrr_if_won_pct == 250.0
    assert ex_sql.share_of_pipeline_target_pct == 75.0  # 75,000 of a 100,000 pipeline target
    assert ex_sql.summary().startswith("An SQL worth $75,000 on a $50,000 account: quality score 100 % (4 of 4 criteria)")


def test_partly_qualified_sql():
    a = q.assess_sql(20_000, 5_000, need=True, budget=False, timeline=True, stakeholder=False)
    # 2 of 4 = 50 %; 5,000 / 20,000 = 25 %
    assert a.quality_score_pct == 50.0 and not a.qualified and a.missing == ["budget", "stakeholder"]
    assert a.expansion_pct == 25.0 and a.share_of_pipeline_target_pct is None
    assert "not yet qualified (missing: budget, stakeholder)" in a.summary()
    assert q.assess_sql(0, 5_000, True, True, True, True).expansion_pct is None  # no ARR: no ratio, not infinity


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"account_arr": -1}, "account_arr"), ({"expansion_arr": "75K"}, "expansion_arr"),
    ({"need": "yes"}, "need"), ({"account_arr": float("nan")}, "account_arr"),
])
def test_assess_sql_rejects_bad_input(kwargs, match):
    with pytest.raises(KitError, match=match):
        q.assess_sql(**{**q.SEED_EXAMPLE, **kwargs})


# ------------------------------------------------------------------------------------------------
# exercises
# ------------------------------------------------------------------------------------------------

def test_exercise_4_1_pipeline_by_hand(sql_book):
    quiz = ex.q_4_1(sql_book, "c1", Q3)
    # created in Q3 by c1: s1 10,000 + s2 4,000 + s3 6,000 + s6 2,000 = 22,000
    assert quiz.expected == 22_000.0
    assert "not only the won" in quiz.verdict(16_000)[1]          # won among them: s1 + s3
    assert "closed" in quiz.verdict(28_000)[1]                    # closed in Q3: s1 + s2 + s3 + s4 = 28,000
    assert "number of SQLs" in quiz.verdict(4)[1]


def test_exercise_4_2_and_4_3(sql_book):
    quiz = ex.q_4_2(sql_book, "c1", Q3)
    assert quiz.expected == pytest.approx(200 / 3)
    assert "fully qualified" in quiz.verdict(100 / 3)[1]          # 1 of 3 scored SQLs has 100
    assert "out of 4" in quiz.verdict(2.75)[1]                    # mean criteria met over the 4 SQLs: (3+3+1+4)/4 = 2.75
    seed = ex.q_4_3(sql_book, "c1", Q3)
    assert seed.verdict(150)[0] and "wrong way" in seed.verdict(200 / 3)[1] and "NRR" in seed.verdict(250)[1]
