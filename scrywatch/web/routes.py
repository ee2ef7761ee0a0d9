"""The route table: every URL ScryWatch serves, in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from scrywatch.web.api import auth, health, lenses, logs, logs_meta, orgs, settings

P = "/api/orgs/{org}/projects/{project}"  # project-scoped data endpoints


def api_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/api/health", health.get_health, methods=["GET"], name="api.health"),
        # -- accounts (issue 2) -------------------------------------------------------------
        Route("/api/auth/register", auth.post_register, methods=["POST"], name="api.auth.register"),
        Route("/api/auth/login", auth.post_login, methods=["POST"], name="api.auth.login"),
        Route("/api/auth/logout", auth.post_logout, methods=["POST"], name="api.auth.logout"),
        Route("/api/auth/me", auth.get_me, methods=["GET"], name="api.auth.me"),
        Route("/api/orgs/{org}/members", orgs.list_members, methods=["GET"], name="api.members.list"),
        Route("/api/orgs/{org}/members/invite", orgs.invite_member, methods=["POST"], name="api.members.invite"),
        Route("/api/orgs/{org}/members/{user_id}", orgs.update_member, methods=["PATCH", "PUT"],
              name="api.members.update"),
        Route("/api/orgs/{org}/members/{user_id}", orgs.remove_member, methods=["DELETE"],
              name="api.members.remove"),
        Route("/api/orgs/{org}/members/{user_id}/reset-password", orgs.reset_password, methods=["POST"],
              name="api.members.reset_password"),
        Route("/api/orgs/{org}/projects", orgs.list_projects, methods=["GET"], name="api.projects.list"),
        Route("/api/orgs/{org}/projects", orgs.create_project, methods=["POST"], name="api.projects.create"),
        Route(P, orgs.update_project, methods=["PATCH", "PUT"], name="api.projects.update"),
        Route(P, orgs.delete_project, methods=["DELETE"], name="api.projects.delete"),
        Route(P + "/settings/profile", settings.get_profile, methods=["GET"], name="api.profile.get"),
        Route(P + "/settings/profile", settings.update_profile, methods=["PATCH", "PUT"],
              name="api.profile.update"),
        Route(P + "/settings/api-keys", settings.list_keys, methods=["GET"], name="api.keys.list"),
        Route(P + "/settings/api-keys", settings.create_key, methods=["POST"], name="api.keys.create"),
        Route(P + "/settings/api-keys/{key_id}", settings.revoke_key, methods=["DELETE"], name="api.keys.revoke"),
    ]
    # -- logs (issue 3) ---------------------------------------------------------------------
    routes += [
        Route("/api/ingest", logs.post_ingest, methods=["POST"], name="api.ingest"),
        Route(P + "/logs", logs.list_logs, methods=["GET"], name="api.logs.list"),
        Route(P + "/logs/{event_id}", logs.get_log, methods=["GET"], name="api.logs.get"),
        Route(P + "/services", logs_meta.list_services, methods=["GET"], name="api.logs.services"),
        Route(P + "/device-types", logs_meta.list_device_types, methods=["GET"], name="api.logs.device_types"),
        Route(P + "/environments", logs_meta.list_environments, methods=["GET"], name="api.logs.environments"),
        Route(P + "/facets", logs_meta.get_facets, methods=["GET"], name="api.logs.facets"),
        Route(P + "/patterns", logs_meta.list_patterns, methods=["GET"], name="api.logs.patterns"),
        Route(P + "/stats", logs_meta.get_stats, methods=["GET"], name="api.logs.stats"),
        Route(P + "/sessions", logs_meta.list_sessions, methods=["GET"], name="api.logs.sessions"),
        Route(P + "/settings/purge-logs", logs_meta.purge_logs, methods=["POST"], name="api.logs.purge"),
        Route(P + "/lenses", lenses.list_lenses, methods=["GET"], name="api.lenses.list"),
        Route(P + "/lenses", lenses.create_lens, methods=["POST"], name="api.lenses.create"),
        Route(P + "/lenses/{lens_id}", lenses.update_lens, methods=["PATCH", "PUT"], name="api.lenses.update"),
        Route(P + "/lenses/{lens_id}", lenses.delete_lens, methods=["DELETE"], name="api.lenses.delete"),
    ]
    # -- traces (issue 4) -------------------------------------------------------------------
    from scrywatch.web.api import traces as tr

    routes += [
        Route("/api/traces", tr.post_spans, methods=["POST"], name="api.traces.create"),
        # OTLP/HTTP: collectors append /v1/<signal> to the endpoint they are given.
        Route("/api/traces/otlp", tr.post_otlp_traces, methods=["POST"], name="api.traces.otlp"),
        Route("/api/traces/otlp/v1/traces", tr.post_otlp_traces, methods=["POST"], name="api.traces.otlp.v1"),
        Route("/v1/traces", tr.post_otlp_traces, methods=["POST"], name="api.otlp.traces"),
        Route("/v1/logs", tr.post_otlp_logs, methods=["POST"], name="api.otlp.logs"),
        Route("/api/logs/otlp", tr.post_otlp_logs, methods=["POST"], name="api.logs.otlp"),
        Route("/api/logs/otlp/v1/logs", tr.post_otlp_logs, methods=["POST"], name="api.logs.otlp.v1"),
        Route(P + "/traces", tr.list_traces, methods=["GET"], name="api.traces.list"),
        Route(P + "/traces/service-map", tr.get_service_map, methods=["GET"], name="api.traces.service_map"),
        Route(P + "/traces/{trace_id}", tr.get_trace, methods=["GET"], name="api.traces.get"),
    ]
    # -- tail and archive (issue 5) ---------------------------------------------------------
    from starlette.routing import WebSocketRoute

    from scrywatch.web.api import export, tail

    routes += [
        WebSocketRoute(P + "/ws/tail", tail.ws_tail, name="api.tail.ws"),
        Route(P + "/tail", tail.sse_tail, methods=["GET"], name="api.tail.sse"),
        Route(P + "/archive", export.get_archive, methods=["GET"], name="api.archive"),
    ]
    # First in the table: /logs/{event_id} would otherwise take "export" for an event id.
    routes.insert(0, Route(P + "/logs/export", export.export_logs, methods=["GET"], name="api.logs.export"))
    # -- alerts and insights (issue 6) ------------------------------------------------------
    from scrywatch.web.api import alerts as al
    from scrywatch.web.api import insights as ins

    routes += [
        Route(P + "/alerts", al.list_rules, methods=["GET"], name="api.alerts.list"),
        Route(P + "/alerts", al.create_rule, methods=["POST"], name="api.alerts.create"),
        # Fixed paths before /alerts/{rule_id}.
        Route(P + "/alerts/history", al.list_history, methods=["GET"], name="api.alerts.history"),
        Route(P + "/alerts/history/{alert_id}", al.update_alert, methods=["PATCH", "PUT"],
              name="api.alerts.history.update"),
        Route(P + "/alerts/{rule_id}", al.update_rule, methods=["PATCH", "PUT"], name="api.alerts.update"),
        Route(P + "/alerts/{rule_id}", al.delete_rule, methods=["DELETE"], name="api.alerts.delete"),
        Route(P + "/alerts/{rule_id}/test", al.test_rule, methods=["POST"], name="api.alerts.test"),
        Route(P + "/insights/summary", ins.create_summary, methods=["POST"], name="api.insights.summary.create"),
        Route(P + "/insights/summary", ins.get_summary, methods=["GET"], name="api.insights.summary"),
        Route(P + "/insights/patterns", ins.list_patterns, methods=["GET"], name="api.insights.patterns"),
    ]
    return routes


def dashboard_routes() -> list[BaseRoute]:
    """Pages (issue 7): `/o/{org}/p/{project}/...`, forms POST to the page's own path or an action below it."""
    from starlette.routing import Mount

    from scrywatch.web.dashboard import auth as d_auth
    from scrywatch.web.dashboard import danger, keys, members, onboarding, placeholders, profile, projects
    from scrywatch.web.templating import static_files

    d = "/o/{org}/p/{project}"
    s = d + "/settings"
    get, post = ["GET"], ["POST"]
    return [
        Mount("/static", app=static_files(), name="static"),
        Route("/", d_auth.home_page, methods=get, name="dash.home"),
        Route("/login", d_auth.login_page, methods=get, name="dash.login"),
        Route("/login", d_auth.post_login, methods=post, name="dash.login.submit"),
        Route("/setup", d_auth.setup_page, methods=get, name="dash.setup"),
        Route("/setup", d_auth.post_setup, methods=post, name="dash.setup.submit"),
        Route("/logout", d_auth.post_logout, methods=post, name="dash.logout"),
        Route(d, placeholders.project_home, methods=get, name="dash.project"),
        Route(d + "/start", onboarding.start_page, methods=get, name="dash.start"),
        # Part 2 replaces these placeholders with the real pages.
        *[Route(f"{d}/{section}", placeholders.coming_soon(section), methods=get, name=f"dash.{section}")
          for section in placeholders.COMING],
        *log_pages(d),
        *ops_pages(d),
        Route(s, placeholders.settings_home, methods=get, name="dash.settings"),
        Route(s + "/keys", keys.keys_page, methods=get, name="dash.settings.keys"),
        Route(s + "/keys", keys.create_key, methods=post, name="dash.settings.keys.create"),
        Route(s + "/keys/{key_id}/revoke", keys.revoke_key, methods=post, name="dash.settings.keys.revoke"),
        Route(s + "/members", members.members_page, methods=get, name="dash.settings.members"),
        Route(s + "/members/invite", members.invite_member, methods=post, name="dash.settings.members.invite"),
        Route(s + "/members/{user_id}/role", members.change_role, methods=post, name="dash.settings.members.role"),
        Route(s + "/members/{user_id}/remove", members.remove_member, methods=post,
              name="dash.settings.members.remove"),
        Route(s + "/members/{user_id}/reset-password", members.reset_password, methods=post,
              name="dash.settings.members.reset"),
        Route(s + "/projects", projects.projects_page, methods=get, name="dash.settings.projects"),
        Route(s + "/projects", projects.create_project, methods=post, name="dash.settings.projects.create"),
        Route(s + "/projects/{target}/rename", projects.rename_project, methods=post,
              name="dash.settings.projects.rename"),
        Route(s + "/projects/{target}/delete", projects.delete_project, methods=post,
              name="dash.settings.projects.delete"),
        Route(s + "/profile", profile.profile_page, methods=get, name="dash.settings.profile"),
        Route(s + "/profile", profile.update_profile, methods=post, name="dash.settings.profile.update"),
        Route(s + "/password", profile.change_password, methods=post, name="dash.settings.password"),
        Route(s + "/danger", danger.danger_page, methods=get, name="dash.settings.danger"),
        Route(s + "/danger/purge", danger.purge, methods=post, name="dash.settings.danger.purge"),
    ]


