"""``kpi-kit report``: the weekly CSM reports (one HTML + notebook per CSM, an index, a team CSV)."""

from __future__ import annotations

import argparse
from typing import Any

from kpi_kit.commands._common import PERIOD_HELP


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="run the CSM report for every CSM (offline HTML + executed notebook each, index, team CSV)",
        description=(
            "Execute notebooks/reports/csm_report.ipynb once per CSM (papermill, in parallel) and write "
            "OUT/<start>_<end>/<csm_id>.html and .ipynb, index.html and team_scorecard.csv. A failing CSM "
            "does not stop the others; the exit code is 1 if any report failed."
        ),
    )
    parser.add_argument("--data", metavar="DIR", default=None, help="book folder (default: the bundled sample book)")
    parser.add_argument("--start", metavar="YYYY-MM|FY2026Q1",
                        help=f"first month of the period: {PERIOD_HELP}; a fiscal quarter alone is the whole quarter; "
                             "default: the latest full fiscal quarter in the data")
    parser.add_argument("--end", metavar="YYYY-MM|FY2026Q1", help=f"last month of the period (inclusive): {PERIOD_HELP}")
    parser.add_argument("--csm", metavar="ID", nargs="+", action="extend", dest="csm_ids",
                        help="only these CSM ids (default: every CSM in csms.csv)")
    parser.add_argument("--out", metavar="DIR", default="reports", help="output folder (default: ./reports)")
    parser.add_argument("--workers", metavar="N", type=_positive_int, default=None,
                        help="parallel reports (default: number of CPUs)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                        help="date for as-of KPIs such as renewals in the next 90 days (default: last day of --end)")
    parser.add_argument("--template", metavar="NOTEBOOK", default=None,
                        help="report notebook to run (default: notebooks/reports/csm_report.ipynb)")
    parser.add_argument("--no-team-report", dest="team_report", action="store_false",
                        help="skip the manager's team report (notebooks/reports/team_report.ipynb)")
    parser.add_argument("--fresh-kernels", dest="reuse_kernels", action="store_false",
                        help="start a new kernel for every report (default: each worker reuses one kernel, "
                             "reset between reports)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from kpi_kit.report import run_reports

    result = run_reports(
        data_dir=args.data, start=args.start, end=args.end, csm_ids=args.csm_ids, out_dir=args.out,
        workers=args.workers, as_of=args.as_of, template=args.template, team_report=args.team_report,
        reuse_kernels=args.reuse_kernels,
    )
    print(result.summary())
    return result.exit_code
