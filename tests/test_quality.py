"""Data-quality checks (kpi_kit.quality, `kpi-kit validate --report`). Every expected count is worked out by hand
from the rows written in the test (spreadsheet rows: header = 1, first data row = 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.cli import main
from kpi_kit.data import load_book, validate_book
from kpi_kit.quality import CHECKS, MERGE_COLUMNS, ROW_COLUMNS, QualityReport, find_merges, quality_report
from kpi_kit.validate import MAX_LISTED, BookError

CSMS = [{"csm_id": "c1", "csm_name": "Ana", "team": "T"}, {"csm_id": "c2", "csm_name": "Ben", "team": "T"}]


def account(aid: str, csm: str, name: str = "", segment: str = "smb", since: str = "2025-01-01") -> dict:
    return {"account_id": aid, "account_name": name or f"{aid} Co", "csm_id": csm, "segment": segment,
            "customer_since": since, "renewal_date": ""}


def activity(aid_: str, date: str, account_id: str, csm: str = "c1", kind: str = "call") -> dict:
    return {"activity_id": aid_, "date": date, "account_id": account_id, "csm_id": csm, "type": kind, "purpose": ""}


def arr(month: str, account_id: str, value: object) -> dict:
    return {"month": month, "account_id": account_id, "arr": value}


def messy_book(book_dir) -> Path:
    """One book in which every check fires; the comment on each row says which."""
    return book_dir(
        csms=[*CSMS,
              {"csm_id": " C1", "csm_name": "Ana", "team": "T"}],               # row 4: c1 again once trimmed/upper-cased
        accounts=[
            account("A1", "c1", "Acme"),                                           # row 2 (also repeated on row 6)
            account("A2", "c2", "Beta", since="2025-03-01"),                       # row 3
            account("A3", "", "Gamma"),                                            # row 4: no owner
            account("A4", "c1", "Delta", segment="huge"),                          # row 5: segment not allowed
            account("A1", "c1", "Acme"),                                           # row 6: identical copy of row 2
        ],
        arr_monthly=[
            arr("2025-01", "A1", 100),                                             # row 2
            arr("2025-03", "A1", 100),                                             # row 3: no row for 2025-02 -> gap
            arr("2025-02", "A2", ""),                                              # row 4: missing ARR
            arr("2025-03", "A2", -5),                                              # row 5: negative
            arr("2025-03", "A1", 100),                                             # row 6: second row for (2025-03, A1)
            arr("2024-10", "A4", 50),                                              # row 7
            arr("2025-02", "A4", 50),                                              # row 8: gap 2024-11..2025-01
        ],
        activities=[
            activity("X1", "2025-01-15", "A1"),                                    # row 2
            activity("X2", "2025-04-01", "A1"),                                    # row 3: after 2025-03-31 (latest ARR month)
            activity("X3", "2025-02-10", "A2", "c2"),                              # row 4: before A2's customer_since 2025-03-01
            activity("x1 ", "2025-01-15", "A1"),                                   # row 5: X1 again once trimmed/upper-cased
            activity("X4", "2025-03-31", "A1"),                                    # row 6: last day of the horizon: fine
            activity("X5", "2025-03-01", "A2", "c2"),                              # row 7: on customer_since: fine
            activity("X6", "2025-01-10", "ZZ"),                                    # row 8: unknown account
        ],
        sqls=[{"sql_id": "S1", "created_date": "2025-02-01", "account_id": "A1", "csm_id": "c1",
               "expansion_arr": 10, "status": "won", "closed_date": "2025-01-15"}],   # row 2: closed before created
    )


def rows_of(report: QualityReport, key: str) -> list[tuple[str, int | None, str]]:
    frame = report.check(key).rows
    return [(f, None if pd.isna(r) else int(r), c) for f, r, c in zip(frame["file"], frame["row"], frame["column"], strict=True)]


# ------------------------------------------------------------------------------------------------ every check
def test_every_check_counts_and_lists_the_offending_rows(book_dir) -> None:
    report = quality_report(messy_book(book_dir))
    assert [c.key for c in report.checks] == [spec.key for spec in CHECKS]
    # duplicates: accounts rows 2 and 6 (A1 twice: both rows are named), arr row 6 (second (2025-03, A1)) -> 3 errors;
    # csms row 4 (' C1' = c1) and activities row 5 ('x1 ' = X1) -> 2 warnings
    assert sorted(rows_of(report, "duplicates"), key=str) == sorted([
        ("accounts.csv", 2, "account_id"), ("accounts.csv", 6, "account_id"), ("arr_monthly.csv", 6, "account_id"),
        ("csms.csv", 4, "csm_id"), ("activities.csv", 5, "activity_id")], key=str)
    dup = report.check("duplicates")
    assert (dup.errors, dup.warnings, dup.count) == (3, 2, 5)
    assert rows_of(report, "no_owner") == [("accounts.csv", 4, "csm_id")]
    assert rows_of(report, "missing_arr") == [("arr_monthly.csv", 4, "arr")]
    assert rows_of(report, "negative_arr") == [("arr_monthly.csv", 5, "arr")]
    assert rows_of(report, "future_activities") == [("activities.csv", 3, "date")]
    assert rows_of(report, "before_customer") == [("activities.csv", 4, "date")]
    assert rows_of(report, "sql_dates") == [("sqls.csv", 2, "closed_date")]
    assert rows_of(report, "arr_gaps") == [("arr_monthly.csv", 3, "account_id"), ("arr_monthly.csv", 8, "account_id")]
    assert rows_of(report, "unknown_ids") == [("activities.csv", 8, "account_id")]
    assert rows_of(report, "other") == [("accounts.csv", 5, "segment")]
    assert report.counts["files"] == 0 and report.counts["credits"] == 0
    # errors: duplicates 3 + no owner 1 + negative 1 + SQL 1 + unknown id 1 + segment 1 = 8
    # warnings: duplicates 2 + missing ARR 1 + future 1 + before customer 1 + gaps 2 = 7
    assert (report.errors, report.warnings, report.ok) == (8, 7, False)
    table = report.table.set_index("check")
    assert table.loc["arr_gaps", ["status", "warnings", "rows"]].tolist() == ["warning", 2, 2]
    assert table.loc["files", "status"] == "ok" and table.loc["no_owner", "status"] == "error"
    # the report lists exactly what `kpi-kit validate` lists
    assert list(report.problems) == validate_book(report.path)


def test_messages_say_what_and_where(book_dir) -> None:
    report = quality_report(messy_book(book_dir))

    def message(key: str, row: int) -> str:
        frame = report.check(key).rows
        return str(frame.loc[frame["row"] == row, "message"].iloc[0])

    assert message("arr_gaps", 3).startswith("gap: ARR rows for 2025-01 and 2025-03 but none for 2025-02;")
    # A4: 2024-10 then 2025-02 -> November, December, January missing = 3 months
    assert "none for 2024-11 to 2025-01 (3 months)" in message("arr_gaps", 8)
    future = report.check("future_activities").rows.iloc[0]
    assert future["value"] == "2025-04-01" and "(2025-03, ends 2025-03-31)" in future["message"]
    before = report.check("before_customer").rows.iloc[0]
    assert before["value"] == "2025-02-10" and "customer_since 2025-03-01 (account A2)" in before["message"]
    assert "same csm_id as row 2 ('c1')" in message("duplicates", 4)
    assert "same activity_id as row 2 ('X1')" in message("duplicates", 5)
    # "about" names the record: the account (with its name) or the CSM
    about = dict(zip(report.check("arr_gaps").rows["row"], report.check("arr_gaps").rows["about"], strict=True))
    assert about == {3: "A1 · Acme", 8: "A4 · Delta"}
    assert report.check("no_owner").rows["about"].tolist() == ["A3 · Gamma"]
    assert report.check("duplicates").rows.set_index("row").loc[4, "about"] == "C1 · Ana"
    assert list(report.check("sql_dates").rows.columns) == list(ROW_COLUMNS)


def test_rows_that_would_merge(book_dir) -> None:
    report = quality_report(messy_book(book_dir))
    m = report.merges
    assert list(m.columns) == list(MERGE_COLUMNS)
    got = m[["file", "kept_row", "merged_row", "kept_id", "merged_id", "kind", "differing"]].values.tolist()
    assert got == [
        ["csms.csv", 2, 4, "c1", "C1", "same id once spaces and case are ignored", ""],
        ["accounts.csv", 2, 6, "A1", "A1", "identical", ""],
        ["arr_monthly.csv", 3, 6, "A1", "A1", "identical", ""],      # key A1 / 2025-03
        ["activities.csv", 2, 5, "X1", "x1", "same id once spaces and case are ignored", ""],
    ]


def test_find_merges_names_differing_columns() -> None:
    frame = pd.DataFrame({"sql_id": ["S1", "S1", "s2", "S2"], "expansion_arr": [10.0, 20.0, 5.0, 5.0],
                          "status": ["won", "won", "open", "lost"]}, index=[2, 3, 4, 5])
    m = find_merges({"sqls": frame})
    # S1 rows 2/3 differ in expansion_arr; s2/S2 rows 4/5 differ in status (and in the id's case)
    assert m[["kept_row", "merged_row", "kind", "differing"]].values.tolist() == [
        [2, 3, "same id, other values", "expansion_arr"],
        [4, 5, "same id once spaces and case are ignored", "status"],
    ]
    assert find_merges({}).empty


def test_clean_sample_book_has_nothing_to_report() -> None:
    report = quality_report()
    assert report.ok and report.errors == 0 and report.warnings == 0
    assert set(report.counts.values()) == {0} and report.merges.empty
    assert "No problems found" in report.to_html()


def test_gap_is_only_a_missing_month_not_a_zero_or_blank(book_dir) -> None:
    # explicit 0 and a blank ARR are rows: no gap; only A2's missing 2025-02 row is one
    path = book_dir(csms=CSMS, accounts=[account("A1", "c1"), account("A2", "c1")],
                    arr_monthly=[arr("2025-01", "A1", 10), arr("2025-02", "A1", 0), arr("2025-03", "A1", ""),
                                 arr("2025-04", "A1", 10), arr("2025-01", "A2", 10), arr("2025-03", "A2", 10)])
    report = quality_report(path)
    assert rows_of(report, "arr_gaps") == [("arr_monthly.csv", 7, "account_id")]
    assert report.ok  # warnings only
    book = load_book(path)  # warnings do not stop loading
    assert sum("gap:" in w.message for w in book.warnings) == 1


def test_long_lists_are_capped_but_counted(book_dir) -> None:
    # 205 activities dated after the horizon (ARR ends 2025-01): 200 listed + one "5 more rows" line, count 205
    acts = [activity(f"X{i}", "2025-02-01", "A1") for i in range(MAX_LISTED + 5)]
    path = book_dir(csms=CSMS, accounts=[account("A1", "c1")], arr_monthly=[arr("2025-01", "A1", 10)], activities=acts)
    check = quality_report(path).check("future_activities")
    assert len(check.rows) == MAX_LISTED + 1
    assert check.rows["message"].iloc[-1].startswith("5 more rows")
    assert (check.count, check.warnings) == (205, 205)


def test_usage_repeated_month_and_account_is_a_duplicate(book_dir) -> None:
    usage = [{"month": "2025-01", "account_id": "A1", "feature_adoption_pct": 50, "seats_purchased": 10, "seats_used": 5},
             {"month": "2025-01", "account_id": "A1", "feature_adoption_pct": 60, "seats_purchased": 10, "seats_used": 5}]
    path = book_dir(csms=CSMS, accounts=[account("A1", "c1")], arr_monthly=[arr("2025-01", "A1", 10)], usage=usage)
    report = quality_report(path)
    assert rows_of(report, "duplicates") == [("usage.csv", 3, "account_id")]
    assert report.merges[["file", "kept_row", "merged_row", "differing"]].values.tolist() == [
        ["usage.csv", 2, 3, "feature_adoption_pct"]]


def test_missing_file_goes_to_files_check(book_dir) -> None:
    path = book_dir(csms=CSMS)
    (path / "sqls.csv").unlink()
    report = quality_report(path)
    assert rows_of(report, "files") == [("sqls.csv", None, "")]
    assert report.check("files").errors == 1


def test_credits_recorded_by_the_import_are_listed(tmp_path: Path) -> None:
    from kpi_kit.importer import import_csv
    from tests.test_importer import base_book

    accounts = ("Account ID,Name,Owner,Tier,Since,Renewal,ARR\n"
                "A-1,Acme,csm_ana,Enterprise,2024-01-15,2026-06-30,1000\n"
                "A-2,Beta,csm_ana,SMB,2024-01-15,,\"-1,500.00\"\n")          # row 3: a credit memo
    out = tmp_path / "book"
    import_csv(base_book(tmp_path / "src", accounts), out)
    report = quality_report(out)
    credits = report.check("credits")
    assert (credits.count, credits.notes, credits.errors) == (1, 1, 0)
    row = credits.rows.iloc[0]
    # the import log keeps the source's spelling; the spreadsheet guard (a leading ') is not shown
    assert (row["file"], int(row["row"]), row["column"], row["value"]) == ("accounts.csv", 3, "ARR", "-1,500.00")
    assert "is a credit" in row["message"] and report.import_log == "import_log.csv"
    assert report.ok


def test_unknown_check_and_missing_folder(tmp_path: Path) -> None:
    from kpi_kit.errors import KitError

    with pytest.raises(KitError, match="no data-quality check 'nope'"):
        quality_report().check("nope")
    with pytest.raises(KitError, match="no book at"):
        quality_report(tmp_path / "nowhere")


# ------------------------------------------------------------------------------------------------ HTML
def test_html_page_has_summary_then_a_table_per_check(book_dir) -> None:
    report = quality_report(messy_book(book_dir))
    html = report.to_html()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    summary_at = html.index("<caption>Summary")
    for key in ("duplicates", "no_owner", "arr_gaps", "future_activities", "before_customer"):
        assert html.index(f'<section id="check-{key}">') > summary_at
    assert 'id="check-credits"' not in html  # empty checks get no section (the summary says "none found")
    assert "none found" in html
    assert "Rows that would merge" in html
    # the gap row of A4 is in the arr_gaps section, with its file, row and message
    section = html[html.index('<section id="check-arr_gaps">'):]
    section = section[:section.index("</section>")]
    assert "<td>arr_monthly.csv</td><td class=\"num\">8</td>" in section
    assert "2024-11 to 2025-01 (3 months)" in section
    # self-contained: no scripts, no external styles, fonts or images
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "url(" not in html
    # deterministic: the same book gives the same page
    assert quality_report(report.path).to_html() == html


def test_notebook_view_is_a_fragment_and_truncates(book_dir) -> None:
    acts = [activity(f"X{i}", "2025-02-01", "A1") for i in range(15)]
    path = book_dir(csms=CSMS, accounts=[account("A1", "c1")], arr_monthly=[arr("2025-01", "A1", 10)], activities=acts)
    report = quality_report(path)
    frag = report._repr_html_()
    assert "<html" not in frag and "<style" not in frag
    # 15 future activities, 10 shown in the notebook: 5 more
    assert "5 more row(s) not shown here" in frag
    assert report.to_html().count("is after the end of the latest ARR month") == 15


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_report_is_written_even_with_errors_and_exit_stays_1(book_dir, tmp_path: Path, capsys) -> None:
    path = messy_book(book_dir)
    out = tmp_path / "out" / "quality.html"
    assert main(["validate", "--data", str(path), "--report", str(out)]) == 1
    text = capsys.readouterr().out
    assert out.is_file() and out.read_text(encoding="utf-8") == quality_report(path).to_html()
    assert "warning: arr_monthly.csv row 3, column account_id: 'A1': gap: ARR rows for 2025-01" in text
    assert "8 error(s), 7 warning(s)" in text and f"data-quality report: {out}" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["quality.html"]  # no temp file left behind
    # an existing report is replaced (atomically: temp file + rename)
    out.write_text("old", encoding="utf-8")
    assert main(["validate", "--data", str(path), "--report", str(out)]) == 1
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_warnings_do_not_fail(book_dir, tmp_path: Path, capsys) -> None:
    path = book_dir(csms=CSMS, accounts=[account("A1", "c1")],
                    arr_monthly=[arr("2025-01", "A1", 10), arr("2025-03", "A1", 10)])
    assert main(["validate", "--data", str(path), "--report", str(tmp_path / "q.html")]) == 0
    text = capsys.readouterr().out
    assert "the book is valid (1 warning(s))" in text and "none for 2025-02" in text
    assert "The book is usable; 1 warning(s) are worth a look." in (tmp_path / "q.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["quality.csv", "accounts.csv", "report"])
def test_cli_report_must_be_an_html_file(book_dir, tmp_path: Path, capsys, name: str) -> None:
    path = book_dir(csms=CSMS)
    target = path / name if name == "accounts.csv" else tmp_path / name
    before = target.read_bytes() if target.exists() else None
    assert main(["validate", "--data", str(path), "--report", str(target)]) == 1
    assert "give a file name ending in .html" in capsys.readouterr().err
    assert (target.read_bytes() if target.exists() else None) == before  # an input file is never overwritten
