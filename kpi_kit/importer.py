"""``kpi-kit import csv``: turn messy CRM exports into a book, driven by a column-mapping YAML file.

The mapping (schema in ``docs/importing.md``) names, for each book file (``accounts``,
``arr_monthly``, ...), a source CSV, which source column (or constant) fills each book column,
and how to read the source: encoding, delimiter, decimal and thousands separators, day/month
order, Excel serial dates, time zone of naive timestamps. Everything not declared is detected
from the file, and detection refuses to guess when the file is ambiguous.

Every value is parsed with :mod:`kpi_kit.parsing`; a value that cannot be read is an error with
file, row and column — never 0, blank or dropped. All problems of all files are collected and
reported together (:class:`ImportFailed`), and then nothing is written. On success the book is
written to a temporary folder next to ``--out`` and renamed into place, so ``--out`` never holds a
half-written book. Source files are only read.

Clean-up that changes data is listed in ``import_log.csv`` in the output book and printed:
merged duplicate rows, credits kept out of ARR, missing ARR, daylight-saving shifts, and what
was detected (encoding, delimiter, decimal mark, date order).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from kpi_kit import fmt
from kpi_kit import parsing as P
from kpi_kit.errors import KitError
from kpi_kit.validate import SPECS, Problem

Kind = Literal["text", "id", "enum", "number", "money", "date", "month", "timestamp", "bool", "currency"]
KINDS: tuple[str, ...] = ("text", "id", "enum", "number", "money", "date", "month", "timestamp", "bool", "currency")
SETTING_KEYS: tuple[str, ...] = (
    "encoding", "delimiter", "decimal", "thousands", "dayfirst", "date_format", "excel_dates", "time_zone", "missing",
)
COLUMN_ONLY_KEYS: tuple[str, ...] = ("column", "value", "type", "values")
FILE_ONLY_KEYS: tuple[str, ...] = ("source", "columns", "distinct")
BOOK_KEYS: tuple[str, ...] = ("name", "currency", "days", "not_recorded")
TOP_KEYS: tuple[str, ...] = ("version", "book", "defaults", "files")
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
#: key columns of each book file: rows with the same key (ids compared trimmed and upper-cased) merge
KEYS: dict[str, tuple[str, ...]] = {
    "csms": ("csm_id",), "accounts": ("account_id",), "arr_monthly": ("account_id", "month"),
    "activities": ("activity_id",), "sqls": ("sql_id",), "risk_alerts": ("alert_id",),
    "escalations": ("escalation_id",), "usage": ("account_id", "month"), "fx_rates": ("currency", "rate_date"),
}
#: columns that must agree for two rows with the same key to merge (otherwise: an error)
MUST_AGREE: dict[str, tuple[str, ...]] = {"accounts": ("csm_id",), "arr_monthly": ("arr", "currency")}
NOT_RECORDABLE = ("activities", "sqls", "risk_alerts", "escalations", "usage")
WRITE_ORDER = ("csms", "accounts", "arr_monthly", "activities", "sqls", "risk_alerts", "escalations", "usage", "fx_rates")


def _contract() -> dict[str, dict[str, tuple[Kind, bool, bool]]]:
    """book file -> column -> (kind, required column, blank allowed), from ``kpi_kit.validate.SPECS``."""
    out: dict[str, dict[str, tuple[Kind, bool, bool]]] = {}
    for name, spec in SPECS.items():
        cols: dict[str, tuple[Kind, bool, bool]] = {}
        for col in spec.columns:
            kind: Kind = col.kind  # type: ignore[assignment]
            if col.kind == "number" and col.name.endswith("arr"):
                kind = "money"
            cols[col.name] = (kind, col.required, col.nullable)
        out[name] = cols
    out["fx_rates"] = {"currency": ("currency", True, False), "rate_date": ("date", True, False),
                       "usd_per_unit": ("number", True, False)}
    for name in ("arr_monthly", "sqls"):
        out[name].setdefault("currency", ("currency", False, True))
    return out


CONTRACT = _contract()
REQUIRED_FILES = tuple(n for n, s in SPECS.items() if s.required)


# ----------------------------------------------------------------------------------------------
# the mapping
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """How to read a source file (or one column). ``None`` for ``dayfirst``/``decimal`` = detect."""

    encoding: str = "auto"
    delimiter: str = "auto"
    decimal: str | None = None
    thousands: str | None = "auto"
    dayfirst: bool | None = None
    date_format: str | None = None
    excel_dates: P.ExcelEpoch | None = "1900"
    time_zone: str = "csm"
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnSpec:
    """One book column: filled from ``source`` (a source column) or ``value`` (a constant)."""

    target: str
    source: str | None
    value: str | None
    kind: Kind
    settings: Settings
    values: tuple[tuple[str, str], ...] = ()
    declared: frozenset[str] = frozenset()  # setting keys given on this column
    auto_blank: bool = False  # a contract column that may be blank and was not mapped: written blank


@dataclass(frozen=True)
class FileMapping:
    """One book file: where its rows come from and how each column is filled."""

    target: str
    source: Path
    source_label: str
    settings: Settings
    columns: tuple[ColumnSpec, ...]
    distinct: bool = False
    declared: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BookSettings:
    """The ``book:`` section (written to ``book.yaml``)."""

    name: str | None = None
    currency: str | None = None
    days: str = "csm_local"
    not_recorded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file; paths are absolute (resolved against the mapping's folder)."""

    path: Path
    book: BookSettings
    files: dict[str, FileMapping]


