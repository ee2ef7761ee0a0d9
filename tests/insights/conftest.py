"""Fixtures for insights: a server on a fake clock and its owner; loopback receivers from tests.alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scrywatch.clock import FakeClock
from tests.alerts.receivers import Receiver
from tests.support import Account, LiveServer, register


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start(make_server: Callable[..., LiveServer], clock: FakeClock) -> Callable[..., Account]:
    def factory(**overrides: Any) -> Account:
        return register(make_server(clock=clock, **overrides))

    return factory


@pytest.fixture
def owner(start: Callable[..., Account]) -> Account:
    return start()


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def factory(**kwargs: Any) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield factory
    for r in made:
        r.close()
