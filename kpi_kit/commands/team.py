"""``kpi-kit team``: every CSM's KPIs and the team's roll-up (JSON, or a readable table)."""

from __future__ import annotations

import argparse
import json

from kpi_kit.commands._common import add_book_args, money_note, period_text, resolve_period


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "team", help="every CSM's KPIs, the team roll-up and per-segment roll-ups for a period",
        description="Every CSM's KPIs side by side with the team's and each segment's, rolled up correctly: "
                    "counts and ARR summed, percentages recomputed from the summed parts (never averaged). "
                    "Segment rows are computed on the segment's accounts.")
    add_book_args(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", default=None, help="date the figures speak from (default: end of period)")
    p.add_argument("--attribution", choices=("start", "end"), default="start",
                   help="with assignments.csv: the owner at period start (default) or end answers for an account")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object: {"csms": [...], "team": {...}, "segments": [...], "teams": [...]}')
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from kpi_kit import fmt
    from kpi_kit.cascade import rollup_check
    from kpi_kit.data import load_book
    from kpi_kit.team import ARR_NOTE, not_recorded_sentence, team_rollup

    book = load_book(args.data)
    period = resolve_period(book, args.start, args.end)
    result = team_rollup(book, period, as_of=args.as_of, attribution=args.attribution)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    print(f"{book.name} — {period_text(book, period)}, as of {result.as_of}: {len(result.csms)} CSMs")
    if money_note(book, period):
        print(money_note(book, period))
    print("Team and segment percentages are recomputed from summed parts; segments are computed on their accounts.\n")
    if not_recorded_sentence(book):
        print(not_recorded_sentence(book))
    print(result.display_table().to_string(index=False))
    print(f"\n{ARR_NOTE}")
    print(result.arr_bridge())
    check = rollup_check(book, period, as_of=args.as_of, attribution=args.attribution)
    print("\nCascade roll-up check (do the CSMs' targets reach the company goals? where is the team?)")
    width = max(len(label) for label in check.table["label"])
    print(f"  {'KPI':<{width}}  {'goal':>12}  {'targets':>12}  {'targets vs goal':<30}  {'team':>12}  team vs goal")
    for r in check.table.itertuples(index=False):
        unit = {"money": "money", "pct": "pct"}.get(_unit(r.kpi), "count")
        show = {"pct": fmt.pct, "money": lambda v: fmt.money(v, book.reporting_currency), "count": fmt.count}[unit]
        print(f"  {r.label:<{width}}  {show(r.company_goal):>12}  {show(r.csm_target):>12}  "
              f"{r.target_shortfall_text:<30}  {show(r.team_actual):>12}  {r.actual_shortfall_text}")
    return 0


def _unit(kpi: str) -> str:
    from kpi_kit.scorecard import KPIS

    return {k: unit for k, _, _, unit, _ in KPIS}[kpi]
