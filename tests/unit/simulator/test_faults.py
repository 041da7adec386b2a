from __future__ import annotations

from statistics import mean

import pytest

from devices.records import Reading
from devices.simulator.equipment import CURRENT, METRIC_NAMES, PRESSURE, TEMPERATURE, VIBRATION
from devices.simulator.faults import FaultKind, FaultSpec, stuck_metric
from devices.simulator.fleet import Fleet
from tests.unit.simulator.factories import US_PER_H, US_PER_S, local_us, make_fleet

UNIT = "eq-0002"
RAMP_S = 2 * 3600.0
STEP_S = 20.0


def _fault_start_us() -> int:
    # Late morning local time on day two: every kind of unit is in its working window.
    return local_us(make_fleet(), day=1, hour=10.0)


def _readings(fleet: Fleet, *, hours: float = 5.0) -> list[Reading]:
    start_us = _fault_start_us() - US_PER_H
    fleet.advance(start_us)
    stop_us = start_us + int(hours * US_PER_H)
    return [s for s in fleet.advance(stop_us) if isinstance(s, Reading) and s.device_id == UNIT]


def _with_and_without(kind: FaultKind, ramp_s: float = RAMP_S) -> list[tuple[Reading, Reading]]:
    fault = FaultSpec(kind, UNIT, _fault_start_us(), ramp_s)
    faulty = _readings(make_fleet(faults=(fault,), interval_s=STEP_S))
    clean = _readings(make_fleet(interval_s=STEP_S))
    assert [r.ts_us for r in faulty] == [r.ts_us for r in clean]
    return list(zip(faulty, clean, strict=True))


def _fraction(ts_us: int, ramp_s: float = RAMP_S) -> float:
    return min(1.0, max(0.0, (ts_us - _fault_start_us()) / (ramp_s * US_PER_S)))


@pytest.mark.parametrize("kind", list(FaultKind))
def test_a_fault_leaves_the_signal_untouched_before_it_starts(kind: FaultKind) -> None:
    before = [(f, c) for f, c in _with_and_without(kind) if f.ts_us < _fault_start_us()]

    assert len(before) > 100
    assert all(faulty == clean for faulty, clean in before)


def test_bearing_wear_drifts_vibration_and_temperature_up_over_the_ramp() -> None:
    running = [(f, c) for f, c in _with_and_without(FaultKind.BEARING_WEAR) if f.running]
    during = [(f, c) for f, c in running if f.ts_us >= _fault_start_us()]

    assert len(during) > 100
    for faulty, clean in during:
        fraction = _fraction(faulty.ts_us)
        vibration_up = faulty.metrics[VIBRATION] - clean.metrics[VIBRATION]
        temperature_up = faulty.metrics[TEMPERATURE] - clean.metrics[TEMPERATURE]
        assert vibration_up == pytest.approx(6.0 * fraction, abs=2e-3)
        assert temperature_up == pytest.approx(12.0 * fraction, abs=2e-3)
        assert faulty.metrics[PRESSURE] == clean.metrics[PRESSURE]


def test_bearing_wear_is_gradual_not_a_step() -> None:
    during = [(f, c) for f, c in _with_and_without(FaultKind.BEARING_WEAR) if f.running]
    early = [
        f.metrics[VIBRATION] - c.metrics[VIBRATION]
        for f, c in during
        if 0 < _fraction(f.ts_us) < 0.2
    ]
    late = [
        f.metrics[VIBRATION] - c.metrics[VIBRATION] for f, c in during if _fraction(f.ts_us) == 1.0
    ]

    assert early and late
    assert max(early) < 1.3
    assert min(late) > 5.9


def test_overheating_jumps_the_temperature_at_once() -> None:
    pairs = _with_and_without(FaultKind.OVERHEATING, ramp_s=600.0)
    first_after = next((f, c) for f, c in pairs if f.ts_us >= _fault_start_us())

    faulty, clean = first_after
    assert faulty.ts_us - _fault_start_us() < STEP_S * US_PER_S
    assert faulty.metrics[TEMPERATURE] - clean.metrics[TEMPERATURE] >= 25.0
    for f, c in pairs:
        if f.ts_us >= _fault_start_us():
            rise_c = f.metrics[TEMPERATURE] - c.metrics[TEMPERATURE]
            assert rise_c == pytest.approx(25.0 + 10.0 * _fraction(f.ts_us, 600.0), abs=2e-3)


