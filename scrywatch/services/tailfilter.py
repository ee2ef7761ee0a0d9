"""LogQuery as a predicate on LogEvent: the live tail and the archive scanner filter with it. Pure.

Two meanings of `q`: the tail's case-insensitive substring (`text="substring"`), and the hot store's
full-text search (`text="fulltext"`), emulated here so an archived hour answers a query exactly as
SQLite's FTS5 did while the hour was hot: the same tokens as `logsql.fts_match` (every token quoted,
`"a phrase"` kept, trailing `*` a prefix), tokenized like FTS5 `unicode61 remove_diacritics 2`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from scrywatch.models.logs import LogEvent, LogQuery

Predicate = Callable[[LogEvent], bool]
TextMode = Literal["substring", "fulltext"]
# Mirrors logsql.fts_match (services may not import storage): a quoted phrase, or a bare word.
_TOKEN_RE = re.compile(r'"([^"]*)"?|([^\s"]+)')
_WORD_RE = re.compile(r"\w", re.UNICODE)


Phrase = tuple[tuple[str, ...], bool]  # (folded tokens, the last one is a prefix)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character as unicode61 compares it: lower case, diacritics removed; a space if it separates."""
    cat = unicodedata.category(ch)
    # unicode61's token characters are L* N* Co, plus Mn (folded away) and unassigned code points.
    if not (cat[0] in "LN" or cat in ("Co", "Mn", "Cn")):
        return " "
    folded = unicodedata.normalize("NFD", ch.lower())
    return "".join(c for c in folded if unicodedata.category(c) != "Mn")


def tokens(text: str) -> list[str]:
    """FTS5 unicode61 (remove_diacritics 2) tokens of text."""
    if text.isascii():
        return re.findall(r"[a-z0-9]+", text.lower())
    return "".join(_fold_char(ch) for ch in text).split()


def phrases(q: str | None) -> list[Phrase] | None:
    """The phrases a `q` requires (all of them), or None when q holds nothing searchable (no filter).

    An empty list means the query can match nothing (FTS5 finds nothing for a phrase without tokens).
    """
    if not q:
        return None
    parts: list[tuple[str, bool]] = []
    for m in _TOKEN_RE.finditer(q):
        phrase, word = m.group(1), m.group(2)
        if phrase is not None:
            if _WORD_RE.search(phrase):
                parts.append((phrase, False))
            continue
        core = word.rstrip("*")
        if _WORD_RE.search(core):
            parts.append((core, word.endswith("*")))
    if not parts:
        return None
    out = [(tuple(tokens(text)), prefix) for text, prefix in parts]
    # FTS5 ignores a token-less phrase beside others, and matches nothing when every phrase is empty.
    return [p for p in out if p[0]]


def _has_phrase(words: list[str], phrase: tuple[str, ...], prefix: bool) -> bool:
    n = len(phrase)
    last = phrase[-1]
    if n == 1:  # the common case, without slicing
        return last in words or (prefix and any(w.startswith(last) for w in words))
    for i in range(len(words) - n + 1):
        if words[i:i + n - 1] == list(phrase[:-1]):
            w = words[i + n - 1]
            if w == last or (prefix and w.startswith(last)):
                return True
    return False


def fulltext_match(message: str, wanted: list[Phrase]) -> bool:
    """True when message holds every phrase, as FTS5 MATCH would decide."""
    if not wanted:
        return False
    words = tokens(message)
    return all(_has_phrase(words, phrase, prefix) for phrase, prefix in wanted)


def compile_filter(query: LogQuery, *, text: TextMode = "substring") -> Predicate:
    """A predicate that is True for the events the query selects (time range included)."""
    checks: list[Predicate] = []
    if query.levels:
        levels = frozenset(query.levels)
        checks.append(lambda e: e.level in levels)
    if query.types:
        types = frozenset(query.types)
        checks.append(lambda e: e.type in types)
    for name in ("service", "environment", "device_type", "user_id", "session_id", "trace_id"):
        value = getattr(query, name)
        if value is not None:
            checks.append(lambda e, n=name, v=value: getattr(e, n) == v)
    for name, values in (("level", query.not_levels), ("type", query.not_types),
                         ("service", query.not_services), ("environment", query.not_environments),
                         ("device_type", query.not_device_types)):
        if values:
            checks.append(lambda e, n=name, vs=frozenset(values): getattr(e, n) not in vs)
    if query.from_ms is not None:
        lo = query.from_ms
        checks.append(lambda e: e.timestamp >= lo)
    if query.to_ms is not None:
        hi = query.to_ms
        checks.append(lambda e: e.timestamp <= hi)
    if query.q:
        if text == "substring":
            needle = query.q.lower()
            checks.append(lambda e: needle in e.message.lower())
        else:
            wanted = phrases(query.q)
            if wanted is not None:
                checks.append(lambda e: fulltext_match(e.message, wanted))
    if not checks:
        return lambda e: True
    if len(checks) == 1:
        return checks[0]
    return lambda e: all(check(e) for check in checks)
