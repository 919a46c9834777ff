"""One problem found in a book or an import: the shared record of ``kpi-kit validate`` and ``kpi-kit import``.

Kept in its own small module so that the importer's parsers and the book validator use the same
record without importing each other (or pandera).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a book. ``row`` is the spreadsheet row (header = 1), None for a whole file/column."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        value = "" if self.value is None else f" {self.value!r}:"
        return f"{where}:{value} {self.message}"
