#!/usr/bin/env python3
"""Set up and run the kit with nothing but Python 3.11+ and pip.

    python3 tasks.py demo   # create .venv if needed, install, run the weekly reports on the sample book
    python3 tasks.py test   # create .venv if needed, install, run the whole test suite

Anything after the task name is passed on (``python3 tasks.py test -k metrics``,
``python3 tasks.py demo --csm csm_01``). The install is repeated only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".kit-installed"
LOG = VENV / "install.log"


def say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
    if not PY.exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("installing the kit and its dependencies (first run: a few minutes; log in .venv/install.log)")
    with LOG.open("w") as log:
        rc = subprocess.call([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-e", f"{ROOT}[test,bench]"],
                             stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    if rc != 0:
        tail = LOG.read_text(errors="replace").splitlines()[-25:]
        sys.exit("pip install failed:\n" + "\n".join(tail))
    STAMP.write_text(wanted)


def run(cmd: list[str]) -> int:
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    return subprocess.call(cmd, cwd=ROOT, env=env)


def demo(extra: list[str]) -> int:
    return run([str(BIN / "kpi-kit"), "report", *extra])


def test(extra: list[str]) -> int:
    # tests/ plus the docstring examples of the package (they run on the sample book)
    cmd = [str(PY), "-m", "pytest", "-n", "auto", "--dist", "loadgroup", "tests", "--doctest-modules", "kpi_kit", *extra]
    rc = run(cmd)
    if rc == 5:  # pytest: no tests were collected -> that is a failure, not a pass
        say("pytest collected no tests: failing on purpose")
        return 1
    return rc


TASKS = {"demo": demo, "test": test}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(__doc__)
        return 2
    setup()
    return TASKS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
