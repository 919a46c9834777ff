"""The weekly performance journal: reading it safely and mining simple, explainable patterns.

``journal.csv`` — one row per week a CSM reflects on (UTF-8, ``,`` separated, header row):

=====================  ======================================================================
column                 meaning
=====================  ======================================================================
``week``               ISO date (``YYYY-MM-DD``) of the **Monday** the week starts; unique
``went_well``          free text (may be blank)
``needs_improvement``  free text (may be blank)
``root_cause``         free text (may be blank): why the thing that needs improving happened
``next_week_actions``  free text (may be blank)
any other column       **numbers** (blank allowed), e.g. ``escalations_worked``, ``admin_hours``;
                       a column whose name starts with ``note`` holds free text instead
=====================  ======================================================================

Header names are matched after trimming spaces, lower-casing and turning inner spaces into ``_``
(``Next week actions`` = ``next_week_actions``). Rows whose cells are all blank are skipped. Every
problem is reported at once with its spreadsheet row (header = row 1), column, value and a fix, as a
:class:`JournalError`. The file is only read, never changed.

Patterns (:func:`journal_patterns`) are plain statistics a CSM and a manager can check by hand:

* **Escalation split** — over the journal's weeks, weeks with escalations at or above the median
  against weeks below it, and the mean SQLs (calls, touchpoints) in each group. The seed's example:
  *SQLs fall in weeks with many escalations*. When ties at the median leave no week below it, the split
  is "above the median" against "at or below".
* **Recurring root causes** — each week's ``root_cause`` is normalised (lower case, punctuation and
  common words removed, a simple plural rule: ``escalations`` → ``escalation``, ``companies`` →
  ``company``) into words and two-word phrases (not across punctuation); a term is counted once per week
  and listed when it recurs in at least ``min_weeks`` weeks. A word is not listed on its own when it
  only ever occurs inside a listed phrase in the same weeks.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpi_kit import fmt
from kpi_kit.errors import KitError
from kpi_kit.validate import Problem

__all__ = [
    "REQUIRED_COLUMNS", "TEXT_COLUMNS", "STOPWORDS", "JournalError", "JournalPatterns", "validate_journal",
    "read_journal", "normalize_terms", "journal_patterns",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("week", "went_well", "needs_improvement", "root_cause", "next_week_actions")
TEXT_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS[1:]

#: Words left out of root-cause terms: common English function words plus journal filler ("week").
STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did didnt do does doesnt doing dont down during each few for from further get got had hadnt
has hasnt have havent having he her here hers him his how i if in into is isnt it its itself just me more most my
no nor not of off on once only or other our ours out over own same she should so some such than that the their
theirs them then there these they this those through to too under until up very was wasnt we were werent what
when where which while who whom why will with wont would you your yours week weeks again still lot lots really
""".split())

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_CLAUSE = re.compile(r"[.,;:!?()\[\]/\n\r\t\"]+|\s-\s")
_WORD = re.compile(r"[a-z0-9]+")


