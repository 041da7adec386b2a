"""When maintenance falls due: calendar and meter intervals, whichever comes first.

Pure functions of a plan's intervals, the point the unit was last serviced at (its anchor:
a date and the meters then) and its usage now. Meter intervals get a due date forecast from
the unit's recent usage rate, so the planners' calendar can show them.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

CALENDAR: Final = "calendar"
HOURS_RUN: Final = "hours_run"
ODOMETER_KM: Final = "odometer_km"
METERS: Final = (HOURS_RUN, ODOMETER_KM)
METER_UNITS: Final = {HOURS_RUN: "h of running", ODOMETER_KM: "km"}
SECONDS_PER_DAY: Final = 86_400.0
# A rate measured over less than this says more about the last start than about usage.
MIN_RATE_SPAN_H: Final = 1.0


@dataclass(frozen=True, slots=True)
class Intervals:
    """A plan's intervals (None: not used) and how far ahead of each it gives notice."""

    every_days: int | None = None
    every_months: int | None = None
    every_hours_run: float | None = None
    every_odometer_km: float | None = None
    lead_days: float = 0.0
    lead_hours_run: float = 0.0
    lead_odometer_km: float = 0.0

    def meter_every(self, meter: str) -> float | None:
        return self.every_hours_run if meter == HOURS_RUN else self.every_odometer_km

    def meter_lead(self, meter: str) -> float:
        return self.lead_hours_run if meter == HOURS_RUN else self.lead_odometer_km


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the next due point counts from: when the work was last done, and the meters then."""

    done_at: datetime
    hours_run: float | None = None
    odometer_km: float | None = None

    def meter(self, meter: str) -> float | None:
        return self.hours_run if meter == HOURS_RUN else self.odometer_km


@dataclass(frozen=True, slots=True)
class Usage:
    """A unit's meters now and their recent rates per day (None where unknown)."""

    hours_run: float | None = None
    odometer_km: float | None = None
    hours_run_per_day: float | None = None
    odometer_km_per_day: float | None = None

    def meter(self, meter: str) -> float | None:
        return self.hours_run if meter == HOURS_RUN else self.odometer_km

    def rate(self, meter: str) -> float | None:
        return self.hours_run_per_day if meter == HOURS_RUN else self.odometer_km_per_day


@dataclass(frozen=True, slots=True)
class IntervalDue:
    """One interval's due point: a date (exact or forecast) and, for meters, the value."""

    basis: str
    due_at: datetime | None
    due_value: float | None = None
    remaining: float | None = None
    every: float | None = None
    rate_per_day: float | None = None
    notify: bool = False

    @property
    def forecast(self) -> bool:
        """Whether due_at is a forecast from the usage rate rather than a calendar date."""
        return self.basis != CALENDAR and self.due_at is not None

    def overdue_fraction(self, now: datetime) -> float:
        """How far past due, in intervals (0 when not overdue or unknown)."""
        if self.basis == CALENDAR:
            if self.due_at is None or self.every is None or now <= self.due_at:
                return 0.0
            return (now - self.due_at).total_seconds() / (self.every * SECONDS_PER_DAY)
        if self.remaining is None or self.every is None or self.remaining >= 0:
            return 0.0
        return -self.remaining / self.every

    def key(self) -> str:
        """This due point in words that stay the same as long as plan and anchor do."""
        if self.basis == CALENDAR:
            return f"{CALENDAR}={self.due_at.isoformat() if self.due_at else '-'}"
        return f"{self.basis}={self.due_value:.3f}" if self.due_value is not None else ""

    def summary(self, now: datetime) -> str:
        """Where the due point stands, e.g. "due in ~46 h of running, ≈ 5 days at current use"."""
        if self.basis == CALENDAR:
            return _calendar_summary(self.due_at, now)
        return _meter_summary(self, now)


@dataclass(frozen=True, slots=True)
class DueStatus:
    """Every interval of a plan on one unit; `first` is the one that comes first."""

    intervals: tuple[IntervalDue, ...]
    first: IntervalDue
    due_now: bool

    def due_key(self) -> str:
        """The occurrence's identity: every interval's due point."""
        return ";".join(k for k in (i.key() for i in self.intervals) if k)

    def overdue_fraction(self, now: datetime) -> float:
        return max((i.overdue_fraction(now) for i in self.intervals), default=0.0)


