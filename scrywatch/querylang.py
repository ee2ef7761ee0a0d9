"""The Log Explorer's search syntax: text <-> LogQuery. Pure (no I/O, no web).

    level:error,warn service:auth-worker -type:navigation env:prod "connection reset" timeout

- `field:value` filters; `-field:value` excludes (level, type, service, env, device only).
- `level` and `type` take comma lists (`level:error,warn`), as do exclusions (`-service:a,b`).
- A value with spaces, commas or quotes is quoted: `service:"my svc"`, with `\\"` and `\\\\` inside.
- Everything else (bare words and `"quoted phrases"`) is the full-text search `q`.
- Text cannot be excluded: a bare `-word` is refused (the full-text search would find the word, the
  opposite of what it says); `"-word"` in quotes searches for it.

`parse` raises only InvalidInput, naming the field. `format` writes the canonical text, so
`parse(format(q)) == q` for every query `parse` can return; time bounds are not part of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from msgspec.structs import replace

from scrywatch.errors import InvalidInput
from scrywatch.models.logs import MAX_FIELD_CHARS, LogQuery
from scrywatch.services.events import FieldProblem, level_of, type_of

MAX_TEXT_CHARS = 1000  # as /logs `q` (services.search.MAX_Q_CHARS)
# name in the text -> LogQuery attribute (require, exclude); the first name of each is canonical.
FIELDS: dict[str, tuple[str, str | None]] = {
    "level": ("levels", "not_levels"),
    "type": ("types", "not_types"),
    "service": ("service", "not_services"),
    "env": ("environment", "not_environments"),
    "device": ("device_type", "not_device_types"),
    "user": ("user_id", None),
    "session": ("session_id", None),
    "trace": ("trace_id", None),
}
ALIASES = {"lvl": "level", "environment": "env", "device_type": "device", "user_id": "user",
           "session_id": "session", "trace_id": "trace", "svc": "service"}
LIST_ATTRS = ("levels", "types")
_FIELD_RE = re.compile(r"(-?)([A-Za-z_]+):")
_BARE_VALUE = re.compile(r'[^\s,"\\]+')
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_TEXT_CHAR = re.compile(r'[\w"]')  # a `-` before one of these reads as an exclusion


# -- reading -----------------------------------------------------------------------------
class _Reader:
    """A cursor over the text with the few token shapes of the syntax."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> bool:
        m = _SPACE.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return self.pos < len(self.text)

    def quoted(self) -> str:
        """A `"..."` string at pos (with \\" and \\\\ escapes); an unclosed quote ends the text."""
        out: list[str] = []
        i = self.pos + 1
        text = self.text
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
            elif ch == '"':
                self.pos = i + 1
                return "".join(out)
            else:
                out.append(ch)
                i += 1
        self.pos = len(text)
        return "".join(out)

    def values(self, field: str) -> list[str]:
        """A comma list of bare or quoted values after `field:`."""
        items: list[str] = []
        while True:
            if self.text.startswith('"', self.pos):
                items.append(self.quoted())
            else:
                m = _BARE_VALUE.match(self.text, self.pos)
                if m is None:
                    raise InvalidInput(f"`{field}:` needs a value, e.g. {field}:{_example(field)}", field=field)
                items.append(m.group())
                self.pos = m.end()
            if not self.text.startswith(",", self.pos):
                return items
            self.pos += 1

    def word(self) -> str:
        """A bare word: everything up to the next space."""
        m = _WORD.match(self.text, self.pos)
        assert m is not None
        self.pos = m.end()
        return m.group()


def _example(field: str) -> str:
    return {"level": "error", "type": "crash", "env": "prod", "device": "mobile"}.get(field, "abc")


def _tokens(text: str) -> Iterator[tuple[str, Any]]:
    """("filter", (negated, field, values)) | ("phrase", text) | ("word", text)."""
    r = _Reader(text)
    while r.skip_space():
        if r.text.startswith('"', r.pos):
            yield "phrase", r.quoted()
            continue
        m = _FIELD_RE.match(r.text, r.pos)
        name = m.group(2).lower() if m else ""
        name = ALIASES.get(name, name)
        if m is not None and name in FIELDS:
            r.pos = m.end()
            yield "filter", (m.group(1) == "-", name, r.values(name))
        else:
            yield "word", r.word()


def _clean(field: str, value: str) -> str:
    if not value.strip():
        raise InvalidInput("must not be empty", field=field)
    if len(value) > MAX_FIELD_CHARS:
        raise InvalidInput(f"must be at most {MAX_FIELD_CHARS} characters", field=field)
    if field == "level" or field == "type":
        try:
            return level_of(value) if field == "level" else type_of(value)
        except FieldProblem as p:
            raise InvalidInput(f"{field}:{value}: {p.message}", field=field) from None
    return value