def log_pages(d: str) -> list[BaseRoute]:
    """Log Explorer, lenses, patterns, sessions (issue 7, part 2)."""
    from scrywatch.web.dashboard import explorer, lensbar, patterns, sessions

    get, post = ["GET"], ["POST"]
    return [
        Route(d + "/logs", explorer.logs_page, methods=get, name="dash.logs"),
        Route(d + "/logs/events/{event_id}", explorer.event_page, methods=get, name="dash.logs.event"),
        Route(d + "/logs/lenses", lensbar.create_lens, methods=post, name="dash.lenses.create"),
        Route(d + "/logs/lenses/order", lensbar.order_lenses, methods=post, name="dash.lenses.order"),
        Route(d + "/logs/lenses/{lens_id}", lensbar.update_lens, methods=post, name="dash.lenses.update"),
        Route(d + "/logs/lenses/{lens_id}/move", lensbar.move_lens, methods=post, name="dash.lenses.move"),
        Route(d + "/logs/lenses/{lens_id}/delete", lensbar.delete_lens, methods=post, name="dash.lenses.delete"),
        Route(d + "/patterns", patterns.patterns_page, methods=get, name="dash.patterns"),
        Route(d + "/sessions", sessions.sessions_page, methods=get, name="dash.sessions"),
        Route(d + "/sessions/{session_id:path}", sessions.session_page, methods=get, name="dash.sessions.timeline"),
    ]


