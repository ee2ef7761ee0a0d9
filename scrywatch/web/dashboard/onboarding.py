"""Getting started: the empty state that teaches a new project how to send its first events."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from scrywatch.services import keys
from scrywatch.web.dashboard.frame import Frame, load_frame, render_page, signed_in

KEY_PLACEHOLDER = "YOUR_API_KEY"


def base_url(request: Request, frame: Frame) -> str:
    """This server's public URL: `[server] base_url`, else what the browser used."""
    configured = frame.rt.config.server.base_url.rstrip("/")
    return configured or f"{request.url.scheme}://{request.url.netloc}"


async def context(request: Request, frame: Frame, *, new_key: str | None = None) -> dict[str, Any]:
    """`onboarding`: what the empty-state component (`onboarding/_empty.html`) needs."""
    base = base_url(request, frame)
    active = await keys.list_keys(frame.rt, frame.access) if frame.access is not None else []
    return {"onboarding": {
        "base_url": base,
        "ingest_url": f"{base}/api/ingest",
        "otlp_url": f"{base}/v1/traces",
        "query_url": f"{base}/api/orgs/{frame.org.slug}/projects/{frame.project.slug}/logs",
        "new_key": new_key,
        "key": new_key or KEY_PLACEHOLDER,
        "key_prefixes": [k.prefix for k in active[:3]],
        "service": frame.project.slug,
    }}


@signed_in
async def start_page(request: Request) -> Response:
    frame = await load_frame(request)
    return render_page(request, "onboarding/start.html", await context(request, frame), frame=frame,
                       section="start", route="dash.start")
