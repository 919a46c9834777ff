"""Reading and checking a book: every problem at once, with file, row, column, value and a fix.

The contract is in ``data/README.md``. Each CSV is read as text, every column is parsed to its type
(parse failures become problems, never silent NaN or 0), then a pandera schema per file checks
allowed values, ranges, uniqueness and blanks, and cross-file checks find ids that point nowhere.

Big books (millions of activities): a column is parsed once per distinct text and spread back to the
rows, checks run on distinct values or integer codes first and only fall back to row-by-row work
(pandera, exact comparisons) where something fails, and repeats are found through 64-bit hashes. Every
problem is still reported for its own row with its own value, exactly as a row-by-row pass would.

Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from kpi_kit.errors import KitError
from kpi_kit.parsing import FALSE_WORDS, TRUE_WORDS  # the one list of boolean words
from kpi_kit.problems import Problem

Kind = Literal["text", "id", "number", "date", "month", "timestamp", "bool", "enum"]

SEGMENTS = ("enterprise", "mid-market", "smb")
ACTIVITY_TYPES = ("call", "meeting", "qbr", "email", "check_in", "webinar", "automated_email", "other")
SQL_STATUSES = ("open", "won", "lost")
ALERT_OUTCOMES = ("open", "saved", "churned")


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
    timestamps: bool = False  # a ``date`` column that also takes ISO timestamps (day taken in the CSM's zone)


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
            Col("currency", required=False, nullable=True),
        )),
        FileSpec("arr_monthly", (
            Col("month", "month"), Col("account_id", "id"), Col("arr", "number", min=0, nullable=True),
        )),
        FileSpec("activities", (
            Col("activity_id", "id", unique=True), Col("date", "date", timestamps=True), Col("account_id", "id"),
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
        FileSpec("fx_rates", (
            Col("currency", "id"), Col("rate_date", "date"), Col("usd_per_unit", "number"),
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


# -- book.yaml settings ---------------------------------------------------------------------------
#: Keys ``book.yaml`` may hold (``data/README.md``, "book.yaml"); any other key is a warning, since a
#: misspelt setting would otherwise be ignored without a word.
BOOK_YAML_KEYS: tuple[str, ...] = (
    "name", "not_recorded", "currency", "fiscal_year_start_month", "fiscal_year_naming", "naive_timestamps",
    "days", "imported_by",
)
NAIVE_MODES: tuple[str, ...] = ("local", "utc")
DAY_BASES: tuple[str, ...] = ("csm_local", "utc")
FISCAL_NAMINGS: tuple[str, ...] = ("end", "start")


@dataclass(frozen=True)
class BookSettings:
    """The ``book.yaml`` settings that change how a book is read and reported (all optional).

    Attributes
    ----------
    currency
        The book's single currency (ISO code), used for accounts without a ``currency``; ``None`` = not
        declared (then an account without one is in USD, unless the book has several currencies).
    fiscal_year_start_month
        First month of the fiscal year, 1 (January, the default: calendar years) to 12.
    fiscal_year_naming
        ``end`` (default): a fiscal year is named for the calendar year it ends in; ``start``: it starts in.
    naive_timestamps
        How ``activities.csv`` timestamps without an offset are read: ``local`` (default, the wall clock of
        the CSM's ``time_zone``) or ``utc``.
    days
        Where an activity's day is taken: ``csm_local`` (default, the CSM's time zone) or ``utc``.
    """

    currency: str | None = None
    fiscal_year_start_month: int = 1
    fiscal_year_naming: str = "end"
    naive_timestamps: str = "local"
    days: str = "csm_local"


def _month_number(value: object) -> int | None:
    """1..12 from ``2``, ``"02"``, ``"Feb"`` or ``"February"``; None if it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 12 else None
    text = str(value).strip()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    names = {n.lower(): i for i, n in enumerate(_stdcal.month_name) if n}
    names |= {n.lower(): i for i, n in enumerate(_stdcal.month_abbr) if n}
    return names.get(text.lower())


