"""The search syntax: examples, parse(format(q)) == q for generated queries, and only InvalidInput on bad text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scrywatch import querylang
from scrywatch.errors import InvalidInput
from scrywatch.models.logs import LEVELS, TYPES, LogQuery
from scrywatch.services.search import parse_query


def test_the_example_from_the_issue() -> None:
    q = querylang.parse('level:error service:auth-worker "connection reset" -type:navigation')
    assert q == LogQuery(levels=("error",), service="auth-worker", not_types=("navigation",),
                         q='"connection reset"')
    assert querylang.format(q) == 'level:error service:auth-worker -type:navigation "connection reset"'


def test_every_field_aliases_lists_and_exclusions() -> None:
    q = querylang.parse("env:prod user:u1 session:s1 trace:abc device:mobile level:error,WARNING "
                        "-service:a,b -env:dev -device:server -level:debug timeout -type:cron,nav")
    assert q == LogQuery(environment="prod", user_id="u1", session_id="s1", trace_id="abc", device_type="mobile",
                         levels=("error", "warn"), not_services=("a", "b"), not_environments=("dev",),
                         not_device_types=("server",), not_levels=("debug",), q="timeout",
                         not_types=("cron", "navigation"))
    assert querylang.parse("environment:prod device_type:ios user_id:u session_id:s trace_id:t lvl:err") == LogQuery(
        environment="prod", device_type="ios", user_id="u", session_id="s", trace_id="t", levels=("error",))


def test_quoted_values_and_phrases() -> None:
    q = querylang.parse(r'service:"my \"svc\", v2" "a phrase"  word  http://x.y/z')
    assert q.service == 'my "svc", v2'
    assert q.q == '"a phrase" word http://x.y/z'
    assert querylang.format(q) == r'service:"my \"svc\", v2" "a phrase" word http://x.y/z'
    assert querylang.parse('"unclosed phrase').q == '"unclosed phrase"'
    assert querylang.parse('"level:error" says').q == '"level:error" says'  # quoted: text, not a filter


@pytest.mark.parametrize(("text", "field"), [
    ("level:bogus", "level"), ("type:nope", "type"), ("level:", "level"), ("service:a,b", "service"),
    ("service:a service:b", "service"), ("-user:u1", "user"), ('env:""', "env"), ("level:error,", "level"),
    ("x" * 1001, "q"), ("trace:" + "f" * 300, "trace"),
])
def test_bad_input_names_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        querylang.parse(text)
    assert info.value.field == field


@pytest.mark.parametrize("text", ["-timeout", "error -timeout", '-"connection reset"', "-foo:bar", "-1"])
def test_text_cannot_be_excluded_and_the_message_says_how_to_search_it(text: str) -> None:
    # The full-text search ignores the `-` (it would find the word): refuse instead of doing the opposite.
    with pytest.raises(InvalidInput) as info:
        querylang.parse(text)
    assert info.value.field == "q" and "exclude" in info.value.message
    if text in ("-timeout", "-1"):
        assert f'"{text}"' in info.value.message and querylang.parse(f'"{text}"').q == f'"{text}"'


def test_a_lone_dash_and_dashes_inside_words_stay_text() -> None:
    assert querylang.parse("a - b").q == "a - b"
    assert querylang.parse("x-request-id re-try --").q == "x-request-id re-try --"


def test_text_from_elsewhere_is_made_canonical() -> None:
    # An API-style `q` of plain text keeps meaning the same text when written as search syntax.
    assert querylang.format(LogQuery(q="level:error  timeout")) == '"level:error" timeout'
    assert querylang.parse(querylang.format(LogQuery(q="level:error"))).q == '"level:error"'
    # An API `q` may hold `-word` (plain text there): written as syntax it is quoted, not refused.
    assert querylang.format(LogQuery(q="-timeout x")) == '"-timeout" x'
    assert querylang.parse('"-timeout" x').q == '"-timeout" x'


# -- properties ----------------------------------------------------------------------------
# Values that survive: any non-blank text without surrounding whitespace (format quotes when needed).
value = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda v: v.strip() == v and v != "")
values = st.lists(value, min_size=1, max_size=3, unique=True).map(tuple)
word = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12).filter(
    lambda w: not w.startswith('"') and w.strip() == w and not any(c.isspace() for c in w))
phrase = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(str.strip).map(
    querylang.quote)
free_text = st.lists(st.one_of(word, phrase), min_size=1, max_size=4).map(lambda parts: querylang.canonical_text(
    " ".join(parts))).filter(bool)


@st.composite
def queries(draw: st.DrawFn) -> LogQuery:
    maybe = lambda s: draw(st.none() | s)  # noqa: E731
    return LogQuery(
        levels=draw(st.lists(st.sampled_from(LEVELS), unique=True, max_size=4).map(tuple)),
        types=draw(st.lists(st.sampled_from(TYPES), unique=True, max_size=3).map(tuple)),
        service=maybe(value), environment=maybe(value), device_type=maybe(value), user_id=maybe(value),
        session_id=maybe(value), trace_id=maybe(value),
        not_levels=draw(st.lists(st.sampled_from(LEVELS), unique=True, max_size=2).map(tuple)),
        not_types=draw(st.lists(st.sampled_from(TYPES), unique=True, max_size=2).map(tuple)),
        not_services=draw(st.just(()) | values), not_environments=draw(st.just(()) | values),
        not_device_types=draw(st.just(()) | values), q=maybe(free_text),
    )


@given(queries())
@example(LogQuery(service='a "b" \\ c', q='"level:error" x'))
@example(LogQuery(not_services=("a,b", "-c"), q='"-level:x" ok'))
def test_format_then_parse_gives_the_query_back(query: LogQuery) -> None:
    text = querylang.format(query)
    assert querylang.parse(text) == query, text
    assert querylang.format(querylang.parse(text)) == text


@given(st.text(max_size=300))
@example('level:error,"warn" -type:"" service:"\\')
@example('-"')
@example("service:a,")
def test_parse_raises_only_invalid_input(text: str) -> None:
    try:
        query = querylang.parse(text)
    except InvalidInput as exc:
        assert exc.field
        return
    assert querylang.parse(querylang.format(query)) == query


_simple = st.from_regex(r"[a-z0-9_.-]{1,12}", fullmatch=True)


@given(st.builds(LogQuery, levels=st.lists(st.sampled_from(LEVELS), unique=True, max_size=2).map(tuple),
                 service=st.none() | _simple, not_services=st.lists(_simple, unique=True, max_size=2).map(tuple),
                 trace_id=st.none() | _simple, q=st.none() | _simple, from_ms=st.none() | st.integers(10**12, 2**44)))
def test_to_params_is_what_the_api_reads(query: LogQuery) -> None:
    assert parse_query(querylang.to_params(query)) == query


@given(queries().filter(lambda q: all("," not in v for v in (*q.not_services, *q.not_environments,
                                                                *q.not_device_types))))
def test_every_query_the_syntax_writes_means_the_same_to_the_api(query: LogQuery) -> None:
    """Search text -> LogQuery -> /logs parameters -> LogQuery: the API filters on exactly what was typed."""
    text = querylang.format(query)
    assert parse_query(querylang.to_params(querylang.parse(text))) == query, text


def test_the_issue_example_as_api_parameters() -> None:
    params = querylang.to_params(querylang.parse('level:error service:auth-worker "connection reset" '
                                                 '-type:navigation env:prod -device:server,bot'))
    assert params == {"level": "error", "service": "auth-worker", "environment": "prod",
                      "exclude_type": "navigation", "exclude_device_type": "server,bot", "q": '"connection reset"'}
