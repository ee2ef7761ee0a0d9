"""SQLite connections: one writer thread with group commit, a small pool of read-only readers.

Writes are functions `fn(conn, *args)` run on the single writer connection. The writer takes
everything queued (up to `batch_events` of weight), runs each function inside a SAVEPOINT of one
`BEGIN IMMEDIATE` transaction, commits once, and only then resolves the callers' futures: an awaited
write is durable (WAL, synchronous=NORMAL survives a process crash). One failing function rolls back
to its savepoint and fails alone. Reads are functions run on a reader thread with its own
`query_only` connection; WAL lets them run beside the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from scrywatch.errors import Conflict, Unavailable
from scrywatch.storage.sqlite.checkpointer import Checkpointer
from scrywatch.storage.sqlite.metacodec import MetaCodec, install
from scrywatch.storage.sqlite.rollups import HourCache

logger = logging.getLogger(__name__)

T = TypeVar("T")
WAL_BACKSTOP_FRAMES = 4096  # 16 MiB of 4 KiB pages (see checkpointer)
JOURNAL_SIZE_LIMIT = 16 * 2**20  # bytes: SQLite cuts the WAL file back to this when it starts over
BUSY_TIMEOUT_MS = 10_000
_STOP = object()
_WAKE = object()  # queued by the checkpoint thread: an idle writer looks at its idle work again

WRITER_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA cache_size=-32768",
    "PRAGMA temp_store=MEMORY",
    # After a checkpoint resets the WAL, cut its file back (it would otherwise keep its peak size).
    f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}",
    # Checkpoints run on their own thread (checkpointer.py), not inside whichever commit happens to
    # cross the threshold.
    "PRAGMA wal_autocheckpoint=0",
)
CHECKPOINT_PRAGMAS = (f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}", "PRAGMA cache_size=-1024")
READER_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA cache_size=-8192",  # 8 MiB per reader: three of them must fit the 250 MB RSS budget
    "PRAGMA temp_store=MEMORY",
    "PRAGMA query_only=1",
)


class Connection(sqlite3.Connection):
    """A connection that knows its file's metadata dictionaries (see metacodec) and shares the
    closed-hours rollup cache of its Database."""

    codec: MetaCodec
    rollup_cache: HourCache


def connect(path: Path, *, pragmas: tuple[str, ...] = WRITER_PRAGMAS, codec: MetaCodec | None = None,
            rollup_cache: HourCache | None = None) -> Connection:
    """Open a connection in autocommit mode (we issue BEGIN/COMMIT ourselves)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, factory=Connection)
    for pragma in pragmas:
        conn.execute(pragma)
    conn.rollup_cache = rollup_cache if rollup_cache is not None else HourCache()
    conn.codec = codec if codec is not None else MetaCodec(path)
    conn.codec.load(conn)
    install(conn, conn.codec)
    return conn


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors that mean something to a user into ScryErrors; the rest are bugs."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise Conflict("already exists") from exc
        raise
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text or "disk" in text or "full" in text:
            raise Unavailable("storage is busy, try again", retry_after_s=1) from exc
        raise


class _Op:
    __slots__ = ("fn", "args", "weight", "future", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], weight: int,
                 future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.args = args
        self.weight = weight
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


def mergeable(merged: Callable[[sqlite3.Connection, list[tuple[Any, ...]]], list[Any]]) -> Callable[[T], T]:
    """Mark a write function whose consecutive calls in one transaction may run as one call:
    `merged(conn, [args, ...])` returns each call's result, in order."""

    def mark(fn: T) -> T:
        fn.merged = merged  # type: ignore[attr-defined]
        return fn

    return mark


def _mergeable_runs(ops: list[_Op]) -> list[list[_Op]]:
    """ops split into runs of consecutive calls of the same mergeable function (others alone)."""
    runs: list[list[_Op]] = []
    for op in ops:
        if runs and op.fn is runs[-1][0].fn and hasattr(op.fn, "merged"):
            runs[-1].append(op)
        else:
            runs.append([op])
    return runs


