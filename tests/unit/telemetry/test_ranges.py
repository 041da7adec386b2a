"""Time ranges of the read API: defaults, order, and limits that name themselves."""

from datetime import UTC, datetime, timedelta

import pytest

from devices.telemetry.service import RangeTooLarge, time_range
from kernel.errors import Invalid

T = datetime(2025, 11, 25, tzinfo=UTC)


def test_the_default_is_the_last_24_hours_before_to() -> None:
    span = time_range(lo=None, hi=T, limit=timedelta(days=7), what="x")
    assert (span.lo, span.hi) == (T - timedelta(hours=24), T)


def test_naive_times_are_utc() -> None:
    span = time_range(lo=T.replace(tzinfo=None), hi=None, limit=timedelta(days=10_000), what="x")
    assert span.lo == T


def test_from_must_come_before_to() -> None:
    with pytest.raises(Invalid):
        time_range(lo=T, hi=T, limit=timedelta(days=7), what="x")


def test_a_range_over_the_limit_says_both_spans() -> None:
    with pytest.raises(
        RangeTooLarge, match="the range is 36 hours; a track may span at most 1 day"
    ):
        time_range(lo=T, hi=T + timedelta(hours=36), limit=timedelta(days=1), what="a track")
