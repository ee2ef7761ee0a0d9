"""Accounts: registration, login and sessions, who a request is, and access to a project."""

from __future__ import annotations

import re
import unicodedata

import msgspec

from scrywatch.auth import tokens
from scrywatch.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized
from scrywatch.ids import new_id
from scrywatch.models.accounts import (
    ROLE_RANK,
    ApiKey,
    KeyIdentity,
    LoginIn,
    Org,
    OrgWithRole,
    Principal,
    ProfileUpdate,
    Project,
    ProjectAccess,
    RegisterIn,
    Scope,
    User,
)
from scrywatch.runtime import Runtime

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
KEY_CACHE_MS = 5_000
KEY_TOUCH_EVERY_MS = 60_000
DEFAULT_PROJECT_NAME = "Default"
SESSION_SCOPES = frozenset({Scope.INGEST, Scope.READ})
KEY_SCOPES = {"full": frozenset({Scope.INGEST, Scope.READ}), "ingest": frozenset({Scope.INGEST}),
              "read": frozenset({Scope.READ})}


class Registration(msgspec.Struct):
    user: User
    org: Org
    project: Project
    api_key: str
    session_token: str


class LoginResult(msgspec.Struct):
    user: User
    session_token: str


def normalize_email(email: str, *, field: str = "email") -> str:
    """Trimmed, lower-cased email; InvalidInput when it does not look like one."""
    value = email.strip().lower()
    if not EMAIL_RE.match(value):
        raise InvalidInput("must be an email address", field=field)
    return value


