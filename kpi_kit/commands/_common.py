"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_kit.data import Book
    from kpi_kit.periods import Period

PERIOD_HELP = ("a month YYYY-MM, or a fiscal quarter/year of the book such as FY2026Q1 or FY2026 "
               "(book.yaml fiscal_year_start_month; default calendar years)")


def add_book_args(parser: argparse.ArgumentParser, period: bool = True) -> None:
    parser.add_argument("--data", metavar="DIR", default="",
                        help="book folder (CSV files, see data/README.md); default: the bundled sample book")
    if period:
        parser.add_argument("--start", metavar="YYYY-MM|FY2026Q1", default="",
                            help=f"first month of the period: {PERIOD_HELP}; a fiscal quarter alone is the whole "
                                 "quarter; default: the latest full fiscal quarter in the data")
        parser.add_argument("--end", metavar="YYYY-MM|FY2026Q1", default="",
                            help=f"last month of the period (inclusive): {PERIOD_HELP}")


def resolve_period(book: Book, start: str, end: str) -> Period:
    """The period from --start/--end (months or fiscal quarters, see :func:`kpi_kit.periods.resolve_period`),
    or the latest full fiscal quarter of the book when both are blank."""
    from kpi_kit.periods import resolve_period as resolve

    return resolve(book, start, end)


def period_text(book: Book, period: Period) -> str:
    """``2025-02..2025-04 (FY2026 Q1)``: the months and, when it differs, the fiscal name of the period."""
    from kpi_kit.periods import fiscal_label

    label = fiscal_label(book, period)
    return str(period) if label.startswith(str(period)) else f"{period} ({label})"


def money_note(book: Book, period: Period) -> str:
    """For a book in several currencies, the sentence saying how money was converted; else ``""``."""
    if not book.multi_currency:
        return ""
    return (f"Money in USD at constant currency: accounts in {', '.join(book.currencies)} converted at the rates of "
            f"{period.start_date.date()} (beginning and ending ARR alike); the FX effect at {period.end_date.date()} "
            "rates is shown apart (fx_effect), never as expansion or contraction.")
