"""The route table: every URL ScryWatch serves, in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from scrywatch.web.api import auth, health, logs, orgs, settings

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
    ]
    # -- traces (issue 4) -------------------------------------------------------------------
    # -- tail and archive (issue 5) ---------------------------------------------------------
    # -- alerts and insights (issue 6) ------------------------------------------------------
    return routes


def dashboard_routes() -> list[BaseRoute]:
    """Pages (issue 7)."""
    return []


def all_routes() -> list[BaseRoute]:
    return [*api_routes(), *dashboard_routes()]
