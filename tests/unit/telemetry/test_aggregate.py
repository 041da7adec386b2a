"""Folding rows into rollup buckets: any split and order of the rows gives the same sums."""

import random
from operator import attrgetter

from devices.records import Position, Reading
from stream.rollups.aggregate import (
    US_PER_HOUR,
    MetricHour,
    UnitHour,
    fold_positions,
    fold_readings,
    minute_map_text,
)

HOUR_US = 3_600_000_000
T0 = 1_764_028_800_000_000  # 2025-11-25 00:00 UTC


def test_readings_fold_into_hours_per_device_and_metric() -> None:
    rows = [
        Reading("a", T0 + 1, 10.0, True, {"t": 1.0, "p": 5.0}),
        Reading("a", T0 + HOUR_US - 1, 10.5, False, {"t": 3.0}),
        Reading("a", T0 + HOUR_US, 11.0, None, {"t": 7.0}),
        Reading("b", T0, None, True, {}),
    ]
    units, metrics = fold_readings(rows)
    assert units == [
        UnitHour("a", T0, 2, 1, 10.0, 10.5),
        UnitHour("a", T0 + HOUR_US, 1, 0, 11.0, 11.0),
        UnitHour("b", T0, 1, 1, None, None),
    ]
    assert MetricHour("a", T0, "t", 2, 4.0, 1.0, 3.0) in metrics
    assert MetricHour("a", T0, "p", 1, 5.0, 5.0, 5.0) in metrics
    assert len(metrics) == 3


def test_folding_in_pieces_and_merging_equals_folding_at_once() -> None:
    rng = random.Random(3)
    rows = [
        Reading("a", T0 + rng.randrange(3 * HOUR_US), rng.random(), None, {"t": rng.random()})
        for _ in range(200)
    ]
    whole, _ = fold_readings(rows)
    rng.shuffle(rows)
    pieces = [fold_readings(rows[i : i + 30])[0] for i in range(0, 200, 30)]
    merged: dict[int, UnitHour] = {}
    for piece in pieces:
        for unit in piece:
            seen = merged.setdefault(unit.bucket_us, UnitHour("a", unit.bucket_us))
            seen.reading_count += unit.reading_count
            seen.hours_run_min = min(
                x for x in (seen.hours_run_min, unit.hours_run_min) if x is not None
            )
            seen.hours_run_max = max(
                x for x in (seen.hours_run_max, unit.hours_run_max) if x is not None
            )
    assert sorted(merged.values(), key=lambda u: u.bucket_us) == sorted(
        whole, key=lambda u: u.bucket_us
    )


def test_fixes_fold_into_days_with_minute_maps() -> None:
    fixes = [
        Position("v", T0 + 30_000_000, 1, 1, 20.0, None, True, 100.0),
        Position("v", T0 + 90_000_000, 1, 1, 2.0, None, True, 100.4),
        Position("v", T0 + 150_000_000, 1, 1, 20.0, None, False, 101.0),
    ]
    [day] = fold_positions(fixes)
    assert (day.fix_count, day.odometer_min_km, day.odometer_max_km) == (3, 100.0, 101.0)
    assert day.moving_minutes == 0b1
    assert day.ignition_minutes == 0b11
    assert minute_map_text(day.ignition_minutes).startswith("110")
    assert len(minute_map_text(day.ignition_minutes)) == 1440


def test_the_last_minute_of_a_day_is_the_last_bit() -> None:
    [day] = fold_positions([Position("v", T0 + 86_399_000_000, 1, 1, 9.0, None, None)])
    assert minute_map_text(day.moving_minutes).endswith("01")


def _fold_oracle(rows: list[Reading]) -> tuple[list[UnitHour], list[MetricHour]]:
    """Reading by reading, every statistic updated in Python."""
    units: dict[tuple[str, int], UnitHour] = {}
    series: dict[tuple[str, int, str], list[float]] = {}
    for r in rows:
        bucket = r.ts_us - r.ts_us % US_PER_HOUR
        unit = units.setdefault((r.device_id, bucket), UnitHour(r.device_id, bucket))
        unit.reading_count += 1
        unit.running_count += r.running is True
        if r.hours_run is not None:
            low, high = unit.hours_run_min, unit.hours_run_max
            unit.hours_run_min = r.hours_run if low is None else min(low, r.hours_run)
            unit.hours_run_max = r.hours_run if high is None else max(high, r.hours_run)
        for name, value in r.metrics.items():
            series.setdefault((r.device_id, bucket, name), []).append(value)
    metrics = [
        MetricHour(d, b, n, len(v), sum(v), min(v), max(v)) for (d, b, n), v in series.items()
    ]
    return list(units.values()), metrics


def _random_readings(rng: random.Random) -> list[Reading]:
    name_sets = [("t", "p"), ("p", "t"), ("t", "v"), ("t",), (), ("t", "p", "v")]
    rows = []
    for _ in range(rng.randint(1, 400)):
        names = rng.choice(name_sets[:2] if rng.random() < 0.8 else name_sets)
        rows.append(
            Reading(
                f"eq-{rng.randint(0, 3)}",
                rng.randint(0, 3 * US_PER_HOUR),
                rng.choice([None, rng.uniform(1, 1e4)]),
                rng.choice([None, True, False]),
                {name: rng.uniform(-50, 50) for name in names},
            )
        )
    return rows


def test_folding_equals_updating_reading_by_reading() -> None:
    rng = random.Random(5)
    key = attrgetter("device_id", "bucket_us")
    metric_key = attrgetter("device_id", "bucket_us", "metric")
    for _ in range(200):
        rows = _random_readings(rng)
        units, metrics = fold_readings(rows)
        want_units, want_metrics = _fold_oracle(rows)
        assert sorted(units, key=key) == sorted(want_units, key=key)
        assert sorted(metrics, key=metric_key) == sorted(want_metrics, key=metric_key)
