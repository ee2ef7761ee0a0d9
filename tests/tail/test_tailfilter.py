"""The LogEvent predicate: field filters, the tail's substring `q`, and the archive's FTS5 emulation,
checked against a real FTS5 table with the hot store's tokenizer."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.services.tailfilter import compile_filter, fulltext_match, phrases
from scrywatch.storage.sqlite.logsql import fts_match

WORDS = ["usr_42", "Café", "cafe", "RÉSUMÉ", "resume", "timeout", "time-out", "x²", "straße", "İstanbul",
         "payment", "pay", "ERROR", "error:", "ﬁle", "日本語", "naïve", "a.b.c", '"quoted"', "___", "42", "*"]


def event(**kw: object) -> LogEvent:
    base: dict[str, object] = {"id": "x", "timestamp": 1000, "level": "info", "type": "custom", "message": "hi"}
    return LogEvent(**{**base, **kw})  # type: ignore[arg-type]


def test_field_filters_and_exclusions() -> None:
    e = event(level="error", service="api", environment=None, user_id="u1")
    assert compile_filter(LogQuery(levels=("error", "warn"), service="api", user_id="u1"))(e)
    assert not compile_filter(LogQuery(levels=("warn",)))(e)
    assert not compile_filter(LogQuery(environment="prod"))(e)
    assert compile_filter(LogQuery(not_environments=("prod",)))(e)  # null is not excluded, as in SQL
    assert not compile_filter(LogQuery(not_services=("api",)))(e)
    assert compile_filter(LogQuery(from_ms=1000, to_ms=1000))(e)
    assert not compile_filter(LogQuery(from_ms=1001))(e)


def test_substring_q_is_case_insensitive() -> None:
    match = compile_filter(LogQuery(q="PayMent fail"), text="substring")
    assert match(event(message="the payment failed"))
    assert not match(event(message="payment did fail"))


def test_fulltext_q_uses_tokens_phrases_and_prefixes() -> None:
    assert fulltext_match("user usr_42 logged in", phrases("usr_42") or [])
    assert fulltext_match("Résumé sent", phrases("resume") or [])
    assert fulltext_match("connection timeout", phrases("time*") or [])
    assert not fulltext_match("connection timeout", phrases("time") or [])
    assert fulltext_match("a b c", phrases('"a b"') or [])
    assert not fulltext_match("a x b", phrases('"a b"') or [])
    assert phrases("***") is None  # nothing searchable: no filter, as the hot store does
    assert phrases("___") == []  # searchable text without tokens: FTS5 finds nothing


_fts = sqlite3.connect(":memory:")
_fts.execute("CREATE VIRTUAL TABLE f USING fts5(message, tokenize='unicode61 remove_diacritics 2')")


def _fts_says(message: str, q: str) -> bool:
    match = fts_match(q)
    if match is None:
        return True
    _fts.execute("DELETE FROM f")
    _fts.execute("INSERT INTO f(rowid, message) VALUES (1, ?)", (message,))
    return bool(_fts.execute("SELECT 1 FROM f WHERE f MATCH ?", (match,)).fetchall())


def _ours(message: str, q: str) -> bool:
    wanted = phrases(q)
    return True if wanted is None else fulltext_match(message, wanted)


words = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6)


@given(words, words, st.sampled_from(["", "*", '"']))
def test_fulltext_agrees_with_fts5_on_vocabulary(message: list[str], q: list[str], tail: str) -> None:
    text, query = " ".join(message), " ".join(q) + tail
    assert _ours(text, query) == _fts_says(text, query)


@given(st.text(max_size=30), st.text(max_size=12))
def test_fulltext_agrees_with_fts5_on_any_text(message: str, q: str) -> None:
    assert _ours(message, q) == _fts_says(message, q)
