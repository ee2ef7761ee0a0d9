"""Sending alert notifications: webhook (generic, Slack, Discord) or email, with retries and timeouts.

Outgoing I/O is blocking stdlib (urllib, smtplib) run on a small thread pool of its own, so a
receiver that never answers occupies one of those threads for at most its timeout and never the
event loop, the ingest path or the default executor. Each attempt has a timeout; failed attempts are
retried `[alerts] delivery_attempts` times with a backoff that doubles; 4xx answers (except 408/429)
and 5xx SMTP replies are not retried since repeating them cannot help.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import http.client
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from scrywatch import __version__
from scrywatch.models.alerts import DeliveryOutcome
from scrywatch.runtime import Runtime
from scrywatch.services.notify_email import build_email, send_email
from scrywatch.services.notify_formats import (
    Attempt,
    Notice,
    channel_of,
    discord_payload,
    generic_payload,
    slack_payload,
)

logger = logging.getLogger(__name__)

SENDER_THREADS = 8
USER_AGENT = f"ScryWatch/{__version__} (alerts)"
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_encoder = msgspec.json.Encoder()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(SENDER_THREADS, thread_name_prefix="sw-notify")
        return _pool


async def _in_thread(fn: Callable[[], Attempt], *, deadline_s: float) -> Attempt:
    """Run a blocking send on the sender pool with an overall deadline as a second guard."""
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(_executor(), fn), deadline_s)
    except TimeoutError:
        return Attempt(ok=False, error=f"timed out after {deadline_s:g} s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured; report the 3xx instead of re-sending elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes, timeout_s: float, headers: dict[str, str] | None = None) -> Attempt:
    """One blocking HTTP POST; the answer's status, or the transport error."""
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})})
    try:
        with _opener.open(req, timeout=timeout_s) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        exc.close()
    except TimeoutError:
        return Attempt(ok=False, error=f"timed out after {timeout_s:g} s")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Attempt(ok=False, error=f"timed out after {timeout_s:g} s")
        return Attempt(ok=False, error=f"cannot connect: {reason}"[:500])
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Attempt(ok=True, status=status)
    return Attempt(ok=False, status=status, error=f"HTTP {status}",
                   permanent=400 <= status < 500 and status not in (408, 425, 429))


async def with_retries(send: Callable[[], Awaitable[Attempt]], *, attempts: int, backoff_s: float,
                       channel: str) -> DeliveryOutcome:
    """Try up to `attempts` times, sleeping backoff, 2×backoff, … between tries."""
    last = Attempt(ok=False, error="not attempted")
    made = 0
    for n in range(1, max(1, attempts) + 1):
        last = await send()
        made = n
        if last.ok or last.permanent or n >= attempts:
            break
        await asyncio.sleep(backoff_s * 2 ** (n - 1))
    if last.ok:
        return DeliveryOutcome(status="delivered", attempts=made, response_status=last.status, channel=channel)
    if last.permanent and last.status is None:
        made = 0  # nothing was sent (e.g. SMTP not configured)
    return DeliveryOutcome(status="failed", attempts=made, error=last.error, response_status=last.status,
                           channel=channel)


def webhook_body(notice: Notice, url: str, *, sent_at: int) -> tuple[str, bytes]:
    """(channel, JSON body) in the shape the URL expects."""
    channel = channel_of(url)
    payload = (slack_payload(notice) if channel == "slack" else discord_payload(notice) if channel == "discord"
               else generic_payload(notice, sent_at=sent_at))
    return channel, _encoder.encode(payload)


async def deliver(rt: Runtime, notice: Notice, *, attempts: int | None = None) -> DeliveryOutcome:
    """Send a notice through its rule's channel and report how it went."""
    cfg = rt.config
    tries = cfg.alerts.delivery_attempts if attempts is None else attempts
    backoff = cfg.alerts.delivery_backoff_seconds
    rule = notice.rule
    if rule.notify_type == "email":
        to = rule.notify_email or ""
        msg = build_email(notice, to=to, from_address=cfg.smtp.from_address)
        deadline = cfg.smtp.timeout_seconds * 4 + 1  # connect, TLS, auth and data each have the timeout

        async def send_mail() -> Attempt:
            return await _in_thread(functools.partial(send_email, cfg.smtp, msg, to=to), deadline_s=deadline)

        outcome = await with_retries(send_mail, attempts=tries, backoff_s=backoff, channel="email")
    else:
        url = rule.webhook_url or ""
        channel, body = webhook_body(notice, url, sent_at=rt.clock.now_ms())
        timeout = cfg.alerts.delivery_timeout_seconds

        async def send_hook() -> Attempt:
            return await _in_thread(functools.partial(post_json, url, body, timeout), deadline_s=timeout * 2 + 1)

        outcome = await with_retries(send_hook, attempts=tries, backoff_s=backoff, channel=channel)
    if outcome.status == "failed":
        # The URL may hold a secret (Slack/Discord tokens): log the rule, not the address.
        logger.warning("alert notification for rule %s failed after %d attempt(s): %s", rule.id,
                       outcome.attempts, outcome.error)
    return outcome
