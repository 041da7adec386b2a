"""Hours-run and odometer folds (stream.state.meters): counters, states, GPS, ordering."""

from __future__ import annotations

import random

import pytest

from kernel.geo import offset_m
from stream.state.meters import (
    Fix,
    HoursSample,
    MeterLimits,
    MeterState,
    advance_hours,
    advance_odometer,
    counter_delta,
    set_baseline,
)
from stream.state.meters import _hours_step as _hours_step  # the reference fold

T0_US = 1_764_000_000_000_000
MINUTE_US = 60_000_000
LIMITS = MeterLimits(max_gap_s=900, max_accuracy_m=50, max_speed_kmh=200, min_move_m=10)
LAT, LON = 55.75, 37.62


def at(minutes: float) -> int:
    return T0_US + int(minutes * MINUTE_US)


def counter(minutes: float, hours: float, device: str = "eq-1") -> HoursSample:
    return HoursSample(device, at(minutes), counter_h=hours)


def state(minutes: float, on: bool, device: str = "eq-1") -> HoursSample:
    return HoursSample(device, at(minutes), on=on)


def fix(minutes: float, north_m: float, accuracy_m: float | None = 5.0, **extra: float) -> Fix:
    lat, lon = offset_m(LAT, LON, north_m, 0.0)
    return Fix("veh-1", at(minutes), lat, lon, accuracy_m, extra.get("odometer_km"))


def hours(*samples: HoursSample, start: MeterState | None = None) -> float:
    return advance_hours(start or MeterState(), samples, LIMITS).value


def km(*fixes: Fix, start: MeterState | None = None) -> float:
    return advance_odometer(start or MeterState(), fixes, LIMITS).value


# Device counters


def test_a_new_meter_takes_the_first_counter_value_and_then_adds_deltas() -> None:
    assert hours(counter(0, 1200.0), counter(60, 1201.0), counter(120, 1202.0)) == 1202.0


def test_a_counter_reset_to_zero_keeps_accumulating_instead_of_going_negative() -> None:
    value = hours(counter(0, 1200.0), counter(60, 1201.0), counter(90, 0.2), counter(150, 1.2))
    assert value == pytest.approx(1201.0 + 0.2 + 1.0)


def test_a_counter_rollover_counts_what_it_counted_since_the_wrap() -> None:
    # A 16-bit counter of tenths of an hour wraps at 6553.6 h.
    value = hours(counter(0, 6553.0), counter(60, 0.4), counter(120, 1.4))
    assert value == pytest.approx(6553.0 + 0.4 + 1.0)


def test_a_counter_jump_faster_than_time_itself_adds_nothing_and_reanchors() -> None:
    value = hours(counter(0, 100.0), counter(60, 5000.0), counter(120, 5001.0))
    assert value == pytest.approx(101.0)


def test_a_counter_stepping_slightly_backwards_is_a_glitch_not_a_reset() -> None:
    assert hours(counter(0, 1000.0), counter(60, 999.9), counter(120, 1000.9)) == pytest.approx(
        1001.0
    )


def test_counter_delta_allows_one_counter_step_of_slack() -> None:
    assert counter_delta(10.0, 10.1, elapsed_h=0.01, max_rate_per_h=1.0, slack=0.1) == (
        pytest.approx(0.1)
    )
    assert counter_delta(10.0, 10.5, elapsed_h=0.01, max_rate_per_h=1.0, slack=0.1) == 0.0


def test_a_counter_across_a_long_gap_counts_in_full_the_device_kept_counting() -> None:
    assert hours(counter(0, 10.0), counter(600, 19.0)) == pytest.approx(19.0)


def test_once_a_device_reports_a_counter_its_state_samples_add_nothing() -> None:
    samples = (counter(0, 10.0), state(1, True), state(30, True), counter(60, 11.0))
    assert hours(*samples) == pytest.approx(11.0)


# Running / ignition state


