"""Accounts SQL: users, orgs, memberships, projects, API keys, sessions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from scrywatch.models.accounts import (
    ApiKey,
    KeyIdentity,
    Member,
    Org,
    OrgWithRole,
    Project,
    User,
)
from scrywatch.storage.sqlite.db import Database

# Functions that delete one project's rows from a feature's tables, registered by each feature's
# storage module so deleting a project removes every piece of its data in one transaction.
PROJECT_DATA_DELETERS: list[Callable[[sqlite3.Connection, int], None]] = []


def _user(row: tuple[str, str, str]) -> User:
    return User(id=row[0], email=row[1], name=row[2])


def _project(row: tuple[int, str, str, str, str]) -> Project:
    return Project(pk=row[0], id=row[1], org_id=row[2], name=row[3], slug=row[4])


_PROJECT_COLS = "pk, id, org_id, name, slug"


class SqliteAccountStore:
    """Reads and writes of the account tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- users -----------------------------------------------------------------------------
    async def count_users(self) -> int:
        return await self._db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0])

    async def user_by_email(self, email: str) -> tuple[User, str] | None:
        """The user and their password hash."""

        def q(c: sqlite3.Connection) -> tuple[User, str] | None:
            row = c.execute(
                "SELECT id, email, name, password_hash FROM users WHERE email = ?", (email,)
            ).fetchone()
            return (_user(row[:3]), row[3]) if row else None

        return await self._db.read(q)

    async def user_by_id(self, user_id: str) -> tuple[User, str] | None:
        def q(c: sqlite3.Connection) -> tuple[User, str] | None:
            row = c.execute(
                "SELECT id, email, name, password_hash FROM users WHERE id = ?", (user_id,)
            ).fetchone()
            return (_user(row[:3]), row[3]) if row else None

        return await self._db.read(q)

    async def update_user(self, user_id: str, *, name: str | None = None,
                          password_hash: str | None = None) -> None:
        def w(c: sqlite3.Connection) -> None:
            if name is not None:
                c.execute("UPDATE users SET name = ? WHERE id = ?", (name, user_id))
            if password_hash is not None:
                c.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

        await self._db.write(w)

    async def bootstrap(
        self,
        *,
        user: User,
        password_hash: str,
        org: Org,
        project: Project,
        key: ApiKey,
        key_hash: str,
        now_ms: int,
        only_if_no_users: bool,
    ) -> Org | None:
        """Create user + org (owner) + project + key in one transaction; return the org as stored.

        `org.slug` is the wanted slug: the first free one of `slug`, `slug-2`, `slug-3`... is taken
        here, in the single writer, so concurrent registrations of one name cannot pick the same.
        With only_if_no_users, do nothing and return None when a user already exists (so two
        concurrent first registrations cannot both become the first user).
        """

        def w(c: sqlite3.Connection) -> Org | None:
            if only_if_no_users and c.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                return None
            c.execute(
                "INSERT INTO users(id, email, name, password_hash, created_at) VALUES (?,?,?,?,?)",
                (user.id, user.email, user.name, password_hash, now_ms),
            )
            stored = Org(id=org.id, name=org.name, slug=_free_org_slug(c, org.slug))
            _insert_org(c, stored, now_ms)
            c.execute(
                "INSERT INTO memberships(org_id, user_id, role, joined_at) VALUES (?,?,?,?)",
                (org.id, user.id, "owner", now_ms),
            )
            pk = _insert_project(c, org.id, project, now_ms)
            _insert_key(c, pk, key, key_hash, user.id)
            return stored

        return await self._db.write(w)

    async def add_member(self, *, org_id: str, user: User, password_hash: str | None, role: str,
                         now_ms: int) -> None:
        """Add a user to an org; create the user first when password_hash is given."""

        def w(c: sqlite3.Connection) -> None:
            if password_hash is not None:
                c.execute(
                    "INSERT INTO users(id, email, name, password_hash, created_at) VALUES (?,?,?,?,?)",
                    (user.id, user.email, user.name, password_hash, now_ms),
                )
            c.execute(
                "INSERT INTO memberships(org_id, user_id, role, joined_at) VALUES (?,?,?,?)",
                (org_id, user.id, role, now_ms),
            )

        await self._db.write(w)

    # -- orgs and members ------------------------------------------------------------------
    async def org_by_slug(self, slug: str) -> Org | None:
        def q(c: sqlite3.Connection) -> Org | None:
            row = c.execute("SELECT id, name, slug FROM orgs WHERE slug = ?", (slug,)).fetchone()
            return Org(id=row[0], name=row[1], slug=row[2]) if row else None

        return await self._db.read(q)

    async def slug_taken(self, slug: str) -> bool:
        return await self._db.read(
            lambda c: c.execute("SELECT 1 FROM orgs WHERE slug = ?", (slug,)).fetchone() is not None
        )

    async def create_org(self, *, org: Org, owner_id: str, project: Project, now_ms: int) -> None:
        def w(c: sqlite3.Connection) -> None:
            _insert_org(c, org, now_ms)
            c.execute(
                "INSERT INTO memberships(org_id, user_id, role, joined_at) VALUES (?,?,?,?)",
                (org.id, owner_id, "owner", now_ms),
            )
            _insert_project(c, org.id, project, now_ms)

        await self._db.write(w)

    async def role_of(self, org_id: str, user_id: str) -> str | None:
        def q(c: sqlite3.Connection) -> str | None:
            row = c.execute(
                "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id)
            ).fetchone()
            return row[0] if row else None

        return await self._db.read(q)

    async def orgs_of(self, user_id: str) -> list[tuple[OrgWithRole, list[Project]]]:
        def q(c: sqlite3.Connection) -> list[tuple[OrgWithRole, list[Project]]]:
            orgs = c.execute(
                "SELECT o.id, o.name, o.slug, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id"
                " WHERE m.user_id = ? ORDER BY o.created_at, o.slug",
                (user_id,),
            ).fetchall()
            out = []
            for oid, name, slug, role in orgs:
                projects = [
                    _project(r)
                    for r in c.execute(
                        f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? ORDER BY created_at, slug",
                        (oid,),
                    )
                ]
                out.append((OrgWithRole(id=oid, name=name, slug=slug, role=role), projects))
            return out

        return await self._db.read(q)

    async def members(self, org_id: str) -> list[Member]:
        def q(c: sqlite3.Connection) -> list[Member]:
            return [
                Member(user_id=r[0], email=r[1], name=r[2], role=r[3], joined_at=r[4])
                for r in c.execute(
                    "SELECT u.id, u.email, u.name, m.role, m.joined_at FROM memberships m"
                    " JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY m.joined_at, u.email",
                    (org_id,),
                )
            ]

        return await self._db.read(q)

    async def change_role(self, org_id: str, user_id: str, role: str) -> bool:
        """Set a member's role unless that would leave the org without an owner; False if so."""

        def w(c: sqlite3.Connection) -> bool:
            current = c.execute(
                "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id)
            ).fetchone()
            if current and current[0] == "owner" and role != "owner" and _owner_count(c, org_id) <= 1:
                return False
            c.execute("UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", (role, org_id, user_id))
            return True

        return await self._db.write(w)

    async def remove_member(self, org_id: str, user_id: str) -> bool:
        """Remove a member unless they are the last owner; False if so."""

        def w(c: sqlite3.Connection) -> bool:
            current = c.execute(
                "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id)
            ).fetchone()
            if current and current[0] == "owner" and _owner_count(c, org_id) <= 1:
                return False
            c.execute("DELETE FROM memberships WHERE org_id = ? AND user_id = ?", (org_id, user_id))
            return True

        return await self._db.write(w)

    # -- projects --------------------------------------------------------------------------
    async def project_by_slug(self, org_id: str, slug: str) -> Project | None:
        def q(c: sqlite3.Connection) -> Project | None:
            row = c.execute(
                f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? AND slug = ?", (org_id, slug)
            ).fetchone()
            return _project(row) if row else None

        return await self._db.read(q)

    async def project_by_pk(self, pk: int) -> Project | None:
        def q(c: sqlite3.Connection) -> Project | None:
            row = c.execute(f"SELECT {_PROJECT_COLS} FROM projects WHERE pk = ?", (pk,)).fetchone()
            return _project(row) if row else None

        return await self._db.read(q)

    async def projects(self, org_id: str) -> list[Project]:
        def q(c: sqlite3.Connection) -> list[Project]:
            return [
                _project(r)
                for r in c.execute(
                    f"SELECT {_PROJECT_COLS} FROM projects WHERE org_id = ? ORDER BY created_at, slug",
                    (org_id,),
                )
            ]

        return await self._db.read(q)

    async def all_projects(self) -> list[tuple[Org, Project]]:
        """Every project with its org (for background jobs)."""

        def q(c: sqlite3.Connection) -> list[tuple[Org, Project]]:
            return [
                (Org(id=r[5], name=r[6], slug=r[7]), _project(r[:5]))
                for r in c.execute(
                    "SELECT p.pk, p.id, p.org_id, p.name, p.slug, o.id, o.name, o.slug"
                    " FROM projects p JOIN orgs o ON o.id = p.org_id ORDER BY p.pk"
                )
            ]

        return await self._db.read(q)

    async def create_project(self, org_id: str, project: Project, now_ms: int) -> Project:
        pk = await self._db.write(lambda c: _insert_project(c, org_id, project, now_ms))
        return Project(pk=pk, id=project.id, org_id=org_id, name=project.name, slug=project.slug)

    async def rename_project(self, pk: int, name: str) -> None:
        await self._db.write(lambda c: c.execute("UPDATE projects SET name = ? WHERE pk = ?", (name, pk)))

    async def delete_project(self, org_id: str, pk: int) -> bool:
        """Delete a project with all its rows unless it is the org's last; False if so."""

        def w(c: sqlite3.Connection) -> bool:
            if c.execute("SELECT count(*) FROM projects WHERE org_id = ?", (org_id,)).fetchone()[0] <= 1:
                return False
            for delete_rows in PROJECT_DATA_DELETERS:
                delete_rows(c, pk)
            c.execute("DELETE FROM api_keys WHERE project_pk = ?", (pk,))
            c.execute("DELETE FROM projects WHERE pk = ?", (pk,))
            return True

        return await self._db.write(w)

    # -- API keys --------------------------------------------------------------------------
    async def create_key(self, project_pk: int, key: ApiKey, key_hash: str, created_by: str | None) -> None:
        await self._db.write(lambda c: _insert_key(c, project_pk, key, key_hash, created_by))

    async def keys(self, project_pk: int) -> list[ApiKey]:
        def q(c: sqlite3.Connection) -> list[ApiKey]:
            return [
                ApiKey(id=r[0], name=r[1], scope=r[2], prefix=r[3], project_id=r[4], created_at=r[5],
                       last_used_at=r[6], revoked_at=r[7])
                for r in c.execute(
                    "SELECT k.id, k.name, k.scope, k.prefix, p.id, k.created_at, k.last_used_at, k.revoked_at"
                    " FROM api_keys k JOIN projects p ON p.pk = k.project_pk"
                    " WHERE k.project_pk = ? AND k.revoked_at IS NULL ORDER BY k.created_at DESC, k.id DESC",
                    (project_pk,),
                )
            ]

        return await self._db.read(q)

    async def key_by_hash(self, key_hash: str) -> tuple[KeyIdentity, str] | None:
        """The live key with this digest and the digest as stored (for a constant-time check)."""

        def q(c: sqlite3.Connection) -> tuple[KeyIdentity, str] | None:
            row = c.execute(
                "SELECT k.id, k.scope, k.project_pk, p.id, p.org_id, k.last_used_at, k.key_hash"
                " FROM api_keys k JOIN projects p ON p.pk = k.project_pk"
                " WHERE k.key_hash = ? AND k.revoked_at IS NULL",
                (key_hash,),
            ).fetchone()
            if not row:
                return None
            ident = KeyIdentity(key_id=row[0], scope=row[1], project_pk=row[2], project_id=row[3],
                                org_id=row[4], last_used_at=row[5])
            return ident, row[6]

        return await self._db.read(q)

    async def revoke_key(self, project_pk: int, key_id: str, now_ms: int) -> bool:
        def w(c: sqlite3.Connection) -> bool:
            cur = c.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND project_pk = ? AND revoked_at IS NULL",
                (now_ms, key_id, project_pk),
            )
            return cur.rowcount > 0

        return await self._db.write(w)

    async def touch_key(self, key_id: str, now_ms: int) -> None:
        await self._db.write(
            lambda c: c.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now_ms, key_id))
        )

    # -- sessions --------------------------------------------------------------------------
    async def create_session(self, token_hash: str, user_id: str, now_ms: int, expires_at: int) -> None:
        def w(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM sessions WHERE expires_at <= ?", (now_ms,))
            c.execute(
                "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES (?,?,?,?)",
                (token_hash, user_id, now_ms, expires_at),
            )

        await self._db.write(w)

    async def session_user(self, token_hash: str, now_ms: int) -> tuple[User, str] | None:
        """The user of a live session and the digest as stored."""

        def q(c: sqlite3.Connection) -> tuple[User, str] | None:
            row = c.execute(
                "SELECT u.id, u.email, u.name, s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id"
                " WHERE s.token_hash = ? AND s.expires_at > ?",
                (token_hash, now_ms),
            ).fetchone()
            return (_user(row[:3]), row[3]) if row else None

        return await self._db.read(q)

    async def delete_session(self, token_hash: str) -> None:
        await self._db.write(lambda c: c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))

    async def delete_sessions_of(self, user_id: str, *, keep: str | None = None) -> None:
        """End a user's sessions (after a password change or reset), optionally keeping one."""
        await self._db.write(
            lambda c: c.execute(
                "DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?", (user_id, keep)
            )
        )