def slugify(name: str, *, fallback: str) -> str:
    """URL slug of a display name: ASCII lower-case words joined by '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return slug or fallback


def clean_name(name: str, field: str) -> str:
    """The name without surrounding blanks; InvalidInput naming `field` when nothing is left."""
    value = name.strip()
    if not value:
        raise InvalidInput("must not be blank", field=field)
    return value


def new_key_record(project_id: str, *, name: str, scope: str, now_ms: int) -> tuple[str, ApiKey, str]:
    """A fresh key: (the secret shown once, its record, its stored digest)."""
    secret = tokens.new_api_key()
    record = ApiKey(id=new_id(), name=name, scope=scope, prefix=tokens.shown_prefix(secret),  # type: ignore[arg-type]
                    project_id=project_id, created_at=now_ms)
    return secret, record, tokens.digest(secret)


# -- registration, login, sessions ---------------------------------------------------------
async def register(rt: Runtime, body: RegisterIn) -> Registration:
    """Create user + org + Default project + first key; open only for the first user unless configured."""
    email = normalize_email(body.email)
    name = clean_name(body.name, "name")
    org_name = clean_name(body.org_name, "orgName") if body.org_name is not None else f"{name}'s organization"
    open_registration = rt.config.auth.open_registration
    if not open_registration and await rt.store.accounts.count_users() > 0:
        raise Forbidden("registration is closed; ask an admin of your organization for an invite")
    if await rt.store.accounts.user_by_email(email) is not None:
        raise Conflict("an account with this email already exists", field="email")
    now = rt.clock.now_ms()
    user = User(id=new_id(), email=email, name=name)
    # The store makes the slug unique (slug-2, ...) inside its write, where no concurrent one can race.
    wanted = Org(id=new_id(), name=org_name, slug=slugify(org_name, fallback="org"))
    project = Project(id=new_id(), name=DEFAULT_PROJECT_NAME, slug="default")
    secret, key, key_hash = new_key_record(project.id, name="Default key", scope="full", now_ms=now)
    password_hash = await rt.passwords.hash(body.password)
    try:
        org = await rt.store.accounts.bootstrap(
            user=user, password_hash=password_hash, org=wanted, project=project, key=key, key_hash=key_hash,
            now_ms=now, only_if_no_users=not open_registration,
        )
    except Conflict as exc:  # the same email registered concurrently, after the check above
        raise Conflict("an account with this email already exists", field="email") from exc
    if org is None:
        raise Forbidden("registration is closed; ask an admin of your organization for an invite")
    token = await start_session(rt, user.id)
    return Registration(user=user, org=org, project=project, api_key=secret, session_token=token)


async def start_session(rt: Runtime, user_id: str) -> str:
    """Create a server-side session; return the token for the cookie (only its digest is stored)."""
    token = tokens.new_session_token()
    now = rt.clock.now_ms()
    expires = now + int(rt.config.auth.session_hours * 3_600_000)
    await rt.store.accounts.create_session(tokens.digest(token), user_id, now, expires)
    return token


async def login(rt: Runtime, body: LoginIn, *, client_ip: str) -> LoginResult:
    """Check credentials with throttling per email and per client address."""
    email = body.email.strip().lower()
    keys = [f"email:{email}", f"ip:{client_ip}"]
    now = rt.clock.now_ms()
    wait = rt.throttle.retry_after_s(keys, now)
    if wait is not None:
        raise RateLimited("too many failed sign-in attempts, try again later", retry_after_s=wait)
    found = await rt.store.accounts.user_by_email(email)
    ok = await rt.passwords.verify(found[1] if found else None, body.password)
    if not ok or found is None:
        rt.throttle.record_failure(keys, now)
        raise Unauthorized("invalid email or password")
    rt.throttle.reset([f"email:{email}"])
    return LoginResult(user=found[0], session_token=await start_session(rt, found[0].id))


async def logout(rt: Runtime, session_token: str) -> None:
    await rt.store.accounts.delete_session(tokens.digest(session_token))


async def user_for_session(rt: Runtime, session_token: str) -> User | None:
    """The user of a live session token, or None."""
    digest = tokens.digest(session_token)
    found = await rt.store.accounts.session_user(digest, rt.clock.now_ms())
    if found is None or not tokens.same(found[1], digest):
        return None
    return found[0]


async def identity_for_key(rt: Runtime, secret: str) -> KeyIdentity | None:
    """The project and scope of a live API key, or None. Lookups are cached for a few seconds;
    revoking a key or deleting a project clears the cache, so revocation is immediate."""
    if not tokens.looks_like_api_key(secret):
        return None
    digest = tokens.digest(secret)
    now = rt.clock.now_ms()
    cached = rt.key_cache.get(digest)
    if cached is not None and cached[1] > now:
        ident: KeyIdentity = cached[0]
    else:
        generation = rt.key_cache_generation
        found = await rt.store.accounts.key_by_hash(digest)
        if found is None or not tokens.same(found[1], digest):
            rt.key_cache.pop(digest, None)
            return None
        ident = found[0]
        if len(rt.key_cache) > 10_000:
            rt.key_cache.clear()
        # A revocation committed while we read must not be undone by caching what we read before it.
        if rt.key_cache_generation == generation:
            rt.key_cache[digest] = (ident, now + KEY_CACHE_MS)
    if ident.last_used_at is None or now - ident.last_used_at > KEY_TOUCH_EVERY_MS:
        # Record use at most once a minute per key, without making the request wait for it.
        ident = msgspec.structs.replace(ident, last_used_at=now)
        if digest in rt.key_cache:
            rt.key_cache[digest] = (ident, rt.key_cache[digest][1])
        rt.spawn(rt.store.accounts.touch_key(ident.key_id, now))
    return ident


def forget_cached_keys(rt: Runtime) -> None:
    rt.key_cache.clear()
    rt.key_cache_generation += 1


async def needs_setup(rt: Runtime) -> bool:
    """True while no user exists (the first-user set-up is open)."""
    return int(await rt.store.accounts.count_users()) == 0


async def memberships(rt: Runtime, principal: Principal) -> list[tuple[OrgWithRole, list[Project]]]:
    """The session user's orgs, each with their role and its projects (for navigation)."""
    return await rt.store.accounts.orgs_of(require_user(principal).id)  # type: ignore[no-any-return]


async def me(rt: Runtime, principal: Principal) -> dict[str, object]:
    """The signed-in user with their orgs and projects; for a key, its org and project."""
    if principal.user is not None:
        orgs = await rt.store.accounts.orgs_of(principal.user.id)
        return {
            "user": principal.user,
            "orgs": [_org_entry(org, projects) for org, projects in orgs],
        }
    key = _require_key(principal)
    project = await rt.store.accounts.project_by_pk(key.project_pk)
    if project is None:
        raise Unauthorized("invalid API key")
    orgs = [o for o in await rt.store.accounts.all_projects() if o[1].pk == key.project_pk]
    org = orgs[0][0]
    return {
        "user": None,
        "key": {"id": key.key_id, "scope": key.scope},
        "orgs": [{"id": org.id, "name": org.name, "slug": org.slug, "role": None,
                  "projects": [_project_entry(project)]}],
    }


