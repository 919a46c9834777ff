"""Books in several currencies: conversion to USD at constant currency, with the FX effect apart.

Amounts in a multi-currency book carry a ``currency`` column (ISO 4217 code). Rates come from
``fx_rates.csv`` with columns ``currency, rate_date, usd_per_unit`` (how many US dollars one unit
of the currency buys on ``rate_date``; ``USD`` is always 1).

**Constant currency** (the default for KPIs): every amount of a period — beginning *and* ending
ARR — is converted at the rates of the period's first day, so NRR and GRR measure what customers
did, not what exchange rates did. The **FX effect** is the difference between ending ARR at
period-end rates (what a finance report shows) and at start rates; it is reported beside the
KPIs, never as expansion or contraction.

Rate lookup: the rate used "on" a date is the latest ``rate_date`` on or before that date and at
most ``max_age_days`` (default 31) before it; anything else is an error naming the currency and
the date — never a guess. Amounts without a currency are rejected unless the book declares a
single currency (``currency: EUR`` in ``book.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from kpi_kit.errors import KitError

FX_COLUMNS = ("currency", "rate_date", "usd_per_unit")
_CODE_RE = re.compile(r"^[A-Z]{3}$")


def _day(value: date | str | pd.Timestamp) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise KitError(f"{value!r} is not a date: write it as YYYY-MM-DD") from None
    if pd.isna(ts):
        raise KitError("a conversion date is missing (NaT)")
    return ts.tz_localize(None).normalize() if ts.tzinfo is not None else ts.normalize()


def check_currency_code(value: object) -> str:
    """Upper-case ISO 4217 code (``" eur "`` -> ``"EUR"``); ``ValueError`` if it is not three letters."""
    code = str(value).strip().upper()
    if not _CODE_RE.match(code):
        raise ValueError(f"{value!r} is not a currency code; expected three letters such as USD, EUR, JPY")
    return code


def check_fx_rates(frame: pd.DataFrame, file: str = "fx_rates.csv") -> pd.DataFrame:
    """Check and type a table of rates read as text (index = spreadsheet row numbers).

    Returns a frame with ``currency`` (str), ``rate_date`` (datetime64), ``usd_per_unit`` (float > 0),
    sorted by currency and date.

    Raises
    ------
    KitError
        Listing every problem: missing columns, bad codes, dates or rates, a repeated
        (currency, rate_date) pair, a USD rate other than 1.
    """
    missing = [c for c in FX_COLUMNS if c not in frame.columns]
    if missing:
        raise KitError(f"{file}: missing column(s) {', '.join(missing)}; expected {', '.join(FX_COLUMNS)}")
    problems: list[str] = []
    codes: list[str | None] = []
    days: list[pd.Timestamp | None] = []
    values: list[float | None] = []
    for row, cur, day, rate in zip(frame.index, frame["currency"], frame["rate_date"], frame["usd_per_unit"]):
        where = f"{file} row {row}"
        try:
            codes.append(check_currency_code(cur))
        except ValueError as exc:
            problems.append(f"{where}, column currency: {exc}")
            codes.append(None)
        try:
            days.append(pd.Timestamp(date.fromisoformat(str(day).strip())))
        except ValueError:
            problems.append(f"{where}, column rate_date: {day!r} is not a date written YYYY-MM-DD")
            days.append(None)
        try:
            number = float(str(rate).strip())
            if not number > 0 or number == float("inf"):
                raise ValueError
            values.append(number)
        except ValueError:
            problems.append(f"{where}, column usd_per_unit: {rate!r} is not a positive number (US dollars per unit)")
            values.append(None)
        if codes[-1] == "USD" and values[-1] is not None and values[-1] != 1.0:
            problems.append(f"{where}, column usd_per_unit: {rate!r} — one US dollar is always 1 US dollar; "
                            "fix or remove the row")
    typed = pd.DataFrame(
        {"currency": pd.Series(codes, index=frame.index, dtype="str"),
         "rate_date": pd.to_datetime(pd.Series(days, index=frame.index, dtype="object")),
         "usd_per_unit": pd.Series(values, index=frame.index, dtype="float64")}
    )
    dup = typed.duplicated(["currency", "rate_date"], keep="first") & typed["currency"].notna() & typed["rate_date"].notna()
    for row in typed.index[dup]:
        problems.append(f"{file} row {row}: a second rate for {typed.at[row, 'currency']} on "
                        f"{typed.at[row, 'rate_date'].date()}; keep one rate per currency and day")
    if problems:
        raise KitError(f"{file} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return typed.sort_values(["currency", "rate_date"]).reset_index(drop=True)


def read_fx_rates(path: str | Path) -> pd.DataFrame:
    """Read ``fx_rates.csv`` (UTF-8, comma) and :func:`check_fx_rates` it. The file is only read."""
    path = Path(path)
    if not path.exists():
        raise KitError(f"{path}: no exchange-rate file; a book with several currencies needs fx_rates.csv "
                       f"with columns {', '.join(FX_COLUMNS)}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return check_fx_rates(frame, path.name)


def _lookup(rates: pd.DataFrame, currency: str, on: pd.Timestamp, max_age_days: int) -> float | str:
    """The rate, or a sentence saying why there is none."""
    if currency == "USD":
        return 1.0
    own = rates.loc[rates["currency"] == currency]
    earlier = own.loc[own["rate_date"] <= on]
    if earlier.empty:
        if own.empty:
            return f"no rate for {currency} at all in the rates table"
        return f"no rate for {currency} on or before {on.date()} (the first is {own['rate_date'].min().date()})"
    last = earlier.iloc[-1]
    age = (on - last["rate_date"]).days
    if age > max_age_days:
        return (f"no rate for {currency} on {on.date()}: the latest earlier rate is from "
                f"{last['rate_date'].date()}, {age} days before (at most {max_age_days} allowed)")
    return float(last["usd_per_unit"])


def rate_on(rates: pd.DataFrame, currency: str, on: date | str | pd.Timestamp, *, max_age_days: int = 31) -> float:
    """US dollars per unit of ``currency`` on ``on``: the latest rate dated on or before it.

    Parameters
    ----------
    rates
        Output of :func:`check_fx_rates` / :func:`read_fx_rates`.
    currency
        ISO code; ``USD`` is 1 without a table row.
    on
        The day the amount is valued.
    max_age_days
        Oldest rate accepted, in days before ``on``.

    Raises
    ------
    KitError
        No usable rate — the message names the currency and the date.

    Examples
    --------
    >>> rates = pd.DataFrame({"currency": ["EUR", "EUR"], "usd_per_unit": [1.04, 1.17],
    ...                       "rate_date": pd.to_datetime(["2025-01-01", "2025-12-31"])})
    >>> rate_on(rates, "EUR", "2025-01-15"), rate_on(rates, "USD", "2025-01-15")
    (1.04, 1.0)
    """
    result = _lookup(rates, check_currency_code(currency), _day(on), max_age_days)
    if isinstance(result, str):
        raise KitError(f"{result}; add a row '{currency},{_day(on).date()},<usd_per_unit>' to fx_rates.csv")
    return result


def resolve_currencies(currencies: pd.Series | None, index: pd.Index, *, book_currency: str | None,
                       file: str, column: str = "currency") -> pd.Series:
    """The currency of each amount, or an error when an amount has none.

    Parameters
    ----------
    currencies
        The file's currency column as text (``None`` when the file has no such column).
    index
        Row labels (spreadsheet row numbers) of the amounts.
    book_currency
        The single currency the book declares (``book.yaml`` ``currency:``), or ``None``.
    file, column
        For messages.

    Returns
    -------
    pandas.Series
        Upper-case ISO codes; blanks filled with ``book_currency`` when it is declared.

    Raises
    ------
    KitError
        Amounts without a currency in a book that declares none (adding them up would add yen to
        dollars), or codes that are not three letters — every offending row listed.
    """
    declared = check_currency_code(book_currency) if book_currency else None
    if currencies is None:
        if declared is None:
            raise KitError(
                f"{file}: amounts have no currency column and the book declares no single currency; "
                f"add a '{column}' column (ISO codes such as USD, EUR) or declare 'currency: USD' in book.yaml"
            )
        return pd.Series(declared, index=index, dtype="str")
    text = currencies.astype("str").where(currencies.notna(), "").str.strip()
    problems: list[str] = []
    out: list[str | None] = []
    for row, value in zip(index, text):
        if value == "":
            if declared is None:
                problems.append(f"{file} row {row}, column {column}: blank — an amount without a currency cannot be "
                                "added to others; fill it in or declare the book's single currency in book.yaml")
            out.append(declared)
            continue
        try:
            out.append(check_currency_code(value))
        except ValueError as exc:
            problems.append(f"{file} row {row}, column {column}: {exc}")
            out.append(None)
    if problems:
        raise KitError(f"{file} has {len(problems)} currency problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return pd.Series(out, index=index, dtype="str")


def to_usd(amounts: pd.Series, currencies: pd.Series, rates: pd.DataFrame | None,
           on: date | str | pd.Timestamp | pd.Series, *, max_age_days: int = 31) -> pd.Series:
    """Convert amounts to USD at the rate of ``on`` (one day for all, or one per row).

    ``usd = amount × usd_per_unit(currency, on)``. Missing amounts stay missing.

    Raises
    ------
    KitError
        Any (currency, date) without a usable rate — all of them listed in one message — or a
        non-USD amount when ``rates`` is ``None``.

    Examples
    --------
    >>> rates = pd.DataFrame({"currency": ["EUR"], "rate_date": pd.to_datetime(["2025-01-01"]),
    ...                       "usd_per_unit": [1.04]})
    >>> to_usd(pd.Series([100000.0, 5.0]), pd.Series(["EUR", "USD"]), rates, "2025-01-01").tolist()
    [104000.0, 5.0]
    """
    if isinstance(on, pd.Series):
        days = pd.to_datetime(on).dt.normalize()
    else:
        days = pd.Series(_day(on), index=amounts.index)
    if rates is None:
        rates = pd.DataFrame({"currency": pd.Series(dtype="str"), "rate_date": pd.Series(dtype="datetime64[ns]"),
                              "usd_per_unit": pd.Series(dtype="float64")})
    factors: dict[tuple[str, pd.Timestamp], float] = {}
    missing: list[str] = []
    for cur, day in sorted(set(zip(currencies, days))):
        found = _lookup(rates, cur, day, max_age_days)
        if isinstance(found, str):
            missing.append(f"{found}; add a row '{cur},{day.date()},<usd_per_unit>' to fx_rates.csv")
        else:
            factors[(cur, day)] = found
    if missing:
        raise KitError(f"cannot convert to USD — {len(missing)} missing exchange rate(s):\n"
                       + "\n".join(f"  - {m}" for m in missing))
    factor = pd.Series([factors[(c, d)] for c, d in zip(currencies, days)], index=amounts.index, dtype="float64")
    return amounts.astype("float64") * factor


@dataclass(frozen=True)
class FxBridge:
    """Start and end ARR in USD at constant currency, and the FX effect shown apart.

    Attributes
    ----------
    table
        One row per account: ``currency``, ``start_local``, ``end_local``, ``start_rate``,
        ``end_rate`` (USD per unit on the period's first and last day), ``start_usd`` =
        start_local × start_rate, ``end_usd_constant`` = end_local × start_rate,
        ``end_usd_reported`` = end_local × end_rate, ``fx_effect`` = end_usd_reported −
        end_usd_constant.
    start_date, end_date
        The rate days.
    """

    table: pd.DataFrame
    start_date: pd.Timestamp
    end_date: pd.Timestamp

    @property
    def start_usd(self) -> float:
        """Σ start_local × start rate."""
        return float(self.table["start_usd"].sum())

    @property
    def end_usd_constant(self) -> float:
        """Σ end_local × start rate — ending ARR at constant currency."""
        return float(self.table["end_usd_constant"].sum())

    @property
    def end_usd_reported(self) -> float:
        """Σ end_local × end rate — ending ARR as a finance report at period-end rates shows it."""
        return float(self.table["end_usd_reported"].sum())

    @property
    def fx_effect(self) -> float:
        """end_usd_reported − end_usd_constant: the change due to exchange rates alone."""
        return float(self.table["fx_effect"].sum())

    @property
    def nrr_pct(self) -> float | None:
        """100 × Σ end_usd_constant / Σ start_usd over accounts with start ARR > 0 (None if none)."""
        cohort = self.table.loc[self.table["start_usd"] > 0]
        begin = float(cohort["start_usd"].sum())
        return None if begin == 0 else 100.0 * float(cohort["end_usd_constant"].sum()) / begin

    @property
    def grr_pct(self) -> float | None:
        """100 × Σ min(end_usd_constant, start_usd) / Σ start_usd over accounts with start ARR > 0."""
        cohort = self.table.loc[self.table["start_usd"] > 0]
        begin = float(cohort["start_usd"].sum())
        kept = cohort[["end_usd_constant", "start_usd"]].min(axis=1).sum()
        return None if begin == 0 else 100.0 * float(kept) / begin

    def summary(self) -> pd.DataFrame:
        """Totals as a small table (for reports)."""
        return pd.DataFrame({
            "measure": ["start ARR (USD, start rates)", "end ARR (USD, constant currency)",
                        "end ARR (USD, period-end rates)", "FX effect"],
            "usd": [self.start_usd, self.end_usd_constant, self.end_usd_reported, self.fx_effect],
        })

    def _repr_html_(self) -> str:
        return (f"<b>ARR at constant currency</b> ({self.start_date.date()} rates; FX effect at "
                f"{self.end_date.date()} rates shown apart)" + self.summary().to_html(index=False)
                + self.table.to_html(index=False))


def fx_bridge(frame: pd.DataFrame, rates: pd.DataFrame | None, start_date: date | str | pd.Timestamp,
              end_date: date | str | pd.Timestamp, *, start_col: str, end_col: str,
              id_col: str = "account_id", currency_col: str = "currency", book_currency: str | None = None,
              file: str = "accounts", max_age_days: int = 31) -> FxBridge:
    """Start and end ARR in USD at constant currency (start-of-period rates), FX effect apart.

    Parameters
    ----------
    frame
        One row per account with local-currency ``start_col`` and ``end_col`` amounts and a
        ``currency_col`` (may be absent when ``book_currency`` is declared).
    rates
        Checked rates (:func:`read_fx_rates`); ``None`` only for a single-currency USD book.
    start_date, end_date
        First and last day of the period (start rates value both ends at constant currency).
    book_currency
        The book's declared single currency, used for rows without one.

    Raises
    ------
    KitError
        Amounts without a currency (and no declared one); a missing rate (naming currency and date).

    Examples
    --------
    >>> book = pd.DataFrame({"account_id": ["A", "B"], "currency": ["USD", "EUR"],
    ...                      "start": [100.0, 100.0], "end": [100.0, 100.0]})
    >>> rates = pd.DataFrame({"currency": ["EUR", "EUR"], "usd_per_unit": [1.0, 1.5],
    ...                       "rate_date": pd.to_datetime(["2025-01-01", "2025-12-31"])})
    >>> b = fx_bridge(book, rates, "2025-01-01", "2025-12-31", start_col="start", end_col="end")
    >>> b.start_usd, b.end_usd_constant, b.end_usd_reported, b.fx_effect  # 100+100; 100+150
    (200.0, 200.0, 250.0, 50.0)
    """
    start, end = _day(start_date), _day(end_date)
    if end < start:
        raise KitError(f"the period ends ({end.date()}) before it starts ({start.date()})")
    currencies = resolve_currencies(frame[currency_col] if currency_col in frame.columns else None, frame.index,
                                    book_currency=book_currency, file=file, column=currency_col)
    start_local = pd.to_numeric(frame[start_col], errors="raise").astype("float64")
    end_local = pd.to_numeric(frame[end_col], errors="raise").astype("float64")
    ones = pd.Series(1.0, index=frame.index)
    start_rate = to_usd(ones, currencies, rates, start, max_age_days=max_age_days)
    end_rate = to_usd(ones, currencies, rates, end, max_age_days=max_age_days)
    table = pd.DataFrame({
        id_col: frame[id_col] if id_col in frame.columns else pd.Series(frame.index, index=frame.index),
        "currency": currencies,
        "start_local": start_local,
        "end_local": end_local,
        "start_rate": start_rate,
        "end_rate": end_rate,
        "start_usd": start_local * start_rate,
        "end_usd_constant": end_local * start_rate,
        "end_usd_reported": end_local * end_rate,
    })
    table["fx_effect"] = table["end_usd_reported"] - table["end_usd_constant"]
    return FxBridge(table=table.reset_index(drop=True), start_date=start, end_date=end)


def convert_frame(frame: pd.DataFrame, rates: pd.DataFrame | None, on: date | str | pd.Timestamp | pd.Series, *,
                  amount_cols: tuple[str, ...] = ("arr",), currency_col: str = "currency",
                  book_currency: str | None = None, file: str = "arr_monthly.csv",
                  max_age_days: int = 31) -> pd.DataFrame:
    """A copy of ``frame`` with ``amount_cols`` in USD at the rates of ``on``; originals kept as ``<col>_local``.

    For constant-currency KPIs pass the period's first day as ``on`` for every month of the
    period; pass a per-row Series of month-ends for "reported" figures.
    """
    currencies = resolve_currencies(frame[currency_col] if currency_col in frame.columns else None, frame.index,
                                    book_currency=book_currency, file=file, column=currency_col)
    out = frame.copy()
    out[currency_col] = currencies
    for col in amount_cols:
        out[f"{col}_local"] = frame[col]
        out[col] = to_usd(pd.to_numeric(frame[col], errors="raise"), currencies, rates, on, max_age_days=max_age_days)
    return out