def due_status(intervals: Intervals, anchor: Anchor, usage: Usage, now: datetime) -> DueStatus:
    """The due points of every interval from the anchor, and whether notice is due now."""
    found: list[IntervalDue] = []
    if intervals.every_days is not None:
        due_at = anchor.done_at + timedelta(days=intervals.every_days)
        found.append(_calendar_due(due_at, float(intervals.every_days), intervals, now))
    if intervals.every_months is not None:
        due_at = add_months(anchor.done_at, intervals.every_months)
        length_days = (due_at - anchor.done_at).total_seconds() / SECONDS_PER_DAY
        found.append(_calendar_due(due_at, length_days, intervals, now))
    for meter in METERS:
        every = intervals.meter_every(meter)
        if every is not None:
            found.append(_meter_due(meter, every, intervals, anchor, usage, now))
    if not found:
        raise ValueError("a plan needs at least one interval")
    first = min(found, key=lambda i: _rank(i, now))
    return DueStatus(tuple(found), first, due_now=any(i.notify for i in found))


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time months later; the month's last day when it is shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def usage_rate(
    oldest: tuple[datetime, float] | None, current: float | None, now: datetime
) -> float | None:
    """Meter units per day from the oldest recent sample to now; None if unknown."""
    if oldest is None or current is None:
        return None
    span_s = (now - oldest[0]).total_seconds()
    if span_s < MIN_RATE_SPAN_H * 3600 or current < oldest[1]:
        return None
    return (current - oldest[1]) / (span_s / SECONDS_PER_DAY)


def meter_at(points: Sequence[tuple[datetime, float]], at: datetime) -> float | None:
    """A meter's value at a moment, interpolated between the samples around it.

    points are (time, value) in time order; before the first the first value counts, after
    the last the last one (meters never go down, so this errs by at most one gap's usage).
    """
    if not points:
        return None
    before = [p for p in points if p[0] <= at]
    after = [p for p in points if p[0] > at]
    if not before or not after:
        return (before[-1] if before else after[0])[1]
    (t0, v0), (t1, v1) = before[-1], after[0]
    share = (at - t0).total_seconds() / (t1 - t0).total_seconds()
    return v0 + (v1 - v0) * share


def _calendar_due(
    due_at: datetime, length_days: float, intervals: Intervals, now: datetime
) -> IntervalDue:
    notify = now >= due_at - timedelta(days=intervals.lead_days)
    return IntervalDue(CALENDAR, due_at, every=length_days, notify=notify)


def _meter_due(
    meter: str, every: float, intervals: Intervals, anchor: Anchor, usage: Usage, now: datetime
) -> IntervalDue:
    start, current, rate = anchor.meter(meter), usage.meter(meter), usage.rate(meter)
    if start is None or current is None:
        return IntervalDue(meter, None, every=every)
    due_value = start + every
    remaining = due_value - current
    due_at = None
    if rate is not None and rate > 0:
        due_at = now + timedelta(days=remaining / rate)
    notify = remaining <= intervals.meter_lead(meter) or (
        due_at is not None and now >= due_at - timedelta(days=intervals.lead_days)
    )
    return IntervalDue(meter, due_at, due_value, remaining, every, rate, notify)


def _rank(interval: IntervalDue, now: datetime) -> tuple[int, datetime]:
    if interval.due_at is not None:
        return (0, interval.due_at)
    if interval.remaining is not None and interval.remaining <= 0:
        return (0, now)
    # A meter interval without a forecast cannot be placed in time: after every dated one.
    return (1, now)


def _calendar_summary(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return "due date unknown"
    days = (due_at - now).total_seconds() / SECONDS_PER_DAY
    if days >= 0:
        return f"due on {due_at.date().isoformat()} (in {_span(days)})"
    return f"overdue by {_span(-days)} (was due {due_at.date().isoformat()})"


def _meter_summary(interval: IntervalDue, now: datetime) -> str:
    units = METER_UNITS[interval.basis]
    if interval.remaining is None:
        return f"no {interval.basis} reading yet"
    amount = _amount(abs(interval.remaining))
    if interval.remaining < 0:
        return f"overdue by {amount} {units}"
    text = f"due in ~{amount} {units}"
    if interval.due_at is None:
        return f"{text} (usage rate not known yet)"
    days = max(0.0, (interval.due_at - now).total_seconds() / SECONDS_PER_DAY)
    return f"{text}, ≈ {_span(days)} at current use"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _span(days: float) -> str:
    if days < 1:
        return f"{days * 24:.0f} h"
    return f"{days:.0f} day" if round(days) == 1 else f"{days:.0f} days"
