"""Organization members and projects."""

from __future__ import annotations

import shutil

import msgspec

from scrywatch.auth.passwords import temp_password
from scrywatch.errors import Conflict, Forbidden, NotFound
from scrywatch.ids import new_id
from scrywatch.models.accounts import (
    ROLE_RANK,
    InviteIn,
    Member,
    Principal,
    Project,
    ProjectCreate,
    ProjectUpdate,
    RoleUpdate,
    User,
)
from scrywatch.runtime import Runtime
from scrywatch.services.accounts import (
    clean_name,
    forget_cached_keys,
    normalize_email,
    org_role,
    require_user,
    slugify,
)


class Invitation(msgspec.Struct):
    user_id: str
    temp_password: str | None


async def list_members(rt: Runtime, principal: Principal, org_slug: str) -> list[Member]:
    org, _ = await org_role(rt, principal, org_slug)
    return await rt.store.accounts.members(org.id)


async def invite_member(rt: Runtime, principal: Principal, org_slug: str, body: InviteIn) -> Invitation:
    """Add a person to the org; a new account gets a temporary password (shown once)."""
    org, role = await org_role(rt, principal, org_slug, at_least="admin")
    if body.role in ("owner", "admin") and role != "owner":
        raise Forbidden("only owners can grant the owner or admin role", field="role")
    email = normalize_email(body.email)
    existing = await rt.store.accounts.user_by_email(email)
    now = rt.clock.now_ms()
    if existing is not None:
        user = existing[0]
        if await rt.store.accounts.role_of(org.id, user.id) is not None:
            raise Conflict("this person is already a member", field="email")
        await rt.store.accounts.add_member(org_id=org.id, user=user, password_hash=None, role=body.role, now_ms=now)
        return Invitation(user_id=user.id, temp_password=None)
    password = temp_password()
    name = (body.name or "").strip() or email.split("@", 1)[0]
    user = User(id=new_id(), email=email, name=name)
    await rt.store.accounts.add_member(
        org_id=org.id, user=user, password_hash=await rt.passwords.hash(password), role=body.role, now_ms=now
    )
    return Invitation(user_id=user.id, temp_password=password)


async def _target_role(rt: Runtime, org_id: str, user_id: str) -> str:
    role = await rt.store.accounts.role_of(org_id, user_id)
    if role is None:
        raise NotFound("member not found")
    return role


def _may_manage(role: str, target_role: str) -> bool:
    """Owners manage everyone; admins manage plain members only."""
    return role == "owner" or (ROLE_RANK[role] >= ROLE_RANK["admin"] and target_role == "member")


async def change_role(rt: Runtime, principal: Principal, org_slug: str, user_id: str, body: RoleUpdate) -> None:
    """Owners may set any role; admins may only manage plain members. The last owner stays."""
    org, role = await org_role(rt, principal, org_slug, at_least="admin")
    current = await _target_role(rt, org.id, user_id)
    if role != "owner" and (ROLE_RANK[body.role] >= ROLE_RANK["admin"] or not _may_manage(role, current)):
        raise Forbidden("only owners can grant or change the owner and admin roles", field="role")
    if not await rt.store.accounts.change_role(org.id, user_id, body.role):
        raise Conflict("the last owner cannot be demoted; make someone else owner first", field="role")


async def _is_last_owner(rt: Runtime, org_id: str, user_id: str) -> bool:
    owners = [m.user_id for m in await rt.store.accounts.members(org_id) if m.role == "owner"]
    return owners == [user_id]


async def remove_member(rt: Runtime, principal: Principal, org_slug: str, user_id: str) -> None:
    """Remove someone else from the org; never the last owner (409, also when they try it themselves)."""
    org, role = await org_role(rt, principal, org_slug, at_least="admin")
    current = await _target_role(rt, org.id, user_id)
    if user_id == require_user(principal).id:
        # The last owner would get "not yourself" too, but 409 names the rule that actually binds.
        if await _is_last_owner(rt, org.id, user_id):
            raise Conflict("the last owner cannot be removed")
        raise Forbidden("you cannot remove yourself")
    if not _may_manage(role, current):
        raise Forbidden("only owners can remove owners and admins")
    if not await rt.store.accounts.remove_member(org.id, user_id):
        raise Conflict("the last owner cannot be removed")


async def reset_password(rt: Runtime, principal: Principal, org_slug: str, user_id: str) -> str:
    """Give a member a new temporary password and end their sessions."""
    org, role = await org_role(rt, principal, org_slug, at_least="admin")
    current = await _target_role(rt, org.id, user_id)
    if not _may_manage(role, current):
        raise Forbidden("only owners can reset the password of owners and admins")
    # An account is one login across orgs, and inviting an existing account needs no consent: the
    # caller must manage the person in every org they belong to, or resetting would take those over.
    caller = require_user(principal).id
    for other, _ in await rt.store.accounts.orgs_of(user_id):
        if other.id == org.id:
            continue
        caller_role = await rt.store.accounts.role_of(other.id, caller)
        if caller_role is None or not _may_manage(caller_role, other.role):
            raise Forbidden("this person also belongs to another organization you do not manage; "
                            "they can change their password themselves")
    password = temp_password()
    await rt.store.accounts.update_user(user_id, password_hash=await rt.passwords.hash(password))
    await rt.store.accounts.delete_sessions_of(user_id)
    return password


# -- projects ------------------------------------------------------------------------------
async def list_projects(rt: Runtime, principal: Principal, org_slug: str) -> list[Project]:
    org, _ = await org_role(rt, principal, org_slug)
    return await rt.store.accounts.projects(org.id)


async def create_project(rt: Runtime, principal: Principal, org_slug: str, body: ProjectCreate) -> Project:
    org, _ = await org_role(rt, principal, org_slug, at_least="admin")
    name = clean_name(body.name, "name")
    slug = slugify(name, fallback="project")
    if await rt.store.accounts.project_by_slug(org.id, slug) is not None:
        raise Conflict(f"a project with the slug {slug!r} already exists", field="name")
    return await rt.store.accounts.create_project(org.id, Project(id=new_id(), name=name, slug=slug),
                                                  rt.clock.now_ms())


async def _project(rt: Runtime, org_id: str, slug: str) -> Project:
    project = await rt.store.accounts.project_by_slug(org_id, slug)
    if project is None:
        raise NotFound("project not found")
    return project


async def rename_project(rt: Runtime, principal: Principal, org_slug: str, project_slug: str,
                         body: ProjectUpdate) -> Project:
    org, _ = await org_role(rt, principal, org_slug, at_least="admin")
    project = await _project(rt, org.id, project_slug)
    name = clean_name(body.name, "name")
    await rt.store.accounts.rename_project(project.pk, name)
    return msgspec.structs.replace(project, name=name)


async def delete_project(rt: Runtime, principal: Principal, org_slug: str, project_slug: str) -> None:
    """Delete a project with its hot data, archive, traces and keys (owners only; never the last)."""
    org, _ = await org_role(rt, principal, org_slug, at_least="owner")
    project = await _project(rt, org.id, project_slug)
    if not await rt.store.accounts.delete_project(org.id, project.pk):
        raise Conflict("an organization keeps at least one project")
    forget_cached_keys(rt)
    archive_dir = rt.config.archive_path / org.slug / project.slug
    if archive_dir.exists():
        shutil.rmtree(archive_dir, ignore_errors=True)
