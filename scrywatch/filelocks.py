"""Exclusive locks between processes sharing a data directory: one file per name in `<data_dir>/locks/`."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from scrywatch.config import Config


def lock_path(config: Config, name: str) -> Path:
    lock_dir = config.data_path / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return lock_dir / f"{name}.lock"


class SharedFlock:
    """A non-blocking hold on a named lock, shared by every holder in this process.

    flock conflicts between open files even within one process, so the holders here share one
    file: the first takes the lock, the last to release gives it back.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._holders = 0

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._holders:
                self._holders += 1
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd, self._holders = fd, 1
            return True

    def release(self) -> None:
        with self._mutex:
            self._holders -= 1
            if self._holders == 0 and self._fd is not None:
                os.close(self._fd)  # closing releases the lock
                self._fd = None
