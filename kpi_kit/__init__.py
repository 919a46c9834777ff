"""kpi_kit — the CSM KPI workbook and training kit.

Importing the package changes no global setting (pandas options, altair renderers, random seeds);
notebooks call :func:`setup_notebook` explicitly. ``import kpi_kit`` is cheap: the names below are
imported on first use (PEP 562), so the CLI and the report runner's workers do not pay for pandas,
pandera and altair unless they need them.

Main entry points::

    from kpi_kit import load_book, csm_metrics, team_metrics, scorecard
    book = load_book()                                   # bundled sample book
    csm_metrics(book, "csm_01", "2026-07", "2026-09")    # one CSM's KPIs (dict)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kpi_kit.errors import KitError

if TYPE_CHECKING:
    from kpi_kit.data import Book, load_book
    from kpi_kit.metrics import csm_metrics, team_metrics
    from kpi_kit.periods import Period
    from kpi_kit.scorecard import Scorecard, scorecard

__version__ = "0.1.0"

#: Public names and the module each comes from (imported on first access).
_LAZY = {
    "Book": "kpi_kit.data", "load_book": "kpi_kit.data",
    "csm_metrics": "kpi_kit.metrics", "team_metrics": "kpi_kit.metrics",
    "Period": "kpi_kit.periods",
    "Scorecard": "kpi_kit.scorecard", "scorecard": "kpi_kit.scorecard",
}

__all__ = [
    "Book", "KitError", "Period", "Scorecard", "__version__", "csm_metrics", "load_book", "scorecard",
    "setup_notebook", "team_metrics",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (``kpi_kit.load_book`` imports :mod:`kpi_kit.data`)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kpi_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def setup_notebook() -> None:
    """Set display options for the kit's notebooks (explicit; never done on import).

    Altair charts render as static SVG through vl-convert: offline, deterministic, and kept by
    nbconvert's HTML export (see ``shared/stack-facts.md`` and :mod:`kpi_kit.svg`). Tables never read
    ``$`` as LaTeX, and a plain ``DataFrame.style`` HTML-escapes its cells like ``to_html`` does (an account
    named ``<img src=x onerror=…>`` is shown as text). pandas ignores that option in an explicit
    ``Styler.format(...)`` call: format tables with :func:`kpi_kit.views.styled`, which always escapes.
    """
    import pandas as pd

    from kpi_kit.charts import enable_renderer

    enable_renderer()
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.html.use_mathjax", False)  # "$50,000 … $75,000" in a table is money, not LaTeX
    pd.set_option("styler.html.mathjax", False)  # the same for styled tables (DataFrame.style)
    pd.set_option("styler.format.escape", "html")  # df.style shows names as text (views.styled when formatting)
    pd.set_option("display.width", 140)
