"""The days a batch of telemetry falls on: the partitions it needs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from devices.records import Position, Reading
from kernel.clock import to_epoch_us
from stream.repository import days_of


def _us(text: str) -> int:
    return to_epoch_us(datetime.fromisoformat(text).replace(tzinfo=UTC))


def test_rows_either_side_of_midnight_utc_need_both_days() -> None:
    rows = [
        Reading("eq-1", _us("2026-11-26 23:59:59.999999")),
        Reading("eq-2", _us("2026-11-27 00:00:00")),
        Reading("eq-1", _us("2026-11-27 12:00:00")),
    ]
    assert days_of(rows) == {date(2026, 11, 26), date(2026, 11, 27)}


def test_positions_and_the_first_day_of_the_epoch() -> None:
    assert days_of([Position("veh-1", 0, 55.7, 37.6)]) == {date(1970, 1, 1)}
    assert days_of([]) == set()