def check_book_settings(meta: Mapping[str, Any], file: str = "book.yaml") -> tuple[BookSettings, list[Problem]]:
    """Check the settings of a ``book.yaml`` mapping; a bad value is a problem and its default is used.

    Pure: ``meta`` is the parsed YAML. Problems name the file and the key (as ``column``).

    Examples
    --------
    >>> settings, problems = check_book_settings({"fiscal_year_start_month": "Feb", "currency": "eur"})
    >>> settings.fiscal_year_start_month, settings.currency, problems
    (2, 'EUR', [])
    >>> check_book_settings({"fiscal_year_start_month": 13})[1][0].message[:40]
    'must be a month number from 1 (January) '
    """
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def bad(key: str, message: str, severity: Literal["error", "warning"] = "error") -> None:
        problems.append(Problem(file, None, key, None if key not in meta else str(meta[key]), message, severity))

    for key in meta:
        if key not in BOOK_YAML_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), BOOK_YAML_KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            bad(str(key), f"is not a book.yaml setting{hint}; it is ignored. Known: {', '.join(BOOK_YAML_KEYS)}",
                "warning")
    if meta.get("currency") not in (None, ""):
        from kpi_kit.fx import check_currency_code

        try:
            values["currency"] = check_currency_code(meta["currency"])
        except ValueError as exc:
            bad("currency", f"{exc}: the book's single currency (accounts without a currency are in it)")
    if meta.get("fiscal_year_start_month") is not None:
        month = _month_number(meta["fiscal_year_start_month"])
        if month is None:
            bad("fiscal_year_start_month", "must be a month number from 1 (January) to 12 (December), or a month "
                "name such as February: the first month of the fiscal year")
        else:
            values["fiscal_year_start_month"] = month
    for key, allowed, what in (
        ("fiscal_year_naming", FISCAL_NAMINGS, "end = a fiscal year is named for the calendar year it ends in, "
                                               "start = the year it starts in"),
        ("naive_timestamps", NAIVE_MODES, "local = activity timestamps without an offset are the CSM's wall "
                                          "clock, utc = they are UTC"),
        ("days", DAY_BASES, "csm_local = an activity's day is taken in the CSM's time zone, utc = in UTC"),
    ):
        if meta.get(key) is None:
            continue
        text = str(meta[key]).strip().lower()
        if text not in allowed:
            bad(key, f"must be {' or '.join(allowed)} ({what})")
        else:
            values[key] = text
    return BookSettings(**values), problems


def read_book_settings(path: Path) -> tuple[dict[str, Any], BookSettings, list[Problem]]:
    """Read ``book.yaml`` in the book folder ``path`` (absent = defaults): the raw mapping, settings, problems."""
    fpath = path / "book.yaml"
    if not fpath.exists():
        return {}, BookSettings(), []
    from kpi_kit.parsing import YamlParseError, parse_yaml

    try:
        meta = parse_yaml(fpath.read_text(encoding="utf-8-sig"), "book.yaml")
    except YamlParseError as exc:
        return {}, BookSettings(), [Problem("book.yaml", exc.line, None, None,
                                            f"is not valid YAML ({exc.problem}); fix the file")]
    except UnicodeDecodeError:
        return {}, BookSettings(), [Problem("book.yaml", None, None, None, "is not UTF-8 text; re-save it as UTF-8")]
    if meta is None:
        return {}, BookSettings(), []
    if not isinstance(meta, dict):
        return {}, BookSettings(), [Problem("book.yaml", None, None, None,
                                            f"expected a mapping of keys to values at the top level, got "
                                            f"{type(meta).__name__}")]
    settings, problems = check_book_settings(meta)
    return meta, settings, problems


