"""``kpi-kit import``: build a book from other data.

``kpi-kit import csv --mapping FILE --out DIR``
    CRM / CS-platform CSV exports, converted with a column mapping (see ``docs/importing.md``).
``kpi-kit import ravenstack SRC --out DIR [--assignments FILE]``
    the public RavenStack dataset (see ``data/README.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("import", help="build a book from CRM exports (csv) or the RavenStack dataset",
                       description="Build a book folder (data/README.md contract) from other data. "
                                   "Source files are only read; nothing is written when there are errors.")
    kinds = p.add_subparsers(dest="import_kind", metavar="KIND")
    kinds.required = True

    c = kinds.add_parser("csv", help="convert CSV exports with a column mapping (docs/importing.md)",
                         description="Convert CSV exports (any encoding, delimiter, number and date format) "
                                     "into a book, following a mapping YAML file. Every unreadable value is "
                                     "listed with file, row and column, and then nothing is written.")
    c.add_argument("--mapping", metavar="FILE", required=True,
                   help="mapping YAML; source paths in it are relative to it (see docs/mappings/)")
    c.add_argument("--out", metavar="DIR", required=True, help="book folder to create (must not exist or be empty)")
    c.add_argument("--force", action="store_true", help="replace --out if it already holds files")
    c.add_argument("--quiet", action="store_true", help="do not print the warnings (they stay in DIR/import_log.csv)")
    c.set_defaults(func=run)

    r = kinds.add_parser("ravenstack", help="build a book from the public RavenStack dataset",
                         description="Build a book from the RavenStack dataset (credit: River @ Rivalytics).")
    r.add_argument("src", metavar="SRC", help="folder holding the RavenStack CSV files")
    r.add_argument("--out", metavar="DIR", required=True, help="book folder to create")
    r.add_argument("--assignments", metavar="FILE", default=None,
                   help="optional CSV assigning accounts to CSMs (see data/README.md)")
    r.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if args.import_kind == "ravenstack":
        from kpi_kit.ravenstack import import_ravenstack

        out = import_ravenstack(Path(args.src), Path(args.out), Path(args.assignments) if args.assignments else None)
        print(f"wrote the RavenStack book to {out}")
        return 0

    from kpi_kit.importer import import_csv

    result = import_csv(Path(args.mapping), Path(args.out), force=args.force)
    files = ", ".join(f"{name}.csv ({n} rows)" for name, n in result.rows.items())
    print(f"imported into {result.out}: {files}")
    if result.log:
        print(f"{len(result.log)} note(s) — merged duplicates, credits, missing ARR, detected formats — "
              f"listed in {result.out / 'import_log.csv'}", file=sys.stderr)
        if not args.quiet:
            for note in result.log[:30]:
                print(f"  - {note}", file=sys.stderr)
            if len(result.log) > 30:
                print(f"  ... and {len(result.log) - 30} more", file=sys.stderr)
    print(f"next: kpi-kit validate --data {result.out}")
    return 0
