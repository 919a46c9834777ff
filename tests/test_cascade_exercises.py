"""Exercises of notebook 01 (the KPI cascade) on a hand-built 4-CSM book, every value worked out by hand.

Period Q2 2025: beginning ARR is March 2025, ending ARR June 2025 (3 months).

    CSM  account  segment     March      June      note
    a    E1       enterprise  600,000    630,000   +30,000 expansion
    a    M1       mid-market  400,000    380,000   −20,000 contraction
    a    N1       enterprise        0    100,000   new logo (not in the cohort)
    b    M2       mid-market  500,000    500,000   flat; targets.yaml overrides b's GRR to 95 a year
    c    S1       smb         200,000          0   churned
    c    S2       smb         300,000    310,000   +10,000
    d    N2       smb               0     50,000   new logo; d has no beginning ARR

Segment targets (kit defaults, a year): GRR enterprise 98, mid-market 90, SMB 80; company GRR 92.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_kit import metrics, team
from kpi_kit.data import Book, load_book
from kpi_kit.exercises.cascade import q_1_1, q_1_2
from kpi_kit.periods import Period
from tests.conftest import arr_rows

Q2 = Period.parse("2025-04", "2025-06")


def _acc(aid: str, csm: str, segment: str) -> dict:
    return {"account_id": aid, "account_name": f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": "2020-01-01", "renewal_date": ""}


@pytest.fixture
def book4(book_dir) -> Book:
    return load_book(book_dir(
        csms=[{"csm_id": c, "csm_name": f"CSM {c}", "team": "East"} for c in "abcd"],
        accounts=[_acc("E1", "a", "enterprise"), _acc("M1", "a", "mid-market"), _acc("N1", "a", "enterprise"),
                  _acc("M2", "b", "mid-market"), _acc("S1", "c", "smb"), _acc("S2", "c", "smb"),
                  _acc("N2", "d", "smb")],
        arr_monthly=[
            *arr_rows("E1", {"2025-03": 600_000, "2025-06": 630_000}),
            *arr_rows("M1", {"2025-03": 400_000, "2025-06": 380_000}),
            *arr_rows("N1", {"2025-06": 100_000}),
            *arr_rows("M2", {"2025-03": 500_000, "2025-06": 500_000}),
            *arr_rows("S1", {"2025-03": 200_000}),
            *arr_rows("S2", {"2025-03": 300_000, "2025-06": 310_000}),
            *arr_rows("N2", {"2025-06": 50_000}),
        ],
        targets="csms:\n  b: {grr_pct: 95}\n",
    ))


def _run_solution(checker, book: Book, csm_id: str) -> object:
    """Execute the checker's own solution text the way the notebook does and return ``answer``."""
    ns = {"book": book, "csm_id": csm_id, "period": Q2, "pd": pd, "metrics": metrics, "team": team}
    exec(checker.solution_text, ns)  # noqa: S102 - our own solution text, the notebook's cell
    return ns["answer"]


# -- 1.1: the blended annual GRR target --------------------------------------------------------------------

def test_q_1_1_blends_segment_targets_by_beginning_arr(book4):
    q = q_1_1(book4, "a", Q2)
    # a: cohort E1 600,000 enterprise + M1 400,000 mid-market (N1 is new, not in the cohort)
    #    98 × 600,000 / 1,000,000 + 90 × 400,000 / 1,000,000 = 58.8 + 36 = 94.8
    assert q.expected == pytest.approx(94.8, abs=1e-9)
    assert q.check(94.8)
    assert q.check(_run_solution(q, book4, "a"))


def test_q_1_1_recognises_the_typical_mistakes(book4):
    q = q_1_1(book4, "a", Q2)
    # unweighted own segments: (98 + 90) / 2 = 94
    assert "without weights" in q.verdict(94.0)[1]
    # all segment targets averaged: (98 + 90 + 80) / 3 = 89.333
    assert "all the segment targets" in q.verdict(89.333)[1]
    # weighted by ending ARR of the cohort: (98 × 630,000 + 90 × 380,000) / 1,010,000 = 95,940 / 1,010 = 94.990
    assert "ending ARR" in q.verdict(94.99)[1]
    # held to the quarter: 100 × 0.948 ** 0.25 = 98.674
    assert "held to the period" in q.verdict(98.674)[1]
    # company goal 92
    assert "company's GRR goal" in q.verdict(92.0)[1]
    assert q.verdict(50.0)[0] is False and "not the kit's figure" in q.verdict(50.0)[1]


def test_q_1_1_single_segment_no_beginning_arr_and_override(book4):
    # c: all SMB (S1 200,000 + S2 300,000) -> 80
    qc = q_1_1(book4, "c", Q2)
    assert qc.expected == pytest.approx(80.0) and qc.check(_run_solution(qc, book4, "c"))
    # d: no beginning ARR (N2 is new) -> the company goal, 92
    qd = q_1_1(book4, "d", Q2)
    assert qd.expected == pytest.approx(92.0) and qd.check(_run_solution(qd, book4, "d"))
    # b: mid-market blend would be 90, but targets.yaml sets 95 -> expected 95; the blend gets the override note
    qb = q_1_1(book4, "b", Q2)
    assert qb.expected == pytest.approx(95.0)
    ok, message = qb.verdict(_run_solution(qb, book4, "b"))
    assert not ok and "override" in message


# -- 1.2: team NRR from the parts --------------------------------------------------------------------------

def test_q_1_2_team_nrr_is_sum_over_sum(book4):
    q = q_1_2(book4, "a", Q2)
    # Σ beginning = 1,000,000 (a) + 500,000 (b) + 500,000 (c) + 0 (d) = 2,000,000
    # Σ cohort ending = 630,000 + 380,000 + 500,000 + 0 + 310,000 = 1,820,000 -> 100 × 1.82 / 2 = 91.0
    assert q.expected == pytest.approx(91.0, abs=1e-9)
    assert q.check(91.0)
    assert q.check(_run_solution(q, book4, "a"))


def test_q_1_2_recognises_the_average_of_percentages(book4):
    q = q_1_2(book4, "a", Q2)
    # CSM NRRs: a 1,010,000 / 1,000,000 = 101; b 100; c 310,000 / 500,000 = 62; d none (no beginning ARR)
    # average (101 + 100 + 62) / 3 = 87.667 — wrong
    ok, message = q.verdict(87.667)
    assert not ok and "averaged the CSMs' NRRs" in message
    # new logos included: (1,820,000 + 100,000 + 50,000) / 2,000,000 = 98.5
    assert "new logos" in q.verdict(98.5)[1]
    # team GRR: retained 600,000 + 380,000 + 500,000 + 0 + 300,000 = 1,780,000 -> 89.0
    assert "team's GRR" in q.verdict(89.0)[1]
    # a's own NRR 101
    assert "your own NRR" in q.verdict(101.0)[1]


def test_q_1_2_without_beginning_arr_expects_none(book_dir):
    book = load_book(book_dir(csms=[{"csm_id": "d", "csm_name": "Dee", "team": "East"}],
                              accounts=[_acc("N2", "d", "smb")], arr_monthly=arr_rows("N2", {"2025-06": 50_000})))
    q = q_1_2(book, "d", Q2)
    assert q.expected is None and q.check(None)
