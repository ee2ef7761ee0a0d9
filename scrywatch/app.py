"""create_app(config) -> Starlette: wiring only (routes, middleware, error handlers, lifespan)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from scrywatch import jobs
from scrywatch.clock import Clock
from scrywatch.config import Config
from scrywatch.runtime import Runtime, build_runtime
from scrywatch.services.tail import Hub
from scrywatch.web.errors import EXCEPTION_HANDLERS
from scrywatch.web.middleware import ScryMiddleware
from scrywatch.web.routes import all_routes

logger = logging.getLogger(__name__)


def create_app(config: Config, *, clock: Clock | None = None) -> Starlette:
    """The ASGI app for this configuration; resources open in the lifespan."""
    rt = build_runtime(config, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await rt.store.start()
        rt.hub = Hub(ring_size=config.tail.ring_size, subscriber_queue=config.tail.subscriber_queue)
        scheduler = jobs.Scheduler(rt) if config.jobs.enabled else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            rt.hub.close()
            await rt.store.close()
            logger.info("stopped: writer drained, database closed")

    app = Starlette(
        routes=all_routes(),
        middleware=[Middleware(ScryMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.runtime = rt
    return app


def runtime_of(app: Starlette) -> Runtime:
    return app.state.runtime  # type: ignore[no-any-return]
