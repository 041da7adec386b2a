"""One dev stack per data dir: an advisory lock the kernel drops when its holder dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from toir.devstack.datadir import unusable
from toir.devstack.errors import DirInUseError

LOCK_FILE_NAME = ".lock"


class DirLock:
    """An exclusive `flock` on `<dir>/.lock`, never stale: it goes with the process holding it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock; DirInUseError naming the holder's pid, DataDirError if the file
        cannot be opened."""
        try:
            lock_file = self.path.open("a+")
        except OSError as exc:
            raise unusable(self.path.parent, exc) from exc
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "?"
            lock_file.close()
            message = f"data directory {self.path.parent} is in use by process {holder}"
            raise DirInUseError(message) from exc
        lock_file.truncate(0)
        lock_file.write(f"{os.getpid()}\n")
        lock_file.flush()
        self._file = lock_file

    def release(self) -> None:
        """Drop the lock; closing the file releases it. Does nothing when not held."""
        if self._file is not None:
            self._file.close()
            self._file = None