class _MappingErrors:
    def __init__(self, path: Path):
        self.path = path
        self.errors: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.errors.append(f"{key}: {message}")

    def unknown(self, key: str, got: str, allowed: tuple[str, ...] | list[str]) -> None:
        close = difflib.get_close_matches(got, list(allowed), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.add(f"{key}.{got}" if key else got, f"unknown key{hint}; allowed here: {', '.join(allowed)}")

    def unknown_keys(self, key: str, data: dict[Any, Any], allowed: tuple[str, ...] | list[str]) -> None:
        """Record every key of the YAML table ``data`` (found at ``key``) that is not in ``allowed``, in file order."""
        for got in data:
            if got not in allowed:
                self.unknown(key, str(got), allowed)

    def raise_if_any(self) -> None:
        if self.errors:
            raise KitError(
                f"the mapping file {self.path} has {len(self.errors)} problem(s):\n"
                + "\n".join(f"  - {e}" for e in self.errors)
                + "\nSee docs/importing.md for the mapping format."
            )


def _setting(errors: _MappingErrors, key: str, name: str, raw: Any, base: Settings) -> Settings:
    """``base`` with setting ``name`` set from the YAML value ``raw`` (errors recorded, base kept)."""
    where = f"{key}.{name}"
    if name == "encoding":
        if not isinstance(raw, str) or not raw.strip():
            errors.add(where, "expected an encoding name such as auto, utf-8, utf-8-sig, cp1252 or latin-1")
            return base
        if raw.strip().lower() != "auto":
            try:
                codecs.lookup(raw.strip())
            except LookupError:
                errors.add(where, f"{raw!r} is not an encoding Python knows; try utf-8, utf-8-sig, cp1252, latin-1 or utf-16")
                return base
        return replace(base, encoding=raw.strip().lower())
    if name == "delimiter":
        text = DELIMITER_NAMES.get(str(raw).strip().lower(), str(raw)) if isinstance(raw, str) else None
        if text is None or (text != "auto" and len(text) != 1):
            errors.add(where, "expected auto, a single character such as ',' ';' '|', or comma/semicolon/tab/pipe")
            return base
        return replace(base, delimiter=text)
    if name == "decimal":
        if raw == "auto":
            return replace(base, decimal=None)
        if raw not in (".", ","):
            errors.add(where, f"expected '.' or ',' (quoted) or auto, got {raw!r}")
            return base
        return replace(base, decimal=raw)
    if name == "thousands":
        if raw in (None, False, "none", ""):
            return replace(base, thousands=None)
        if raw not in ("auto", ",", ".", " ", "'"):
            errors.add(where, f"expected auto, ',', '.', ' ', \"'\" or none, got {raw!r}")
            return base
        return replace(base, thousands=raw)
    if name == "dayfirst":
        if raw == "auto" or raw is None:
            return replace(base, dayfirst=None)
        if not isinstance(raw, bool):
            errors.add(where, f"expected true (31/03/2026), false (03/31/2026) or auto, got {raw!r}")
            return base
        return replace(base, dayfirst=raw)
    if name == "date_format":
        if raw is None:
            return replace(base, date_format=None)
        if not isinstance(raw, str) or "%" not in raw:
            errors.add(where, f"expected a strptime format such as '%d.%m.%Y', got {raw!r}")
            return base
        return replace(base, date_format=raw)
    if name == "excel_dates":
        if raw in (None, False, "none"):
            return replace(base, excel_dates=None)
        if str(raw) not in ("1900", "1904"):
            errors.add(where, f"expected 1900 (Windows Excel), 1904 (old Mac Excel) or none, got {raw!r}")
            return base
        return replace(base, excel_dates=str(raw))  # type: ignore[arg-type]
    if name == "time_zone":
        if not isinstance(raw, str) or not raw.strip():
            errors.add(where, "expected csm (the CSM's zone from csms.csv), UTC or an IANA zone such as Europe/Berlin")
            return base
        if raw.strip() != "csm":
            from kpi_kit.tz import get_zone

            try:
                get_zone(raw.strip())
            except KitError as exc:
                errors.add(where, str(exc))
                return base
        return replace(base, time_zone=raw.strip())
    if name == "missing":
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(x, (str, int, float)) for x in items):
            errors.add(where, "expected a list of texts read as blank, e.g. ['-', 'N/A']")
            return base
        return replace(base, missing=tuple(str(x).strip().lower() for x in items))
    raise AssertionError(name)  # pragma: no cover


