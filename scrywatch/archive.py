"""The hourly archive's file format: zstd NDJSON segments with a JSON index beside each. Pure file I/O.

Layout (UTC): <root>/<org-slug>/<project-slug>/YYYY-MM-DD/HH.ndjson.zst, then HH.1.ndjson.zst, ...
for late events of an hour already written; HH[.n].index.json beside each. A `.project` file in the
project directory holds the project's id, so the directory of a deleted project whose slug is
reused is recognised as foreign. Every line is a LogEvent as the API returns it plus `_row` (its
hot-store row id), newest first by (timestamp, row): a reader streams newest-first and stops early.
Writes are atomic (temp file, fsync, rename, fsync of the directory): a crash leaves either the
whole segment or only a `.tmp` file that `sweep_temp` removes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import zstandard

from scrywatch.models.archive import SegmentTarget
from scrywatch.models.logs import LogEvent, LogQuery

HOUR_MS = 3_600_000
ZSTD_LEVEL = 3  # level 9 gains ~7 % ratio for 6x the CPU (PERFORMANCE.md)
BLOCK_BYTES = 1 << 20
MARKER = ".project"
_SEGMENT_RE = re.compile(r"^(\d{2})(?:\.(\d+))?\.ndjson\.zst$")
_enc = msgspec.json.Encoder()
Group = tuple[str, str, str | None, str | None, str | None, int]


class ArchivedEvent(LogEvent, kw_only=True):
    """An archived line: the event plus its hot-store row id (the tie-breaker of the sort order)."""

    row: int = msgspec.field(default=0, name="_row")


class SegmentIndex(msgspec.Struct, kw_only=True):
    """What a segment holds, so queries can skip it or count from it without decompressing."""

    project_id: str
    hour: int  # start of the hour, Unix ms
    segment: int
    events: int
    min_ts: int
    max_ts: int
    min_row: int
    max_row: int
    bytes: int  # compressed size of the segment file
    raw_bytes: int
    levels: dict[str, int]
    services: dict[str, int]  # "" stands for events without a service
    # Counts by (level, type, service, environment, device_type): exact counts of rollup-only queries.
    groups: list[Group]


# Writes one segment of a project: (target, hour_ms, segment number, (row, event) pairs newest first).
SegmentWrite = Callable[[SegmentTarget, int, int, list[tuple[int, LogEvent]]], SegmentIndex]

_dec = msgspec.json.Decoder(ArchivedEvent)
_index_dec = msgspec.json.Decoder(SegmentIndex)


# -- layout ------------------------------------------------------------------------------------
def project_dir(root: Path, org: str, project: str) -> Path:
    return root / org / project


def segment_path(root: Path, org: str, project: str, hour_ms: int, segment: int) -> Path:
    when = dt.datetime.fromtimestamp(hour_ms / 1000, tz=dt.UTC)
    name = f"{when:%H}.ndjson.zst" if segment == 0 else f"{when:%H}.{segment}.ndjson.zst"
    return project_dir(root, org, project) / f"{when:%Y-%m-%d}" / name


def index_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".ndjson.zst") + ".index.json")


@dataclass(frozen=True)
class SegmentFile:
    org: str
    project: str
    hour: int
    segment: int
    path: Path
    bytes: int


def list_segments(root: Path, org: str | None = None, project: str | None = None, *,
                  from_ms: int | None = None, to_ms: int | None = None) -> list[SegmentFile]:
    """Segment files on disk (all projects, or one), optionally only hours overlapping [from, to]."""
    out: list[SegmentFile] = []
    orgs = [root / org] if org else sorted(p for p in root.glob("*") if p.is_dir())
    for org_dir in orgs:
        projects = [org_dir / project] if project else sorted(p for p in org_dir.glob("*") if p.is_dir())
        for proj_dir in projects:
            for day_dir in sorted(proj_dir.glob("????-??-??")):
                try:
                    day = dt.datetime.strptime(day_dir.name, "%Y-%m-%d").replace(tzinfo=dt.UTC)
                except ValueError:
                    continue
                for f in day_dir.iterdir():
                    m = _SEGMENT_RE.match(f.name)
                    if not m:
                        continue
                    hour = int(day.timestamp() * 1000) + int(m.group(1)) * HOUR_MS
                    if (from_ms is not None and hour + HOUR_MS <= from_ms) or (to_ms is not None and hour > to_ms):
                        continue
                    size = f.stat().st_size + _size(index_path(f))
                    out.append(SegmentFile(org_dir.name, proj_dir.name, hour, int(m.group(2) or 0), f, size))
    out.sort(key=lambda s: (s.org, s.project, s.hour, s.segment))
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prepare_project_dir(root: Path, org: str, project: str, project_id: str) -> Path:
    """The project's directory, created with its marker; a foreign one (deleted project) is removed."""
    path = project_dir(root, org, project)
    marker = path / MARKER
    if marker.exists() and marker.read_text().strip() != project_id:
        shutil.rmtree(path)
    if not marker.exists():
        path.mkdir(parents=True, exist_ok=True)
        marker.write_text(project_id + "\n")
        _fsync_dir(path)
        _fsync_dir(path.parent)
    return path


