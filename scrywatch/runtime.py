"""The objects a running ScryWatch shares: config, store, clock, hashing, throttling, the tail hub.

Built once by app.py (serve) or cli.py (jobs, user create); services take it as their first argument.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from scrywatch.auth.passwords import Passwords
from scrywatch.auth.throttle import LoginThrottle
from scrywatch.clock import Clock, SystemClock
from scrywatch.config import Config
from scrywatch.storage import open_store


@dataclass
class Runtime:
    config: Config
    store: Any  # storage.sqlite.SqliteStore today; typed loosely so services stay backend-neutral
    clock: Clock
    passwords: Passwords
    throttle: LoginThrottle
    hub: Any = None  # services.tail.Hub once the server runs
    archive_lock: Any = None  # filelocks.SharedFlock on the archive job lock (services/coldlane.py)
    key_cache: dict[str, Any] = field(default_factory=dict)
    key_cache_generation: int = 0  # bumped whenever keys are revoked or deleted
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a fire-and-forget coroutine, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def build_runtime(config: Config, *, clock: Clock | None = None) -> Runtime:
    """A Runtime for this config; `await runtime.store.start()` before use."""
    return Runtime(
        config=config,
        store=open_store(config),
        clock=clock or SystemClock(),
        passwords=Passwords(
            time_cost=config.auth.argon2_time_cost,
            memory_kib=config.auth.argon2_memory_kib,
            parallelism=config.auth.argon2_parallelism,
        ),
        throttle=LoginThrottle(
            max_failures=config.auth.login_max_failures,
            window_ms=config.auth.login_window_minutes * 60_000,
        ),
    )
