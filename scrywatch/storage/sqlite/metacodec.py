"""Event metadata compressed with a zstd dictionary trained on the database's own metadata.

Metadata is most of an event's bytes and repeats its keys and many values from event to event, but
one small JSON object alone does not compress. A dictionary trained on a few thousand recent
objects takes the bench's ~200-byte metadata to ~60 bytes for ~2 µs per event.

- Until a dictionary exists, metadata is stored as TEXT in `logs.metadata`. Once enough rows are
  stored (TRAIN_AFTER_ROWS), the writer trains one from the newest rows and stores it in
  `meta_dicts` in a transaction of its own; once that has committed, new rows keep `metadata` NULL
  and hold `meta_z` = one byte of dictionary id + a magicless zstd frame. Rows stored before stay
  as they are; a value that would not shrink stays TEXT.
- Reads call the SQL function `sw_meta(meta_z)` (registered on every connection by `connect`), so
  every query that selects `logsql.COLUMNS` gets plain JSON text back.
- Compression runs where rows are built (the event loop for ingest, the writer thread for other
  paths); zstd contexts are not thread-safe, so each thread has its own compressor and decompressors.
  Another process's dictionary (a newer one trained by the server while a CLI job runs) is loaded
  from the file on first sight.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import zstandard as zstd

DICT_BYTES = 8192
TRAIN_SAMPLE = 5000
TRAIN_AFTER_ROWS = 5000  # rows with metadata before the first training (and between failed attempts)
MIN_COMPRESS_BYTES = 24  # shorter JSON only grows in a frame
LEVEL = 3
_FORMAT = zstd.FORMAT_ZSTD1_MAGICLESS


class MetaCodec:
    """The dictionaries of one database file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._dicts: dict[int, zstd.ZstdCompressionDict] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._loaded = False
        self._current: int | None = None
        self._plain_since_attempt = 0

    # -- loading ----------------------------------------------------------------------------
    def load(self, conn: sqlite3.Connection) -> None:
        """Read the stored dictionaries (idempotent; cheap when already loaded)."""
        if self._loaded:
            return
        try:
            rows = conn.execute("SELECT id, dict FROM meta_dicts ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return
        with self._lock:
            for dict_id, data in rows:
                self._dicts.setdefault(dict_id, zstd.ZstdCompressionDict(data))
            if rows:
                self._current = rows[-1][0]
            self._loaded = True

    def _compressor(self, dict_id: int) -> zstd.ZstdCompressor:
        """This thread's compressor for a dictionary."""
        cache: dict[int, zstd.ZstdCompressor] = self._local.__dict__.setdefault("enc", {})
        found = cache.get(dict_id)
        if found is None:
            params = zstd.ZstdCompressionParameters.from_level(LEVEL, format=_FORMAT, write_content_size=True,
                                                               write_checksum=False, write_dict_id=False)
            found = cache[dict_id] = zstd.ZstdCompressor(dict_data=self._dicts[dict_id], compression_params=params)
        return found

    # -- writing (any thread) ------------------------------------------------------------
    def encode(self, raw: bytes | None) -> tuple[str | None, bytes | None]:
        """(metadata, meta_z) column values for compact JSON `raw`."""
        if raw is None:
            return None, None
        current = self._current
        if current is None or len(raw) < MIN_COMPRESS_BYTES:
            self._plain_since_attempt += 1
            return raw.decode(), None
        packed = bytes((current,)) + self._compressor(current).compress(raw)
        if len(packed) >= len(raw):
            return raw.decode(), None
        return None, packed

    def wants_training(self) -> bool:
        return self._current is None and self._plain_since_attempt >= TRAIN_AFTER_ROWS

    def train(self, conn: sqlite3.Connection) -> tuple[int, bytes] | None:
        """Train a dictionary from the newest metadata and store it (inside the caller's transaction).
        Call adopt() with the result only once that transaction has committed."""
        self._plain_since_attempt = 0
        samples = [row[0].encode() for row in conn.execute(
            "SELECT metadata FROM logs WHERE metadata IS NOT NULL ORDER BY id DESC LIMIT ?", (TRAIN_SAMPLE,))]
        if len(samples) < TRAIN_AFTER_ROWS // 2:
            return None
        try:
            data = zstd.train_dictionary(DICT_BYTES, samples, level=LEVEL).as_bytes()
        except zstd.ZstdError:  # too few or too uniform samples: try again after more rows
            return None
        dict_id = conn.execute("INSERT INTO meta_dicts(created_at, dict) VALUES (CAST(strftime('%s') AS INTEGER)"
                               " * 1000, ?) RETURNING id", (data,)).fetchone()[0]
        return (dict_id, data) if dict_id <= 255 else None  # the id is one byte; past that, TEXT stays

    def adopt(self, trained: tuple[int, bytes]) -> None:
        dict_id, data = trained
        with self._lock:
            self._dicts[dict_id] = zstd.ZstdCompressionDict(data)
            self._current = dict_id

    # -- reading (any thread) ----------------------------------------------------------------
    def decode(self, packed: bytes | None) -> str | None:
        if packed is None:
            return None
        dict_id = packed[0]
        cache: dict[int, zstd.ZstdDecompressor] = self._local.__dict__.setdefault("dec", {})
        dec = cache.get(dict_id)
        if dec is None:
            compression_dict = self._dicts.get(dict_id) or self._load_one(dict_id)
            dec = cache[dict_id] = zstd.ZstdDecompressor(dict_data=compression_dict, format=_FORMAT)
        return dec.decompress(packed[1:]).decode()

    def _load_one(self, dict_id: int) -> zstd.ZstdCompressionDict:
        """A dictionary stored by another process since this one loaded (read on its own connection)."""
        if self.path is None:
            raise LookupError(f"metadata dictionary {dict_id} is not loaded")
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT dict FROM meta_dicts WHERE id = ?", (dict_id,)).fetchone()
        finally:
            conn.close()
        if row is None:
            raise LookupError(f"metadata dictionary {dict_id} is missing")
        with self._lock:
            return self._dicts.setdefault(dict_id, zstd.ZstdCompressionDict(row[0]))


def install(conn: sqlite3.Connection, codec: MetaCodec) -> None:
    """Register `sw_meta(meta_z)` on a connection."""
    conn.create_function("sw_meta", 1, codec.decode, deterministic=True)
