"""``kpi-kit learner-copies --out DIR``: teaching notebooks with the solutions taken out."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("learner-copies", help="write learner versions of the notebooks (solutions removed)",
                       description="Write every teaching notebook with its solution regions replaced by "
                                   "'# YOUR CODE HERE' / 'raise NotImplementedError()'. The originals are not modified.")
    p.add_argument("--out", metavar="DIR", default="learner", help="output folder (default: learner/, git-ignored)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from kpi_kit.learner import write_learner_copies

    written = write_learner_copies(Path(args.out))
    print(f"wrote {len(written)} learner notebook(s) to {Path(args.out).resolve()}")
    return 0
