"""Shell-side administration: `scrywatch user create`."""

from __future__ import annotations

from scrywatch.config import Config
from scrywatch.errors import Conflict, InvalidInput
from scrywatch.ids import new_id
from scrywatch.models.accounts import Org, Project, User
from scrywatch.runtime import build_runtime
from scrywatch.services.accounts import DEFAULT_PROJECT_NAME, new_key_record, normalize_email, slugify

MIN_PASSWORD_CHARS = 8


async def create_user_from_shell(config: Config, *, email: str, name: str, org_name: str, password: str,
                                 role: str = "member") -> list[str]:
    """Create an account. A new org gets a Default project and a key (printed once); an existing
    org (matched by slug) gains the user with `role`. Returns lines to print."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_CHARS} characters", field="password")
    email = normalize_email(email)
    name = name.strip()
    if not name or not org_name.strip():
        raise InvalidInput("name and org must not be blank", field="name")
    rt = build_runtime(config)
    await rt.store.start()
    try:
        accounts = rt.store.accounts
        if await accounts.user_by_email(email) is not None:
            raise Conflict(f"an account with email {email} already exists", field="email")
        now = rt.clock.now_ms()
        user = User(id=new_id(), email=email, name=name)
        password_hash = await rt.passwords.hash(password)
        existing = await accounts.org_by_slug(slugify(org_name, fallback="org"))
        if existing is not None:
            await accounts.add_member(org_id=existing.id, user=user, password_hash=password_hash, role=role,
                                      now_ms=now)
            return [f"created {email} as {role} of {existing.name} (/{existing.slug})"]
        wanted = Org(id=new_id(), name=org_name.strip(), slug=slugify(org_name, fallback="org"))
        project = Project(id=new_id(), name=DEFAULT_PROJECT_NAME, slug="default")
        secret, key, key_hash = new_key_record(project.id, name="Default key", scope="full", now_ms=now)
        org = await accounts.bootstrap(user=user, password_hash=password_hash, org=wanted, project=project,
                                       key=key, key_hash=key_hash, now_ms=now, only_if_no_users=False)
        assert org is not None  # only_if_no_users=False always creates
        return [
            f"created {email} as owner of {org.name} (/{org.slug}), project {project.slug}",
            f"API key (shown once, store it now): {secret}",
            f"ingest URL: POST /api/ingest   data: /api/orgs/{org.slug}/projects/{project.slug}/logs",
        ]
    finally:
        await rt.store.close()
