"""Process tuning for `scrywatch serve`, each setting shown to change what it is for."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

# Large request bodies freed while small objects allocated between them stay alive: with glibc's
# defaults the heap keeps the freed memory (RSS stays up); tuned, the bodies were mmapped and go back.
_FRAGMENT = """
import sys
from scrywatch import proctune
if sys.argv[1] == "tuned":
    assert proctune.tune_malloc()
def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) // 1024
x = bytearray(4 << 20); del x  # glibc raises its mmap threshold once a large mmapped block is freed
base = rss_mb()
bodies, kept = [], []
for _ in range(200):
    bodies.append(bytearray(300_000))
    kept.append(bytearray(2000))
bodies.clear()
print(rss_mb() - base)
"""


def _kept_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _FRAGMENT, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_malloc_gives_freed_request_bodies_back_to_the_system() -> None:
    plain, tuned = _kept_mb("plain"), _kept_mb("tuned")
    assert tuned < 10 < plain  # 60 MB of bodies freed: none kept against most of it


def test_frozen_startup_objects_are_left_out_of_collections() -> None:
    from scrywatch import proctune

    try:
        proctune.freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
