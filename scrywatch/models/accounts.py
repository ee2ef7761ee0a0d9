"""Users, organizations, projects, API keys and the principal a request acts as."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from scrywatch.models._base import Inbound, Record

Email = Annotated[str, Meta(min_length=3, max_length=254)]
Password = Annotated[str, Meta(min_length=8, max_length=1024)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
RoleName = Literal["owner", "admin", "member"]
ScopeName = Literal["full", "ingest", "read"]

ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}


class Scope(enum.StrEnum):
    """What a request may do. A `full` key holds every scope; sessions hold READ and WRITE."""

    INGEST = "ingest"
    READ = "read"


# -- records ---------------------------------------------------------------------------------
class User(Record):
    id: str
    email: str
    name: str


class Org(Record):
    id: str
    name: str
    slug: str


class Project(Record):
    id: str
    name: str
    slug: str
    pk: int = msgspec.field(default=0)
    org_id: str = ""


class OrgWithRole(Record):
    id: str
    name: str
    slug: str
    role: RoleName


class Member(Record):
    user_id: str
    email: str
    name: str
    role: RoleName
    joined_at: int


class ApiKey(Record):
    id: str
    name: str
    scope: ScopeName
    prefix: str
    project_id: str
    created_at: int
    last_used_at: int | None = None
    revoked_at: int | None = None


class KeyIdentity(Record):
    """What an API key resolves to (cached per process; revocation clears the cache)."""

    key_id: str
    scope: ScopeName
    project_pk: int
    project_id: str
    org_id: str
    last_used_at: int | None


class Principal(Record):
    """Who is calling: a signed-in user (session) or an API key of one project."""

    user: User | None = None
    key: KeyIdentity | None = None
    via_cookie: bool = False

    @property
    def is_session(self) -> bool:
        return self.user is not None


class ProjectAccess(Record):
    """A principal's access to one project, after tenancy and role checks."""

    org: Org
    project: Project
    role: RoleName | None  # None for API keys
    scopes: frozenset[str]


# -- request bodies --------------------------------------------------------------------------
class RegisterIn(Inbound, rename={"org_name": "orgName"}):
    email: Email
    password: Password
    name: Name
    org_name: Name | None = None


class LoginIn(Inbound):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class InviteIn(Inbound):
    email: Email
    name: Name | None = None
    role: RoleName = "member"


class RoleUpdate(Inbound):
    role: RoleName


class ProjectCreate(Inbound):
    name: Name


class ProjectUpdate(Inbound):
    name: Name


class ProfileUpdate(Inbound):
    name: Name | None = None
    password: Password | None = None
    current_password: Annotated[str, Meta(max_length=1024)] | None = None


class ApiKeyCreate(Inbound):
    name: Name = "API key"
    scope: ScopeName = "full"


class OrgCreate(Inbound):
    name: Name
