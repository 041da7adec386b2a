"""SLA deadlines: accept, arrive and resolve within so many minutes of creation,
counted around the clock or only in a policy's working hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_SEARCHED = 400  # a calendar with no working time at all must not loop forever


@dataclass(frozen=True)
class WorkingHours:
    """Working intervals per weekday (0 = Monday) in a time zone."""

    timezone: str
    days: dict[int, tuple[time, time]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> WorkingHours:
        raw_days = data.get("days", {})
        assert isinstance(raw_days, dict)
        days = {
            int(day): (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
            for day, span in raw_days.items()
        }
        return cls(str(data.get("timezone", "UTC")), days)


@dataclass(frozen=True)
class SlaPolicy:
    accept_within_min: int
    arrive_within_min: int
    resolve_within_min: int
    working_hours: WorkingHours | None = None


@dataclass(frozen=True)
class Deadlines:
    accept_by: datetime
    arrive_by: datetime
    resolve_by: datetime


def deadlines(policy: SlaPolicy, created_at: datetime) -> Deadlines:
    """The three deadlines of a ticket created at `created_at` under `policy`."""
    return Deadlines(
        accept_by=add_minutes(created_at, policy.accept_within_min, policy.working_hours),
        arrive_by=add_minutes(created_at, policy.arrive_within_min, policy.working_hours),
        resolve_by=add_minutes(created_at, policy.resolve_within_min, policy.working_hours),
    )


def add_minutes(start: datetime, minutes: int, hours: WorkingHours | None) -> datetime:
    """`start` plus `minutes` of (working) time."""
    if hours is None:
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(hours.timezone)
    local = start.astimezone(zone)
    remaining = timedelta(minutes=minutes)
    for _ in range(MAX_DAYS_SEARCHED):
        span = _working_span(local, hours, zone)
        if span is not None:
            begin, end = span
            available = end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
        local = _next_midnight(local, zone)
    raise ValueError("the working-hours calendar has no working time")


def _working_span(
    local: datetime, hours: WorkingHours, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The rest of today's working interval from `local`, if any is left."""
    interval = hours.days.get(local.weekday())
    if interval is None:
        return None
    day = local.date()
    begin = max(local, datetime.combine(day, interval[0], zone))
    end = datetime.combine(day, interval[1], zone)
    return (begin, end) if begin < end else None


def _next_midnight(local: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)


def share_used(created_at: datetime, deadline: datetime, now: datetime) -> float:
    """How much of the time to a deadline has passed (1.0 = due now)."""
    total = (deadline - created_at).total_seconds()
    return 1.0 if total <= 0 else (now - created_at).total_seconds() / total
