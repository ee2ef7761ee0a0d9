"""Pure SQL builders for log queries: LogQuery -> (sql, params). Nothing here touches a connection.

Values are always bound; column names come only from constants here. User search text goes
through `fts_match()`, which quotes every token so no input can raise an FTS5 syntax error.
"""

from __future__ import annotations

import base64
import re

from scrywatch.errors import InvalidInput
from scrywatch.models.logs import LogQuery

# What logs.event_from_row reads; metadata comes back as JSON text whether stored plain or compressed.
COLUMNS = ("id, project, ts, received, level, type, message, service, environment, user_id, session_id, "
           "device_type, trace_id, span_id, coalesce(metadata, sw_meta(meta_z)), client_id")
L_COLUMNS = ("l.id, l.project, l.ts, l.received, l.level, l.type, l.message, l.service, l.environment, l.user_id, "
             "l.session_id, l.device_type, l.trace_id, l.span_id, coalesce(l.metadata, sw_meta(l.meta_z)), "
             "l.client_id")
# A quoted phrase, or a run of non-space, non-quote characters (optionally ending in * for prefix).
_TOKEN_RE = re.compile(r'"([^"]*)"?|([^\s"]+)')
_WORD_RE = re.compile(r"\w", re.UNICODE)


def fts_match(text: str) -> str | None:
    """An FTS5 MATCH expression for user text: every token quoted (AND of all), `"a phrase"` kept
    as a phrase, a trailing `*` as a prefix query. None when the text holds nothing searchable."""
    parts: list[str] = []
    # FTS5 ends a quoted string at NUL ("unterminated string"), so NUL separates words instead.
    for m in _TOKEN_RE.finditer(text.replace("\x00", " ")):
        phrase, word = m.group(1), m.group(2)
        if phrase is not None:
            if _WORD_RE.search(phrase):
                parts.append('"' + phrase.replace('"', '""') + '"')
            continue
        prefix = word.endswith("*")
        core = word.rstrip("*")
        if not _WORD_RE.search(core):
            continue
        quoted = '"' + core.replace('"', '""') + '"'
        parts.append(quoted + ("*" if prefix else ""))
    return " ".join(parts) if parts else None


ID_COLUMNS = ("user_id", "session_id", "trace_id")


def ids_match(column: str, value: str) -> str | None:
    """A MATCH on logs_ids finding every row whose `column` equals value (and maybe a few more: the
    caller checks equality), or None when the value holds nothing the tokenizer indexes."""
    if not _WORD_RE.search(value):
        return None
    # The value as one phrase, tokenized like the stored column; NUL would end the quoted string.
    return f'{column} : "' + value.replace("\x00", " ").replace('"', '""') + '"'


def _ids_terms(query: LogQuery, a: str) -> tuple[list[str], list[object], bool]:
    """Terms for the user/session/trace id filters (on alias prefix `a`): the id postings'
    candidates, then equality; and whether the postings take part."""
    terms: list[str] = []
    params: list[object] = []
    matches: list[str] = []
    for column in ID_COLUMNS:
        value = getattr(query, column)
        if value is None:
            continue
        terms.append(f"{a}{column} = ?")
        params.append(value)
        match = ids_match(column, value)
        if match is not None:
            matches.append(match)
    if matches:
        terms.insert(0, f"{a}id IN (SELECT rowid FROM logs_ids WHERE logs_ids MATCH ?)")
        params.insert(0, " AND ".join(matches))
    return terms, params, bool(matches)


def _in(column: str, values: tuple[str, ...], params: list[object], *, indexed: bool = True) -> str:
    params.extend(values)
    col = column if indexed else f"+{column}"
    if len(values) == 1:
        return f"{col} = ?"
    return f"{col} IN ({', '.join('?' * len(values))})"


def _not_in(column: str, values: tuple[str, ...], params: list[object]) -> str:
    params.extend(values)
    return f"({column} IS NULL OR {column} NOT IN ({', '.join('?' * len(values))}))"