def _settings_from(errors: _MappingErrors, key: str, data: dict[str, Any], base: Settings,
                   allowed: tuple[str, ...]) -> tuple[Settings, frozenset[str]]:
    declared = set()
    for name in SETTING_KEYS:
        if name in data:
            if name not in allowed:
                errors.add(f"{key}.{name}", "can only be set for a whole file, not for one column")
                continue
            base = _setting(errors, key, name, data[name], base)
            declared.add(name)
    return base, frozenset(declared)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping YAML file; source paths are resolved against the mapping's folder.

    Raises
    ------
    KitError
        The file is missing, is not YAML, or breaks the schema — every problem listed with the key
        path (``files.accounts.columns.arr.type``) and what is allowed.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise KitError(f"mapping file {path} does not exist; see docs/importing.md for an example")
    try:
        data = P.parse_yaml(path.read_text(encoding="utf-8-sig"), path.name, todo="")
    except UnicodeDecodeError:
        raise KitError(f"{path.name}: the mapping file must be UTF-8 text") from None
    errors = _MappingErrors(path)
    if not isinstance(data, dict):
        errors.add("(top level)", "expected keys version, book, defaults, files")
        errors.raise_if_any()
    errors.unknown_keys("", data, TOP_KEYS)
    if data.get("version", 1) != 1:
        errors.add("version", f"this kit reads mapping version 1, got {data.get('version')!r}")

    book_raw = data.get("book") or {}
    book = BookSettings()
    if not isinstance(book_raw, dict):
        errors.add("book", "expected keys name, currency, days, not_recorded")
        book_raw = {}
    errors.unknown_keys("book", book_raw, BOOK_KEYS)
    if "name" in book_raw:
        book = replace(book, name=str(book_raw["name"]))
    if book_raw.get("currency") is not None:
        from kpi_kit.fx import check_currency_code

        try:
            book = replace(book, currency=check_currency_code(book_raw["currency"]))
        except ValueError as exc:
            errors.add("book.currency", str(exc))
    if "days" in book_raw:
        if book_raw["days"] not in ("csm_local", "utc"):
            errors.add("book.days", f"expected csm_local (days in each CSM's time zone) or utc, got {book_raw['days']!r}")
        else:
            book = replace(book, days=book_raw["days"])
    nr = book_raw.get("not_recorded") or []
    if not isinstance(nr, list) or any(x not in NOT_RECORDABLE for x in nr):
        errors.add("book.not_recorded", f"expected a list drawn from {', '.join(NOT_RECORDABLE)}, got {nr!r}")
    else:
        book = replace(book, not_recorded=tuple(nr))

    defaults_raw = data.get("defaults") or {}
    if not isinstance(defaults_raw, dict):
        errors.add("defaults", "expected reading settings such as encoding, delimiter, decimal, dayfirst")
        defaults_raw = {}
    errors.unknown_keys("defaults", defaults_raw, SETTING_KEYS)
    defaults, _ = _settings_from(errors, "defaults", defaults_raw, Settings(), SETTING_KEYS)

    files_raw = data.get("files")
    files: dict[str, FileMapping] = {}
    if not isinstance(files_raw, dict) or not files_raw:
        errors.add("files", f"expected one entry per book file ({', '.join(CONTRACT)}), each with source and columns")
        files_raw = {}
    for target, spec in files_raw.items():
        key = f"files.{target}"
        if target not in CONTRACT:
            errors.unknown("files", str(target), list(CONTRACT))
            continue
        if not isinstance(spec, dict):
            errors.add(key, "expected keys source and columns (and reading settings)")
            continue
        errors.unknown_keys(key, spec, FILE_ONLY_KEYS + SETTING_KEYS)
        source_raw = spec.get("source")
        if not isinstance(source_raw, str) or not source_raw.strip():
            errors.add(f"{key}.source", "expected the path of the source CSV, relative to the mapping file")
            continue
        source = (path.parent / source_raw).resolve()
        if not source.is_file():
            errors.add(f"{key}.source", f"{source_raw!r} does not exist (looked for {source})")
        settings, declared = _settings_from(errors, key, spec, defaults, SETTING_KEYS)
        declared |= frozenset(k for k in defaults_raw if k in SETTING_KEYS)
        distinct = spec.get("distinct", False)
        if not isinstance(distinct, bool):
            errors.add(f"{key}.distinct", "expected true or false")
            distinct = False
        columns = _columns(errors, key, target, spec.get("columns"), settings, declared)
        files[target] = FileMapping(target, source, source_raw, settings, tuple(columns), distinct, declared)
    mapped = set(files)
    missing_files = [f for f in REQUIRED_FILES if f not in mapped and f not in book.not_recorded]
    if files_raw and missing_files:
        errors.add("files", f"no mapping for {', '.join(missing_files)}; every book needs them — map them, or list "
                            "activities / sqls / risk_alerts the source system does not have under book.not_recorded")
    both = sorted(mapped & set(book.not_recorded))
    if both:
        errors.add("book.not_recorded", f"lists {', '.join(both)} but files maps them too; keep one")
    errors.raise_if_any()
    return Mapping(path=path, book=book, files=files)


def _compatible(expected: str, kind: str) -> bool:
    """Whether a ``type:`` override can fill a contract column of kind ``expected``."""
    texts = ("text", "id", "enum")
    return (kind == expected or (expected in texts and kind in texts)
            or {expected, kind} == {"money", "number"}
            or (expected == "date" and kind == "timestamp"))  # the day is taken per book.days