class JournalError(KitError):
    """A journal failed validation; ``problems`` lists every problem found (file, row, column, value)."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"the journal {path} has {len(problems)} problem(s):\n{shown}{more}\n"
                         "Fix these in the CSV file (see kpi_kit/journal.py or docs/forecasting.md for the columns) "
                         "and load it again.")


def _header_key(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def _parse(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and check ``path``; return the typed frame (None when the file cannot be read) and the problems."""
    name = path.name
    if not path.is_file():
        raise KitError(f"no journal at {path}: give the path of a journal.csv (columns: {', '.join(REQUIRED_COLUMNS)})")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(name, None, None, None,
                              f"is not UTF-8 text (byte {exc.start}, around line {line}); save it as 'CSV UTF-8' and try again")]
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return None, [Problem(name, None, None, None, f"is not a readable CSV file ({exc}); save it as CSV with ',' separators")]
    if not records or not any(cell.strip() for cell in records[0]):
        return None, [Problem(name, 1, None, None, f"has no header row; the first row must name the columns: {', '.join(REQUIRED_COLUMNS)}")]
    header = [_header_key(h) for h in records[0]]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, col in enumerate(header):
        if not col:
            problems.append(Problem(name, 1, f"column {i + 1}", "", "has an empty column name; name the column or delete it"))
        elif col in seen:
            problems.append(Problem(name, 1, col, records[0][i], f"appears twice in the header (columns {seen[col] + 1} and "
                                    f"{i + 1}); keep one"))
        else:
            seen[col] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(Problem(name, 1, ", ".join(missing), None,
                                f"required column(s) missing; the header must contain {', '.join(REQUIRED_COLUMNS)}"))
    if problems:
        return None, problems

    extras = [c for c in header if c not in REQUIRED_COLUMNS]
    numeric = [c for c in extras if not c.startswith("note")]
    rows: list[dict[str, Any]] = []
    first_row_of_week: dict[pd.Timestamp, int] = {}
    for index, record in enumerate(records[1:]):
        row_no = index + 2
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(Problem(name, row_no, None, None,
                                    f"has {len(record)} cells but the header has {len(header)}; a comma inside text needs "
                                    "the text in double quotes (\"...\")"))
            continue
        cells = {col: record[seen[col]].strip() for col in header}
        out: dict[str, Any] = {"row": row_no}
        week_text = cells["week"]
        week: pd.Timestamp | None = None
        if not week_text:
            problems.append(Problem(name, row_no, "week", "", "is blank; write the Monday the week starts as YYYY-MM-DD"))
        elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", week_text):
            problems.append(Problem(name, row_no, "week", week_text, "is not a date; write the Monday the week starts as YYYY-MM-DD, "
                                    "e.g. 2026-07-06"))
        else:
            try:
                week = pd.Timestamp(week_text)
            except ValueError:
                problems.append(Problem(name, row_no, "week", week_text, "is not a real calendar date; write YYYY-MM-DD"))
            else:
                if week.day_of_week != 0:
                    monday = week - pd.Timedelta(days=week.day_of_week)
                    problems.append(Problem(name, row_no, "week", week_text,
                                            f"is a {week.day_name()}; week must be the Monday the week starts "
                                            f"({monday.date()} for that week)"))
                    week = None
                elif week in first_row_of_week:
                    problems.append(Problem(name, row_no, "week", week_text,
                                            f"is already used in row {first_row_of_week[week]}; one row per week — merge the two rows"))
                    week = None
                else:
                    first_row_of_week[week] = row_no
        out["week"] = week
        for col in TEXT_COLUMNS:
            out[col] = cells[col] or None
        for col in extras:
            value = cells[col]
            if col in numeric:
                if not value:
                    out[col] = np.nan
                elif _NUMBER.fullmatch(value):
                    out[col] = float(value)
                else:
                    problems.append(Problem(name, row_no, col, value,
                                            "is not a number; extra journal columns hold plain numbers such as 3 or 2.5 "
                                            "(no units or thousands separators) — fix the value, or rename the column to start "
                                            "with 'note' to keep free text"))
                    out[col] = np.nan
            else:
                out[col] = value or None
        rows.append(out)
    if not rows and not problems:
        problems.append(Problem(name, 2, None, None, "the journal has a header but no weeks; add one row per week"))
    if problems:
        return None, problems
    frame = pd.DataFrame(rows)
    frame["week"] = pd.to_datetime(frame["week"]).astype("datetime64[us]")
    for col in (*TEXT_COLUMNS, *(c for c in extras if c not in numeric)):
        frame[col] = frame[col].astype("str")
    for col in numeric:
        frame[col] = frame[col].astype("float64")
    frame["row"] = frame["row"].astype("int64")
    frame = frame[["week", *TEXT_COLUMNS, *extras, "row"]]
    return frame.sort_values("week", kind="stable").reset_index(drop=True), []


def validate_journal(path: str | Path) -> list[Problem]:
    """Every problem in the journal at ``path`` (an empty list means it is clean). The file is not changed."""
    _, problems = _parse(Path(path).expanduser().resolve())
    return problems


