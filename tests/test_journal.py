"""The performance journal: validation with spreadsheet rows, and hand-computed patterns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.data import SAMPLE_DIR, load_book
from kpi_kit.errors import KitError
from kpi_kit.journal import JournalError, journal_patterns, normalize_terms, read_journal, validate_journal

HEADER = "week,went_well,needs_improvement,root_cause,next_week_actions"
SAMPLE_JOURNAL = SAMPLE_DIR.parent / "sample_journal.csv"


def write(tmp_path: Path, text: str | bytes, name: str = "journal.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------

def test_read_valid_journal(tmp_path):
    text = (
        "\ufeffWeek, Went well ,Needs improvement,Root cause,Next week actions,Escalations worked,Notes\n"
        '2026-07-13,"Two QBRs, both good",,"Too many escalations",Block time,3,"free, text"\n'
        "\n"
        '2026-07-06,Calls done,Late emails,"No time\nblocked",Block 30 min,,\n'
    )
    path = write(tmp_path, text)
    before = path.read_bytes()
    j = read_journal(path)
    assert path.read_bytes() == before  # the input file is never modified
    # sorted by week; headers normalised; blank line skipped; the multi-line cell is one row (row 4)
    assert [str(d.date()) for d in j["week"]] == ["2026-07-06", "2026-07-13"]
    assert j["row"].tolist() == [4, 2]
    assert list(j.columns) == ["week", "went_well", "needs_improvement", "root_cause", "next_week_actions",
                               "escalations_worked", "notes", "row"]
    assert j["went_well"].iloc[1] == "Two QBRs, both good"
    assert pd.isna(j["needs_improvement"].iloc[1])        # blank text stays missing, never ""
    assert j["root_cause"].iloc[0] == "No time\nblocked"
    assert str(j["escalations_worked"].dtype) == "float64"
    assert pd.isna(j["escalations_worked"].iloc[0]) and j["escalations_worked"].iloc[1] == 3.0
    assert j["notes"].iloc[1] == "free, text"             # a note* column keeps text
    assert validate_journal(path) == []


def test_every_problem_reported_with_row_and_column(tmp_path):
    text = "\n".join([
        HEADER + ",escalations_worked",
        "2026-07-06,a,b,c,d,1",        # row 2: fine
        "2026-07-08,a,b,c,d,1",        # row 3: a Wednesday
        "07/13/2026,a,b,c,d,1",        # row 4: not ISO
        "2026-07-06,a,b,c,d,1",        # row 5: repeats row 2's week
        "2026-07-20,a,b,c,d,three",    # row 6: not a number
        "2026-07-27,a,b,c",            # row 7: 4 cells instead of 6
        ",a,b,c,d,1",                  # row 8: blank week
        "2026-02-30,a,b,c,d,1",        # row 9: no such day
    ]) + "\n"
    path = write(tmp_path, text)
    with pytest.raises(JournalError) as info:
        read_journal(path)
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [
        (3, "week"), (4, "week"), (5, "week"), (6, "escalations_worked"), (7, None), (8, "week"), (9, "week")]
    message = str(info.value)
    assert "journal.csv row 3, column week: '2026-07-08': is a Wednesday" in message
    assert "(2026-07-06 for that week)" in message
    assert "already used in row 2" in message
    assert "'three': is not a number" in message and "rename the column to start with 'note'" in message
    assert "has 4 cells but the header has 6" in message
    assert "is blank" in message and "not a real calendar date" in message
    assert validate_journal(path) == problems


def test_missing_and_duplicate_columns(tmp_path):
    with pytest.raises(JournalError, match=r"row 1, column needs_improvement, next_week_actions: required column"):
        read_journal(write(tmp_path, "week,went_well,root_cause\n2026-07-06,a,b\n"))
    with pytest.raises(JournalError, match="appears twice in the header"):
        read_journal(write(tmp_path, HEADER + ",Root cause\n2026-07-06,a,b,c,d,e\n", "dup.csv"))


def test_unreadable_journals(tmp_path):
    with pytest.raises(KitError, match="no journal at"):
        read_journal(tmp_path / "missing.csv")
    cp1252 = (HEADER + "\n2026-07-06,Caf\xe9 meeting,b,c,d\n").encode("cp1252")
    with pytest.raises(JournalError, match="is not UTF-8 text .*around line 2.*CSV UTF-8"):
        read_journal(write(tmp_path, cp1252, "latin.csv"))
    with pytest.raises(JournalError, match="no weeks"):
        read_journal(write(tmp_path, HEADER + "\n", "empty.csv"))
    with pytest.raises(JournalError, match="no header row"):
        read_journal(write(tmp_path, "", "blank.csv"))


def test_sample_journal_is_valid():
    j = read_journal(SAMPLE_JOURNAL)
    # twelve consecutive Mondays 2026-07-06 .. 2026-09-21
    assert len(j) == 12
    assert (j["week"].dt.day_of_week == 0).all()
    assert str(j["week"].iloc[0].date()) == "2026-07-06" and str(j["week"].iloc[-1].date()) == "2026-09-21"
    assert j["escalations_worked"].notna().all()


# ------------------------------------------------------------------------------------------------
# patterns
# ------------------------------------------------------------------------------------------------

WEEKS = pd.to_datetime(["2026-07-06", "2026-07-13", "2026-07-20", "2026-07-27",
                        "2026-08-03", "2026-08-10", "2026-08-17", "2026-08-24"])


def journal_frame(escalations: list[float], root_causes: list[str | None] | None = None) -> pd.DataFrame:
    n = len(escalations)
    return pd.DataFrame({
        "week": WEEKS[:n],
        "root_cause": pd.array(root_causes if root_causes is not None else [None] * n, dtype="str"),
        "escalations_worked": pd.array(escalations, dtype="float64"),
    })


def test_sqls_fall_in_weeks_with_many_escalations():
    j = journal_frame([0, 3, 1, 4, 0, 2, 5, 1])
    # an extra journal week that the weekly table does not have is left out
    j = pd.concat([j, pd.DataFrame({"week": pd.to_datetime(["2026-08-31"]), "escalations_worked": [9.0]})],
                  ignore_index=True)
    weekly = pd.DataFrame({"week": WEEKS, "sqls": [2, 0, 1, 0, 2, 1, 0, 1], "calls": [5, 5, 5, 5, 5, 5, 5, 5]})
    jp = journal_patterns(j, weekly, "escalations_worked", indicators=("sqls", "calls"))
    assert jp.weeks_used == 8
    # escalations sorted 0,0,1,1,2,3,4,5 -> median (1 + 2) / 2 = 1.5; high weeks (>= 1.5): 2, 4, 6, 7
    # SQLs in high weeks 0, 0, 1, 0 -> 0.25; in low weeks 2, 1, 2, 1 -> 1.5; difference −1.25
    sq = jp.escalation_split.set_index("indicator").loc["sqls"]
    assert (sq["threshold"], sq["weeks_high"], sq["weeks_low"]) == (1.5, 4, 4)
    assert (sq["mean_high"], sq["mean_low"], sq["difference"]) == (0.25, 1.5, -1.25)
    assert jp.findings[0].startswith("SQLs fall in weeks with many escalations")
    # calls are 5 every week: no change
    assert "Calls do not change" in jp.findings[1]
    assert jp.table["kind"].tolist()[:2] == ["escalation split", "escalation split"]


def test_median_ties_split_above_the_median():
    j = journal_frame([0, 0, 0, 0, 2, 3])
    weekly = pd.DataFrame({"week": WEEKS[:6], "sqls": [1, 1, 2, 2, 0, 1]})
    jp = journal_patterns(j, weekly, "escalations_worked", indicators=("sqls",))
    row = jp.escalation_split.iloc[0]
    # median 0: every week is >= 0, so the split is "> 0": high weeks 5, 6 (SQLs 0, 1 -> 0.5); low 1-4 (1.5)
    assert row["split"] == "> median 0"
    assert (row["weeks_high"], row["weeks_low"], row["mean_high"], row["mean_low"]) == (2, 4, 0.5, 1.5)


def test_no_variation_and_no_data():
    weekly = pd.DataFrame({"week": WEEKS[:4], "sqls": [1, 2, 0, 1]})
    same = journal_patterns(journal_frame([1, 1, 1, 1]), weekly, "escalations_worked")
    assert same.escalation_split.empty and "nothing to compare" in same.findings[0]
    none = journal_patterns(journal_frame([1, 1, 1, 1]).drop(columns="escalations_worked"), weekly)
    assert none.escalation_source == "no escalation data" and "skipped" in none.findings[0]
    with pytest.raises(KitError, match="no such column"):
        journal_patterns(journal_frame([1, 1, 1, 1]), weekly, "nope")


def test_escalation_events_are_counted_per_week():
    weekly = pd.DataFrame({"week": WEEKS[:4], "sqls": [2, 0, 2, 1]})
    events = pd.DataFrame({"opened_at": pd.to_datetime(["2026-07-14 09:00", "2026-07-19 23:00", "2026-07-29 12:00"])})
    jp = journal_patterns(journal_frame([0, 0, 0, 0]), weekly, events, indicators=("sqls",))
    # per week: 0, 2 (Tue 14th and Sun 19th), 0, 1 -> sorted 0,0,1,2, median 0.5; high weeks 2 and 4
    # SQLs high: 0, 1 -> 0.5; low: 2, 2 -> 2.0
    row = jp.escalation_split.iloc[0]
    assert (row["threshold"], row["mean_high"], row["mean_low"]) == (0.5, 0.5, 2.0)


def test_weekly_tracking_escalations_used_by_default(book_dir):
    # a WeeklyTracking result is accepted and its book escalations are the default source
    from kpi_kit.forecast import weekly_tracking

    book = load_book(book_dir(
        csms=[{"csm_id": "c", "csm_name": "C", "team": "T"}],
        accounts=[{"account_id": "A", "account_name": "A", "csm_id": "c", "segment": "smb",
                   "customer_since": "2020-01-01", "renewal_date": ""}],
        arr_monthly=[{"month": "2026-06", "account_id": "A", "arr": 10}, {"month": "2026-07", "account_id": "A", "arr": 10}],
        sqls=[{"sql_id": "S1", "created_date": "2026-07-07", "account_id": "A", "csm_id": "c", "expansion_arr": 1,
               "status": "open", "closed_date": ""}],
        escalations=[{"escalation_id": "E1", "account_id": "A", "opened_at": "2026-07-15T10:00:00Z", "csm_engaged_at": ""}],
    ))
    wt = weekly_tracking(book, "c", "2026-07", "2026-07-26")
    j = journal_frame([0, 0, 0]).assign(week=pd.to_datetime(["2026-07-06", "2026-07-13", "2026-07-20"]))
    jp = journal_patterns(j.drop(columns="escalations_worked"), wt, indicators=("sqls",))
    # weeks 07-06, 07-13, 07-20: escalations 0, 1, 0 -> median 0 -> split "> 0": high 07-13 (0 SQLs), low 07-06 (1), 07-20 (0)
    assert jp.escalation_source.startswith("the book's escalations")
    row = jp.escalation_split.iloc[0]
    assert (row["weeks_high"], row["weeks_low"], row["mean_high"], row["mean_low"]) == (1, 2, 0.0, 0.5)


def test_recurring_root_causes():
    causes = ["Support escalations took the week", "Too many support escalations", "Pricing confusion",
              "Pricing confusion again; support escalation", None]
    j = journal_frame([0, 0, 0, 0, 0], causes)
    weekly = pd.DataFrame({"week": WEEKS[:5], "sqls": [0, 0, 0, 0, 0]})
    jp = journal_patterns(j, weekly, "escalations_worked")
    # 'support escalation' in weeks 1, 2, 4; 'pricing confusion' in weeks 3, 4; the single words occur only
    # inside those phrases (same weeks) and are not listed; ';' stops 'confusion support' being a phrase
    assert jp.recurring["term"].tolist() == ["support escalation", "pricing confusion"]
    assert jp.recurring["weeks"].tolist() == [3, 2]
    # 4 weeks have a root cause: 3/4 = 75 %, 2/4 = 50 %
    assert jp.recurring["share_pct"].tolist() == [75.0, 50.0]
    assert jp.recurring["week_list"].iloc[1] == "2026-07-20, 2026-07-27"
    assert "'support escalation' (3 weeks)" in jp.findings[-1]
    # with min_weeks=4 nothing recurs
    assert journal_patterns(j, weekly, "escalations_worked", min_weeks=4).recurring.empty


def test_normalize_terms():
    # lower case, stop words out, plurals singular ("companies" -> "company"), apostrophes dropped,
    # phrases only inside a clause
    assert normalize_terms("Companies didn't reply, calls slipped") == {
        "company", "reply", "company reply", "call", "slipped", "call slipped"}
    assert normalize_terms(None) == set() and normalize_terms("") == set()
    # "process" and "status" keep their final s
    assert normalize_terms("process status") == {"process", "status", "process status"}


@pytest.mark.skipif(not (SAMPLE_DIR / "csms.csv").exists(), reason="the sample book has not been generated")
def test_sample_journal_tells_the_escalation_story():
    from kpi_kit.forecast import weekly_tracking

    wt = weekly_tracking(load_book(), "csm_01", "2026-07..2026-09")
    jp = journal_patterns(read_journal(SAMPLE_JOURNAL), wt, "escalations_worked")
    row = jp.escalation_split.set_index("indicator").loc["sqls"]
    # the journal's escalations_worked sorted: 0,0,0,1,1,1,2,2,3,3,4,5 -> median 1.5, six weeks on each side
    assert (row["threshold"], row["weeks_high"], row["weeks_low"]) == (1.5, 6, 6)
    # the story the sample journal was written for: SQLs fall in the escalation-heavy weeks
    assert row["mean_high"] < row["mean_low"]
    assert jp.recurring["term"].iloc[0] == "support escalation"
