"""Settings → Projects of the organization: create, rename, delete (typed confirmation)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput
from scrywatch.models.accounts import ProjectCreate, ProjectUpdate
from scrywatch.services import orgs
from scrywatch.web.dashboard.flash import redirect
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import load_frame, perform, render_page, signed_in, url


@signed_in
async def projects_page(request: Request) -> Response:
    frame = await load_frame(request)
    items = await orgs.list_projects(frame.rt, frame.principal, frame.org.slug)
    return render_page(request, "settings/projects.html", {"projects": items}, frame=frame,
                       section="settings", route="dash.settings.projects")


@signed_in
async def create_project(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> Response:
        created = await orgs.create_project(frame.rt, frame.principal, frame.org.slug,
                                            to_struct(form, ProjectCreate, "name"))
        target = url(request, "dash.start", org=frame.org.slug, project=created.slug)
        return redirect(target, flash=("success", f"Project {created.name} created. Send it its first events."))

    return await perform(frame.url(request, "dash.settings.projects"), run)


@signed_in
async def rename_project(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        renamed = await orgs.rename_project(frame.rt, frame.principal, frame.org.slug,
                                            request.path_params["target"], to_struct(form, ProjectUpdate, "name"))
        return f"Project renamed to {renamed.name}; its URL ({renamed.slug}) stays the same."

    return await perform(frame.url(request, "dash.settings.projects"), run)


@signed_in
async def delete_project(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)
    target = request.path_params["target"]

    async def run() -> Response:
        if form.get("confirm", "").strip() != target:
            raise InvalidInput(f"type {target} to confirm the deletion", field="confirm")
        await orgs.delete_project(frame.rt, frame.principal, frame.org.slug, target)
        remaining = await orgs.list_projects(frame.rt, frame.principal, frame.org.slug)
        stay = frame.project.slug if target != frame.project.slug else remaining[0].slug
        back = url(request, "dash.settings.projects", org=frame.org.slug, project=stay)
        return redirect(back, flash=("success", f"Project {target} and all its data were deleted."))

    return await perform(frame.url(request, "dash.settings.projects"), run)
