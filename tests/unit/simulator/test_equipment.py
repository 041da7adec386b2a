from __future__ import annotations

import itertools
from statistics import mean

import pytest

from devices.records import Reading
from devices.simulator.equipment import (
    CURRENT,
    PRESSURE,
    PROFILES,
    TEMPERATURE,
    VIBRATION,
    Equipment,
    EquipmentKind,
)
from devices.simulator.equipment_sim import EquipmentSim
from tests.unit.simulator.factories import T0_US, US_PER_H, US_PER_S

UTC_OFFSET_S = 9_029
ONE_DAY_S = 86_400


def _sim(kind: EquipmentKind, *, seed: int = 11, unit_id: str = "eq-0001") -> EquipmentSim:
    unit = Equipment(id=unit_id, kind=kind, model=PROFILES[kind].models[0], site_id="site-001")
    return EquipmentSim(unit, seed=seed, start_us=T0_US, utc_offset_s=UTC_OFFSET_S)


def _readings(sim: EquipmentSim, *, step_s: float, duration_s: float) -> list[Reading]:
    step_us = int(step_s * US_PER_S)
    return [sim.sample(T0_US + n * step_us) for n in range(int(duration_s / step_s) + 1)]


def _running_us(runs: list[tuple[int, int]], start_us: int, end_us: int) -> int:
    return sum(max(0, min(stop, end_us) - max(begin, start_us)) for begin, stop in runs)


def _hours(reading: Reading) -> float:
    assert reading.hours_run is not None
    return reading.hours_run


@pytest.mark.parametrize("kind", list(EquipmentKind))
def test_hours_run_advances_by_exactly_the_running_time(kind: EquipmentKind) -> None:
    sim = _sim(kind)
    readings = _readings(sim, step_s=7.0, duration_s=ONE_DAY_S)
    days = range(sim.duty.day_of(T0_US), sim.duty.day_of(readings[-1].ts_us) + 1)
    runs = [run for day in days for run in sim.duty.intervals(day)]

    for before, after in itertools.pairwise(readings):
        advanced_us = round((_hours(after) - _hours(before)) * US_PER_H)
        assert advanced_us == _running_us(runs, before.ts_us, after.ts_us)


@pytest.mark.parametrize("kind", list(EquipmentKind))
def test_hours_run_never_decreases_and_stands_still_while_stopped(kind: EquipmentKind) -> None:
    pairs = list(itertools.pairwise(_readings(_sim(kind), step_s=1.0, duration_s=6 * 3600)))

    both_stopped = [_hours(b) - _hours(a) for a, b in pairs if not (a.running or b.running)]
    both_running = [_hours(b) - _hours(a) for a, b in pairs if a.running and b.running]
    assert min(_hours(b) - _hours(a) for a, b in pairs) >= 0.0
    assert both_stopped and set(both_stopped) == {0.0}
    assert both_running and all(d == pytest.approx(1 / 3600, abs=1e-9) for d in both_running)


def test_units_start_from_different_realistic_hours() -> None:
    starts = [_sim(EquipmentKind.PUMP, seed=seed).hours_run for seed in range(10)]

    assert len(set(starts)) == 10
    assert all(1_000.0 <= hours <= 40_000.0 for hours in starts)


@pytest.mark.parametrize("kind", list(EquipmentKind))
def test_each_kind_runs_part_of_every_day(kind: EquipmentKind) -> None:
    readings = _readings(_sim(kind), step_s=60.0, duration_s=2 * ONE_DAY_S)

    running_share = mean(1.0 if r.running else 0.0 for r in readings)
    assert 0.2 < running_share < 0.95


@pytest.mark.parametrize("kind", list(EquipmentKind))
def test_a_running_unit_reads_higher_than_a_stopped_one(kind: EquipmentKind) -> None:
    readings = _readings(_sim(kind), step_s=30.0, duration_s=2 * ONE_DAY_S)
    running = [r.metrics for r in readings if r.running]
    stopped = [r.metrics for r in readings if not r.running]

    for name in (TEMPERATURE, VIBRATION, PRESSURE, CURRENT):
        assert mean(m[name] for m in running) > mean(m[name] for m in stopped), name
    assert max(m[VIBRATION] for m in stopped) < 0.2
    assert max(m[CURRENT] for m in stopped) < 0.5


@pytest.mark.parametrize(
    ("kind", "temperature_c", "vibration_mm_s", "pressure_bar", "current_a"),
    [
        (EquipmentKind.GENERATOR, (60, 110), (2.5, 6.0), (3.0, 5.5), (120, 240)),
        (EquipmentKind.PUMP, (30, 60), (1.5, 4.0), (4.5, 8.0), (25, 50)),
        (EquipmentKind.HVAC, (30, 65), (1.0, 2.5), (9.0, 18.0), (15, 32)),
        (EquipmentKind.COMPRESSOR, (50, 100), (2.0, 4.5), (3.0, 9.5), (45, 85)),
    ],
)
def test_warmed_up_levels_are_plausible_for_the_kind(
    kind: EquipmentKind,
    temperature_c: tuple[float, float],
    vibration_mm_s: tuple[float, float],
    pressure_bar: tuple[float, float],
    current_a: tuple[float, float],
) -> None:
    readings = _readings(_sim(kind), step_s=30.0, duration_s=ONE_DAY_S)
    warm = [r.metrics for r in readings if r.running]

    for name, (low, high) in (
        (TEMPERATURE, temperature_c),
        (VIBRATION, vibration_mm_s),
        (PRESSURE, pressure_bar),
        (CURRENT, current_a),
    ):
        assert low <= mean(m[name] for m in warm) <= high, name


def test_a_unit_warms_up_after_starting() -> None:
    sim = _sim(EquipmentKind.GENERATOR)
    run = next(
        r
        for d in range(2)
        for r in sim.duty.intervals(sim.duty.day_of(T0_US) + d)
        if r[1] - r[0] > US_PER_H
    )

    just_started = sim.sample(run[0] + 5 * US_PER_S)
    warmed = sim.sample(run[0] + 50 * 60 * US_PER_S)

    assert warmed.metrics[TEMPERATURE] - just_started.metrics[TEMPERATURE] > 30.0
    assert just_started.running and warmed.running


def test_a_motor_draws_inrush_current_when_it_starts() -> None:
    sim = _sim(EquipmentKind.PUMP)
    run = sim.duty.intervals(sim.duty.day_of(T0_US) + 1)[0]

    starting = sim.sample(run[0] + US_PER_S)
    settled = sim.sample(run[0] + 5 * 60 * US_PER_S)

    assert starting.metrics[CURRENT] > 1.8 * settled.metrics[CURRENT]


def test_ambient_follows_a_daily_cycle() -> None:
    sim = _sim(EquipmentKind.PUMP)
    local_midnight_us = T0_US - UTC_OFFSET_S * US_PER_S + 24 * US_PER_H

    afternoon_c = sim.ambient_c(local_midnight_us + 15 * US_PER_H)
    night_c = sim.ambient_c(local_midnight_us + 3 * US_PER_H)

    assert afternoon_c - night_c == pytest.approx(10.0, abs=0.5)