def _org_entry(org: OrgWithRole, projects: list[Project]) -> dict[str, object]:
    return {"id": org.id, "name": org.name, "slug": org.slug, "role": org.role,
            "projects": [_project_entry(p) for p in projects]}


def _project_entry(p: Project) -> dict[str, str]:
    return {"id": p.id, "name": p.name, "slug": p.slug}


def _require_key(principal: Principal) -> KeyIdentity:
    if principal.key is None:
        raise Unauthorized("authentication required")
    return principal.key


def require_user(principal: Principal) -> User:
    """The session user; API keys are refused (403) on session-only endpoints."""
    if principal.user is None:
        raise Forbidden("this endpoint needs a signed-in user; API keys are not accepted")
    return principal.user


# -- access to orgs and projects -----------------------------------------------------------
async def org_role(rt: Runtime, principal: Principal, org_slug: str, *, at_least: str = "member") -> tuple[Org, str]:
    """The org and the session user's role in it; 404 if not a member, 403 if the role is too low."""
    user = require_user(principal)
    org = await rt.store.accounts.org_by_slug(org_slug)
    role = await rt.store.accounts.role_of(org.id, user.id) if org else None
    if org is None or role is None:
        raise NotFound("organization not found")
    if ROLE_RANK[role] < ROLE_RANK[at_least]:
        raise Forbidden(f"this needs the {at_least} role or higher")
    return org, role


async def project_access(rt: Runtime, principal: Principal, org_slug: str, project_slug: str,
                         *, scope: Scope = Scope.READ) -> ProjectAccess:
    """Resolve a project path for a principal: 404 when it may not see it, 403 for a key's scope."""
    org = await rt.store.accounts.org_by_slug(org_slug)
    project = await rt.store.accounts.project_by_slug(org.id, project_slug) if org else None
    if org is None or project is None:
        raise NotFound("project not found")
    if principal.key is not None:
        if principal.key.project_pk != project.pk:
            raise NotFound("project not found")  # a key never reveals other projects
        scopes = KEY_SCOPES[principal.key.scope]
        if scope not in scopes:
            raise Forbidden(f"this API key has the {principal.key.scope!r} scope and cannot {scope.value}")
        return ProjectAccess(org=org, project=project, role=None, scopes=scopes)
    user = require_user(principal)
    role = await rt.store.accounts.role_of(org.id, user.id)
    if role is None:
        raise NotFound("project not found")
    return ProjectAccess(org=org, project=project, role=role, scopes=SESSION_SCOPES)  # type: ignore[arg-type]


def require_role(access: ProjectAccess, at_least: str) -> None:
    """Session with at least this role; API keys never pass."""
    if access.role is None:
        raise Forbidden("this endpoint needs a signed-in user; API keys are not accepted")
    if ROLE_RANK[access.role] < ROLE_RANK[at_least]:
        raise Forbidden(f"this needs the {at_least} role or higher")


# -- profile -------------------------------------------------------------------------------
async def update_profile(rt: Runtime, principal: Principal, body: ProfileUpdate, *,
                         session_token: str | None) -> User:
    """Change the name and/or password (the latter needs current_password; ends other sessions)."""
    user = require_user(principal)
    found = await rt.store.accounts.user_by_id(user.id)
    if found is None:
        raise NotFound("user not found")
    name = clean_name(body.name, "name") if body.name is not None else None
    new_hash = None
    if body.password is not None:
        if body.current_password is None:
            raise InvalidInput("required to change the password", field="current_password")
        if not await rt.passwords.verify(found[1], body.current_password):
            raise InvalidInput("is not your current password", field="current_password")
        new_hash = await rt.passwords.hash(body.password)
    await rt.store.accounts.update_user(user.id, name=name, password_hash=new_hash)
    if new_hash is not None:
        keep = tokens.digest(session_token) if session_token else None
        await rt.store.accounts.delete_sessions_of(user.id, keep=keep)
    return User(id=user.id, email=user.email, name=name or user.name)