def test_running_time_accumulates_from_each_on_sample_to_the_next() -> None:
    samples = [state(m, on) for m, on in ((0, True), (10, True), (20, False), (30, True))]
    assert hours(*samples, state(40, False)) == pytest.approx(30 / 60)


def test_hours_never_span_a_gap_longer_than_the_limit() -> None:
    # On at both ends of a 40-minute silence: Traccar would count it, the limit is 15 min.
    assert hours(state(0, True), state(5, True), state(45, True), state(50, True)) == (
        pytest.approx(10 / 60)
    )


def test_a_gap_exactly_at_the_limit_still_counts() -> None:
    assert hours(state(0, True), state(15, True)) == pytest.approx(15 / 60)


# Ordering and duplicates


def test_samples_within_a_batch_are_applied_in_time_order() -> None:
    ordered = [state(m, m < 40) for m in range(0, 60, 5)]
    shuffled = ordered[:]
    random.Random(7).shuffle(shuffled)
    assert hours(*shuffled) == hours(*ordered) == pytest.approx(40 / 60)


def test_a_sample_older_than_the_last_applied_is_skipped() -> None:
    meter = advance_hours(MeterState(), [state(0, True), state(10, True)], LIMITS)
    late = advance_hours(meter, [state(5, False), counter(6, 999.0)], LIMITS)
    assert late == meter


def test_a_duplicated_sample_changes_nothing() -> None:
    meter = advance_hours(MeterState(), [counter(0, 5.0), counter(60, 6.0)], LIMITS)
    assert advance_hours(meter, [counter(60, 6.0)], LIMITS) == meter
    assert hours(counter(0, 5.0), counter(60, 6.0), counter(60, 6.0)) == pytest.approx(6.0)


