"""Team views: every CSM's KPIs side by side and the team's figures rolled up correctly.

Roll-up rule
    Every KPI is a ratio of additive *parts* (``kpi_kit.metrics.PART_KEYS``). The team's parts are the
    sums of the CSMs' parts and the team's percentages are recomputed from them
    (:func:`kpi_kit.metrics.rollup`): team GRR = Σ retained ARR / Σ beginning ARR and team NRR =
    Σ ending ARR / Σ beginning ARR over the CSMs' beginning cohorts, never an average of the CSMs'
    percentages (the average weighs a $50k book like a $5M one).

Segment roll-ups
    A segment's figures are computed on the **accounts of that segment** (``accounts.segment``), not on
    the CSMs who "mostly" work in it: a CSM with a mixed book contributes each account to its own
    segment. ARR, cohort, churn, coverage, renewals, risk alerts and lifecycle touchpoints belong to
    the account, so they split exactly. Activity counts (calls, touchpoints, QBRs) and SQLs are
    attributed to the segment of the account they were logged on (or raised for). Every activity,
    SQL and account has exactly one account and one segment, so the segments' parts add up to the
    team's parts — a test checks this on random books.

    Technically the same code that computes per-CSM parts (:func:`kpi_kit.metrics.metric_parts`) is
    run on the book *regrouped* by another owner key (the account's segment, or the pair
    (CSM, segment)), so the definitions cannot drift apart.

Everything here is pure: a :class:`~kpi_kit.data.Book` and a :class:`~kpi_kit.periods.Period` in,
DataFrames or frozen result objects out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.data import Book
from kpi_kit.metrics import COUNT_KEYS, as_of_date, attributed, finish, metric_parts, rollup, to_python
from kpi_kit.periods import Period

#: Segments in display order (``accounts.segment`` allowed values).
SEGMENTS: tuple[str, ...] = ("enterprise", "mid-market", "smb")

#: Columns of the readable team table (``kpi-kit team`` without ``--json``): key, header, unit.
DISPLAY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("calls", "calls", "count"), ("touchpoints", "touches", "count"), ("coverage_pct", "coverage", "pct"),
    ("sqls", "SQLs", "count"), ("sql_pipeline", "pipeline", "money"), ("beginning_arr", "begin ARR", "money"),
    ("ending_arr", "end ARR (cohort)", "money"), ("new_arr", "new-logo ARR", "money"), ("grr_pct", "GRR", "pct"),
    ("nrr_pct", "NRR", "pct"),
    ("logo_churn_monthly_pct", "logo churn/mo", "pct"), ("closed_alert_pct", "alerts saved", "pct"),
)


#: What the roll-up's ARR columns are (shown under the table and by ``kpi-kit team``).
ARR_NOTE = ("begin ARR: every account's ARR at the end of the month before the period. end ARR (cohort): "
            "those same accounts' ARR at the period end — what GRR and NRR measure. new-logo ARR: accounts won "
            "during the period, counted apart and in neither GRR nor NRR.")


def _as_period(start: str | Period, end: str | None = None) -> Period:
    return start if isinstance(start, Period) else Period.parse(start, end)


def _segment_of(book: Book) -> pd.Series:
    return book.accounts.set_index("account_id")["segment"]


def _parts_by(book: Book, period: Period, as_of: str | pd.Timestamp | None, attribution: str,
              keys: Callable[[Book], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Metric parts per group, the group of each account / activity / SQL given row by row.

    ``keys(book)`` returns three frames of group key columns (same names in all three), aligned with
    the rows of ``book.accounts``, ``book.activities`` and ``book.sqls`` of the *attributed* book (the
    owners of the period, see :func:`kpi_kit.metrics.attributed`). The book is rewritten so each group
    is a pseudo-CSM (its ownership history already applied) and
    :func:`kpi_kit.metrics.metric_parts` runs unchanged.
    """
    book = attributed(book, period, attribution)
    accounts, activities, sqls = keys(book)
    cols = list(accounts.columns)
    groups = pd.concat([accounts, activities, sqls], ignore_index=True).drop_duplicates()
    groups = groups.sort_values(cols, kind="stable").reset_index(drop=True)
    groups["_group"] = pd.Series([f"g{i}" for i in range(len(groups))], index=groups.index, dtype="str")

    def code(keys: pd.DataFrame) -> pd.Series:
        coded = keys.reset_index(drop=True).merge(groups, on=cols, how="left")["_group"]
        return pd.Series(coded.to_numpy(), dtype="str")

    def recode(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
        out = frame.reset_index(drop=True).copy()
        out["csm_id"] = code(keys)
        return out

    pseudo = pd.DataFrame({"csm_id": groups["_group"], "csm_name": groups["_group"],
                           "team": pd.Series([""] * len(groups), dtype="str")})
    regrouped = replace(book, csms=pseudo, accounts=recode(book.accounts, accounts),
                        activities=recode(book.activities, activities), sqls=recode(book.sqls, sqls),
                        assignments=None)
    parts = metric_parts(regrouped, period, as_of)
    if len(cols) == 1:
        parts.index = pd.Index(groups[cols[0]], name=cols[0], dtype="str")
    else:
        parts.index = pd.MultiIndex.from_frame(groups[cols])
    return parts


def _segment_order(index: pd.Index) -> list[str]:
    known = [s for s in SEGMENTS if s in index]
    return known + sorted(s for s in index if s not in SEGMENTS)


def segment_parts(book: Book, period: Period, as_of: str | pd.Timestamp | None = None,
                  attribution: str = "start") -> pd.DataFrame:
    """The additive KPI parts per account segment (index ``segment``), see the module docstring.

    Accounts belong to their own segment; activities and SQLs to the segment of their account. The
    sum over segments equals the sum over CSMs (:func:`kpi_kit.metrics.metric_parts`) for every part.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> book, p = load_book(), Period.parse("2026-07", "2026-09")
    >>> seg, csm = segment_parts(book, p), metric_parts(book, p)
    >>> bool(seg["beginning_arr"].sum() == csm["beginning_arr"].sum())
    True
    """
    def keys(b: Book) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        seg = _segment_of(b)
        return (pd.DataFrame({"segment": b.accounts["segment"].astype("str").to_numpy()}),
                pd.DataFrame({"segment": b.activities["account_id"].map(seg).astype("str").to_numpy()}),
                pd.DataFrame({"segment": b.sqls["account_id"].map(seg).astype("str").to_numpy()}))

    parts = _parts_by(book, period, as_of, attribution, keys)
    return parts.loc[_segment_order(parts.index)]


def slice_parts(book: Book, period: Period, as_of: str | pd.Timestamp | None = None,
                attribution: str = "start") -> pd.DataFrame:
    """The additive KPI parts per (CSM, segment) slice (MultiIndex ``csm_id, segment``).

    A slice is one CSM's accounts in one segment; activities and SQLs go to (who logged them, the
    segment of their account). Summing the slices of a CSM gives that CSM's parts; summing the slices
    of a segment gives :func:`segment_parts`. Slices with activity but no book accounts (a CSM who
    helped on a colleague's account) are kept so the sums hold.
    """
    def keys(b: Book) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        seg = _segment_of(b)

        def frame(who: pd.Series, account_id: pd.Series) -> pd.DataFrame:
            return pd.DataFrame({"csm_id": who.astype("str").to_numpy(),
                                 "segment": account_id.map(seg).astype("str").to_numpy()})

        return (frame(b.accounts["csm_id"], b.accounts["account_id"]),
                frame(b.activities["csm_id"], b.activities["account_id"]),
                frame(b.sqls["csm_id"], b.sqls["account_id"]))

    return _parts_by(book, period, as_of, attribution, keys)


def _json_row(row: pd.Series, as_of: str, attribution: str) -> dict[str, Any]:
    """A finished row as JSON-ready values: counts as int, money as float, no data as None."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        value = to_python(value)
        if key in COUNT_KEYS and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[str(key)] = value
    out["attribution"] = attribution
    out["as_of"] = as_of
    return out


@dataclass(frozen=True)
class TeamRollup:
    """Every CSM's KPIs, the team's roll-up, and per-segment and per-team roll-ups for one period.

    Attributes
    ----------
    csms
        One row per CSM (index ``csm_id``; ``csm_name``, ``team`` then the columns of
        :func:`kpi_kit.metrics.finish`).
    team
        One row (index ``"team"``): the CSMs' parts summed, percentages recomputed.
    segments
        One row per account segment (index ``segment``), computed on the segment's accounts.
    teams
        One row per value of ``csms.team`` (index ``team``), for books holding several teams.
    table
        ``csms`` followed by the team row (what the report shows).
    """

    period: Period
    as_of: str
    attribution: str
    csms: pd.DataFrame = field(repr=False)
    team: pd.DataFrame = field(repr=False)
    segments: pd.DataFrame = field(repr=False)
    teams: pd.DataFrame = field(repr=False)
    currency: str = "USD"  # the book's reporting currency (ARR and pipeline columns)

    @property
    def table(self) -> pd.DataFrame:
        team = self.team.assign(csm_name="Team", team="")
        return pd.concat([self.csms, team[self.csms.columns]])

    def to_json(self) -> dict[str, Any]:
        """``{"period", "as_of", "attribution", "csms": [...], "team": {...}, "segments": [...], "teams": [...]}``.

        Each CSM object has the keys of :func:`kpi_kit.metrics.csm_metrics` (``kpi-kit metrics --json``);
        ``team`` has the same keys (``csm_id`` is ``"team"``) plus ``csm_count``; segment and team
        objects carry ``segment`` / ``team`` instead of ``csm_id``.
        """
        metric_cols = [c for c in self.csms.columns if c not in ("csm_name", "team")]

        def row(values: pd.Series) -> dict[str, Any]:
            return _json_row(values[metric_cols], self.as_of, self.attribution)

        return {
            "period": {"start": str(self.period.start), "end": str(self.period.end), "months": self.period.months},
            "as_of": self.as_of, "attribution": self.attribution,
            "csms": [{"csm_id": str(cid), **row(r)} for cid, r in self.csms.iterrows()],
            "team": {"csm_id": "team", **row(self.team.iloc[0]), "csm_count": len(self.csms)},
            "segments": [{"segment": str(s), **row(r)} for s, r in self.segments.iterrows()],
            "teams": [{"team": str(t), **row(r)} for t, r in self.teams.iterrows()],
        }

    def display_table(self) -> pd.DataFrame:
        """The readable table: CSM rows, the team row and the segment rows, formatted for display."""
        rows = []
        for key, r in self.table.iterrows():
            who = "Team (all CSMs)" if key == "team" else f"{r['csm_name']} ({key})"
            rows.append({"who": who, **{head: _format(r[col], unit, self.currency)
                                        for col, head, unit in DISPLAY_COLUMNS}})
        for key, r in self.segments.iterrows():
            rows.append({"who": f"segment: {key}",
                         **{head: _format(r[col], unit, self.currency) for col, head, unit in DISPLAY_COLUMNS}})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        body = self.display_table().to_html(index=False, escape=True)
        return (f"<div><p><b>Team roll-up</b> — {fmt.text(self.period)}, as of {fmt.text(self.as_of)}. "
                "Team and segment percentages are recomputed from summed parts (never averaged); "
                "segment rows are computed on the segment's accounts.</p>"
                f"{body}<p>{fmt.text(ARR_NOTE)}</p></div>")

    def arr_bridge(self, money: Callable[[Any], str] | None = None) -> str:
        """The team's end ARR (cohort) + new-logo ARR = the book's ARR at the period end, in one sentence.

        ``money`` formats amounts (default :func:`kpi_kit.fmt.money` in the book's currency; pass
        :func:`kpi_kit.fmt.markdown_money` for Markdown). Accounts with unknown ARR are in neither part.

        >>> from kpi_kit.data import load_book
        >>> print(team_rollup(load_book(), "2026-07", "2026-09").arr_bridge())
        Book ARR at the end of 2026-09: $12,184,070 = end ARR (cohort) $11,995,470 + new-logo ARR $188,600 (8 new logos).
        """
        money = money or (lambda v: fmt.money(v, self.currency))
        t = self.team.iloc[0]
        new = int(t["new_accounts"]) if not fmt.is_missing(t["new_accounts"]) else 0
        fx_moved = not fmt.is_missing(t["fx_effect"]) and abs(float(t["fx_effect"])) >= 0.5
        fx = ", at the period's opening exchange rates" if fx_moved else ""
        return (f"Book ARR at the end of {self.period.end}: {money(t['ending_arr'] + t['new_arr'])} = end ARR (cohort) "
                f"{money(t['ending_arr'])} + new-logo ARR {money(t['new_arr'])} "
                f"({fmt.count(new)} new logo{'' if new == 1 else 's'}){fx}.")


def _format(value: Any, unit: str, currency: str = "USD") -> str:
    if unit == "pct":
        return fmt.pct(value)
    if unit == "money":
        return fmt.money(value, currency)
    return fmt.count(value)


def team_rollup(book: Book, start: str | Period, end: str | None = None,
                as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> TeamRollup:
    """Every CSM's KPIs and the team's, segments' and teams' roll-ups for the period.

    Team, segment and team-name rows sum the additive parts and recompute every percentage
    (:func:`kpi_kit.metrics.rollup`), e.g. team NRR % = 100 × Σ ending ARR / Σ beginning ARR over the
    CSMs' beginning cohorts. Segment rows are computed on the segment's accounts (module docstring).
    ``attribution`` decides who answers for an account that changed hands (``start`` / ``end``, see
    :func:`kpi_kit.metrics.attributed`); the team's figures do not depend on it.

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> r = team_rollup(load_book(), "2026-07", "2026-09")
    >>> t = r.team.iloc[0]
    >>> bool(abs(t["nrr_pct"] - 100 * r.csms["ending_arr"].sum() / r.csms["beginning_arr"].sum()) < 1e-9)
    True
    """
    period = _as_period(start, end)
    day = str(as_of_date(period, as_of).date())
    parts = metric_parts(book, period, as_of, attribution=attribution)
    csms = finish(parts, period)
    info = book.csms.set_index("csm_id")[["csm_name", "team"]]
    csms.insert(0, "csm_name", info["csm_name"].reindex(csms.index).astype("str"))
    csms.insert(1, "team", info["team"].reindex(csms.index).astype("str"))
    team_of = info["team"].reindex(parts.index).astype("str").rename("team")
    return TeamRollup(period=period, as_of=day, attribution=attribution, csms=csms, team=rollup(parts, period),
                      segments=finish(segment_parts(book, period, as_of, attribution), period),
                      teams=rollup(parts, period, by=team_of), currency=book.reporting_currency)


def attainment_table(book: Book, start: str | Period, end: str | None = None,
                     as_of: str | pd.Timestamp | None = None, attribution: str = "start") -> pd.DataFrame:
    """Every CSM's balanced scorecard stacked (long format): one row per (CSM, KPI).

    Columns: ``csm_id, csm_name`` then the columns of :attr:`kpi_kit.scorecard.Scorecard.table`
    (``kpi, label, kind, target, actual, attainment_pct, status, unit, higher_is_better, target_text,
    actual_text, gap``). Actuals come from one team pass (:func:`kpi_kit.metrics.metric_parts`),
    targets from :func:`kpi_kit.cascade.csm_target_table` (GRR / NRR: the period's share of the annual
    rates in ``targets.yaml``, like the period's actuals), attainment, status and gap sentence from
    the scorecard's own functions — so every row equals the CSM's own scorecard (a test checks it).
    Pivot with :func:`attainment_matrix` for a side-by-side view.
    """
    from kpi_kit.cascade import csm_target_table
    from kpi_kit.scorecard import KPIS, attainment, gap_sentence, status

    period = _as_period(start, end)
    actuals = finish(metric_parts(book, period, as_of, attribution=attribution), period)
    targets = csm_target_table(book, period, attribution)
    cur = book.reporting_currency
    rows = []
    for csm_id in book.csm_ids():
        m = {key: to_python(value) for key, value in actuals.loc[csm_id].items()}
        name = book.csm_name(csm_id)
        for kpi, label, kind, unit, higher in KPIS:
            actual, target = m.get(kpi), to_python(targets.at[csm_id, kpi])
            att = attainment(actual, target, higher)
            rows.append({
                "csm_id": csm_id, "csm_name": name, "kpi": kpi, "label": label, "kind": kind, "target": target,
                "actual": actual, "attainment_pct": att, "status": status(att), "unit": unit,
                "higher_is_better": higher, "target_text": _format(target, unit, cur),
                "actual_text": _format(actual, unit, cur), "gap": gap_sentence(kpi, label, unit, actual, target, m, cur),
            })
    table = pd.DataFrame(rows, columns=["csm_id", "csm_name", "kpi", "label", "kind", "target", "actual",
                                        "attainment_pct", "status", "unit", "higher_is_better", "target_text",
                                        "actual_text", "gap"])
    table["attainment_pct"] = table["attainment_pct"].astype("float64")
    return table


def attainment_matrix(attainment: pd.DataFrame, text: bool = False) -> pd.DataFrame:
    """Attainment side by side: one row per KPI (label), one column per CSM name.

    Numbers are attainment % (NaN = no data). With ``text=True`` the cells read ``"94.2 % ⚠️"``
    (attainment and the scorecard's status mark; "no data" when there is none).
    """
    from kpi_kit.scorecard import STATUS_MARK, attainment_text

    frame = attainment.copy()
    if frame.drop_duplicates("csm_id")["csm_name"].duplicated().any():  # two CSMs share a name
        frame["csm_name"] = frame["csm_name"] + " (" + frame["csm_id"] + ")"
    order = list(dict.fromkeys(frame["label"]))
    names = list(dict.fromkeys(frame["csm_name"]))
    if text:
        frame["cell"] = [
            fmt.NO_DATA if fmt.is_missing(a) else f"{attainment_text(a)} {STATUS_MARK[s]}"
            for a, s in zip(frame["attainment_pct"], frame["status"], strict=True)
        ]
        value = "cell"
    else:
        value = "attainment_pct"
    wide = frame.pivot(index="label", columns="csm_name", values=value)
    wide = wide.reindex(index=order, columns=names)
    # no axis names: pandas would show "label" / "csm_name" as an extra header row
    return wide.rename_axis(index=None, columns=None)


#: Recorded sources the team headline and roll-up depend on, with the figures each one feeds.
_HEADLINE_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("activities", "activities", "coverage, calls"),
    ("sqls", "SQLs", "SQL"),
    ("risk_alerts", "risk alerts", "alert"),
)


def not_recorded_sentence(book: Book) -> str:
    """One sentence naming what the book does not record (activities, SQLs, risk alerts), or ``""``.

    Said once, so the figures that depend on them can read "no data" without a reader wondering why.

    >>> from dataclasses import replace
    >>> from kpi_kit.data import load_book
    >>> not_recorded_sentence(load_book())
    ''
    >>> not_recorded_sentence(replace(load_book(), not_recorded=frozenset({"activities", "sqls"})))
    'Activities and SQLs are not recorded in this book: coverage, calls and SQL figures read “no data”.'
    """
    missing = [(name, feeds) for stem, name, feeds in _HEADLINE_SOURCES if not book.recorded(stem)]
    if not missing:
        return ""
    names = fmt.join_and([name for name, _ in missing])
    figures = fmt.join_and(", ".join(feeds for _, feeds in missing).split(", "))
    return f"{names[0].upper()}{names[1:]} are not recorded in this book: {figures} figures read “no data”."


def headline(book: Book, rollup: TeamRollup, money: Callable[[Any], str] | None = None) -> str:
    """The team's figures in one sentence for the top of the team report.

    GRR and NRR on the beginning ARR, then coverage and calls (when the book records activities) and
    SQLs with their pipeline (when it records SQLs); what the book does not record is said once
    (:func:`not_recorded_sentence`) instead of "no data calls". ``money`` formats amounts (default
    :func:`kpi_kit.fmt.money` in the book's currency; :func:`kpi_kit.fmt.markdown_money` for Markdown).

    >>> from kpi_kit.data import load_book
    >>> book = load_book()
    >>> headline(book, team_rollup(book, "2026-07", "2026-09"))
    'Team GRR 98.2 %, NRR 103.1 % on $11,637,530 of beginning ARR; coverage 98.1 %; 475 calls; 28 SQLs worth $781,000.'
    """
    money = money or (lambda v: fmt.money(v, book.reporting_currency))
    t = rollup.team.iloc[0]
    parts = [f"Team GRR {fmt.pct(t['grr_pct'])}, NRR {fmt.pct(t['nrr_pct'])} on {money(t['beginning_arr'])} "
             "of beginning ARR"]
    if book.recorded("activities"):
        parts += [f"coverage {fmt.pct(t['coverage_pct'])}", f"{fmt.count(t['calls'])} calls"]
    if book.recorded("sqls"):
        parts.append(f"{fmt.count(t['sqls'])} SQLs worth {money(t['sql_pipeline'])}")
    text = "; ".join(parts) + "."
    missing = not_recorded_sentence(book)
    return f"{text} {missing}" if missing else text
