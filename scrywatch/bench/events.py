"""Realistic synthetic log events for `scrywatch bench`.

Several services, levels with realistic weights, messages with ids and numbers, ~200 B of metadata.
User, session and trace ids come from pools that rotate the way real traffic does (a session emits
dozens of events, a trace a handful), so archives and indexes see realistic repetition.

Word frequencies the query phase relies on: "request" is in about a third of messages (a common
word), "kaboom" in about one in 10,000 (a rare word).

Events are pre-encoded without their timestamp (`tail` bytes); `body()` stamps them when a batch is
sent, so building a request costs almost nothing while the clock runs.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import msgspec

LEVELS = ("debug", "info", "warn", "error")
LEVEL_W = (20, 62, 13, 5)
TYPES = ("api_call", "navigation", "session", "custom", "cron", "crash")
TYPE_W = (40, 20, 12, 20, 6, 2)
SERVICES = ("api-gateway", "auth", "billing", "checkout", "search", "notifications", "web-frontend", "mobile-ios")
SERVICE_W = (30, 18, 8, 10, 14, 6, 9, 5)
ENVS = ("production", "staging", "development")
ENV_W = (80, 15, 5)
DEVICES = ("desktop", "mobile", "tablet", None)
DEVICE_W = (45, 40, 10, 5)
METHODS = ("GET", "POST", "PUT", "DELETE")
PATHS = ("/api/v1/orders/{n}", "/api/v1/users/{n}/profile", "/api/v2/search", "/api/v1/cart/{n}/items",
         "/api/v1/payments/{n}", "/healthz", "/api/v1/products/{n}", "/api/v1/sessions")
WORDS = ("alpha", "bravo", "cache", "delta", "queue", "shard", "replica", "tenant", "bucket", "socket", "token",
         "worker", "index", "batch")
ERRS = ("ECONNRESET", "ETIMEDOUT", "ECONNREFUSED", "EPIPE", "ENOTFOUND")
REGIONS = ("eu-west-1", "us-east-1", "ap-south-1")
COMMON_WORD = "request"
RARE_WORD = "kaboom"
# Pool sizes: users seen in a day, sessions alive at once, traces in flight at once.
USERS = 20_000
SESSIONS = 3_000
TRACES = 400
SESSION_EVENTS = 40  # mean events per session before it is replaced
TRACE_EVENTS = 6  # mean events per trace


def _templates(r: random.Random, user: Callable[[], str]) -> list[tuple[int, Callable[[], str]]]:
    def n(lo: int = 1, hi: int = 999_999) -> int:
        return r.randint(lo, hi)

    def uuid() -> str:
        return (f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-{r.getrandbits(16):04x}-"
                f"{r.getrandbits(16):04x}-{r.getrandbits(48):012x}")

    def path() -> str:
        return r.choice(PATHS).replace("{n}", str(n()))

    return [
        (18, lambda: f"request {r.choice(METHODS)} {path()} completed with status "
                     f"{r.choice((200, 200, 200, 201, 204, 304))} in {n(1, 900)}ms"),
        (6, lambda: f"request {r.choice(METHODS)} {path()} failed with status "
                    f"{r.choice((400, 401, 403, 404, 409, 429, 500, 502, 503))} after {n(1, 30000)}ms"),
        (5, lambda: f"incoming request id={uuid()} from 10.{n(0, 255)}.{n(0, 255)}.{n(1, 254)} "
                    f"user agent mobile/{n(1, 9)}.{n(0, 20)}"),
        (5, lambda: f"user {user()} logged in via {r.choice(('password', 'oauth', 'sso', 'magic-link'))} "
                    f"session {uuid()}"),
        (4, lambda: f"user {user()} logged out after {n(1, 7200)} seconds"),
        (6, lambda: f"navigated to {r.choice(('/home', '/cart', '/checkout', '/settings', '/orders', '/search'))}"
                    f"?page={n(1, 40)} render took {n(1, 3000)}ms"),
        (4, lambda: f"cache miss for key {r.choice(WORDS)}:{n()} ttl={n(1, 3600)}s"),
        (3, lambda: f"cache hit ratio {r.random():.3f} for shard {n(1, 64)}"),
        (4, lambda: f"payment {uuid()} for order {n()} authorised amount {n(1, 99999) / 100:.2f} "
                    f"{r.choice(('EUR', 'USD', 'GBP'))}"),
        (2, lambda: f"payment {uuid()} declined by issuer code {r.choice(('05', '51', '54', '61', '65'))} "
                    f"for order {n()}"),
        (3, lambda: f"database query took {n(1, 5000)}ms rows={n(0, 10000)} "
                    f"table={r.choice(('orders', 'users', 'carts', 'items', 'events'))}"),
        (2, lambda: f"slow query detected on replica {n(1, 6)} duration {n(1000, 60000)}ms statement_id={n()}"),
        (3, lambda: f"cron job {r.choice(('cleanup', 'rollup', 'billing-sync', 'reindex', 'digest-mail'))} "
                    f"finished processed {n(0, 100000)} items in {n(1, 600)}s"),
        (2, lambda: f"cron job {r.choice(('cleanup', 'rollup', 'billing-sync', 'reindex'))} started run {uuid()}"),
        (3, lambda: f"upstream {r.choice(('inventory', 'pricing', 'shipping', 'tax'))} connection error "
                    f"{r.choice(ERRS)} retry {n(1, 5)}/5"),
        (2, lambda: f"TypeError: Cannot read properties of undefined (reading '{r.choice(WORDS)}') "
                    f"at bundle.{n(1000, 9999)}.js:{n(1, 20000)}:{n(1, 200)}"),
        (1, lambda: f"fatal crash SIGSEGV in thread {n(1, 64)} at 0x{r.getrandbits(48):012x} build {n(100, 999)}"),
        (3, lambda: f"feature flag {r.choice(WORDS)}_{r.choice(WORDS)} evaluated to "
                    f"{r.choice(('true', 'false'))} for {user()}"),
        (3, lambda: f"enqueued job {uuid()} on queue {r.choice(WORDS)} depth {n(0, 5000)}"),
        (3, lambda: f"worker {n(1, 32)} heartbeat ok memory {n(50, 4000)}MB cpu {r.random() * 100:.1f}%"),
        (2, lambda: f"rate limit exceeded for api key ak_{r.getrandbits(40):010x} limit {n(10, 1000)}/min"),
        (2, lambda: f"email sent to user{n()}@example.com template "
                    f"{r.choice(('welcome', 'reset', 'receipt', 'digest'))} message_id <{uuid()}@mail>"),
        (2, lambda: f"search query returned {n(0, 500)} hits in {n(1, 800)}ms "
                    f"terms={r.choice(WORDS)}+{r.choice(WORDS)}"),
        (2, lambda: f"websocket {uuid()} closed code {r.choice((1000, 1001, 1006, 1011))} after {n(1, 86400)}s"),
        (2, lambda: f"retrying request to {r.choice(('inventory', 'pricing', 'shipping'))} attempt {n(1, 5)} "
                    f"backoff {n(10, 5000)}ms"),
        (1, lambda: f"config reloaded version {n(1, 500)} checksum {r.getrandbits(64):016x}"),
    ]


def _cum(weights: Sequence[int]) -> list[int]:
    return list(itertools.accumulate(weights))


class EventGenerator:
    """Deterministic (by seed) stream of events in the ingest schema, without `id` (SDKs send none)."""

    def __init__(self, seed: int = 42, *, users_seed: int = 0) -> None:
        # Every stream shares one user population (users come back day after day).
        self._users = [f"usr_{i}" for i in random.Random(users_seed).sample(range(1, 1_000_000), USERS)]
        r = self.r = random.Random(seed)
        self._sessions = [self._new_session() for _ in range(SESSIONS)]
        self._traces = [self._hex(128) for _ in range(TRACES)]
        self._hosts = [f"ip-10-0-{r.randint(0, 15)}-{r.randint(1, 254)}" for _ in range(60)]
        self._versions = [f"{r.randint(1, 5)}.{r.randint(0, 30)}.{r.randint(0, 99)}" for _ in range(25)]
        tpl = _templates(r, lambda: r.choice(self._users))
        self._tpl_w = _cum([w for w, _ in tpl])
        self._tpl_f = [f for _, f in tpl]
        self._cw = {name: _cum(w) for name, w in (("l", LEVEL_W), ("t", TYPE_W), ("s", SERVICE_W),
                                                  ("e", ENV_W), ("d", DEVICE_W))}
        self._encoder = msgspec.json.Encoder()

    def _hex(self, bits: int) -> str:
        return f"{self.r.getrandbits(bits):0{bits // 4}x}"

    def _new_session(self) -> tuple[str, str]:
        return self._hex(128), self.r.choice(self._users)

    def event(self) -> dict[str, Any]:
        """One event (no timestamp: the sender stamps it)."""
        r = self.r
        message = r.choices(self._tpl_f, cum_weights=self._tpl_w)[0]()
        if r.random() < 0.0001:
            message = f"{RARE_WORD} {message}"
        slot = r.randrange(SESSIONS)
        session_id, user_id = self._sessions[slot]
        if r.random() < 1 / SESSION_EVENTS:
            self._sessions[slot] = self._new_session()
        service = r.choices(SERVICES, cum_weights=self._cw["s"])[0]
        event: dict[str, Any] = {
            "level": r.choices(LEVELS, cum_weights=self._cw["l"])[0],
            "type": r.choices(TYPES, cum_weights=self._cw["t"])[0],
            "message": message,
            "service": service,
            "environment": r.choices(ENVS, cum_weights=self._cw["e"])[0],
        }
        if r.random() < 0.9:
            event["user_id"] = user_id
            event["session_id"] = session_id
        device = r.choices(DEVICES, cum_weights=self._cw["d"])[0]
        if device is not None:
            event["device_type"] = device
        if service not in ("web-frontend", "mobile-ios") or r.random() < 0.3:
            slot = r.randrange(TRACES)
            if r.random() < 1 / TRACE_EVENTS:
                self._traces[slot] = self._hex(128)
            event["trace_id"] = self._traces[slot]
            event["span_id"] = self._hex(64)
        event["metadata"] = {
            "app_version": r.choice(self._versions),
            "region": r.choice(REGIONS),
            "host": r.choice(self._hosts),
            "http": {"method": r.choice(METHODS), "status": r.choice((200, 201, 404, 500)),
                     "duration_ms": round(r.random() * 900, 2)},
            "request_id": self._hex(128),
            "tags": r.sample(WORDS, 2),
        }
        return event

    def tails(self, n: int) -> list[bytes]:
        """n events encoded as JSON without the opening brace (see `body`)."""
        enc = self._encoder.encode
        return [enc(self.event())[1:] for _ in range(n)]


def stamp(tail: bytes, ts_ms: int) -> bytes:
    """A full event JSON from a tail and its timestamp."""
    return b'{"timestamp":%d,%s' % (ts_ms, tail)


def body(tails: Sequence[bytes], ts_ms: int | Sequence[int]) -> bytes:
    """An ingest request body `{"events": [...]}`; one timestamp for all or one per event."""
    if isinstance(ts_ms, int):
        prefix = b'{"timestamp":%d,' % ts_ms
        return b'{"events":[' + b",".join([prefix + t for t in tails]) + b"]}"
    return b'{"events":[' + b",".join([stamp(t, ts) for t, ts in zip(tails, ts_ms, strict=True)]) + b"]}"


def event_json_bytes(tails: Sequence[bytes], ts_ms: int = 1_767_225_600_000) -> float:
    """Mean size of one event's JSON as sent (the 'raw JSON' the disk target compares with)."""
    if not tails:
        return 0.0
    return sum(len(stamp(t, ts_ms)) for t in tails) / len(tails)