def project_id_of(root: Path, org: str, project: str) -> str | None:
    try:
        return (project_dir(root, org, project) / MARKER).read_text().strip()
    except FileNotFoundError:
        return None


def remove_hour(root: Path, org: str, project: str, hour_ms: int) -> int:
    """Delete every segment (and index) of one hour; return the bytes freed."""
    freed = 0
    day_dir = segment_path(root, org, project, hour_ms, 0).parent
    for seg in list_segments(root, org, project, from_ms=hour_ms, to_ms=hour_ms):
        if seg.hour == hour_ms:
            freed += seg.bytes
            seg.path.unlink(missing_ok=True)
            index_path(seg.path).unlink(missing_ok=True)
    if day_dir.exists() and not any(day_dir.iterdir()):
        day_dir.rmdir()
    return freed


def sweep_temp(root: Path) -> int:
    """Remove temp files left by a writer that died (call only while holding the archive job lock)."""
    n = 0
    for tmp in root.glob("*/*/*/.*.tmp"):
        tmp.unlink(missing_ok=True)
        n += 1
    return n


# -- writing -----------------------------------------------------------------------------------
class SegmentWriter:
    """Streams (row, event) pairs, newest first, into a temp file; commit() publishes it atomically."""

    def __init__(self, path: Path, project_id: str, hour: int, segment: int) -> None:
        self.path, self.project_id, self.hour, self.segment = path, project_id, hour, segment
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed by commit() or abort()
        self._zst = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True).stream_writer(
            self._file, closefd=False)
        self._buf = bytearray()
        self._groups: Counter[tuple[str, str, str | None, str | None, str | None]] = Counter()
        self._n = self._raw = 0
        self._min = (1 << 62, 1 << 62)  # (ts, row) of the oldest event so far
        self._max: tuple[int, int] | None = None
        self._min_row, self._max_row = 1 << 62, 0

    def add(self, rows: Iterable[tuple[int, LogEvent]]) -> None:
        buf = self._buf
        for row, e in rows:
            key = (e.timestamp, row)
            if key > self._min:
                raise ValueError("segment events must come newest first")
            self._min = key
            if self._max is None:
                self._max = key
            line = _enc.encode(e)
            tail = b',"_row":%d}\n' % row
            buf += line[:-1]
            buf += tail
            self._n += 1
            self._raw += len(line) - 1 + len(tail)
            self._min_row, self._max_row = min(self._min_row, row), max(self._max_row, row)
            self._groups[(e.level, e.type, e.service, e.environment, e.device_type)] += 1
            if len(buf) >= BLOCK_BYTES:
                self._zst.write(buf)
                buf.clear()

    def commit(self) -> SegmentIndex:
        """Flush, fsync and rename into place (index beside it); the directory is fsynced last."""
        self._zst.write(self._buf)
        self._zst.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        levels: Counter[str] = Counter()
        services: Counter[str] = Counter()
        for (level, _t, service, _e, _d), count in self._groups.items():
            levels[level] += count
            services[service or ""] += count
        index = SegmentIndex(
            project_id=self.project_id, hour=self.hour, segment=self.segment, events=self._n,
            min_ts=self._min[0], max_ts=(self._max or self._min)[0], min_row=self._min_row,
            max_row=self._max_row, bytes=self._tmp.stat().st_size, raw_bytes=self._raw,
            levels=dict(levels), services=dict(services),
            groups=[(*k, c) for k, c in sorted(self._groups.items(), key=lambda kv: -kv[1])],
        )
        idx_tmp = self._tmp.with_suffix(".idx.tmp")
        with open(idx_tmp, "wb") as f:
            f.write(_enc.encode(index))
            f.flush()
            os.fsync(f.fileno())
        os.replace(self._tmp, self.path)
        os.replace(idx_tmp, index_path(self.path))
        _fsync_dir(self.path.parent)
        return index

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()


def write_segment(path: Path, rows: Iterable[tuple[int, LogEvent]], *, project_id: str, hour: int,
                  segment: int) -> SegmentIndex:
    """Write a whole segment atomically from (row, event) pairs given newest first."""
    with SegmentWriter(path, project_id, hour, segment) as w:
        w.add(rows)
        return w.commit()


