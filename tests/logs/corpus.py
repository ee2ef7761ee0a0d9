"""A deterministic corpus of events and a straightforward Python model of /logs filtering and order.

The model is written from the spec, not from the SQL: a filter keeps an event when every given
parameter matches; results are ordered by (timestamp desc, arrival desc), or by arrival desc when
`q` is given. Timestamps collide on purpose so the tie-break is exercised.
"""

from __future__ import annotations

import random
import re
from typing import Any

from tests.logs.conftest import T0

LEVELS = ("error", "warn", "info", "debug")
TYPES = ("crash", "session", "navigation", "api_call", "custom", "cron")
SERVICES = ("api", "web", "worker", None)
ENVIRONMENTS = ("prod", "staging", None)
DEVICES = ("mobile", "desktop", "server", "tablet")
USERS = ("u1", "u2", None)
SESSIONS = ("s1", "s2", "s3", None)
TRACES = ("t1", "t2", None)
WORDS = ("payment", "failed", "order", "user", "login", "timeout", "cache", "miss", "retry", "database",
         "checkout", "café")
ASCII_WORDS = tuple(w for w in WORDS if w.isascii())
LIST_PARAMS = {"level": "level", "type": "type", "exclude_level": "level", "exclude_type": "type",
               "exclude_service": "service", "exclude_environment": "environment",
               "exclude_device_type": "device_type"}
EXACT_PARAMS = ("service", "environment", "device_type", "user_id", "session_id", "trace_id")
_TOKEN = re.compile(r"[^\W_]+")


def build_corpus(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """n events with client ids c0..c{n-1} in arrival order."""
    rnd = random.Random(seed)
    events = []
    for i in range(n):
        e: dict[str, Any] = {
            "id": f"c{i}",
            # 40 distinct timestamps over ~3 hours: many ties, several hour buckets.
            "timestamp": T0 + rnd.randrange(40) * 270_001,
            "level": rnd.choice(LEVELS),
            "type": rnd.choice(TYPES),
            "message": " ".join(rnd.sample(WORDS, rnd.randint(2, 5))) + f" {rnd.randrange(1000)}",
            "device_type": rnd.choice(DEVICES),
        }
        for name, values in (("service", SERVICES), ("environment", ENVIRONMENTS), ("user_id", USERS),
                             ("session_id", SESSIONS), ("trace_id", TRACES)):
            value = rnd.choice(values)
            if value is not None:
                e[name] = value
        events.append(e)
    return events


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _matches_q(message: str, q: str) -> bool:
    tokens = _words(message)
    for term in q.split():
        prefix = term.endswith("*")
        for word in _words(term.rstrip("*")):
            if prefix and not any(t.startswith(word) for t in tokens):
                return False
            if not prefix and word not in tokens:
                return False
    return True


def matches(e: dict[str, Any], params: dict[str, str]) -> bool:
    for name, value in params.items():
        if name in ("level", "type"):
            if e[name] not in value.split(","):
                return False
        elif name.startswith("exclude_"):
            if e.get(LIST_PARAMS[name]) in value.split(","):
                return False
        elif name in EXACT_PARAMS:
            if e.get(name) != value:
                return False
        elif name == "from":
            if e["timestamp"] < int(value):
                return False
        elif name == "to":
            if e["timestamp"] > int(value):
                return False
        elif name == "q":
            if not _matches_q(e["message"], value):
                return False
        else:
            raise AssertionError(f"unexpected parameter {name}")
    return True


def expected_ids(corpus: list[dict[str, Any]], params: dict[str, str]) -> list[str]:
    """Ids /logs must return, in order."""
    arrival = {e["id"]: i for i, e in enumerate(corpus)}
    kept = [e for e in corpus if matches(e, params)]
    if params.get("q"):
        kept.sort(key=lambda e: -arrival[e["id"]])
    else:
        kept.sort(key=lambda e: (-e["timestamp"], -arrival[e["id"]]))
    return [e["id"] for e in kept]
