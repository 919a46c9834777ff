"""Shared fixtures: build tiny books on disk from a few hand-written rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"

HEADERS: dict[str, list[str]] = {
    "csms": ["csm_id", "csm_name", "team"],
    "accounts": ["account_id", "account_name", "csm_id", "segment", "customer_since", "renewal_date"],
    "arr_monthly": ["month", "account_id", "arr"],
    "activities": ["activity_id", "date", "account_id", "csm_id", "type", "purpose"],
    "sqls": ["sql_id", "created_date", "account_id", "csm_id", "expansion_arr", "status", "closed_date"],
    "risk_alerts": ["alert_id", "account_id", "flagged_date", "outcome", "first_action_date", "resolved_date"],
}


def write_book(folder: Path, **files: list[dict[str, Any]] | str) -> Path:
    """Write a book: each keyword is a file stem with a list of row dicts (or raw text for YAML / odd CSV).

    Required files that are not given are written with their header only. Columns of a file are the
    contract's columns followed by any extra keys the rows use, in first-seen order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stem in HEADERS:
        files.setdefault(stem, [])
    for stem, rows in files.items():
        if isinstance(rows, str):
            name = stem if "." in stem else (f"{stem}.yaml" if stem in ("targets", "book", "comp_plan") else f"{stem}.csv")
            (folder / name).write_text(rows, encoding="utf-8")
            continue
        header = list(HEADERS.get(stem, []))
        for row in rows:
            header += [k for k in row if k not in header]
        with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return folder


def arr_rows(account_id: str, values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"month": m, "account_id": account_id, "arr": v} for m, v in values.items()]


@pytest.fixture
def book_dir(tmp_path: Path):
    """Factory: ``book_dir(**files)`` writes a book into a fresh folder and returns its path."""
    counter = iter(range(1000))

    def make(**files: list[dict[str, Any]] | str) -> Path:
        return write_book(tmp_path / f"book{next(counter)}", **files)

    return make
