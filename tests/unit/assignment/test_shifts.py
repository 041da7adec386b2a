"""Weekly shifts as minutes of the week: overnight shifts, week wrap, window overlap."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest

from tickets.assignment import WeeklyShift
from tickets.assignment.arrays import FloatArray
from tickets.assignment.shifts import (
    MINUTES_PER_WEEK,
    shift_bounds_mow,
    shift_left_min,
    window_overlap_min,
)

MONDAY_0800 = 8 * 60.0


def _bounds(*shifts: WeeklyShift) -> tuple[FloatArray, FloatArray]:
    bounds = np.array([shift_bounds_mow(s) for s in shifts])
    return bounds[None, :, 0], bounds[None, :, 1]


def test_overnight_shift_ends_the_next_morning() -> None:
    assert shift_bounds_mow(WeeklyShift(0, time(22), time(6))) == (1320.0, 1800.0)


def test_shift_with_equal_start_and_end_lasts_a_whole_day() -> None:
    start, end = shift_bounds_mow(WeeklyShift(2, time(7), time(7)))
    assert end - start == 1440.0


def test_minutes_left_count_down_to_the_end_of_the_shift() -> None:
    start, end = _bounds(WeeklyShift(0, time(8), time(17)))
    left = shift_left_min(np.array([MONDAY_0800 + 60]), start, end)
    assert left.tolist() == [480.0]


def test_sunday_night_shift_is_still_running_early_on_monday() -> None:
    start, end = _bounds(WeeklyShift(6, time(22), time(6)))
    left = shift_left_min(np.array([120.0]), start, end)  # Monday 02:00
    assert left.tolist() == [240.0]


def test_no_minutes_left_outside_every_shift() -> None:
    start, end = _bounds(WeeklyShift(0, time(8), time(17)))
    assert shift_left_min(np.array([MONDAY_0800 - 1]), start, end).tolist() == [0.0]


def test_window_overlap_is_the_longest_single_shift_overlap() -> None:
    start, end = _bounds(WeeklyShift(0, time(8), time(10)), WeeklyShift(0, time(11), time(14)))
    overlap = window_overlap_min(np.array([[MONDAY_0800]]), np.array([[360.0]]), start, end)
    assert overlap.tolist() == [[180.0]]


def test_window_crossing_the_end_of_the_week_meets_monday_shifts() -> None:
    start, end = _bounds(WeeklyShift(0, time(0), time(4)))
    sunday_2200 = MINUTES_PER_WEEK - 120.0
    overlap = window_overlap_min(np.array([[sunday_2200]]), np.array([[240.0]]), start, end)
    assert overlap[0, 0] == pytest.approx(120.0)