# -- generation in other processes (the bench's own process is busy sending) -------------------
_stream: EventGenerator | None = None


def _start_stream(seed: int) -> None:
    global _stream
    _stream = EventGenerator(seed)


def _next_tails(n: int) -> list[bytes]:
    assert _stream is not None
    return _stream.tails(n)


def _tails(seed: int, n: int) -> list[bytes]:
    return EventGenerator(seed).tails(n)


def generate(n: int, *, seed: int = 42, workers: int = 2) -> list[bytes]:
    """n event tails made by `workers` processes (one stream each)."""
    if n <= 20_000 or workers <= 1:
        return _tails(seed, n)
    share = -(-n // workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = [pool.submit(_tails, seed + i, min(share, n - i * share)) for i in range(workers)]
        return [t for part in parts for t in part.result()]


class Stream:
    """An endless stream of event tails generated ahead in a helper process."""

    def __init__(self, *, seed: int, chunk: int = 5000) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, initializer=_start_stream, initargs=(seed,))
        self._chunk = chunk
        self._ahead: list[Future[list[bytes]]] = [self._pool.submit(_next_tails, chunk) for _ in range(2)]

    def next_chunk(self) -> Future[list[bytes]]:
        """The next chunk (a future); keeps two chunks in flight."""
        fut = self._ahead.pop(0)
        self._ahead.append(self._pool.submit(_next_tails, self._chunk))
        return fut

    def close(self) -> None:
        for fut in self._ahead:
            fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
