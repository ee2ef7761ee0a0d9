"""Login throttling: too many failures per email or per client address in a window -> wait."""

from __future__ import annotations

import collections
import math
import threading


class LoginThrottle:
    """Counts failed logins in a sliding window, in memory (one process serves the data dir)."""

    def __init__(self, *, max_failures: int = 10, window_ms: int = 15 * 60_000) -> None:
        self.max_failures = max_failures
        self.window_ms = window_ms
        self._failures: dict[str, collections.deque[int]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now_ms: int) -> collections.deque[int]:
        q = self._failures.setdefault(key, collections.deque())
        while q and q[0] <= now_ms - self.window_ms:
            q.popleft()
        return q

    def retry_after_s(self, keys: list[str], now_ms: int) -> int | None:
        """Seconds to wait when any key is over its limit, else None."""
        with self._lock:
            worst = 0
            for key in keys:
                q = self._prune(key, now_ms)
                if len(q) >= self.max_failures:
                    worst = max(worst, q[0] + self.window_ms - now_ms)
            return max(1, math.ceil(worst / 1000)) if worst else None

    def record_failure(self, keys: list[str], now_ms: int) -> None:
        with self._lock:
            for key in keys:
                self._prune(key, now_ms).append(now_ms)
            if len(self._failures) > 100_000:  # bound memory under a credential-stuffing flood
                for stale in [k for k, q in self._failures.items() if not q][:50_000]:
                    del self._failures[stale]

    def reset(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
