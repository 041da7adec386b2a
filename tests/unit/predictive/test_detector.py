from __future__ import annotations

import numpy as np

from predictive.online.config import AnomalyKind, DetectorConfig
from predictive.online.detector import OnlineDetector
from predictive.online.events import Severity, Transition
from tests.unit.predictive.factories import (
    FIVE_MINUTE_SAMPLES_PER_DAY,
    SAMPLES_PER_DAY,
    WARM_SAMPLES,
    Series,
    feed,
    noisy,
    opened,
    sample_of,
    timestamps,
)


def test_a_short_spike_opens_a_spike_anomaly_naming_the_metric() -> None:
    series = noisy(WARM_SAMPLES + 200, metrics=2)
    series.values[WARM_SAMPLES : WARM_SAMPLES + 5, 1] += 15.0

    events = feed(OnlineDetector(("temperature_c", "current_a")), series)

    spikes = opened(events, AnomalyKind.SPIKE)
    assert len(spikes) == 1
    assert WARM_SAMPLES <= sample_of(spikes[0]) < WARM_SAMPLES + 5
    assert spikes[0].contributors[0].metric == "current_a"
    assert spikes[0].contributors[0].z > 6.0


def test_a_spike_clears_after_the_signal_is_calm_again() -> None:
    series = noisy(WARM_SAMPLES + 200)
    series.values[WARM_SAMPLES : WARM_SAMPLES + 5, 0] += 15.0

    events = [e for e in feed(OnlineDetector(("v",)), series) if e.kind is AnomalyKind.SPIKE]

    assert [e.transition for e in events] == [Transition.OPENED, Transition.CLEARED]
    assert events[1].opened_us == events[0].ts_us
    assert events[1].score >= events[0].score


def test_a_slow_drift_opens_a_drift_anomaly_in_the_first_third_of_the_ramp() -> None:
    ramp = 3 * SAMPLES_PER_DAY
    # A wearing bearing: vibration 2.5 ± 0.2 mm/s creeping up by 6 mm/s over three days,
    # a fiftieth of the noise from one sample to the next.
    series = noisy(WARM_SAMPLES + ramp, level=2.5, sigma=0.2)
    series.values[WARM_SAMPLES:, 0] += np.linspace(0.0, 6.0, ramp)

    events = feed(OnlineDetector(("v",)), series)

    drifts = opened(events, AnomalyKind.DRIFT)
    assert len(drifts) == 1
    assert sample_of(drifts[0]) < WARM_SAMPLES + ramp // 3
    assert drifts[0].contributors[0].z > 0


def test_a_stuck_sensor_opens_a_stuck_anomaly_after_the_limit() -> None:
    series = noisy(WARM_SAMPLES + 100, metrics=3)
    series.values[WARM_SAMPLES:, 2] = series.values[WARM_SAMPLES - 1, 2]

    detector = OnlineDetector(("a", "b", "c"))
    events = feed(detector, series)

    stuck = opened(events, AnomalyKind.STUCK)
    assert len(stuck) == 1
    assert sample_of(stuck[0]) == WARM_SAMPLES - 1 + detector.config.stuck_samples
    assert [c.metric for c in stuck[0].contributors] == ["c"]


def test_a_value_that_repeats_while_the_unit_is_stopped_is_not_stuck() -> None:
    series = noisy(WARM_SAMPLES + 200)
    series.values[WARM_SAMPLES:, 0] = 0.0
    series.running[WARM_SAMPLES:] = False

    events = feed(OnlineDetector(("v",)), series)

    assert opened(events, AnomalyKind.STUCK) == []


def test_noise_with_daily_cycles_raises_no_alarm_in_thirty_days() -> None:
    units, samples = 8, 30 * FIVE_MINUTE_SAMPLES_PER_DAY
    series = [
        noisy(samples, metrics=2, daily_amplitude=3.0, seed=unit, samples_per_day=288)
        for unit in range(units)
    ]
    # Interleaved as a stream would deliver them: one reading per unit at each time.
    values = np.stack([s.values for s in series], axis=1).reshape(units * samples, 2)
    unit_ids = [f"eq-{unit}" for unit in range(units)] * samples
    ts_us = np.repeat(timestamps(samples, step_us=300_000_000), units)

    events = OnlineDetector(("temperature_c", "pressure_bar")).update_batch(unit_ids, ts_us, values)

    assert events == []


def test_a_signal_oscillating_around_the_threshold_opens_once_and_does_not_flap() -> None:
    series = noisy(WARM_SAMPLES + 400)
    # Three samples past the opening threshold, three back at normal, for 240 samples.
    pattern = np.tile([9.0, 9.0, 9.0, 0.0, 0.0, 0.0], 40)
    series.values[WARM_SAMPLES : WARM_SAMPLES + len(pattern), 0] += pattern

    events = feed(OnlineDetector(("v",)), series)

    spike_events = [e for e in events if e.kind is AnomalyKind.SPIKE]
    assert [e.transition for e in spike_events] == [Transition.OPENED, Transition.CLEARED]
    assert sample_of(spike_events[1]) >= WARM_SAMPLES + len(pattern)


