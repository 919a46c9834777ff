"""A validated book handed from the report runner to its kernels, so each report does not re-read the CSVs.

``kpi-kit report`` loads and validates the book once, then starts one kernel per CSM, and every
kernel's ``load_book(data_dir)`` would read and validate the same files again (~0.7 s of CPU each for
the sample book, far more for a large one). Instead the runner pickles the loaded :class:`~kpi_kit.data.Book`
into a private temporary folder (mode 0700, removed when the run ends) and names the file in the
environment variable :data:`ENV`, which its workers and their kernels inherit.
:func:`kpi_kit.data.load_book` returns the cached book only when

* :data:`ENV` names a readable cache file (nothing else ever sets it), and
* the cache was written for the same folder, by the same kit version, and every file in the folder
  still has the size and modification time it had when the runner loaded it (:func:`fingerprint`).

Otherwise it reads the CSVs as usual. A cache that cannot be read is ignored, never an error. The
pickle is only ever read from the path the runner created for this run, in a folder only the user can
write to.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpi_kit.data import Book

#: Environment variable naming the cache file (set by the report runner for its workers and kernels).
ENV = "KPI_KIT_BOOK_CACHE"
#: Bumped when the cache's layout changes.
FORMAT = 1


def fingerprint(folder: Path) -> tuple[Any, ...]:
    """What must not change for a cached book to stay valid: the kit version, the folder, each file's size and mtime.

    Every regular file directly in ``folder`` counts (the book's CSVs and YAML files, and any other).
    """
    from kpi_kit import __version__

    folder = Path(folder).resolve()
    files = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_file():
            stat = entry.stat()
            files.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return (FORMAT, __version__, str(folder), tuple(files))


def save(book: Book, directory: Path) -> Path:
    """Pickle ``book`` with its folder's :func:`fingerprint` into ``directory``; returns the file's path."""
    path = Path(directory) / "book.pickle"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".book.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(fingerprint(book.path), fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(book, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def lookup(folder: Path) -> Book | None:
    """The cached book for ``folder`` when :data:`ENV` names a cache that is still valid for it, else ``None``."""
    name = os.environ.get(ENV)
    if not name:
        return None
    try:
        with open(name, "rb") as fh:
            if pickle.load(fh) != fingerprint(folder):
                return None
            book = pickle.load(fh)
    except Exception:  # missing, truncated or foreign file: read the CSVs instead
        return None
    from kpi_kit.data import Book

    return book if isinstance(book, Book) else None
