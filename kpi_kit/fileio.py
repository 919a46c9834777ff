"""Writing output files safely: atomically (temp file, then rename) and with ordinary permissions.

Standard library only, so processes that write files but compute nothing (the report runner's
workers) do not import pandas. :mod:`kpi_kit.fmt` re-exports these functions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def umask_mode(path: Path) -> None:
    """Give ``path`` the permissions an ordinary new file or folder gets (``mkstemp``/``mkdtemp`` make them private)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` and rename it into place (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask_mode(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, content: str) -> None:
    """:func:`atomic_write_bytes` of ``content`` encoded as UTF-8."""
    atomic_write_bytes(path, content.encode("utf-8"))
