"""Import the public RavenStack SaaS dataset as a kpi_kit book.

RavenStack is a fully synthetic B2B SaaS dataset published by "River @ Rivalytics" ("SaaS Subscription &
Churn Analytics Dataset", MIT-like licence). It has five CSV tables (accounts, subscriptions, churn events,
feature usage, support tickets) but no CSM ownership and no CSM activities. This module turns it into a
book in the contract of ``data/README.md``; every mapping rule is written down in ``docs/ravenstack.md``
and in the docstrings below, and nothing the dataset does not contain is invented:

* ``activities``, ``sqls`` and ``risk_alerts`` are written with headers only and listed as
  ``not_recorded`` in ``book.yaml``, so their KPIs are reported as "no data", never 0;
* CSM ownership comes from a user-supplied assignments file or from a documented deterministic rule
  (:func:`default_csm_for`), and the CSMs it creates are named as placeholders ("Enterprise CSM 1");
* ``usage.seats_used`` is left blank (the dataset has no seat usage).

The computations (:func:`effective_subscriptions`, :func:`monthly_arr`, :func:`convert`, ...) are pure;
:func:`read_ravenstack` and :func:`import_ravenstack` do the file I/O.

Examples
--------
>>> from pathlib import Path
>>> from kpi_kit.ravenstack import import_ravenstack
>>> book_dir = import_ravenstack(Path("../shared/datasets/ravenstack"), Path("data/ravenstack"))  # doctest: +SKIP
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from kpi_kit.errors import KitError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CREDIT",
    "DEFAULT_CSMS",
    "OUTPUT_FILES",
    "SEGMENT_BY_TIER",
    "Account",
    "Assignment",
    "ChurnEvent",
    "CsmRow",
    "FeatureUse",
    "RavenStackBook",
    "RavenStackTables",
    "Subscription",
    "Ticket",
    "account_churn_dates",
    "convert",
    "default_csm_for",
    "effective_subscriptions",
    "import_ravenstack",
    "monthly_arr",
    "next_renewal",
    "read_assignments",
    "read_ravenstack",
    "render_files",
]

#: Who to credit whenever the dataset (or a book built from it) is shown.
CREDIT = (
    'RavenStack synthetic SaaS dataset by "River @ Rivalytics" '
    '("SaaS Subscription & Churn Analytics Dataset", MIT-like licence)'
)

#: RavenStack ``plan_tier`` -> kpi_kit ``segment``.
SEGMENT_BY_TIER: dict[str, str] = {"Enterprise": "enterprise", "Pro": "mid-market", "Basic": "smb"}

#: ``(csm_id, csm_name, team, segment)`` of the placeholder CSMs of the default ownership rule.
#: Enterprise and mid-market get two CSMs each, SMB one (a pooled/scaled desk), i.e. five in all.
DEFAULT_CSMS: tuple[tuple[str, str, str, str], ...] = (
    ("csm_01", "Enterprise CSM 1", "Enterprise", "enterprise"),
    ("csm_02", "Enterprise CSM 2", "Enterprise", "enterprise"),
    ("csm_03", "Mid-Market CSM 1", "Mid-Market", "mid-market"),
    ("csm_04", "Mid-Market CSM 2", "Mid-Market", "mid-market"),
    ("csm_05", "SMB CSM 1", "SMB", "smb"),
)

#: The files an import writes (and the only files an existing ``--out`` folder may contain).
OUTPUT_FILES: tuple[str, ...] = (
    "README.md",
    "accounts.csv",
    "activities.csv",
    "arr_monthly.csv",
    "book.yaml",
    "csms.csv",
    "escalations.csv",
    "risk_alerts.csv",
    "sqls.csv",
    "usage.csv",
)

#: Book files that the dataset cannot fill: written with headers only and listed in ``book.yaml``.
NOT_RECORDED: tuple[str, ...] = ("activities", "risk_alerts", "sqls")

_HEADERS: dict[str, tuple[str, ...]] = {
    "csms.csv": ("csm_id", "csm_name", "team", "time_zone"),
    "accounts.csv": (
        "account_id",
        "account_name",
        "csm_id",
        "segment",
        "customer_since",
        "renewal_date",
        "industry",
        "country",
        "plan_tier",
    ),
    "arr_monthly.csv": ("month", "account_id", "arr"),
    "activities.csv": ("activity_id", "date", "account_id", "csm_id", "type", "purpose"),
    "sqls.csv": ("sql_id", "created_date", "account_id", "csm_id", "expansion_arr", "status", "closed_date"),
    "risk_alerts.csv": ("alert_id", "account_id", "flagged_date", "outcome", "first_action_date", "resolved_date"),
    "escalations.csv": ("escalation_id", "account_id", "opened_at", "csm_engaged_at"),
    "usage.csv": ("month", "account_id", "feature_adoption_pct", "seats_purchased", "seats_used"),
}

#: Input file names and the columns the importer reads from each.
INPUT_FILES: dict[str, tuple[str, ...]] = {
    "ravenstack_accounts.csv": ("account_id", "account_name", "signup_date", "plan_tier", "churn_flag"),
    "ravenstack_subscriptions.csv": (
        "subscription_id",
        "account_id",
        "start_date",
        "end_date",
        "seats",
        "arr_amount",
        "is_trial",
        "churn_flag",
        "billing_frequency",
    ),
    "ravenstack_churn_events.csv": ("churn_event_id", "account_id", "churn_date", "is_reactivation"),
    "ravenstack_feature_usage.csv": ("subscription_id", "usage_date", "feature_name", "usage_count"),
    "ravenstack_support_tickets.csv": (
        "ticket_id",
        "account_id",
        "submitted_at",
        "first_response_time_minutes",
        "escalation_flag",
    ),
}

_MAX_PROBLEMS_SHOWN = 20
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


# --------------------------------------------------------------------------------------------------
# Typed input records
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    """One row of ``ravenstack_accounts.csv`` (the columns the importer uses)."""

    account_id: str
    account_name: str
    signup_date: date
    plan_tier: str
    churn_flag: bool
    industry: str = ""
    country: str = ""


@dataclass(frozen=True)
class Subscription:
    """One row of ``ravenstack_subscriptions.csv``; ``end_date`` is None when blank (still active)."""

    subscription_id: str
    account_id: str
    start_date: date
    end_date: date | None
    seats: int
    arr_amount: Decimal
    is_trial: bool
    churn_flag: bool
    billing_frequency: str


@dataclass(frozen=True)
class ChurnEvent:
    """One row of ``ravenstack_churn_events.csv``."""

    churn_event_id: str
    account_id: str
    churn_date: date
    is_reactivation: bool


@dataclass(frozen=True)
class FeatureUse:
    """One row of ``ravenstack_feature_usage.csv``."""

    subscription_id: str
    usage_date: date
    feature_name: str
    usage_count: int


@dataclass(frozen=True)
class Ticket:
    """One row of ``ravenstack_support_tickets.csv``; ``first_response_minutes`` is None when blank."""

    ticket_id: str
    account_id: str
    submitted_at: datetime
    first_response_minutes: Decimal | None
    escalation_flag: bool


@dataclass(frozen=True)
class Assignment:
    """One row of an ``--assignments`` file: who owns an account."""

    account_id: str
    csm_id: str
    csm_name: str = ""
    team: str = ""
    time_zone: str = ""


@dataclass(frozen=True)
class CsmRow:
    """One row of the book's ``csms.csv``."""

    csm_id: str
    csm_name: str
    team: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class RavenStackTables:
    """The five RavenStack tables, parsed and checked (see :func:`read_ravenstack`)."""

    accounts: tuple[Account, ...]
    subscriptions: tuple[Subscription, ...]
    churn_events: tuple[ChurnEvent, ...]
    feature_usage: tuple[FeatureUse, ...]
    support_tickets: tuple[Ticket, ...]

    def latest_date(self) -> date:
        """The latest date anywhere in the data: the import's as-of date.

        It is the maximum of ``signup_date``, subscription ``start_date``/``end_date``, ``churn_date``,
        ``usage_date`` and the date part of ticket ``submitted_at``.
        """
        dates: list[date] = [a.signup_date for a in self.accounts]
        for s in self.subscriptions:
            dates.append(s.start_date)
            if s.end_date is not None:
                dates.append(s.end_date)
        dates.extend(e.churn_date for e in self.churn_events)
        dates.extend(u.usage_date for u in self.feature_usage)
        dates.extend(t.submitted_at.date() for t in self.support_tickets)
        if not dates:
            raise KitError("The RavenStack files contain no dated rows; nothing to import.")
        return max(dates)


