"""Properties: the event normaliser, /logs against a Python model, the pattern normaliser, FTS quoting."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrywatch.services.events import FieldProblem, normalize
from scrywatch.services.patterns import normalize_message, pattern_hash
from scrywatch.storage.sqlite.logsql import fts_match
from tests.logs import corpus as c
from tests.logs.conftest import HOUR, T0, get_ok, ingest
from tests.support import Account

# -- the event normaliser -------------------------------------------------------------------
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
field_values = {
    "timestamp": st.none() | st.integers() | st.floats() | st.text(max_size=30) | st.just("2026-01-01T00:00:00Z")
    | st.integers(min_value=1_000_000_000, max_value=2_000_000_000_000_000_000) | json_values,
    "level": st.sampled_from(["error", "WARNING", "fatal", "trace", "nope", "", 30, 50, 99, -1]) | json_values,
    "type": st.sampled_from(["crash", "api_call", "API", "job", "bogus", " "]) | json_values,
    "message": st.text(max_size=300) | json_values,
    "id": st.text(max_size=200) | st.integers() | json_values,
    "service": st.text(max_size=300) | json_values,
    "user_id": st.text(max_size=20) | st.integers() | st.booleans(),
    "device_type": st.text(max_size=10) | json_values,
    "metadata": json_values,
    "unknown_extra": json_values,
}
events = st.fixed_dictionaries({}, optional=field_values)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A valid event with some bytes replaced (invalid UTF-8, broken syntax)."""
    raw = bytearray(msgspec.json.encode(draw(events)))
    for _ in range(draw(st.integers(1, 3))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)


@given(raw=events.map(msgspec.json.encode) | json_values.map(msgspec.json.encode) | st.binary(max_size=50)
       | damaged())
def test_normalize_accepts_or_names_the_field(raw: bytes) -> None:
    try:
        e = normalize(raw, now_ms=T0, ua_device="server", max_message_bytes=100, max_metadata_bytes=200)
    except FieldProblem as p:
        assert p.field and p.message
        return
    assert e.level in c.LEVELS and e.type in c.TYPES
    assert isinstance(e.timestamp, int) and e.timestamp >= 0
    assert len(e.message.encode()) <= 100 + len("…[truncated 99999999 bytes]".encode())
    assert e.metadata is None or len(e.metadata) <= 200 or b'"_truncated":true' in e.metadata
    if e.metadata is not None:
        msgspec.json.decode(e.metadata)


# -- /logs against a straightforward Python filter --------------------------------------------
CORPUS = c.build_corpus(180, seed=3)
TIMES = sorted({e["timestamp"] for e in CORPUS})


@pytest.fixture
def loaded(account: Account) -> Iterator[httpx.Client]:
    with account.keyed() as keyed:
        ingest(keyed, CORPUS)
        yield keyed


def _opt(values: tuple[Any, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from([v for v in values if v is not None])


def _list(values: tuple[Any, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.lists(st.sampled_from([v for v in values if v is not None]), min_size=1, max_size=3,
                                unique=True).map(",".join)


words = st.sampled_from(c.ASCII_WORDS)
prefix_words = words.flatmap(lambda w: st.integers(2, len(w)).map(lambda n: w[:n] + "*"))
queries = st.none() | st.lists(words | prefix_words, min_size=1, max_size=3).map(" ".join)
times = st.none() | st.sampled_from(TIMES) | st.integers(T0 - HOUR, T0 + 4 * HOUR)
filter_params = st.fixed_dictionaries({
    "level": _list(c.LEVELS), "type": _list(c.TYPES), "service": _opt(c.SERVICES),
    "environment": _opt(c.ENVIRONMENTS), "device_type": _opt(c.DEVICES), "user_id": _opt(c.USERS),
    "session_id": _opt(c.SESSIONS), "trace_id": _opt(c.TRACES), "exclude_level": _list(c.LEVELS),
    "exclude_type": _list(c.TYPES), "exclude_service": _list(c.SERVICES),
    "exclude_environment": _list(c.ENVIRONMENTS), "exclude_device_type": _list(c.DEVICES),
    "q": queries, "from": times, "to": times,
}).map(lambda d: {k: str(v) for k, v in d.items() if v is not None})


@given(params=filter_params)
def test_logs_agree_with_a_python_filter(account: Account, loaded: httpx.Client, params: dict[str, str]) -> None:
    if "from" in params and "to" in params and int(params["from"]) > int(params["to"]):
        assert loaded.get(account.base + "/logs", params=params).status_code == 400
        return
    want = c.expected_ids(CORPUS, params)
    page = get_ok(loaded, account.base + "/logs", {**params, "limit": 200})
    assert [e["id"] for e in page["results"]] == want
    assert page["total"] == len(want) and page["total_exact"] is True
    # Cursor pages of 23 walk the same sequence.
    walked: list[str] = []
    cursor = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        step = get_ok(loaded, account.base + "/logs", {**params, **extra, "limit": 23})
        walked += [e["id"] for e in step["results"]]
        cursor = step["next_cursor"]
        if not cursor:
            break
    assert walked == want
    facets = get_ok(loaded, account.base + "/facets", params)["facets"]
    assert sum(v["count"] for v in facets["level"]) == len(want)


# -- the pattern normaliser and FTS quoting --------------------------------------------------
tricky = st.text(alphabet=st.sampled_from(list("0123456789abcdefxABCDEF-_.:@'\" \t\n{}/*()^-+\x00"))
                 | st.characters(), max_size=200)
# Lone surrogates cannot reach SQLite (nor arrive in a UTF-8 query string): the driver refuses to encode them.
sql_text = st.text(st.characters(blacklist_categories=("Cs",)))
sql_tricky = tricky.map(lambda t: t.encode("utf-8", "replace").decode())


@given(message=st.text() | tricky)
def test_pattern_normaliser_is_idempotent(message: str) -> None:
    once = normalize_message(message)
    assert normalize_message(once) == once
    assert pattern_hash(once) == pattern_hash(normalize_message(once))
    assert re.search(r"\d", once) is None  # every decimal digit became a placeholder


@pytest.fixture
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE logs_fts USING fts5(message, tokenize='unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO logs_fts(message) VALUES (?)",
                     [("payment failed for order 42",), ("NOT OR AND NEAR",), ("café 日本語",)])
    yield conn
    conn.close()


@given(text=sql_text | sql_tricky | st.sampled_from(['"', 'a"b', "*", "NEAR(a b)", "-x", "^x", "a:b", "\x00a"]))
def test_fts_quoting_never_raises(fts: sqlite3.Connection, text: str) -> None:
    match = fts_match(text)
    if match is not None:
        fts.execute("SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?", (match,)).fetchall()
