"""``kpi-kit validate --data DIR``: list every problem of a book at once (exit 1 on errors, 0 when clean)."""

from __future__ import annotations

import argparse

from kpi_kit.commands._common import add_book_args


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("validate", help="check a book against the data contract and list every problem",
                       description="Check a book (folder of CSVs) and report every problem: file, row, column, "
                                   "value and what is expected. Input files are never modified.")
    add_book_args(p, period=False)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from kpi_kit.data import resolve_book_path, validate_book

    folder = resolve_book_path(args.data)
    problems = validate_book(folder)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for p in errors:
        print(f"error: {p}")
    for p in warnings:
        print(f"warning: {p}")
    if errors:
        print(f"\n{folder}: {len(errors)} error(s), {len(warnings)} warning(s). "
              "Fix the files (see data/README.md) and run `kpi-kit validate` again.")
        return 1
    print(f"{folder}: the book is valid ({len(warnings)} warning(s)).")
    return 0