# -- reading -----------------------------------------------------------------------------------
_index_cache: dict[Path, tuple[tuple[int, int], SegmentIndex]] = {}


def read_index(path: Path) -> SegmentIndex | None:
    """The index of a segment (cached while the file is unchanged); None if it is missing."""
    ipath = index_path(path)
    try:
        st = ipath.stat()
    except FileNotFoundError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _index_cache.get(ipath)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    index = _index_dec.decode(ipath.read_bytes())
    if len(_index_cache) > 20_000:
        _index_cache.clear()
    _index_cache[ipath] = (stamp, index)
    return index


def field_needles(query: LogQuery) -> list[list[bytes]]:
    """Byte strings an archived line must contain (one of each group) to possibly match the query.

    Valid because every line is written by our one encoder: fixed key order, no spaces.
    """
    groups = []
    if query.levels:
        groups.append([b'"level":' + _enc.encode(v) for v in query.levels])
    if query.types:
        groups.append([b'"type":' + _enc.encode(v) for v in query.types])
    for name in ("service", "environment", "device_type", "user_id", "session_id", "trace_id"):
        value = getattr(query, name)
        if value is not None:
            groups.append([b'"%s":%s' % (name.encode(), _enc.encode(value))])
    return groups


@dataclass(frozen=True)
class ScanFilter:
    """How to filter a scan: `match` decides; `require` (field needles) and `words` (lower-case
    ASCII text that must occur in an all-ASCII message) only let lines skip decoding."""

    match: Callable[[ArchivedEvent], bool]
    require: Sequence[Sequence[bytes]] = ()
    words: Sequence[bytes] = ()


def _blocks(path: Path) -> Iterator[bytes]:
    """Decompressed data in blocks of whole lines."""
    rest = b""
    with open(path, "rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as reader:
        while True:
            buf = reader.read(BLOCK_BYTES)
            if not buf:
                break
            buf = rest + buf
            cut = buf.rfind(b"\n") + 1
            rest = buf[cut:]
            if cut:
                yield buf[:cut]
    if rest:
        yield rest


def _message(line: bytes) -> bytes:
    """The message's JSON text within a line (our encoder's field order: ..., type, message, service)."""
    start = line.find(b',"message":"') + 12
    end = line.find(b'","service":', start)  # cannot occur inside the message: its quotes are escaped
    return line[start:end] if start >= 12 and end >= 0 else line


def _candidate(line: bytes, filt: ScanFilter) -> bool:
    for group in filt.require:
        if not any(n in line for n in group):
            return False
    if filt.words:
        message = _message(line)
        if message.isascii():
            lowered = message.lower()
            return all(w in lowered for w in filt.words)
    return True


def _candidate_lines(block: bytes, filt: ScanFilter) -> Iterator[bytes]:
    """The lines of a block that may match: found from the rarest needle's occurrences (a few C-speed
    searches instead of a Python test per line), then checked against the other needles."""
    anchors = [(block, list(group)) for group in filt.require]
    if filt.words and block.isascii():  # lower() keeps positions; non-ASCII text may fold to the words
        lowered = block.lower()
        anchors += [(lowered, [w]) for w in filt.words]
    if not anchors:
        yield from (line for line in block.split(b"\n") if line and _candidate(line, filt))
        return
    hay, group = min(anchors, key=lambda a: sum(a[0].count(n) for n in a[1]))
    starts: set[int] = set()
    for needle in group:
        i = hay.find(needle)
        while i >= 0:
            starts.add(block.rfind(b"\n", 0, i) + 1)
            i = hay.find(needle, i + len(needle))
    for start in sorted(starts):
        end = block.find(b"\n", start)
        line = block[start:end] if end >= 0 else block[start:]
        if _candidate(line, filt):
            yield line


class _Key(msgspec.Struct):
    timestamp: int
    row: int = msgspec.field(default=0, name="_row")


_key_dec = msgspec.json.Decoder(_Key)


def scan(path: Path, filt: ScanFilter, *, lo: int | None = None, hi: int | None = None,
         before: tuple[int, int] | None = None) -> Iterator[ArchivedEvent]:
    """Matching events of one segment, newest first, with lo <= ts <= hi and (ts, row) < before."""
    bounded = hi is not None or before is not None or lo is not None
    for block in _blocks(path):
        for line in _candidate_lines(block, filt):
            if bounded:  # the key alone is cheap to decode: skip what is out of range before the rest
                key = _key_dec.decode(line)
                if lo is not None and key.timestamp < lo:
                    return  # newest first: nothing further down is recent enough
                if (hi is not None and key.timestamp > hi) or (before is not None and (key.timestamp, key.row)
                                                               >= before):
                    continue
            e = _dec.decode(line)
            if filt.match(e):
                yield e
