"""Activity timestamps in a book: the day is taken in the CSM's time zone, with daylight-saving warnings.

The time-zones case (tests/fixtures/cases/time-zones, CSM in America/Los_Angeles) loaded as a book:
its activities.csv rows (spreadsheet rows 2-4) become the book's activities with the timestamp in `date`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.data import load_book, validate_book
from kpi_kit.metrics import csm_metrics
from kpi_kit.validate import BookError

CASE = Path(__file__).resolve().parent / "fixtures" / "cases" / "time-zones"
LA = "America/Los_Angeles"


def case_activities() -> list[dict]:
    """The case's rows as book activities (the fixture is only read)."""
    with (CASE / "activities.csv").open(encoding="utf-8", newline="") as fh:
        return [{"activity_id": r["activity_id"], "date": r["timestamp"], "account_id": r["account_id"],
                 "csm_id": r["csm"], "type": r["type"], "purpose": ""} for r in csv.DictReader(fh)]


def tz_files(activities: list[dict] | None = None, zone: str = LA, **extra: object) -> dict:
    files: dict = {
        "csms": [{"csm_id": "csm_ana", "csm_name": "Ana", "team": "West", "time_zone": zone}],
        "accounts": [{"account_id": "PAPA-060", "account_name": "Papa", "csm_id": "csm_ana", "segment": "smb",
                      "customer_since": "2020-01-01", "renewal_date": ""}],
        "arr_monthly": [{"month": "2025-02", "account_id": "PAPA-060", "arr": 1000},
                        {"month": "2025-12", "account_id": "PAPA-060", "arr": 1000}],
        "activities": case_activities() if activities is None else activities,
    }
    files.update(extra)
    return files


def test_case_rows_become_days_in_the_csm_zone(book_dir):
    book = load_book(book_dir(**tz_files()))
    days = book.activities.set_index("activity_id")["date"]
    # row 2 (id 1): 2025-03-31T23:30Z − 7 h (PDT) = 16:30 on 31 March in Los Angeles
    assert days["1"] == pd.Timestamp("2025-03-31")
    # row 3 (id 2): naive 2025-11-02 01:30 happens twice -> first occurrence, still 2 November
    assert days["2"] == pd.Timestamp("2025-11-02")
    # row 4 (id 3): naive 2025-03-09 02:30 does not exist -> 03:00 the same day
    assert days["3"] == pd.Timestamp("2025-03-09")
    warned = {w.row: w.message for w in book.warnings if w.file == "activities.csv"}
    assert set(warned) == {3, 4}
    assert "first occurrence" in warned[3] and "shifted forward to 03:00" in warned[4]
    assert all(w.column == "date" and w.severity == "warning" for w in book.warnings if w.file == "activities.csv")


def test_row_one_counts_in_march_for_the_la_csm(book_dir):
    book = load_book(book_dir(**tz_files()))
    march = csm_metrics(book, "csm_ana", "2025-03")
    # March 2025: row 2 (call, 31 March local) and row 4 (meeting, 9 March) -> 2 touchpoints, 2 calls
    assert march["touchpoints"] == 2 and march["calls"] == 2
    assert csm_metrics(book, "csm_ana", "2025-04")["touchpoints"] == 0
    # fiscal Q1 of a calendar-year book is January-March: the same two
    assert csm_metrics(book, "csm_ana", "2025-01", "2025-03")["touchpoints"] == 2


def test_day_basis_is_a_setting_and_is_printed(book_dir):
    # 2025-04-01T02:30Z is 19:30 on 31 March in Los Angeles but already 1 April in UTC
    late = [{"activity_id": "9", "date": "2025-04-01T02:30:00Z", "account_id": "PAPA-060", "csm_id": "csm_ana",
             "type": "call", "purpose": ""}]
    local = load_book(book_dir(**tz_files(late)))
    utc = load_book(book_dir(**tz_files(late, book="days: utc\n")))
    assert local.activities["date"].tolist() == [pd.Timestamp("2025-03-31")]
    assert utc.activities["date"].tolist() == [pd.Timestamp("2025-04-01")]
    assert "CSM's time zone" in local.day_basis_label
    assert utc.day_basis_label == "Activity days are counted in UTC."


def test_naive_timestamps_can_be_utc(book_dir):
    # naive_timestamps: utc -> 2025-11-02 01:30 is 01:30Z = 18:30 PDT on 1 November; no DST ambiguity then
    book = load_book(book_dir(**tz_files(book="naive_timestamps: utc\n")))
    days = book.activities.set_index("activity_id")["date"]
    assert days["2"] == pd.Timestamp("2025-11-01")
    # 2025-03-09 02:30Z = 18:30 PST (UTC−8) on 8 March
    assert days["3"] == pd.Timestamp("2025-03-08")
    assert not [w for w in book.warnings if w.file == "activities.csv"]


def test_plain_dates_are_unchanged_and_can_mix_with_timestamps(book_dir):
    plain = [{"activity_id": "P1", "date": "2025-03-31", "account_id": "PAPA-060", "csm_id": "csm_ana",
              "type": "call", "purpose": ""}]
    only_dates = load_book(book_dir(**tz_files(plain)))
    mixed = load_book(book_dir(**tz_files(plain + case_activities()[:1])))
    assert only_dates.activities["date"].tolist() == [pd.Timestamp("2025-03-31")]
    assert mixed.activities["date"].tolist() == [pd.Timestamp("2025-03-31")] * 2
    # one dtype whatever the mix (the fast path and the time-zone path agree)
    assert mixed.activities["date"].dtype == only_dates.activities["date"].dtype


def test_unreadable_timestamps_and_zones_are_errors(book_dir):
    bad = [{"activity_id": "1", "date": "2025-02-30T10:00:00Z", "account_id": "PAPA-060", "csm_id": "csm_ana",
            "type": "call", "purpose": ""},
           {"activity_id": "2", "date": "yesterday 10am", "account_id": "PAPA-060", "csm_id": "csm_ana",
            "type": "call", "purpose": ""}]
    problems = validate_book(book_dir(**tz_files(bad, zone="America/Los_Angles")))
    where = {(p.file, p.row, p.column): p for p in problems if p.severity == "error"}
    assert where[("activities.csv", 2, "date")].value == "2025-02-30T10:00:00Z"      # 30 February
    assert "ISO timestamp" in where[("activities.csv", 3, "date")].message          # not a date nor a timestamp
    zone = where[("csms.csv", 2, "time_zone")]
    assert zone.value == "America/Los_Angles" and "America/Los_Angeles" in zone.message  # did you mean
    # each bad value is reported once
    assert sum(1 for p in problems if (p.file, p.row) == ("activities.csv", 2)) == 1


def test_blank_zone_means_utc(book_dir):
    late = [{"activity_id": "9", "date": "2025-04-01T02:30:00Z", "account_id": "PAPA-060", "csm_id": "csm_ana",
             "type": "call", "purpose": ""}]
    book = load_book(book_dir(**tz_files(late, zone="")))
    # 02:30 UTC on 1 April is 1 April in UTC
    assert book.activities["date"].tolist() == [pd.Timestamp("2025-04-01")]


def test_bad_tz_settings_are_errors(book_dir):
    with pytest.raises(BookError) as err:
        load_book(book_dir(**tz_files(book="naive_timestamps: pacific\ndays: local\n")))
    keys = {p.column: p.message for p in err.value.problems if p.file == "book.yaml"}
    assert "local or utc" in keys["naive_timestamps"] and "csm_local or utc" in keys["days"]
