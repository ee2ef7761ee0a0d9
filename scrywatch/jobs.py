"""The only scheduler: named background jobs, each with an interval, runnable once from the CLI.

A job is `async def fn(rt: Runtime) -> dict` returning a short summary. Every run holds an
exclusive file lock in `<data_dir>/locks/`, so `scrywatch jobs run NAME` from cron and the
server's own scheduler never run the same job at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scrywatch.config import Config
from scrywatch.filelocks import lock_path
from scrywatch.runtime import Runtime

logger = logging.getLogger(__name__)

JobFn = Callable[[Runtime], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: Callable[[Config], float]
    fn: JobFn
    description: str = ""


def _registry() -> dict[str, Job]:
    """Every job. Imports are local so `import scrywatch.jobs` stays cheap."""
    jobs: list[Job] = []
    # -- logs (issue 3) ---------------------------------------------------------------------
    # -- traces (issue 4) -------------------------------------------------------------------
    from scrywatch.services.traces import run_sampling

    jobs.append(Job("sampling", lambda c: c.jobs.sampling_interval_seconds, run_sampling,
                    "decide held traces (keep errors, slow and baseline; purge the rest), expire old ones"))
    # -- archive and retention (issue 5) ----------------------------------------------------
    from scrywatch.services.archive import run_archive
    from scrywatch.services.retention import run_retention

    jobs.append(Job("archive", lambda c: c.jobs.archive_interval_seconds, run_archive,
                    "write completed hours (plus archive_grace_minutes) to data/archive as zstd NDJSON"))
    jobs.append(Job("retention", lambda c: c.jobs.retention_interval_seconds, run_retention,
                    "drop archived hot rows past hot_hours, archive past archive_days / max_disk_mb"))
    # -- alerts, patterns, insights (issue 6) -----------------------------------------------
    from scrywatch.services.alerts import check_alerts
    from scrywatch.services.insights import refresh_patterns

    jobs.append(Job("alerts", lambda c: c.alerts.check_interval_seconds, check_alerts,
                    "evaluate alert rules, fire, auto-resolve and send pending notifications"))
    jobs.append(Job("patterns", lambda c: c.jobs.patterns_interval_seconds, refresh_patterns,
                    "count new events into the persistent message patterns"))
    return {job.name: job for job in jobs}


def registry() -> dict[str, Job]:
    return _registry()


class JobBusy(Exception):
    """Another process is running this job right now."""


@contextlib.contextmanager
def job_lock(config: Config, name: str, *, wait: bool) -> Iterator[None]:
    """An exclusive lock on this job across processes sharing the data directory."""
    fd = os.open(lock_path(config, name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise JobBusy(name) from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def run_job(rt: Runtime, name: str, *, wait: bool = True) -> dict[str, Any]:
    """Run one job once. With wait=False, raise JobBusy if another run holds its lock."""
    job = registry()[name]
    if wait:
        # flock blocks; take it in a thread so the event loop keeps serving.
        lock_cm = job_lock(rt.config, name, wait=True)
        await asyncio.to_thread(lock_cm.__enter__)
        try:
            return await job.fn(rt)
        finally:
            lock_cm.__exit__(None, None, None)
    with job_lock(rt.config, name, wait=False):
        return await job.fn(rt)


class Scheduler:
    """Runs every registered job on its interval inside the server."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in registry().values():
            self._tasks.append(asyncio.get_running_loop().create_task(self._loop(job), name=f"job:{job.name}"))

    async def _loop(self, job: Job) -> None:
        interval = max(0.05, float(job.interval_s(self.rt.config)))
        while True:
            await asyncio.sleep(interval)
            try:
                summary = await run_job(self.rt, job.name, wait=False)
                logger.debug("job %s: %s", job.name, summary)
            except JobBusy:
                logger.info("job %s skipped: already running elsewhere", job.name)
            except Exception:  # one failing run must not stop the schedule
                logger.exception("job %s failed", job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
