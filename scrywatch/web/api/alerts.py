"""/api/orgs/:org/projects/:project/alerts: rules, history and the alert lifecycle, test notifications."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.models.accounts import Scope
from scrywatch.models.alerts import AlertRuleCreate, AlertRuleUpdate, AlertStateUpdate
from scrywatch.services import accounts, alerts
from scrywatch.web.auth import principal, project, runtime
from scrywatch.web.codec import encode, read_body


async def list_rules(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode({"rules": await alerts.list_rules(runtime(request), access)})


async def create_rule(request: Request) -> Response:
    access = await project(request)
    alerts.require_manager(access)
    body = await read_body(request, AlertRuleCreate)
    return encode(await alerts.create_rule(runtime(request), access, body), status=201)


async def update_rule(request: Request) -> Response:
    access = await project(request)
    alerts.require_manager(access)
    body = await read_body(request, AlertRuleUpdate)
    return encode(await alerts.update_rule(runtime(request), access, request.path_params["rule_id"], body))


async def delete_rule(request: Request) -> Response:
    access = await project(request)
    await alerts.delete_rule(runtime(request), access, request.path_params["rule_id"])
    return encode({"success": True})


async def test_rule(request: Request) -> Response:
    access = await project(request)
    return encode(await alerts.test_rule(runtime(request), access, request.path_params["rule_id"]))


async def list_history(request: Request) -> Response:
    access = await project(request, Scope.READ)
    return encode(await alerts.history(runtime(request), access, request.query_params))


async def update_alert(request: Request) -> Response:
    access = await project(request)
    alerts.require_manager(access)
    body = await read_body(request, AlertStateUpdate)
    user = accounts.require_user(await principal(request))
    return encode(await alerts.set_state(runtime(request), access, request.path_params["alert_id"], body, user.id))
