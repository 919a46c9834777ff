"""``kpi-kit metrics``: one CSM's KPIs as JSON, or a readable scorecard (all CSMs without --csm)."""

from __future__ import annotations

import argparse
import json

from kpi_kit.commands._common import add_book_args, money_note, period_text, resolve_period


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("metrics", help="compute a CSM's KPIs for a period (JSON or scorecard table)",
                       description="Compute the eight KPIs of a CSM for a period of whole months.")
    add_book_args(p)
    p.add_argument("--csm", metavar="ID", default=None, help="CSM id (default: every CSM, team scorecard)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", default=None, help="date the figures speak from (default: end of period)")
    p.add_argument("--attribution", choices=("start", "end"), default="start",
                   help="with assignments.csv: the owner at period start (default) or end answers for an account")
    p.add_argument("--json", action="store_true", help="print one JSON object (a list without --csm)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from kpi_kit import fmt
    from kpi_kit.data import load_book
    from kpi_kit.metrics import csm_metrics
    from kpi_kit.scorecard import STATUS_MARK, scorecard

    book = load_book(args.data)
    period = resolve_period(book, args.start, args.end)
    ids = [book.check_csm(args.csm)] if args.csm is not None else book.csm_ids()
    if args.json:
        results = [csm_metrics(book, c, period, as_of=args.as_of, attribution=args.attribution) for c in ids]
        print(json.dumps(results[0] if args.csm is not None else results, indent=2))
        return 0
    for c in ids:
        card = scorecard(book, c, period, as_of=args.as_of, attribution=args.attribution)
        print(f"\n{card.csm_name} ({card.csm_id}) — {period_text(book, period)}, as of {card.as_of} — book: {book.name}")
        if money_note(book, period):
            print(f"  {money_note(book, period)}")
        width = max(len(label) for label in card.table["label"])
        print(f"  {'KPI':<{width}}  {'target':>12}  {'actual':>12}  {'attain.':>8}  status")
        for r in card.table.itertuples(index=False):
            print(f"  {r.label:<{width}}  {r.target_text:>12}  {r.actual_text:>12}  "
                  f"{fmt.pct(r.attainment_pct, 0):>8}  {STATUS_MARK[r.status]} {r.status}")
        print(f"  Diagnosis: {card.diagnosis()}")
    return 0