def _columns(errors: _MappingErrors, key: str, target: str, raw: Any, settings: Settings,
             file_declared: frozenset[str]) -> list[ColumnSpec]:
    contract = CONTRACT[target]
    if not isinstance(raw, dict) or not raw:
        errors.add(f"{key}.columns", "expected book columns, each mapped to a source column name or {value: constant}")
        return []
    out: list[ColumnSpec] = []
    for name, spec in raw.items():
        ckey = f"{key}.columns.{name}"
        kind: Kind = contract.get(str(name), ("text", False, True))[0]
        if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
            out.append(ColumnSpec(str(name), str(spec), None, kind, settings))
            continue
        if not isinstance(spec, dict):
            errors.add(ckey, "expected a source column name, or a table with column: or value:")
            continue
        errors.unknown_keys(ckey, spec, COLUMN_ONLY_KEYS + SETTING_KEYS)
        has_col, has_val = "column" in spec, "value" in spec
        if has_col == has_val:
            errors.add(ckey, "give exactly one of column: (a source column) or value: (a constant)")
            continue
        if "type" in spec:
            if spec["type"] not in KINDS:
                errors.add(f"{ckey}.type", f"{spec['type']!r} is not a type; expected one of {', '.join(KINDS)}")
                continue
            kind = spec["type"]
            expected = contract.get(str(name), (kind, False, True))[0]
            if str(name) in contract and not _compatible(expected, kind):
                errors.add(f"{ckey}.type", f"{name} is a {expected} column in the book contract; type {kind} cannot fill it")
                continue
        values: tuple[tuple[str, str], ...] = ()
        if "values" in spec:
            vmap = spec["values"]
            if not isinstance(vmap, dict) or not all(isinstance(v, (str, int, float, bool)) for v in vmap.values()):
                errors.add(f"{ckey}.values", "expected a table of source value: book value")
            else:
                values = tuple((str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in vmap.items())
        col_settings, declared = _settings_from(
            errors, ckey, spec, settings,
            tuple(k for k in SETTING_KEYS if k not in ("encoding", "delimiter")),
        )
        source = spec.get("column")
        if has_col and (not isinstance(source, (str, int)) or str(source) == ""):
            errors.add(f"{ckey}.column", "expected the name of a column in the source file")
            continue
        value = spec.get("value")
        constant = None
        if has_val:
            constant = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        out.append(ColumnSpec(str(name), None if source is None else str(source), constant,
                              kind, col_settings, values, declared | file_declared))
    names = {c.target for c in out}
    for name, (kind, req, nullable) in contract.items():
        if req and nullable and name not in names and len(out) == len(raw):
            out.append(ColumnSpec(name, None, "", kind, settings, auto_blank=True))  # e.g. renewal_date unknown
    names = {c.target for c in out}
    required = [c for c, (_, req, _) in contract.items() if req and c not in names]
    if required and len(out) == len(raw):
        mapped = ", ".join(sorted(names))
        hints = [f"{r} (did you mean to map {difflib.get_close_matches(r, list(names), n=1)[0]!r} as {r}?)"
                 if difflib.get_close_matches(r, list(names), n=1) else r for r in required]
        errors.add(f"{key}.columns", f"missing required book column(s): {', '.join(hints)}; map each to a source "
                                     f"column or a constant {{value: ...}} (mapped: {mapped})")
    return out


# ----------------------------------------------------------------------------------------------
# reading a source CSV
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """A source CSV read as text: ``frame`` (all ``str``, index = spreadsheet row numbers)."""

    label: str
    frame: pd.DataFrame
    encoding: str
    delimiter: str
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Bytes -> text and the encoding used. ``auto``: a BOM decides (UTF-8, UTF-16), else UTF-8 if
    the bytes are valid UTF-8, else Windows-1252 (Excel's "CSV" on Western Windows).

    Raises
    ------
    UnicodeDecodeError
        The bytes are not valid in the declared encoding (or in Windows-1252 for ``auto``).
    """
    if encoding == "auto":
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "utf-16"
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("cp1252"), "cp1252"
    text = data.decode(encoding)
    return (text[1:] if text.startswith("\ufeff") else text), encoding


def sniff_delimiter(text: str) -> str:
    """The field separator of CSV text among ``,`` ``;`` tab ``|``.

    ``csv.Sniffer`` proposes one; it is accepted only if the first lines then have the same number
    of fields (more than one). Otherwise the candidate giving a constant field count > 1 with the
    most fields wins; a one-column file is read with ``,``.
    """
    sample = "\n".join(text.splitlines()[:50])

    def counts(delim: str) -> list[int]:
        rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if any(c.strip() for c in r)]
        return [len(r) for r in rows]

    try:
        guess = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        c = counts(guess)
        if c and c[0] > 1 and len(set(c)) == 1:
            return guess
    except csv.Error:
        pass
    best, best_fields = ",", 1
    for delim in (",", ";", "\t", "|"):
        c = counts(delim)
        if c and len(set(c)) == 1 and c[0] > best_fields:
            best, best_fields = delim, c[0]
    return best


def read_source(path: Path, *, label: str | None = None, encoding: str = "auto", delimiter: str = "auto") -> Source:
    """Read a CSV as text cells. Never modifies the file.

    Header names are stripped of spaces and of the byte-order mark; fully blank lines are skipped
    (they still count in row numbers); a row with a different number of cells than the header is
    a problem. Row numbers: header = 1, first data row = 2 (a quoted cell spanning lines is one row).
    """
    label = label or path.name
    problems: list[Problem] = []
    notes: list[Problem] = []
    data = path.read_bytes()
    try:
        text, used = decode(data, encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(label, None, None, None,
                                f"is not valid {exc.encoding} text (byte {exc.start}, around line {line}); declare the "
                                "right encoding (utf-8, cp1252, latin-1, utf-16) for this file in the mapping"))
        return Source(label, pd.DataFrame(), encoding, delimiter, tuple(problems))
    if encoding == "auto":
        notes.append(Problem(label, None, None, None, f"read as {used} (detected)", "warning"))
    delim = sniff_delimiter(text) if delimiter == "auto" else delimiter
    if delimiter == "auto":
        shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, delim)
        notes.append(Problem(label, None, None, None, f"columns separated by {shown} (detected)", "warning"))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error as exc:
        problems.append(Problem(label, None, None, None, f"cannot be read as CSV ({exc}); check quotes and the delimiter"))
        return Source(label, pd.DataFrame(), used, delim, tuple(problems))
    if not records:
        problems.append(Problem(label, None, None, None, "is empty: it needs a header row"))
        return Source(label, pd.DataFrame(), used, delim, tuple(problems))
    header = [h.replace("\ufeff", "").strip() for h in records[0]]
    seen: set[str] = set()
    for h in header:
        if h in seen and h:
            problems.append(Problem(label, 1, h, h, "the header names this column twice; rename one of them"))
        seen.add(h)
    rows: list[list[str]] = []
    index: list[int] = []
    for number, rec in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in rec):
            continue
        if len(rec) != len(header):
            problems.append(Problem(label, number, None, delim.join(rec)[:80],
                                    f"has {len(rec)} cells but the header has {len(header)}; check the delimiter "
                                    "and quotes around values that contain it"))
            continue
        rows.append(rec)
        index.append(number)
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(index, dtype="int64"), dtype="str") if rows else \
        pd.DataFrame({h: pd.Series(dtype="str") for h in header}, index=pd.Index([], dtype="int64"))
    return Source(label, frame, used, delim, tuple(problems), tuple(notes))


# ----------------------------------------------------------------------------------------------
# building the book
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuiltBook:
    """The converted book files (text frames) and the log of warnings, before writing."""

    frames: dict[str, pd.DataFrame]
    log: tuple[Problem, ...]
    book: BookSettings


class ImportFailed(KitError):
    """The import found problems; ``problems`` lists all of them and nothing was written."""

    def __init__(self, problems: list[Problem], out: Path | None = None):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        shown = "\n".join(f"  - {p}" for p in errors[:200])
        more = f"\n  ... and {len(errors) - 200} more" if len(errors) > 200 else ""
        target = f"; nothing was written to {out}" if out else "; nothing was written"
        super().__init__(
            f"the import found {len(errors)} problem(s){target}:\n{shown}{more}\n"
            "Fix the source files or the mapping (see docs/importing.md) and run the import again. "
            "Source files were not changed."
        )


def _fmt_number(x: float) -> str:
    return format(x, ".15g")


def _where(fm: FileMapping, col: ColumnSpec) -> str:
    return f"(for {fm.target}.{col.target})"


class _FileBuilder:
    """Parses the mapped columns of one source file into book text columns."""

    def __init__(self, fm: FileMapping, source: Source, book: BookSettings, zones: Callable[[pd.DataFrame], pd.Series]):
        self.fm = fm
        self.src = source
        self.book = book
        self.zones = zones
        self.problems: list[Problem] = []
        self.log: list[Problem] = []
        self.credit_rows: set[int] = set()
        self.raw_ids: pd.Series | None = None

    def err(self, row: int | None, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(self.src.label, row, column, None if value is None else str(value), message))

    def warn(self, row: int | None, column: str | None, value: object, message: str) -> None:
        self.log.append(Problem(self.src.label, row, column, None if value is None else str(value), message, "warning"))

    def cells(self, col: ColumnSpec) -> pd.Series:
        frame = self.src.frame
        if col.source is not None:
            raw = frame[col.source]
        else:
            raw = pd.Series(col.value or "", index=frame.index, dtype="str")
        text = raw.str.strip()
        if col.settings.missing:
            text = text.where(~text.str.lower().isin(col.settings.missing), "")
        if col.values:
            exact = dict(col.values)
            folded = {k.strip().lower(): v for k, v in col.values}
            text = pd.Series([exact.get(v, folded.get(v.lower(), v)) for v in text], index=text.index, dtype="str")
        return text

    # -- locale detection --------------------------------------------------------------------------
    def detect(self) -> tuple[dict[str, str], dict[str, bool | None]]:
        """Decimal mark and day order for each column left on auto, detected over the whole file."""
        decimals: dict[str, str] = {}
        dayfirst: dict[str, bool | None] = {}
        numeric = [c for c in self.fm.columns if c.kind in ("number", "money") and c.source is not None]
        auto_dec = [c for c in numeric if c.settings.decimal is None]
        if auto_dec:
            values = [v for c in auto_dec for v in self.cells(c)]
            try:
                found = P.detect_decimal(values)
            except P.ValueParseError as exc:
                self.err(None, ", ".join(c.source or "" for c in auto_dec), None, str(exc))
                found = P.Detected(".")
            chosen = found.value if isinstance(found.value, str) else "."
            if found.value is None:
                amb = P.ambiguous_thousands(values)
                if amb:
                    self.err(None, ", ".join(c.source or "" for c in auto_dec), amb[0],
                             f"is ambiguous ({len(amb)} value(s) like it): 1.200 is 1.2 with a decimal point and 1200 "
                             "with a decimal comma; declare decimal: '.' or ',' for this file in the mapping")
            else:
                self.warn(None, ", ".join(c.source or "" for c in auto_dec), None,
                          f"decimal mark {chosen!r} detected from values such as {', '.join(found.evidence)}")
            decimals = {c.target: chosen for c in auto_dec}
        dated = [c for c in self.fm.columns if c.kind in ("date", "month", "timestamp") and c.source is not None]
        auto_day = [c for c in dated if c.settings.dayfirst is None and c.settings.date_format is None]
        if auto_day:
            try:
                found_day = P.detect_dayfirst([v for c in auto_day for v in self.cells(c)])
            except P.ValueParseError as exc:
                self.err(None, ", ".join(c.source or "" for c in auto_day), None, str(exc))
                found_day = P.Detected(None)
            if found_day.value is not None:
                order = "day first (31/03/2026)" if found_day.value else "month first (03/31/2026)"
                self.warn(None, ", ".join(c.source or "" for c in auto_day), None,
                          f"dates read {order}, detected from values such as {', '.join(found_day.evidence)}")
            dayfirst = {c.target: found_day.value for c in auto_day}  # type: ignore[misc]
        return decimals, dayfirst

    # -- parsing -----------------------------------------------------------------------------------
    def build(self) -> pd.DataFrame:
        """The mapped columns as text in the book format (index = source spreadsheet rows)."""
        fm, src = self.fm, self.src
        for col in fm.columns:
            if col.source is not None and col.source not in src.frame.columns:
                folded = [h for h in src.frame.columns if h.casefold().replace(" ", "") == col.source.casefold().replace(" ", "")]
                close = folded or difflib.get_close_matches(col.source, list(src.frame.columns), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.err(1, col.source, None, f"no such column in the header {_where(fm, col)}{hint}; "
                                              f"the header has: {', '.join(src.frame.columns)}")
        if self.problems:
            return pd.DataFrame(index=src.frame.index)
        for col in fm.columns:
            if col.auto_blank:
                self.warn(None, None, None, f"{fm.target}.{col.target} is not mapped: written blank")
        decimals, dayfirsts = self.detect()
        out: dict[str, pd.Series] = {}
        key_col = next((c for c in fm.columns if c.target == KEYS[fm.target][0]), None)
        if key_col is not None and key_col.source is not None:  # the id as written, spaces and all
            self.raw_ids = src.frame[key_col.source]
        currency_col = next((c for c in fm.columns if c.target == "currency"), None)
        row_currency = self.cells(currency_col).str.upper() if currency_col is not None else None
        for col in fm.columns:
            decimal = decimals.get(col.target, col.settings.decimal or ".")
            dayfirst = dayfirsts.get(col.target, col.settings.dayfirst)
            out[col.target] = self.parse_column(col, decimal, dayfirst, row_currency)
        return pd.DataFrame(out, index=src.frame.index)

    def parse_column(self, col: ColumnSpec, decimal: str, dayfirst: bool | None,
                     row_currency: pd.Series | None) -> pd.Series:
        fm = self.fm
        contract = CONTRACT[fm.target].get(col.target)
        nullable = contract[2] if contract else True
        shown = col.source if col.source is not None else f"{col.target} (constant)"
        texts = self.cells(col)
        s = col.settings
        is_arr = fm.target == "arr_monthly" and col.target == "arr"
        day_from_timestamp = col.kind == "timestamp" and contract is not None and contract[0] == "date"
        blank = (texts == "").to_numpy()
        for row in texts.index[blank]:
            if is_arr:
                self.warn(int(row), shown, "", "ARR is missing: written blank, left out of ARR sums; the account "
                                               "stays in the book and is not counted as churn")
            elif not nullable:
                self.err(int(row), shown, "", f"is blank but {fm.target}.{col.target} needs a value")
        if fm.target == "csms" and col.target == "time_zone":
            from kpi_kit.tz import get_zone

            for row, value in zip(texts.index, texts):
                if value:
                    try:
                        get_zone(value)
                    except KitError as exc:
                        self.err(int(row), shown, value, f"{exc} {_where(fm, col)}")
        if col.kind in ("text", "id"):
            return texts
        if col.kind == "enum":
            low = texts.str.lower()
            choices = next((c.choices for c in SPECS[fm.target].columns if c.name == col.target), ())
            if choices:
                bad = ~low.isin(choices) & ~pd.Series(blank, index=texts.index)
                for row in texts.index[bad.to_numpy()]:
                    self.err(int(row), shown, texts[row],
                             f"is not one of {', '.join(choices)}; translate export values with values: in "
                             f"files.{fm.target}.columns.{col.target} {_where(fm, col)}")
            return low

        stamps: dict[int, datetime] = {}

        def convert(row: int, value: str) -> str:
            if col.kind == "currency":
                from kpi_kit.fx import check_currency_code

                try:
                    return check_currency_code(value)
                except ValueError:
                    raise P.ValueParseError("is not a currency code; expected three letters such as USD, EUR, JPY") from None
            if col.kind == "number":
                n = P.parse_number(value, decimal=decimal, thousands=s.thousands, percent=col.target.endswith("pct"))
                assert n is not None
                return _fmt_number(n)
            if col.kind == "money":
                m = P.parse_money(value, decimal=decimal, thousands=s.thousands)
                assert m is not None
                self.check_currency(row, shown, value, m, row_currency)
                if m.amount < 0:
                    if not is_arr:
                        raise P.ValueParseError(f"is negative; {fm.target}.{col.target} cannot be below 0")
                    self.credit_rows.add(row)
                    self.warn(row, shown, value, f"is a credit ({_fmt_number(m.amount)}): kept out of ARR and "
                                                 "listed here; no account has negative ARR")
                return _fmt_number(m.amount)
            if col.kind == "date":
                d = P.parse_date(value, dayfirst=dayfirst, date_format=s.date_format, excel_epoch=s.excel_dates)
                assert d is not None
                return d.isoformat()
            if col.kind == "month":
                mo = P.parse_month(value, dayfirst=dayfirst, date_format=s.date_format, excel_epoch=s.excel_dates)
                assert mo is not None
                return mo
            if col.kind == "timestamp":
                ts = P.parse_timestamp(value, dayfirst=dayfirst, date_format=s.date_format, excel_epoch=s.excel_dates)
                assert ts is not None
                stamps[row] = ts
                return value  # replaced below once time zones are known
            if col.kind == "bool":
                return "true" if P.parse_bool(value) else "false"
            raise AssertionError(col.kind)  # pragma: no cover

        cache: dict[str, str] = {}
        cacheable = col.kind in ("currency", "number", "date", "month", "bool")
        out: list[str] = []
        for row, value, empty in zip(texts.index, texts, blank):
            if empty:
                out.append("")
                continue
            if cacheable and value in cache:
                out.append(cache[value])
                continue
            try:
                result = convert(int(row), value)
            except P.ValueParseError as exc:
                self.err(int(row), shown, value, f"{exc} {_where(fm, col)}")
                result = ""
            else:
                if cacheable:
                    cache[value] = result
            out.append(result)
        series = pd.Series(out, index=texts.index, dtype="str")
        if stamps:
            series = self.resolve_timestamps(col, series, stamps, day_from_timestamp)
        return series

    def check_currency(self, row: int, shown: str, value: str, m: P.Money, row_currency: pd.Series | None) -> None:
        if m.currency is None:
            return
        expected = None
        if row_currency is not None and row_currency.get(row, ""):
            expected = str(row_currency[row])
        elif row_currency is None:
            expected = self.book.currency or "USD"
        if expected is None or expected == m.currency:
            return
        if m.currency == "USD" and value.lstrip("-−( ").startswith("$") and expected in ("CAD", "AUD", "NZD", "SGD", "HKD"):
            return  # a bare $ in a row declared as another dollar
        where = "the row's currency column says" if row_currency is not None else "the book's currency is"
        raise P.ValueParseError(
            f"is in {m.currency} but {where} {expected}; amounts in another currency need a currency column "
            "(and fx_rates.csv) — they are never added up as if they were the same money"
        )

    def resolve_timestamps(self, col: ColumnSpec, series: pd.Series, stamps: dict[int, datetime],
                           to_day: bool) -> pd.Series:
        """Naive times localised (DST rules, warnings), then written as UTC instants or as days."""
        from kpi_kit.tz import localize

        rows = pd.Index(sorted(stamps), dtype="int64")
        need_zones = col.settings.time_zone == "csm" or (to_day and self.book.days == "csm_local")
        zones = self.zones(self.src.frame.loc[rows]) if need_zones else pd.Series("UTC", index=rows, dtype="str")
        naive_zones = zones if col.settings.time_zone == "csm" else pd.Series(col.settings.time_zone, index=rows, dtype="str")
        utc = pd.Series(pd.NaT, index=rows, dtype="datetime64[ns, UTC]")
        aware_rows = [r for r in rows if stamps[int(r)].tzinfo is not None]
        if aware_rows:
            utc.loc[aware_rows] = pd.Series([pd.Timestamp(stamps[int(r)]).tz_convert("UTC") for r in aware_rows],
                                            index=aware_rows, dtype="datetime64[ns, UTC]")
        naive_rows = rows.difference(pd.Index(aware_rows, dtype="int64"))
        for zone in sorted(set(naive_zones.loc[naive_rows])):
            these = naive_rows[(naive_zones.loc[naive_rows] == zone).to_numpy()]
            wall = pd.Series([stamps[int(r)] for r in these], index=these, dtype="datetime64[ns]")
            fast = wall.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
            for row in these[fast.isna().to_numpy()]:  # daylight-saving gaps and repeats: the documented rules
                aware, note = localize(stamps[int(row)], zone)
                if note:
                    self.warn(int(row), col.source, series[row], note)
                fast.loc[row] = aware
            utc.loc[these] = fast.dt.tz_convert("UTC")
        if to_day:
            day_zones = zones if self.book.days == "csm_local" else pd.Series("UTC", index=rows, dtype="str")
            text = pd.Series("", index=rows, dtype="str")
            for zone in sorted(set(day_zones)):
                mask = (day_zones == zone).to_numpy()
                text.loc[rows[mask]] = utc.loc[rows[mask]].dt.tz_convert(zone).dt.strftime("%Y-%m-%d")
        else:
            text = utc.map(lambda t: t.isoformat()).astype("str")
        out = series.copy()
        out.loc[rows] = text
        return out


def _zone_lookup(frames: dict[str, pd.DataFrame], id_columns: dict[str, str]) -> Callable[[pd.DataFrame], pd.Series]:
    """Per-row time zone of a source file: its CSM's ``time_zone`` (via csm_id or account_id), else UTC."""
    csm_zone: dict[str, str] = {}
    csms = frames.get("csms")
    if csms is not None and "time_zone" in csms.columns:
        csm_zone = {P.normalise_id(i) or "": (z or "UTC") for i, z in zip(csms["csm_id"], csms["time_zone"])}
    account_csm: dict[str, str] = {}
    accounts = frames.get("accounts")
    if accounts is not None:
        account_csm = {P.normalise_id(a) or "": P.normalise_id(c) or ""
                       for a, c in zip(accounts["account_id"], accounts["csm_id"])}

    def column(src_rows: pd.DataFrame, spec: str) -> pd.Series:
        kind, _, value = spec.partition(":")
        raw = pd.Series(value, index=src_rows.index, dtype="str") if kind == "const" else src_rows[value]
        return P.normalise_ids(raw).fillna("")

    def zones(src_rows: pd.DataFrame) -> pd.Series:
        csm = pd.Series("", index=src_rows.index, dtype="str")
        if "csm_id" in id_columns:
            csm = column(src_rows, id_columns["csm_id"])
        if "account_id" in id_columns:
            via_account = column(src_rows, id_columns["account_id"]).map(lambda a: account_csm.get(a, ""))
            csm = csm.where(csm != "", via_account)
        return csm.map(lambda c: csm_zone.get(c, "UTC")).astype("str")

    return zones


def build_book(mapping: Mapping) -> BuiltBook:
    """Read every source of ``mapping`` and convert it to book files (no writing).

    Raises
    ------
    ImportFailed
        With every problem of every file (unreadable values, blanks where the contract needs a
        value, duplicate rows that disagree, ambiguous locales).
    """
    problems: list[Problem] = []
    log: list[Problem] = []
    sources: dict[tuple[Path, str, str], Source] = {}
    frames: dict[str, pd.DataFrame] = {}
    for target in [t for t in WRITE_ORDER if t in mapping.files]:
        fm = mapping.files[target]
        key = (fm.source, fm.settings.encoding, fm.settings.delimiter)
        if key not in sources:
            sources[key] = read_source(fm.source, label=fm.source_label, encoding=fm.settings.encoding,
                                       delimiter=fm.settings.delimiter)
            problems.extend(sources[key].problems)
            log.extend(sources[key].notes)
        src = sources[key]
        if src.problems:
            continue
        id_columns = {c.target: (f"col:{c.source}" if c.source is not None else f"const:{c.value}")
                      for c in fm.columns if c.target in ("csm_id", "account_id")}
        builder = _FileBuilder(fm, src, mapping.book, _zone_lookup(frames, id_columns))
        frame = builder.build()
        problems.extend(builder.problems)
        log.extend(builder.log)
        if builder.problems:
            continue
        frame = frame.drop(index=sorted(builder.credit_rows))
        raw_ids = None if builder.raw_ids is None else builder.raw_ids.loc[frame.index]
        frame, dedupe_problems, dedupe_log = _dedupe(fm, src.label, frame, raw_ids)
        problems.extend(dedupe_problems)
        log.extend(dedupe_log)
        frames[target] = frame
    if problems:
        raise ImportFailed(problems)
    log.extend(_canonical_references(frames))
    return BuiltBook(frames=frames, log=tuple(log), book=mapping.book)


def _dedupe(fm: FileMapping, label: str, frame: pd.DataFrame,
            raw_ids: pd.Series | None = None) -> tuple[pd.DataFrame, list[Problem], list[Problem]]:
    """Merge rows with the same key (ids trimmed and upper-cased); list merges; conflicts are errors."""
    keys = [k for k in KEYS[fm.target] if k in frame.columns]
    if not keys or frame.empty:
        return frame, [], []
    source_of = {c.target: (c.source or f"{c.target} (constant)") for c in fm.columns}
    id_col, also = keys[0], keys[1:]
    if fm.target in MUST_AGREE:
        agree = [c for c in MUST_AGREE[fm.target] if c in frame.columns]
    elif fm.target in ("csms", "accounts"):
        agree = []
    else:  # events and rates: a repeated id must be the same row
        agree = [c for c in frame.columns if c not in keys]
    compare = frame.copy()
    for col in compare.columns:  # owners etc. compared like ids: trimmed, upper-cased
        if col.endswith("_id") and col != id_col:
            compare[col] = P.normalise_ids(compare[col]).fillna("")
    if raw_ids is not None:
        compare[id_col] = raw_ids
    dups = P.find_duplicates(compare, id_col, file=label, also_key=also, must_agree=agree)
    problems = [Problem(label, p.row, source_of.get(p.column or "", p.column), p.value, p.message) for p in dups.problems]
    log: list[Problem] = []
    for rec in dups.table.itertuples(index=False):
        if fm.distinct and rec.kind == "exact" and not rec.differing:
            continue
        differing = ""
        if rec.differing:
            names = ", ".join(source_of.get(d.strip(), d.strip()) for d in rec.differing.split(","))
            differing = f"; differing {names} kept from row {rec.kept_row}"
        log.append(Problem(label, int(rec.merged_row), source_of[id_col], str(rec.merged_id),
                           f"{fm.target}.csv: merged into row {rec.kept_row} ({rec.kind} duplicate of "
                           f"{rec.kept_id!r}){differing}",
                           "warning"))
    kept = frame.loc[dups.kept.index]
    if problems:
        kept = kept.drop(index=[p.row for p in dups.problems if p.row in kept.index])
    return kept, problems, log


def _canonical_references(frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Write ids in other files exactly as ``accounts.csv`` / ``csms.csv`` write them (trim, case)."""
    log: list[Problem] = []
    for ref, owner in (("account_id", "accounts"), ("csm_id", "csms")):
        if owner not in frames:
            continue
        owner_ids = frames[owner][ref]
        canon = dict(zip(P.normalise_ids(owner_ids), owner_ids))
        for name, frame in list(frames.items()):
            if name == owner or ref not in frame.columns:
                continue
            new = P.normalise_ids(frame[ref]).map(canon)
            new = new.where(new.notna(), frame[ref]).astype("str")
            changed = new != frame[ref]
            if changed.any():
                first = changed.to_numpy().nonzero()[0][0]
                frames[name] = frame.assign(**{ref: new})
                log.append(Problem(f"{name}.csv", None, ref, None,
                                   f"{int(changed.sum())} id(s) written as in {owner}.csv (e.g. "
                                   f"{frame[ref].iloc[first]!r} -> {new.iloc[first]!r})", "warning"))
    return log


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the book folder, rows per file and the warnings log."""

    out: Path
    rows: dict[str, int]
    log: tuple[Problem, ...] = field(default=())

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"file": [f"{k}.csv" for k in self.rows], "rows": list(self.rows.values())})

    def _repr_html_(self) -> str:
        return f"<b>Imported into {fmt.text(self.out)}</b>" + self.table.to_html(index=False)


def _header_only(target: str) -> pd.DataFrame:
    cols = [c for c, (_, req, _) in CONTRACT[target].items() if req]
    return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})


