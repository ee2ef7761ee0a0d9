"""Random span trees through ingest and the sampling job: the decisions and the service map agree with
a direct computation over the same spans (true nearest-rank quantiles, no numpy)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrywatch.clock import FakeClock
from scrywatch.errors import NotFound
from scrywatch.models.traces import MapQuery, SpanRecord
from scrywatch.runtime import Runtime, build_runtime
from scrywatch.services import traces
from scrywatch.services.sampling import in_baseline
from scrywatch.services.sketch import nearest_rank
from tests.support import make_config
from tests.traces.support import T0_MS

T = TypeVar("T")
HOLD_S, SLOW_MS, BASELINE = 2, 2000, 0.3
T0_NS = T0_MS * 1_000_000
SERVICES = ("web", "api", "db", "cache")


class Engine:
    """A runtime over a temp data dir, driven from sync hypothesis tests on one event loop."""

    def __init__(self, data_dir: Path) -> None:
        self.clock = FakeClock(T0_MS)
        self.loop = asyncio.new_event_loop()
        config = make_config(data_dir, traces={"hold_seconds": HOLD_S, "slow_ms": SLOW_MS,
                                               "baseline_ratio": BASELINE})
        self.rt: Runtime = build_runtime(config, clock=self.clock)
        self.run(self.rt.store.start())
        self.projects = iter(range(1, 1_000_000))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.rt.store.close())
        self.loop.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = Engine(tmp_path)
    yield e
    e.close()


@st.composite
def span_trees(draw: st.DrawFn) -> list[SpanRecord]:
    trace_id = draw(st.binary(min_size=16, max_size=16)).hex()
    spans: list[SpanRecord] = []
    for i in range(draw(st.integers(min_value=1, max_value=10))):
        parent = spans[draw(st.integers(min_value=0, max_value=i - 1))].span_id if i else None
        start = T0_NS + draw(st.integers(min_value=0, max_value=4_000_000_000))
        duration = draw(st.one_of(st.integers(min_value=0, max_value=50_000_000),
                                  st.integers(min_value=0, max_value=3_000_000_000)))
        spans.append(SpanRecord(trace_id=trace_id, span_id=f"{i:016x}", parent_span_id=parent, name=f"op{i}",
                                service=draw(st.sampled_from(SERVICES)), start_ns=start, end_ns=start + duration,
                                error=draw(st.integers(min_value=0, max_value=11)) == 0))
    return spans


def _expected_kept(spans: list[SpanRecord]) -> bool:
    duration_ms = (max(s.end_ns for s in spans) - min(s.start_ns for s in spans)) / 1e6
    return any(s.error for s in spans) or duration_ms > SLOW_MS or in_baseline(spans[0].trace_id, BASELINE)


def _exact(values: list[float], q: float) -> float:
    return sorted(values)[nearest_rank(q, len(values)) - 1]


@given(trees=st.lists(span_trees(), min_size=1, max_size=6, unique_by=lambda t: t[0].trace_id),
       rnd=st.randoms(use_true_random=False), batches=st.integers(min_value=1, max_value=3))
def test_decisions_and_service_map_match_a_direct_computation(engine: Engine, trees: list[list[SpanRecord]],
                                                              rnd: random.Random, batches: int) -> None:
    project = next(engine.projects)
    everything = [s for tree in trees for s in tree]
    rnd.shuffle(everything)
    for i in range(batches):  # spans of one trace arrive in several requests, in any order
        engine.run(traces.store_spans(engine.rt, project, everything[i::batches]))
    engine.clock.advance(seconds=HOLD_S + 1)
    engine.run(traces.run_sampling(engine.rt))

    for tree in trees:
        try:
            detail = engine.run(traces.get_trace(engine.rt, project, tree[0].trace_id))
        except NotFound:
            detail = None
        assert (detail is not None) == _expected_kept(tree)
        if detail is not None:
            assert detail.trace.sampling == "kept" and detail.trace.span_count == len(tree)
            assert detail.trace.error_count == sum(s.error for s in tree)
            assert [v.depth for v in detail.spans][0] == 0 and len(detail.spans) == len(tree)

    smap = engine.run(traces.service_map(engine.rt, project, MapQuery(from_ms=T0_MS - 60_000,
                                                                      to_ms=T0_MS + 3_600_000)))
    durations: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    for s in everything:
        durations[s.service].append((s.end_ns - s.start_ns) / 1e6)
        errors[s.service] += s.error
    assert {m.service: (m.request_count, m.error_count) for m in smap.services} == {
        name: (len(values), errors[name]) for name, values in durations.items()}
    for m in smap.services:
        for q, got in ((0.5, m.p50_ms), (0.95, m.p95_ms), (0.99, m.p99_ms)):
            truth = _exact(durations[m.service], q)
            assert got is not None and abs(got - truth) <= 0.01 * truth, (m.service, q, got, truth)

    edges: Counter[tuple[str, str]] = Counter()
    for tree in trees:
        by_id = {s.span_id: s for s in tree}
        for s in tree:
            parent = by_id.get(s.parent_span_id or "")
            if parent is not None and parent.service != s.service:
                edges[(parent.service, s.service)] += 1
    assert {(e.source, e.target): e.count for e in smap.edges} == dict(edges)