def read_journal(path: str | Path) -> pd.DataFrame:
    """Read and validate a ``journal.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per week, sorted by ``week`` (``datetime64``): the four text columns (``str``, missing
        for blank cells), extra numeric columns as ``float64`` (NaN for blank), ``note*`` columns as
        text, and ``row`` — the spreadsheet row each week came from.

    Raises
    ------
    JournalError
        Listing every problem: missing columns, a ``week`` that is blank, not a date, not a Monday or
        repeated, a non-number in a numeric column, a row with the wrong number of cells, non-UTF-8 text.

    Examples
    --------
    >>> from kpi_kit.data import SAMPLE_DIR
    >>> j = read_journal(SAMPLE_DIR.parent / "sample_journal.csv")
    >>> len(j), str(j["week"].iloc[0].date())
    (12, '2026-07-06')
    """
    folder_path = Path(path).expanduser().resolve()
    frame, problems = _parse(folder_path)
    if problems or frame is None:
        raise JournalError(folder_path, problems)
    return frame


# ------------------------------------------------------------------------------------------------
# patterns
# ------------------------------------------------------------------------------------------------

def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize_terms(text: Any) -> set[str]:
    """The words and two-word phrases of a free-text entry, normalised (see the module docstring).

    >>> sorted(normalize_terms("Too many escalations; the onboarding calls slipped."))
    ['call', 'call slipped', 'escalation', 'many', 'many escalation', 'onboarding', 'onboarding call', 'slipped']
    """
    if fmt.is_missing(text):
        return set()
    terms: set[str] = set()
    lowered = str(text).lower().replace("'", "").replace("’", "")
    for clause in _CLAUSE.split(lowered):
        words = [_singular(w) for w in _WORD.findall(clause) if w not in STOPWORDS and not w.isdigit()]
        terms.update(words)
        terms.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return terms


def _weekly_frame(weekly_table: Any) -> pd.DataFrame:
    table = getattr(weekly_table, "table", weekly_table)
    if not isinstance(table, pd.DataFrame) or "week" not in table.columns:
        raise KitError("weekly_table must be kpi_kit.forecast.weekly_tracking(...) or a DataFrame with a 'week' column")
    return table


