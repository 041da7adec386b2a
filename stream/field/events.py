"""The field-control events, typed: visits to sites and completed trips.

These are what the trackers emit; `to_domain_event` turns one into the platform vocabulary
(kernel.events) once the stream knows whose device it is. Times are epoch microseconds like
`Position.ts_us`. Event ids are derived from what the event is about (kernel.events
`event_id_for`), so a replay after a restart from a checkpoint yields the same ids and the
consumers' de-duplication drops the repeats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from kernel import events as vocabulary
from kernel.clock import from_epoch_us

LeaveReason = Literal["exited", "gap"]


def event_id(kind: str, *parts: object) -> str:
    """A stable id for the event of this kind about these parts."""
    return vocabulary.event_id_for(kind, *parts)


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


FieldEvent = SiteEntered | SiteLeft | TripCompleted

_VOCABULARY: dict[type[FieldEvent], type[vocabulary.DomainEvent]] = {
    SiteEntered: vocabulary.SiteEntered,
    SiteLeft: vocabulary.SiteLeft,
    TripCompleted: vocabulary.TripCompleted,
}


def to_domain_event(event: FieldEvent, subject: vocabulary.Subject) -> vocabulary.DomainEvent:
    """The event in the platform vocabulary, about subject (the vehicle or the engineer)."""
    return _VOCABULARY[type(event)](
        event_id=event.event_id,
        occurred_at=from_epoch_us(event.occurred_us),
        subject=subject,
        evidence=evidence_of(event),
    )


def evidence_of(event: FieldEvent) -> dict[str, Any]:
    """The event's facts as flat JSON-ready evidence; epoch-µs fields become ISO `_at` times."""
    facts = asdict(event)
    facts |= facts.pop("evidence", None) or {}
    del facts["event_id"], facts["occurred_us"]
    return {_at(key): _iso(key, value) for key, value in facts.items()}


def _at(key: str) -> str:
    return f"{key.removesuffix('_us')}_at" if key.endswith("_us") else key


def _iso(key: str, value: Any) -> Any:
    return from_epoch_us(value).isoformat() if key.endswith("_us") else value
