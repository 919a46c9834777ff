"""kpi_kit.fmt.money: the reporting currency's symbol or code; old callers keep their dollars."""

from __future__ import annotations

import math

import pytest

from kpi_kit import fmt


@pytest.mark.parametrize(("args", "expected"), [
    ((1234567.8,), "$1,234,568"),            # default USD, 0 decimals: 1,234,567.8 rounds to 1,234,568
    ((1234567.8, "USD"), "$1,234,568"),
    ((-1500, "EUR"), "-€1,500"),             # the sign goes before the symbol
    ((99.5, "GBP", 2), "£99.50"),
    ((1250, "CHF"), "CHF 1,250"),            # no symbol in the table: the code and a space
    ((1250, "jpy"), "JPY 1,250"),            # codes are case-insensitive
    ((1250, " eur "), "€1,250"),
    ((1250, "$"), "$1,250"),                 # an old caller's literal symbol is kept as given
    ((0, "EUR"), "€0"),
])
def test_money(args, expected):
    assert fmt.money(*args) == expected


@pytest.mark.parametrize("missing", [None, math.nan])
def test_money_without_data_is_no_data_never_zero(missing):
    assert fmt.money(missing, "EUR") == "no data"


def test_currency_prefix():
    assert [fmt.currency_prefix(c) for c in ("USD", "EUR", "GBP", "SEK", "US$")] == ["$", "€", "£", "SEK ", "US$"]
