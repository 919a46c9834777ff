"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse


def add_book_args(parser: argparse.ArgumentParser, period: bool = True) -> None:
    parser.add_argument("--data", metavar="DIR", default="",
                        help="book folder (CSV files, see data/README.md); default: the bundled sample book")
    if period:
        parser.add_argument("--start", metavar="YYYY-MM", default="",
                            help="first month of the period; default: the latest full quarter in the data")
        parser.add_argument("--end", metavar="YYYY-MM", default="", help="last month of the period (inclusive)")


def resolve_period(book, start: str, end: str):
    """The period from --start/--end, or the latest full quarter of the book when both are blank."""
    from kpi_kit.errors import KitError
    from kpi_kit.periods import Period, latest_full_quarter

    if not start and not end:
        return latest_full_quarter(book)
    if not start:
        raise KitError("--end was given without --start: give both (YYYY-MM), or neither for the latest full quarter")
    return Period.parse(start, end or start)
