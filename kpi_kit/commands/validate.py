"""``kpi-kit validate --data DIR [--report FILE.html]``: list every problem of a book at once.

Exit 1 on errors, 0 when clean (warnings are listed but do not fail). ``--report`` also writes the
data-quality report (``kpi_kit.quality``) as a standalone HTML page — written even when there are
errors, atomically, and never into a CSV or YAML file (the name must end in .html or .htm).
"""

from __future__ import annotations

import argparse

from kpi_kit.commands._common import add_book_args


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("validate", help="check a book against the data contract and list every problem",
                       description="Check a book (folder of CSVs) and report every problem: file, row, column, "
                                   "value and what is expected. Input files are never modified.")
    add_book_args(p, period=False)
    p.add_argument("--report", metavar="FILE.html", default=None,
                   help="also write the data-quality report (summary counts and offending rows per check) as an "
                        "offline HTML page; written even when the book has errors")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kpi_kit.data import resolve_book_path, validate_book
    from kpi_kit.errors import KitError

    folder = resolve_book_path(args.data)
    report_path = None
    if args.report is not None:
        report_path = Path(args.report).expanduser().resolve()
        if report_path.suffix.lower() not in (".html", ".htm"):
            raise KitError(f"--report {args.report!r}: the report is an HTML page; give a file name ending in .html")
        if report_path.is_dir():
            raise KitError(f"--report {args.report!r} is a folder; give a file name ending in .html")
    if report_path is not None:
        from kpi_kit.fmt import atomic_write_text
        from kpi_kit.quality import quality_report

        report = quality_report(folder)
        problems = list(report.problems)
        atomic_write_text(report_path, report.to_html())
    else:
        problems = validate_book(folder)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for p in errors:
        print(f"error: {p}")
    for p in warnings:
        print(f"warning: {p}")
    if report_path is not None:
        print(f"\ndata-quality report: {report_path}")
    if errors:
        print(f"\n{folder}: {len(errors)} error(s), {len(warnings)} warning(s). "
              "Fix the files (see data/README.md) and run `kpi-kit validate` again.")
        return 1
    print(f"{folder}: the book is valid ({len(warnings)} warning(s)).")
    return 0
