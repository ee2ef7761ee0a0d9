"""Every template renders with StrictUndefined from representative contexts; hostile text is escaped.

A new template needs an entry in SAMPLES (the completeness test fails otherwise): part 2 adds theirs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2.meta
import pytest
from jinja2 import nodes
from starlette.applications import Starlette
from starlette.requests import Request

from scrywatch.models.accounts import ApiKey, Member, Org, OrgWithRole, Project, ProjectAccess, User
from scrywatch.services.keys import CreatedKey
from scrywatch.web import templating
from scrywatch.web.dashboard.flash import Flash
from scrywatch.web.dashboard.frame import NAV, Frame, frame_context
from scrywatch.web.dashboard.keys import SCOPES
from scrywatch.web.dashboard.members import ROLES
from scrywatch.web.routes import all_routes
from tests.dashboard.log_samples import LOG_SAMPLES
from tests.dashboard.ops_samples import OPS_SAMPLES

NOW = 1_767_225_600_000
PLAIN = "Acme Research"
HOSTILE = ("<script>alert(1)</script>\"'><img src=x onerror=alert(2)> {{ 7*7 }} "
           + "W" * 3000 + " مرحبا بالعالم \u202eevil\u202c שלום 🚀👩‍💻🏳️‍🌈 &amp; ")
_app = Starlette(routes=all_routes())


def request(path: str = "/") -> Request:
    return Request({"type": "http", "app": _app, "method": "GET", "path": path, "headers": [],
                    "query_string": b"", "scheme": "http", "server": ("testserver", 80)})


def signed_in(text: str, *, role: str = "owner", bare: bool = False) -> dict[str, Any]:
    user = User(id="u1", email="olive@example.com", name=text)
    org = Org(id="o1", name=text, slug="acme")
    project = Project(id="p1", name=text, slug="default", pk=1, org_id="o1")
    other = Project(id="p2", name=text + " two", slug="second", pk=2, org_id="o1")
    access = ProjectAccess(org=org, project=project, role=role, scopes=frozenset({"read"}))  # type: ignore[arg-type]
    frame = Frame(rt=None, principal=None, user=user, access=access,  # type: ignore[arg-type]
                  orgs=[(OrgWithRole(id="o1", name=text, slug="acme", role=role), [project, other])])  # type: ignore[arg-type]
    return {**frame_context(frame), "nav": NAV, "section": "settings", "switch_route": "dash.settings.keys",
            "flash": None if bare else Flash(kind="success", message=text), "csrf_token": "t0ken",
            "now_ms": NOW, "request": request("/o/acme/p/default/settings/keys")}


def anonymous(text: str, *, bare: bool = False) -> dict[str, Any]:
    return {**frame_context(None), "nav": NAV, "section": "", "switch_route": "dash.logs",
            "flash": None if bare else Flash(kind="error", message=text), "csrf_token": "t0ken",
            "now_ms": NOW, "request": request("/login")}


def onboarding(text: str, *, bare: bool = False) -> dict[str, Any]:
    base = "http://127.0.0.1:8080"
    return {"onboarding": {"base_url": base, "ingest_url": base + "/api/ingest", "otlp_url": base + "/v1/traces",
                           "query_url": base + "/api/orgs/acme/projects/default/logs",
                           "new_key": None if bare else "sw_" + "A" * 43, "key": "YOUR_API_KEY",
                           "key_prefixes": [] if bare else ["sw_abcd", "sw_efgh"], "service": "default"}}


def error_page(text: str, *, status: int = 500, bare: bool = False) -> dict[str, Any]:
    return {"status": status, "code": "internal", "message": text, "request_id": "req_01ABC", "title": text,
            "signed_in": not bare, "path": "/o/acme/p/default/logs", "request": request()}


def keys_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    key = ApiKey(id="k1", name=text, scope="full", prefix="sw_abcd", project_id="p1", created_at=NOW - 90_000,
                 last_used_at=None if bare else NOW - 5_000)
    created = CreatedKey(id="k2", key="sw_" + "B" * 43, name=text, scope="ingest", prefix="sw_BBBB", created_at=NOW)
    return {"keys": [] if bare else [key], "scopes": SCOPES, "created": None if bare else created}


def members_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    members = [Member(user_id="u1", email="olive@example.com", name=text, role="owner", joined_at=NOW - 86_400_000),
               Member(user_id="u2", email="bea@example.com", name=text, role="admin", joined_at=NOW - 3_600_000),
               Member(user_id="u3", email="mo@example.com", name="", role="member", joined_at=NOW)]
    secret = None if bare else {"kind": "invite", "who": text, "password": "Tmp0123456789abc"}
    return {"members": members, "roles": ROLES, "secret": secret}


def projects_ctx(text: str, *, bare: bool = False) -> dict[str, Any]:
    ctx = signed_in(text)
    return {"projects": [ctx["project"]] if bare else [ctx["project"], ctx["orgs"][0]["projects"][1]]}


Builder = Callable[..., dict[str, Any]]
# template -> builder(text, bare=...) of its context; partials render with their page's context.
SAMPLES: dict[str, Builder] = {
    "base.html": lambda t, bare=False: {"request": request()},
    "_icons.html": lambda t, bare=False: {},
    "_macros.html": lambda t, bare=False: {},
    "_dialog.html": lambda t, bare=False: {},
    "_flash.html": lambda t, bare=False: anonymous(t, bare=bare),
    "_header.html": lambda t, bare=False: signed_in(t, bare=bare),
    "_nav.html": lambda t, bare=False: signed_in(t, bare=bare),
    "layout.html": lambda t, bare=False: signed_in(t, bare=bare),
    "error.html": lambda t, bare=False: error_page(t, status=401 if bare else 500, bare=bare),
    "404.html": lambda t, bare=False: error_page(t, status=404, bare=bare),
    "auth/_layout.html": lambda t, bare=False: anonymous(t, bare=bare),
    "auth/login.html": lambda t, bare=False: {**anonymous(t, bare=bare), "email": t,
                                              "error": None if bare else t, "next": "" if bare else "/o/a/p/b"},
    "auth/setup.html": lambda t, bare=False: {**anonymous(t, bare=bare), "error": None if bare else t,
                                              "values": {} if bare else {"name": t, "email": t, "orgName": t}},
    "auth/no_org.html": lambda t, bare=False: {**signed_in(t, bare=bare), "project": None, "org": None},
    "onboarding/_empty.html": lambda t, bare=False: {**signed_in(t, bare=bare), **onboarding(t, bare=bare)},
    "onboarding/start.html": lambda t, bare=False: {**signed_in(t, bare=bare), **onboarding(t, bare=bare)},
    "placeholders/soon.html": lambda t, bare=False: {
        **signed_in(t, bare=bare), "title": t, "blurb": t, "section": "logs" if not bare else "traces",
        **({} if bare else onboarding(t))},
    "settings/_layout.html": lambda t, bare=False: {**signed_in(t, bare=bare), "tab": "keys"},
    "settings/keys.html": lambda t, bare=False: {**signed_in(t, bare=bare), **keys_ctx(t, bare=bare)},
    "settings/members.html": lambda t, bare=False: {**signed_in(t, bare=bare, role="member" if bare else "owner"),
                                                    **members_ctx(t, bare=bare)},
    "settings/projects.html": lambda t, bare=False: {**signed_in(t, bare=bare, role="member" if bare else "owner"),
                                                     **projects_ctx(t, bare=bare)},
    "settings/profile.html": lambda t, bare=False: signed_in(t, bare=bare),
    "settings/danger.html": lambda t, bare=False: signed_in(t, bare=bare, role="member" if bare else "admin"),
    **LOG_SAMPLES,  # part 2: Log Explorer, event, patterns, sessions (tests/dashboard/log_samples.py)
    **OPS_SAMPLES,  # part 2: alerts, insights, traces (tests/dashboard/ops_samples.py)
}


def render(name: str, text: str, *, bare: bool = False) -> str:
    return templating.render_text(name, SAMPLES[name](text, bare=bare))


def test_every_template_has_a_sample_context() -> None:
    assert set(templating.environment.list_templates()) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("bare", [False, True], ids=["full", "bare"])
def test_every_template_renders_with_strict_undefined(name: str, bare: bool) -> None:
    out = render(name, PLAIN, bare=bare)
    if name.endswith(".html") and not name.rsplit("/", 1)[-1].startswith("_") and name != "base.html":
        assert "<!doctype html>" in out and "</html>" in out


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    ctx = SAMPLES["settings/keys.html"](PLAIN)
    del ctx["keys"]
    with pytest.raises(Exception, match="keys"):
        templating.render_text("settings/keys.html", ctx)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_hostile_text_is_escaped_everywhere(name: str) -> None:
    out = render(name, HOSTILE)
    assert "<script>alert" not in out and "<img src=x" not in out
    assert "\"'><" not in out  # no way out of an attribute
    if PLAIN in render(name, PLAIN):  # the template shows user text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
        assert "{{ 7*7 }}" in out  # shown as typed, never evaluated
        assert "مرحبا بالعالم" in out and "🚀👩‍💻" in out


def test_user_text_is_isolated_for_right_to_left_scripts() -> None:
    out = render("settings/members.html", "שלום")
    assert "<bdi>שלום</bdi>" in out


def test_level_badges_and_filters() -> None:
    assert templating.level_class("ERROR") == "badge lvl-error"
    assert templating.level_class("warning") == "badge lvl-warn"
    assert templating.level_class("fatal") == "badge lvl-error"
    assert templating.level_class("<b>") == "badge lvl-other"
    assert templating.level_class(None) == "badge lvl-other"
    assert templating.iso_time(1_767_225_600_123) == "2026-01-01T00:00:00.123Z"
    assert templating.short_time(1_767_225_600_123) == "2026-01-01 00:00:00 UTC"
    assert templating.relative_time(NOW - 10_000, NOW) == "just now"
    assert templating.relative_time(NOW - 5 * 60_000, NOW) == "5 min ago"
    assert templating.relative_time(NOW - 3 * 3_600_000, NOW) == "3 h ago"
    assert templating.relative_time(NOW - 2 * 86_400_000, NOW) == "2 d ago"
    assert templating.relative_time(NOW + 10 * 60_000, NOW) == "in 10 min"
    assert templating.relative_time(None, NOW) == "never"
    assert templating.filesize(512) == "512 B"
    assert templating.filesize(1536) == "1.5 KB"
    assert templating.filesize(10 * 1024 * 1024) == "10 MB"
    assert templating.number(1234567) == "1,234,567"


STATIC = Path(templating.__file__).parent / "static"
ASSET_BUDGET = 150 * 1024  # our own JS + CSS on any one page


@cache
def assets_of(name: str) -> frozenset[str]:
    """The static files a template references (static_url('...')), with those of every template it
    extends, includes or imports, and the modules those scripts import."""
    source = templating.environment.loader.get_source(templating.environment, name)[0]  # type: ignore[union-attr]
    tree = templating.environment.parse(source)
    found = {call.args[0].value for call in tree.find_all(nodes.Call)
             if isinstance(call.node, nodes.Name) and call.node.name == "static_url"
             and call.args and isinstance(call.args[0], nodes.Const)}
    dynamic = [call for call in tree.find_all(nodes.Call) if isinstance(call.node, nodes.Name)
               and call.node.name == "static_url" and not (call.args and isinstance(call.args[0], nodes.Const))]
    assert not dynamic, f"{name}: static_url with a computed path cannot be budgeted"
    for other in jinja2.meta.find_referenced_templates(tree):
        assert other is not None, f"{name}: a computed template name cannot be budgeted"
        found |= assets_of(other)
    for asset in list(found):  # ES module imports ride along
        if asset.endswith(".js"):
            for imported in re.findall(r"""^\s*import\b[^;]*?["'](\.{1,2}/[^"']+)["']""",
                                       (STATIC / asset).read_text(), re.M):
                found.add(str((Path(asset).parent / imported).as_posix()).removeprefix("./"))
    return frozenset(found)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_no_template_ships_more_than_150_kb_of_our_js_and_css(name: str) -> None:
    """Every page template (and anything a page includes), with everything it pulls in: layout, header,
    palette, page scripts. The live test in test_explorer_pages.py checks the pages as served."""
    assets = {a for a in assets_of(name) if a.endswith((".js", ".css"))}
    total = sum((STATIC / a).stat().st_size for a in assets)
    assert total <= ASSET_BUDGET, (name, total, sorted(assets))
    if name.endswith(".html") and not name.rsplit("/", 1)[-1].startswith("_") and name not in ("base.html",):
        assert {"app.css", "app.js"} <= assets, name  # a page: the budget above is a whole page's


def test_the_asset_walk_sees_layout_and_page_scripts() -> None:
    explorer = assets_of("logs/explorer.html")
    assert {"app.css", "app.js", "theme.js", "js/palette.js", "js/explorer.js", "js/live.js"} <= explorer
    assert "js/palette.js" in assets_of("settings/keys.html")  # every project page has the palette


def test_static_urls_carry_a_content_hash() -> None:
    url = templating.static_url("app.css")
    assert re.fullmatch(r"/static/app\.css\?v=[0-9a-f]{10}", url)
    assert templating.static_url("no-such-file.js").endswith("?v=" + templating.__version__)


def test_url_for_builds_dashboard_paths() -> None:
    out = templating.environment.from_string("{{ url_for('dash.settings.keys', org='a b', project='c') }}").render(
        request=request())
    assert out == "/o/a%20b/p/c/settings/keys"