@dataclass
class _Reader:
    """Collects problems while parsing the files of one book."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    settings: BookSettings = field(default_factory=BookSettings)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # typed so far (csms before activities)
    #: (file, column) -> (typed frame, row codes, distinct typed values) kept by :meth:`parse`, see :meth:`factorized`
    distinct: dict[tuple[str, str], tuple[pd.DataFrame, np.ndarray, pd.Series]] = field(default_factory=dict)

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
        blank = _blank_rows(raw)
        if blank.any():
            raw = raw.loc[~blank]
        missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
        for name in missing:
            self.add(fname, 1, name, None,
                     f"required column is missing (header has: {', '.join(raw.columns) or 'nothing'})")
        if missing:
            return None
        return raw

    def parse(self, spec: FileSpec, raw: pd.DataFrame) -> pd.DataFrame:
        """Typed copy of ``raw``; each unparsable value is a problem and becomes missing.

        A column is parsed once per *distinct* text and the results are spread back to the rows (a column
        of 5 million dates holds a few hundred distinct texts: far less work, and every row of a typed text
        column points at one shared string). Problems are still reported row by row, with each row's own
        value. Columns whose values must all differ (``unique`` ids) are parsed row by row. Each contract
        column is removed from ``raw`` once parsed (``raw`` is consumed), so a big file's text and its
        typed copy are not held in memory side by side. ``arr_monthly`` gets a helper column
        ``_arr_blank`` (the ``arr`` text was blank, not unreadable) that ``load_book`` drops.
        """
        fname = f"{spec.name}.csv"
        out = raw.copy(deep=False)
        rows = raw.index
        kept: dict[str, tuple[np.ndarray, pd.Series]] = {}
        for col in spec.columns:
            if col.name not in raw.columns:
                continue
            series = raw[col.name]
            codes: np.ndarray | None = None
            if col.unique:
                text = series.str.strip()
            else:
                codes, distinct = pd.factorize(series, use_na_sentinel=False)
                text = pd.Series(distinct, dtype=series.dtype).str.strip()

            def spread(values: pd.Series, codes: np.ndarray | None = codes) -> pd.Series:
                """Values per distinct text -> values per row (index: spreadsheet rows)."""
                if codes is None:
                    return values
                return pd.Series(values.array.take(codes), index=rows, name=values.name)

            blank_text = (text == "").to_numpy()
            blank = pd.Series(blank_text if codes is None else blank_text[codes], index=rows)
            reported = pd.Series(False, index=rows)
            stamped_text: pd.Series | None = None
            if col.kind in ("text", "id", "enum"):
                typed = text.where(~blank_text)
                if col.kind == "enum":
                    typed = typed.str.lower()
            elif col.kind == "number":
                typed = pd.to_numeric(text.where(~blank_text), errors="coerce")
            elif col.kind == "date":
                typed = pd.to_datetime(text.where(~blank_text), format="%Y-%m-%d", errors="coerce")
                unread = typed.isna() & ~blank_text
                if col.timestamps and unread.any():  # fast path: a column of plain dates does no time-zone work
                    stamped_text = unread & text.str.match(_ISO_STAMP_RE)
            elif col.kind == "month":
                typed = pd.to_datetime(text.where(~blank_text), format="%Y-%m", errors="coerce")
            elif col.kind == "timestamp":
                typed = _parse_timestamps(text.where(~blank_text))
            elif col.kind == "bool":
                low = text.str.lower()
                typed = pd.Series(pd.NA, index=text.index, dtype="boolean")
                typed[low.isin(TRUE_WORDS)] = True
                typed[low.isin(FALSE_WORDS)] = False
                bad_bool = spread(~(low.isin(TRUE_WORDS) | low.isin(FALSE_WORDS) | blank_text))
                for row in bad_bool[bad_bool].index:
                    self.add(fname, int(row), col.name, raw.at[row, col.name], f"is not {EXPECTED_TEXT['bool']}")
            else:  # pragma: no cover - the specs only use the kinds above
                raise AssertionError(col.kind)
            if col.kind == "month":
                typed = typed.dt.to_period("M")
            values = spread(typed)
            if stamped_text is not None and stamped_text.any():
                stamped = spread(stamped_text).to_numpy(dtype=bool)
                stamps = text.loc[stamped] if codes is None else \
                    pd.Series(text.array.take(codes[stamped]), index=rows[stamped])
                days, failed = self.stamp_days(fname, col.name, raw, stamps)
                values = values.copy()
                values.loc[days.index] = days.astype(values.dtype)
                reported = failed.reindex(rows, fill_value=False)  # already reported, once
            elif codes is not None:
                kept[col.name] = (codes, typed.reset_index(drop=True))
            if col.kind in ("number", "date", "month", "timestamp"):
                bad = values.isna() & ~blank & ~reported
                for row in bad[bad].index:
                    value = raw.at[row, col.name]
                    hint = EXPECTED_TEXT[col.kind]
                    if col.timestamps:
                        hint += " (or an ISO timestamp such as 2025-03-31T16:30:00-07:00)"
                    msg = f"is not {hint}"
                    if col.kind in ("date", "month") and _looks_like_date(value):
                        msg = f"is not a real date; expected {hint}"
                    self.add(fname, int(row), col.name, value, msg)
            out[col.name] = values
            if spec.name == "arr_monthly" and col.name == "arr":
                out["_arr_blank"] = blank
            if not col.nullable:
                missing = blank
                for row in missing[missing].index:
                    self.add(fname, int(row), col.name, "", f"is blank; expected {EXPECTED_TEXT.get(col.kind, 'a value')}")
            # the text of this column is no longer needed (a timestamp's CSM zone reads ``csm_id``, which
            # comes after ``date`` in the contract, so it is still there when dates are parsed)
            del raw[col.name]
        for name, (codes, typed) in kept.items():
            self.distinct[(spec.name, name)] = (out, codes, typed)
        return out

    def factorized(self, file: str, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, pd.Series]:
        """``frame[column]`` as integer codes and distinct values (``values.take(codes)`` is the column).

        Uses the distinct texts :meth:`parse` already found when ``frame`` is the typed frame it returned
        (ids repeated millions of times are looked up once), else factorizes the column. Missing values
        are a value of their own (code, not -1), as in ``duplicated``. Distinct texts that parsed to the
        same value (``2025-01-05`` and `` 2025-01-05 ``) are merged, so equal codes mean equal values.
        """
        kept = self.distinct.get((file, column))
        if kept is not None and kept[0] is frame:
            _, text_codes, typed = kept
            value_codes, values = pd.factorize(typed, use_na_sentinel=False)
            return value_codes[text_codes], pd.Series(values)
        codes, values = pd.factorize(frame[column], use_na_sentinel=False)
        return codes, pd.Series(values)

    def stamp_days(self, fname: str, column: str, raw: pd.DataFrame, stamps: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Days of ISO timestamps in a ``date`` column (``activities.csv``), per the book's settings.

        Each row's zone is its CSM's ``time_zone`` (``csms.csv``; blank, unknown CSM or unknown zone = UTC —
        an unknown zone is reported on ``csms.csv``). Naive timestamps are read per ``naive_timestamps``,
        the day is taken per ``days`` (see :func:`kpi_kit.tz.activity_days`); daylight-saving shifts and
        repeated wall-clock times become warnings. Returns the days (naive midnights) of the rows that could
        be read, and a mask of rows reported here as unreadable.
        """
        from kpi_kit.parsing import ValueParseError, parse_timestamp
        from kpi_kit.tz import activity_days

        failed = pd.Series(False, index=stamps.index)
        for row, value in stamps.items():
            try:
                parse_timestamp(value, excel_epoch=None)
            except ValueParseError as exc:
                self.add(fname, int(row), column, raw.at[row, column],
                         f"{exc} (a timestamp must be a real date and time, e.g. 2025-03-31T16:30:00-07:00)")
                failed[row] = True
        good = stamps.loc[~failed]
        zones = pd.Series("UTC", index=good.index, dtype="str")
        csms = self.frames.get("csms")
        if csms is not None and "time_zone" in csms.columns and "csm_id" in raw.columns:
            known = csms.dropna(subset=["csm_id"]).drop_duplicates("csm_id").set_index("csm_id")["time_zone"]
            known = known.where(pd.Series([pd.notna(z) and _is_zone(z) for z in known], index=known.index))
            mapped = raw.loc[good.index, "csm_id"].str.strip().map(known)
            zones = mapped.where(mapped.notna(), "UTC").astype("str")
        result = activity_days(good, zones, naive=self.settings.naive_timestamps,
                               basis=self.settings.days, file=fname, column=column)  # type: ignore[arg-type]
        for note in result.notes:
            self.add(fname, int(note.row), column, note.value, note.message, severity="warning")
        return result.table["date"], failed

    def check_schema(self, spec: FileSpec, typed: pd.DataFrame) -> None:
        """Allowed values, ranges and uniqueness, checked with a pandera schema (lazy: all at once).

        A check is first tried on the column's distinct values (a uniqueness check on 64-bit hashes,
        :func:`_has_repeats`); only a check that some value fails goes to pandera, which then finds and
        reports the failing rows exactly as if every check had run on every row. A clean file of millions
        of rows thus costs a few hundred comparisons instead of millions.
        """
        fname = f"{spec.name}.csv"
        columns: dict[str, pa.Column] = {}
        for col in spec.columns:
            if col.name not in typed.columns:
                continue
            present = self.factorized(spec.name, typed, col.name)[1].dropna() if (col.choices or col.min is not None
                                                                                   or col.max is not None) else None
            checks: list[pa.Check] = []
            if col.choices and not present.isin(col.choices).all():
                checks.append(pa.Check.isin(list(col.choices), error=f"is not allowed; expected one of {', '.join(col.choices)}"))
            if col.min is not None and not (present >= col.min).all():
                extra = " (ARR is never negative: put credits in a separate file)" if col.name.endswith("arr") else ""
                checks.append(pa.Check.ge(col.min, error=f"must not be below {col.min:g}{extra}"))
            if col.max is not None and not (present <= col.max).all():
                checks.append(pa.Check.le(col.max, error=f"must not be above {col.max:g}"))
            unique = col.unique and _has_repeats(typed[col.name])
            if checks or unique:
                columns[col.name] = pa.Column(checks=checks, nullable=True, unique=unique, required=False)
        if not columns:
            return
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


