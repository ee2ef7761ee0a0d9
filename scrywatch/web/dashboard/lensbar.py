"""The Log Explorer's lens bar: save the current view, rename or recolor a lens, reorder, delete.

Plain form posts (they work without scripts) answered with a redirect back to the explorer;
lenses.js posts the whole order after a drag.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.errors import InvalidInput, NotFound
from scrywatch.models.lenses import LensCreate, LensUpdate
from scrywatch.services import lenses
from scrywatch.web.dashboard.flash import redirect
from scrywatch.web.dashboard.forms import submitted_form, to_struct
from scrywatch.web.dashboard.frame import Frame, load_frame, perform, safe_next, signed_in
from scrywatch.web.dashboard.logview import lens_href
from scrywatch.web.dashboard.viewparts import lens_filters

ORDER_STEP = 10  # sort_order gap between neighbours


def _back(request: Request, frame: Frame, form: dict[str, str]) -> str:
    return safe_next(form.get("back")) or frame.url(request, "dash.logs")


async def _apply_order(frame: Frame, ids: list[str]) -> None:
    """Give the lenses the order of `ids` (lenses not named keep their place after them)."""
    assert frame.access is not None
    saved = await lenses.list_lenses(frame.rt, frame.access)
    known = {lens.id: lens for lens in saved}
    wanted = [i for i in dict.fromkeys(ids) if i in known]
    order = wanted + [lens.id for lens in saved if lens.id not in wanted]
    for n, lens_id in enumerate(order):
        if known[lens_id].sort_order != n * ORDER_STEP:
            await lenses.update_lens(frame.rt, frame.access, lens_id, LensUpdate(sort_order=n * ORDER_STEP))


@signed_in
async def create_lens(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> Response:
        assert frame.access is not None
        body = to_struct(form, LensCreate, "name", "filters", "color", blank_as_none=True)
        lens = await lenses.create_lens(frame.rt, frame.access, body)
        return redirect(lens_href(frame.url(request, "dash.logs"), lens_filters(lens)),
                        flash=("success", f"Lens “{lens.name}” saved."))

    return await perform(_back(request, frame, form), run)


@signed_in
async def update_lens(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        body = to_struct(form, LensUpdate, "name", "color", "filters", blank_as_none=True)
        lens = await lenses.update_lens(frame.rt, frame.access, request.path_params["lens_id"], body)
        return f"Lens “{lens.name}” updated."

    return await perform(_back(request, frame, form), run)


@signed_in
async def move_lens(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        step = {"left": -1, "right": 1}.get(form.get("direction", ""))
        if step is None:
            raise InvalidInput("must be left or right", field="direction")
        ids = [lens.id for lens in await lenses.list_lenses(frame.rt, frame.access)]
        lens_id = request.path_params["lens_id"]
        if lens_id not in ids:
            raise NotFound("lens not found")
        i = ids.index(lens_id)
        j = min(max(i + step, 0), len(ids) - 1)
        ids[i], ids[j] = ids[j], ids[i]
        await _apply_order(frame, ids)
        return "Lens moved."

    return await perform(_back(request, frame, form), run)


@signed_in
async def order_lenses(request: Request) -> Response:
    """`ids`: every lens id, comma-separated, in the new order (sent by lenses.js after a drag)."""
    frame = await load_frame(request)
    form = await submitted_form(request)

    ids = [i for i in form.get("ids", "").split(",") if i]
    if request.headers.get("x-sw-fragment") == "order":  # lenses.js: no page to go back to
        await _apply_order(frame, ids)
        return Response(status_code=204)

    async def run() -> str:
        await _apply_order(frame, ids)
        return "Lens order saved."

    return await perform(_back(request, frame, form), run)


@signed_in
async def delete_lens(request: Request) -> Response:
    frame = await load_frame(request)
    form = await submitted_form(request)

    async def run() -> str:
        assert frame.access is not None
        await lenses.delete_lens(frame.rt, frame.access, request.path_params["lens_id"])
        return "Lens deleted."

    return await perform(_back(request, frame, form), run)
