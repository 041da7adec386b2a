"""Weekly shifts and absences in local time, checked for many engineers at once.

Shifts are intervals of the local week in minutes (Monday 00:00 = 0). An interval may end
past the end of the week (a Sunday night shift), so a moment m is inside [start, end) when m
or m + one week is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from tickets.assignment.arrays import BoolArray, FloatArray, IntArray
from tickets.assignment.models import Absence, WeeklyShift

MINUTES_PER_DAY: Final = 1440
MINUTES_PER_WEEK: Final = 7 * MINUTES_PER_DAY


def shift_bounds_mow(shift: WeeklyShift) -> tuple[float, float]:
    """Start and end of a shift in minutes of the local week; the end may pass the week."""
    start_mow = shift.weekday * MINUTES_PER_DAY + _minute_of_day(shift.start)
    length_min = (_minute_of_day(shift.end) - _minute_of_day(shift.start)) % MINUTES_PER_DAY
    return float(start_mow), float(start_mow + (length_min or MINUTES_PER_DAY))


def absence_days(absence: Absence) -> tuple[int, int]:
    """First and last day of an absence as proleptic ordinals."""
    return absence.first_day.toordinal(), absence.last_day.toordinal()


def local_clocks(moments: Sequence[datetime], zones: Sequence[str]) -> tuple[FloatArray, IntArray]:
    """Minute of week and local day ordinal of each moment in each zone: (moments, zones)."""
    week_min = np.zeros((len(moments), len(zones)))
    day = np.zeros((len(moments), len(zones)), dtype=np.int64)
    for m, moment in enumerate(moments):
        for z, zone in enumerate(zones):
            local = moment.astimezone(_zone(zone))
            week_min[m, z] = local.weekday() * MINUTES_PER_DAY + _minute_of_day(local.timetz())
            day[m, z] = local.toordinal()
    return week_min, day


def shift_left_min(now_mow: FloatArray, start: FloatArray, end: FloatArray) -> FloatArray:
    """Minutes left in the shift each engineer is in at now_mow (E,); 0 when off shift."""
    m = now_mow[:, None]
    left = np.maximum(_left_in(m, start, end), _left_in(m + MINUTES_PER_WEEK, start, end))
    return np.asarray(left.max(axis=1), dtype=np.float64)


def window_overlap_min(
    window_mow: FloatArray, window_min: FloatArray, start: FloatArray, end: FloatArray
) -> FloatArray:
    """Longest overlap of one shift with each window: windows (W, E) starting at window_mow."""
    first = window_mow
    last = first + np.minimum(window_min, MINUTES_PER_WEEK)
    # A shift also recurs a week earlier (it may run into this week) and a week later.
    weeks = [0]
    if (end > MINUTES_PER_WEEK).any():
        weeks.append(-1)
    if (last > MINUTES_PER_WEEK).any():
        weeks.append(1)
    best = np.zeros(window_mow.shape)
    for column in range(start.shape[1]):
        for week in weeks:
            offset_min = week * MINUTES_PER_WEEK
            shift_first = start[:, column] + offset_min
            shift_last = end[:, column] + offset_min
            overlap = np.minimum(last, shift_last) - np.maximum(first, shift_first)
            np.maximum(best, overlap, out=best)
    return best


def absent(
    first_day: IntArray, last_day: IntArray, absence_first: IntArray, absence_last: IntArray
) -> BoolArray:
    """Whether an absence overlaps the local days [first_day, last_day], shape (..., E)."""
    overlaps = (absence_first <= last_day[..., None]) & (absence_last >= first_day[..., None])
    return np.asarray(overlaps.any(axis=-1), dtype=np.bool_)


def _left_in(m: FloatArray, start: FloatArray, end: FloatArray) -> FloatArray:
    return np.where((start <= m) & (m < end), end - m, 0.0)


def _minute_of_day(moment: time) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