def write_book(built: BuiltBook, out: Path, *, force: bool = False, mapping_path: Path | None = None) -> ImportResult:
    """Write ``built`` as a book folder at ``out`` atomically (temp folder + rename).

    ``out`` must not exist or be empty, unless ``force`` (then it is replaced).
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise KitError(f"{out} already exists and is not empty; choose a new --out folder or pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.importing-", dir=out.parent))
    from kpi_kit.fmt import umask_mode

    umask_mode(tmp)  # the finished book is an ordinary folder, not a private temp folder
    rows: dict[str, int] = {}
    try:
        frames = dict(built.frames)
        for target in built.book.not_recorded:
            if target in REQUIRED_FILES:
                frames[target] = _header_only(target)
        for target in WRITE_ORDER:
            if target not in frames:
                continue
            frame = frames[target]
            frame.to_csv(tmp / f"{target}.csv", index=False, encoding="utf-8", lineterminator="\n")
            rows[target] = len(frame)
        meta: dict[str, Any] = {}
        if built.book.name:
            meta["name"] = built.book.name
        if built.book.currency:
            meta["currency"] = built.book.currency
        meta["days"] = built.book.days
        if built.book.not_recorded:
            meta["not_recorded"] = list(built.book.not_recorded)
        meta["imported_by"] = "kpi-kit import csv" + (f" --mapping {mapping_path.name}" if mapping_path else "")
        (tmp / "book.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
        log = pd.DataFrame([{"severity": p.severity, "file": p.file, "row": "" if p.row is None else p.row,
                             "column": p.column or "", "value": "" if p.value is None else p.value,
                             "message": p.message} for p in built.log],
                           columns=["severity", "file", "row", "column", "value", "message"])
        from kpi_kit.fmt import write_safe_csv  # the log is read by people, in spreadsheets: formulas neutralised

        write_safe_csv(log, tmp / "import_log.csv")
        if out.exists():
            old = out.parent / f".{out.name}.replaced-{os.getpid()}"
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ImportResult(out=out, rows=rows, log=built.log)


def import_csv(mapping_path: str | Path, out: str | Path, *, force: bool = False) -> ImportResult:
    """Import the sources named in a mapping file into a book folder at ``out``.

    Parameters
    ----------
    mapping_path
        The mapping YAML (see ``docs/importing.md``); source paths in it are relative to it.
    out
        The book folder to create (must not exist or be empty unless ``force``).
    force
        Replace a non-empty ``out``.

    Returns
    -------
    ImportResult
        Rows written per file and the warnings (also in ``out/import_log.csv``).

    Raises
    ------
    KitError
        A wrong mapping file (naming the key).
    ImportFailed
        Values that cannot be read etc., all listed; nothing is written.
    """
    mapping = load_mapping(mapping_path)
    out_path = Path(out).expanduser().resolve()
    if out_path.exists() and (not out_path.is_dir() or any(out_path.iterdir())) and not force:
        raise KitError(f"{out_path} already exists and is not empty; choose a new --out folder or pass --force to replace it")
    sources = {fm.source for fm in mapping.files.values()}
    if any(out_path == s or out_path in s.parents for s in sources):
        raise KitError(f"--out {out_path} contains source files of the mapping; write the book to another folder")
    try:
        built = build_book(mapping)
    except ImportFailed as exc:
        raise ImportFailed(exc.problems, out_path) from None
    return write_book(built, out_path, force=force, mapping_path=mapping.path)
