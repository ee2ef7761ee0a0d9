"""Archive queries answer exactly as the hot store did for the same events (hypothesis over filters),
and /logs, /facets and export keep working across the hot/cold boundary."""

from __future__ import annotations

import base64
import csv
import io
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scrywatch.clock import FakeClock
from tests.archive.support import DAY0, HOUR, day_and_hour, ingest, ingest_as_they_happen, read_all, run_job
from tests.support import Account, LiveServer, register

H = DAY0 + 5 * HOUR  # the hour under test
LEVELS = ["error", "warn", "info", "debug"]
TYPES = ["crash", "session", "navigation", "api_call", "custom", "cron"]
SERVICES = ["api", "web", "billing"]
ENVS = ["prod", "staging"]
USERS = ["u1", "u2", "u3"]
SESSIONS = ["s1", "s2"]
TRACES = ["4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"]
WORDS = ["payment", "failed", "Café", "résumé", "usr_42", "time-out", "TIMEOUT", "retry", "x²", "ok", "naïve",
         "order", "42", "disk"]


def make_events(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [{"id": f"e{i}", "timestamp": H + i * (HOUR // n), "level": rng.choice(LEVELS), "type": rng.choice(TYPES),
             "message": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))),
             "service": rng.choice([*SERVICES, None]), "environment": rng.choice([*ENVS, None]),
             "user_id": rng.choice([*USERS, None]), "device_type": rng.choice(["mobile", "desktop", None]),
             "session_id": rng.choice([*SESSIONS, None]), "trace_id": rng.choice([*TRACES, None])}
            for i in range(n)]


@pytest.fixture
def hot_and_cold(make_server: Callable[..., LiveServer]) -> tuple[Account, Account]:
    """The same events on two servers: one still has them hot, the other only in the archive.
    They arrive out of time order, as late and batched events do."""
    events = make_events(400)
    random.Random(11).shuffle(events)
    accounts = []
    for retention in (False, True):
        clock = FakeClock(H + HOUR)  # the events arrive while they are hot
        server = make_server(clock=clock, storage={"hot_hours": 1})
        account = register(server)
        ingest(account, events[:150])
        ingest(account, events[150:])
        clock.set(H + 2 * HOUR)
        run_job(server, "archive")
        if retention:
            assert run_job(server, "retention")["hot_deleted"] == 400
        accounts.append(account)
    return accounts[0], accounts[1]


def _csv(values: list[str]) -> str:
    return ",".join(values)


queries = st.fixed_dictionaries({}, optional={
    "level": st.lists(st.sampled_from(LEVELS), min_size=1, max_size=2, unique=True).map(_csv),
    "type": st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True).map(_csv),
    "service": st.sampled_from(SERVICES),
    "environment": st.sampled_from(ENVS),
    "user_id": st.sampled_from(USERS),
    "session_id": st.sampled_from(SESSIONS),
    "trace_id": st.sampled_from(TRACES),
    "device_type": st.sampled_from(["mobile", "desktop"]),
    "exclude_level": st.sampled_from(LEVELS),
    "exclude_type": st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True).map(_csv),
    "exclude_service": st.sampled_from(SERVICES),
    "exclude_environment": st.sampled_from(ENVS),
    "exclude_device_type": st.sampled_from(["mobile", "desktop"]),
    "q": st.lists(st.sampled_from([*WORDS, "pay*", "CAFE", "resume", '"payment failed"', "usr", "tim*"]),
                  min_size=1, max_size=2).map(" ".join),
    "window": st.tuples(st.integers(0, HOUR - 1), st.integers(0, HOUR - 1)).map(sorted),
})


