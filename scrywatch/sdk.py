"""A stdlib-only Python client for ScryWatch: batching, a background flush, retries, a logging.Handler.

    from scrywatch.sdk import Client, ScryWatchHandler
    client = Client("http://127.0.0.1:8080", "sw_...", service="billing", environment="production")
    client.info("payment captured", order_id=42)          # extra fields go to metadata
    logging.getLogger().addHandler(ScryWatchHandler(client))
    ...
    client.close()                                       # flushes what is still queued

Events queue in memory (bounded: past `max_queue` the oldest are dropped and counted) and are sent
by a background thread every `flush_interval` seconds or as soon as `batch_size` are waiting, as
`{"events": [...]}` to `<endpoint>/api/ingest` with the Bearer key. 5xx answers and network errors
are retried with exponential backoff and jitter (a Retry-After header is honoured); other answers
but 202 are dropped and counted, since resending would fail the same way.
"""

from __future__ import annotations

import atexit
import gzip
import json
import logging
import random
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Client", "ClientStats", "ScryWatchHandler"]

USER_AGENT = "scrywatch-python/1"  # the server classifies this as a server-side client
TOP_LEVEL_FIELDS = ("type", "service", "environment", "user_id", "session_id", "device_type", "trace_id",
                    "span_id", "id", "timestamp")
LEVEL_ALIASES = {"warning": "warn", "critical": "error", "fatal": "error", "exception": "error", "trace": "debug"}
GZIP_MIN_BYTES = 1024
_internal = logging.getLogger(__name__)  # never handled by ScryWatchHandler (no feedback loop)


@dataclass
class ClientStats:
    """What happened to the events given to a Client."""

    queued: int = 0
    sent: int = 0  # accepted by the server (202)
    requests: int = 0
    retries: int = 0
    dropped_queue_full: int = 0  # the oldest events, pushed out by newer ones
    dropped_rejected: int = 0  # refused by the server (4xx, or per-event errors in a 202)
    dropped_failed: int = 0  # still failing (5xx, network) after every retry

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_rejected + self.dropped_failed


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Client:
    """Sends events to a ScryWatch server from a background thread."""

    def __init__(self, endpoint: str, api_key: str, *, service: str | None = None, environment: str | None = None,
                 batch_size: int = 50, flush_interval: float = 5.0, max_queue: int = 10_000, timeout: float = 5.0,
                 max_retries: int = 5, backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        self.url = endpoint.rstrip("/") + "/api/ingest"
        self.api_key = api_key
        self.service = service
        self.environment = environment
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stats = ClientStats()
        self._queue: deque[dict[str, Any]] = deque()
        self._max_queue = max(1, max_queue)
        self._lock = threading.Lock()  # guards the queue and the stats
        self._send_lock = threading.Lock()  # one batch in flight at a time, in order
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scrywatch-sdk", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- logging API -----------------------------------------------------------------------
    def log(self, level: str, message: str, **fields: Any) -> None:
        """Queue one event. Known event fields (type, user_id, session_id, trace_id, ...) go to the
        event; `metadata=` and any other keyword go to its metadata."""
        level = str(level).lower()
        event: dict[str, Any] = {"timestamp": int(time.time() * 1000), "level": LEVEL_ALIASES.get(level, level),
                                 "type": "custom", "message": str(message)}
        if self.service is not None:
            event["service"] = self.service
        if self.environment is not None:
            event["environment"] = self.environment
        metadata = fields.pop("metadata", None)
        for name in TOP_LEVEL_FIELDS:
            if name in fields:
                event[name] = fields.pop(name)
        if fields:
            if metadata is None:
                metadata = fields
            elif isinstance(metadata, dict):
                metadata = {**metadata, **fields}
            else:  # metadata of another JSON type: keep it beside the extra fields
                metadata = {"metadata": metadata, **fields}
        if metadata is not None:
            event["metadata"] = metadata
        self._enqueue(event)

    def debug(self, message: str, **fields: Any) -> None:
        self.log("debug", message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        self.log("info", message, **fields)

    def warn(self, message: str, **fields: Any) -> None:
        self.log("warn", message, **fields)

    warning = warn

    def error(self, message: str, **fields: Any) -> None:
        self.log("error", message, **fields)

    def _enqueue(self, event: dict[str, Any]) -> None:
        with self._lock:
            if len(self._queue) >= self._max_queue:
                self._queue.popleft()
                self.stats.dropped_queue_full += 1
            self._queue.append(event)
            self.stats.queued += 1
            full = len(self._queue) >= self.batch_size
        if full:
            self._wake.set()

    # -- flushing --------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued now; True when the queue was emptied (sent or dropped) in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._queue:
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._send_next(deadline)

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the background thread and send what is left (waiting at most `timeout` seconds)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout)
        self.flush(timeout)
        atexit.unregister(self.close)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                while not self._closed.is_set():
                    with self._lock:
                        if not self._queue:
                            break
                    self._send_next(None)
            except Exception:  # the sender thread must survive anything; the events were counted
                _internal.exception("scrywatch sdk: unexpected error while sending")

    def _send_next(self, deadline: float | None) -> None:
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._send_lock.acquire(timeout=wait):
            return
        try:
            with self._lock:
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            if batch:
                self._deliver(batch, deadline)
        finally:
            self._send_lock.release()

    def _deliver(self, batch: list[dict[str, Any]], deadline: float | None) -> None:
        body = json.dumps({"events": batch}, default=str, separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json",
                   "User-Agent": USER_AGENT}
        if len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        for attempt in range(self.max_retries + 1):
            try:
                self._post(body, headers, len(batch))
                return
            except _Retryable as exc:
                if attempt == self.max_retries:
                    _internal.warning("scrywatch sdk: dropping %d events after %d attempts: %s", len(batch),
                                      attempt + 1, exc)
                    break
                delay = min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.5)
                if exc.retry_after is not None:
                    delay = max(exc.retry_after, min(delay, self.max_backoff))
                if deadline is not None and time.monotonic() + delay > deadline:
                    break
                with self._lock:
                    self.stats.retries += 1
                if threading.current_thread() is not self._thread:
                    time.sleep(delay)
                elif self._closed.wait(delay):
                    with self._lock:  # closing: put the batch back for close() to send with its deadline
                        self._queue.extendleft(reversed(batch))
                    return
        with self._lock:
            self.stats.dropped_failed += len(batch)

    def _post(self, body: bytes, headers: dict[str, str], count: int) -> None:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with self._lock:
            self.stats.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, exc.read()
            if status >= 500 or status == 429:
                raise _Retryable(f"HTTP {status}", _retry_after(exc.headers.get("Retry-After"))) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out, DNS
            raise _Retryable(f"network error: {exc}") from None
        if status == 202:
            rejected = _rejected(payload)
            with self._lock:
                self.stats.sent += count - rejected
                self.stats.dropped_rejected += rejected
            return
        _internal.warning("scrywatch sdk: server refused %d events: HTTP %d %s", count, status, payload[:200])
        with self._lock:
            self.stats.dropped_rejected += count


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _rejected(payload: bytes) -> int:
    try:
        return int(json.loads(payload).get("rejected", 0))
    except (ValueError, AttributeError, TypeError):
        return 0


