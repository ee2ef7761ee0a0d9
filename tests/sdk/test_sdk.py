"""scrywatch.sdk against the real server: delivery, the logging handler, retries, drops, close()."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from scrywatch.sdk import Client, ScryWatchHandler
from tests.support import Account, LiveServer, wait_for


def _logs(account: Account, **params: Any) -> list[dict[str, Any]]:
    with account.keyed() as c:
        r = c.get(account.base + "/logs", params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


class FlakyProxy:
    """A loopback HTTP server that answers 503 to the first `failures` posts, then forwards to `upstream`."""

    def __init__(self, upstream: str, *, failures: int, status: int = 503, retry_after: str | None = "0") -> None:
        self.upstream = upstream
        self.failures = failures
        self.attempts: list[int] = []  # the status answered to each post
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if len(proxy.attempts) < proxy.failures:
                    proxy.attempts.append(status)
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers,
                                                 method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        answer, code = response.read(), response.status
                except urllib.error.HTTPError as exc:
                    answer, code = exc.read(), exc.code
                proxy.attempts.append(code)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (quiet tests)
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def isolated_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("tests.sdk.app")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = True


def test_the_logging_handler_delivers_records(server: LiveServer, account: Account,
                                              isolated_logger: logging.Logger) -> None:
    client = Client(server.url + "/", account.api_key, service="checkout", environment="test", flush_interval=60)
    isolated_logger.addHandler(ScryWatchHandler(client))
    isolated_logger.warning("cart %s abandoned", 42, extra={"cart_id": 42, "user_id": "usr_7"})
    try:
        raise ValueError("card declined")
    except ValueError:
        isolated_logger.exception("payment failed")
    client.flush()
    assert client.stats.sent == 2 and client.stats.dropped == 0

    by_message = {e["message"]: e for e in _logs(account)}
    warn = by_message["cart 42 abandoned"]
    assert warn["level"] == "warn" and warn["service"] == "checkout" and warn["environment"] == "test"
    assert warn["user_id"] == "usr_7" and warn["device_type"] == "server"
    assert warn["metadata"] == {"logger": "tests.sdk.app", "cart_id": 42}
    error = by_message["payment failed"]
    assert error["level"] == "error"
    exc = error["metadata"]["exception"]
    assert exc["type"] == "ValueError" and exc["message"] == "card declined"
    assert "Traceback" in exc["traceback"] and "raise ValueError" in exc["traceback"]
    client.close()


def test_client_methods_batch_and_map_fields(server: LiveServer, account: Account) -> None:
    with Client(server.url, account.api_key, batch_size=3, flush_interval=60) as client:
        client.info("one", order=1)
        client.debug("two", metadata={"a": 1}, b=2)
        client.error("three", type="crash", trace_id="t" * 32)
        client.log("warning", "four", metadata=[1, 2])
        client.log("critical", "five")
        client.flush()
        assert client.stats.sent == 5 and client.stats.requests == 2
    by_message = {e["message"]: e for e in _logs(account)}
    assert by_message["one"]["metadata"] == {"order": 1} and by_message["one"]["level"] == "info"
    assert by_message["two"]["metadata"] == {"a": 1, "b": 2} and by_message["two"]["level"] == "debug"
    assert by_message["three"]["type"] == "crash" and by_message["three"]["trace_id"] == "t" * 32
    assert by_message["four"]["level"] == "warn" and by_message["four"]["metadata"] == [1, 2]
    assert by_message["five"]["level"] == "error"


def test_503_is_retried_until_accepted(server: LiveServer, account: Account) -> None:
    proxy = FlakyProxy(server.url, failures=2)
    try:
        client = Client(proxy.url, account.api_key, flush_interval=60, backoff=0.01)
        client.info("survives two 503s")
        client.flush()
        assert proxy.attempts == [503, 503, 202]
        assert client.stats.retries == 2 and client.stats.sent == 1 and client.stats.dropped == 0
        assert [e["message"] for e in _logs(account)] == ["survives two 503s"]
        client.close()
    finally:
        proxy.close()


def test_the_background_thread_retries_a_full_ingest_queue(make_server: Any) -> None:
    from tests.support import register

    srv = make_server(ingest={"queue_max_events": 1})  # a batch of 2 is always over the bound: 503
    account = register(srv)
    client = Client(srv.url, account.api_key, batch_size=2, flush_interval=3600, backoff=0.01, max_retries=3)
    client.info("never fits")
    client.info("nor this")  # the second event fills the batch and wakes the sender thread
    wait_for(lambda: client.stats.dropped_failed == 2, message="the batch dropped after its retries")
    assert client.stats.retries == 3 and client.stats.requests == 4 and client.stats.sent == 0
    client.close()


def test_4xx_is_dropped_and_counted_without_retrying(server: LiveServer, account: Account) -> None:
    proxy = FlakyProxy(server.url, failures=0)
    try:
        client = Client(proxy.url, "sw_not_a_real_key_at_all_0000000000", flush_interval=60, backoff=0.01)
        client.info("refused")
        client.info("refused too")
        client.flush()
        assert proxy.attempts == [401]
        assert client.stats.dropped_rejected == 2 and client.stats.retries == 0 and client.stats.sent == 0
        client.close()
    finally:
        proxy.close()
    assert _logs(account) == []


def test_network_errors_are_retried_then_dropped() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", "sw_x", flush_interval=60, backoff=0.001, max_retries=2, timeout=2)
    client.info("lost")
    client.flush()
    assert client.stats.retries == 2 and client.stats.dropped_failed == 1 and client.stats.requests == 3
    client.close()


def test_the_queue_is_bounded_and_drops_the_oldest(server: LiveServer, account: Account) -> None:
    client = Client(server.url, account.api_key, max_queue=5, batch_size=100, flush_interval=60)
    for i in range(8):
        client.info(f"event {i}")
    assert client.stats.dropped_queue_full == 3
    client.close()
    assert sorted(e["message"] for e in _logs(account)) == [f"event {i}" for i in range(3, 8)]


def test_close_flushes_what_is_queued(server: LiveServer, account: Account) -> None:
    client = Client(server.url, account.api_key, batch_size=1000, flush_interval=3600)
    for i in range(120):
        client.info(f"queued {i}", i=i)
    client.close()
    assert client.stats.sent == 120
    assert len(_logs(account, q="queued")) == 120
    client.close()  # idempotent


def test_a_handler_made_from_endpoint_and_key_owns_its_client(server: LiveServer, account: Account,
                                                              isolated_logger: logging.Logger) -> None:
    handler = ScryWatchHandler(endpoint=server.url, api_key=account.api_key, flush_interval=3600,
                               service="worker")
    isolated_logger.addHandler(handler)
    isolated_logger.info("from a handler-owned client", extra={"job": "reindex"})
    isolated_logger.removeHandler(handler)
    handler.close()  # closes (and so flushes) the client it made
    [event] = _logs(account)
    assert event["message"] == "from a handler-owned client" and event["service"] == "worker"
    assert event["metadata"] == {"logger": "tests.sdk.app", "job": "reindex"}
