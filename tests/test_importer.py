"""Mapping-driven CSV import (kpi_kit.importer, `kpi-kit import csv`). Expected values worked out by hand."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.cli import main
from kpi_kit.data import validate_book
from kpi_kit.errors import KitError
from kpi_kit.importer import ImportFailed, decode, import_csv, load_mapping, read_source, sniff_delimiter

DOCS = Path(__file__).resolve().parent.parent / "docs" / "mappings"

CSMS = "csm_id,csm_name,team,time_zone\ncsm_ana,Ana,East,America/Los_Angeles\ncsm_bob,Bob,East,Europe/Berlin\n"


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode(encoding))
    return path


def mapping(tmp: Path, body: str) -> Path:
    return write(tmp / "mapping.yaml", textwrap.dedent(body))


BASE = """
book:
  not_recorded: [activities, sqls, risk_alerts]
files:
  csms:
    source: csms.csv
    columns: {csm_id: csm_id, csm_name: csm_name, team: team, time_zone: time_zone}
  accounts:
    source: accounts.csv
    columns:
      account_id: Account ID
      account_name: Name
      csm_id: Owner
      segment: {column: Tier, values: {Enterprise: enterprise, SMB: smb, "Mid-Market": mid-market}}
      customer_since: Since
      renewal_date: Renewal
  arr_monthly:
    source: accounts.csv
    columns:
      month: {value: Jun 2025}
      account_id: Account ID
      arr: ARR
