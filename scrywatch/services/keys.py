"""API keys of a project: create (shown once), list masked, revoke."""

from __future__ import annotations

import msgspec

from scrywatch.errors import NotFound
from scrywatch.models.accounts import ApiKey, ApiKeyCreate, ProjectAccess
from scrywatch.runtime import Runtime
from scrywatch.services.accounts import forget_cached_keys, new_key_record, require_role


class CreatedKey(msgspec.Struct):
    id: str
    key: str
    name: str
    scope: str
    prefix: str
    created_at: int


async def list_keys(rt: Runtime, access: ProjectAccess) -> list[ApiKey]:
    require_role(access, "member")
    return await rt.store.accounts.keys(access.project.pk)


async def create_key(rt: Runtime, access: ProjectAccess, body: ApiKeyCreate, *, user_id: str) -> CreatedKey:
    require_role(access, "member")
    name = body.name.strip() or "API key"
    secret, record, digest = new_key_record(access.project.id, name=name, scope=body.scope,
                                            now_ms=rt.clock.now_ms())
    await rt.store.accounts.create_key(access.project.pk, record, digest, user_id)
    return CreatedKey(id=record.id, key=secret, name=record.name, scope=record.scope, prefix=record.prefix,
                      created_at=record.created_at)


async def revoke_key(rt: Runtime, access: ProjectAccess, key_id: str) -> None:
    require_role(access, "member")
    if not await rt.store.accounts.revoke_key(access.project.pk, key_id, rt.clock.now_ms()):
        raise NotFound("API key not found")
    forget_cached_keys(rt)
