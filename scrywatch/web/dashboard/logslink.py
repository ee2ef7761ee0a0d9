"""Links from the alerts, insights and traces pages into the Log Explorer (`/logs?q=...`)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from scrywatch import querylang
from scrywatch.models.logs import LogQuery

# The placeholders services.patterns.normalize_message writes for the variable parts of a message.
_PLACEHOLDER = re.compile(r"\{(?:str|email|uuid|ip|hex|num|id)\}")
_WORD = re.compile(r"\w")


def explorer_href(base: str, query: LogQuery, *, range_key: str | None = None) -> str:
    """The explorer at `base` showing `query`: its filters as search text, its time bounds (or a range)."""
    params: dict[str, str] = {}
    text = querylang.format(query)
    if text:
        params["q"] = text
    if query.from_ms is not None or query.to_ms is not None:
        params.update({k: str(v) for k, v in (("from", query.from_ms), ("to", query.to_ms)) if v is not None})
    elif range_key:
        params["range"] = range_key
    return f"{base}?{urlencode(params)}" if params else base


def phrase(text: str) -> str:
    """Text as one quoted phrase of the search syntax."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pattern_query(pattern: str, *, level: str | None, service: str | None) -> LogQuery:
    """Events of a normalised message: its level and service, and its literal parts as phrases."""
    parts = [part.strip() for part in _PLACEHOLDER.split(pattern) if _WORD.search(part)]
    return LogQuery(levels=(level,) if level else (), service=service or None,
                    q=" ".join(phrase(p) for p in parts) or None)