"""


def base_book(tmp: Path, accounts: str, encoding: str = "utf-8") -> Path:
    write(tmp / "csms.csv", CSMS)
    write(tmp / "accounts.csv", accounts, encoding)
    return mapping(tmp, BASE)


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)


# ---------------------------------------------------------------------------------------------- reading sources
@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),   # BOM
        ("cp1252", b"", "cp1252"),                   # Excel "CSV" on Western Windows
        ("utf-16", b"", "utf-16"),                   # Excel "Unicode text" (BOM written by the codec)
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, prefix: bytes, expected: str) -> None:
    text = "Account ID,Name\r\nA-1,Café Müller – “Zürich” €\r\n"
    path = write(tmp_path / "a.csv", prefix + text.encode(encoding))
    src = read_source(path)
    assert src.encoding == expected
    assert list(src.frame.columns) == ["Account ID", "Name"]
    assert src.frame.loc[2, "Name"] == "Café Müller – “Zürich” €"


def test_declared_encoding_and_decode_errors(tmp_path: Path) -> None:
    latin = write(tmp_path / "l.csv", "id,name\n1,Zoë\n".encode("latin-1"))
    assert read_source(latin, encoding="latin-1").frame.loc[2, "name"] == "Zoë"
    bad = read_source(latin, encoding="utf-8")
    assert bad.problems and "not valid utf-8" in bad.problems[0].message and "line 2" in bad.problems[0].message
    assert decode(b"\xef\xbb\xbfx", "utf-8") == ("x", "utf-8")  # a BOM is dropped even when declared


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(delimiter: str) -> None:
    rows = [["Account ID", "Name", "ARR"], ["A-1", "Acme, Inc.", "1.200,50"], ["A-2", "Beta", "980,00"]]
    lines = [delimiter.join(f'"{c}"' if delimiter in c else c for c in r) for r in rows]
    assert sniff_delimiter("\n".join(lines) + "\n") == delimiter


def test_single_column_file() -> None:
    assert sniff_delimiter("id\n1\n2\n") == ","


def test_ragged_rows_and_duplicate_headers_are_problems(tmp_path: Path) -> None:
    src = read_source(write(tmp_path / "a.csv", "id,name,id\n1,x,1\n2,y\n\n3,z,3\n"))
    assert [(p.row, p.column) for p in src.problems] == [(1, "id"), (3, None)]
    assert list(src.frame.index) == [2, 5]  # the blank line (row 4) still counts in the numbering


def test_quoted_cell_with_newline_is_one_row(tmp_path: Path) -> None:
    src = read_source(write(tmp_path / "a.csv", 'id,note\n1,"two\nlines"\n2,x\n'))
    assert list(src.frame.index) == [2, 3] and src.frame.loc[2, "note"] == "two\nlines"


# ---------------------------------------------------------------------------------------------- end to end
ACCOUNTS_US = (
    "Account ID,Name,Owner,Tier,Since,Renewal,ARR\n"
    "A-1,Acme,csm_ana,Enterprise,1/15/2024,6/30/2026,\"$1,250,000.00\"\n"
    "A-2,Beta,csm_ana,SMB,45292,,$50K\n"
    "A-3,Gamma,csm_bob,Mid-Market,2024-03-01,12/31/2026,(1500.00)\n"
)


def test_import_writes_a_valid_book(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    out = tmp_path / "book"
    result = import_csv(m, out)
    accounts = read(out, "accounts")
    assert accounts["customer_since"].tolist() == ["2024-01-15", "2024-01-01", "2024-03-01"]  # 45292 = 2024-01-01
    assert accounts["renewal_date"].tolist() == ["2026-06-30", "", "2026-12-31"]
    assert accounts["segment"].tolist() == ["enterprise", "smb", "mid-market"]
    arr = read(out, "arr_monthly")
    # A-3's (1500.00) is a credit: kept out of ARR, listed in the log; the account stays
    assert arr.values.tolist() == [["2025-06", "A-1", "1250000"], ["2025-06", "A-2", "50000"]]
    assert result.rows == {"csms": 2, "accounts": 3, "arr_monthly": 2, "activities": 0, "sqls": 0, "risk_alerts": 0}
    log = read(out, "import_log")
    assert any("credit" in msg for msg in log["message"])
    assert (out / "book.yaml").read_text().count("not_recorded") == 1
    assert [p for p in validate_book(out) if p.severity == "error"] == []


def test_every_problem_is_listed_and_nothing_is_written(tmp_path: Path) -> None:
    accounts = (
        "Account ID,Name,Owner,Tier,Since,Renewal,ARR\n"
        "A-1,Acme,csm_ana,Enterprise,2024-01-15,2025-13-01,n/a\n"   # row 2: two bad values
        "A-2,Beta,csm_ana,Tiny,2024-01-15,,100\n"                   # row 3: unknown tier
        "A-3,,csm_ana,SMB,,,100\n"                                   # row 4: blank name and start date
    )
    write(tmp_path / "csms.csv", CSMS.replace("Europe/Berlin", "Europe/Berlln"))
    write(tmp_path / "accounts.csv", accounts)
    m = mapping(tmp_path, BASE)
    out = tmp_path / "book"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.glob("*.csv")}
    with pytest.raises(ImportFailed) as err:
        import_csv(m, out)
    got = sorted((p.file, p.row, p.column) for p in err.value.problems)
    assert got == sorted([
        ("accounts.csv", 2, "Renewal"), ("accounts.csv", 2, "ARR"), ("accounts.csv", 3, "Tier"),
        ("accounts.csv", 4, "Name"), ("accounts.csv", 4, "Since"), ("csms.csv", 3, "time_zone"),
    ])
    text = str(err.value)
    assert "6 problem(s)" in text and "nothing was written" in text and "'n/a'" in text
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.glob("*.csv")}
    assert before == after  # input never modified


def test_problems_from_several_files_come_together(tmp_path: Path) -> None:
    write(tmp_path / "csms.csv", "csm_id,csm_name,team,time_zone\ncsm_ana,,East,UTC\ncsm_bob,Bob,East,Europe/Berlln\n")
    write(tmp_path / "accounts.csv", ACCOUNTS_US.replace("$50K", "lots"))
    with pytest.raises(ImportFailed) as err:
        import_csv(mapping(tmp_path, BASE), tmp_path / "out")
    assert [(p.file, p.row, p.column) for p in err.value.problems] == [
        ("csms.csv", 2, "csm_name"), ("csms.csv", 3, "time_zone"), ("accounts.csv", 3, "ARR")]
    assert "did you mean Europe/Berlin" in str(err.value)


def test_existing_output_is_protected(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    out = tmp_path / "book"
    write(out / "keep.txt", "mine")
    with pytest.raises(KitError, match="not empty"):
        import_csv(m, out)
    assert (out / "keep.txt").read_text() == "mine"
    import_csv(m, out, force=True)
    assert not (out / "keep.txt").exists() and (out / "accounts.csv").exists()


def test_output_inside_the_sources_is_refused(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    with pytest.raises(KitError, match="contains source files"):
        import_csv(m, tmp_path, force=True)


def test_european_export_detected(tmp_path: Path) -> None:
    eu = ("Account ID;Name;Owner;Tier;Since;Renewal;ARR\r\n"
          "A-1;Société Générale Démo;csm_bob;SMB;15/01/2024;01/04/2026;1.200,50 €\r\n"
          "A-2;Øresund;csm_bob;SMB;31/03/2024;;980,00\r\n")
    out = tmp_path / "book"
    m = base_book(tmp_path, eu, "cp1252")
    m.write_text(m.read_text().replace("book:\n", "book:\n  currency: EUR\n"))
    result = import_csv(m, out)
    accounts = read(out, "accounts")
    assert accounts["account_name"].tolist() == ["Société Générale Démo", "Øresund"]
    assert accounts["renewal_date"].tolist() == ["2026-04-01", ""]   # day first: 31/03 shows the order
    assert read(out, "arr_monthly")["arr"].tolist() == ["1200.5", "980"]
    notes = " ".join(p.message for p in result.log)
    assert "cp1252" in notes and "semicolon" in notes and "decimal mark ','" in notes and "day first" in notes


def test_ambiguous_decimal_is_refused_until_declared(tmp_path: Path) -> None:
    eu = "Account ID;Name;Owner;Tier;Since;Renewal;ARR\nA-1;X;csm_bob;SMB;2024-01-15;;1.200\n"
    m = base_book(tmp_path, eu)
    with pytest.raises(ImportFailed, match="ambiguous"):
        import_csv(m, tmp_path / "o1")
    m.write_text(m.read_text().replace("arr: ARR", "arr: {column: ARR, decimal: ','}"))
    import_csv(m, tmp_path / "o2")
    assert read(tmp_path / "o2", "arr_monthly")["arr"].tolist() == ["1200"]  # 1.200 with a decimal comma


def test_mixed_date_orders_are_refused(tmp_path: Path) -> None:
    bad = ACCOUNTS_US.replace("6/30/2026", "30/06/2026").replace("12/31/2026", "12/31/2026")
    with pytest.raises(ImportFailed, match="mixes date orders"):
        import_csv(base_book(tmp_path, bad), tmp_path / "o")


def test_duplicates_merge_and_conflicts_fail(tmp_path: Path) -> None:
    dup = ACCOUNTS_US + "a-1 ,Acme Inc,csm_ana,Enterprise,1/15/2024,6/30/2026,\"$1,250,000.00\"\n"
    result = import_csv(base_book(tmp_path, dup), tmp_path / "o")
    merges = [p for p in result.log if "merged into row 2" in p.message]
    assert [(p.row, "normalised" in p.message) for p in merges] == [(5, True), (5, True)]  # accounts + arr
    assert read(tmp_path / "o", "accounts")["account_id"].tolist() == ["A-1", "A-2", "A-3"]
    clash = ACCOUNTS_US + "A-1,Acme,csm_bob,Enterprise,1/15/2024,6/30/2026,\"$1,250,000.00\"\n"
    shutil.rmtree(tmp_path / "o")
    with pytest.raises(ImportFailed) as err:
        import_csv(base_book(tmp_path, clash), tmp_path / "o")
    assert [(p.row, p.column) for p in err.value.problems] == [(5, "Owner")]


def test_ids_in_other_files_follow_the_accounts_spelling(tmp_path: Path) -> None:
    write(tmp_path / "arr.csv", "month,account,arr\n2025-05,a-1,100\n2025-05, A-2 ,200\n")
    m = base_book(tmp_path, ACCOUNTS_US)
    m.write_text(m.read_text().replace(
        "  arr_monthly:\n    source: accounts.csv\n    columns:\n      month: {value: Jun 2025}\n      account_id: Account ID\n      arr: ARR\n",
        "  arr_monthly:\n    source: arr.csv\n    columns: {month: month, account_id: account, arr: arr}\n"))
    import_csv(m, tmp_path / "o")
    assert read(tmp_path / "o", "arr_monthly")["account_id"].tolist() == ["A-1", "A-2"]


def test_foreign_currency_in_a_usd_book_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="EUR but the book's currency is USD"):
        import_csv(base_book(tmp_path, ACCOUNTS_US.replace("$50K", "EUR 50K")), tmp_path / "o")


def test_currency_column_allows_several_currencies(tmp_path: Path) -> None:
    accounts = ACCOUNTS_US.replace("Renewal,ARR", "Renewal,ARR,Cur").replace("\"\n", "\",USD\n") \
        .replace("$50K\n", "EUR 50K,EUR\n").replace("(1500.00)\n", "(1500.00),USD\n")
    m = base_book(tmp_path, accounts)
    m.write_text(m.read_text().replace("arr: ARR", "arr: ARR\n      currency: Cur"))
    import_csv(m, tmp_path / "o")
    arr = read(tmp_path / "o", "arr_monthly")
    assert arr[["arr", "currency"]].values.tolist() == [["1250000", "USD"], ["50000", "EUR"]]


def test_activities_days_in_the_csm_time_zone(tmp_path: Path) -> None:
    write(tmp_path / "tasks.csv",
          "id,account,owner,kind,when\n"
          "T1,A-1,csm_ana,Call,2025-04-01T02:30:00Z\n"     # 19:30 on 31 March in Los Angeles
          "T2,A-1,csm_ana,Email,2025-03-09 02:30\n"        # nonexistent in LA → 03:00 PDT
          "T3,A-3,csm_bob,Meeting,2025-03-31 23:30\n")     # Berlin wall clock: stays 31 March
    m = base_book(tmp_path, ACCOUNTS_US)
    body = m.read_text().replace("not_recorded: [activities, sqls, risk_alerts]", "not_recorded: [sqls, risk_alerts]")
    body += textwrap.indent(textwrap.dedent("""\
      activities:
        source: tasks.csv
        columns:
          activity_id: id
          date: {column: when, type: timestamp}
          account_id: account
          csm_id: owner
          type: {column: kind, values: {Call: call, Email: email, Meeting: meeting}}
    """), "  ")
    m.write_text(body)
    result = import_csv(m, tmp_path / "o")
    assert read(tmp_path / "o", "activities")["date"].tolist() == ["2025-03-31", "2025-03-09", "2025-03-31"]
    assert any("does not exist" in p.message and p.row == 3 for p in result.log)
    m.write_text(body.replace("book:\n", "book:\n  days: utc\n"))
    import_csv(m, tmp_path / "o2")
    # UTC days: T1 is 1 April; T3 (23:30 CEST = 21:30Z) stays 31 March
    assert read(tmp_path / "o2", "activities")["date"].tolist() == ["2025-04-01", "2025-03-09", "2025-03-31"]
    assert "days: utc" in (tmp_path / "o2" / "book.yaml").read_text()


def test_escalation_timestamps_are_written_in_utc(tmp_path: Path) -> None:
    write(tmp_path / "esc.csv", "id,account,opened,engaged\nE1,A-1,6/13/2025 5:00 PM,2025-06-14T01:30:00Z\nE2,A-3,2025-06-13 09:00,\n")
    m = base_book(tmp_path, ACCOUNTS_US)
    m.write_text(m.read_text() + textwrap.indent(textwrap.dedent("""\
      escalations:
        source: esc.csv
        columns: {escalation_id: id, account_id: account, opened_at: opened, csm_engaged_at: engaged}
    """), "  "))
    import_csv(m, tmp_path / "o")
    esc = read(tmp_path / "o", "escalations")
    # E1: naive, owner csm_ana (LA, PDT −7): 17:00 → 00:00Z next day; E2: csm_bob (Berlin, +2): 09:00 → 07:00Z
    assert esc["opened_at"].tolist() == ["2025-06-14T00:00:00+00:00", "2025-06-13T07:00:00+00:00"]
    assert esc["csm_engaged_at"].tolist() == ["2025-06-14T01:30:00+00:00", ""]


def test_booleans_and_missing_tokens(tmp_path: Path) -> None:
    write(tmp_path / "opps.csv", "id,acc,who,amt,stage,created,closed,need,budget\n"
                                 "O1,A-1,csm_ana,$10K,Closed Won,2025-01-05,2025-02-01,TRUE,yes\n"
                                 "O2,A-2,csm_ana,\"2,500\",Open,2025-01-06,-,0,-\n")
    m = base_book(tmp_path, ACCOUNTS_US)
    body = m.read_text().replace("not_recorded: [activities, sqls, risk_alerts]", "not_recorded: [activities, risk_alerts]")
    body += textwrap.indent(textwrap.dedent("""\
      sqls:
        source: opps.csv
        missing: ["-"]
        columns:
          sql_id: id
          created_date: created
          account_id: acc
          csm_id: who
          expansion_arr: amt
          status: {column: stage, values: {Closed Won: won, Closed Lost: lost, Open: open}}
          closed_date: closed
          need: need
          budget: budget
    """), "  ")
    m.write_text(body)
    import_csv(m, tmp_path / "o")
    sqls = read(tmp_path / "o", "sqls")
    assert sqls[["expansion_arr", "status", "closed_date", "need", "budget"]].values.tolist() == [
        ["10000", "won", "2025-02-01", "true", "true"], ["2500", "open", "", "false", ""]]
    assert [p for p in validate_book(tmp_path / "o") if p.severity == "error"] == []


# ---------------------------------------------------------------------------------------------- the mapping file
@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("files:", "filez: {}\nfiles:"), "filez"),
        (("  accounts:\n", "  acounts:\n"), "files.acounts"),
        (("Account ID\n      account_name", "{column: Account ID, type: identifier}\n      account_name"),
         "files.accounts.columns.account_id.type"),
        (("source: csms.csv", "source: nope.csv"), "files.csms.source"),
        (("customer_since: Since", "customer_since: {column: Since, value: 2024-01-01}"), "files.accounts.columns.customer_since"),
        (("customer_since: Since", "customr_since: Since"), "files.accounts.columns"),
        (("arr: ARR", "arr: {column: ARR, decimal: ';'}"), "files.arr_monthly.columns.arr.decimal"),
        (("arr: ARR", "arr: {column: ARR, encoding: cp1252}"), "files.arr_monthly.columns.arr.encoding"),
        (("arr: ARR", "arr: {column: ARR, time_zone: Moon/Base}"), "files.arr_monthly.columns.arr.time_zone"),
        (("arr: ARR", "arr: {column: ARR, dayfirst: maybe}"), "files.arr_monthly.columns.arr.dayfirst"),
        (("arr: ARR", "arr: {column: ARR, type: date}"), "files.arr_monthly.columns.arr.type"),
        (("not_recorded: [activities, sqls, risk_alerts]", "not_recorded: [csms]"), "book.not_recorded"),
        (("not_recorded: [activities, sqls, risk_alerts]", "not_recorded: [sqls, risk_alerts]"), "files: no mapping for activities"),
        (("book:\n", "book:\n  days: browser\n"), "book.days"),
        (("book:\n", "book:\n  currency: dollars\n"), "book.currency"),
        (("book:\n", "version: 2\nbook:\n"), "version"),
    ],
)
def test_wrong_mapping_names_the_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    assert change[0] in m.read_text()
    m.write_text(m.read_text().replace(change[0], change[1], 1))
    with pytest.raises(KitError) as err:
        load_mapping(m)
    assert key in str(err.value)
    assert not isinstance(err.value, ImportFailed)


def test_mapping_typos_get_suggestions(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    m.write_text(m.read_text().replace("  accounts:\n", "  acounts:\n"))
    with pytest.raises(KitError, match="did you mean 'accounts'"):
        load_mapping(m)


def test_unknown_keys_are_listed_at_every_level_in_file_order(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    text = m.read_text()
    for old, new in (("book:\n", "filez: 1\nbook:\n  nmae: x\n"), ("files:\n", "defaults:\n  delimeter: ','\nfiles:\n"),
                     ("source: csms.csv", "source: csms.csv\n    sorce: csms.csv"),
                     ("{column: Tier, values:", "{column: Tier, valeus: {}, values:")):
        assert old in text
        text = text.replace(old, new, 1)
    m.write_text(text)
    with pytest.raises(KitError) as err:
        load_mapping(m)
    settings = "encoding, delimiter, decimal, thousands, dayfirst, date_format, excel_dates, time_zone, missing"
    # one line per unknown key, in the order load_mapping meets them: top level, book, defaults, file, column;
    # each names the closest allowed key and every key allowed at that level
    assert [line for line in str(err.value).splitlines() if "unknown key" in line] == [
        "  - filez: unknown key (did you mean 'files'?); allowed here: version, book, defaults, files",
        "  - book.nmae: unknown key (did you mean 'name'?); allowed here: name, currency, days, not_recorded",
        f"  - defaults.delimeter: unknown key (did you mean 'delimiter'?); allowed here: {settings}",
        f"  - files.csms.sorce: unknown key (did you mean 'source'?); allowed here: source, columns, distinct, {settings}",
        "  - files.accounts.columns.segment.valeus: unknown key (did you mean 'values'?); "
        f"allowed here: column, value, type, values, {settings}",
    ]


def test_mapping_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(KitError, match=r"m.yaml line \d+: not valid YAML"):
        load_mapping(write(tmp_path / "m.yaml", "files:\n  - [unclosed\n"))
    with pytest.raises(KitError, match="does not exist"):
        load_mapping(tmp_path / "nothing.yaml")


def test_unknown_source_column_is_reported_with_the_header(tmp_path: Path) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    m.write_text(m.read_text().replace("arr: ARR", "arr: Arr"))
    with pytest.raises(ImportFailed) as err:
        import_csv(m, tmp_path / "o")
    p = err.value.problems[0]
    assert (p.row, p.column) == (1, "Arr") and "did you mean 'ARR'" in p.message


def test_paths_are_relative_to_the_mapping_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base_book(tmp_path / "exports", ACCOUNTS_US)
    monkeypatch.chdir(tmp_path)
    assert load_mapping(Path("exports/mapping.yaml")).files["csms"].source == (tmp_path / "exports" / "csms.csv").resolve()


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_success_and_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = base_book(tmp_path, ACCOUNTS_US)
    assert main(["import", "csv", "--mapping", str(m), "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "accounts.csv (3 rows)" in captured.out and "credit" in captured.err
    m2 = base_book(tmp_path / "bad", ACCOUNTS_US.replace("$50K", "fifty"))
    assert main(["import", "csv", "--mapping", str(m2), "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "accounts.csv row 3, column ARR: 'fifty'" in err and "Traceback" not in err
    assert not (tmp_path / "o2").exists()


def test_cli_ravenstack_calls_the_importer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    calls: list[tuple] = []
    fake = types.ModuleType("kpi_kit.ravenstack")
    fake.import_ravenstack = lambda src, out, assignments: calls.append((src, out, assignments)) or out  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kpi_kit.ravenstack", fake)
    assert main(["import", "ravenstack", str(tmp_path / "rs"), "--out", str(tmp_path / "o"),
                 "--assignments", str(tmp_path / "a.csv")]) == 0
    assert calls == [(tmp_path / "rs", tmp_path / "o", tmp_path / "a.csv")]


# ---------------------------------------------------------------------------------------------- documented examples
def _salesforce_exports(root: Path) -> None:
    d = root / "exports" / "salesforce"
    write(d / "users.csv", "User ID,Full Name,Role,Time Zone\n0051,Ana Diaz,CSM West,America/Los_Angeles\n"
                           "0052,Bo Lee,CSM East,America/New_York\n")
    write(d / "accounts.csv", "\ufeffAccount ID,Account Name,Account Owner ID,Type,Customer Since,Contract End Date,Health Score\r\n"
                              "001A,Acme,0051,Enterprise,1/15/2024,6/30/2026,72\r\n"
                              "001B,Beta,0052,Small Business,45292,,45.5\r\n")
    write(d / "arr_snapshot.csv", "Snapshot Month,Account ID,ARR\nMar 2026,001A,\"USD 1,250,000.00\"\nMar 2026,001B,$50K\n"
                                  "Feb 2026,001A,\"$1,200,000\"\nFeb 2026,001B,(1500.00)\n")
    write(d / "tasks.csv", "Activity ID,Completed Date/Time,Account ID,Assigned ID,Task Subtype,CS Purpose\n"
                           "00T1,3/31/2026 4:30 PM,001A,0051,Call,renewal_90\n00T2,3/9/2025 2:30 AM,001B,0052,Email,\n")
    write(d / "opportunities.csv",
          "Opportunity ID,Created Date,Account ID,Created By ID,Amount,Stage,Close Date (if closed),Need Confirmed,"
          "Budget Confirmed,Timeline Confirmed,Stakeholder Confirmed\n"
          "006A,2/1/2026,001A,0051,$100K,Closed Won,3/15/2026,TRUE,TRUE,FALSE,TRUE\n"
          "006B,2/2/2026,001B,0052,\"25,000.00\",Prospecting,,FALSE,,,\n")
    write(d / "churn_risks.csv", "Risk ID,Account ID,Flagged Date,Status,First Action Date,Resolved Date\n"
                                 "R1,001B,1/10/2026,Retained,1/12/2026,2/1/2026\n")


def _hubspot_exports(root: Path) -> None:
    d = root / "exports" / "hubspot"
    write(d / "owners.csv", "Owner ID;Owner name;Team\n501;Anna Schmidt;DACH\n", "utf-8")
    write(d / "companies.csv", "Record ID;Company name;Company owner;Customer tier;Became a customer date;"
                               "Next renewal date;Annual recurring revenue\r\n"
                               "9001;Müller GmbH;501;Tier 1;15/01/2024;01/04/2026;1.200.000,00 €\r\n"
                               "9002;Café Zoë;501;Tier 3;31/03/2024;(No value);980,50\r\n", "cp1252")
    write(d / "engagements.csv", "Activity ID;Activity date;Associated company ID;Activity assigned to;Activity type\n"
                                 "E1;31/03/2026 23:30;9001;501;CALL\nE2;26/10/2025 02:30;9002;501;EMAIL\n")
    write(d / "deals.csv", "Deal ID;Create date;Associated company ID;Deal owner;Amount;Deal stage;Close date\n"
                           "D1;01/02/2026;9001;501;25.000,00;Closed won;15/03/2026\nD2;02/02/2026;9002;501;5.000,00;Contract sent;-\n")


def test_salesforce_example_mapping(tmp_path: Path) -> None:
    shutil.copy(DOCS / "salesforce.yaml", tmp_path / "salesforce.yaml")
    _salesforce_exports(tmp_path)
    result = import_csv(tmp_path / "salesforce.yaml", tmp_path / "book")
    out = tmp_path / "book"
    assert [p for p in validate_book(out) if p.severity == "error"] == []
    arr = read(out, "arr_monthly")
    # 001B's February (1500.00) is a credit and stays out
    assert arr.values.tolist() == [["2026-03", "001A", "1250000"], ["2026-03", "001B", "50000"], ["2026-02", "001A", "1200000"]]
    acts = read(out, "activities")
    # 4:30 PM on 3/31 in Los Angeles is 31 March; 2:30 AM on 9 March 2025 in New York does not exist → 03:00, same day
    assert acts["date"].tolist() == ["2026-03-31", "2025-03-09"]
    assert read(out, "risk_alerts")["outcome"].tolist() == ["saved"]
    assert read(out, "sqls")[["status", "need", "budget"]].values.tolist() == [["won", "true", "true"], ["open", "false", ""]]
    assert any("does not exist" in p.message for p in result.log)


def test_hubspot_example_mapping(tmp_path: Path) -> None:
    shutil.copy(DOCS / "hubspot.yaml", tmp_path / "hubspot.yaml")
    _hubspot_exports(tmp_path)
    result = import_csv(tmp_path / "hubspot.yaml", tmp_path / "book")
    out = tmp_path / "book"
    assert [p for p in validate_book(out) if p.severity == "error"] == []
    accounts = read(out, "accounts")
    assert accounts[["account_name", "segment", "renewal_date"]].values.tolist() == [
        ["Müller GmbH", "enterprise", "2026-04-01"], ["Café Zoë", "smb", ""]]
    assert read(out, "arr_monthly")["arr"].tolist() == ["1200000", "980.5"]
    # 26/10/2025 02:30 happens twice in Berlin → first occurrence, warned
    assert read(out, "activities")["date"].tolist() == ["2026-03-31", "2025-10-26"]
    assert any("happens twice" in p.message for p in result.log)
    assert "currency: EUR" in (out / "book.yaml").read_text()


def test_fx_rates_import_feeds_kpi_kit_fx(tmp_path: Path) -> None:
    from kpi_kit.fx import rate_on, read_fx_rates

    write(tmp_path / "kurse.csv", "Währung;Datum;USD je Einheit\nEUR;01.01.2025;1,04\nJPY;01.01.2025;0,0064\n", "cp1252")
    m = base_book(tmp_path, ACCOUNTS_US)
    m.write_text(m.read_text() + textwrap.indent(textwrap.dedent("""\
      fx_rates:
        source: kurse.csv
        columns:
          currency: Währung
          rate_date: {column: Datum, date_format: "%d.%m.%Y"}
          usd_per_unit: {column: USD je Einheit, decimal: ","}
    """), "  "))
    import_csv(m, tmp_path / "o")
    rates = read_fx_rates(tmp_path / "o" / "fx_rates.csv")
    assert rate_on(rates, "JPY", "2025-01-01") == 0.0064  # 0,0064 with a decimal comma
    assert rate_on(rates, "EUR", "2025-01-20") == 1.04


def test_cli_lists_the_import_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "import" in capsys.readouterr().out
