"""The metric pass on integer codes and a date-cut activity slice: hand-computed edge cases.

``kpi_kit.metrics.metric_parts`` cuts activities to the period and the 90 days up to ``as_of`` once,
and tallies per CSM over integer codes (``_tally``); these cases sit on the edges of that cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_kit.data import load_book
from kpi_kit.metrics import _tally, csm_metrics, metric_parts
from kpi_kit.periods import Period
from tests.conftest import arr_rows
from tests.test_metrics import acc, act


def test_tally_counts_and_sums_per_code():
    codes = np.array([0, 2, 2, -1, 0, 2])
    # counts: code 0 -> rows 0, 4 = 2; code 1 -> none = 0; code 2 -> rows 1, 2, 5 = 3; row 3 (-1) left out
    assert _tally(codes, 3).tolist() == [2, 0, 3]
    mask = np.array([True, True, False, True, False, True])
    # masked: code 0 -> row 0 = 1; code 2 -> rows 1, 5 = 2
    assert _tally(codes, 3, mask).tolist() == [1, 0, 2]
    values = pd.Series([10.0, 1.5, np.nan, 99.0, 5.0, 2.0])
    # sums: code 0 -> 10 + 5 = 15; code 1 -> 0; code 2 -> 1.5 + (missing = 0) + 2 = 3.5; row 3 left out
    assert _tally(codes, 3, values=values).tolist() == [15.0, 0.0, 3.5]
    assert _tally(np.array([], dtype="int64"), 2).tolist() == [0, 0]


def _window_book(book_dir):
    return load_book(book_dir(
        csms=[{"csm_id": "c1", "csm_name": "Ana", "team": "T"}, {"csm_id": "c2", "csm_name": "Ben", "team": "T"}],
        accounts=[acc("A", "c1", renewal="2025-07-20"), acc("B", "c1", renewal="2025-09-01"),
                  acc("C", "c2", renewal="2025-06-10"), acc("D", "c1")],
        arr_monthly=[*arr_rows("A", {"2025-03": 100, "2025-06": 100}), *arr_rows("B", {"2025-03": 100, "2025-06": 100}),
                     *arr_rows("C", {"2025-03": 100, "2025-06": 100})],  # D has no ARR: not in any book
        activities=[
            act(1, "2025-02-20", "A", "c1", "call"),             # before Q2, but within 90 days of 15 May
            act(2, "2025-04-10", "B", "c2", "automated_email"),  # in Q2, by c2 on c1's account
            act(3, "2025-05-20", "C", "c2", "call"),             # after as_of: left out everywhere
            act(4, "2025-05-15", "C", "c2", "qbr"),              # on as_of: counted
            act(5, "2025-02-10", "B", "c1", "call"),             # 94 days before as_of: too old to be contact
        ],
        risk_alerts=[
            {"alert_id": "R1", "account_id": "A", "flagged_date": "2025-04-02", "outcome": "churned"},
            {"alert_id": "R2", "account_id": "D", "flagged_date": "2025-04-03", "outcome": "saved"},  # not a book account
        ],
    ))


def test_activity_cut_as_of_inside_the_period(book_dir):
    book = _window_book(book_dir)
    parts = metric_parts(book, Period.parse("2025-04", "2025-06"), as_of="2025-05-15")
    c1, c2 = parts.loc["c1"], parts.loc["c2"]
    # c1's book: A, B (D has no ARR). Calls/touchpoints by c1 in Q2 up to 15 May: none (acts 1, 5 are February).
    assert (c1["book_accounts"], c1["touchpoints"], c1["calls"]) == (2, 0, 0)
    # coverage: B touched in Q2 by c2's automated email (any type, by anyone) -> 1 of 2; A's only touch is February
    assert c1["covered_accounts"] == 1
    # renewals after 15 May up to 13 Aug (15 May + 90 days): A (20 Jul) yes, B (1 Sep) no -> 1;
    # A contacted: act 1 on 20 Feb is after 14 Feb (15 May - 90 days) and not automated -> 1
    assert (c1["renewals_90d"], c1["renewals_90d_contacted"]) == (1, 1)
    # alerts: R1 on A churned; R2 on D is not on a book account
    assert (c1["alerts_saved"], c1["alerts_churned"]) == (0, 1)
    # lifecycle for c1: A renewal_90 due 21 Apr (window 7-28 Apr) overdue; A renewal_60 due 21 May and
    # renewal_30 due 20 Jun pending; B renewal_90 due 3 Jun (window 20 May-10 Jun) pending;
    # R1 risk intervention due 9 Apr (window 2-9 Apr), no action -> overdue. met 0, overdue 2, pending 3
    assert (c1["lifecycle_met"], c1["lifecycle_overdue"], c1["lifecycle_pending"]) == (0, 2, 3)
    # c2: acts 2 (automated email) and 4 (qbr) are c2's in Q2 up to 15 May -> touchpoints 2, calls 1, qbrs 1
    assert (c2["touchpoints"], c2["calls"], c2["qbrs"]) == (2, 1, 1)
    # C covered by act 4; C renews 10 Jun (within 90 days) and act 4 is a contact -> 1 of 1
    assert (c2["covered_accounts"], c2["renewals_90d"], c2["renewals_90d_contacted"]) == (1, 1, 1)
    # C: renewal_60 due 11 Apr (window 28 Mar-18 Apr) overdue; renewal_30 due 11 May (window 27 Apr-18 May) pending
    assert (c2["lifecycle_met"], c2["lifecycle_overdue"], c2["lifecycle_pending"]) == (0, 1, 1)


def test_one_csm_counts_the_same_as_the_team_pass(book_dir):
    book = _window_book(book_dir)
    m = csm_metrics(book, "c1", "2025-04", "2025-06", as_of="2025-05-15")
    # same figures as the c1 row above: coverage 1 of 2 = 50 %, contact 1 of 1 = 100 %, closed alerts 0 of 1 = 0 %
    assert (m["book_accounts"], m["covered_accounts"], m["touchpoints"]) == (2, 1, 0)
    assert m["coverage_pct"] == 50.0
    assert m["renewals_90d_contacted_pct"] == 100.0
    assert m["closed_alert_pct"] == 0.0
