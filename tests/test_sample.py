"""The seeded sample book: reproducible bytes, the data contract, scale, and the CSMs' stories.

The stories are the teaching content of the sample (see the ``kpi_kit.sample`` docstring); the tests
check each claim as an inequality between CSMs on the committed book, so a change of the generator
that breaks a story fails here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from kpi_kit import sample
from kpi_kit.data import SAMPLE_DIR, load_book, validate_book
from kpi_kit.errors import KitError

PROJECT = Path(__file__).resolve().parents[1]
QUARTER = ("2026-07", "2026-09")
YEAR = ("2025-10", "2026-09")
AS_OF = pd.Timestamp("2026-09-30")
GENERATED = sorted([f"{stem}.csv" for stem in sample.COLUMNS] + ["book.yaml"])


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return sample.generate_book()


@pytest.fixture(scope="module")
def book():
    return load_book()


# --- reproducibility --------------------------------------------------------------------------------
def test_default_output_is_the_bundled_sample_folder() -> None:
    assert sample.DEFAULT_OUT == PROJECT / "data" / "sample" == SAMPLE_DIR


def test_regenerating_gives_byte_identical_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the output path must not depend on the working directory
    assert sample.main(["--out", str(tmp_path / "book")]) == 0
    written = sorted(p.name for p in (tmp_path / "book").iterdir())
    assert written == GENERATED  # no temporary file left behind
    committed = sorted(p.name for p in SAMPLE_DIR.iterdir() if p.suffix in (".csv", ".yaml"))
    assert [n for n in committed if n != "targets.yaml"] == GENERATED
    for name in GENERATED:
        assert (tmp_path / "book" / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_same_seed_same_book_other_seed_other_book() -> None:
    a = sample.generate_book(n_accounts=120, seed=7)
    b = sample.generate_book(n_accounts=120, seed=7)
    c = sample.generate_book(n_accounts=120, seed=8)
    for stem in a:
        pd.testing.assert_frame_equal(a[stem], b[stem])
    assert not a["arr_monthly"].equals(c["arr_monthly"])


def test_book_yaml_names_the_book(book) -> None:
    text = (SAMPLE_DIR / "book.yaml").read_text(encoding="utf-8")
    assert "name: Sample CS team\n" in text
    assert book.name == "Sample CS team"


def test_committed_sample_is_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir())
    assert total < 3_000_000
    activities = sum(1 for _ in (SAMPLE_DIR / "activities.csv").open(encoding="utf-8")) - 1
    assert 15_000 <= activities <= 25_000


# --- the data contract ------------------------------------------------------------------------------
def test_sample_loads_with_no_problem_at_all(book) -> None:
    assert validate_book(SAMPLE_DIR) == []  # neither errors nor warnings
    assert book.path == SAMPLE_DIR and book.not_recorded == frozenset()  # escalations and usage are there too


def test_columns_are_the_contracts(frames: dict[str, pd.DataFrame]) -> None:
    assert sorted(frames) == sorted(sample.COLUMNS)
    for stem, frame in frames.items():
        assert tuple(frame.columns) == sample.COLUMNS[stem], stem
    header = (SAMPLE_DIR / "accounts.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "account_id,account_name,csm_id,segment,customer_since,renewal_date,health_score"


def test_ids_are_unique_and_every_reference_exists(frames: dict[str, pd.DataFrame]) -> None:
    for stem, key in (("csms", "csm_id"), ("accounts", "account_id"), ("activities", "activity_id"),
                      ("sqls", "sql_id"), ("risk_alerts", "alert_id"), ("escalations", "escalation_id")):
        assert frames[stem][key].is_unique, stem
    assert frames["accounts"]["account_name"].is_unique
    assert not frames["arr_monthly"].duplicated(["month", "account_id"]).any()
    accounts = set(frames["accounts"]["account_id"])
    csms = set(frames["csms"]["csm_id"])
    for stem in ("arr_monthly", "activities", "sqls", "risk_alerts", "escalations", "usage"):
        assert set(frames[stem]["account_id"]) <= accounts, stem
    assert set(frames["accounts"]["csm_id"]) <= csms
    # every activity and SQL is by the account's owner (automated emails carry the owner's id)
    owner = frames["accounts"].set_index("account_id")["csm_id"]
    for stem in ("activities", "sqls"):
        f = frames[stem]
        assert (f["csm_id"].to_numpy() == owner.reindex(f["account_id"]).to_numpy()).all(), stem


def test_values_are_in_range(frames: dict[str, pd.DataFrame]) -> None:
    acc, arr, act = frames["accounts"], frames["arr_monthly"], frames["activities"]
    assert set(acc["segment"]) == {"enterprise", "mid-market", "smb"}
    assert acc["health_score"].notna().all() and acc["health_score"].between(0, 100).all()
    assert (arr["arr"] > 0).all()  # a missing row means 0; no negative ARR
    assert str(arr["month"].min()) == "2025-01" and str(arr["month"].max()) == "2026-09"
    assert set(act["type"]) <= set(sample.ACTIVITY_TYPES)
    assert set(act["purpose"].dropna()) == set(sample.PURPOSES) - {""}
    assert act["date"].max() <= AS_OF and act["date"].min() >= pd.Timestamp("2025-01-01")
    since = acc.set_index("account_id")["customer_since"].reindex(act["account_id"]).to_numpy()
    assert (act["date"].to_numpy() >= since).all()  # nothing before the account was a customer
    for zone in frames["csms"]["time_zone"]:
        ZoneInfo(zone)  # a real IANA zone


def test_arr_ends_for_churned_accounts_and_renewal_dates_follow(frames: dict[str, pd.DataFrame]) -> None:
    acc, arr = frames["accounts"], frames["arr_monthly"]
    last = arr.groupby("account_id")["month"].max()
    churned = last[last < pd.Period("2026-09", "M")].index
    active = last[last == pd.Period("2026-09", "M")].index
    assert len(churned) > 0 and len(active) > 0
    renewal = acc.set_index("account_id")["renewal_date"]
    # active accounts on annual contracts renew after the as-of date, within a year
    upcoming = renewal.reindex(active).dropna()
    assert ((upcoming > AS_OF) & (upcoming <= AS_OF + pd.Timedelta(days=366))).all()
    # a churned account on an annual contract left at its renewal, in the month after its last ARR
    left = renewal.reindex(churned).dropna()
    assert (left.dt.to_period("M") == last.reindex(left.index) + 1).all()


def test_sqls_close_after_they_open(frames: dict[str, pd.DataFrame]) -> None:
    sqls = frames["sqls"]
    assert set(sqls["status"]) == {"open", "won", "lost"}
    assert (sqls["expansion_arr"] >= 0).all()
    closed = sqls["closed_date"].notna()
    assert ((sqls["status"] == "open") == ~closed).all()
    assert (sqls.loc[closed, "closed_date"] >= sqls.loc[closed, "created_date"]).all()
    assert (sqls.loc[closed, "closed_date"] <= AS_OF).all()
    for flag in ("need", "budget", "timeline", "stakeholder"):
        assert str(sqls[flag].dtype) == "boolean" and sqls[flag].notna().all()
    text = (SAMPLE_DIR / "sqls.csv").read_text(encoding="utf-8")
    assert ",true," in text and ",false," in text and "True" not in text


def test_alerts_escalations_and_usage_are_consistent(frames: dict[str, pd.DataFrame]) -> None:
    al = frames["risk_alerts"]
    assert set(al["outcome"]) == {"open", "saved", "churned"}
    acted = al["first_action_date"].notna()
    assert (al.loc[acted, "first_action_date"] >= al.loc[acted, "flagged_date"]).all()
    resolved = al["resolved_date"].notna()
    assert ((al["outcome"] == "open") == ~resolved).all()
    assert (al.loc[resolved, "resolved_date"] >= al.loc[resolved, "flagged_date"]).all()
    # every risk intervention logged in activities is on an alert's first action date
    act = frames["activities"]
    ri = act.loc[act["purpose"] == "risk_intervention", ["account_id", "date"]]
    firsts = al.loc[acted, ["account_id", "first_action_date"]].rename(columns={"first_action_date": "date"})
    assert len(ri.merge(firsts.drop_duplicates(), on=["account_id", "date"])) == len(ri)

    es = frames["escalations"]
    opened = pd.to_datetime(es["opened_at"], utc=True, format="ISO8601")
    engaged = pd.to_datetime(es["csm_engaged_at"], utc=True, format="ISO8601")
    hours = (engaged - opened).dt.total_seconds() / 3600
    assert (hours.dropna() > 0).all()
    assert (hours <= 24).mean() > 0.8  # mostly within the 24 h SLA, not always
    assert es["opened_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()

    us = frames["usage"]
    assert us["feature_adoption_pct"].between(0, 100).all()
    assert (us["seats_used"] <= us["seats_purchased"]).all() and (us["seats_purchased"] >= 1).all()
    # one usage row for every month with ARR
    keys = ["month", "account_id"]
    assert frames["arr_monthly"][keys].equals(us[keys])


def test_lifecycle_touches_follow_the_seed_cadence(frames: dict[str, pd.DataFrame]) -> None:
    acc, act = frames["accounts"], frames["activities"]
    new = acc.loc[acc["customer_since"] >= pd.Timestamp("2025-01-01")]
    welcome = act.loc[act["purpose"] == "onboarding_welcome"].merge(new[["account_id", "customer_since"]])
    offset = (welcome["date"] - welcome["customer_since"]).dt.days
    assert len(welcome) > 0.8 * len(new)  # most new customers get a welcome ...
    assert (offset.between(0, 3)).mean() > 0.8  # ... on day 1 (window day 0..3) most of the time
    renew = act.loc[act["purpose"] == "renewal_90"].merge(acc[["account_id", "renewal_date"]])
    ahead = (renew["renewal_date"] - renew["date"]).dt.days
    current = ahead[(ahead > 0) & (ahead < 180)]  # touches for the renewal in accounts.csv (not earlier ones)
    assert len(current) > 50 and current.between(60, 110).all()
    # lifecycle window: due day (90 days before) -14 .. +7, i.e. 83..104 days before the renewal
    assert current.between(83, 104).mean() > 0.8
    # QBRs are an enterprise quarterly habit; automated emails are SMB only
    seg = acc.set_index("account_id")["segment"]
    qbrs_per_account = seg.reindex(act.loc[act["type"] == "qbr", "account_id"]).value_counts() / seg.value_counts()
    assert qbrs_per_account.idxmax() == "enterprise" and qbrs_per_account["enterprise"] > 4  # of 7 quarters
    assert set(seg.reindex(act.loc[act["type"] == "automated_email", "account_id"])) == {"smb"}


# --- writing ----------------------------------------------------------------------------------------
def test_write_book_formats_quotes_and_sorts(tmp_path: Path) -> None:
    frames = {
        "usage": pd.DataFrame({
            "month": pd.PeriodIndex(["2026-02", "2026-01", "2026-01"], freq="M"),
            "account_id": pd.Series(["b", "b", "a"], dtype="str"),
            "feature_adoption_pct": [72.36, np.nan, 5.0],
            "seats_purchased": [10, 10, 3], "seats_used": [9, 8, 3],
        }),
        "accounts": pd.DataFrame({
            "account_id": pd.Series(["x"], dtype="str"), "account_name": pd.Series(['Smith, "Jr" Co'], dtype="str"),
            "csm_id": pd.Series(["c1"], dtype="str"), "segment": pd.Series(["smb"], dtype="str"),
            "customer_since": pd.to_datetime(["2025-03-04"]), "renewal_date": pd.to_datetime([None]),
            "health_score": [7],
        }),
        "sqls": pd.DataFrame({"sql_id": pd.Series(["s1"], dtype="str"), "need": pd.array([True], dtype="boolean"),
                              "budget": pd.array([pd.NA], dtype="boolean")}),
    }
    sample.write_book(frames, tmp_path)
    # rows sorted by account then month; 72.36 -> "72.4" and 5 -> "5.0" (one fixed decimal), NaN blank
    assert (tmp_path / "usage.csv").read_bytes() == (
        b"month,account_id,feature_adoption_pct,seats_purchased,seats_used\n"
        b"2026-01,a,5.0,3,3\n"
        b"2026-01,b,,10,8\n"
        b"2026-02,b,72.4,10,9\n")
    # a comma or quote in a value is quoted CSV-style; a missing date is blank
    assert (tmp_path / "accounts.csv").read_text(encoding="utf-8").splitlines()[1] == \
        'x,"Smith, ""Jr"" Co",c1,smb,2025-03-04,,7'
    row = next(csv.DictReader(io.StringIO((tmp_path / "accounts.csv").read_text(encoding="utf-8"))))
    assert row["account_name"] == 'Smith, "Jr" Co'
    # booleans as lower-case words, missing as blank
    assert (tmp_path / "sqls.csv").read_text(encoding="utf-8") == "sql_id,need,budget\ns1,true,\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.csv", "book.yaml", "sqls.csv", "usage.csv"]


def test_write_book_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "targets.yaml").write_text("defaults: {calls_per_month: 25}\n", encoding="utf-8")
    sample.write_book({"csms": sample.generate_book(n_accounts=10)["csms"]}, tmp_path)
    assert (tmp_path / "targets.yaml").read_text(encoding="utf-8") == "defaults: {calls_per_month: 25}\n"
    assert (tmp_path / "csms.csv").read_text(encoding="utf-8").startswith("csm_id,csm_name,team,time_zone\n")


# --- scale ------------------------------------------------------------------------------------------
def test_exact_activity_count_at_a_larger_size() -> None:
    big = sample.generate_book(n_accounts=5_000, n_activities=250_000)
    assert len(big["accounts"]) == 5_000 and len(big["activities"]) == 250_000
    assert big["activities"]["activity_id"].is_unique
    # 2.0 per account-month: round(2.0 * 5,000 accounts * 21 months) = 210,000 rows
    rate = sample.generate_book(n_accounts=5_000, activities_per_account_month=2.0)
    assert len(rate["activities"]) == 210_000
    # fewer rows than the lifecycle touches need: a subset of them, still exact
    assert len(sample.generate_book(n_accounts=200, n_activities=50)["activities"]) == 50


def test_story_csms_keep_their_stories_at_scale() -> None:
    big = sample.generate_book(n_accounts=5_000)
    acc, act, sqls = big["accounts"], big["activities"], big["sqls"]
    assert list(big["csms"]["csm_id"]) == [f"csm_0{i}" for i in range(1, 8)]
    q3 = act.loc[act["date"] >= pd.Timestamp("2026-07-01")]
    book_size = acc.groupby("csm_id").size()
    calls = q3.loc[q3["type"].isin(["call", "meeting", "qbr"])].groupby("csm_id").size() / book_size
    assert calls.loc[["csm_01", "csm_02", "csm_03"]].idxmax() == "csm_03"  # most calls per mid-market account
    assert calls.loc[["csm_04", "csm_07"]].idxmin() == "csm_04"  # the quiet enterprise CSM
    per_account_sqls = sqls.groupby("csm_id").size().reindex(book_size.index, fill_value=0) / book_size
    assert per_account_sqls.idxmin() == "csm_02"
    last = big["arr_monthly"].groupby("account_id")["month"].max()
    churned = (last < pd.Period("2026-09", "M")).groupby(acc.set_index("account_id")["csm_id"]).mean()
    assert churned.loc[["csm_01", "csm_02", "csm_03"]].idxmax() == "csm_03"


def test_extra_csms_are_ordinary_and_ids_stay_text() -> None:
    book = sample.generate_book(n_accounts=400, n_csms=12)
    ids = list(book["csms"]["csm_id"])
    assert ids[:7] == [s.csm_id for s in sample.STORIES] and ids[-1] == "csm_12"
    assert set(book["accounts"]["csm_id"]) == set(ids)
    assert book["csms"]["csm_name"].is_unique


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(KitError, match="at least one account"):
        sample.generate_book(n_accounts=0)
    with pytest.raises(KitError, match="not both"):
        sample.generate_book(n_accounts=10, activities_per_account_month=1.0, n_activities=10)
    with pytest.raises(KitError, match=">= 0"):
        sample.generate_book(n_accounts=10, n_activities=-1)
    with pytest.raises(SystemExit):
        sample.main(["--accounts", "0"])


# --- the stories (committed sample, quarter 2026-07..2026-09) -----------------------------------------
@pytest.fixture(scope="module")
def quarter(book) -> pd.DataFrame:
    from kpi_kit.metrics import team_metrics

    return team_metrics(book, *QUARTER).set_index("csm_id")


@pytest.fixture(scope="module")
def year(book) -> pd.DataFrame:
    from kpi_kit.metrics import team_metrics

    return team_metrics(book, *YEAR).set_index("csm_id")


def test_story_csm_01_is_on_target_on_everything(book) -> None:
    from kpi_kit.scorecard import scorecard

    card = scorecard(book, "csm_01", *QUARTER)
    off_track = card.table.loc[card.table["status"] != "on track", "kpi"].tolist()
    assert off_track == []


def test_story_csm_02_is_behind_on_sqls_only(quarter: pd.DataFrame, year: pd.DataFrame) -> None:
    others = quarter.drop(index="csm_02")
    assert (others["sqls"] > quarter.at["csm_02", "sqls"]).all()
    assert (year.drop(index="csm_02")["sqls"] > year.at["csm_02", "sqls"]).all()
    assert quarter.at["csm_02", "sql_pipeline"] < quarter.loc[["csm_01", "csm_03"], "sql_pipeline"].min()
    # fine otherwise: calls, coverage, lifecycle and retention at or above the default targets
    assert quarter.at["csm_02", "calls"] >= 60 and quarter.at["csm_02", "coverage_pct"] >= 90
    assert quarter.at["csm_02", "lifecycle_compliance_pct"] >= 90 and quarter.at["csm_02", "grr_pct"] >= 90


def test_story_csm_03_strong_activity_weak_outcome(book, quarter: pd.DataFrame, year: pd.DataFrame) -> None:
    from kpi_kit.scorecard import scorecard

    assert quarter.at["csm_03", "calls"] > quarter.at["csm_01", "calls"]
    assert quarter["calls"].idxmax() == "csm_03"
    assert quarter.at["csm_03", "coverage_pct"] >= 90
    assert quarter.at["csm_03", "grr_pct"] < 90  # the mid-market GRR target is 90 %
    assert quarter.at["csm_03", "churned_accounts"] >= 2
    assert year["grr_pct"].idxmin() == "csm_03"
    assert scorecard(book, "csm_03", *QUARTER).diagnosis().startswith("Strong activity but weak outcomes")
    # her accounts use the product least (the "why" a trainer can show)
    usage = book.usage.loc[book.usage["month"] == pd.Period("2026-09", "M")]
    usage = usage.merge(book.accounts[["account_id", "csm_id"]])
    assert usage.groupby("csm_id")["feature_adoption_pct"].mean().idxmin() == "csm_03"


def test_story_csm_04_has_at_risk_renewals(book, quarter: pd.DataFrame) -> None:
    acc, alerts = book.accounts, book.risk_alerts
    soon = acc.loc[(acc["renewal_date"] > AS_OF) & (acc["renewal_date"] <= AS_OF + pd.Timedelta(days=90))]
    flagged = soon["account_id"].isin(alerts.loc[alerts["outcome"] == "open", "account_id"])
    at_risk = soon.loc[flagged].groupby("csm_id").size().reindex(quarter.index, fill_value=0)
    assert (at_risk.drop(index="csm_04") < at_risk["csm_04"]).all()
    mine = soon.loc[soon["csm_id"] == "csm_04"]
    assert 2 * len(mine) > (acc["csm_id"] == "csm_04").sum()  # more than half his book renews in Oct-Dec
    assert 2 * (mine["health_score"] < 50).sum() > len(mine)  # most of those with low health
    for kpi in ("renewals_90d_contacted_pct", "lifecycle_compliance_pct", "coverage_pct", "calls"):
        assert quarter[kpi].idxmin() == "csm_04", kpi
    assert quarter.at["csm_04", "grr_pct"] == 100.0  # retention has not moved yet