class Database:
    """The writer thread and the reader pool for one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        readers: int = 3,
        batch_events: int = 2000,
        queue_max_events: int = 50_000,
        wal_backstop_frames: int = WAL_BACKSTOP_FRAMES,
    ) -> None:
        self.path = path
        self.codec = MetaCodec(path)  # shared by the writer and the readers of this file
        self.rollup_cache = HourCache()
        self._readers = readers
        self._batch_events = batch_events
        self.queue_max_events = queue_max_events
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._queued_weight = 0  # touched on the event loop thread only
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self.commits = 0
        self.checkpointer = Checkpointer(lambda: connect(self.path, pragmas=CHECKPOINT_PRAGMAS, codec=self.codec),
                                         backstop_frames=wal_backstop_frames,
                                         wake_writer=lambda: self._queue.put(_WAKE),
                                         wal_path=path.with_name(path.name + "-wal"),
                                         truncate_above_bytes=JOURNAL_SIZE_LIMIT)
        # Run by the writer after a transaction's ops, before COMMIT (e.g. indexing the rows added).
        self.before_commit: list[Callable[[sqlite3.Connection], object]] = []
        # Run by the writer, one step at a time, when no write is waiting (e.g. merging index
        # segments): each step is a short transaction of its own and returns True if it did
        # something and may have more to do. Steps start again after the next commit.
        self.idle_work: list[Callable[[sqlite3.Connection], bool]] = []
        self._idle_due = False

    # -- lifecycle -------------------------------------------------------------------------
    def open_sync(self) -> sqlite3.Connection:
        """Create the file and return the writer connection (used by migrations before start)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._writer is None:
            self._writer = connect(self.path, codec=self.codec)
        return self._writer

    async def start(self) -> None:
        """Start the writer thread and the reader pool on the running loop."""
        self.codec.load(self.open_sync())  # after migrations, which may have created meta_dicts
        self._loop = asyncio.get_running_loop()
        self.checkpointer.start()
        self._thread = threading.Thread(target=self._write_loop, name="sw-writer", daemon=True)
        self._thread.start()
        self._pool = ThreadPoolExecutor(max_workers=self._readers, thread_name_prefix="sw-reader")

    async def close(self) -> None:
        """Drain queued writes, stop the writer, close every connection."""
        if self._thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        await asyncio.to_thread(self.checkpointer.stop)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._reader_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()
        if self._writer is not None:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA optimize")
            self._writer.close()
            self._writer = None

    # -- writes ----------------------------------------------------------------------------
    @property
    def queued_events(self) -> int:
        return self._queued_weight

    def has_room(self, weight: int) -> bool:
        """True when `weight` more events fit under the write queue's bound."""
        return self._queued_weight + weight <= self.queue_max_events

    def require_room(self, weight: int) -> None:
        """Unavailable (retry in 1 s) unless `weight` more events fit under the write queue's bound."""
        if not self.has_room(weight):
            raise Unavailable("ingest queue is full, retry shortly", retry_after_s=1)

    async def write(self, fn: Callable[..., T], *args: Any, weight: int = 1, bounded: bool = False) -> T:
        """Run fn(conn, *args) in the next group-commit transaction; return once committed.

        With `bounded`, refuse (Unavailable, retry in 1 s) instead of queueing past the bound.
        """
        if self._loop is None:
            raise RuntimeError("database not started")
        if bounded:
            self.require_room(weight)
        future: asyncio.Future[T] = self._loop.create_future()
        self._queued_weight += weight
        self._queue.put(_Op(fn, args, weight, future))
        return await future

    def _write_loop(self) -> None:
        conn = self._writer
        assert conn is not None
        stopping = False
        while not stopping:
            first = self._next_op(conn)
            if first is _STOP:
                break
            ops: list[_Op] = [first]
            weight = first.weight
            while weight < self._batch_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                if nxt is _WAKE:
                    continue
                ops.append(nxt)
                weight += nxt.weight
            self._run_transaction(conn, ops)
            self._resolve(ops)
            self._idle_due = True
            self.checkpointer.committed(conn)
            if self.codec.wants_training():
                self._train_codec(conn)

    def _next_op(self, conn: sqlite3.Connection) -> Any:
        """The next queued op; while none is waiting, the idle work, one short step at a time."""
        while True:
            try:
                op = self._queue.get_nowait()
            except queue.Empty:
                if self._idle_step(conn):
                    continue
                op = self._queue.get()
            if op is not _WAKE:
                return op

    def _idle_step(self, conn: sqlite3.Connection) -> bool:
        """One step of idle work; False once there is none left until the next commit."""
        if self.checkpointer.idle(conn):
            return True
        if self._idle_due:
            for work in self.idle_work:
                try:
                    if work(conn):
                        return True
                except sqlite3.Error as exc:
                    logger.warning("idle work %s failed: %s", getattr(work, "__name__", work), exc)
            self._idle_due = False
        return False

    def _train_codec(self, conn: sqlite3.Connection) -> None:
        """Train the metadata dictionary in a transaction of its own; use it once that has committed."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            trained = self.codec.train(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            logger.warning("could not train the metadata dictionary: %s", exc)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return
        if trained is not None:
            self.codec.adopt(trained)

    def _run_transaction(self, conn: sqlite3.Connection, ops: list[_Op]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for op in ops:
                op.error = Unavailable("storage is busy, try again", retry_after_s=1)
            logger.warning("could not begin a write transaction: %s", exc)
            return
        for group in _mergeable_runs(ops):
            if len(group) > 1 and self._run_merged(conn, group):
                continue
            for op in group:
                conn.execute("SAVEPOINT op")
                try:
                    with translate_errors():
                        op.result = op.fn(conn, *op.args)
                    conn.execute("RELEASE op")
                except BaseException as exc:  # the op fails alone; the transaction goes on
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    op.error = exc
        if self.before_commit and any(op.error is None for op in ops):
            try:
                with translate_errors():
                    for hook in self.before_commit:
                        hook(conn)
            except Exception as exc:
                logger.error("before-commit work failed, rolling back: %s", exc)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                for op in ops:
                    if op.error is None:
                        op.error = Unavailable("storage could not commit, try again", retry_after_s=1)
                return
        try:
            conn.execute("COMMIT")
            self.commits += 1
        except sqlite3.Error as exc:
            logger.error("commit failed: %s", exc)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            for op in ops:
                if op.error is None:
                    op.error = Unavailable("storage could not commit, try again", retry_after_s=1)

    @staticmethod
    def _run_merged(conn: sqlite3.Connection, group: list[_Op]) -> bool:
        """Run consecutive ops of one mergeable function as a single call (fewer statements, so
        fewer GIL hand-offs on this thread); False, with nothing kept, if it fails (then each op
        runs alone and fails alone)."""
        conn.execute("SAVEPOINT ops")
        try:
            with translate_errors():
                results = group[0].fn.merged(conn, [op.args for op in group])  # type: ignore[attr-defined]
            conn.execute("RELEASE ops")
        except Exception:
            conn.execute("ROLLBACK TO ops")
            conn.execute("RELEASE ops")
            return False
        for op, result in zip(group, results, strict=True):
            op.result = result
        return True

    def _resolve(self, ops: list[_Op]) -> None:
        loop = self._loop
        assert loop is not None

        def settle() -> None:
            for op in ops:
                self._queued_weight -= op.weight
                if op.future.done():
                    continue
                if op.error is not None:
                    op.future.set_exception(op.error)
                else:
                    op.future.set_result(op.result)

        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # loop closed during shutdown: nobody is waiting any more
            pass

    # -- reads -----------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, pragmas=READER_PRAGMAS, codec=self.codec, rollup_cache=self.rollup_cache)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return conn

    def _run_read(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._reader()
        with translate_errors():
            # One snapshot per read: a page and its total, or a rollup and the events it is
            # combined with, must not straddle a commit.
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(conn, *args) on a read-only connection in the reader pool."""
        if self._pool is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run_read, fn, args)
