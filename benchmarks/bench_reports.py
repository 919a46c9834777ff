"""Benchmark: `kpi-kit report` against the naive loop and the kernel-start floor, in one run.

    .venv/bin/python benchmarks/bench_reports.py                 # the bundled sample book, every CSM
    .venv/bin/python benchmarks/bench_reports.py --data DIR      # another book
    .venv/bin/python benchmarks/bench_reports.py --ablation      # also: kpi-kit report importing rfc3987_syntax

(a) naive loop
    ``papermill TEMPLATE OUT.ipynb -r csm_id ID ...`` once per CSM, sequentially (a fresh Python and a
    fresh kernel each time; ``-r`` keeps ids such as ``0042`` as text). It writes notebooks only.
(b) ``kpi-kit report --workers N --no-team-report``
    the runner, started as the CLI (its start-up counts); it also writes the HTML, the index and the CSV.
    The team report (one more notebook) is left out so that (a) and (b) run the same notebooks;
    ``--team`` also times the default command with it.
(c) floor
    one ``papermill`` CLI run of a notebook with one empty cell: Python + papermill start-up + one kernel
    start. Also shown: the same run through the Python API inside an already-warm process.

Targets (issue): (b)/(a) <= 0.40 and (b) <= 1.3 x (c) x CSMs / workers. Each measurement is one run
(they take minutes on 2 cores); the machine's load shows in the numbers, so the load average is printed.
Not a test: write the numbers you saw in benchmarks/README.md ("Reports").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux) so their CPU time is counted in RUSAGE_CHILDREN.

    kpi-kit's forkserver (parent of the workers, which wait for their kernels) is not waited for by
    kpi-kit at exit; as a subreaper this script reaps it, so CPU time covers the whole process tree.
    """
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


CPU: dict[str, float] = {}


def timed(cmd: list[str], env: dict[str, str] | None = None, key: str | None = None) -> float:
    """Wall seconds of ``cmd``; its whole process tree's CPU seconds are added to ``CPU[key]``."""
    cpu0 = cpu_children()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seconds = time.perf_counter() - t0
    reap_orphans()
    if key:
        CPU[key] = CPU.get(key, 0.0) + cpu_children() - cpu0
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return seconds


def empty_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def api_floor(path: Path) -> float:
    """One empty-notebook run through papermill's Python API in a warm process (after a first run)."""
    code = (
        "import sys, time\n"
        "sys.modules.setdefault('rfc3987_syntax', None)\n"
        "import papermill as pm\n"
        "from kpi_kit.report import KERNEL_ARGS\n"
        f"pm.execute_notebook({str(path)!r}, None, kernel_name='python3', progress_bar=False)\n"
        "t = time.perf_counter()\n"
        f"pm.execute_notebook({str(path)!r}, None, kernel_name='python3', progress_bar=False,"
        " extra_arguments=list(KERNEL_ARGS))\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="book folder (default: the bundled sample book)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ablation", action="store_true",
                        help="also run (b) with KPI_KIT_ALLOW_SLOW_IMPORTS=1 (rfc3987_syntax imported) "
                             "and with --fresh-kernels (no kernel reuse)")
    parser.add_argument("--team", action="store_true", help="also time the default run, with the team report")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()
    if not become_subreaper():
        print("note: not a subreaper (not Linux?): CPU time of (b) misses its worker processes")

    from kpi_kit.data import load_book
    from kpi_kit.periods import latest_full_quarter
    from kpi_kit.report import TEMPLATE

    book = load_book(args.data)
    period = latest_full_quarter(book)
    csm_ids = book.csm_ids()
    data = "" if args.data is None else str(book.path)
    work = Path(tempfile.mkdtemp(prefix="bench_reports_"))
    print(f"book {book.path} ({len(csm_ids)} CSMs), period {period}, workers {args.workers}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    try:
        # (c) the floor
        empty = empty_notebook(work / "empty.ipynb")
        floor = timed([str(BIN / "papermill"), str(empty), str(work / "empty_out.ipynb"), "-k", "python3"], key="c")
        warm = api_floor(empty)
        print(f"(c) floor: papermill CLI, empty notebook       {floor:6.1f} s   cpu {CPU['c']:6.1f} s   "
              f"(API in a warm process: {warm:.1f} s)")

        # (a) naive loop
        naive_dir = work / "naive"
        naive_dir.mkdir()
        t0 = time.perf_counter()
        for csm_id in csm_ids:
            timed([str(BIN / "papermill"), str(TEMPLATE), str(naive_dir / f"{csm_id}.ipynb"), "-k", "python3",
                   "-r", "csm_id", csm_id, "-r", "start", str(period.start), "-r", "end", str(period.end),
                   "-r", "data_dir", data], key="a")
        naive = time.perf_counter() - t0
        print(f"(a) naive loop: papermill CLI x {len(csm_ids):<3}           {naive:6.1f} s   cpu {CPU['a']:6.1f} s   "
              f"({naive / len(csm_ids):.1f} s per report)")

        # (b) kpi-kit report
        def runner_cmd(out: str, team: bool = False) -> list[str]:
            cmd = [str(BIN / "kpi-kit"), "report", "--out", str(work / out), "--workers", str(args.workers)]
            return cmd + (["--data", data] if args.data is not None else []) + ([] if team else ["--no-team-report"])

        runner = timed(runner_cmd("runner"), key="b")
        print(f"(b) kpi-kit report --workers {args.workers:<3}             {runner:6.1f} s   cpu {CPU['b']:6.1f} s   "
              f"({runner / len(csm_ids):.1f} s per report)")
        if args.team:
            full = timed(runner_cmd("runner_team", team=True), key="b_team")
            print(f"    default run, with the team report         {full:6.1f} s   cpu {CPU['b_team']:6.1f} s")
        if args.ablation:
            env = {**os.environ, "KPI_KIT_ALLOW_SLOW_IMPORTS": "1"}
            slow = timed(runner_cmd("runner_slow"), env=env, key="b_slow")
            print(f"    same, rfc3987_syntax imported (ablation)  {slow:6.1f} s   cpu {CPU['b_slow']:6.1f} s")
            fresh = timed(runner_cmd("runner_fresh") + ["--fresh-kernels"], key="b_fresh")
            print(f"    same, a new kernel per report (ablation)  {fresh:6.1f} s   cpu {CPU['b_fresh']:6.1f} s")

        budget = 1.3 * floor * len(csm_ids) / args.workers
        print()
        print(f"(b)/(a) = {runner / naive:.2f}   (target <= 0.40)   CPU time (b)/(a) = {CPU['b'] / CPU['a']:.2f}")
        print(f"(b) = {runner:.1f} s vs 1.3 x (c) x CSMs / workers = {budget:.1f} s   "
              f"-> (b) / ((c) x CSMs / workers) = {runner / (floor * len(csm_ids) / args.workers):.2f} (target <= 1.3)")
        print(f"(b) per report = {runner / len(csm_ids):.2f} s; warm-API floor x CSMs / workers = "
              f"{warm * len(csm_ids) / args.workers:.1f} s")
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