# --------------------------------------------------------------------------------------------------
# Reading and checking the input
# --------------------------------------------------------------------------------------------------
class _Problems:
    """Collects cell-level problems so the user sees all of them at once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, row: int, column: str, value: str, expected: str) -> None:
        self.items.append(f"{file} row {row}, column {column}: {value!r} — expected {expected}.")

    def raise_if_any(self, what_to_do: str) -> None:
        if not self.items:
            return
        shown = self.items[:_MAX_PROBLEMS_SHOWN]
        more = len(self.items) - len(shown)
        lines = "\n  ".join(shown)
        tail = f"\n  ... and {more} more problem(s)." if more else ""
        raise KitError(
            f"{len(self.items)} problem(s) in the input (rows counted as in a spreadsheet, header = row 1):"
            f"\n  {lines}{tail}\n{what_to_do}"
        )


def _read_csv(path: Path, required: Sequence[str], kind: str) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file as ``(spreadsheet_row_number, row)`` pairs, checking its required columns."""
    if not path.is_file():
        raise KitError(
            f"{path}: file not found. The {kind} needs it (required columns: {', '.join(required)}). "
            "Point the importer at the folder holding the CSV files."
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise KitError(
                    f"{path.name}: missing column(s) {', '.join(missing)} (found: {', '.join(header) or 'no header'}). "
                    f"Expected at least: {', '.join(required)}. Use the unchanged file from the dataset."
                )
            reader.fieldnames = header
            rows: list[tuple[int, dict[str, str]]] = []
            for i, raw in enumerate(reader, start=2):
                rows.append((i, {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}))
    except UnicodeDecodeError as exc:
        raise KitError(
            f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}). Save it as UTF-8 and retry."
        ) from exc
    except csv.Error as exc:
        raise KitError(f"{path.name}: not a readable CSV file ({exc}).") from exc
    return rows


def _req_text(p: _Problems, file: str, row: int, col: str, v: str) -> str:
    if not v:
        p.add(file, row, col, v, "a non-blank value")
    return v


def _parse_date(p: _Problems, file: str, row: int, col: str, v: str, *, blank_ok: bool = False) -> date | None:
    if not v:
        if not blank_ok:
            p.add(file, row, col, v, "a date YYYY-MM-DD")
        return None
    if _DATE_RE.match(v):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    p.add(file, row, col, v, "a date YYYY-MM-DD" + (" or blank" if blank_ok else ""))
    return None


def _parse_datetime(p: _Problems, file: str, row: int, col: str, v: str) -> datetime | None:
    if _DATE_RE.match(v):
        d = _parse_date(p, file, row, col, v)
        return None if d is None else datetime(d.year, d.month, d.day)
    try:
        parsed = datetime.fromisoformat(v)
    except ValueError:
        p.add(file, row, col, v, "a date YYYY-MM-DD or an ISO timestamp YYYY-MM-DDTHH:MM:SS")
        return None
    return parsed


