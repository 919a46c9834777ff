"""The ``kpi-kit`` command line.

Each sub-command lives in ``kpi_kit/commands/<name>.py`` and exposes two functions:

``add_parser(subparsers) -> argparse.ArgumentParser``
    registers the sub-command (name, help, arguments) and sets ``func`` as the default handler;
``run(args) -> int``
    does the work and returns the exit code.

Modules are imported only when their sub-command runs (``--help`` lists them all), so the CLI starts
fast and a heavy dependency of one command (papermill, altair) is not paid by the others.

Errors the user can fix (bad input, unknown CSM, missing file) are raised as ``kpi_kit.errors.KitError``
and printed as a readable message with exit code 1 (2 for usage errors) — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from kpi_kit.errors import KitError

#: sub-command name -> module under ``kpi_kit.commands``
COMMANDS: dict[str, str] = {
    "validate": "validate",
    "metrics": "metrics",
    "learner-copies": "learner_copies",
    "payout": "payout",
    "report": "report",
    "import": "imports",
    "team": "team",
}


def build_parser() -> argparse.ArgumentParser:
    from kpi_kit import __version__

    parser = argparse.ArgumentParser(
        prog="kpi-kit",
        description="CSM KPI kit: validate a book, compute KPIs, run reports.",
    )
    parser.add_argument("--version", action="version", version=f"kpi-kit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS.values():
        importlib.import_module(f"kpi_kit.commands.{module}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KitError as exc:
        print(f"kpi-kit {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`kpi-kit team | head`): stop quietly, as other command-line tools do;
        # stdout goes to /dev/null so Python's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
