"""The file format on its own: round trips, index, newest-first order, prefilters, atomic writes."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrywatch import archive
from scrywatch.models.logs import LogEvent, LogQuery
from scrywatch.services.coldsearch import scan_filter
from scrywatch.services.tailfilter import compile_filter

HOUR = archive.HOUR_MS
H0 = 1_760_054_400_000

texts = st.text(max_size=40)
opt = st.none() | st.text(min_size=1, max_size=10)
metadata = st.none() | st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1) | texts, max_size=3)


@st.composite
def events(draw: st.DrawFn) -> list[tuple[int, LogEvent]]:
    n = draw(st.integers(1, 40))
    out = []
    for row in range(1, n + 1):
        meta = draw(metadata)
        out.append((row, LogEvent(
            id=draw(st.text(min_size=1, max_size=30)), timestamp=H0 + draw(st.integers(0, HOUR - 1)),
            level=draw(st.sampled_from(["error", "warn", "info", "debug"])), type="custom", message=draw(texts),
            service=draw(opt), environment=draw(opt), user_id=draw(opt), session_id=draw(opt), device_type=draw(opt),
            trace_id=draw(opt), span_id=draw(opt), metadata=msgspec.Raw(msgspec.json.encode(meta)),
            received_at=draw(st.integers(0, 2**62)))))
    return sorted(out, key=lambda re: (re[1].timestamp, re[0]), reverse=True)


def plain(e: LogEvent) -> dict[str, object]:
    d = msgspec.structs.asdict(msgspec.convert(e, LogEvent, from_attributes=True))
    d["metadata"] = msgspec.json.decode(d["metadata"])
    return d


@given(events())
def test_round_trip_and_index(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[int, LogEvent]]) -> None:
    path = archive.segment_path(tmp_path_factory.mktemp("a"), "org", "proj", H0, 0)
    index = archive.write_segment(path, rows, project_id="p1", hour=H0, segment=0)
    back = list(archive.scan(path, archive.ScanFilter(match=lambda e: True)))
    assert [(e.row, plain(e)) for e in back] == [(r, plain(e)) for r, e in rows]
    assert index == archive.read_index(path)
    assert index.events == len(rows) and sum(g[-1] for g in index.groups) == len(rows)
    assert (index.min_ts, index.max_ts) == (rows[-1][1].timestamp, rows[0][1].timestamp)
    assert index.services == {k: v for k, v in _count(e.service or "" for _, e in rows).items()}


def _count(values: object) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:  # type: ignore[attr-defined]
        out[v] = out.get(v, 0) + 1
    return out


queries = st.builds(LogQuery, levels=st.lists(st.sampled_from(["error", "info"]), max_size=2, unique=True).map(tuple),
                    service=st.none() | st.sampled_from(["a", "b"]), q=st.none() | st.sampled_from(["x", "é", "a*"]),
                    not_services=st.lists(st.sampled_from(["a", "b"]), max_size=1).map(tuple))


@given(events(), queries)
def test_prefiltered_scan_equals_plain_filter(tmp_path_factory: pytest.TempPathFactory,
                                              rows: list[tuple[int, LogEvent]], query: LogQuery) -> None:
    path = archive.segment_path(tmp_path_factory.mktemp("a"), "org", "proj", H0, 0)
    archive.write_segment(path, rows, project_id="p1", hour=H0, segment=0)
    filt = scan_filter(query)
    got = [e.row for e in archive.scan(path, filt)] if filt else []
    match = compile_filter(query, text="fulltext")
    assert got == [r for r, e in rows if match(e)]


def test_layout_and_late_segments(tmp_path: Path) -> None:
    p0 = archive.segment_path(tmp_path, "acme", "web", H0 + 13 * HOUR, 0)
    p2 = archive.segment_path(tmp_path, "acme", "web", H0 + 13 * HOUR, 2)
    assert p0.relative_to(tmp_path).as_posix() == "acme/web/2025-10-10/13.ndjson.zst"
    assert p2.name == "13.2.ndjson.zst" and archive.index_path(p2).name == "13.2.index.json"


def test_events_must_come_newest_first(tmp_path: Path) -> None:
    e = LogEvent(id="a", timestamp=H0, level="info", type="custom", message="m")
    path = archive.segment_path(tmp_path, "o", "p", H0, 0)
    with pytest.raises(ValueError), archive.SegmentWriter(path, "p1", H0, 0) as w:
        w.add([(1, e), (2, e)])
    assert not path.exists() and not list(path.parent.glob(".*"))  # aborted: nothing left behind


def test_an_unfinished_writer_leaves_only_a_temp_file_that_sweep_removes(tmp_path: Path) -> None:
    e = LogEvent(id="a", timestamp=H0, level="info", type="custom", message="m")
    path = archive.segment_path(tmp_path, "o", "p", H0, 0)
    w = archive.SegmentWriter(path, "p1", H0, 0)
    w.add([(1, e)])  # ... and the process dies here
    assert not path.exists() and len(list(path.parent.glob(".*.tmp"))) == 1
    assert archive.sweep_temp(tmp_path) == 1 and not list(path.parent.iterdir())
    w.abort()


def test_a_foreign_project_directory_is_replaced(tmp_path: Path) -> None:
    old = archive.prepare_project_dir(tmp_path, "o", "web", "01OLD")
    (old / "2025-10-10").mkdir()
    assert archive.prepare_project_dir(tmp_path, "o", "web", "01OLD") == old and (old / "2025-10-10").exists()
    new = archive.prepare_project_dir(tmp_path, "o", "web", "01NEW")
    assert not (new / "2025-10-10").exists() and archive.project_id_of(tmp_path, "o", "web") == "01NEW"