def _escalation_counts(escalations: Any, journal: pd.DataFrame, weekly: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """Escalations per week (index: Monday) and where they came from."""
    if escalations is None:
        if "escalations" in weekly.columns and weekly["escalations"].notna().any():
            return weekly.set_index("week")["escalations"].astype("float64"), "the book's escalations (weekly table)"
        if "escalations" in journal.columns:
            return journal.set_index("week")["escalations"].astype("float64"), "the journal's escalations column"
        return None, "no escalation data"
    if isinstance(escalations, str):
        for frame, where in ((journal, "journal"), (weekly, "weekly table")):
            if escalations in frame.columns:
                values = pd.to_numeric(frame[escalations], errors="coerce")
                return pd.Series(values.to_numpy(dtype="float64"), index=frame["week"]), f"the {where}'s {escalations} column"
        raise KitError(f"escalations={escalations!r}: no such column in the journal or the weekly table; "
                       f"journal columns: {', '.join(journal.columns)}")
    if isinstance(escalations, pd.Series):
        index = pd.DatetimeIndex(escalations.index)
        if (index.day_of_week != 0).any():
            raise KitError("escalations: a Series must be indexed by the Monday of each week")
        return pd.Series(escalations.to_numpy(dtype="float64"), index=index), "the escalation counts given"
    if isinstance(escalations, pd.DataFrame):
        if "opened_at" in escalations.columns:
            day = pd.to_datetime(escalations["opened_at"]).dt.normalize()
            monday = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
            return monday.value_counts().astype("float64"), "the escalations given (by the week of opened_at)"
        if {"week", "escalations"} <= set(escalations.columns):
            return escalations.set_index("week")["escalations"].astype("float64"), "the escalation counts given"
        raise KitError("escalations: a DataFrame needs an 'opened_at' column (one row per escalation) or "
                       "'week' and 'escalations' columns (counts per week)")
    raise KitError(f"escalations must be None, a column name, a Series or a DataFrame, got {type(escalations).__name__}")


@dataclass(frozen=True)
class JournalPatterns:
    """Patterns found in a journal (see :func:`journal_patterns`).

    ``escalation_split`` — one row per indicator: ``indicator, threshold, split, weeks_high, weeks_low,
    mean_high, mean_low, difference`` (high − low). ``recurring`` — ``term, weeks, share_pct, week_list``.
    ``table`` — the findings in words (``kind, finding``).
    """

    weeks_used: int
    escalation_source: str
    findings: tuple[str, ...]
    escalation_split: pd.DataFrame = field(repr=False)
    recurring: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{fmt.text(f)}</li>" for f in self.findings)
        return (f"<p><strong>Journal patterns</strong> ({self.weeks_used} week(s); escalations from "
                f"{fmt.text(self.escalation_source)})</p><ul>{items}</ul>"
                + (self.recurring.to_html(index=False, escape=True) if len(self.recurring) else ""))


_LABELS = {"sqls": "SQLs", "calls": "calls", "touchpoints": "touchpoints"}


def journal_patterns(journal: pd.DataFrame, weekly_table: Any, escalations: Any = None, *,
                     indicators: tuple[str, ...] = ("sqls", "calls", "touchpoints"),
                     text_column: str = "root_cause", min_weeks: int = 2, top: int = 10) -> JournalPatterns:
    """Mine simple patterns from a journal and the weekly tracking table.

    Parameters
    ----------
    journal
        :func:`read_journal` output.
    weekly_table
        ``kpi_kit.forecast.weekly_tracking(...)`` (or its ``.table``): the indicators per week.
    escalations
        Escalations per week: ``None`` (the weekly table's ``escalations`` column, else a journal column
        called ``escalations``), a column name of the journal or weekly table (e.g. ``"escalations_worked"``),
        a Series indexed by Monday, or a DataFrame of escalations with ``opened_at``.
    indicators
        Weekly-table columns compared between high- and low-escalation weeks.
    text_column, min_weeks, top
        Column mined for recurring terms, the fewest weeks a term must appear in, how many terms to keep.

    Returns
    -------
    JournalPatterns
        Weeks analysed are the journal's weeks that are in the weekly table; weeks without an escalation
        count are taken as 0 escalations when the source is a list of escalations, and left out otherwise.

    Examples
    --------
    >>> j = pd.DataFrame({"week": pd.to_datetime(["2026-07-06", "2026-07-13", "2026-07-20", "2026-07-27"]),
    ...                   "root_cause": ["escalations ate my time", "pricing questions", "escalations again", None],
    ...                   "esc": [4.0, 0.0, 3.0, 1.0]})
    >>> w = pd.DataFrame({"week": j["week"], "sqls": [0, 2, 1, 2]})
    >>> jp = journal_patterns(j, w, "esc", indicators=("sqls",))
    >>> row = jp.escalation_split.iloc[0]     # median 2: weeks with 4 and 3 escalations vs 0 and 1
    >>> int(row["weeks_high"]), int(row["weeks_low"]), float(row["mean_high"]), float(row["mean_low"])
    (2, 2, 0.5, 2.0)
    >>> jp.recurring["term"].tolist()
    ['escalation']
    """
    if not isinstance(journal, pd.DataFrame) or "week" not in journal.columns:
        raise KitError("journal must be the DataFrame returned by read_journal() (it needs a 'week' column)")
    if min_weeks < 1:
        raise KitError(f"min_weeks must be at least 1, got {min_weeks!r}")
    weekly = _weekly_frame(weekly_table)
    weeks = pd.DatetimeIndex(journal["week"]).intersection(pd.DatetimeIndex(weekly["week"])).sort_values()
    findings: list[str] = []
    kinds: list[str] = []
    counts, source = _escalation_counts(escalations, journal, weekly)

    split_rows: list[dict[str, Any]] = []
    if counts is not None and len(weeks):
        from_events = isinstance(escalations, pd.DataFrame) and "opened_at" in escalations.columns
        esc = counts.groupby(level=0).sum().reindex(weeks, fill_value=0.0 if from_events else np.nan)
        esc = esc.dropna()
        w = weekly.set_index("week").reindex(esc.index)
        median = float(esc.median()) if len(esc) else np.nan
        high = (esc >= median).to_numpy()
        split = f">= median {median:g}"
        if len(esc) and high.all():
            high = (esc > median).to_numpy()
            split = f"> median {median:g}"
        if len(esc) and (high.all() or not high.any()):
            findings.append(f"Escalations were {median:g} in every analysed week ({len(esc)}), so there is nothing to compare.")
            kinds.append("escalation split")
        elif len(esc):
            for ind in indicators:
                if ind not in w.columns:
                    continue
                values = pd.to_numeric(w[ind], errors="coerce").to_numpy(dtype="float64")
                mh, ml = float(np.nanmean(values[high])), float(np.nanmean(values[~high]))
                split_rows.append({"indicator": ind, "threshold": median, "split": split, "weeks_high": int(high.sum()),
                                   "weeks_low": int((~high).sum()), "mean_high": mh, "mean_low": ml,
                                   "difference": mh - ml})
                label = _LABELS.get(ind, ind)
                verb = "fall" if mh < ml else ("rise" if mh > ml else "do not change")
                findings.append(
                    f"{label[0].upper() + label[1:]} {verb} in weeks with many escalations: {mh:.1f} a week in the "
                    f"{int(high.sum())} week(s) with escalations {split} vs {ml:.1f} in the {int((~high).sum())} other "
                    f"week(s) ({len(esc)} weeks — a pattern to discuss, not proof).")
                kinds.append("escalation split")
    elif counts is None:
        findings.append("No escalation data (neither in the book nor in the journal): the escalation split is skipped.")
        kinds.append("escalation split")
    split_table = pd.DataFrame(split_rows, columns=["indicator", "threshold", "split", "weeks_high", "weeks_low",
                                                    "mean_high", "mean_low", "difference"])

    if text_column not in journal.columns:
        raise KitError(f"text_column {text_column!r} is not a journal column; columns: {', '.join(journal.columns)}")
    term_weeks: dict[str, list[pd.Timestamp]] = {}
    for week, text in zip(journal["week"], journal[text_column], strict=True):
        for term in normalize_terms(text):
            term_weeks.setdefault(term, []).append(week)
    recurring = {t: ws for t, ws in term_weeks.items() if len(ws) >= min_weeks}
    phrases = [t for t in recurring if " " in t]
    shown = {t: ws for t, ws in recurring.items()
             if " " in t or not any(t in p.split(" ") and recurring[p] == ws for p in phrases)}
    ordered = sorted(shown, key=lambda t: (-len(shown[t]), -t.count(" "), t))[:top]
    n_entries = int(journal[text_column].notna().sum())
    rec = pd.DataFrame({
        "term": pd.array(ordered, dtype="str"),
        "weeks": pd.array([len(shown[t]) for t in ordered], dtype="int64"),
        "share_pct": pd.array([100.0 * len(shown[t]) / n_entries if n_entries else np.nan for t in ordered], dtype="float64"),
        "week_list": pd.array([", ".join(str(d.date()) for d in sorted(shown[t])) for t in ordered], dtype="str"),
    })
    if len(rec):
        top_terms = "; ".join(f"'{r.term}' ({r.weeks} weeks)" for r in rec.head(3).itertuples())
        findings.append(f"Recurring {text_column.replace('_', ' ')}s: {top_terms}.")
    else:
        findings.append(f"No {text_column.replace('_', ' ')} term recurs in {min_weeks} or more weeks.")
    kinds.append("recurring terms")
    table = pd.DataFrame({
        "kind": pd.array(kinds, dtype="str"),
        "finding": pd.array(findings, dtype="str"),
    })
    return JournalPatterns(weeks_used=len(weeks), escalation_source=source, findings=tuple(findings),
                           escalation_split=split_table, recurring=rec, table=table)
