"""Test support: a real uvicorn server on a free port over a real SQLite file, and account helpers.

`register(server)` creates the first user and returns an `Account` with a signed-in cookie client
and the first API key. `wait_for` polls with a deadline (never sleep to synchronise).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from scrywatch.app import create_app
from scrywatch.clock import Clock
from scrywatch.config import Config, load_config

# Fast argon2 for tests; the defaults (64 MiB, 3 passes) cost ~50 ms per hash.
FAST_AUTH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"


def wait_for(predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.02,
             message: str = "condition") -> Any:
    """Poll until predicate() is truthy; return its value. Fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def make_config(data_dir: Path, **overrides: Any) -> Config:
    """A test config: temp data dir, fast hashing, periodic jobs off (tests run jobs directly)."""
    raw: dict[str, Any] = {"data_dir": str(data_dir), "auth": dict(FAST_AUTH), "jobs": {"enabled": False}}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return load_config(None, environ={}, overrides=raw)


class LiveServer:
    """uvicorn serving create_app(config) in a thread, on a socket bound to 127.0.0.1:0."""

    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        self.config = config
        self.app = create_app(config, clock=clock)
        self.runtime = self.app.state.runtime
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, lifespan="on", log_level="warning",
                                                     access_log=False, timeout_graceful_shutdown=5))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"uvicorn-{self.port}", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        wait_for(lambda: self._server.started or not self._thread.is_alive(), timeout=20,
                 message="server start")
        if not self._server.started:
            raise RuntimeError("server failed to start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._sock.close()

    @property
    def data_dir(self) -> Path:
        return Path(self.config.data_dir)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A client that, like a browser on our pages, sends our Origin on every request."""
        headers = {"Origin": self.url, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def key_client(self, api_key: str, **kwargs: Any) -> httpx.Client:
        """A client authenticated only by an API key (no cookies, no Origin)."""
        headers = {"Authorization": f"Bearer {api_key}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


@dataclass
class Account:
    """A registered user: a signed-in cookie client, their org/project slugs and first API key."""

    server: LiveServer
    client: httpx.Client
    email: str
    password: str
    user_id: str
    org: str
    project: str
    api_key: str

    @property
    def base(self) -> str:
        """Path prefix of this account's project data endpoints."""
        return f"/api/orgs/{self.org}/projects/{self.project}"

    def keyed(self) -> httpx.Client:
        return self.server.key_client(self.api_key)


def register(server: LiveServer, *, email: str = "owner@example.com", name: str = "Olive Owner",
             org: str = "Acme", password: str = PASSWORD) -> Account:
    client = server.client()
    r = client.post("/api/auth/register", json={"email": email, "password": password, "name": name,
                                                "orgName": org})
    assert r.status_code == 201, r.text
    body = r.json()
    return Account(server=server, client=client, email=email, password=password, user_id=body["user"]["id"],
                   org=body["org"]["slug"], project=body["project"]["slug"], api_key=body["apiKey"])


def login(server: LiveServer, email: str, password: str) -> httpx.Client:
    client = server.client()
    r = client.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return client