def test_batches_folded_one_after_another_equal_one_fold_of_everything() -> None:
    samples = [state(m, (m // 7) % 2 == 0) for m in range(0, 300, 3)]
    one_go = advance_hours(MeterState(), samples, LIMITS)
    chunked = MeterState()
    for start in range(0, len(samples), 13):
        chunked = advance_hours(chunked, samples[start : start + 13], LIMITS)
    assert chunked == one_go


def test_a_replacement_device_counts_from_its_own_counter_not_the_old_ones() -> None:
    # The new controller's counter says 7 h; the unit's meter stays 100 h and grows from there.
    samples = (counter(0, 100.0), counter(60, 7.0, device="new"), counter(120, 8.0, "new"))
    assert hours(*samples) == pytest.approx(101.0)


# GPS odometer


def test_the_odometer_sums_the_distance_between_fixes() -> None:
    assert km(fix(0, 0), fix(1, 500), fix(2, 1500)) == pytest.approx(1.5, rel=1e-3)


def test_fixes_with_poor_accuracy_are_dropped() -> None:
    assert km(fix(0, 0), fix(1, 900, accuracy_m=500), fix(2, 1000)) == pytest.approx(1.0, rel=1e-3)


def test_jitter_while_standing_still_adds_nothing() -> None:
    wobble = [fix(m, (-1) ** m * 4.0) for m in range(60)]
    assert km(*wobble) == 0.0


def test_slow_movement_below_the_jitter_threshold_still_adds_up() -> None:
    creeping = [fix(m, 3.0 * m) for m in range(40)]  # 3 m per fix, 117 m in all
    assert km(*creeping) == pytest.approx(0.117, abs=0.011)


def test_a_jump_implying_an_impossible_speed_is_dropped() -> None:
    # 30 km in one minute is 1,800 km/h: a GPS glitch; the track continues near where it was.
    assert km(fix(0, 0), fix(1, 1000), fix(2, 30_000), fix(3, 2000)) == pytest.approx(2.0, rel=1e-3)


def test_repeated_jumps_reanchor_without_counting_the_jump() -> None:
    # The first fix was the bad one: the next three agree with each other, not with it.
    far = [fix(m, 50_000 + 500 * m) for m in (1, 2, 3, 4)]
    assert km(fix(0, 0), *far) == pytest.approx(0.5, rel=1e-3)


def test_a_device_odometer_is_preferred_to_gps_once_reported() -> None:
    fixes = (fix(0, 0, odometer_km=1000.0), fix(1, 800), fix(2, 1600, odometer_km=1002.0))
    assert km(*fixes) == pytest.approx(1002.0)


def test_an_odometer_reset_keeps_accumulating() -> None:
    fixes = (
        fix(0, 0, odometer_km=500.0),
        fix(10, 0, odometer_km=510.0),
        fix(20, 0, odometer_km=3.0),
    )
    assert km(*fixes) == pytest.approx(513.0)


def test_an_out_of_order_fix_does_not_move_the_odometer() -> None:
    meter = advance_odometer(MeterState(), [fix(0, 0), fix(10, 5000)], LIMITS)
    assert advance_odometer(meter, [fix(5, 20_000)], LIMITS) == meter


# Baselines


def test_a_baseline_replaces_the_value_and_later_deltas_add_to_it() -> None:
    meter = advance_hours(MeterState(), [counter(0, 1200.0), counter(60, 1201.0)], LIMITS)
    replaced = set_baseline(meter, 0.0)
    assert hours(counter(120, 1202.0), start=replaced) == pytest.approx(1.0)


def test_a_baseline_set_before_any_data_is_not_overwritten_by_the_first_counter() -> None:
    assert hours(
        counter(0, 1200.0), counter(60, 1201.0), start=set_baseline(MeterState(), 50.0)
    ) == (pytest.approx(51.0))


def _one_sample_at_a_time(
    start: MeterState, samples: list[HoursSample], limits: MeterLimits
) -> MeterState:
    """The reference: every sample through the single-sample step, in time order."""
    meter = start
    for sample in sorted(samples, key=lambda s: s.ts_us):
        meter = _hours_step(meter, sample, limits)
    return meter


def _random_samples(rng: random.Random) -> list[HoursSample]:
    hours, minutes, samples = 500.0, 0.0, []
    for _ in range(rng.randint(1, 60)):
        minutes += rng.choice([0.0, 1.0, 5.0, 30.0])  # 0: a duplicate time
        roll = rng.random()
        if roll < 0.05:
            hours = rng.uniform(0, 2)  # the counter was reset
        elif roll < 0.1:
            hours += 50.0  # a glitch: faster than time allows
        else:
            hours += rng.uniform(0, 0.1)
        device = "eq-2" if rng.random() < 0.05 else "eq-1"
        if rng.random() < 0.15:
            samples.append(HoursSample(device, at(minutes), on=rng.random() < 0.5))
        else:
            samples.append(HoursSample(device, at(minutes), counter_h=round(hours, 3)))
    return samples


@pytest.mark.parametrize("seed", range(40))
def test_a_batch_of_samples_moves_the_meter_as_one_sample_at_a_time(seed: int) -> None:
    # A run of counter samples is folded in plain floats rather than sample by sample:
    # whatever the mix (resets, glitches, duplicates, states, another device, late samples
    # and a planner's baseline), the meter must end exactly where single steps take it.
    rng = random.Random(seed)
    start = advance_hours(MeterState(), [counter(-10, 480.0)], LIMITS)
    if seed % 3 == 0:
        start = set_baseline(start, 1_000.0)
    samples = _random_samples(rng)
    late = [HoursSample("eq-1", at(-20), counter_h=470.0)]
    batch = samples + late
    rng.shuffle(batch)
    assert advance_hours(start, batch, LIMITS) == _one_sample_at_a_time(start, batch, LIMITS)


def test_late_counter_samples_leave_a_planners_baseline_as_it_was() -> None:
    meter = set_baseline(advance_hours(MeterState(), [counter(0, 480.0)], LIMITS), 1_000.0)
    assert advance_hours(meter, [counter(-5, 479.0), counter(0, 480.5)], LIMITS) == meter