def where(project: int, query: LogQuery, *, alias: str = "l", time: bool = True) -> tuple[list[str], list[object]]:
    """WHERE terms (ANDed) and their parameters for every filter except the text search.

    Plan hints: a single level (with or without a service) may use the (project, [service,] level, ts)
    indexes, which return rows in time order; otherwise those columns are marked `+col` so SQLite
    walks (project, ts) newest-first and stops at the page size instead of sorting every match.
    """
    a = alias + "."
    id_terms, id_params, by_ids = _ids_terms(query, a)
    # With id postings the candidates drive the plan (then a sort); `+project` keeps SQLite from
    # walking the (project, ...) indexes in time order and testing every row against them.
    params: list[object] = [project]
    terms = [f"+{a}project = ?" if by_ids else f"{a}project = ?"]
    single_level = len(query.levels) == 1 and not by_ids
    if query.levels:
        terms.append(_in(a + "level", query.levels, params, indexed=single_level))
    if query.types:
        terms.append(_in(a + "type", query.types, params, indexed=False))
    if query.service is not None:
        terms.append(_in(a + "service", (query.service,), params, indexed=single_level))
    for column, value in (("environment", query.environment), ("device_type", query.device_type)):
        if value is not None:
            terms.append(_in(a + column, (value,), params, indexed=False))
    terms += id_terms
    params += id_params
    for column, values in (("level", query.not_levels), ("type", query.not_types),
                           ("service", query.not_services), ("environment", query.not_environments),
                           ("device_type", query.not_device_types)):
        if values:
            terms.append(_not_in(a + column, values, params))
    if time and query.from_ms is not None:
        terms.append(f"{a}ts >= ?")
        params.append(query.from_ms)
    if time and query.to_ms is not None:
        terms.append(f"{a}ts <= ?")
        params.append(query.to_ms)
    return terms, params


# -- cursors -------------------------------------------------------------------------------
# Time-ordered pages resume after (ts, id); text-search pages (arrival order) after id.
_CURSOR_VALUES = {"t": 2, "r": 1}
INT64_MAX = (1 << 63) - 1
def encode_cursor(kind: str, *values: int) -> str:
    raw = kind + ":" + ":".join(str(v) for v in values)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[int, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        got_kind, *values = raw.split(":")
        if got_kind != kind or len(values) != _CURSOR_VALUES[kind]:  # callers unpack exactly these
            raise ValueError(raw)
        numbers = tuple(int(v) for v in values)
        if any(abs(n) > INT64_MAX for n in numbers):  # SQLite refuses to bind them
            raise ValueError(raw)
        return numbers
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("is not a cursor from this query; start again without it", field="cursor") from exc


def page_sql(project: int, query: LogQuery, *, limit: int, offset: int,
             cursor: str | None) -> tuple[str, list[object], str]:
    """The SELECT for one page, its parameters, and the cursor kind ('t' by time, 'r' by arrival)."""
    terms, params = where(project, query)
    match = fts_match(query.q) if query.q else None
    if match is None:
        if cursor:
            ts, rowid = decode_cursor(cursor, "t")
            terms.append("l.ts <= ? AND (l.ts < ? OR l.id < ?)")
            params.extend([ts, ts, rowid])
        sql = (f"SELECT {L_COLUMNS} FROM logs l WHERE {' AND '.join(terms)} "
               "ORDER BY l.ts DESC, l.id DESC LIMIT ? OFFSET ?")
        return sql, [*params, limit, offset], "t"
    if cursor:
        (rowid,) = decode_cursor(cursor, "r")
        terms.append("f.rowid < ?")
        params.append(rowid)
    # CROSS JOIN keeps the FTS index as the outer loop, walked by rowid descending (newest first).
    sql = (f"SELECT {L_COLUMNS} FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid "
           f"WHERE logs_fts MATCH ? AND {' AND '.join(terms)} ORDER BY f.rowid DESC LIMIT ? OFFSET ?")
    return sql, [match, *params, limit, offset], "r"


def count_sql(project: int, query: LogQuery, *, cap: int) -> tuple[str, list[object]]:
    """COUNT of matching rows, stopping at cap + 1 (the caller reports `total_exact`)."""
    terms, params = where(project, query)
    match = fts_match(query.q) if query.q else None
    if match is None:
        inner = f"SELECT 1 FROM logs l WHERE {' AND '.join(terms)} LIMIT ?"
        return f"SELECT count(*) FROM ({inner})", [*params, cap + 1]
    inner = (f"SELECT 1 FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid "
             f"WHERE logs_fts MATCH ? AND {' AND '.join(terms)} LIMIT ?")
    return f"SELECT count(*) FROM ({inner})", [match, *params, cap + 1]
