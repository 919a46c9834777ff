"""Property tests (hypothesis): invariants of the indicators on random small books."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_kit.data import load_book
from kpi_kit.metrics import PART_KEYS, metric_parts, rollup
from kpi_kit.periods import Period
from tests.conftest import write_book

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
TYPES = ["call", "meeting", "qbr", "email", "automated_email"]
PERIOD = Period.parse("2025-02", "2025-04")


@st.composite
def books(draw):
    n_csms = draw(st.integers(1, 3))
    csms = [{"csm_id": f"c{i}", "csm_name": f"CSM {i}", "team": "T"} for i in range(n_csms)]
    n_acc = draw(st.integers(0, 8))
    accounts, arr, acts, sqls, alerts = [], [], [], [], []
    for a in range(n_acc):
        owner = f"c{draw(st.integers(0, n_csms - 1))}"
        accounts.append({"account_id": f"A{a}", "account_name": f"Acc {a}", "csm_id": owner,
                         "segment": draw(st.sampled_from(["enterprise", "mid-market", "smb"])),
                         "customer_since": draw(st.sampled_from(["2024-06-01", "2025-02-10", "2025-03-20"])),
                         "renewal_date": draw(st.sampled_from(["", "2025-05-15", "2025-08-01"]))})
        for m in MONTHS:
            value = draw(st.sampled_from([0, 0, 100, 250, 1000]))
            if value:
                arr.append({"month": m, "account_id": f"A{a}", "arr": value})
    for i in range(draw(st.integers(0, 12)) if n_acc else 0):
        acts.append({"activity_id": f"X{i}", "date": draw(st.sampled_from(["2025-01-20", "2025-02-11", "2025-03-25", "2025-04-30", "2025-05-02"])),
                     "account_id": f"A{draw(st.integers(0, n_acc - 1))}", "csm_id": f"c{draw(st.integers(0, n_csms - 1))}",
                     "type": draw(st.sampled_from(TYPES)), "purpose": draw(st.sampled_from(["", "onboarding_welcome", "risk_intervention"]))})
    for i in range(draw(st.integers(0, 4)) if n_acc else 0):
        status = draw(st.sampled_from(["open", "won", "lost"]))
        sqls.append({"sql_id": f"S{i}", "created_date": "2025-02-15", "account_id": f"A{draw(st.integers(0, n_acc - 1))}",
                     "csm_id": f"c{draw(st.integers(0, n_csms - 1))}", "expansion_arr": draw(st.integers(0, 500)),
                     "status": status, "closed_date": "" if status == "open" else "2025-03-01"})
    for i in range(draw(st.integers(0, 4)) if n_acc else 0):
        alerts.append({"alert_id": f"R{i}", "account_id": f"A{draw(st.integers(0, n_acc - 1))}",
                       "flagged_date": draw(st.sampled_from(["2025-02-03", "2025-04-28"])),
                       "outcome": draw(st.sampled_from(["open", "saved", "churned"]))})
    return dict(csms=csms, accounts=accounts, arr_monthly=arr, activities=acts, sqls=sqls, risk_alerts=alerts)


def _load(files) -> object:
    folder = Path(tempfile.mkdtemp(prefix="kpi-prop-"))
    return load_book(write_book(folder, **files))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_invariants_and_team_equals_sum_of_parts(files):
    book = _load(files)
    parts = metric_parts(book, PERIOD)
    from kpi_kit.metrics import finish

    table = finish(parts, PERIOD)
    grr, nrr, cov = table["grr_pct"].dropna(), table["nrr_pct"], table["coverage_pct"].dropna()
    assert ((grr >= 0) & (grr <= 100 + 1e-9)).all()
    assert (table["grr_pct"].dropna() <= nrr[table["grr_pct"].notna()] + 1e-9).all()
    assert ((cov >= 0) & (cov <= 100 + 1e-9)).all()

    # The team's figures, computed directly on the same book with every CSM merged into one,
    # equal the roll-up of the CSMs' parts (counts and ARR summed, percentages recomputed).
    merged = {k: [dict(r) for r in v] for k, v in files.items()}
    merged["csms"] = [{"csm_id": "team", "csm_name": "Team", "team": "T"}]
    for stem in ("accounts", "activities", "sqls"):
        for row in merged[stem]:
            row["csm_id"] = "team"
    direct = finish(metric_parts(_load(merged), PERIOD), PERIOD).iloc[0]
    team = rollup(parts, PERIOD).iloc[0]
    for key in (*PART_KEYS, "grr_pct", "nrr_pct", "coverage_pct", "sql_conversion_pct", "closed_alert_pct"):
        a, b = team[key], direct[key]
        assert (pd.isna(a) and pd.isna(b)) or a == pytest.approx(b), key
