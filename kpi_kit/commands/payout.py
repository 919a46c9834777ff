"""``kpi-kit payout``: variable pay for an attainment, or a CSM's pay statement for a period."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kpi_kit.commands._common import add_book_args, resolve_period

HELP = "variable pay and total earnings under a comp plan (see docs/comp_plan.md)"

EPILOG = """\
examples:
  kpi-kit payout --attainment 120              # seed plan: 120 % pays $30,000 variable, $110,000 total
  kpi-kit payout --plan comp_plan.yaml --attainment 95 --json
  kpi-kit payout --data DIR --csm csm_01 --start 2026-07 --end 2026-09

--attainment is a PERCENTAGE: 120 means 120 % (not 1.2). Amounts for --attainment are annual;
a --csm statement pro-rates base and variable target to the period (months / 12).
In --json output "attainment" is a ratio (1.2) and "attainment_pct" a percentage (120.0).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("payout", help=HELP, description=HELP, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", metavar="FILE",
                   help="comp_plan.yaml (default: the book's comp_plan.yaml with --csm, else the seed's plan)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--attainment", metavar="PCT",
                      help="overall attainment as a percentage, e.g. 120 for 120 %% (a trailing %% is allowed)")
    what.add_argument("--csm", metavar="ID", help="CSM id: print the pay statement from the CSM's scorecard")
    add_book_args(p)  # --data, --start, --end (used with --csm)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)
    return p


def _parse_pct(text: str) -> Any:
    from decimal import Decimal

    from kpi_kit.comp import as_decimal
    from kpi_kit.errors import KitError

    raw = str(text).strip().removesuffix("%").strip()
    try:
        value = as_decimal(raw, "--attainment")
    except KitError:
        raise KitError(f"--attainment {text!r} is not a number; give a percentage such as 120 (for 120 %)") from None
    if value < 0:
        raise KitError(f"--attainment {text!r} is negative; give a percentage >= 0 such as 120 (for 120 %)")
    return value / Decimal(100)


def _money(plan: Any, x: Any) -> str:
    from kpi_kit import fmt

    return fmt.money(x, plan.currency, 2)  # "$1,000.00", "€1,000.00", "CHF 1,000.00"


def _pct(x: Any, digits: int = 2) -> str:
    return f"{float(x) * 100:.{digits}f} %"


def _render(s: Any, heading: str) -> str:
    plan = s.plan
    lines = [heading, f"plan: {plan.name} ({plan.source})", ""]
    if s.lines and s.lines[0].metric != "overall":
        header = f"{'metric':<12} {'kpi':<24} {'target':>12} {'actual':>12} {'attainment':>11} {'weight':>8} {'payout':>14}"
        lines += [header, "-" * len(header)]
        for ln in s.lines:
            lines.append(
                f"{ln.metric:<12} {ln.kpi:<24} {float(ln.target):>12,.2f} {float(ln.actual):>12,.2f} "
                f"{_pct(ln.attainment, 1):>11} {_pct(ln.weight, 0):>8} {ln.payout:>14,.2f}"
            )
        lines.append("")
    basis = "weighted attainment" if plan.curve_applies_to == "overall" else "weighted attainment (curve per metric)"
    rows = [
        (basis if s.lines and s.lines[0].metric != "overall" else "attainment", _pct(s.attainment)),
        ("payout multiple", f"{_pct(s.multiple)} of the variable target"),
        ("variable payout", f"{_money(plan, s.variable_payout)}  (target {_money(plan, s.variable_target)})"),
        ("base", _money(plan, s.base)),
        ("total earnings", _money(plan, s.total_earnings)),
        ("OTE", f"{_money(plan, s.ote)}  (base + variable target)"),
    ]
    lines += [f"{k:<22} {v}" for k, v in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from kpi_kit.comp import load_plan, pay_at, statement
    from kpi_kit.errors import KitError

    if args.attainment is not None:
        if args.data or args.start or args.end:
            raise KitError("--data, --start and --end go with --csm; with --attainment give only --plan and --json")
        plan = load_plan(args.plan) if args.plan else load_plan()
        s = pay_at(plan, _parse_pct(args.attainment))
        if args.json:
            out = s.to_dict()
            out.pop("metrics")
            print(json.dumps(out, indent=2))
        else:
            print(_render(s, f"Annual pay at {_pct(s.attainment)} attainment"))
        return 0

    from kpi_kit.data import load_book
    from kpi_kit.scorecard import scorecard

    book = load_book(args.data or None)
    csm_id = book.check_csm(args.csm)
    period = resolve_period(book, args.start, args.end)
    if args.plan:
        plan = load_plan(args.plan)
    elif book.comp_plan is not None:
        plan = load_plan(book.comp_plan, source=str(book.path / "comp_plan.yaml"))
    else:
        plan = load_plan()
    card = scorecard(book, csm_id, period)
    s = statement(plan, card, months=period.months, label=f"{csm_id} {period}")
    if args.json:
        out = {"csm_id": csm_id, "csm_name": book.csm_name(csm_id), "start": str(period.start),
               "end": str(period.end), **s.to_dict()}
        print(json.dumps(out, indent=2))
    else:
        print(_render(s, f"Pay statement — {book.csm_name(csm_id)} ({csm_id}), {period} ({period.months} months)"))
    return 0