def _params(q: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(/logs params over the hour, /archive params of the same query)."""
    q = dict(q)
    lo, hi = q.pop("window", (0, HOUR - 1))
    return {**q, "from": H + lo, "to": H + hi}, {**q, "from": H + lo, "to": H + hi, **day_and_hour(H)}


def test_archive_answers_as_the_hot_store_did(hot_and_cold: tuple[Account, Account]) -> None:
    hot, cold = hot_and_cold

    @given(queries)
    @settings(max_examples=60)
    def check(q: dict[str, Any]) -> None:
        logs_params, archive_params = _params(q)
        expected, totals = read_all(hot, "/logs", logs_params, limit=60)
        # The archive is newest first by time; the hot store is too, except that a `q` search is in
        # arrival order (README, "Query"), which differs here since the events arrived shuffled.
        by_time = sorted(expected, key=lambda e: e["timestamp"], reverse=True)
        if "q" not in q:
            assert expected == by_time
        for account, path, params in ((hot, "/archive", archive_params), (cold, "/archive", archive_params),
                                      (cold, "/logs", logs_params)):
            got, got_totals = read_all(account, path, params, limit=60)
            assert [e["id"] for e in got] == [e["id"] for e in by_time], (path, q)
            assert got == by_time
            assert got_totals[0] == totals[0] == len(expected)
        with hot.keyed() as h, cold.keyed() as c:
            hot_facets = h.get(hot.base + "/facets", params=logs_params).json()["facets"]
            assert c.get(cold.base + "/facets", params=logs_params).json()["facets"] == hot_facets

    check()


def test_archive_validates_date_and_hour(hot_and_cold: tuple[Account, Account]) -> None:
    hot, _ = hot_and_cold
    with hot.keyed() as client:
        for params, field in (({}, "date"), ({"date": "10/10/2025"}, "date"), ({"date": "2025-10-10", "hour": "24"},
                                                                                 "hour")):
            r = client.get(hot.base + "/archive", params=params)
            assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == field
        day = client.get(hot.base + "/archive", params={"date": "2025-10-10", "limit": 1}).json()
        assert day["total"] == 400 and day["has_more"]
        assert client.get(hot.base + "/archive", params={"date": "2025-10-11"}).json()["total"] == 0
        by_cursor, _ = read_all(hot, "/archive", {"date": "2025-10-10", "level": "error"}, limit=70)
        by_offset = []
        for offset in range(0, len(by_cursor) + 70, 70):
            body = client.get(hot.base + "/archive", params={"date": "2025-10-10", "level": "error", "limit": 70,
                                                             "offset": offset}).json()
            assert body["total"] == len(by_cursor)
            by_offset += body["results"]
        assert by_offset == by_cursor and by_cursor


def test_logs_across_the_boundary_with_cursors_and_offsets(make_server: Callable[..., LiveServer]) -> None:
    clock = FakeClock(DAY0 + 10 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 3})
    account = register(server)
    events = [{"id": f"e{i}", "timestamp": DAY0 + i * 60_000 + 17, "level": LEVELS[i % 4], "message": f"m {i}"}
              for i in range(10 * 60)]  # one a minute for ten hours
    ingest_as_they_happen(account, clock, events)
    run_job(server, "archive")
    retention = run_job(server, "retention")
    assert retention["boundary"] == DAY0 + 7 * HOUR and retention["hot_deleted"] == 7 * 60
    params = {"from": DAY0 + 5 * HOUR + 30 * 60_000, "to": DAY0 + 9 * HOUR + 59_999}
    expected = [e["id"] for e in sorted(events, key=lambda e: -e["timestamp"])
                if params["from"] <= e["timestamp"] <= params["to"]]
    for limit in (1, 7, 60, 200):  # pages that end exactly on, before and after the boundary
        found, totals = read_all(account, "/logs", params, limit=limit)
        assert [e["id"] for e in found] == expected and set(totals) == {len(expected)}
    with account.keyed() as client:
        by_offset = []
        for offset in range(0, len(expected) + 30, 30):
            body = client.get(account.base + "/logs", params={**params, "limit": 30, "offset": offset}).json()
            by_offset += [e["id"] for e in body["results"]]
        assert by_offset == expected
        errors = client.get(account.base + "/logs", params={**params, "level": "error", "limit": 200}).json()
        assert [e["id"] for e in errors["results"]] == [i for i in expected if int(i[1:]) % 4 == 0]
        facets = client.get(account.base + "/facets", params=params).json()["facets"]
        assert {f["value"]: f["count"] for f in facets["level"]} == Counter(LEVELS[int(i[1:]) % 4] for i in expected)
        facets = client.get(account.base + "/facets", params={**params, "q": "m"}).json()["facets"]  # scanned
        assert {f["value"]: f["count"] for f in facets["level"]} == Counter(LEVELS[int(i[1:]) % 4] for i in expected)


@pytest.mark.parametrize("first_page", [120, 100])  # ends exactly with the hot side / inside the hour that moves
def test_a_cursor_keeps_working_when_the_boundary_moves_between_pages(
        make_server: Callable[..., LiveServer], first_page: int) -> None:
    clock = FakeClock(DAY0 + 10 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 2})
    account = register(server)
    ingest(account, [{"id": f"e{i}", "timestamp": DAY0 + i * 60_000 + 17, "level": "info", "message": f"m {i}"}
                     for i in range(10 * 60)])
    run_job(server, "archive")
    assert run_job(server, "retention")["boundary"] == DAY0 + 8 * HOUR
    params = {"from": DAY0 + 5 * HOUR, "to": DAY0 + 10 * HOUR - 1}
    with account.keyed() as client:
        first = client.get(account.base + "/logs", params={**params, "limit": first_page}).json()  # hot only
        assert first["has_more"] and first["results"][-1]["id"] == f"e{600 - first_page}"
        clock.set(DAY0 + 11 * HOUR)  # another hour is archived and leaves the hot store before page 2
        run_job(server, "archive")
        assert run_job(server, "retention")["boundary"] == DAY0 + 9 * HOUR
        ids, cursor = [e["id"] for e in first["results"]], first["next_cursor"]
        while cursor:
            body = client.get(account.base + "/logs", params={**params, "limit": 50, "cursor": cursor}).json()
            assert body["total"] == 300
            ids += [e["id"] for e in body["results"]]
            cursor = body["next_cursor"]
    assert ids == [f"e{i}" for i in reversed(range(300, 600))]


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_export_streams_hot_and_archive(make_server: Callable[..., LiveServer], fmt: str) -> None:
    clock = FakeClock(DAY0 + 10 * HOUR)
    server = make_server(clock=clock, storage={"hot_hours": 3})
    account = register(server)
    events = [{"id": f"e{i}", "timestamp": DAY0 + i * 20_000, "level": "info", "message": f'say "hi", {i}\nbye',
               "metadata": {"n": i}} for i in range(1800)]
    ingest(account, events)
    run_job(server, "archive")
    run_job(server, "retention")
    with account.keyed() as client:
        r = client.get(account.base + "/logs/export", params={"from": DAY0, "format": fmt})
        assert r.status_code == 200
        assert r.headers["content-disposition"].startswith('attachment; filename="scrywatch-acme-default-')
        assert r.headers["content-disposition"].endswith(f'.{fmt}"')
        if fmt == "ndjson":
            assert r.headers["content-type"] == "application/x-ndjson"
            rows = [json.loads(line) for line in r.text.splitlines()]
            assert rows[0]["metadata"] == {"n": 1799}
        else:
            assert r.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert json.loads(rows[0]["metadata"]) == {"n": 1799} and rows[0]["message"] == 'say "hi", 1799\nbye'
        assert [row["id"] for row in rows] == [f"e{i}" for i in reversed(range(1800))]
        assert client.get(account.base + "/logs/export", params={"format": "xml"}).status_code == 400
    with server.client() as anonymous:
        assert anonymous.get(account.base + "/logs/export").status_code == 401
        assert anonymous.get(account.base + "/archive", params={"date": "2025-10-10"}).status_code == 401


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_kinds = st.sampled_from(["c", "t", "r", "x", ""])
cursors = st.one_of(
    st.text(max_size=40),
    st.builds(lambda kind, parts: _b64(":".join([kind, *parts])), _kinds,
              st.lists(st.integers(-(2**70), 2**70).map(str), max_size=4)),  # well formed but for the count
    st.builds(lambda kind, parts: _b64(":".join([kind, *parts])), _kinds, st.lists(st.text(max_size=5), max_size=4)),
)


def test_any_cursor_is_a_page_or_a_400(hot_and_cold: tuple[Account, Account]) -> None:
    """Cursors come from users: whatever is sent back, the answer is a page or a 400 naming it."""
    _, cold = hot_and_cold

    @given(cursors, st.sampled_from([{}, {"q": "payment"}, {"level": "error"}]))
    @example(_b64("t:1:2:3"), {})  # one value too many for a time cursor: was a 500
    @example(_b64("c:4:9423432436414435400"), {})  # a row id past SQLite's 64-bit integers: was a 500
    @example(_b64("t:4:9423432436414435400"), {})
    @example(_b64("r:7:8"), {"q": "payment"})
    @example(_b64("c:1:2:3"), {})
    @settings(max_examples=80)
    def check(cursor: str, extra: dict[str, str]) -> None:
        with cold.keyed() as client:
            for path, params in (("/logs", {"from": H}), ("/logs", {}), ("/archive", day_and_hour(H))):
                r = client.get(cold.base + path, params={**params, **extra, "cursor": cursor})
                assert r.status_code in (200, 400), (path, cursor, r.text)
                if r.status_code == 400:
                    assert r.json()["error"]["details"][0]["field"] == "cursor"

    check()


_digits = st.text(st.sampled_from("0123456789²٣-+ "), min_size=1, max_size=4)
dates = st.text(max_size=12) | st.dates().map(str) | st.builds("{}-{}-{}".format, _digits, _digits, _digits)


@given(dates, st.none() | st.text(max_size=4) | _digits | st.integers(-3, 30).map(str))
@example("2025-10-10", "²")  # a digit to str.isdigit(), not to int(): was a 500
@settings(max_examples=80)
def test_any_date_and_hour_is_a_page_or_a_400_naming_it(hot_and_cold: tuple[Account, Account], date: str,
                                                       hour: str | None) -> None:
    _, cold = hot_and_cold
    with cold.keyed() as client:
        r = client.get(cold.base + "/archive", params={"date": date, **({"hour": hour} if hour is not None else {})})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"]["details"][0]["field"] in ("date", "hour")
