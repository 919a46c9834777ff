"""Reading and checking a book: every problem at once, with file, row, column, value and a fix.

The contract is in ``data/README.md``. Each CSV is read as text, every column is parsed to its type
(parse failures become problems, never silent NaN or 0), then a pandera schema per file checks
allowed values, ranges, uniqueness and blanks, and cross-file checks find ids that point nowhere.

Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import pandera.pandas as pa

from kpi_kit.errors import KitError

Kind = Literal["text", "id", "number", "date", "month", "timestamp", "bool", "enum"]

SEGMENTS = ("enterprise", "mid-market", "smb")
ACTIVITY_TYPES = ("call", "meeting", "qbr", "email", "check_in", "webinar", "automated_email", "other")
SQL_STATUSES = ("open", "won", "lost")
ALERT_OUTCOMES = ("open", "saved", "churned")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})


@dataclass(frozen=True)
class Col:
    """One column of the contract."""

    name: str
    kind: Kind = "text"
    required: bool = True  # the column must exist
    nullable: bool = False  # blank values allowed
    unique: bool = False
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class FileSpec:
    name: str
    columns: tuple[Col, ...]
    required: bool = True


SPECS: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec("csms", (
            Col("csm_id", "id", unique=True), Col("csm_name"), Col("team"),
            Col("time_zone", required=False, nullable=True),
        )),
        FileSpec("accounts", (
            Col("account_id", "id", unique=True), Col("account_name"), Col("csm_id", "id"),
            Col("segment", "enum", choices=SEGMENTS), Col("customer_since", "date"),
            Col("renewal_date", "date", nullable=True),
            Col("health_score", "number", required=False, nullable=True, min=0, max=100),
        )),
        FileSpec("arr_monthly", (
            Col("month", "month"), Col("account_id", "id"), Col("arr", "number", min=0, nullable=True),
        )),
        FileSpec("activities", (
            Col("activity_id", "id", unique=True), Col("date", "date"), Col("account_id", "id"),
            Col("csm_id", "id"), Col("type", "enum", choices=ACTIVITY_TYPES),
            Col("purpose", required=False, nullable=True),
        )),
        FileSpec("sqls", (
            Col("sql_id", "id", unique=True), Col("created_date", "date"), Col("account_id", "id"),
            Col("csm_id", "id"), Col("expansion_arr", "number", min=0),
            Col("status", "enum", choices=SQL_STATUSES), Col("closed_date", "date", nullable=True),
            *(Col(c, "bool", required=False, nullable=True) for c in ("need", "budget", "timeline", "stakeholder")),
        )),
        FileSpec("risk_alerts", (
            Col("alert_id", "id", unique=True), Col("account_id", "id"), Col("flagged_date", "date"),
            Col("outcome", "enum", choices=ALERT_OUTCOMES),
            Col("first_action_date", "date", required=False, nullable=True),
            Col("resolved_date", "date", required=False, nullable=True),
        )),
        FileSpec("escalations", (
            Col("escalation_id", "id", unique=True), Col("account_id", "id"),
            Col("opened_at", "timestamp"), Col("csm_engaged_at", "timestamp", nullable=True),
        ), required=False),
        FileSpec("assignments", (
            Col("account_id", "id"), Col("csm_id", "id"), Col("from_date", "date"),
            Col("to_date", "date", nullable=True),
        ), required=False),
        FileSpec("usage", (
            Col("month", "month"), Col("account_id", "id"),
            Col("feature_adoption_pct", "number", nullable=True, min=0, max=100),
            Col("seats_purchased", "number", nullable=True, min=0),
            Col("seats_used", "number", nullable=True, min=0),
        ), required=False),
    )
}

EXPECTED_TEXT: dict[str, str] = {
    "id": "an identifier (not blank)",
    "text": "text (not blank)",
    "number": "a plain number such as 1200.50 (no currency sign or thousands separator)",
    "date": "a date written YYYY-MM-DD, e.g. 2026-03-31",
    "month": "a month written YYYY-MM, e.g. 2026-03",
    "timestamp": "a date-time such as 2026-03-31T14:05:00 or 2026-03-31T14:05:00-07:00",
    "bool": "true or false (also yes/no, 1/0)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a book. ``row`` is the spreadsheet row (header = 1), None for a whole file/column."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        value = "" if self.value is None else f" {self.value!r}:"
        return f"{where}:{value} {self.message}"


class BookError(KitError):
    """A book failed validation; ``problems`` lists every error and warning found."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        shown = "\n".join(f"  - {p}" for p in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(
            f"the book in {path} has {len(errors)} problem(s):\n{shown}{more}\n"
            "Fix these in the CSV files (see data/README.md for the contract) and run `kpi-kit validate` again."
        )


