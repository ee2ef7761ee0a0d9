"""Whatever arrives at the span endpoints, the answer is a 2xx or a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.support import Account
from tests.traces.support import T0_MS, otlp_request, span

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ("trace_id", "span_id", "parent_span_id", "name", "service", "environment", "start_time", "end_time",
          "status", "attributes", "events", "resource", "kind", "duration_ms")


@st.composite
def mangled_spans(draw: st.DrawFn) -> dict[str, Any]:
    base = span("ab" * 16, span_id="cd" * 8, start_ms=T0_MS)
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        if draw(st.booleans()):
            base.pop(field, None)
        else:
            base[field] = draw(json_values)
    return base


@given(spans=st.lists(mangled_spans(), min_size=1, max_size=5))
def test_json_spans_get_202_or_400(account: Account, spans: list[dict[str, Any]]) -> None:
    with account.keyed() as c:
        r = c.post("/api/traces", json={"spans": spans})
    assert r.status_code in (202, 400), r.text
    body = r.json()
    if r.status_code == 202:
        assert body["inserted"] + body.get("rejected", 0) == len(spans)
    else:
        assert body["error"]["code"] == "validation_error" and body["error"]["details"]


@given(doc=st.dictionaries(st.sampled_from(["resourceSpans", "resource_spans", "x"]),
                           st.lists(st.dictionaries(st.sampled_from(["resource", "scopeSpans", "spans"]),
                                                    json_values, max_size=3), max_size=3), max_size=2))
def test_otlp_json_shapes_never_crash(account: Account, doc: dict[str, Any]) -> None:
    with account.keyed() as c:
        r = c.post("/v1/traces", json=doc)
    assert r.status_code in (200, 400), r.text


@given(cut=st.integers(min_value=0, max_value=400), flip=st.binary(min_size=1, max_size=4))
def test_truncated_or_corrupted_protobuf_never_crashes(account: Account, cut: int, flip: bytes) -> None:
    body = otlp_request([span("ab" * 16, span_id="cd" * 8, attributes={"k": "v", "n": 1})]).SerializeToString()
    mangled = body[:cut] + flip + body[cut + len(flip):]
    with account.keyed() as c:
        r = c.post("/v1/traces", content=mangled, headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code in (200, 400), r.text
