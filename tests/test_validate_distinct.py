"""Validation that parses each distinct text once must still report every row, with each row's own value.

``kpi_kit.validate`` parses a column per distinct text and spreads the result back to the rows, and
finds repeats through hashes; these tests pin the row-level reports that must survive that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi_kit.data import load_book, validate_book
from kpi_kit.validate import BookError, _blank_rows, _has_repeats, _may_match_when_normalized
from tests.test_metrics import acc, act

CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}]


def _at(problems, file, column):
    return sorted((p.row, p.value, p.severity) for p in problems if (p.file, p.column) == (file, column))


def test_a_bad_text_repeated_on_many_rows_is_reported_on_each_row(book_dir):
    # the same impossible date on rows 2 and 4 (one distinct text), a padded good date on row 3
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=[
        act(1, "2025-02-30", "A1", "c1", "call"), act(2, " 2025-02-03 ", "A1", "c1", "call"),
        act(3, "2025-02-30", "A1", "c1", "call"), act(4, "", "A1", "c1", "call")])
    with pytest.raises(BookError) as info:
        load_book(path)
    problems = info.value.problems
    # rows 2 and 4 unreadable (each reported with its own text), row 5 blank, row 3 fine once trimmed
    assert _at(problems, "activities.csv", "date") == [(2, "2025-02-30", "error"), (4, "2025-02-30", "error"),
                                                       (5, "", "error")]
    assert "not a real date" in next(p.message for p in problems if p.row == 2 and p.column == "date")


def test_padded_and_differently_cased_texts_parse_to_the_same_values(book_dir):
    # " CALL " and "call" are one type; " A1 " and "A1" one account: the typed frame holds equal values
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=[
        act(1, "2025-02-01", " A1 ", "c1", " CALL "), act(2, "2025-02-01", "A1", "c1", "call")])
    book = load_book(path)
    assert book.activities["account_id"].tolist() == ["A1", "A1"]
    assert book.activities["type"].tolist() == ["call", "call"]
    assert book.activities.index.tolist() == [2, 3]  # spreadsheet rows kept


def test_repeated_month_written_two_ways_is_still_a_second_arr_row(book_dir):
    # "2025-01" and " 2025-01 " are different texts but the same month: row 3 repeats row 2's pair
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], arr_monthly=[
        {"month": "2025-01", "account_id": "A1", "arr": 10}, {"month": " 2025-01 ", "account_id": "A1", "arr": 12},
        {"month": "2025-02", "account_id": "A1", "arr": 12}])
    problems = validate_book(path)
    repeats = [p for p in problems if "second ARR row" in p.message]
    assert [(p.row, p.value) for p in repeats] == [(3, "A1")]


def test_unknown_ids_are_listed_per_row_even_when_one_text_repeats(book_dir):
    # account ZZ (unknown) on rows 2 and 4; row 3 names a known account
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=[
        act(1, "2025-02-01", "ZZ", "c1", "call"), act(2, "2025-02-01", "A1", "c1", "call"),
        act(3, "2025-02-02", "ZZ", "c1", "email")])
    problems = validate_book(path)
    assert _at(problems, "activities.csv", "account_id") == [(2, "ZZ", "error"), (4, "ZZ", "error")]


def test_allowed_values_checked_on_distinct_values_still_name_every_bad_row(book_dir):
    # "phone" on rows 2 and 4 is not an activity type; the check runs only because some value fails,
    # and then names both rows
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=[
        act(1, "2025-02-01", "A1", "c1", "phone"), act(2, "2025-02-01", "A1", "c1", "call"),
        act(3, "2025-02-02", "A1", "c1", "Phone")])
    problems = validate_book(path)
    assert _at(problems, "activities.csv", "type") == [(2, "phone", "error"), (4, "phone", "error")]


def test_repeated_and_case_variant_ids(book_dir):
    # X1 twice (rows 2 and 3: both listed as repeats), "x2 " on row 5 is X2 (row 4) once trimmed and upper-cased
    rows = [act(1, "2025-02-01", "A1", "c1", "call"), act(1, "2025-02-02", "A1", "c1", "call"),
            act(2, "2025-02-03", "A1", "c1", "call"), act(3, "2025-02-04", "A1", "c1", "call")]
    rows[3]["activity_id"] = "x2 "
    problems = validate_book(book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=rows))
    ids = [(p.row, p.value, p.severity) for p in problems if p.column == "activity_id"]
    assert (2, "X1", "error") in ids and (3, "X1", "error") in ids
    variant = [p for p in problems if p.column == "activity_id" and p.severity == "warning"]
    assert [(p.row, p.value) for p in variant] == [(5, "x2")]  # the stored value is trimmed
    assert "as row 4 ('X2')" in variant[0].message


def test_blank_rows_are_rows_empty_in_every_column():
    raw = pd.DataFrame({"a": ["", "x", "", ""], "b": ["", "", "y", ""], "c": ["", "", "", ""]})
    # row 0 and row 3 are empty everywhere; row 1 has a, row 2 has b
    assert _blank_rows(raw).tolist() == [True, False, False, True]
    assert _blank_rows(pd.DataFrame(index=range(2))).tolist() == [False, False]


def test_has_repeats():
    assert not _has_repeats(pd.Series(["a", "b", "c"], dtype="str"))
    assert _has_repeats(pd.Series(["a", "b", "a"], dtype="str"))
    assert _has_repeats(pd.Series([None, "b", None], dtype="str"))  # two missing values repeat, as in duplicated()
    assert not _has_repeats(pd.Series([None, "b"], dtype="str"))
    assert not _has_repeats(pd.Series([], dtype="str"))


def test_may_match_when_normalized_marks_every_row_of_a_clash():
    ids = pd.Series(["act_1", " ACT_1", "act_2", None, "act_3", "act_3"], dtype="str")
    # rows 0/1 equal once trimmed and upper-cased, rows 4/5 equal as they are; None never matches
    assert _may_match_when_normalized(ids).tolist() == [True, True, False, False, True, True]
    assert _may_match_when_normalized(pd.Series(["a"], dtype="str")).tolist() == [False]
    assert isinstance(_may_match_when_normalized(ids), np.ndarray)


def test_validation_never_changes_the_files(book_dir):
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")], activities=[
        act(1, " 2025-02-01 ", " A1 ", "c1", "Call"), act(1, "2025-02-30", "A1", "c1", "call")])
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    validate_book(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
