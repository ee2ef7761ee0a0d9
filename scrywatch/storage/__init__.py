"""Storage: `open_store(config)` is the only place that names a backend."""

from __future__ import annotations

from scrywatch.config import Config
from scrywatch.storage.base import Store


def open_store(config: Config) -> Store:
    """The store for this configuration (SQLite today); call `await store.start()` before use."""
    from scrywatch.storage.sqlite import SqliteStore

    return SqliteStore(config)


__all__ = ["Store", "open_store"]
