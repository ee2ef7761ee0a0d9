"""Process-wide settings for `scrywatch serve` (not for tests or the library): malloc, the garbage
collector and the GIL switch interval.

Measured with `scrywatch bench` (overload, 1M prefill, queries) on the 2-CPU machine kind: with
glibc's defaults the server's RSS rose from ~135 to 235-254 MB and stayed there, against the
250 MB budget; with these settings it peaked at ~220 MB and fell back to ~160 MB after overload.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

# glibc mallopt() parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2
MMAP_THRESHOLD_BYTES = 128 * 1024
SWITCH_INTERVAL_S = 0.001


def tune_malloc() -> bool:
    """glibc only; True if applied. Two arenas instead of one per thread (writer, readers,
    checkpoint: each arena kept its own freed memory), and a fixed mmap threshold: glibc otherwise
    raises it after freeing one large block, and every later request body (up to 5 MiB) came from
    the heap, which fragments and is not returned to the system."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, MALLOC_ARENAS)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def before_serving() -> None:
    """Once the app is built, just before the server starts."""
    # The writer thread gives up the GIL around every SQLite call and must take it back from the
    # event loop; at Python's default 5 ms switch interval it waited that long behind a busy loop
    # (parsing a batch of 1,000 events, fanning out to live-tail subscribers). At 1 ms, measured with
    # `scrywatch bench`: ingest 16.5k -> 25.5k events/s in batches of 50, 23k -> 32k in batches of 1,000.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Modules, routes and configuration live as long as the process. Frozen, the collector no
    longer walks them in every full collection (~45,000 objects, 20-50 ms per pass measured)."""
    gc.collect()
    gc.freeze()
