"""Splitting a batch into write lanes: a device's rows stay together and in order."""

import pytest

from devices.records import Reading
from stream.persist import TelemetryWriter, by_device


def _rows(devices: int, count: int) -> list[Reading]:
    return [Reading(f"eq-{i % devices}", i) for i in range(count)]


def test_every_device_is_in_one_lane_in_its_order() -> None:
    rows = _rows(devices=25, count=1_000)
    lanes = by_device(rows, 3, 1)
    assert 1 < len(lanes) <= 3
    assert sorted((r for lane in lanes for r in lane), key=lambda r: r.ts_us) == rows
    lane_of = {r.device_id: n for n, lane in enumerate(lanes) for r in lane}
    assert all(lane_of[r.device_id] == n for n, lane in enumerate(lanes) for r in lane)
    for lane in lanes:
        for device in {r.device_id for r in lane}:
            times = [r.ts_us for r in lane if r.device_id == device]
            assert times == sorted(times)


def test_a_small_batch_or_one_lane_keeps_the_batch_whole() -> None:
    rows = _rows(devices=25, count=100)
    assert by_device(rows, 2, 51) == [rows]
    assert by_device(rows, 1, 1) == [rows]


def test_one_device_makes_one_lane() -> None:
    rows = _rows(devices=1, count=100)
    assert by_device(rows, 4, 1) == [rows]


def test_lanes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lanes must be at least 1"):
        TelemetryWriter(pool=None, lanes=0)  # type: ignore[arg-type]
