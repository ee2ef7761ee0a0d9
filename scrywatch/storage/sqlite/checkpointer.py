"""WAL checkpoints on a thread of their own.

A checkpoint copies the WAL into the database file and fsyncs both; on a busy disk that took up to
~200 ms, and run by the writer between transactions it held every queued request for that long
(the tail of ingest latency). Here a separate connection checkpoints (PASSIVE: it never blocks the
writer or readers) whenever the writer reports a few commits, and the writer goes on committing.

SQLite starts the WAL over from its beginning only after a checkpoint has copied all of it, which one
running beside the writer rarely manages under steady load (the WAL grew to gigabytes). So once the
WAL holds more than `backstop_frames`, the background thread starts no new run, and the writer, as
soon as the current run is over (it never waits for it), checkpoints between two transactions
itself: the background runs have copied and synced nearly everything, so little is left to do.
That pause (10-20 ms, mostly an fsync) holds the requests queued behind it, so the writer takes it
early, at a quarter of the backstop, when no request is waiting (`idle`): frequent small pauses cost
less than rare large ones (half-load p99 27-38 ms against 46-54 ms at half the backstop). When the
WAL file has grown past the size SQLite cuts it back to (long reads held checkpoints back), the idle
pause is a TRUNCATE, which empties it at once instead of at the next write; it costs another fsync,
so only then. The backstop itself is for a writer that is never idle.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)
EVERY_COMMITS = 4
IDLE_FRACTION = 4  # the idle pause comes past backstop / IDLE_FRACTION


class Checkpointer:
    def __init__(self, open_conn: Callable[[], sqlite3.Connection], *, backstop_frames: int,
                 wake_writer: Callable[[], None] = lambda: None, wal_path: Path | None = None,
                 truncate_above_bytes: int | None = None) -> None:
        self._open = open_conn
        self.wal_path = wal_path
        # An idle pause empties a WAL file larger than this (the writer's journal_size_limit).
        self.truncate_above_bytes = truncate_above_bytes
        self._wake_writer = wake_writer  # so an idle writer sees a report that calls for its pause
        self.backstop_frames = backstop_frames
        self._wanted = threading.Event()
        self._lock = threading.Lock()  # one checkpoint at a time
        self._writer_turn = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        # From the latest checkpoint, by either thread: frames in the WAL, and those not yet copied.
        self.log_frames = 0
        self.pending_frames = 0
        self.runs = 0
        self._commits = 0  # since the background thread was last woken (writer thread)
        self._idle_tried = False  # an idle checkpoint since the last commit (writer thread)

    def start(self) -> None:
        conn = self._open()
        self._thread = threading.Thread(target=self._run, args=(conn,), name="sw-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wanted.set()
            self._thread.join()
            self._thread = None

    def committed(self, conn: sqlite3.Connection) -> None:
        """Called by the writer after each commit, once its callers have their answer: every few
        commits wake the background thread (never blocks); past the backstop, checkpoint here."""
        self._commits += 1
        self._idle_tried = False
        if self._commits >= EVERY_COMMITS:
            self._commits = 0
            self._wanted.set()
        self._writer_checkpoint(conn)

    def idle(self, conn: sqlite3.Connection) -> bool:
        """Called by the writer when no request is waiting: past a quarter of the backstop, take
        the pause now (once per commit); True if it checkpointed."""
        if self._idle_tried or not self._writer_checkpoint(conn, past=self.backstop_frames // IDLE_FRACTION):
            return False  # (with a background run going, it wakes the writer when done)
        self._idle_tried = True
        return True

    def _writer_checkpoint(self, conn: sqlite3.Connection, *, past: int | None = None) -> bool:
        """On the writer's thread, between transactions. Past the backstop (or `past` frames),
        checkpoint on its connection: it completes, and the writer's next transaction then starts
        the WAL over (a background run that completed does not do that once the writer began a
        transaction during it). Unless a background run is still going: then, past the backstop,
        the background starts no new run until the writer has had its turn. True if it ran."""
        if self.log_frames <= (self.backstop_frames if past is None else past):
            return False
        if past is None:
            self._writer_turn = True
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if past is None or not self._oversized():
                done = self._checkpoint(conn)
            else:
                done = self._truncate(conn)
            if done and self.pending_frames == 0:
                self.log_frames = 0  # the next write starts the WAL over
        finally:
            self._writer_turn = False
            self._lock.release()
        return True

    def _oversized(self) -> bool:
        try:
            return (self.wal_path is not None and self.truncate_above_bytes is not None
                    and os.path.getsize(self.wal_path) > self.truncate_above_bytes)
        except OSError:
            return False

    def _truncate(self, conn: sqlite3.Connection) -> bool:
        """When idle: a checkpoint that also empties the WAL file (after a burst held off by long
        reads it can be hundreds of MB, and SQLite cuts it back only at the next write). It does not
        wait for readers: with one in the way it does what a PASSIVE one would."""
        busy_timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout=0")
        try:
            return self._checkpoint(conn, "TRUNCATE")
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")

    def _checkpoint(self, conn: sqlite3.Connection, mode: str = "PASSIVE") -> bool:
        """True if it ran unhindered (then log_frames and pending_frames are its report)."""
        try:
            busy, log, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as exc:
            logger.warning("WAL checkpoint failed: %s", exc)
            return False
        self.runs += 1
        if busy or log < 0:
            return False
        self.log_frames, self.pending_frames = log, log - done
        return True

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                if self._writer_turn:
                    continue
                with self._lock:
                    self._checkpoint(conn)
                if self.log_frames > self.backstop_frames // IDLE_FRACTION:
                    self._wake_writer()
        finally:
            conn.close()
