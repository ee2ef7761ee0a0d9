"""Fixtures for alerts: a server on a fake clock with fast delivery settings, loopback receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scrywatch.clock import FakeClock
from tests.alerts.receivers import Receiver, SmtpReceiver
from tests.support import Account, LiveServer, register

FAST_DELIVERY = {"delivery_timeout_seconds": 0.5, "delivery_backoff_seconds": 0.05}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def alerting(make_server: Callable[..., LiveServer], clock: FakeClock) -> Callable[..., Account]:
    """Start a server on the fake clock (extra config as keyword sections) and register its owner."""

    def start(**overrides: Any) -> Account:
        alerts = {**FAST_DELIVERY, **overrides.pop("alerts", {})}
        return register(make_server(clock=clock, alerts=alerts, **overrides))

    return start


@pytest.fixture
def owner(alerting: Callable[..., Account]) -> Account:
    return alerting()


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def factory(**kwargs: Any) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield factory
    for r in made:
        r.close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    yield server
    server.close()


def rule_body(url: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Errors in api", "condition_field": "level", "condition_value": "error",
                            "threshold": 3, "window_minutes": 5}
    if url is not None:
        body["webhook_url"] = url
    return {**body, **overrides}


def create_rule(account: Account, url: str | None = None, **overrides: Any) -> dict[str, Any]:
    r = account.client.post(f"{account.base}/alerts", json=rule_body(url, **overrides))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