def _parse_bool(p: _Problems, file: str, row: int, col: str, v: str) -> bool:
    low = v.lower()
    if low in _TRUE:
        return True
    if low not in _FALSE:
        p.add(file, row, col, v, "TRUE or FALSE")
    return False


def _parse_decimal(p: _Problems, file: str, row: int, col: str, v: str, *, blank_ok: bool = False) -> Decimal | None:
    if not v and blank_ok:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or d < 0:
        p.add(file, row, col, v, "a number >= 0 with '.' as decimal point")
        return None
    return d


def _parse_int(p: _Problems, file: str, row: int, col: str, v: str) -> int:
    if re.fullmatch(r"\d+", v):
        return int(v)
    p.add(file, row, col, v, "a whole number >= 0")
    return 0


def read_ravenstack(src_dir: Path) -> RavenStackTables:
    """Read and check the five RavenStack CSV files in ``src_dir``.

    Parameters
    ----------
    src_dir
        Folder holding ``ravenstack_accounts.csv``, ``ravenstack_subscriptions.csv``,
        ``ravenstack_churn_events.csv``, ``ravenstack_feature_usage.csv`` and
        ``ravenstack_support_tickets.csv`` (UTF-8; a byte-order mark is tolerated).

    Returns
    -------
    RavenStackTables
        Typed rows. Only the columns listed in ``INPUT_FILES`` are read; other columns are ignored.

    Raises
    ------
    KitError
        A file is missing or lacks a column; or cells are invalid (all such problems are listed with
        file, spreadsheet row, column, value and what was expected): blank ids, repeated account /
        subscription / ticket ids, dates not ``YYYY-MM-DD``, ``end_date`` before ``start_date``, a
        subscription flagged churned with a blank ``end_date``, unknown ``plan_tier`` or
        ``billing_frequency``, booleans other than TRUE/FALSE, negative or non-numeric amounts,
        ``account_id`` / ``subscription_id`` references that do not exist. Input files are never
        modified.
    """
    src_dir = Path(src_dir)
    if not src_dir.is_dir():
        raise KitError(f"{src_dir}: folder not found. Give the folder holding the ravenstack_*.csv files.")
    raw = {
        name: _read_csv(src_dir / name, cols, "RavenStack import") for name, cols in INPUT_FILES.items()
    }
    p = _Problems()

    # accounts
    f = "ravenstack_accounts.csv"
    accounts: list[Account] = []
    seen: dict[str, int] = {}
    for row, r in raw[f]:
        aid = _req_text(p, f, row, "account_id", r["account_id"])
        if aid and aid in seen:
            p.add(f, row, "account_id", aid, f"a unique id (already on row {seen[aid]})")
        seen.setdefault(aid, row)
        tier = r["plan_tier"]
        if tier not in SEGMENT_BY_TIER:
            p.add(f, row, "plan_tier", tier, "one of " + ", ".join(SEGMENT_BY_TIER))
        signup = _parse_date(p, f, row, "signup_date", r["signup_date"])
        accounts.append(
            Account(
                account_id=aid,
                account_name=_req_text(p, f, row, "account_name", r["account_name"]),
                signup_date=signup or date.min,
                plan_tier=tier,
                churn_flag=_parse_bool(p, f, row, "churn_flag", r["churn_flag"]),
                industry=r.get("industry", ""),
                country=r.get("country", ""),
            )
        )
    account_ids = set(seen)

    def check_account(file: str, row: int, aid: str) -> str:
        if not aid:
            p.add(file, row, "account_id", aid, "a non-blank value")
        elif aid not in account_ids:
            p.add(file, row, "account_id", aid, "an account_id listed in ravenstack_accounts.csv")
        return aid

    # subscriptions
    f = "ravenstack_subscriptions.csv"
    subs: list[Subscription] = []
    seen_s: dict[str, int] = {}
    for row, r in raw[f]:
        sid = _req_text(p, f, row, "subscription_id", r["subscription_id"])
        if sid and sid in seen_s:
            p.add(f, row, "subscription_id", sid, f"a unique id (already on row {seen_s[sid]})")
        seen_s.setdefault(sid, row)
        start = _parse_date(p, f, row, "start_date", r["start_date"])
        end = _parse_date(p, f, row, "end_date", r["end_date"], blank_ok=True)
        if start is not None and end is not None and end < start:
            p.add(f, row, "end_date", r["end_date"], f"a date on or after start_date {start.isoformat()}")
        churned = _parse_bool(p, f, row, "churn_flag", r["churn_flag"])
        if churned and not r["end_date"]:
            p.add(f, row, "end_date", "", "the date the subscription ended (churn_flag is TRUE)")
        freq = r["billing_frequency"].lower()
        if freq not in ("monthly", "annual"):
            p.add(f, row, "billing_frequency", r["billing_frequency"], "monthly or annual")
        subs.append(
            Subscription(
                subscription_id=sid,
                account_id=check_account(f, row, r["account_id"]),
                start_date=start or date.min,
                end_date=end,
                seats=_parse_int(p, f, row, "seats", r["seats"]),
                arr_amount=_parse_decimal(p, f, row, "arr_amount", r["arr_amount"]) or Decimal(0),
                is_trial=_parse_bool(p, f, row, "is_trial", r["is_trial"]),
                churn_flag=churned,
                billing_frequency=freq,
            )
        )

    # churn events
    f = "ravenstack_churn_events.csv"
    events: list[ChurnEvent] = []
    for row, r in raw[f]:
        d = _parse_date(p, f, row, "churn_date", r["churn_date"])
        events.append(
            ChurnEvent(
                churn_event_id=_req_text(p, f, row, "churn_event_id", r["churn_event_id"]),
                account_id=check_account(f, row, r["account_id"]),
                churn_date=d or date.min,
                is_reactivation=_parse_bool(p, f, row, "is_reactivation", r["is_reactivation"]),
            )
        )

    # feature usage (usage_id is not unique in the published file, so it is not used)
    f = "ravenstack_feature_usage.csv"
    usage: list[FeatureUse] = []
    for row, r in raw[f]:
        sid = r["subscription_id"]
        if sid not in seen_s:
            p.add(f, row, "subscription_id", sid, "a subscription_id listed in ravenstack_subscriptions.csv")
        d = _parse_date(p, f, row, "usage_date", r["usage_date"])
        usage.append(
            FeatureUse(
                subscription_id=sid,
                usage_date=d or date.min,
                feature_name=_req_text(p, f, row, "feature_name", r["feature_name"]),
                usage_count=_parse_int(p, f, row, "usage_count", r["usage_count"]),
            )
        )

    # support tickets
    f = "ravenstack_support_tickets.csv"
    tickets: list[Ticket] = []
    seen_t: dict[str, int] = {}
    for row, r in raw[f]:
        tid = _req_text(p, f, row, "ticket_id", r["ticket_id"])
        if tid and tid in seen_t:
            p.add(f, row, "ticket_id", tid, f"a unique id (already on row {seen_t[tid]})")
        seen_t.setdefault(tid, row)
        sub_at = _parse_datetime(p, f, row, "submitted_at", r["submitted_at"])
        tickets.append(
            Ticket(
                ticket_id=tid,
                account_id=check_account(f, row, r["account_id"]),
                submitted_at=sub_at or datetime.min,
                first_response_minutes=_parse_decimal(
                    p, f, row, "first_response_time_minutes", r["first_response_time_minutes"], blank_ok=True
                ),
                escalation_flag=_parse_bool(p, f, row, "escalation_flag", r["escalation_flag"]),
            )
        )

    p.raise_if_any(
        f"Fix these cells in {src_dir} (or re-download the unchanged dataset) and run the import again."
    )
    if not accounts:
        raise KitError(f"{src_dir / 'ravenstack_accounts.csv'}: no account rows; nothing to import.")
    return RavenStackTables(
        accounts=tuple(accounts),
        subscriptions=tuple(subs),
        churn_events=tuple(events),
        feature_usage=tuple(usage),
        support_tickets=tuple(tickets),
    )


