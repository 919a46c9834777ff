"""Display formatting (money, percentages, counts) and safe output for spreadsheets and HTML.

Numbers are formatted only at display time; computations keep full precision. ``None`` / NaN
(no data) is shown as "no data", never as 0.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

# file helpers live in kpi_kit.fileio (no pandas there); re-exported here for existing callers
from kpi_kit.fileio import atomic_write_bytes, atomic_write_text, umask_mode  # noqa: F401

NO_DATA = "no data"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


#: Symbols written before the amount; any other ISO code is written as ``"CHF 1,250"``.
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£"}


def currency_prefix(currency: str = "USD") -> str:
    """What :func:`money` writes before an amount of ``currency``.

    ``USD`` -> ``"$"``, ``EUR`` -> ``"€"``, ``GBP`` -> ``"£"`` (:data:`CURRENCY_SYMBOLS`); any other
    three-letter ISO 4217 code (any case) -> the upper-case code and a space (``"CHF "``). Anything else
    (``"$"``, ``"US$"``) is taken as a literal symbol and written as given, as old callers expect.

    >>> currency_prefix("USD"), currency_prefix("eur"), currency_prefix("CHF"), currency_prefix("$")
    ('$', '€', 'CHF ', '$')
    """
    code = str(currency).strip()
    if len(code) == 3 and code.isascii() and code.isalpha():
        code = code.upper()
        return CURRENCY_SYMBOLS.get(code, f"{code} ")
    return code


def money(value: Any, currency: str = "USD", digits: int = 0) -> str:
    """An amount of money for display: sign, currency, thousands separators, ``digits`` decimals.

    ``currency`` is an ISO 4217 code — usually ``book.reporting_currency`` (the currency every KPI
    amount is in). USD, EUR and GBP are written with their symbol, other codes before the amount
    (:func:`currency_prefix`); the default ``"USD"`` gives the kit's old ``$`` output. Rounding is
    Python's ``format`` (round-half-even on the binary value), for display only. None / NaN (no data)
    is ``"no data"``, never 0.

    >>> money(1234567.8), money(-1500), money(None)
    ('$1,234,568', '-$1,500', 'no data')
    >>> money(1250, "EUR"), money(-99.5, "GBP", 2), money(1250, "CHF"), money(1250, "jpy")
    ('€1,250', '-£99.50', 'CHF 1,250', 'JPY 1,250')
    """
    if is_missing(value):
        return NO_DATA
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_prefix(currency)}{abs(value):,.{digits}f}"


def markdown_money(currency: str = "USD", digits: int = 0) -> Callable[[Any], str]:
    """:func:`money` for text shown as Markdown (notebook prose): ``$`` escaped as ``\\$``.

    In Jupyter's Markdown a bare ``$`` starts LaTeX math, so two amounts in one sentence would turn the
    text between them into a formula. Pass ``book.reporting_currency`` so a EUR book reads in euros.

    >>> m = markdown_money("USD"); m(2_000_000), m(-1500), m(None)
    ('\\\\$2,000,000', '-\\\\$1,500', 'no data')
    >>> markdown_money("EUR", 2)(99.5), markdown_money("CHF")(1250)
    ('€99.50', 'CHF 1,250')
    """
    def shown(value: Any) -> str:
        return money(value, currency, digits).replace("$", r"\$")
    return shown


def pct(value: Any, digits: int = 1) -> str:
    """``95`` -> ``"95.0 %"``; None -> ``"no data"``.

    >>> pct(95), pct(100 / 3, 2), pct(None)
    ('95.0 %', '33.33 %', 'no data')
    """
    if is_missing(value):
        return NO_DATA
    return f"{value:.{digits}f} %"


def count(value: Any) -> str:
    """Whole counts with thousands separators; fractional targets keep one decimal.

    >>> count(1234), count(26.666), count(None)
    ('1,234', '26.7', 'no data')
    """
    if is_missing(value):
        return NO_DATA
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def text(value: Any) -> str:
    """HTML-escaped text of any value (data never becomes markup)."""
    return html.escape("" if is_missing(value) else str(value), quote=True)


def join_and(words: Iterable[str], last: str = "and") -> str:
    """Words in a sentence: ``["a"]`` -> ``"a"``, ``["a", "b", "c"]`` -> ``"a, b and c"`` (``last="or"``: "a, b or c").

    >>> join_and(["GRR"]), join_and(["GRR", "NRR"]), join_and(["calls", "QBRs", "SQLs"])
    ('GRR', 'GRR and NRR', 'calls, QBRs and SQLs')
    >>> join_and(["activities.csv", "sqls.csv"], "or")
    'activities.csv or sqls.csv'
    """
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: text starting with = + - @ (or tab/CR) gets a leading ``'``.

    Numbers are left alone (a negative number is a number, not a formula).

    >>> safe_csv_cell("=HYPERLINK(1)"), safe_csv_cell("-5 days"), safe_csv_cell(-5), safe_csv_cell("Acme")
    ("'=HYPERLINK(1)", "'-5 days", -5, 'Acme')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_safe_csv(frame: pd.DataFrame, path: Path, columns: Iterable[str] | None = None) -> None:
    """Write a CSV for spreadsheets: text cells neutralised (:func:`safe_csv_cell`), written atomically."""
    out = frame if columns is None else frame[list(columns)]
    out = out.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            # element by element into an object column: Series.map would re-infer [3, None] as floats (3.0)
            out[col] = pd.Series([safe_csv_cell(v) for v in out[col]], index=out.index, dtype=object)
    out.columns = [safe_csv_cell(str(c)) for c in out.columns]
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\n"))
