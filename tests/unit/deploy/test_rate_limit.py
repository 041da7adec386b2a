"""The token bucket behind the API's rate limits."""

from __future__ import annotations

import pytest

from kernel.rate_limit import TokenBucketLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate_per_s=2.0, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("a")
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert limiter.take("a") > 0


def test_refused_requests_do_not_consume_tokens() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(rate_per_s=1.0, burst=1, clock=clock)
    limiter.take("a")
    for _ in range(100):
        limiter.take("a")  # a client hammering while limited
    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_keys_have_separate_buckets() -> None:
    limiter = TokenBucketLimiter(rate_per_s=1.0, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0
    assert limiter.take("a") > 0


def test_memory_is_bounded_by_evicting_the_least_recently_seen_key() -> None:
    limiter = TokenBucketLimiter(rate_per_s=1.0, burst=1, max_keys=100, clock=Clock())
    for index in range(10_000):
        limiter.take(f"ip-{index}")
    assert len(limiter) == 100


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBucketLimiter(rate_per_s=0, burst=1)
