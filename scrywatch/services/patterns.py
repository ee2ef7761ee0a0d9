"""Message patterns: replace the variable parts of a log message with placeholders so that similar messages group."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from scrywatch.models.logs_meta import Pattern

MAX_PATTERN_CHARS = 500
# Inputs are cut before normalising so one huge message cannot cost much; outputs are cut to MAX_PATTERN_CHARS.
_MAX_INPUT_CHARS = 4 * MAX_PATTERN_CHARS
# One alternation, scanned once per pass; at a given position the first alternative wins, so wider
# shapes come first (an email is not split into {id}@{id}, an IP not into numbers).
_VARIABLE = re.compile(r"""
  (?P<str>"[^"]*"|(?<![\w'])'[^']*'(?!\w))
| (?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
| (?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
| (?P<ip>\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b)
| (?P<hex>\b0[xX][0-9a-fA-F]+\b)
| (?P<num>\d+(?:\.\d+)*(?!\w))
| (?P<word>\b[^\W\d]*\d\w*)
""", re.VERBOSE)
_HEX_WORD = re.compile(r"[0-9a-fA-F]{6,}")
_LETTER = re.compile(r"[^\W\d]")
# A pass leaves no digit behind, so only these characters can start a new match in the next one.
_MAY_CHANGE = re.compile(r"[\"'@-]|\d")


def _placeholder(m: re.Match[str]) -> str:
    kind = m.lastgroup
    if kind != "word":
        return "{" + str(kind) + "}"
    # A word holding a digit: hex (6+ hex characters, a letter among them), else an identifier
    # (usr_42, a1b2), else a number glued to something (12_000 has a letter-ish `_`; ٣٤ is a number).
    word = m.group()
    if _LETTER.search(word) is None:
        return "{num}"
    if _HEX_WORD.fullmatch(word):
        return "{hex}"
    return "{id}"


def _one_pass(text: str) -> str:
    return " ".join(_VARIABLE.sub(_placeholder, text).split())[:MAX_PATTERN_CHARS].rstrip()


def normalize_message(message: str) -> str:
    """The message with ids, numbers, UUIDs, hex, emails, IPs and quoted strings replaced by placeholders."""
    text = _one_pass(message[:_MAX_INPUT_CHARS])
    # Repeat to a fixpoint so normalize(normalize(x)) == normalize(x): a replacement can expose a new
    # match (e.g. 'a''b'). Every change removes a quote, digit, '@' or '-', so this ends.
    while _MAY_CHANGE.search(text):
        out = _one_pass(text)
        if out == text:
            break
        text = out
    return text


def pattern_hash(normalized: str) -> str:
    """A short stable id for a normalised message."""
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


# -- grouping (pure: the /patterns service feeds it sampled events) -------------------------
MAX_SERVICES_PER_PATTERN = 20


PatternKey = tuple[str, str, str]  # (pattern, level, type)
Keyed = tuple[PatternKey, int, str, str | None]  # (key, ts, message, service)


def pattern_keys(events: Iterable[tuple[int, str, str, str, str | None]]) -> Iterator[Keyed]:
    """Each (ts, level, type, message, service) row with its (pattern, level, type) key; a message
    that repeats in the rows is normalised once."""
    cache: dict[str, str] = {}
    for ts, level, type_, message, service in events:
        normalized = cache.get(message)
        if normalized is None:
            normalized = cache[message] = normalize_message(message)
        yield (normalized, level, type_), ts, message, service


def group_patterns(events: Iterable[tuple[int, str, str, str, str | None]], *, limit: int) -> list[Pattern]:
    """Group (ts, level, type, message, service) rows, newest first, by (pattern, level, type);
    the largest groups first. The sample is the newest message of each group."""
    return group_keyed(pattern_keys(events), limit=limit)


def group_keyed(keyed: Iterable[Keyed], *, limit: int) -> list[Pattern]:
    """group_patterns() over rows already keyed by pattern_keys()."""
    groups: dict[PatternKey, _Group] = {}
    for key, ts, message, service in keyed:
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(message, ts)
        g.add(ts, service)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1].count, -kv[1].last_seen, kv[0]))[:limit]
    return [Pattern(pattern=p, level=level, type=type_, count=g.count, sample=g.sample, services=sorted(g.services),
                    first_seen=g.first_seen, last_seen=g.last_seen, hash=pattern_hash(p))
            for (p, level, type_), g in ranked]


class _Group:
    __slots__ = ("sample", "count", "first_seen", "last_seen", "services")

    def __init__(self, sample: str, ts: int) -> None:
        self.sample = sample
        self.count = 0
        self.first_seen = ts
        self.last_seen = ts
        self.services: set[str] = set()

    def add(self, ts: int, service: str | None) -> None:
        self.count += 1
        self.first_seen = min(self.first_seen, ts)
        self.last_seen = max(self.last_seen, ts)
        if service is not None and len(self.services) < MAX_SERVICES_PER_PATTERN:
            self.services.add(service)
