"""The pattern normaliser on examples of every placeholder (the idempotence property is in test_properties)."""

from __future__ import annotations

import pytest

from scrywatch.services.patterns import MAX_PATTERN_CHARS, group_patterns, normalize_message, pattern_hash


@pytest.mark.parametrize(("message", "pattern"), [
    ("User 12345 logged in", "User {num} logged in"),
    ("took 3.25 ms", "took {num} ms"),
    ("from 10.0.0.1:8080 and 192.168.1.20", "from {ip} and {ip}"),
    ("order 550e8400-e29b-41d4-a716-446655440000 failed", "order {uuid} failed"),
    ("ORDER 550E8400-E29B-41D4-A716-446655440000", "ORDER {uuid}"),
    ("mail bob.smith+x@example.co.uk now", "mail {email} now"),
    ("ptr 0x7ffee4c1 sha a1b2c3d4e5f6", "ptr {hex} sha {hex}"),
    ('key "user:42" missing', "key {str} missing"),
    ("key 'session 9' missing, don't retry", "key {str} missing, don't retry"),
    ("user_42 and req-abc123x", "{id} and req-{id}"),
    ("NullPointerException in UserService user_abc123", "NullPointerException in UserService {id}"),
    ("  spaced\tout \n text  ", "spaced out text"),
    ("Connection reset by peer", "Connection reset by peer"),
    ("٣٤ apples", "{num} apples"),
    ("", ""),
])
def test_placeholders(message: str, pattern: str) -> None:
    assert normalize_message(message) == pattern
    assert normalize_message(pattern) == pattern


def test_long_messages_are_cut_and_hash_is_stable() -> None:
    out = normalize_message("word " * 1000)
    assert len(out) <= MAX_PATTERN_CHARS and normalize_message(out) == out
    assert pattern_hash("User {num} logged in") == pattern_hash("User {num} logged in")
    assert pattern_hash("User {num} logged in") != pattern_hash("User {num} logged out")
    assert len(pattern_hash("x")) == 16


def test_group_patterns_ranks_by_count_then_recency() -> None:
    rows = [(5, "info", "custom", "b 2", "api"), (4, "info", "custom", "a 1", None),
            (3, "info", "custom", "b 1", "web"), (2, "error", "custom", "b 9", "api"),
            (1, "info", "custom", "a 7", "api")]
    groups = group_patterns(rows, limit=10)
    assert [(g.pattern, g.level, g.count) for g in groups] == [
        ("b {num}", "info", 2), ("a {num}", "info", 2), ("b {num}", "error", 1)]
    assert groups[0].sample == "b 2" and groups[0].services == ["api", "web"]
    assert (groups[1].first_seen, groups[1].last_seen) == (1, 4)
    assert len(group_patterns(rows, limit=1)) == 1
