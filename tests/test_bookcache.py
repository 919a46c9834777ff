"""kpi_kit.bookcache: the report runner's validated book, reused by kernels only while the files are unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpi_kit import bookcache
from kpi_kit.data import SAMPLE_DIR, load_book


@pytest.fixture()
def book_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    shutil.copytree(SAMPLE_DIR, folder)
    return folder


def test_lookup_returns_the_saved_book_while_files_are_unchanged(book_copy: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    book = load_book(book_copy)
    cache = bookcache.save(book, tmp_path)
    monkeypatch.delenv(bookcache.ENV, raising=False)
    assert bookcache.lookup(book_copy) is None  # nothing named in the environment: read the CSVs
    monkeypatch.setenv(bookcache.ENV, str(cache))
    cached = bookcache.lookup(book_copy)
    assert cached is not None and cached is not book
    assert cached.path == book.path and cached.csm_ids() == book.csm_ids()
    assert cached.activities.equals(book.activities) and cached.arr_monthly.equals(book.arr_monthly)
    # load_book itself answers from the cache: a CSV that would now fail validation is not read
    assert load_book(book_copy).accounts.equals(book.accounts)


def test_a_changed_file_or_another_folder_is_never_served_from_the_cache(book_copy: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    book = load_book(book_copy)
    monkeypatch.setenv(bookcache.ENV, str(bookcache.save(book, tmp_path)))
    other = tmp_path / "other"
    shutil.copytree(book_copy, other)
    assert bookcache.lookup(other) is None  # same files, different folder
    arr = book_copy / "arr_monthly.csv"
    stat = arr.stat()
    os.utime(arr, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: same size, new mtime
    assert bookcache.lookup(book_copy) is None
    # and load_book then reads the CSVs again: an edit made after the runner started is seen
    accounts = book_copy / "accounts.csv"
    accounts.write_text(accounts.read_text(encoding="utf-8").replace("Compass Wellness", "Compass Health"),
                        encoding="utf-8")
    assert "Compass Health" in set(load_book(book_copy).accounts["account_name"])


def test_a_missing_or_foreign_cache_file_is_ignored(book_copy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bookcache.ENV, str(tmp_path / "gone.pickle"))
    assert bookcache.lookup(book_copy) is None
    junk = tmp_path / "junk.pickle"
    junk.write_bytes(b"not a pickle at all")
    monkeypatch.setenv(bookcache.ENV, str(junk))
    assert bookcache.lookup(book_copy) is None
    assert load_book(book_copy).csm_ids()  # falls back to reading the CSVs


def test_importing_kpi_kit_is_cheap_and_names_load_on_first_use() -> None:
    code = ("import sys, kpi_kit\n"
            "assert 'pandas' not in sys.modules and 'pandera' not in sys.modules, sorted(sys.modules)\n"
            "from kpi_kit import load_book, scorecard, Period\n"
            "assert 'pandas' in sys.modules and callable(load_book) and callable(scorecard)\n"
            "assert 'load_book' in dir(kpi_kit)\n"
            "try:\n    kpi_kit.no_such_name\nexcept AttributeError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "has no attribute 'no_such_name'" in done.stdout


def test_a_cached_book_does_not_import_pandera(book_copy: Path, tmp_path: Path) -> None:
    cache = bookcache.save(load_book(book_copy), tmp_path)
    code = (f"import sys\nfrom kpi_kit.data import load_book\nb = load_book({str(book_copy)!r})\n"
            "print(len(b.accounts), 'pandera' in sys.modules)")
    env = {**os.environ, bookcache.ENV: str(cache)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(load_book(book_copy).accounts)), "False"]