@dataclass
class _Reader:
    """Collects problems while parsing the files of one book."""

    path: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, row: int | None, column: str | None, value: object, message: str,
            severity: Literal["error", "warning"] = "error") -> None:
        self.problems.append(Problem(file, row, column, None if value is None else str(value), message, severity))

    # -- reading ---------------------------------------------------------------------------------
    def read_text(self, spec: FileSpec) -> pd.DataFrame | None:
        fname = f"{spec.name}.csv"
        fpath = self.path / fname
        if not fpath.exists():
            if spec.required:
                self.add(fname, None, None, None, f"file is missing: every book needs {fname} (see data/README.md)")
            return None
        try:
            raw = pd.read_csv(fpath, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                              skip_blank_lines=False)
        except UnicodeDecodeError as exc:
            self.add(fname, None, None, None,
                     f"is not UTF-8 text ({exc.reason} at byte {exc.start}); re-save it as UTF-8 or convert it "
                     "with `kpi-kit import csv --mapping FILE` (it reads Windows-1252)")
            return None
        except pd.errors.ParserError as exc:
            self.add(fname, None, None, None, f"cannot be read as CSV ({exc}); check quotes and separators")
            return None
        except pd.errors.EmptyDataError:
            self.add(fname, None, None, None, "is empty: it needs at least a header row")
            return None
        raw.columns = [str(c).strip() for c in raw.columns]
        raw.index = pd.RangeIndex(2, len(raw) + 2)  # spreadsheet row numbers
        blank = (raw == "").all(axis=1) if len(raw.columns) else pd.Series(False, index=raw.index)
        raw = raw.loc[~blank]
        missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
        for name in missing:
            self.add(fname, 1, name, None,
                     f"required column is missing (header has: {', '.join(raw.columns) or 'nothing'})")
        if missing:
            return None
        return raw

    def parse(self, spec: FileSpec, raw: pd.DataFrame) -> pd.DataFrame:
        """Typed copy of ``raw``; each unparsable value is a problem and becomes missing."""
        fname = f"{spec.name}.csv"
        out = raw.copy()
        for col in spec.columns:
            if col.name not in raw.columns:
                continue
            text = raw[col.name].str.strip()
            blank = text == ""
            if col.kind in ("text", "id", "enum"):
                values = text.where(~blank)
                if col.kind == "enum":
                    values = values.str.lower()
            elif col.kind == "number":
                values = pd.to_numeric(text.where(~blank), errors="coerce")
            elif col.kind == "date":
                values = pd.to_datetime(text.where(~blank), format="%Y-%m-%d", errors="coerce")
            elif col.kind == "month":
                values = pd.to_datetime(text.where(~blank), format="%Y-%m", errors="coerce")
            elif col.kind == "timestamp":
                values = _parse_timestamps(text.where(~blank))
            elif col.kind == "bool":
                low = text.str.lower()
                values = pd.Series(pd.NA, index=text.index, dtype="boolean")
                values[low.isin(TRUE_WORDS)] = True
                values[low.isin(FALSE_WORDS)] = False
                bad_bool = ~(low.isin(TRUE_WORDS) | low.isin(FALSE_WORDS) | blank)
                for row in bad_bool[bad_bool].index:
                    self.add(fname, int(row), col.name, raw.at[row, col.name], f"is not {EXPECTED_TEXT['bool']}")
            else:  # pragma: no cover - the specs only use the kinds above
                raise AssertionError(col.kind)
            if col.kind in ("number", "date", "month", "timestamp"):
                bad = values.isna() & ~blank
                for row in bad[bad].index:
                    value = raw.at[row, col.name]
                    hint = EXPECTED_TEXT[col.kind]
                    msg = f"is not {hint}"
                    if col.kind in ("date", "month") and _looks_like_date(value):
                        msg = f"is not a real date; expected {hint}"
                    self.add(fname, int(row), col.name, value, msg)
            if col.kind == "month":
                values = values.dt.to_period("M")
            out[col.name] = values
            if spec.name == "arr_monthly" and col.name == "arr":
                out["_arr_raw"] = text
            if not col.nullable:
                missing = blank
                for row in missing[missing].index:
                    self.add(fname, int(row), col.name, "", f"is blank; expected {EXPECTED_TEXT.get(col.kind, 'a value')}")
        return out

    def check_schema(self, spec: FileSpec, typed: pd.DataFrame) -> None:
        """Allowed values, ranges and uniqueness, checked with a pandera schema (lazy: all at once)."""
        fname = f"{spec.name}.csv"
        columns: dict[str, pa.Column] = {}
        for col in spec.columns:
            if col.name not in typed.columns:
                continue
            checks: list[pa.Check] = []
            if col.choices:
                checks.append(pa.Check.isin(list(col.choices), error=f"is not allowed; expected one of {', '.join(col.choices)}"))
            if col.min is not None:
                extra = " (ARR is never negative: put credits in a separate file)" if col.name.endswith("arr") else ""
                checks.append(pa.Check.ge(col.min, error=f"must not be below {col.min:g}{extra}"))
            if col.max is not None:
                checks.append(pa.Check.le(col.max, error=f"must not be above {col.max:g}"))
            columns[col.name] = pa.Column(checks=checks, nullable=True, unique=col.unique, required=False)
        schema = pa.DataFrameSchema(columns, strict=False, coerce=False)
        try:
            schema.validate(typed, lazy=True)
        except pa.errors.SchemaErrors as exc:
            for case in exc.failure_cases.itertuples(index=False):
                row = None if pd.isna(case.index) else int(case.index)
                column = str(case.column)
                value = None if row is None else self._raw_value(typed, row, column)
                message = str(case.check)
                if message == "field_uniqueness":
                    message = f"appears more than once; each {column} must be unique"
                    if spec.name == "accounts" and column == "account_id":
                        message = "account is listed (owned) more than once; keep one row per account"
                self.add(fname, row, column, value, message)

    @staticmethod
    def _raw_value(typed: pd.DataFrame, row: int, column: str) -> str:
        value = typed.at[row, column]
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


