"""What services may ask of storage. Arguments and results are models, never rows or SQL."""

from __future__ import annotations

from typing import Protocol


class Store(Protocol):
    """A storage backend: one object per data directory with a repository per feature."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def migrate(self) -> list[str]: ...
    async def ping(self) -> bool: ...