# -- logging integration -------------------------------------------------------------------
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _level(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class ScryWatchHandler(logging.Handler):
    """Sends log records to ScryWatch: level from levelname, exc_info to metadata.exception (with
    the traceback), `extra=` fields to metadata, the logger name to metadata.logger."""

    def __init__(self, client: Client | None = None, *, endpoint: str | None = None, api_key: str | None = None,
                 level: int = logging.NOTSET, **client_options: Any) -> None:
        super().__init__(level)
        if client is None:
            if endpoint is None or api_key is None:
                raise ValueError("pass a Client, or endpoint= and api_key=")
            client = Client(endpoint, api_key, **client_options)
            self._owns_client = True
        else:
            self._owns_client = False
        self.client = client

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == _internal.name:
            return  # our own warnings would feed back into the queue
        try:
            metadata: dict[str, Any] = {"logger": record.name}
            for key, value in record.__dict__.items():
                if key not in _STANDARD_ATTRS and not key.startswith("_"):
                    metadata[key] = value
            if record.exc_info and record.exc_info[0] is not None:
                etype, evalue, tb = record.exc_info
                metadata["exception"] = {"type": etype.__name__, "message": str(evalue),
                                         "traceback": "".join(traceback.format_exception(etype, evalue, tb))}
            elif record.stack_info:
                metadata["stack"] = record.stack_info
            top = {k: metadata.pop(k) for k in TOP_LEVEL_FIELDS if k in metadata and k != "timestamp"}
            self.client.log(_level(record.levelno), record.getMessage(), timestamp=int(record.created * 1000),
                            metadata=metadata, **top)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.client.flush(timeout=self.client.timeout * 2)

    def close(self) -> None:
        try:
            if self._owns_client:
                self.client.close()
            else:
                self.flush()
        finally:
            super().close()
