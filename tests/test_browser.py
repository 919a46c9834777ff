"""The comp explorer in a real browser: JupyterLab + headless Chromium, a slider moved with the keyboard.

The test starts JupyterLab on 127.0.0.1 (free port, no token) with a temporary root folder holding a copy of
``notebooks/explore_comp.ipynb``, opens it in Debian's Chromium driven by Playwright's Python API, runs all
cells, focuses the retention-attainment slider handle, presses ArrowRight ``STEPS`` times and checks that the
displayed payout becomes what :func:`kpi_kit.widgets.comp_what_if` gives for the sliders' new values.

It skips, with the reason, when Chromium or Playwright is missing — unless ``KPI_KIT_REQUIRE_BROWSER=1`` (CI
sets it), where a missing browser is a failure. ``playwright install`` is not needed (and not possible offline):
the system Chromium is used through ``executable_path``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = PROJECT / "notebooks" / "explore_comp.ipynb"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
STEPS = 5  # ArrowRight presses on the retention slider
SLIDER = "retention attainment %"  # the slider's description (kpi_kit.widgets.comp_explorer)
TIMEOUT_MS = 45_000  # any single wait in the browser


def chromium_path() -> str:
    """Path of the system Chromium and an importable Playwright, or skip (fail under KPI_KIT_REQUIRE_BROWSER=1)."""
    problems = []
    exe = shutil.which("chromium") or (DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).exists() else None)
    if exe is None:
        problems.append("Chromium is not installed (Debian: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed (pip install playwright; "
                        "no `playwright install` needed)")
    if problems:
        reason = "browser test needs a browser: " + "; ".join(problems)
        if os.environ.get("KPI_KIT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " — and KPI_KIT_REQUIRE_BROWSER=1 says it must run")
        pytest.skip(reason)
    return str(exe)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server we started (it shuts its kernels down), wait, then kill its process group if needed."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:  # the server ran in its own session: this reaches only its own kernels, nothing else
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait(timeout=10)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on a free port serving a temp folder with a copy of the explorer; yields its base URL."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = free_port()
    home = tmp_path / "jupyter"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               IPYTHONDIR=str(home / "ipython"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    log = (tmp_path / "lab.log").open("wb")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=", "--allow-root",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer on {url} within 60 s:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        stop(proc)
        log.close()


def slider_values(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """``{description: value}`` of every ipywidgets slider on the page, read from the labels and readouts."""
    values = {}
    for row in page.locator(".widget-slider").all():
        label = row.locator(".widget-label").first.inner_text().strip()
        values[label] = float(row.locator(".widget-readout").first.inner_text().strip())
    return values


def test_moving_the_retention_slider_updates_the_payout(lab: str) -> None:
    exe = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    from kpi_kit.comp import load_plan
    from kpi_kit.data import load_book
    from kpi_kit.widgets import COMP_SUMMARY_CLASS, comp_what_if, money_cents

    plan = load_plan(load_book().comp_plan)  # the notebook's defaults: the sample book's plan (the seed's)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                   "&& window.jupyterapp.shell.currentWidget.sessionContext "
                                   "&& window.jupyterapp.shell.currentWidget.sessionContext.session")
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            summary = page.locator(f".{COMP_SUMMARY_CLASS}")
            expect(summary).to_contain_text("Variable payout", timeout=90_000)  # all cells ran, the explorer rendered
            before = slider_values(page)
            text_before = summary.inner_text()
            names = [m.name for m in plan.metrics]
            assert {f"{n} attainment %" for n in names} | {f"{n} weight %" for n in names} <= set(before), before
            # the initial text is what the pure function gives for the initial slider values
            start_result = comp_what_if(plan, {n: before[f"{n} attainment %"] for n in names},
                                        {n: before[f"{n} weight %"] for n in names})
            assert f"Variable payout {money_cents(start_result['variable_payout'])}" in text_before

            row = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=SLIDER))
            handle = row.locator(".noUi-handle").first
            handle.focus()
            for _ in range(STEPS):
                handle.press("ArrowRight")
            expect(row.locator(".widget-readout")).to_have_text(re.compile(rf"^\s*{before[SLIDER] + STEPS:g}\s*$"))

            after = slider_values(page)
            assert after[SLIDER] == before[SLIDER] + STEPS
            assert {k: v for k, v in after.items() if k != SLIDER} == {k: v for k, v in before.items() if k != SLIDER}
            result = comp_what_if(plan, {n: after[f"{n} attainment %"] for n in names},
                                  {n: after[f"{n} weight %"] for n in names})
            assert result["variable_payout"] != start_result["variable_payout"], "pick a start where the curve is not flat"
            expect(summary).to_contain_text(f"Variable payout {money_cents(result['variable_payout'])}")
            expect(summary).to_contain_text(f"total earnings {money_cents(result['total_earnings'])}")
        finally:
            browser.close()


def test_a_missing_browser_skips_locally_and_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(sys.modules[__name__], "DEBIAN_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("KPI_KIT_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        chromium_path()
    monkeypatch.setenv("KPI_KIT_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="KPI_KIT_REQUIRE_BROWSER=1 says it must run"):
        chromium_path()
