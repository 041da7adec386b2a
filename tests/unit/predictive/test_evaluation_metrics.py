from __future__ import annotations

import pytest

from predictive.evaluation.metrics import (
    Alarm,
    LabelledFault,
    detections,
    false_alarms,
    normal_unit_days,
    summarise,
)
from predictive.evaluation.nab_scoring import probation_end_us, scaled_sigmoid, score_windows

DAY_US = 86_400_000_000
H_US = 3_600_000_000


def _fault(
    unit: str, start_day: float, kind: str = "bearing_wear", ramp_h: float = 30.0
) -> LabelledFault:
    return LabelledFault(unit, kind, int(start_day * DAY_US), 30 * DAY_US, ramp_h * 3600.0)


def test_a_fault_is_detected_by_the_first_alarm_on_its_unit_while_active() -> None:
    fault = _fault("a", 10)
    alarms = [
        Alarm("a", 9 * DAY_US),  # before the fault: a false alarm
        Alarm("b", 10 * DAY_US + 1 * H_US),  # another unit
        Alarm("a", 10 * DAY_US + 12 * H_US),
        Alarm("a", 10 * DAY_US + 6 * H_US),
    ]

    [found] = detections([fault], alarms)

    assert found.first_alarm_us == 10 * DAY_US + 6 * H_US
    assert found.delay_s == 6 * 3600
    assert found.delay_fraction == pytest.approx(0.2)
    assert false_alarms([fault], alarms) == alarms[:2]


def test_a_sudden_fault_has_a_delay_but_no_delay_fraction() -> None:
    [found] = detections([_fault("a", 1, ramp_h=0)], [Alarm("a", DAY_US + H_US)])

    assert found.delay_s == 3600 and found.delay_fraction is None


def test_normal_time_excludes_warm_up_and_faults() -> None:
    days = normal_unit_days(
        [_fault("a", 20)], ["a", "b"], scored_from_us=DAY_US, end_us=30 * DAY_US
    )

    assert days == pytest.approx(19 + 29)


def test_summary_counts_precision_recall_and_false_alarms_per_unit_month() -> None:
    faults = [_fault("a", 10), _fault("b", 10), _fault("c", 10, kind="overheating", ramp_h=0)]
    alarms = [
        Alarm("a", 10 * DAY_US + 3 * H_US),
        Alarm("a", 10 * DAY_US + 9 * H_US),
        Alarm("c", 10 * DAY_US + 1 * H_US),
        Alarm("d", 5 * DAY_US),
    ]

    summary = summarise(
        faults,
        alarms,
        unit_ids=["a", "b", "c", "d"],
        scored_from_us=0,
        end_us=30 * DAY_US,
        gradual_kinds=frozenset({"bearing_wear"}),
    )

    assert summary["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["false_alarms"] == 1
    # 3 faulty units normal for 10 days each, one clean unit for 30: 60 unit-days.
    assert summary["false_alarms_per_unit_30d"] == pytest.approx(0.5)
    assert summary["median_delay_fraction_gradual"] == pytest.approx(0.1)
    assert summary["missed_gradual"] == 1
    assert summary["by_kind"]["overheating"]["median_delay_h"] == pytest.approx(1.0)


def test_nab_probation_is_the_first_fifteen_percent() -> None:
    assert probation_end_us(list(range(100))) == 15


def test_nab_scoring_counts_the_earliest_detection_per_window_and_false_positives() -> None:
    windows = [(100, 200), (400, 500), (700, 800)]
    detections_us = [50, 150, 120, 300, 600, 900]

    result = score_windows(detections_us, windows, scored_from_us=60)

    assert [w["first_detection_us"] for w in result["window_results"]] == [120, None, None]
    assert result["windows_detected"] == 1
    assert result["windows_scored"] == 3
    # 50 is in the probationary period; 300, 600 and 900 are outside every window.
    assert result["false_positives"] == 3


def test_a_window_that_ends_in_probation_is_not_scored() -> None:
    result = score_windows([150], [(100, 200), (400, 500)], scored_from_us=250)

    assert result["windows_scored"] == 1
    assert result["windows_detected"] == 0
    assert result["false_positives"] == 0


def test_nab_style_score_is_100_for_detections_at_window_starts_and_0_for_none() -> None:
    windows = [(100, 200), (400, 500)]

    assert score_windows([100, 400], windows, scored_from_us=0)["nab_style_score"] == 100.0
    assert score_windows([], windows, scored_from_us=0)["nab_style_score"] == 0.0
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(-1.0) > 0.98
