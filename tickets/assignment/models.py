"""What the engine knows about engineers and tickets, independent of how they are stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final, Literal, get_args

TicketKind = Literal["anomaly", "maintenance_due", "planned", "breakdown", "inspection"]
Priority = Literal["low", "normal", "high", "critical"]
EngineerStatus = Literal["available", "en_route", "on_site", "off"]
AbsenceKind = Literal["leave", "sick"]

# Greedy assignment serves tickets in this order.
PRIORITY_RANK: Final[Mapping[str, int]] = {"critical": 0, "high": 1, "normal": 2, "low": 3}
MAX_SKILL_LEVEL: Final = 100


@dataclass(frozen=True, slots=True)
class WeeklyShift:
    """A weekly working interval in the engineer's local time; end <= start runs past midnight."""

    weekday: int  # 0 = Monday, as datetime.weekday()
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")


@dataclass(frozen=True, slots=True)
class Absence:
    """Leave or sick days, both ends included, in the engineer's local dates."""

    first_day: date
    last_day: date
    kind: AbsenceKind = "leave"

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("an absence cannot end before it starts")


@dataclass(frozen=True, slots=True)
class EngineerProfile:
    """One engineer as the assignment engine sees them at the moment of assignment."""

    id: str
    timezone: str  # IANA name; shifts and absences are in this local time
    home_lat: float
    home_lon: float
    skills: Mapping[str, int] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()
    max_concurrent: int = 3
    status: EngineerStatus = "available"
    position_lat: float | None = None
    position_lon: float | None = None
    position_at: datetime | None = None  # when the fix was taken; its age is measured at `now`
    shifts: tuple[WeeklyShift, ...] = ()
    absences: tuple[Absence, ...] = ()
    preferred_by_customers: frozenset[str] = frozenset()
    open_tickets: int = 0
    open_hours: float = 0.0
    assigned_today: int = 0
    first_time_fix_rate: Mapping[str, float] = field(default_factory=dict)  # work type -> 0..1
    en_route_to_urgent: bool = False
    responsible_for: frozenset[str] = frozenset()  # equipment and site ids
    site_visits: Mapping[str, int] = field(default_factory=dict)  # site id -> visits

    def __post_init__(self) -> None:
        _check_choice("status", self.status, EngineerStatus)
        if self.max_concurrent < 0 or self.open_tickets < 0:
            raise ValueError(f"engineer {self.id}: negative max_concurrent or open_tickets")
        for skill, level in self.skills.items():
            if not 0 <= level <= MAX_SKILL_LEVEL:
                raise ValueError(f"engineer {self.id}: skill {skill} level {level} out of range")
        if self.position_at is not None and self.position_at.tzinfo is None:
            raise ValueError(f"engineer {self.id}: position_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class TicketDemand:
    """What a ticket asks for: who may do it, where, when and for how long."""

    id: str
    kind: TicketKind
    priority: Priority
    work_type: str
    site_id: str
    lat: float
    lon: float
    duration_h: float
    required_skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    customer_id: str | None = None
    area: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    equipment_id: str | None = None

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, TicketKind)
        _check_choice("priority", self.priority, Priority)
        if self.duration_h <= 0:
            raise ValueError(f"ticket {self.id}: duration_h must be positive")
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError(f"ticket {self.id}: a window needs both start and end")
        if self.window_start is not None and self.window_end is not None:
            _check_window(self.id, self.window_start, self.window_end)

    @property
    def has_window(self) -> bool:
        """Whether this is planned work with a time window."""
        return self.window_start is not None


def _check_choice(name: str, value: str, choices: object) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _check_window(ticket_id: str, start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"ticket {ticket_id}: window times must be timezone-aware")
    if end <= start:
        raise ValueError(f"ticket {ticket_id}: window must end after it starts")