#: An ISO 8601 date-time: ``2025-03-31T16:30``, ``2025-03-31 16:30:00``, optional fraction and offset.
_ISO_STAMP_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?$"


def _blank_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty (a blank line in the file); such rows are skipped.

    Only rows blank in the first column are checked further, so a big file costs one comparison.
    """
    blank = np.zeros(len(raw), dtype=bool)
    if not len(raw.columns):
        return blank
    blank = (raw.iloc[:, 0] == "").to_numpy(dtype=bool, copy=True)
    for i in range(1, len(raw.columns)):
        candidates = np.flatnonzero(blank)
        if not len(candidates):
            break
        blank[candidates] = (raw.iloc[candidates, i] == "").to_numpy(dtype=bool)
    return blank


def _is_zone(name: object) -> bool:
    """True when ``name`` is an IANA time zone known to this machine (blank counts as UTC, so True)."""
    from kpi_kit.tz import get_zone

    try:
        get_zone(None if name is None else str(name))
    except KitError:
        return False
    return True


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
    _, settings, setting_problems = read_book_settings(path)
    frames: dict[str, pd.DataFrame] = {}
    reader = _Reader(path, problems=list(setting_problems), settings=settings, frames=frames)
    for spec in SPECS.values():
        raw = reader.read_text(spec)
        if raw is None:
            continue
        typed = reader.parse(spec, raw)
        reader.check_schema(spec, typed)
        frames[spec.name] = typed
    _cross_checks(reader, frames)
    _zone_checks(reader, frames)
    _fx_rate_checks(reader, frames)
    _currency_checks(reader, frames)
    return frames, reader.problems


# -- time zones, exchange rates, currencies ("bring your own book") --------------------------------
def _zone_checks(reader: _Reader, frames: dict[str, pd.DataFrame]) -> None:
    """``csms.time_zone`` must be an IANA zone (blank = UTC)."""
    from kpi_kit.tz import get_zone

    csms = frames.get("csms")
    if csms is None or "time_zone" not in csms.columns:
        return
    for row, zone in csms["time_zone"].dropna().items():
        try:
            get_zone(str(zone))
        except KitError as exc:
            reader.add("csms.csv", int(row), "time_zone", zone,
                       f"{str(exc).split(';', 1)[-1].strip()} — the zone in which this CSM's activity days are counted")


def _fx_rate_checks(reader: _Reader, frames: dict[str, pd.DataFrame]) -> None:
    """``fx_rates.csv``: ISO codes (upper-cased), rates above 0, USD = 1, one rate per currency and day."""
    rates = frames.get("fx_rates")
    if rates is None:
        return
    file = "fx_rates.csv"
    codes = rates["currency"].str.upper()
    invalid = codes.notna() & ~codes.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
    for row in invalid[invalid].index:
        reader.add(file, int(row), "currency", rates.at[row, "currency"],
                   "is not a currency code; expected three letters such as USD, EUR, JPY")
    rate = rates["usd_per_unit"]
    for row in rate.index[(rate <= 0).fillna(False).astype(bool)]:
        reader.add(file, int(row), "usd_per_unit", _Reader._raw_value(rates, int(row), "usd_per_unit"),
                   "must be above 0: how many US dollars one unit of the currency buys on rate_date")
    usd = (codes == "USD").fillna(False).astype(bool) & rate.notna() & (rate != 1.0)
    for row in usd[usd].index:
        reader.add(file, int(row), "usd_per_unit", _Reader._raw_value(rates, int(row), "usd_per_unit"),
                   "one US dollar is always 1 US dollar; fix or remove the row")
    typed = rates.assign(currency=codes)
    dup = typed.duplicated(["currency", "rate_date"], keep="first") & typed["currency"].notna() & typed["rate_date"].notna()
    for row in dup[dup].index:
        reader.add(file, int(row), "rate_date", typed.at[row, "rate_date"].date(),
                   f"is a second rate for {typed.at[row, 'currency']} that day; keep one rate per currency and day")
    frames["fx_rates"] = typed


def _currency_checks(reader: _Reader, frames: dict[str, pd.DataFrame]) -> None:
    """Resolve every account's currency and reject amounts whose currency is unknown or contradictory.

    An account's currency is ``accounts.currency``; without that column, the single currency of its
    rows in ``arr_monthly.csv`` / ``sqls.csv`` when those carry a ``currency`` column (``kpi-kit import``
    writes them there); blank: ``book.yaml`` ``currency``; else USD — unless the book then has several
    currencies, which makes a blank an error (amounts in unknown money cannot be added up). A book with
    several currencies needs ``fx_rates.csv``. The resolved codes are written to the typed ``accounts``
    frame (never to the file) when the book has any currency information.
    """
    accounts = frames.get("accounts")
    if accounts is None:
        return
    declared = reader.settings.currency
    reported: set[tuple[str, int]] = set()  # (file, row) of codes already reported as malformed

    def codes_of(file: str, frame: pd.DataFrame) -> pd.Series:
        text = frame["currency"].astype("str").where(frame["currency"].notna(), "").str.strip().str.upper()
        codes = text.where(text != "")
        invalid = codes.notna() & ~codes.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
        for row in invalid[invalid].index[:200]:
            reader.add(f"{file}.csv", int(row), "currency", frame.at[row, "currency"],
                       "is not a currency code; expected three letters such as USD, EUR, JPY")
        reported.update((file, int(row)) for row in invalid[invalid].index)
        return codes.where(~invalid)

    rows: dict[str, pd.Series] = {f: codes_of(f, frames[f]) for f in ("arr_monthly", "sqls")
                                  if f in frames and "currency" in frames[f].columns}
    has_column = "currency" in accounts.columns
    if has_column:
        own = codes_of("accounts", accounts)
    elif rows:
        pairs = pd.concat([pd.DataFrame({"account_id": frames[f]["account_id"], "code": c, "file": f, "row": c.index})
                           for f, c in rows.items()], ignore_index=True).dropna(subset=["code"])
        first = pairs.drop_duplicates("account_id").set_index("account_id")["code"]
        clash = pairs["code"] != pairs["account_id"].map(first)
        for r in pairs.loc[clash].head(200).itertuples(index=False):
            reader.add(f"{r.file}.csv", int(r.row), "currency", r.code,
                       f"differs from the currency of account {r.account_id}'s other amounts "
                       f"({first[r.account_id]}); an account's ARR and SQLs are in one currency — "
                       "add a currency column to accounts.csv and correct the row")
        own = accounts["account_id"].map(first)
    else:
        own = pd.Series(pd.NA, index=accounts.index, dtype="str")
    present = sorted(set(own.dropna()))
    if declared is not None:
        resolved = own.fillna(declared)
    else:
        several = len(set(present) | {"USD"}) > 1
        if several and has_column:
            for row in [r for r in own.index[own.isna()] if ("accounts", int(r)) not in reported][:200]:
                reader.add("accounts.csv", int(row), "currency", "",
                           f"is blank in a book with several currencies ({', '.join(present)}): its amounts cannot "
                           "be added to the others; fill it in, or declare the book's single currency in book.yaml "
                           "(currency: EUR)")
        elif several:
            known = set(accounts.loc[own.notna(), "account_id"])
            for f, c in rows.items():
                blank = c.isna() & ~frames[f]["account_id"].isin(known)
                for row in [r for r in blank[blank].index if (f, int(r)) not in reported][:200]:
                    reader.add(f"{f}.csv", int(row), "currency", "",
                               f"is blank in a book with several currencies ({', '.join(present)}): this amount "
                               "cannot be added to the others; fill it in, or add a currency column to accounts.csv")
        resolved = own.fillna("USD")
    resolved = resolved.astype("str")
    if has_column:
        by_account = pd.Series(resolved.to_numpy(), index=accounts["account_id"]).loc[lambda x: ~x.index.duplicated()]
        for f, c in rows.items():
            expected = frames[f]["account_id"].map(by_account)
            wrong = c.notna() & expected.notna() & (c != expected)
            for row in wrong[wrong].index[:200]:
                reader.add(f"{f}.csv", int(row), "currency", c[row],
                           f"differs from account {frames[f].at[row, 'account_id']}'s currency in accounts.csv "
                           f"({expected[row]}); an account's ARR and SQLs are in its currency")
    if has_column or rows:
        frames["accounts"] = accounts.assign(currency=resolved)
    used = sorted(set(resolved)) if (has_column or rows) else [declared or "USD"]
    if len(used) > 1 and "fx_rates" not in frames and not (reader.path / "fx_rates.csv").exists():
        reader.add("fx_rates.csv", None, None, None,
                   f"file is missing: accounts are in {', '.join(used)}, so KPIs in US dollars need exchange rates — "
                   "add fx_rates.csv with columns currency, rate_date, usd_per_unit (see data/README.md)")


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
        codes, distinct = reader.factorized(file, frame, column)  # each distinct id looked up once
        bad_distinct = (distinct.notna() & ~distinct.isin(known)).to_numpy(dtype=bool)
        bad = pd.Series(bad_distinct[codes], index=frame.index)
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
        blank = arr["arr"].isna() & arr.get("_arr_blank", pd.Series(False, index=arr.index))
        for row in blank[blank].index[:200]:
            reader.add("arr_monthly.csv", int(row), "arr", "",
                       "is blank: ARR unknown for that month — left out of ARR sums (the account stays in the book "
                       "and is never counted as churn); fill it in if you know it", severity="warning")
        dup = _pair_duplicated(reader, "arr_monthly", arr, "month", "account_id") & arr["month"].notna()
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
    _quality_checks(reader, frames)


# ------------------------------------------------------------------------------------------------
# data-quality checks (see docs/data_quality.md); they list rows, the report groups them by check
# ------------------------------------------------------------------------------------------------
#: At most this many rows per check are listed; the rest are counted in one "N more rows" line.
MAX_LISTED = 200
#: Event files and their id column: ids equal after trimming and upper-casing are one record.
ID_COLUMNS = {"csms": "csm_id", "activities": "activity_id", "sqls": "sql_id", "risk_alerts": "alert_id",
              "escalations": "escalation_id"}
GAP_PREFIX = "gap:"
FUTURE_TEXT = "is after the end of the latest ARR month"
BEFORE_CUSTOMER_TEXT = "is before the account's customer_since"


def _add_listed(reader: _Reader, file: str, column: str, items: list[tuple[int, object, str]], more: str) -> None:
    """Add one warning per ``(row, value, message)`` in row order, the first :data:`MAX_LISTED`, then an "N more rows" line."""
    items = sorted(items, key=lambda item: item[0])
    for row, value, message in items[:MAX_LISTED]:
        reader.add(file, row, column, value, message, severity="warning")
    if len(items) > MAX_LISTED:
        reader.add(file, None, column, None, f"{len(items) - MAX_LISTED} more rows {more}", severity="warning")


def _has_repeats(values: pd.Series) -> bool:
    """True when some value occurs more than once (two missing values count as a repeat, as in ``duplicated``).

    Compared through 64-bit hashes (``pandas.util.hash_array``): values with different hashes differ, so
    only the few rows whose hashes clash are compared exactly.
    """
    missing = values.isna().to_numpy(dtype=bool)
    if missing.sum() > 1:
        return True
    present = values.to_numpy(dtype=object)[~missing]
    if len(present) < 2:
        return False
    clash = pd.Series(pd.util.hash_array(present, categorize=False)).duplicated(keep=False).to_numpy(dtype=bool)
    return bool(clash.any()) and bool(pd.Series(present[clash]).duplicated().any())


def _pair_duplicated(reader: _Reader, file: str, frame: pd.DataFrame, first: str, second: str) -> pd.Series:
    """``frame.duplicated([first, second], keep="first")``, computed on the columns' integer codes.

    Missing values count as equal to each other, as in ``DataFrame.duplicated``.
    """
    first_codes, _ = reader.factorized(file, frame, first)
    second_codes, second_values = reader.factorized(file, frame, second)
    key = first_codes.astype("int64") * max(len(second_values), 1) + second_codes
    return pd.Series(key, index=frame.index).duplicated(keep="first")


#: Ids are trimmed and upper-cased this many at a time when looking for ids that clash once normalized.
_CHUNK = 1_000_000


def _may_match_when_normalized(ids: pd.Series) -> np.ndarray:
    """Rows whose id, trimmed and upper-cased, may equal another row's (including plain repeats).

    A superset found through 64-bit hashes of the normalized ids (``pandas.util.hash_array``, a fixed
    key, so the same file always gives the same rows): two rows with equal normalized ids always have
    equal hashes, so every row of a real clash is in it; a hash collision only adds a row that the exact
    check then clears. The normalized text is built a chunk at a time and dropped, so millions of ids
    never exist twice in memory.
    """
    present = ids.notna().to_numpy(dtype=bool)
    where = np.flatnonzero(present)
    out = np.zeros(len(ids), dtype=bool)
    if len(where) < 2:
        return out
    text = ids.to_numpy(dtype=object)[where]
    hashes = np.empty(len(where), dtype="uint64")
    for lo in range(0, len(where), _CHUNK):
        norm = np.array([str(v).strip().upper() for v in text[lo:lo + _CHUNK]], dtype=object)
        hashes[lo:lo + _CHUNK] = pd.util.hash_array(norm, categorize=False)
    out[where] = pd.Series(hashes).duplicated(keep=False).to_numpy(dtype=bool)
    return out


def _month_text(ordinal: int) -> str:
    return str(pd.Period(ordinal=ordinal, freq="M"))


def _quality_checks(reader: _Reader, frames: dict[str, pd.DataFrame]) -> None:
    """Warnings that do not stop a book from loading but that a manager should see (``kpi-kit validate``).

    * ids equal after trimming spaces and ignoring case (``act_1`` / ``ACT_1 ``) in csms and event files;
    * a (month, account) repeated in ``usage.csv``;
    * activities dated after the end of the latest month in ``arr_monthly.csv`` (the book's horizon —
      not today's date, so the same book always gives the same result);
    * activities dated before their account's ``customer_since``;
    * gaps in an account's ARR history (rows in months m1 and m3 but none in m2: a missing row means
      ARR 0, so the account looks churned and won back).
    """
    for stem, col in ID_COLUMNS.items():
        frame = frames.get(stem)
        if frame is None or col not in frame.columns:
            continue
        candidates = _may_match_when_normalized(frame[col])
        if not candidates.any():
            continue
        frame = frame.loc[candidates]  # every row of a clash is a candidate: the rest cannot change the result
        ids = frame[col]
        norm = ids.str.strip().str.upper()
        shared = norm.notna() & norm.duplicated(keep=False) & ~ids.duplicated(keep=False)
        if not shared.any():
            continue
        same = norm.notna() & norm.isin(set(norm[shared]))
        first_row = pd.Series(frame.index, index=frame.index)[same].groupby(norm[same]).transform("min")
        variant = shared & (first_row.reindex(frame.index) != frame.index)
        items = [(int(row), ids[row],
                  f"is the same {col} as row {int(first_row[row])} ({ids[first_row[row]]!r}) once spaces and "
                  "upper/lower case are ignored: one record written twice? (`kpi-kit import csv` would merge them); "
                  "keep one row") for row in variant[variant].index]
        _add_listed(reader, f"{stem}.csv", col, items, f"share a {col} with another row once spaces and case are ignored")

    usage = frames.get("usage")
    if usage is not None:
        keyed = usage["month"].notna() & usage["account_id"].notna()
        dup = _pair_duplicated(reader, "usage", usage, "month", "account_id") & keyed
        items = [(int(row), usage.at[row, "account_id"],
                  f"has a second usage row for month {usage.at[row, 'month']}; keep one row per month and account")
                 for row in dup[dup].index]
        _add_listed(reader, "usage.csv", "account_id", items, "repeat a month and account")

    arr = frames.get("arr_monthly")
    months = arr["month"].dropna() if arr is not None else pd.Series(dtype="period[M]")
    activities = frames.get("activities")
    if activities is not None and len(months):
        last = months.max()
        horizon = last.end_time.normalize()
        late = activities["date"].notna() & (activities["date"] > horizon)
        items = [(int(row), activities.at[row, "date"].date(),
                  f"{FUTURE_TEXT} ({last}, ends {horizon.date()}): a date in the future or a mistyped year; "
                  "check the date — periods after the latest ARR month have no ARR")
                 for row in late[late].index]
        _add_listed(reader, "activities.csv", "date", items, "are dated after the latest ARR month")

    accounts = frames.get("accounts")
    if activities is not None and accounts is not None and len(activities) and len(accounts):
        since = accounts.dropna(subset=["account_id"]).drop_duplicates("account_id").set_index("account_id")["customer_since"]
        codes, ids = reader.factorized("activities", activities, "account_id")  # each account looked up once
        account_since = pd.Series(since.reindex(pd.Index(ids)).to_numpy()[codes], index=activities.index)
        early = activities["date"].notna() & account_since.notna() & (activities["date"] < account_since)
        items = [(int(row), activities.at[row, "date"].date(),
                  f"{BEFORE_CUSTOMER_TEXT} {account_since[row].date()} (account {activities.at[row, 'account_id']}): "
                  "an activity before the customer existed; check the date or the account's customer_since")
                 for row in early[early].index]
        _add_listed(reader, "activities.csv", "date", items, "are dated before their account's customer_since")

    if arr is not None and len(months):
        rows = arr.loc[arr["month"].notna() & arr["account_id"].notna(), ["account_id", "month"]]
        ordinals = pd.Series(pd.PeriodIndex(rows["month"]).asi8, index=rows.index)
        codes, _ = reader.factorized("arr_monthly", arr, "account_id")  # sort integer codes, not text ids
        account = pd.Series(codes, index=arr.index).loc[rows.index]
        keyed = pd.DataFrame({"account_id": rows["account_id"], "account": account, "n": ordinals})
        keyed = keyed.drop_duplicates(["account", "n"]).sort_values(["account", "n"], kind="stable")
        prev = keyed.groupby("account")["n"].shift()
        gap = prev.notna() & (keyed["n"] - prev > 1)
        items = []
        for row in gap[gap].index:
            before, after = int(prev[row]), int(keyed.at[row, "n"])
            missing = after - before - 1
            what = _month_text(before + 1) if missing == 1 else (
                f"{_month_text(before + 1)} to {_month_text(after - 1)} ({missing} months)")
            items.append((int(row), keyed.at[row, "account_id"],
                          f"{GAP_PREFIX} ARR rows for {_month_text(before)} and {_month_text(after)} but none for {what}; "
                          "a missing row means ARR 0 (churned and won back?). If the account was a customer then, "
                          "add the row(s) — leave arr blank if the amount is unknown"))
        _add_listed(reader, "arr_monthly.csv", "account_id", items, "have a gap in their ARR history")
