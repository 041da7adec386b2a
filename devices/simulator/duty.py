"""Daily duty cycles: when a unit runs, as a pure function of time.

Each local day gets its own run intervals from a generator seeded by the unit and
the day, so the schedule never depends on when or how often it is sampled.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

US_PER_S = 1_000_000
US_PER_H = 3_600 * US_PER_S
DAY_US = 24 * US_PER_H
MAX_CACHED_DAYS = 8
_FOREVER_US = 2**63

Interval = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DutyProfile:
    """The shape of a kind's working day: a window of local hours cut into on/off periods."""

    first_start_h: tuple[float, float]
    last_stop_h: tuple[float, float]
    on_min: tuple[float, float]
    off_min: tuple[float, float]


class DutyCycle:
    """The run intervals of one unit, in microseconds since the epoch, [start, stop)."""

    def __init__(self, profile: DutyProfile, *, key: str, utc_offset_s: int) -> None:
        self._profile = profile
        self._key = key
        self._offset_us = utc_offset_s * US_PER_S
        self._days: dict[int, tuple[Interval, ...]] = {}

    def is_running(self, t_us: int) -> bool:
        """Whether the unit runs at t_us."""
        return self.run_at(t_us) is not None

    def run_at(self, t_us: int) -> Interval | None:
        """The run interval containing t_us, if any."""
        intervals = self.intervals(self.day_of(t_us))
        index = _last_started(intervals, t_us)
        if index >= 0 and t_us < intervals[index][1]:
            return intervals[index]
        return None

    def last_run_before(self, t_us: int) -> Interval | None:
        """The latest run that stopped at or before t_us, looking back one day."""
        day = self.day_of(t_us)
        for candidate in (day, day - 1):
            intervals = self.intervals(candidate)
            for index in range(_last_started(intervals, t_us), -1, -1):
                if intervals[index][1] <= t_us:
                    return intervals[index]
        return None

    def running_us_between(self, start_us: int, end_us: int) -> int:
        """Microseconds spent running within [start_us, end_us)."""
        total = 0
        for day in range(self.day_of(start_us), self.day_of(end_us) + 1):
            intervals = self.intervals(day)
            for run_start, run_stop in intervals[max(0, _last_started(intervals, start_us)) :]:
                if run_start >= end_us:
                    break
                total += max(0, min(run_stop, end_us) - max(run_start, start_us))
        return total

    def day_of(self, t_us: int) -> int:
        """The local day number of t_us."""
        return (t_us + self._offset_us) // DAY_US

    def intervals(self, day: int) -> tuple[Interval, ...]:
        """The run intervals of a local day, sorted."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) >= MAX_CACHED_DAYS:
                self._days.clear()
            cached = self._days[day] = self._plan_day(day)
        return cached

    def _plan_day(self, day: int) -> tuple[Interval, ...]:
        rng = random.Random(f"{self._key}:day:{day}")
        midnight_us = day * DAY_US - self._offset_us
        profile = self._profile
        t_us = midnight_us + int(rng.uniform(*profile.first_start_h) * US_PER_H)
        window_end_us = midnight_us + int(rng.uniform(*profile.last_stop_h) * US_PER_H)
        runs: list[Interval] = []
        while t_us < window_end_us:
            stop_us = min(window_end_us, t_us + int(rng.uniform(*profile.on_min) * 60 * US_PER_S))
            runs.append((t_us, stop_us))
            t_us = stop_us + int(rng.uniform(*profile.off_min) * 60 * US_PER_S)
        return tuple(runs)


def _last_started(intervals: tuple[Interval, ...], t_us: int) -> int:
    """Index of the last interval that starts at or before t_us, -1 if none."""
    return bisect.bisect_right(intervals, (t_us, _FOREVER_US)) - 1
