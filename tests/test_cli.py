"""The ``kpi-kit`` entry point as a shell user meets it (a real process, a real pipe)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT


@pytest.mark.parametrize("argv", [["team"], ["metrics", "--csm", "csm_01"], ["validate"]])
def test_a_closed_pipe_ends_quietly(argv: list[str]) -> None:
    # `kpi-kit team | head -0`: the reader is gone before the command writes its first line
    proc = subprocess.Popen([sys.executable, "-m", "kpi_kit.cli", *argv], cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141, err  # 128 + SIGPIPE, as for other tools in a pipe
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
