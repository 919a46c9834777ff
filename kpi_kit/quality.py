"""Data-quality report for a book: every check, how many rows fail it, and which rows.

:func:`quality_report` reads a book the way ``kpi-kit validate`` does (:func:`kpi_kit.validate.read_book_frames`),
sorts every problem into a named check (duplicates, missing ARR, negative ARR, activities in the future or
before the customer existed, SQLs closed before they were created, gaps in ARR history, accounts with no
owner, ids that point nowhere, files and columns, other values), adds the rows that would merge
(:func:`kpi_kit.parsing.find_duplicates`) and — for a book written by ``kpi-kit import csv`` — the credits
the import kept out of ARR (read from ``import_log.csv``).

The result renders as a standalone HTML page (:meth:`QualityReport.to_html`): summary counts at the top,
then per check a table of the offending rows. All text from the data is HTML-escaped, the page has no
scripts and loads nothing (inline CSS), so it can be mailed to a manager and opened offline.
``kpi-kit validate --data DIR --report FILE.html`` writes it. See ``docs/data_quality.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_kit.errors import KitError
from kpi_kit.validate import BEFORE_CUSTOMER_TEXT, FUTURE_TEXT, GAP_PREFIX, Problem, read_book_frames

#: Columns of every table of offending rows.
ROW_COLUMNS: tuple[str, ...] = ("severity", "file", "row", "column", "value", "about", "message")
#: Columns of :attr:`QualityReport.merges`.
MERGE_COLUMNS: tuple[str, ...] = ("file", "key", "kept_row", "merged_row", "kept_id", "merged_id", "kind", "differing")
#: Key of each file for "rows that would merge": (id column, further key columns).
MERGE_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "csms": ("csm_id", ()),
    "accounts": ("account_id", ()),
    "arr_monthly": ("account_id", ("month",)),
    "activities": ("activity_id", ()),
    "sqls": ("sql_id", ()),
    "risk_alerts": ("alert_id", ()),
    "escalations": ("escalation_id", ()),
    "usage": ("account_id", ("month",)),
}
IMPORT_LOG = "import_log.csv"
#: Rows of the HTML fragment shown in a notebook, per check (the full page lists every row).
NOTEBOOK_ROWS = 10

_MORE = re.compile(r"^(\d+) more rows\b")
_FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r])")


def _has(*texts: str) -> Callable[[Problem], bool]:
    return lambda p: any(t in p.message for t in texts)


def _at(file: str, column: str | None, *texts: str) -> Callable[[Problem], bool]:
    return lambda p: p.file == file and p.column == column and any(t in p.message for t in texts)


@dataclass(frozen=True)
class CheckSpec:
    """A named check: which problems belong to it (``matches``) and what to tell the reader."""

    key: str
    title: str
    looks_for: str
    fix: str
    matches: Callable[[Problem], bool]


#: The checks in report order. A problem belongs to the first check that matches it; ``credits`` is
#: filled from the import log, ``other`` takes everything left.
CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("files", "Files and columns",
              "required files or columns that are missing, files that are not UTF-8 CSV or are empty",
              "Export the missing file or column (data/README.md lists them), or convert the export with "
              "`kpi-kit import csv`.",
              lambda p: (p.row is None and p.column is None) or p.row == 1),
    CheckSpec("duplicates", "Duplicate rows",
              "the same id (or month and account) on more than one row — written identically, or equal once "
              "spaces and upper/lower case are ignored (e.g. 'acc_1' and 'ACC_1 ')",
              "Keep one row per id; the table 'Rows that would merge' shows which row would be kept.",
              _has("appears more than once", "owned twice", "listed (owned) more than once", "has a second ARR row",
                   "has a second usage row", "once spaces and upper/lower case are ignored",
                   "once spaces and case are ignored")),
    CheckSpec("no_owner", "Accounts with no owner",
              "accounts whose csm_id is blank: nobody answers for them",
              "Fill in the owner's csm_id (it must be in csms.csv).",
              lambda p: p.file == "accounts.csv" and p.column == "csm_id" and p.message.startswith("is blank")),
    CheckSpec("missing_arr", "Accounts with missing ARR",
              "blank arr values: the account stays in the book but is left out of ARR sums (never counted as churn)",
              "Fill in the ARR if you know it.",
              _at("arr_monthly.csv", "arr", "ARR unknown")),
    CheckSpec("negative_arr", "Negative ARR lines",
              "negative arr values; ARR is never negative (credits and refunds are not ARR)",
              "Remove credit lines from arr_monthly.csv, or import the export with `kpi-kit import csv`, which "
              "keeps credits out of ARR and lists them.",
              _at("arr_monthly.csv", "arr", "never negative")),
    CheckSpec("credits", "Credits kept out of ARR at import",
              f"negative ARR lines (credit memos, refunds) that `kpi-kit import csv` kept out of the book, as "
              f"recorded in {IMPORT_LOG}; rows refer to the source export",
              "Nothing to fix in the book; check in the CRM that these are credits and not mistyped ARR.",
              lambda p: False),
    CheckSpec("future_activities", "Activities in the future",
              "activities dated after the end of the latest month in arr_monthly.csv (the book's horizon)",
              "Check the date (a mistyped year?); activities of a month without ARR cannot be reported on.",
              _at("activities.csv", "date", FUTURE_TEXT, "after the latest ARR month")),
    CheckSpec("before_customer", "Activities before the customer existed",
              "activities dated before their account's customer_since",
              "Check the activity's date or the account's customer_since.",
              _at("activities.csv", "date", BEFORE_CUSTOMER_TEXT, "before their account's customer_since")),
    CheckSpec("sql_dates", "SQLs closed before they were created",
              "SQLs whose closed_date is before their created_date",
              "Correct one of the two dates.",
              _at("sqls.csv", "closed_date", "cannot close before it is created")),
    CheckSpec("arr_gaps", "Gaps in ARR history",
              "accounts with ARR rows in two months but no row for the months between (a missing row means "
              "ARR 0: the account looks churned and won back)",
              "If the account was a customer in those months, add the rows (leave arr blank if unknown).",
              lambda p: p.file == "arr_monthly.csv" and (p.message.startswith(GAP_PREFIX)
                                                        or "gap in their ARR history" in p.message)),
    CheckSpec("unknown_ids", "Ids that point nowhere",
              "account or CSM ids that are not in accounts.csv / csms.csv",
              "Correct the id, or add the account or CSM.",
              _has("is not a known", "more rows name unknown")),
    CheckSpec("other", "Other values that break the contract",
              "values that cannot be read (dates, numbers), values not allowed, blanks where a value is required, "
              "and the remaining consistency checks",
              "Correct the values as the message says (data/README.md has the contract).",
              lambda p: True),
)


@dataclass(frozen=True)
class QualityCheck:
    """One check of a :class:`QualityReport` and the rows that fail it.

    ``count`` is the number of offending rows — rows beyond the first 200 of a check are summarised in
    one "N more rows" line by ``kpi-kit validate`` and counted here. ``errors`` and ``warnings`` split
    ``count`` by severity; ``notes`` are informational (credits recorded by an import).
    """

    key: str
    title: str
    looks_for: str
    fix: str
    rows: pd.DataFrame
    count: int
    errors: int
    warnings: int
    notes: int

    @property
    def status(self) -> str:
        """``error``, ``warning``, ``note`` or ``ok`` (nothing found)."""
        if self.errors:
            return "error"
        if self.warnings:
            return "warning"
        return "note" if self.notes else "ok"


@dataclass(frozen=True)
class QualityReport:
    """Every data-quality check of a book, with counts and the offending rows.

    Attributes
    ----------
    path
        The book folder.
    book_name
        ``name`` from ``book.yaml``, else the folder name.
    checks
        One :class:`QualityCheck` per entry of :data:`CHECKS`, in that order (also the empty ones).
    problems
        Every problem ``kpi-kit validate`` lists for the book (errors and warnings).
    merges
        Rows that would merge because they repeat a key (:data:`MERGE_COLUMNS`): ``kind`` is
        ``identical`` (the whole row repeats), ``same id, other values`` (``differing`` names the
        columns) or ``same id once spaces and case are ignored``.
    import_log
        Name of the import log the credits were read from, ``None`` when the book has none.

    Examples
    --------
    >>> report = quality_report()          # the bundled sample book
    >>> report.ok, report.errors, report.counts["arr_gaps"]
    (True, 0, 0)
    """

    path: Path
    book_name: str
    checks: tuple[QualityCheck, ...]
    problems: tuple[Problem, ...]
    merges: pd.DataFrame
    import_log: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Offending rows per check key."""
        return {c.key: c.count for c in self.checks}

    @property
    def offending(self) -> dict[str, pd.DataFrame]:
        """The offending rows per check key (columns :data:`ROW_COLUMNS`)."""
        return {c.key: c.rows for c in self.checks}

    def check(self, key: str) -> QualityCheck:
        """The check named ``key`` (one of :data:`CHECKS`)."""
        for c in self.checks:
            if c.key == key:
                return c
        raise KitError(f"no data-quality check {key!r}; checks: {', '.join(c.key for c in self.checks)}")

    @property
    def errors(self) -> int:
        """Offending rows that are errors (the book cannot be loaded while there are any)."""
        return sum(c.errors for c in self.checks)

    @property
    def warnings(self) -> int:
        return sum(c.warnings for c in self.checks)

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings do not stop a book from loading)."""
        return self.errors == 0

    @property
    def table(self) -> pd.DataFrame:
        """One row per check: ``check``, ``title``, ``status``, ``errors``, ``warnings``, ``notes``, ``rows``."""
        return pd.DataFrame(
            [{"check": c.key, "title": c.title, "status": c.status, "errors": c.errors, "warnings": c.warnings,
              "notes": c.notes, "rows": c.count} for c in self.checks],
            columns=["check", "title", "status", "errors", "warnings", "notes", "rows"],
        )

    def verdict(self) -> str:
        """One sentence: can the book be used, and is anything worth a look."""
        if self.errors:
            return (f"{self.errors} error(s) and {self.warnings} warning(s): the kit cannot use this book until the "
                    "errors are fixed.")
        if self.warnings:
            return f"The book is usable; {self.warnings} warning(s) are worth a look."
        return "No problems found: the book is usable."

    def to_html(self) -> str:
        """A standalone HTML page: summary counts, then a table of offending rows per check.

        All text is HTML-escaped; no scripts, no external styles or fonts (works offline).
        """
        return _render(self, standalone=True, max_rows=None)

    def _repr_html_(self) -> str:
        return _render(self, standalone=False, max_rows=NOTEBOOK_ROWS)


# ------------------------------------------------------------------------------------------------
# building the report
# ------------------------------------------------------------------------------------------------
def quality_report(path: str | Path | None = None) -> QualityReport:
    """Run every data-quality check on the book at ``path`` (default: the bundled sample book).

    Files are only read. A book with errors still gives a report — that is when it is most useful.

    Parameters
    ----------
    path
        Book folder; ``None``, ``""`` or ``"sample"`` mean the bundled sample book.

    Returns
    -------
    QualityReport
        Counts and offending rows per check; ``.to_html()`` for a page to share.

    Raises
    ------
    kpi_kit.errors.KitError
        The folder does not exist.

    Examples
    --------
    >>> report = quality_report()
    >>> list(report.table["check"])[:3]
    ['files', 'duplicates', 'no_owner']
    """
    from kpi_kit.data import read_yaml, resolve_book_path

    folder = resolve_book_path(path)
    if not folder.is_dir():
        raise KitError(f"no book at {folder}: give a folder of CSV files (see data/README.md)")
    frames, problems = read_book_frames(folder)
    try:
        meta = read_yaml(folder / "book.yaml") or {}
    except KitError:
        meta = {}
    log_path = folder / IMPORT_LOG
    log = _read_import_log(log_path) if log_path.is_file() else None
    return build_quality_report(frames, problems, path=folder, book_name=str(meta.get("name") or folder.name),
                                import_log=log)


def build_quality_report(frames: dict[str, pd.DataFrame], problems: list[Problem] | tuple[Problem, ...], *,
                         path: Path, book_name: str, import_log: pd.DataFrame | None = None) -> QualityReport:
    """The :class:`QualityReport` of already-read frames and problems (pure: no I/O).

    Parameters
    ----------
    frames, problems
        What :func:`kpi_kit.validate.read_book_frames` returns.
    path, book_name
        Shown in the report.
    import_log
        The book's ``import_log.csv`` read as text (columns ``severity, file, row, column, value,
        message``), or ``None``. Its credit lines fill the ``credits`` check.
    """
    about = _About(frames)
    grouped: dict[str, list[dict[str, Any]]] = {spec.key: [] for spec in CHECKS}
    weights: dict[str, list[tuple[str, int]]] = {spec.key: [] for spec in CHECKS}
    for p in problems:
        spec = next(s for s in CHECKS if s.matches(p))
        grouped[spec.key].append({"severity": p.severity, "file": p.file, "row": p.row, "column": p.column or "",
                                  "value": "" if p.value is None else p.value, "about": about(p),
                                  "message": p.message})
        more = _MORE.match(p.message) if p.row is None else None
        weights[spec.key].append((p.severity, int(more.group(1)) if more else 1))
    if import_log is not None:
        for rec in _credit_lines(import_log):
            grouped["credits"].append(rec)
            weights["credits"].append(("note", 1))
    checks = []
    for spec in CHECKS:
        rows = pd.DataFrame(grouped[spec.key], columns=list(ROW_COLUMNS))
        rows["row"] = rows["row"].astype("Int64")
        w = weights[spec.key]
        checks.append(QualityCheck(
            key=spec.key, title=spec.title, looks_for=spec.looks_for, fix=spec.fix, rows=rows,
            count=sum(n for _, n in w), errors=sum(n for s, n in w if s == "error"),
            warnings=sum(n for s, n in w if s == "warning"), notes=sum(n for s, n in w if s == "note"),
        ))
    return QualityReport(path=Path(path), book_name=book_name, checks=tuple(checks), problems=tuple(problems),
                         merges=find_merges(frames), import_log=IMPORT_LOG if import_log is not None else None)


def find_merges(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows that repeat a key of their file and would merge (see :attr:`QualityReport.merges`).

    Keys are :data:`MERGE_KEYS`; ids are compared after trimming spaces and upper-casing
    (:func:`kpi_kit.parsing.find_duplicates`). Row numbers are spreadsheet rows.

    Examples
    --------
    >>> rows = pd.DataFrame({"csm_id": ["c1", "C1 ", "c2", "c2"], "csm_name": ["Ana", "Ana", "Bo", "Bob"],
    ...                      "team": ["T", "T", "T", "T"]}, index=[2, 3, 4, 5])
    >>> find_merges({"csms": rows})[["kept_row", "merged_row", "kind", "differing"]].values.tolist()
    [[2, 3, 'same id once spaces and case are ignored', ''], [4, 5, 'same id, other values', 'csm_name']]
    """
    from kpi_kit.parsing import find_duplicates

    parts = []
    for stem, (id_col, also_key) in MERGE_KEYS.items():
        frame = frames.get(stem)
        if frame is None or id_col not in frame.columns or any(k not in frame.columns for k in also_key):
            continue
        frame = frame[[c for c in frame.columns if not str(c).startswith("_")]]
        table = find_duplicates(frame, id_col, file=f"{stem}.csv", also_key=also_key).table
        if table.empty:
            continue
        kind = [
            "same id once spaces and case are ignored" if k == "normalised"
            else ("identical" if not d else "same id, other values")
            for k, d in zip(table["kind"], table["differing"], strict=True)
        ]
        parts.append(table.assign(file=f"{stem}.csv", kind=kind))
    if not parts:
        return pd.DataFrame(columns=list(MERGE_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(MERGE_COLUMNS)]


class _About:
    """``"acc_0001 · Compass Wellness"``: the account (or CSM) a problem row is about."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.frames = frames
        self.account_names: dict[str, str] = {}
        accounts = frames.get("accounts")
        if accounts is not None and "account_name" in accounts.columns:
            named = accounts.dropna(subset=["account_id"]).drop_duplicates("account_id")
            self.account_names = {str(a): _text(n) for a, n in zip(named["account_id"], named["account_name"], strict=True)}

    def __call__(self, p: Problem) -> str:
        frame = self.frames.get(p.file.removesuffix(".csv")) if p.file.endswith(".csv") else None
        if frame is None or p.row is None or p.row not in frame.index:
            return ""
        if p.file == "csms.csv" and "csm_id" in frame.columns:
            return _join(_text(frame.at[p.row, "csm_id"]), _text(frame.at[p.row, "csm_name"]) if "csm_name" in frame.columns else "")
        if "account_id" not in frame.columns:
            return ""
        account = _text(frame.at[p.row, "account_id"])
        if p.file == "accounts.csv" and "account_name" in frame.columns:
            return _join(account, _text(frame.at[p.row, "account_name"]))
        return _join(account, self.account_names.get(account, ""))


def _text(value: object) -> str:
    from kpi_kit.fmt import is_missing

    return "" if is_missing(value) or value is pd.NaT else str(value)


def _join(a: str, b: str) -> str:
    return " · ".join(x for x in (a, b) if x)


def _read_import_log(path: Path) -> pd.DataFrame | None:
    """The import log as text, or ``None`` when it cannot be read (the report then skips credits)."""
    try:
        log = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    log.index = pd.RangeIndex(2, len(log) + 2)
    return log


def _credit_lines(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Credit lines of an import log, as offending-row records (severity ``note``)."""
    needed = {"file", "row", "column", "value", "message"}
    if not needed <= set(log.columns):
        return []

    def plain(text: str) -> str:  # undo the spreadsheet guard of fmt.safe_csv_cell
        return _FORMULA_GUARD.sub("", text)

    out = []
    for rec in log.to_dict("records"):
        message = plain(str(rec["message"]))
        if "is a credit" not in message:
            continue
        row = str(rec["row"]).strip()
        out.append({"severity": "note", "file": plain(str(rec["file"])), "row": int(row) if row.isdigit() else None,
                    "column": plain(str(rec["column"])), "value": plain(str(rec["value"])),
                    "about": "", "message": f"{message} (recorded in {IMPORT_LOG})"})
    return out


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------
def _render(report: QualityReport, *, standalone: bool, max_rows: int | None) -> str:
    import jinja2

    from kpi_kit import __version__, fmt

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    sections = []
    for c in report.checks:
        if c.rows.empty and not (c.key == "duplicates" and len(report.merges)):
            continue
        shown = c.rows if max_rows is None else c.rows.head(max_rows)
        sections.append({
            "key": c.key, "title": c.title, "looks_for": c.looks_for, "fix": c.fix, "status": c.status,
            "count": fmt.count(c.count),
            "rows": [{k: ("" if fmt.is_missing(v) else str(v)) for k, v in r.items()}
                     for r in shown.to_dict("records")],
            "hidden": len(c.rows) - len(shown),
            "merges": ([{k: str(v) for k, v in r.items()} for r in report.merges.to_dict("records")]
                       if c.key == "duplicates" else []),
        })
    summary = [{"key": c.key, "title": c.title, "looks_for": c.looks_for, "status": c.status,
                "errors": fmt.count(c.errors), "warnings": fmt.count(c.warnings), "notes": fmt.count(c.notes),
                "linked": any(s["key"] == c.key for s in sections)} for c in report.checks]
    return env.get_template("quality_report.html.j2").render(
        standalone=standalone, book=report.book_name, folder=report.path.name, verdict=report.verdict(),
        ok=report.ok, errors=fmt.count(report.errors), warnings=fmt.count(report.warnings),
        summary=summary, sections=sections, version=__version__,
        merge_columns=list(MERGE_COLUMNS), row_columns=[c for c in ROW_COLUMNS if c != "severity"],
    )