def _owner_count(c: sqlite3.Connection, org_id: str) -> int:
    return c.execute(
        "SELECT count(*) FROM memberships WHERE org_id = ? AND role = 'owner'", (org_id,)
    ).fetchone()[0]


def _free_org_slug(c: sqlite3.Connection, base: str) -> str:
    slug, n = base, 1
    while c.execute("SELECT 1 FROM orgs WHERE slug = ?", (slug,)).fetchone():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _insert_org(c: sqlite3.Connection, org: Org, now_ms: int) -> None:
    c.execute("INSERT INTO orgs(id, name, slug, created_at) VALUES (?,?,?,?)", (org.id, org.name, org.slug, now_ms))


def _insert_project(c: sqlite3.Connection, org_id: str, project: Project, now_ms: int) -> int:
    cur = c.execute(
        "INSERT INTO projects(id, org_id, name, slug, created_at) VALUES (?,?,?,?,?)",
        (project.id, org_id, project.name, project.slug, now_ms),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _insert_key(c: sqlite3.Connection, project_pk: int, key: ApiKey, key_hash: str, created_by: str | None) -> None:
    c.execute(
        "INSERT INTO api_keys(id, project_pk, name, scope, prefix, key_hash, created_by, created_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (key.id, project_pk, key.name, key.scope, key.prefix, key_hash, created_by, key.created_at),
    )
