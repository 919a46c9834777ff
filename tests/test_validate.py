"""`kpi-kit validate`: every error kind named with file, row, column and value; inputs never modified."""

from __future__ import annotations

import hashlib

import pytest

from kpi_kit.cli import main
from kpi_kit.data import load_book
from kpi_kit.validate import BookError
from tests.test_metrics import acc, act

CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}]


def _problems(book_dir, **files):
    path = book_dir(csms=files.pop("csms", CSMS), **files)
    with pytest.raises(BookError) as info:
        load_book(path)
    return info.value.problems, path


def _find(problems, file, row, column):
    hits = [p for p in problems if (p.file, p.row, p.column) == (file, row, column)]
    assert hits, f"no problem at {file} row {row} column {column}; got: {[str(p) for p in problems]}"
    return hits[0]


def test_clean_book_validates(book_dir, capsys):
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1")],
                    arr_monthly=[{"month": "2025-01", "account_id": "A1", "arr": 10}])
    assert main(["validate", "--data", str(path)]) == 0
    assert "the book is valid" in capsys.readouterr().out


def test_every_error_kind_is_named(book_dir):
    problems, _ = _problems(
        book_dir,
        accounts=[acc("A1", "c1"), acc("A2", "c1", segment="Enterprize"), acc("A1", "c9"), acc(" a2", "c1"),
                  acc("A3", "c1", since="2025-02-30")],
        arr_monthly=[{"month": "2025-01", "account_id": "A1", "arr": "12k"},
                     {"month": "2025-01", "account_id": "A2", "arr": -5},
                     {"month": "2025-13", "account_id": "A2", "arr": 5}],
        activities=[act(1, "2025-01-02", "ZZ", "c1", "call"), act(2, "2025-01-03", "A1", "c1", "phone")],
        sqls=[{"sql_id": "S1", "created_date": "2025-02-01", "account_id": "NOPE", "csm_id": "c1",
               "expansion_arr": 10, "status": "won", "closed_date": "2025-01-01"}],
        risk_alerts=[{"alert_id": "R1", "account_id": "GHOST", "flagged_date": "2025-01-01", "outcome": "lost"}],
    )
    # spreadsheet rows: header = 1, first data row = 2
    assert "expected one of enterprise, mid-market, smb" in _find(problems, "accounts.csv", 3, "segment").message
    assert _find(problems, "accounts.csv", 3, "segment").value == "enterprize"
    assert "more than once" in _find(problems, "accounts.csv", 4, "account_id").message  # A1 owned twice
    assert "owned twice" in _find(problems, "accounts.csv", 5, "account_id").message   # ' a2' vs A2
    assert "not a known CSM" in _find(problems, "accounts.csv", 4, "csm_id").message
    assert "not a real date" in _find(problems, "accounts.csv", 6, "customer_since").message
    bad_number = _find(problems, "arr_monthly.csv", 2, "arr")
    assert bad_number.value == "12k" and "plain number" in bad_number.message
    negative = _find(problems, "arr_monthly.csv", 3, "arr")
    assert negative.value == "-5" and "never negative" in negative.message
    assert _find(problems, "arr_monthly.csv", 4, "month").value == "2025-13"
    assert "not a known account" in _find(problems, "activities.csv", 2, "account_id").message
    assert _find(problems, "activities.csv", 3, "type").value == "phone"
    assert "not a known account" in _find(problems, "sqls.csv", 2, "account_id").message
    assert "before created_date" in _find(problems, "sqls.csv", 2, "closed_date").message
    assert "not a known account" in _find(problems, "risk_alerts.csv", 2, "account_id").message
    assert "expected one of open, saved, churned" in _find(problems, "risk_alerts.csv", 2, "outcome").message


def test_missing_column_and_missing_file(book_dir):
    path = book_dir(csms="csm_id,csm_name\nc1,Ana\n", accounts=[acc("A1", "c1")])
    (path / "sqls.csv").unlink()
    with pytest.raises(BookError) as info:
        load_book(path)
    problems = info.value.problems
    assert "required column is missing" in _find(problems, "csms.csv", 1, "team").message
    assert "file is missing" in _find(problems, "sqls.csv", None, None).message


def test_cli_reports_all_problems_without_traceback_and_never_modifies_input(book_dir, capsys):
    path = book_dir(csms=CSMS, accounts=[acc("A1", "c1", segment="big")],
                    arr_monthly=[{"month": "2025-01", "account_id": "A1", "arr": "n/a"}])
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.iterdir()}
    assert main(["validate", "--data", str(path)]) == 1
    out = capsys.readouterr()
    assert "accounts.csv row 2, column segment: 'big': is not allowed" in out.out
    assert "arr_monthly.csv row 2, column arr: 'n/a': is not a plain number" in out.out
    assert "Traceback" not in out.out + out.err
    assert main(["metrics", "--data", str(path), "--csm", "c1", "--start", "2025-01", "--end", "2025-01"]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "Traceback" not in err
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in path.iterdir()}
    assert before == after


def test_non_utf8_file_is_a_clear_error(book_dir):
    path = book_dir(csms=CSMS)
    (path / "accounts.csv").write_bytes(
        "account_id,account_name,csm_id,segment,customer_since,renewal_date\nA1,Caf\xe9 M\xfcller,c1,smb,2025-01-01,\n"
        .encode("cp1252"))
    with pytest.raises(BookError, match="not UTF-8.*kpi-kit import csv"):
        load_book(path)


def test_unknown_book_folder(capsys, tmp_path):
    assert main(["validate", "--data", str(tmp_path / "nowhere")]) == 1
    assert "no book at" in capsys.readouterr().err
