"""Dashboard pages over HTTP against a real server: sign-in, set-up, CSRF, settings actions, errors."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import httpx
import pytest

from tests.dashboard.forms import csrf_token, flash, get_page, post_form, secret
from tests.support import PASSWORD, Account, LiveServer, login, register

HTML = {"Accept": "text/html"}


def project_path(account: Account, rest: str = "") -> str:
    return f"/o/{account.org}/p/{account.project}{rest}"


# -- home, set-up, sign-in -----------------------------------------------------------------
def test_home_sends_visitors_to_setup_until_a_user_exists_then_to_login(server: LiveServer) -> None:
    client = server.client()
    assert client.get("/").headers["location"] == "/setup"
    assert client.get("/login").headers["location"] == "/setup"
    register(server)
    anonymous = server.client()
    assert anonymous.get("/").headers["location"] == "/login"
    assert anonymous.get("/setup").headers["location"] == "/login"


def test_setup_creates_the_owner_signs_in_and_shows_the_first_key_once(server: LiveServer) -> None:
    client = server.client()
    token = csrf_token(get_page(client, "/setup").text)
    r = client.post("/setup", headers=HTML, data={
        "csrf_token": token, "name": "Ada", "email": "ada@example.com", "orgName": "Analytical Engines",
        "password": PASSWORD, "password_confirm": PASSWORD})
    assert r.status_code == 201, r.text[:500]
    key = secret(r.text)
    assert key.startswith("sw_") and r.text.count(key) >= 2  # the panel and the snippets
    assert r.headers["cache-control"] == "no-store"
    assert server.key_client(key).get("/api/auth/me").status_code == 200
    home = client.get("/")
    assert home.headers["location"] == "/o/analytical-engines/p/default/logs"
    # Set-up is closed now, for pages and for posts.
    assert client.get("/setup").headers["location"] == "/login"
    again = client.post("/setup", data={"csrf_token": token, "name": "Eve", "email": "eve@example.com",
                                         "password": PASSWORD, "password_confirm": PASSWORD})
    assert again.status_code == 303 and again.headers["location"] == "/login"
    assert login(server, "ada@example.com", PASSWORD).get("/api/auth/me").json()["user"]["name"] == "Ada"


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_the_curl_snippet_shown_after_setup_stores_an_event(server: LiveServer) -> None:
    r = post_form(server.client(), "/setup", {"name": "Ada", "email": "ada@example.com", "orgName": "Acme",
                                              "password": PASSWORD, "password_confirm": PASSWORD})
    found = re.search(r'<code id="code-curl">(.*?)</code>', r.text, re.S)
    assert found
    snippet = html.unescape(found.group(1))
    assert secret(r.text) in snippet
    done = subprocess.run(["bash", "-c", snippet + " -s -o /dev/null -w '%{http_code}'"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.stdout == "202", (done.stdout, done.stderr)


def test_setup_refuses_mismatched_passwords_and_bad_emails(server: LiveServer) -> None:
    client = server.client()
    form = {"name": "Ada", "email": "ada@example.com", "orgName": "", "password": PASSWORD,
            "password_confirm": PASSWORD + "x"}
    r = post_form(client, "/setup", form)
    assert r.status_code == 400 and "differ" in r.text
    r = post_form(client, "/setup", {**form, "email": "not-an-email", "password_confirm": PASSWORD})
    assert r.status_code == 400 and "email address" in r.text
    r = post_form(client, "/setup", {**form, "password": "short", "password_confirm": "short"})
    assert r.status_code == 400 and "at least 8 characters" in r.text
    assert client.get("/").headers["location"] == "/setup"


def test_login_shows_an_error_for_bad_credentials_and_goes_to_next_on_success(server: LiveServer) -> None:
    account = register(server)
    client = server.client()
    r = post_form(client, "/login", {"email": account.email, "password": "wrong password"})
    assert r.status_code == 401 and "invalid email or password" in r.text.lower()
    assert 'value="owner@example.com"' in r.text
    target = project_path(account, "/settings/members")
    r = post_form(client, "/login", {"email": account.email, "password": PASSWORD, "next": target},
                  page="/login", follow=False)
    assert r.status_code == 303 and r.headers["location"] == target
    assert "sw_session" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    assert get_page(client, target).url.path == target
    assert client.get("/login", headers=HTML).headers["location"] == "/"  # already signed in


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_off_site(server: LiveServer, evil: str) -> None:
    account = register(server)
    client = server.client()
    r = post_form(client, "/login", {"email": account.email, "password": PASSWORD, "next": evil}, follow=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_pages_send_visitors_without_a_session_to_login(server: LiveServer) -> None:
    account = register(server)
    path = project_path(account, "/settings/keys")
    r = server.client().get(path, headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    page = server.client().get(r.headers["location"], headers=HTML)
    assert f'name="next" value="{path}"' in page.text


def test_sign_out_ends_the_session(account: Account) -> None:
    r = post_form(account.client, "/logout", {}, page=project_path(account, "/logs"))
    assert r.url.path == "/login" and flash(r.text) == ("info", "You are signed out.")
    assert account.client.get(project_path(account, "/logs")).headers["location"].startswith("/login")


# -- CSRF ----------------------------------------------------------------------------------
def test_form_posts_without_a_valid_token_or_origin_are_refused(server: LiveServer, account: Account) -> None:
    path = project_path(account, "/settings/keys")
    token = csrf_token(get_page(account.client, path).text)
    no_token = account.client.post(path, data={"name": "k"}, headers=HTML)
    assert no_token.status_code == 403 and "form expired" in no_token.text.lower()
    wrong = account.client.post(path, data={"name": "k", "csrf_token": "0" * 64}, headers=HTML)
    assert wrong.status_code == 403
    cookies = dict(account.client.cookies)
    without_origin = httpx.Client(base_url=server.url, cookies=cookies)
    r = without_origin.post(path, data={"name": "k", "csrf_token": token}, headers=HTML)
    assert r.status_code == 403 and "cross-site" in r.text.lower()
    foreign = httpx.Client(base_url=server.url, cookies=cookies, headers={"Origin": "https://evil.example"})
    assert foreign.post(path, data={"name": "k", "csrf_token": token}).status_code == 403
    # A token belongs to one session: another session's token is refused.
    other = login(server, account.email, PASSWORD)
    other_token = csrf_token(get_page(other, path).text)
    assert other_token != token
    assert account.client.post(path, data={"name": "k", "csrf_token": other_token}).status_code == 403
    ok = account.client.post(path, data={"name": "k", "csrf_token": token}, headers=HTML)
    assert ok.status_code == 201
    names = [k["name"] for k in account.client.get(f"{account.base}/settings/api-keys").json()["keys"]]
    assert names.count("k") == 1


def test_login_form_needs_its_token_and_our_origin(server: LiveServer) -> None:
    account = register(server)
    client = server.client()
    r = client.post("/login", data={"email": account.email, "password": PASSWORD}, headers=HTML)
    assert r.status_code == 403
    token = csrf_token(get_page(client, "/login").text)
    foreign = server.client(headers={"Origin": "https://evil.example"}, cookies=dict(client.cookies))
    r = foreign.post("/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 403


# -- settings ------------------------------------------------------------------------------
def test_create_an_api_key_shows_it_once_and_revoking_it_refuses_it(server: LiveServer, account: Account) -> None:
    path = project_path(account, "/settings/keys")
    r = post_form(account.client, path, {"name": "browser <app>", "scope": "ingest"})
    assert r.status_code == 201
    key = secret(r.text)
    assert "browser &lt;app&gt;" in r.text
    assert server.key_client(key).get(f"{account.base}/logs").status_code == 403  # ingest-only
    listing = get_page(account.client, path).text
    assert key not in listing and key[:7] + "…" in listing
    keys = account.client.get(f"{account.base}/settings/api-keys").json()["keys"]
    key_id = next(k["id"] for k in keys if k["name"] == "browser <app>")
    r = post_form(account.client, f"{path}/{key_id}/revoke", {}, page=path)
    assert r.url.path == path and flash(r.text) == (
        "success", "API key revoked. Requests using it are refused from now on.")
    assert server.key_client(key).get("/api/auth/me").status_code == 401
    again = post_form(account.client, f"{path}/{key_id}/revoke", {}, page=path)
    assert flash(again.text) == ("error", "API key not found")


def test_invite_change_role_reset_password_and_remove_a_member(server: LiveServer, account: Account) -> None:
    path = project_path(account, "/settings/members")
    r = post_form(account.client, path + "/invite", {"email": "Bea@Example.com", "name": "Bea", "role": "member"},
                  page=path)
    assert r.status_code == 200 and "Invited bea@example.com" in r.text
    temp = secret(r.text)
    bea = login(server, "bea@example.com", temp)
    members = account.client.get(f"/api/orgs/{account.org}/members").json()["members"]
    bea_id = next(m["user_id"] for m in members if m["email"] == "bea@example.com")

    r = post_form(account.client, f"{path}/{bea_id}/role", {"role": "admin"}, page=path)
    assert flash(r.text) == ("success", "Bea is now admin.")
    r = post_form(account.client, f"{path}/{bea_id}/role", {"role": "emperor"}, page=path)
    assert flash(r.text)[0] == "error"  # type: ignore[index]

    r = post_form(account.client, f"{path}/{bea_id}/reset-password", {}, page=path)
    new_temp = secret(r.text)
    assert new_temp != temp and "New temporary password for Bea" in r.text
    assert bea.get("/api/auth/me").status_code == 401  # sessions ended
    login(server, "bea@example.com", new_temp)

    r = post_form(account.client, f"{path}/{account.user_id}/remove", {}, page=path)
    assert flash(r.text)[0] == "error"  # type: ignore[index]  # the last owner stays
    r = post_form(account.client, f"{path}/{bea_id}/remove", {}, page=path)
    assert flash(r.text) == ("success", "Bea was removed from Acme.")
    assert "bea@example.com" not in get_page(account.client, path).text


def test_members_cannot_manage_members(server: LiveServer, account: Account) -> None:
    path = project_path(account, "/settings/members")
    temp = secret(post_form(account.client, path + "/invite", {"email": "mo@example.com", "role": "member"},
                            page=path).text)
    mo = login(server, "mo@example.com", temp)
    page = get_page(mo, path).text
    assert "Invite someone" not in page and "Only admins and owners" in page
    r = post_form(mo, path + "/invite", {"email": "x@example.com"}, page=path)
    assert flash(r.text) == ("error", "This needs the admin role or higher")


def test_create_rename_and_delete_a_project_with_typed_confirmation(account: Account) -> None:
    path = project_path(account, "/settings/projects")
    r = post_form(account.client, path, {"name": "Mobile App"})
    assert r.url.path == f"/o/{account.org}/p/mobile-app/start"
    assert flash(r.text) == ("success", "Project Mobile App created. Send it its first events.")
    assert 'data-testid="empty-state"' in r.text

    r = post_form(account.client, f"{path}/mobile-app/rename", {"name": "Mobile (iOS)"}, page=path)
    assert flash(r.text)[1].startswith("Project renamed to Mobile (iOS)")  # type: ignore[index]

    r = post_form(account.client, f"{path}/mobile-app/delete", {"confirm": "mobile"}, page=path)
    assert flash(r.text) == ("error", "Confirm: type mobile-app to confirm the deletion")
    assert "mobile-app" in get_page(account.client, path).text
    r = post_form(account.client, f"{path}/mobile-app/delete", {"confirm": "mobile-app"}, page=path)
    assert flash(r.text) == ("success", "Project mobile-app and all its data were deleted.")
    projects = account.client.get(f"/api/orgs/{account.org}/projects").json()["projects"]
    assert [p["slug"] for p in projects] == ["default"]
    # Deleting the project you are looking at takes you to one that still exists.
    post_form(account.client, path, {"name": "Second"})
    second = f"/o/{account.org}/p/second/settings/projects"
    r = post_form(account.client, f"{second}/second/delete", {"confirm": "second"}, page=second)
    assert r.url.path == path


def test_profile_name_and_password(server: LiveServer, account: Account) -> None:
    path = project_path(account, "/settings/profile")
    r = post_form(account.client, path, {"name": "Olive O."})
    assert flash(r.text) == ("success", "Profile saved.") and "Olive O." in r.text
    pw = project_path(account, "/settings/password")
    form = {"current_password": "not it", "password": "a new long password", "password_confirm": "a new long password"}
    r = post_form(account.client, pw, form, page=path)
    assert flash(r.text) == ("error", "Current password: is not your current password")
    r = post_form(account.client, pw, {**form, "current_password": PASSWORD, "password_confirm": "other"}, page=path)
    assert flash(r.text) == ("error", "Password confirm: the two new passwords differ")
    r = post_form(account.client, pw, {**form, "current_password": PASSWORD}, page=path)
    assert flash(r.text) == ("success", "Password changed. Your other sessions were signed out.")
    login(server, account.email, "a new long password")


def test_purge_needs_the_typed_project_slug(account: Account) -> None:
    path = project_path(account, "/settings/danger")
    r = post_form(account.client, path + "/purge", {"confirm": "nope"}, page=path)
    assert flash(r.text) == ("error", "Confirm: type default to confirm the purge")
    r = post_form(account.client, path + "/purge", {"confirm": "default"}, page=path)
    assert flash(r.text) == ("success", "Purged 0 log events from Default. The archive is untouched.")


# -- navigation, errors, assets ------------------------------------------------------------
def test_every_section_renders_for_a_member(account: Account) -> None:
    for rest in ("/logs", "/patterns", "/traces", "/sessions", "/alerts", "/insights", "/start",
                 "/settings/keys", "/settings/members", "/settings/projects", "/settings/profile",
                 "/settings/danger"):
        r = get_page(account.client, project_path(account, rest))
        assert r.headers["cache-control"] == "no-store"
        assert 'aria-current="page"' in r.text, rest
    assert get_page(account.client, project_path(account)).url.path == project_path(account, "/logs")
    assert get_page(account.client, project_path(account, "/settings")).url.path.endswith("/settings/keys")


def test_the_empty_state_teaches_how_to_send_events(server: LiveServer, account: Account) -> None:
    page = get_page(account.client, project_path(account, "/start")).text
    assert f"{server.url}/api/ingest" in page and f"{server.url}/v1/traces" in page
    assert account.api_key[:7] + "…" in page and account.api_key not in page
    for needle in ("curl -X POST", "@scrywatch/sdk", "from scrywatch.sdk import Client, ScryWatchHandler",
                   "OTLPSpanExporter", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        assert needle in page


def test_projects_of_other_orgs_are_not_found(server: LiveServer, account: Account) -> None:
    r = account.client.get("/o/elsewhere/p/default/logs", headers=HTML)
    assert r.status_code == 404 and "project not found" in r.text.lower()
    assert r.headers["x-request-id"] in r.text


def test_browsers_get_error_pages_and_api_clients_json(account: Account) -> None:
    r = account.client.get("/no/such/page", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text and r.headers["x-request-id"] in r.text and "not_found" in r.text
    api = account.client.get("/api/nothing-here", headers=HTML)
    assert api.headers["content-type"].startswith("application/json")
    r = account.client.get("/logout", headers=HTML)
    assert r.status_code == 405 and "method_not_allowed" in r.text


def test_pages_ship_no_inline_script_or_style_and_little_js_css(account: Account) -> None:
    for rest in ("/start", "/settings/keys", "/settings/members"):
        r = get_page(account.client, project_path(account, rest))
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", r.text), "inline script"
        assert not re.search(r"\sstyle=", r.text), "inline style attribute"
        assert not re.search(r"\son[a-z]+=", r.text), "inline event handler"
        assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', r.text)
        assert {a.split("?")[0] for a in assets} == {"/static/app.css", "/static/app.js", "/static/theme.js",
                                                     "/static/js/palette.js"}  # the Ctrl/Cmd-K palette
        total = 0
        for asset in assets:
            got = account.client.get(asset)
            assert got.status_code == 200 and "immutable" in got.headers["cache-control"]
            total += len(got.content)
        assert total < 150 * 1024, total


def test_static_files_revalidate_without_a_version(account: Account) -> None:
    r = account.client.get("/static/app.css")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert account.client.get("/static/../templating.py").status_code == 404
