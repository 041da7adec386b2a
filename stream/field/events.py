"""The field-control domain events: visits to sites and completed trips.

Times are epoch microseconds like `Position.ts_us`; the stream turns them into `occurred_at`.
Event ids are derived from what the event is about, so a replay after a restart from a
checkpoint produces the same ids and the consumers' de-duplication drops the repeats.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

_NAMESPACE: Final = uuid.UUID("6f1c2a57-64a4-4c1e-9f0e-8e7f3b0f4a21")

LeaveReason = Literal["exited", "gap"]


def event_id(kind: str, *parts: object) -> str:
    """A stable id for the event of this kind about these subjects."""
    return str(uuid.uuid5(_NAMESPACE, ":".join([kind, *map(str, parts)])))


@dataclass(frozen=True, slots=True)
class VisitEvidence:
    """What the GPS saw during a visit: fixes inside, closest approach, their accuracy."""

    fixes: int
    min_centre_m: float
    first_fix_us: int
    last_fix_us: int
    mean_accuracy_m: float | None
    worst_accuracy_m: float | None


@dataclass(frozen=True, slots=True)
class SiteEntered:
    """A device has stayed at a site for the minimum dwell; arrived_us is its first fix inside."""

    event_id: str
    device_id: str
    site_id: str
    arrived_us: int
    occurred_us: int
    evidence: VisitEvidence


@dataclass(frozen=True, slots=True)
class SiteLeft:
    """A confirmed visit is over; departed_us is the last fix inside (see reason for why)."""

    event_id: str
    device_id: str
    site_id: str
    arrived_us: int
    departed_us: int
    duration_s: float
    occurred_us: int
    reason: LeaveReason
    evidence: VisitEvidence


DistanceSource = Literal["odometer", "gps"]


@dataclass(frozen=True, slots=True)
class TripCompleted:
    """A vehicle moved from one stop to the next; distance_m is from distance_source."""

    event_id: str
    device_id: str
    started_us: int
    ended_us: int
    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    distance_m: float
    distance_source: DistanceSource
    gps_distance_m: float
    odometer_distance_m: float | None
    duration_s: float
    max_speed_kmh: float
    avg_speed_kmh: float
    fixes: int
    start_site_id: str | None
    end_site_id: str | None
    occurred_us: int
