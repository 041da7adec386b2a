"""Data directories: created on first use, refused in one line when they cannot be used."""

from __future__ import annotations

import tempfile
from pathlib import Path

from toir.devstack.errors import DataDirError


def ensure_dir(directory: Path) -> Path:
    """`directory`, created if missing; DataDirError if it cannot be created or written to."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # mkdir succeeds on an existing directory this process cannot write to.
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise unusable(directory, exc) from exc
    return directory


def unusable(directory: Path, exc: OSError) -> DataDirError:
    """The one-line error for a data directory the system refused, with the system's reason."""
    reason = exc.strerror.lower() if exc.strerror else str(exc)
    return DataDirError(f"cannot use data directory {directory}: {reason}")
