"""Fixtures: `server` (a fresh real server per test), `make_server(**overrides, clock=...)`, `account`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from scrywatch.clock import Clock
from tests.support import Account, LiveServer, make_config, register

settings.register_profile("dev", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def factory(*, clock: Clock | None = None, data_dir: Path | None = None, **overrides: Any) -> LiveServer:
        config = make_config(data_dir or tmp_path / f"data{len(started)}", **overrides)
        srv = LiveServer(config, clock=clock).start()
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


@pytest.fixture
def server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture
def account(server: LiveServer) -> Account:
    return register(server)
