"""Time helpers: one notion of "now" and of epoch conversion for the whole platform."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_us() -> int:
    """Microseconds since the epoch."""
    return time.time_ns() // 1000


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_epoch_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def to_epoch_us(value: datetime) -> int:
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