def test_a_long_excursion_keeps_one_anomaly_per_unit_and_kind() -> None:
    detector = OnlineDetector(("v",))
    for unit in ("eq-1", "eq-2"):
        series = noisy(WARM_SAMPLES + 400)
        series.values[WARM_SAMPLES:, 0] += 30.0
        events = feed(detector, series, unit=unit)
        assert len(opened(events, AnomalyKind.SPIKE)) == 1
        assert {e.unit_id for e in events} == {unit}

    assert detector.open_kinds("eq-1") == detector.open_kinds("eq-2")
    assert AnomalyKind.SPIKE in detector.open_kinds("eq-1")


def test_contributors_are_the_deviating_metrics_sorted_by_z() -> None:
    series = noisy(WARM_SAMPLES + 50, metrics=3)
    series.values[WARM_SAMPLES:, 1] -= 20.0
    series.values[WARM_SAMPLES:, 2] += 8.0

    events = feed(OnlineDetector(("a", "b", "c")), series)

    spike = opened(events, AnomalyKind.SPIKE)[0]
    assert [c.metric for c in spike.contributors] == ["b", "c"]
    assert spike.contributors[0].z < -15.0 < 6.0 < spike.contributors[1].z
    assert spike.severity is Severity.HIGH


def test_nothing_is_reported_during_warm_up() -> None:
    series = noisy(600)
    series.values[300:310, 0] += 50.0

    assert feed(OnlineDetector(("v",)), series) == []


def test_a_missing_metric_neither_scores_nor_disturbs_the_others() -> None:
    series = noisy(WARM_SAMPLES + 100, metrics=2)
    series.values[WARM_SAMPLES:, 0] = np.nan

    events = feed(OnlineDetector(("a", "b")), series)

    assert events == []


def test_an_empty_batch_is_a_no_op() -> None:
    detector = OnlineDetector(("v",))

    assert detector.update_batch([], np.empty(0), np.empty((0, 1))) == []
    assert Series(np.empty((0, 1))).values.shape == (0, 1)


# One baseline per mode and a warm-up of 20 readings, as for a unit reporting every second.
SHORT_WARMUP = DetectorConfig(warmup_samples=20, drift_warmup_samples=10**9, phase_edges_samples=())


def test_the_first_readings_of_a_unit_far_from_zero_raise_no_alarm() -> None:
    # A machine that is already hot when it first reports: 80 °C from the first reading.
    series = noisy(600, level=80.0, sigma=0.3)

    assert feed(OnlineDetector(("temperature_c",), SHORT_WARMUP), series) == []
    assert feed(OnlineDetector(("temperature_c",)), series) == []


def test_the_scale_is_learnt_from_the_first_readings_not_from_zero() -> None:
    # Measured from zero, the first reading would count as an 80 °C deviation and hide
    # a 10 °C jump for hundreds of readings.
    series = noisy(200, level=80.0, sigma=0.3)
    series.values[60:, 0] += 10.0

    events = feed(OnlineDetector(("temperature_c",), SHORT_WARMUP), series)

    [spike] = opened(events, AnomalyKind.SPIKE)
    assert 60 <= sample_of(spike) < 65
    # The floor (1 % of 80 °C) is the scale here: the jump is 12.5 of it.
    assert spike.contributors[0].z > 10.0


def test_no_alarm_before_the_minimum_of_samples_even_for_a_wild_reading() -> None:
    series = noisy(60, level=80.0, sigma=0.3)
    series.values[12:17, 0] += 50.0

    events = feed(OnlineDetector(("temperature_c",), SHORT_WARMUP), series)

    assert events == []


def test_a_quiet_sensor_is_judged_against_a_floor_relative_to_its_level() -> None:
    # Two readings a hundredth of a degree apart: its own spread would make 0.3 °C a spike.
    wobble = 0.01 * (np.arange(WARM_SAMPLES + 200) % 2)
    series = Series((80.0 + wobble).astype(np.float64)[:, None])
    series.values[WARM_SAMPLES : WARM_SAMPLES + 5, 0] += 0.3
    series.values[WARM_SAMPLES + 100 : WARM_SAMPLES + 105, 0] += 8.0

    spikes = opened(feed(OnlineDetector(("temperature_c",)), series), AnomalyKind.SPIKE)

    assert [sample_of(e) for e in spikes] == [WARM_SAMPLES + 102]


def test_short_dips_are_no_drift_but_a_lasting_low_is() -> None:
    # A machine that dips by 25 °C for half an hour every five hours, as part of its work,
    # then stays low for half a day.
    samples = 8 * SAMPLES_PER_DAY
    series = noisy(samples, level=90.0, sigma=1.0)
    for start in range(300, samples - 1_000, 300):
        series.values[start : start + 30, 0] -= 25.0
    low_from = samples - 720
    series.values[low_from:, 0] -= 25.0

    drifts = opened(feed(OnlineDetector(("temperature_c",)), series), AnomalyKind.DRIFT)

    assert len(drifts) == 1
    assert low_from < sample_of(drifts[0]) < low_from + 240
    assert drifts[0].contributors[0].z < 0
