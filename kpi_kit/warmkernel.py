"""One kernel per report worker, reused from report to report with a clean namespace (``kpi-kit report``).

Starting a Python kernel and importing pandas and altair in it costs ~1.7 s of CPU, about a third of
a CSM report. A runner worker therefore keeps its kernel between reports and, before each report
after the first, **resets** it: IPython's ``%reset -f`` empties the user namespace (every variable,
the ``In``/``Out`` history and ``_``/``__`` caches), the execution counter goes back to 1 (the saved
notebook numbers its cells exactly as a fresh kernel would) and the working directory goes back to
the template's folder. Imported modules stay loaded: that is the saving. The kit keeps no data in
module state, so nothing of one CSM can reach the next CSM's report (tests run two CSMs through one
kernel and scan each report for the other's data).

The kernel is thrown away and a fresh one started whenever the previous report's kernel died,
timed out or could not be reset, or when the book cache or template folder changes. ``kpi-kit report
--fresh-kernels`` (``run_reports(reuse_kernels=False)``) starts a new kernel for every report instead.

The kernel runs through papermill's own engine interface: :class:`ReusedKernelEngine` is papermill's
``NBClientEngine`` given this worker's kernel manager (papermill and nbclient accept a caller's
``km`` and then leave the kernel running).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

#: papermill engine name under which :class:`ReusedKernelEngine` is registered (in the workers only).
ENGINE_NAME = "kpi_kit_reused_kernel"
#: Seconds a reset may take before the kernel is replaced.
RESET_TIMEOUT = 30


def reset_code(cwd: str) -> str:
    """Code run (silently, outside the notebook) in a reused kernel before the next report.

    >>> print(reset_code("/tmp"))
    get_ipython().run_line_magic('reset', '-f')
    get_ipython().execution_count = 1
    __import__('os').chdir('/tmp')
    """
    return ("get_ipython().run_line_magic('reset', '-f')\n"
            "get_ipython().execution_count = 1\n"
            f"__import__('os').chdir({cwd!r})")


@dataclass
class WorkerKernel:
    """The worker's kernel: its manager, what it was started for, and the file its stderr goes to."""

    km: Any = None
    key: tuple[Any, ...] | None = None
    stderr: IO[bytes] | None = None
    read_upto: int = 0
    reports: int = 0
    notes: list[str] = field(default_factory=list)

    def acquire(self, key: tuple[Any, ...], cwd: str, extra_arguments: list[str]) -> Any:
        """A running kernel manager for ``key``: the current one after a reset, else a new kernel."""
        from jupyter_core.utils import run_sync

        if self.km is not None:
            if self.key == key and self._reset(cwd):
                self.reports += 1
                return self.km
            self.discard()
        from jupyter_client.manager import AsyncKernelManager

        if self.stderr is None:
            self.stderr = tempfile.TemporaryFile()
        km = AsyncKernelManager(kernel_name="python3")
        # history in memory, as nbclient does for the kernels it starts (no sqlite file shared by workers)
        arguments = [*extra_arguments, "--HistoryManager.hist_file=:memory:"]
        run_sync(km.start_kernel)(extra_arguments=arguments, cwd=cwd, stderr=self.stderr)
        self.km, self.key, self.reports = km, key, 1
        return km

    def _reset(self, cwd: str) -> bool:
        from jupyter_core.utils import run_sync

        try:
            if not run_sync(self.km.is_alive)():
                return False
            kc = self.km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=RESET_TIMEOUT)
                reply = run_sync(kc.execute_interactive)(reset_code(cwd), silent=True, store_history=False,
                                                         timeout=RESET_TIMEOUT)
            finally:
                kc.stop_channels()
            return bool(reply and reply["content"].get("status") == "ok")
        except Exception:  # a kernel that cannot be reset is replaced
            return False

    def discard(self) -> None:
        """Shut the kernel down (it died, timed out, or the worker is ending)."""
        if self.km is None:
            return
        from jupyter_core.utils import run_sync

        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # already gone
            pass
        self.km, self.key = None, None

    def new_stderr(self) -> str:
        """What the kernel wrote to stderr since the last call."""
        if self.stderr is None:
            return ""
        self.stderr.seek(self.read_upto)
        data = self.stderr.read()
        self.read_upto += len(data)
        self.stderr.seek(0, os.SEEK_END)
        return data.decode("utf-8", errors="replace")


#: The worker process's kernel (one per process; workers run one report at a time).
KERNEL = WorkerKernel()


def _engine_class() -> type:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class ReusedKernelClient(PapermillNotebookClient):  # type: ignore[misc]
        """papermill's client on a caller's kernel: closes its own channels, leaves the kernel running."""

        def execute(self, **kwargs: Any) -> Any:
            try:
                return super().execute(**kwargs)
            finally:
                if self.kc is not None:
                    self.kc.stop_channels()

    class ReusedKernelEngine(NBClientEngine):  # type: ignore[misc]
        """papermill's ``NBClientEngine`` (same arguments) running on :data:`KERNEL`'s kernel manager."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: int | None = None, **kwargs: Any) -> Any:
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file,
            )
            return ReusedKernelClient(nb_man, km=KERNEL.km, **final_kwargs).execute()

    return ReusedKernelEngine


def register_engine() -> None:
    """Register :data:`ENGINE_NAME` with papermill (idempotent) and shut the kernel down when the worker ends."""
    from multiprocessing import util

    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, _engine_class())
        util.Finalize(None, KERNEL.discard, exitpriority=100)


def template_key(book_cache: str, template: str, extra_arguments: list[str]) -> tuple[Any, ...]:
    """What a reused kernel must have been started with: the same book cache, folder and kernel arguments."""
    return (book_cache, str(Path(template).parent), tuple(extra_arguments))
