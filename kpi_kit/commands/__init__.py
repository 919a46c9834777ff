"""Sub-commands of ``kpi-kit`` (one module each; see ``kpi_kit.cli``)."""
