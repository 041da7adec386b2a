"""A token-bucket rate limiter keyed by client (API token, IP address).

Each key has a bucket of `burst` tokens refilled at `rate_per_s`; a request takes one.
Buckets live in a bounded LRU map: a flood of distinct keys evicts the least recently
seen ones (which start full again) instead of growing memory without limit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_MAX_KEYS = 100_000


@dataclass
class TokenBucketLimiter:
    rate_per_s: float
    burst: float
    max_keys: int = DEFAULT_MAX_KEYS
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")

    def take(self, key: str) -> float:
        """0.0 if a token was taken for `key`; otherwise the seconds until one is available."""
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate_per_s)
        wait_s = 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s
        self._buckets[key] = (tokens - 1 if wait_s == 0 else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait_s

    def __len__(self) -> int:
        return len(self._buckets)
