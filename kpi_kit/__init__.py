"""kpi_kit — the CSM KPI workbook and training kit.

Importing the package changes no global setting (pandas options, altair renderers, random seeds);
notebooks call :func:`setup_notebook` explicitly.

Main entry points::

    from kpi_kit import load_book, csm_metrics, team_metrics, scorecard
    book = load_book()                                   # bundled sample book
    csm_metrics(book, "csm_01", "2026-07", "2026-09")    # one CSM's KPIs (dict)
"""

from __future__ import annotations

from kpi_kit.data import Book, load_book
from kpi_kit.errors import KitError
from kpi_kit.metrics import csm_metrics, team_metrics
from kpi_kit.periods import Period
from kpi_kit.scorecard import Scorecard, scorecard

__version__ = "0.1.0"

__all__ = [
    "Book", "KitError", "Period", "Scorecard", "__version__", "csm_metrics", "load_book", "scorecard",
    "setup_notebook", "team_metrics",
]


def setup_notebook() -> None:
    """Set display options for the kit's notebooks (explicit; never done on import).

    Altair charts render as static SVG through vl-convert: offline, deterministic, and kept by
    nbconvert's HTML export (see ``shared/stack-facts.md``).
    """
    import altair as alt
    import pandas as pd

    alt.renderers.enable("svg")
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.html.use_mathjax", False)  # "$50,000 … $75,000" in a table is money, not LaTeX
    pd.set_option("display.width", 140)
