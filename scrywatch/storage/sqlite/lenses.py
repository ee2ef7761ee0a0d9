"""Lenses SQL: saved views of one project, listed by sort_order."""

from __future__ import annotations

import sqlite3
from typing import Any

from scrywatch.models.lenses import Lens
from scrywatch.storage.sqlite.db import Database

_COLUMNS = "id, name, filters, color, sort_order, created_at, updated_at"
_UPDATABLE = ("name", "filters", "color", "sort_order")


def _lens(row: tuple[Any, ...]) -> Lens:
    lens_id, name, filters, color, sort_order, created, updated = row
    return Lens(id=lens_id, name=name, filters=filters, color=color, sort_order=sort_order, created_at=created,
                updated_at=updated)


def list_lenses(conn: sqlite3.Connection, project: int) -> list[Lens]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM lenses WHERE project = ? ORDER BY sort_order, created_at, id",
                        (project,)).fetchall()
    return [_lens(r) for r in rows]


def get_lens(conn: sqlite3.Connection, project: int, lens_id: str) -> Lens | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lenses WHERE project = ? AND id = ?", (project, lens_id)).fetchone()
    return _lens(row) if row else None


def insert_lens(conn: sqlite3.Connection, project: int, lens_id: str, name: str, filters: str, color: str,
                sort_order: int | None, now_ms: int) -> Lens:
    """Add a lens; without a sort_order it goes after the last one."""
    if sort_order is None:
        sort_order = conn.execute("SELECT coalesce(max(sort_order) + 1, 0) FROM lenses WHERE project = ?",
                                  (project,)).fetchone()[0]
    conn.execute("INSERT INTO lenses(id, project, name, filters, color, sort_order, created_at, updated_at)"
                 " VALUES (?,?,?,?,?,?,?,?)", (lens_id, project, name, filters, color, sort_order, now_ms, now_ms))
    lens = get_lens(conn, project, lens_id)
    assert lens is not None
    return lens


def update_lens(conn: sqlite3.Connection, project: int, lens_id: str, changes: dict[str, object],
                now_ms: int) -> Lens | None:
    """Apply the given column changes; None when the lens is not in this project."""
    sets = [f"{col} = ?" for col in _UPDATABLE if col in changes]
    params = [changes[col] for col in _UPDATABLE if col in changes]
    conn.execute(f"UPDATE lenses SET {', '.join([*sets, 'updated_at = ?'])} WHERE project = ? AND id = ?",
                 [*params, now_ms, project, lens_id])
    return get_lens(conn, project, lens_id)


def delete_lens(conn: sqlite3.Connection, project: int, lens_id: str) -> bool:
    return conn.execute("DELETE FROM lenses WHERE project = ? AND id = ?", (project, lens_id)).rowcount > 0


class SqliteLensStore:
    """Async face of the functions above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, project: int) -> list[Lens]:
        return await self.db.read(list_lenses, project)

    async def add(self, project: int, lens_id: str, *, name: str, filters: str, color: str,
                  sort_order: int | None, now_ms: int) -> Lens:
        return await self.db.write(insert_lens, project, lens_id, name, filters, color, sort_order, now_ms)

    async def update(self, project: int, lens_id: str, changes: dict[str, object], *, now_ms: int) -> Lens | None:
        return await self.db.write(update_lens, project, lens_id, changes, now_ms)

    async def delete(self, project: int, lens_id: str) -> bool:
        return await self.db.write(delete_lens, project, lens_id)