def read_assignments(path: Path) -> tuple[Assignment, ...]:
    """Read an ownership file: CSV with ``account_id, csm_id`` and optional ``csm_name, team, time_zone``.

    Raises
    ------
    KitError
        The file is missing, lacks ``account_id``/``csm_id``, has blank ids or lists an account twice.
        (Whether every account is covered is checked by :func:`convert`.)
    """
    path = Path(path)
    name = path.name
    rows = _read_csv(path, ("account_id", "csm_id"), "assignments file")
    p = _Problems()
    out: list[Assignment] = []
    seen: dict[str, int] = {}
    for row, r in rows:
        aid = _req_text(p, name, row, "account_id", r["account_id"])
        if aid and aid in seen:
            p.add(name, row, "account_id", aid, f"each account once (already on row {seen[aid]})")
        seen.setdefault(aid, row)
        out.append(
            Assignment(
                account_id=aid,
                csm_id=_req_text(p, name, row, "csm_id", r["csm_id"]),
                csm_name=r.get("csm_name", ""),
                team=r.get("team", ""),
                time_zone=r.get("time_zone", ""),
            )
        )
    p.raise_if_any(f"Fix these cells in {path} and run the import again.")
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Pure rules
# --------------------------------------------------------------------------------------------------
def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _month_ends(first: date, last: date) -> list[tuple[str, date]]:
    """``("YYYY-MM", last day)`` for every month from ``first``'s month to ``last``'s month."""
    out: list[tuple[str, date]] = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((f"{y:04d}-{m:02d}", _month_end(y, m)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months; the day is clamped to the target month's length (Jan 31 + 1 -> Feb 28/29)."""
    total = d.year * 12 + (d.month - 1) + n
    y, m = divmod(total, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def next_renewal(start: date, billing_frequency: str, as_of: date) -> date:
    """Next renewal of a subscription: its first anniversary strictly after ``as_of``.

    Parameters
    ----------
    start
        Subscription ``start_date``.
    billing_frequency
        ``"annual"``: anniversaries are ``start`` + k years; ``"monthly"``: ``start`` + k months (k >= 1).
        A day that does not exist in the target month is clamped to its last day (Feb 29 -> Feb 28,
        Jan 31 -> Feb 28/29); each anniversary is counted from ``start``, not from the previous one.
    as_of
        The import's as-of date (the latest date in the data).

    Examples
    --------
    >>> next_renewal(date(2024, 3, 10), "annual", date(2024, 12, 31))
    datetime.date(2025, 3, 10)
    >>> next_renewal(date(2024, 1, 31), "monthly", date(2024, 2, 15))
    datetime.date(2024, 2, 29)
    """
    step = 12 if billing_frequency == "annual" else 1
    k = max(1, ((as_of.year - start.year) * 12 + as_of.month - start.month) // step)
    candidate = _add_months(start, k * step)
    while candidate <= as_of:
        k += 1
        candidate = _add_months(start, k * step)
    return candidate


def account_churn_dates(tables: RavenStackTables) -> dict[str, list[date]]:
    """Dates on which each account's revenue ends, from churn events and the account ``churn_flag``.

    * every churn event contributes its ``churn_date`` (``is_reactivation`` does not change this);
    * an account with ``churn_flag`` TRUE also contributes its *final churn date*: the latest date
      recorded for the account (its latest ``churn_date``, subscription ``start_date`` or ``end_date``).
      The flag says the account is gone at the end of the data; the dataset does not say when it left,
      so the importer takes the last day on which anything is recorded for it.

    Returns
    -------
    dict
        account_id -> sorted list of distinct dates (accounts without any are absent).
    """
    dates: dict[str, set[date]] = defaultdict(set)
    for e in tables.churn_events:
        dates[e.account_id].add(e.churn_date)
    final = _final_churn_dates(tables)
    for aid, d in final.items():
        dates[aid].add(d)
    return {aid: sorted(ds) for aid, ds in dates.items()}


def _final_churn_dates(tables: RavenStackTables) -> dict[str, date]:
    last: dict[str, date] = {}

    def bump(aid: str, d: date) -> None:
        if aid not in last or d > last[aid]:
            last[aid] = d

    for e in tables.churn_events:
        bump(e.account_id, e.churn_date)
    for s in tables.subscriptions:
        bump(s.account_id, s.start_date)
        if s.end_date is not None:
            bump(s.account_id, s.end_date)
    return {a.account_id: last[a.account_id] for a in tables.accounts if a.churn_flag and a.account_id in last}


def effective_subscriptions(tables: RavenStackTables) -> dict[str, date | None]:
    """Effective end date of every subscription after reconciling end dates with churn.

    A subscription is active on day D when ``start_date <= D < effective_end`` (no end = still active).
    ``effective_end`` is the earliest of

    * its own ``end_date`` (blank = none), and
    * the earliest churn date of its account (see :func:`account_churn_dates`) on or after its
      ``start_date``.

    So a churn event ends every subscription of the account that is active on the churn date, while a
    subscription that *starts after* the churn date is kept: the account came back (a reactivation
    shows as ARR when the next subscription starts). ``is_reactivation`` is not used to create or
    remove ARR — the subscriptions table is the billing record. A churn event dated when no
    subscription is active changes nothing.

    Returns
    -------
    dict
        subscription_id -> effective end date (None = active to the end of the data).
    """
    churn = account_churn_dates(tables)
    out: dict[str, date | None] = {}
    for s in tables.subscriptions:
        end = s.end_date
        for d in churn.get(s.account_id, ()):
            if d >= s.start_date:
                if end is None or d < end:
                    end = d
                break  # dates are sorted: the first one on or after the start is the earliest
        out[s.subscription_id] = end
    return out


def _active(s: Subscription, end: date | None, day: date) -> bool:
    return s.start_date <= day and (end is None or day < end)


def monthly_arr(
    tables: RavenStackTables, effective_ends: Mapping[str, date | None] | None = None
) -> dict[tuple[str, str], Decimal]:
    """Month-end ARR per account.

    Definition: for each month from the month of the first subscription ``start_date`` to the month of
    :meth:`RavenStackTables.latest_date`, ARR of an account = Σ ``arr_amount`` of its subscriptions
    active on the last calendar day of the month (see :func:`effective_subscriptions` for "active"),
    where a trial subscription (``is_trial`` TRUE) counts 0 whatever its ``arr_amount``. Overlapping
    subscriptions are summed (each is a separate contract line; the dataset has no link saying which
    subscription replaces which).

    Parameters
    ----------
    tables
        The parsed dataset.
    effective_ends
        Result of :func:`effective_subscriptions` when already computed (saves recomputing it).

    Returns
    -------
    dict
        ``(month "YYYY-MM", account_id) -> ARR`` for the pairs with ARR > 0 only (the book contract
        reads a missing row as 0).
    """
    if not tables.subscriptions:
        return {}
    eff = effective_subscriptions(tables) if effective_ends is None else effective_ends
    first = min(s.start_date for s in tables.subscriptions)
    months = _month_ends(first, tables.latest_date())
    arr: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for s in tables.subscriptions:
        if s.is_trial or s.arr_amount == 0:
            continue
        end = eff[s.subscription_id]
        for label, day in months:
            if _active(s, end, day):
                arr[(label, s.account_id)] += s.arr_amount
    return {k: v for k, v in arr.items() if v > 0}


def _month_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def won_back_zero_months(arr: Mapping[tuple[str, str], Decimal]) -> set[tuple[str, str]]:
    """The (month, account) pairs written as an explicit ARR ``0`` row: churned and won back.

    Definition: for each account, every month strictly between its first and its last month with
    ARR > 0 (in ``arr``, the output of :func:`monthly_arr`) in which its month-end ARR is 0 — no paid
    subscription was active on that month's last day (in the published data: a churn date ended its
    revenue, and a later paid subscription brought it back). Months before the first and after the
    last paid month get no row, as before.

    Why: the book contract reads a *missing* row as ARR 0, but ``kpi-kit validate`` warns about a
    missing month between two rows ("gap", was a row lost?). The import knows these months are 0 —
    the billing record says so — so it writes the 0, which is the same number for every KPI and
    tells the reader it is known, not lost.

    Examples
    --------
    >>> won_back_zero_months({("2024-01", "A"): Decimal(5), ("2024-04", "A"): Decimal(7),
    ...                       ("2024-02", "B"): Decimal(1)}) == {("2024-02", "A"), ("2024-03", "A")}
    True
    """
    months: dict[str, set[int]] = defaultdict(set)
    for (month, aid), value in arr.items():
        if value > 0:
            months[aid].add(_month_index(month))
    return {
        (_month_label(i), aid)
        for aid, held in months.items()
        for i in range(min(held) + 1, max(held))
        if i not in held
    }


def default_csm_for(account_id: str, segment: str) -> str:
    """Default owner of an account: a stable hash of its id picks one of its segment's CSMs.

    Rule: take the segment's CSMs in ``DEFAULT_CSMS`` order (enterprise: csm_01, csm_02; mid-market:
    csm_03, csm_04; smb: csm_05), compute ``h = int(sha256(account_id as UTF-8).hexdigest(), 16)`` and
    pick the CSM at position ``h mod n``. ``hashlib`` (not ``hash()``) keeps it identical on every run
    and machine.
    """
    pool = [c[0] for c in DEFAULT_CSMS if c[3] == segment]
    if not pool:
        raise KitError(f"No default CSM for segment {segment!r}; expected one of enterprise, mid-market, smb.")
    h = int(hashlib.sha256(account_id.encode("utf-8")).hexdigest(), 16)
    return pool[h % len(pool)]


def _fmt_decimal(d: Decimal, places: int = 2) -> str:
    """``d`` rounded half-up to ``places`` decimals, without trailing zeros (12.50 -> "12.5", 3.00 -> "3")."""
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(q, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class RavenStackBook:
    """A converted book: rows of every output file plus counts explaining the reconciliation.

    ``files`` maps a file name to its rows (tuples of strings, header excluded; already sorted);
    ``summary`` holds the counts listed in ``docs/ravenstack.md``; ``.table`` shows them.
    """

    files: Mapping[str, tuple[tuple[str, ...], ...]]
    summary: Mapping[str, int | str]
    as_of: date
    first_month: str
    last_month: str

    @property
    def table(self) -> pd.DataFrame:
        """The summary counts as a two-column DataFrame (``item``, ``value``)."""
        import pandas as pd

        return pd.DataFrame(
            {"item": list(self.summary), "value": [str(v) for v in self.summary.values()]}
        ).astype("string")

    def _repr_html_(self) -> str:
        return (
            f"<p><b>RavenStack book</b> {self.first_month}..{self.last_month}, as of {self.as_of.isoformat()}"
            f"<br><small>{CREDIT}</small></p>" + self.table.to_html(index=False)
        )


def _owners(
    tables: RavenStackTables, segments: Mapping[str, str], assignments: Sequence[Assignment] | None
) -> tuple[dict[str, str], list[CsmRow]]:
    if assignments is None:
        owners = {a.account_id: default_csm_for(a.account_id, segments[a.account_id]) for a in tables.accounts}
        csms = [CsmRow(cid, name, team) for cid, name, team, _ in DEFAULT_CSMS]
        return owners, csms
    by_account = {a.account_id: a for a in assignments}
    known = {a.account_id for a in tables.accounts}
    missing = sorted(known - set(by_account))
    unknown = sorted(set(by_account) - known)
    problems: list[str] = []
    if missing:
        problems.append(
            f"{len(missing)} account(s) have no owner: {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
            + ". Add a row 'account_id,csm_id' for each."
        )
    if unknown:
        problems.append(
            f"{len(unknown)} account_id(s) are not in ravenstack_accounts.csv: {', '.join(unknown[:10])}"
            + (" ..." if len(unknown) > 10 else "")
            + ". Fix the typo or remove the row."
        )
    csm_info: dict[str, tuple[str, str, str]] = {}
    for a in sorted(assignments, key=lambda x: (x.csm_id, x.account_id)):
        info = (a.csm_name or a.csm_id, a.team or "RavenStack", a.time_zone or "UTC")
        prev = csm_info.setdefault(a.csm_id, info)
        if prev != info and (a.csm_name or a.team or a.time_zone):
            problems.append(
                f"csm_id {a.csm_id} has different csm_name/team/time_zone on different rows "
                f"({'/'.join(prev)} vs {'/'.join(info)}). Give each CSM one name, team and time zone."
            )
    if problems:
        raise KitError("Assignments file problems:\n  " + "\n  ".join(problems))
    owners = {aid: by_account[aid].csm_id for aid in known}
    csms = [CsmRow(cid, *csm_info[cid]) for cid in sorted(csm_info)]
    return owners, csms


def convert(tables: RavenStackTables, assignments: Sequence[Assignment] | None = None) -> RavenStackBook:
    """Convert parsed RavenStack tables into the rows of a kpi_kit book (pure: no I/O).

    Rules (each is detailed in ``docs/ravenstack.md``):

    * ``arr_monthly``: :func:`monthly_arr` (month-end ARR, trials 0, overlaps summed, churn reconciled),
      one row per month with ARR > 0, plus an explicit ``0`` row for each month between an account's
      first and last paid month in which it had no paid subscription (:func:`won_back_zero_months`).
    * ``accounts``: ``segment`` from the accounts table's ``plan_tier`` via ``SEGMENT_BY_TIER``;
      ``customer_since`` = ``signup_date``; ``renewal_date`` = :func:`next_renewal` of the account's
      current subscription (the paid subscription active on the as-of date with the latest
      ``start_date``; ties -> larger ``arr_amount``, then larger ``subscription_id``), blank when none.
    * owners: ``assignments`` when given (every account exactly once), else :func:`default_csm_for`.
    * ``escalations``: tickets with ``escalation_flag`` TRUE; ``opened_at`` = ``submitted_at``
      (midnight when only a date is given); ``csm_engaged_at`` = ``opened_at`` +
      ``first_response_time_minutes`` — the support team's first response used as a stand-in for CSM
      engagement (the dataset records no CSM action); blank when the minutes are blank.
    * ``usage``: one row per (month, account) with at least one feature-usage record (usage is tied to
      an account through its ``subscription_id``). ``feature_adoption_pct`` = 100 × distinct features
      the account used that month (``usage_count`` > 0) / distinct ``feature_name`` values in the whole
      file, rounded half-up to 2 decimals; ``seats_purchased`` = Σ ``seats`` of the account's paid
      subscriptions active at that month's end (0 when none); ``seats_used`` blank (not recorded).
    * ``activities``, ``sqls``, ``risk_alerts``: no rows (not recorded).

    Returns
    -------
    RavenStackBook
    """
    as_of = tables.latest_date()
    segments = {a.account_id: SEGMENT_BY_TIER[a.plan_tier] for a in tables.accounts}
    owners, csms = _owners(tables, segments, assignments)
    eff = effective_subscriptions(tables)
    arr = monthly_arr(tables, eff)

    # --- accounts -------------------------------------------------------------------------------
    current: dict[str, Subscription] = {}
    for s in tables.subscriptions:
        if s.is_trial or not _active(s, eff[s.subscription_id], as_of):
            continue
        best = current.get(s.account_id)
        key = (s.start_date, s.arr_amount, s.subscription_id)
        if best is None or key > (best.start_date, best.arr_amount, best.subscription_id):
            current[s.account_id] = s
    account_rows = []
    for a in sorted(tables.accounts, key=lambda x: x.account_id):
        cur = current.get(a.account_id)
        renewal = "" if cur is None else next_renewal(cur.start_date, cur.billing_frequency, as_of).isoformat()
        account_rows.append(
            (
                a.account_id,
                a.account_name,
                owners[a.account_id],
                segments[a.account_id],
                a.signup_date.isoformat(),
                renewal,
                a.industry,
                a.country,
                a.plan_tier,
            )
        )

    # --- arr_monthly ----------------------------------------------------------------------------
    zeros = won_back_zero_months(arr)
    arr_rows = tuple(
        (m, aid, _fmt_decimal(arr.get((m, aid), Decimal(0)))) for (m, aid) in sorted(set(arr) | zeros)
    )

    # --- escalations ----------------------------------------------------------------------------
    esc_rows = []
    for t in tables.support_tickets:
        if not t.escalation_flag:
            continue
        opened = t.submitted_at
        engaged = (
            ""
            if t.first_response_minutes is None
            else (opened + timedelta(minutes=float(t.first_response_minutes))).isoformat(timespec="seconds")
        )
        esc_rows.append((t.ticket_id, t.account_id, opened.isoformat(timespec="seconds"), engaged))
    esc_rows.sort(key=lambda r: (r[2], r[0]))

    # --- usage ----------------------------------------------------------------------------------
    sub_by_id = {s.subscription_id: s for s in tables.subscriptions}
    all_features = {u.feature_name for u in tables.feature_usage}
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for u in tables.feature_usage:
        key = (f"{u.usage_date.year:04d}-{u.usage_date.month:02d}", sub_by_id[u.subscription_id].account_id)
        feats = used[key]  # creates the (month, account) row even when usage_count is 0
        if u.usage_count > 0:
            feats.add(u.feature_name)
    seats: dict[tuple[str, str], int] = defaultdict(int)
    usage_month_ends = [(m, _month_end(int(m[:4]), int(m[5:]))) for m in sorted({k[0] for k in used})]
    for s in tables.subscriptions:
        if s.is_trial:
            continue
        for month, day in usage_month_ends:
            if _active(s, eff[s.subscription_id], day):
                seats[(month, s.account_id)] += s.seats
    usage_rows = tuple(
        (
            month,
            aid,
            _fmt_decimal(Decimal(100) * len(feats) / Decimal(len(all_features))),
            str(seats.get((month, aid), 0)),
            "",
        )
        for (month, aid), feats in sorted(used.items())
    )

    files: dict[str, tuple[tuple[str, ...], ...]] = {
        "csms.csv": tuple((c.csm_id, c.csm_name, c.team, c.time_zone) for c in csms),
        "accounts.csv": tuple(account_rows),
        "arr_monthly.csv": arr_rows,
        "activities.csv": (),
        "sqls.csv": (),
        "risk_alerts.csv": (),
        "escalations.csv": tuple(esc_rows),
        "usage.csv": usage_rows,
    }

    first_month = ""
    if tables.subscriptions:
        fs = min(s.start_date for s in tables.subscriptions)
        first_month = f"{fs.year:04d}-{fs.month:02d}"
    last_month = f"{as_of.year:04d}-{as_of.month:02d}"
    summary = _summary(tables, eff, arr, as_of, last_month, files)
    return RavenStackBook(
        files=files, summary=summary, as_of=as_of, first_month=first_month, last_month=last_month
    )


def _summary(
    tables: RavenStackTables,
    eff: Mapping[str, date | None],
    arr: Mapping[tuple[str, str], Decimal],
    as_of: date,
    last_month: str,
    files: Mapping[str, Sequence[tuple[str, ...]]],
) -> dict[str, int | str]:
    subs_by_account: dict[str, list[Subscription]] = defaultdict(list)
    for s in tables.subscriptions:
        subs_by_account[s.account_id].append(s)
    paid = [s for s in tables.subscriptions if not s.is_trial]
    cut = [s for s in tables.subscriptions if eff[s.subscription_id] != s.end_date]
    ev_effect = ev_none = ev_same_end = react_later = react_none = notreact_later = 0
    for e in tables.churn_events:
        own = subs_by_account.get(e.account_id, [])
        if any(_active(s, s.end_date, e.churn_date) for s in own):
            ev_effect += 1
        else:
            ev_none += 1
        if any(s.end_date == e.churn_date for s in own):
            ev_same_end += 1
        later = any(s.start_date > e.churn_date and not s.is_trial for s in own)
        if e.is_reactivation:
            react_later += later
            react_none += not later
        else:
            notreact_later += later
    end_arr = {aid for (m, aid) in arr if m == last_month}
    flagged = [a for a in tables.accounts if a.churn_flag]
    paid_active_at_end = {
        a.account_id: sum(
            1 for s in subs_by_account[a.account_id] if not s.is_trial and _active(s, eff[s.subscription_id], as_of)
        )
        for a in tables.accounts
    }
    overlapping = [aid for aid, n in paid_active_at_end.items() if n > 1]
    total_end = sum((v for (m, _), v in arr.items() if m == last_month), Decimal(0))
    return {
        "as_of (latest date in the data)": as_of.isoformat(),
        "accounts": len(tables.accounts),
        "subscriptions": len(tables.subscriptions),
        "trial subscriptions (ARR counted as 0)": len(tables.subscriptions) - len(paid),
        "subscriptions with blank end_date": sum(1 for s in tables.subscriptions if s.end_date is None),
        "subscriptions ended earlier by a churn date": len(cut),
        "churn events": len(tables.churn_events),
        "churn events that ended at least one active subscription": ev_effect,
        "churn events with no subscription active on the churn date (no effect)": ev_none,
        "churn events on the same date as a subscription end_date": ev_same_end,
        "is_reactivation TRUE and a later paid subscription exists": react_later,
        "is_reactivation TRUE but no later paid subscription (ARR stays 0)": react_none,
        "is_reactivation FALSE but a later paid subscription exists (kept)": notreact_later,
        "accounts with churn_flag TRUE": len(flagged),
        "accounts with churn_flag FALSE and ARR 0 at the last month": sum(
            1 for a in tables.accounts if not a.churn_flag and a.account_id not in end_arr
        ),
        "accounts with ARR > 0 at the last month": len(end_arr),
        "accounts with more than one paid subscription active on the as-of date (summed)": len(overlapping),
        f"total ARR at {last_month} month-end (USD)": _fmt_decimal(total_end),
        "arr_monthly rows": len(files["arr_monthly.csv"]),
        "arr_monthly rows with ARR 0 (no paid subscription between two paid months)": sum(
            1 for row in files["arr_monthly.csv"] if Decimal(row[2]) == 0
        ),
        "escalations rows": len(files["escalations.csv"]),
        "usage rows": len(files["usage.csv"]),
    }


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------
def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _book_yaml() -> str:
    return (
        f"# Built by `kpi-kit import ravenstack` from the {CREDIT}.\n"
        "# See docs/ravenstack.md for every mapping rule. Do not edit: re-run the import instead.\n"
        "name: RavenStack (public synthetic SaaS dataset)\n"
        f"not_recorded: [{', '.join(NOT_RECORDED)}]\n"
    )


def _readme(book: RavenStackBook, owners_from: str) -> str:
    lines = [
        "# RavenStack book",
        "",
        f"Built by `kpi-kit import ravenstack` from the {CREDIT}.",
        "The data are fully synthetic. Credit the author when you use them.",
        "",
        f"Months: {book.first_month} .. {book.last_month}; as-of date {book.as_of.isoformat()}.",
        f"CSM ownership: {owners_from}.",
        "Not recorded (reported as \"no data\"): " + ", ".join(NOT_RECORDED) + "; usage.seats_used.",
        "Escalations: `csm_engaged_at` is the support team's first response (a stand-in; the dataset",
        "records no CSM action).",
        "",
        "Every rule is documented in `docs/ravenstack.md` of kpi_kit.",
        "",
        "| item | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in book.summary.items()]
    return "\n".join(lines) + "\n"


def render_files(book: RavenStackBook, owners_from: str) -> dict[str, bytes]:
    """The bytes of every output file (UTF-8, ``\\n`` line ends, header row first)."""
    out = {name: _csv_text(_HEADERS[name], rows).encode("utf-8") for name, rows in book.files.items()}
    out["book.yaml"] = _book_yaml().encode("utf-8")
    out["README.md"] = _readme(book, owners_from).encode("utf-8")
    assert set(out) == set(OUTPUT_FILES)
    return out


def _write_atomically(out_dir: Path, contents: Mapping[str, bytes]) -> None:
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise KitError(f"{out_dir}: exists and is not a folder. Choose another --out folder.")
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in OUTPUT_FILES)
        if foreign:
            raise KitError(
                f"{out_dir}: folder already holds files this import does not write "
                f"({', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}). "
                "Choose an empty or new --out folder (a previous RavenStack import is replaced)."
            )
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    from kpi_kit.fmt import umask_mode

    umask_mode(tmp)  # the finished book is an ordinary folder, not a private temp folder
    old: Path | None = None
    try:
        for name in sorted(contents):
            (tmp / name).write_bytes(contents[name])
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.rmdir(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out_dir.exists():
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def import_ravenstack(src_dir: Path, out_dir: Path, assignments: Path | None = None) -> Path:
    """Build a kpi_kit book from the RavenStack CSV files.

    Parameters
    ----------
    src_dir
        Folder with the five ``ravenstack_*.csv`` files (never modified).
    out_dir
        Book folder to create. Written atomically (a temporary folder beside it, then renamed). If it
        exists it must be empty or hold only files a previous import wrote (``OUTPUT_FILES``); it is
        then replaced.
    assignments
        Optional CSV ``account_id,csm_id[,csm_name,team,time_zone]`` giving every account's owner.
        Without it owners follow :func:`default_csm_for` (five placeholder CSMs).

    Returns
    -------
    Path
        ``out_dir``. Running twice on the same input gives byte-identical files.

    Raises
    ------
    KitError
        Missing/invalid input files or cells, an incomplete or inconsistent assignments file, or an
        ``out_dir`` holding other files.
    """
    tables = read_ravenstack(Path(src_dir))
    assigned = None if assignments is None else read_assignments(Path(assignments))
    book = convert(tables, assigned)
    owners_from = (
        f"assignments file {Path(assignments).name}"
        if assignments is not None
        else "default rule (segment + SHA-256 of account_id -> csm_01..csm_05, placeholder names)"
    )
    _write_atomically(Path(out_dir), render_files(book, owners_from))
    return Path(out_dir)