def ops_pages(d: str) -> list[BaseRoute]:
    """Alerts, insights, traces and the service map (issue 7, part 2)."""
    from scrywatch.web.dashboard import alerthistory, alerts, insights, traces

    get, post = ["GET"], ["POST"]
    a = d + "/alerts"
    return [
        Route(a, alerts.rules_page, methods=get, name="dash.alerts"),
        Route(a + "/new", alerts.new_rule_page, methods=get, name="dash.alerts.new"),
        Route(a + "/new", alerts.create_rule, methods=post, name="dash.alerts.create"),
        # Fixed paths before /alerts/{rule_id}/...
        Route(a + "/history", alerthistory.history_page, methods=get, name="dash.alerts.history"),
        Route(a + "/history/{alert_id}/state", alerthistory.set_state, methods=post, name="dash.alerts.state"),
        Route(a + "/{rule_id}/edit", alerts.edit_rule_page, methods=get, name="dash.alerts.edit"),
        Route(a + "/{rule_id}/edit", alerts.update_rule, methods=post, name="dash.alerts.update"),
        Route(a + "/{rule_id}/enabled", alerts.set_enabled, methods=post, name="dash.alerts.enabled"),
        Route(a + "/{rule_id}/delete", alerts.delete_rule, methods=post, name="dash.alerts.delete"),
        Route(a + "/{rule_id}/test", alerts.test_rule, methods=post, name="dash.alerts.test"),
        Route(d + "/insights", insights.insights_page, methods=get, name="dash.insights"),
        Route(d + "/insights/summary", insights.create_summary, methods=post, name="dash.insights.summary"),
        Route(d + "/traces", traces.traces_page, methods=get, name="dash.traces"),
        # Before /traces/{trace_id}.
        Route(d + "/traces/service-map", traces.service_map_page, methods=get, name="dash.traces.map"),
        Route(d + "/traces/{trace_id}", traces.trace_page, methods=get, name="dash.traces.trace"),
    ]


def all_routes() -> list[BaseRoute]:
    return [*api_routes(), *dashboard_routes()]