def _looks_like_date(value: str) -> bool:
    parts = value.strip().split("-")
    return len(parts) in (2, 3) and all(p.isdigit() for p in parts)


def _parse_timestamps(text: pd.Series) -> pd.Series:
    """ISO timestamps with or without offset -> naive UTC datetimes (offset-less values are taken as UTC)."""
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_localize(None)


def read_book_frames(path: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Read and check every CSV of the book in ``path``.

    Returns the typed frames (files that could be read) and the list of problems (errors and
    warnings). Nothing is written; the files are opened read-only.
    """
    reader = _Reader(path)
    frames: dict[str, pd.DataFrame] = {}
    for spec in SPECS.values():
        raw = reader.read_text(spec)
        if raw is None:
            continue
        typed = reader.parse(spec, raw)
        reader.check_schema(spec, typed)
        frames[spec.name] = typed
    _cross_checks(reader, frames)
    return frames, reader.problems


def _cross_checks(reader: _Reader, frames: dict[str, pd.DataFrame]) -> None:
    accounts = frames.get("accounts")
    csms = frames.get("csms")
    if accounts is not None:
        norm = accounts["account_id"].str.strip().str.upper()
        exact = accounts["account_id"].duplicated(keep=False)
        variant = norm.duplicated(keep=False) & ~exact
        for row in variant[variant].index:
            reader.add("accounts.csv", int(row), "account_id", accounts.at[row, "account_id"],
                       "is the same account as another row once spaces and upper/lower case are ignored "
                       "(an account owned twice); keep one row per account")
    known_accounts = set(accounts["account_id"].dropna()) if accounts is not None else None
    known_csms = set(csms["csm_id"].dropna()) if csms is not None else None

    def refs(file: str, column: str, known: set[str] | None, what: str, source: str) -> None:
        frame = frames.get(file)
        if frame is None or known is None or column not in frame.columns:
            return
        values = frame[column]
        bad = values.notna() & ~values.isin(known)
        for row in bad[bad].index[:200]:
            reader.add(f"{file}.csv", int(row), column, values[row],
                       f"is not a known {what}: add it to {source} or correct the id")
        if bad.sum() > 200:
            reader.add(f"{file}.csv", None, column, None, f"{int(bad.sum()) - 200} more rows name unknown {what}s")

    refs("accounts", "csm_id", known_csms, "CSM", "csms.csv")
    refs("assignments", "csm_id", known_csms, "CSM", "csms.csv")
    for file in ("arr_monthly", "activities", "sqls", "risk_alerts", "escalations", "usage", "assignments"):
        refs(file, "account_id", known_accounts, "account", "accounts.csv")
    for file in ("activities", "sqls"):
        refs(file, "csm_id", known_csms, "CSM", "csms.csv")

    arr = frames.get("arr_monthly")
    if arr is not None:
        blank = arr["arr"].isna() & (arr.get("_arr_raw", pd.Series("", index=arr.index)) == "")
        for row in blank[blank].index[:200]:
            reader.add("arr_monthly.csv", int(row), "arr", "",
                       "is blank: ARR unknown for that month — left out of ARR sums (the account stays in the book "
                       "and is never counted as churn); fill it in if you know it", severity="warning")
        dup = arr.duplicated(["month", "account_id"], keep="first") & arr["month"].notna()
        for row in dup[dup].index[:200]:
            reader.add("arr_monthly.csv", int(row), "account_id", arr.at[row, "account_id"],
                       f"has a second ARR row for month {arr.at[row, 'month']}; keep one row per month and account")
    sqls = frames.get("sqls")
    if sqls is not None:
        early = sqls["closed_date"].notna() & sqls["created_date"].notna() & (sqls["closed_date"] < sqls["created_date"])
        for row in early[early].index:
            reader.add("sqls.csv", int(row), "closed_date", sqls.at[row, "closed_date"].date(),
                       f"is before created_date {sqls.at[row, 'created_date'].date()}; an SQL cannot close before it is created")
        unclosed = sqls["status"].isin(["won", "lost"]) & sqls["closed_date"].isna()
        for row in unclosed[unclosed].index:
            reader.add("sqls.csv", int(row), "closed_date", "",
                       f"is blank but status is {sqls.at[row, 'status']}; give the date it closed")
    assignments = frames.get("assignments")
    if assignments is not None:
        backwards = assignments["to_date"].notna() & (assignments["to_date"] < assignments["from_date"])
        for row in backwards[backwards].index:
            reader.add("assignments.csv", int(row), "to_date", assignments.at[row, "to_date"].date(),
                       "is before from_date; an assignment cannot end before it starts")
        ordered = assignments.sort_values(["account_id", "from_date"])
        prev_end = ordered.groupby("account_id")["to_date"].shift()
        prev_open = ordered.groupby("account_id")["to_date"].shift().isna() & ordered.duplicated("account_id")
        overlap = ordered["account_id"].duplicated() & (prev_open | (prev_end >= ordered["from_date"]))
        for row in overlap[overlap].index:
            reader.add("assignments.csv", int(row), "from_date", ordered.at[row, "from_date"].date(),
                       f"overlaps the previous assignment of account {ordered.at[row, 'account_id']}; "
                       "an account has one owner at a time (end the previous row the day before)")
    alerts = frames.get("risk_alerts")
    if alerts is not None and "first_action_date" in alerts.columns:
        early = alerts["first_action_date"].notna() & (alerts["first_action_date"] < alerts["flagged_date"])
        for row in early[early].index:
            reader.add("risk_alerts.csv", int(row), "first_action_date", alerts.at[row, "first_action_date"].date(),
                       "is before flagged_date; the first action cannot precede the alert", severity="warning")