def parse(text: str) -> LogQuery:
    """The LogQuery of a search box text (no time bounds)."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"must be at most {MAX_TEXT_CHARS} characters", field="q")
    found: dict[str, Any] = {}
    q_parts: list[str] = []
    for kind, value in _tokens(text):
        if kind == "phrase":
            if value.strip():
                q_parts.append(quote(value))
        elif kind == "word":
            if _is_negated_text(value):
                raise InvalidInput(_negated_text_message(value), field="q")
            q_parts.append(value)  # a filter-like word was read as a filter, so none needs quotes
        else:
            negated, field, values = value
            require, exclude = FIELDS[field]
            attr = exclude if negated else require
            if attr is None:
                raise InvalidInput(f"`{field}` cannot be excluded; only level, type, service, env and device can",
                                   field=field)
            cleaned = [_clean(field, v) for v in values]
            if negated or attr in LIST_ATTRS:
                found[attr] = tuple(dict.fromkeys([*found.get(attr, ()), *cleaned]))
            elif len(set(cleaned)) > 1 or found.get(attr, cleaned[0]) != cleaned[0]:
                raise InvalidInput(f"only one {field} at a time (exclude others with -{field}:…)"
                                   if exclude else f"only one {field} at a time", field=field)
            else:
                found[attr] = cleaned[0]
    return LogQuery(**found, q=" ".join(q_parts) or None)


# -- writing -----------------------------------------------------------------------------
def quote(value: str) -> str:
    """A quoted phrase or value of the syntax, with \\" and \\\\ escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value: str) -> str:
    return value if _BARE_VALUE.fullmatch(value) else quote(value)


def _is_negated_text(word: str) -> bool:
    """`-timeout`, `-"a phrase`, `-foo:bar`: a bare word that asks to leave text out."""
    return word.startswith("-") and _TEXT_CHAR.search(word, 1) is not None


def _negated_text_message(word: str) -> str:
    m = _FIELD_RE.match(word)
    if m is not None:
        return (f"`{m.group(2)}` is not a field that can be excluded; exclude level, type, service, env or "
                f"device (e.g. -type:navigation)")
    if word.startswith('-"'):
        return "a phrase cannot be excluded, only fields (e.g. -service:web)"
    return (f"`{word[:40]}`: text cannot be excluded, only fields (e.g. -service:web); "
            f"write it in quotes to search for it: {quote(word[:40])}")


def _needs_quotes_as_word(word: str) -> bool:
    """A bare word that would read back as a filter (`level:error` meant as text) or be refused (`-word`)."""
    if _is_negated_text(word):
        return True
    m = _FIELD_RE.match(word)
    return m is not None and ALIASES.get(m.group(2).lower(), m.group(2).lower()) in FIELDS


def format(query: LogQuery) -> str:
    """The canonical search text of a query (its time bounds are left out)."""
    parts: list[str] = []
    for field, (require, _) in FIELDS.items():
        value = getattr(query, require)
        if value:
            parts.append(f"{field}:{','.join(_value(v) for v in value) if isinstance(value, tuple) else _value(value)}")
    for field, (_, exclude) in FIELDS.items():
        if exclude is not None and getattr(query, exclude):
            parts.append(f"-{field}:{','.join(_value(v) for v in getattr(query, exclude))}")
    if query.q:
        parts.append(canonical_text(query.q))
    return " ".join(parts)


def canonical_text(q: str) -> str:
    """Free text (e.g. an API-style `q`) as parse writes it: filter-like words become quoted text."""
    out: list[str] = []
    r = _Reader(q)
    while r.skip_space():
        if r.text.startswith('"', r.pos):
            phrase = r.quoted()
            if phrase.strip():
                out.append(quote(phrase))
        else:
            word = r.word()
            out.append(quote(word) if _needs_quotes_as_word(word) else word)
    return " ".join(out)


def without_time(query: LogQuery) -> LogQuery:
    """The query with its time bounds dropped (what the search text describes)."""
    return replace(query, from_ms=None, to_ms=None)


# -- the same query as /logs parameters ----------------------------------------------------
PARAMS = (("levels", "level"), ("types", "type"), ("service", "service"), ("environment", "environment"),
          ("device_type", "device_type"), ("user_id", "user_id"), ("session_id", "session_id"),
          ("trace_id", "trace_id"), ("not_levels", "exclude_level"), ("not_types", "exclude_type"),
          ("not_services", "exclude_service"), ("not_environments", "exclude_environment"),
          ("not_device_types", "exclude_device_type"), ("q", "q"), ("from_ms", "from"), ("to_ms", "to"))


def to_params(query: LogQuery) -> dict[str, str]:
    """The query as the query-string parameters of /logs, /facets, the tail (services.search.parse_query)."""
    out: dict[str, str] = {}
    for attr, name in PARAMS:
        value = getattr(query, attr)
        if isinstance(value, tuple):
            if value:
                out[name] = ",".join(value)
        elif value is not None:
            out[name] = str(value)
    return out