def test_a_stuck_sensor_repeats_its_last_value_while_the_others_move_on() -> None:
    pairs = _with_and_without(FaultKind.STUCK_SENSOR)
    stuck = stuck_metric(UNIT)
    last_before = [f for f, _ in pairs if f.ts_us < _fault_start_us()][-1].metrics[stuck]
    during = [(f, c) for f, c in pairs if f.ts_us >= _fault_start_us()]

    assert {f.metrics[stuck] for f, _ in during} == {last_before}
    assert len({c.metrics[stuck] for _, c in during}) > 50
    for faulty, clean in during:
        assert all(faulty.metrics[m] == clean.metrics[m] for m in METRIC_NAMES if m != stuck)


def test_the_stuck_metric_is_stable_per_unit() -> None:
    assert stuck_metric("eq-0002") == stuck_metric("eq-0002")
    assert {stuck_metric(f"eq-{n:04d}") for n in range(1, 40)} == set(METRIC_NAMES)


def test_a_pressure_leak_makes_pressure_decay() -> None:
    during = [
        (f, c)
        for f, c in _with_and_without(FaultKind.PRESSURE_LEAK)
        if f.ts_us >= _fault_start_us()
    ]

    for faulty, clean in during:
        expected_bar = clean.metrics[PRESSURE] * (1 - 0.8 * _fraction(faulty.ts_us))
        assert faulty.metrics[PRESSURE] == pytest.approx(expected_bar, abs=2e-3)
        assert faulty.metrics[CURRENT] >= clean.metrics[CURRENT]
    developed = [
        f.metrics[PRESSURE] / c.metrics[PRESSURE]
        for f, c in during
        if _fraction(f.ts_us) == 1.0 and c.running
    ]
    assert developed and mean(developed) == pytest.approx(0.2, abs=0.01)


def test_fault_state_reports_the_kind_and_development_fraction() -> None:
    start_us = _fault_start_us()
    fleet = make_fleet(faults=(FaultSpec(FaultKind.BEARING_WEAR, UNIT, start_us, 1000.0),))

    assert fleet.fault_state(UNIT, start_us - 1) is None
    assert fleet.fault_state(UNIT, start_us) == ("bearing_wear", 0.0)
    assert fleet.fault_state(UNIT, start_us + 250 * US_PER_S) == ("bearing_wear", 0.25)
    assert fleet.fault_state(UNIT, start_us + 5000 * US_PER_S) == ("bearing_wear", 1.0)
    assert fleet.fault_state("eq-0001", start_us + 250 * US_PER_S) is None


def test_a_fault_without_ramp_is_fully_developed_at_once() -> None:
    start_us = _fault_start_us()
    fleet = make_fleet(faults=(FaultSpec(FaultKind.OVERHEATING, UNIT, start_us),))

    assert fleet.fault_state(UNIT, start_us) == ("overheating", 1.0)


def test_the_latest_fault_on_a_unit_is_the_one_reported() -> None:
    start_us = _fault_start_us()
    faults = (
        FaultSpec(FaultKind.BEARING_WEAR, UNIT, start_us, 100.0),
        FaultSpec(FaultKind.STUCK_SENSOR, UNIT, start_us + 50 * US_PER_S, 0.0),
    )
    fleet = make_fleet(faults=faults)

    assert fleet.fault_state(UNIT, start_us + 10 * US_PER_S) == ("bearing_wear", 0.1)
    assert fleet.fault_state(UNIT, start_us + 60 * US_PER_S) == ("stuck_sensor", 1.0)


def test_a_fault_kind_may_be_given_as_its_name() -> None:
    fault = FaultSpec("pressure_leak", UNIT, 0, 60.0)  # type: ignore[arg-type]

    assert fault.kind is FaultKind.PRESSURE_LEAK


def test_an_unknown_fault_kind_or_negative_ramp_is_refused() -> None:
    with pytest.raises(ValueError):
        FaultSpec("meltdown", UNIT, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FaultSpec(FaultKind.OVERHEATING, UNIT, 0, -1.0)
