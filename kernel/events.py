"""The domain-event vocabulary of `toir.events`: past-tense facts the stream and the
tickets service publish, with a stable JSON form.

Every event carries an `event_id` derived from what it is about (so a replay yields the
same id and consumers de-duplicate), the time it happened, its subject and the evidence
that caused it. On the wire (one Kafka value, keyed by subject id):

    {"event_id": "…", "type": "DeviceSilent", "occurred_at": "2025-01-01T00:00:00+00:00",
     "subject": {"kind": "equipment", "id": "pump-7"}, "evidence": {…}}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import orjson

# Namespace of the uuid5 event ids of this vocabulary; never change it (ids would move).
EVENT_NAMESPACE: Final = uuid.UUID("0b6c3f1e-9a52-4f0e-8d7a-5e2c1d4b7a90")


class SubjectKind(StrEnum):
    """What an event is about."""

    EQUIPMENT = "equipment"
    VEHICLE = "vehicle"
    DEVICE = "device"
    SITE = "site"
    TICKET = "ticket"
    ENGINEER = "engineer"


class EventDecodeError(ValueError):
    """Bytes that are not one event of this vocabulary."""


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str


def event_id_for(event_type: str, *parts: object) -> str:
    """A deterministic event id: the same type and parts always give the same id."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "\x1f".join([event_type, *map(str, parts)])))


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Base of every event; the concrete class name is the event's `type`."""

    event_id: str
    occurred_at: datetime
    subject: Subject
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values (occurred_at as ISO-8601 in UTC)."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "subject": {"kind": self.subject.kind.value, "id": self.subject.id},
            "evidence": self.evidence,
        }

    def to_json(self) -> bytes:
        """The Kafka value of the event."""
        return orjson.dumps(self.to_dict(), option=orjson.OPT_NON_STR_KEYS)

    @classmethod
    def from_json(cls, value: bytes | str) -> DomainEvent:
        """The event a Kafka value holds; EventDecodeError if it is not one.

        Called on the base class it returns whichever event type the value names; called on
        a concrete class it also checks the type. Evidence comes back as parsed JSON.
        """
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise EventDecodeError(f"not JSON: {exc}") from exc
        event = _from_dict(data)
        if not isinstance(event, cls):
            raise EventDecodeError(f"a {event.type} event, not {cls.__name__}")
        return event


def _from_dict(data: object) -> DomainEvent:
    if not isinstance(data, dict):
        raise EventDecodeError("not a JSON object")
    event_type = EVENT_TYPES.get(str(data.get("type")))
    if event_type is None:
        raise EventDecodeError(f"unknown event type {data.get('type')!r}")
    try:
        subject = data["subject"]
        evidence = data.get("evidence") or {}
        if not isinstance(evidence, dict):
            raise TypeError("evidence is not an object")
        occurred_at = datetime.fromisoformat(data["occurred_at"])
        if occurred_at.tzinfo is None:
            raise ValueError("occurred_at has no offset")
        return event_type(
            event_id=str(data["event_id"]),
            occurred_at=occurred_at,
            subject=Subject(SubjectKind(subject["kind"]), str(subject["id"])),
            evidence=evidence,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EventDecodeError(f"malformed {event_type.__name__}: {exc}") from exc


def from_json(value: bytes | str) -> DomainEvent:
    """The event of any type that a Kafka value holds; EventDecodeError otherwise."""
    return DomainEvent.from_json(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyDetected(DomainEvent):
    """Telemetry of a unit departed from its learnt behaviour (evidence: kind, score, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceDue(DomainEvent):
    """A maintenance plan fell due by calendar or meter (evidence: plan, meter, due_at, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteEntered(DomainEvent):
    """A vehicle or phone arrived at a site (evidence: site_id, device_id, fixes, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteLeft(DomainEvent):
    """A vehicle or phone left a site after a visit (evidence: site_id, duration_s, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TripCompleted(DomainEvent):
    """A vehicle finished a trip between two stops (evidence: distance, duration, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaAtRisk(DomainEvent):
    """A ticket will miss an SLA deadline unless something changes (evidence: deadline, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaBreached(DomainEvent):
    """A ticket missed an SLA deadline (evidence: which deadline, by how much, …)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSilent(DomainEvent):
    """A device reported nothing for longer than its expected interval.

    Subject: the equipment or vehicle the device reports for, else the device itself.
    Evidence: device_id, last_seen (newest device timestamp), last_received (when the
    platform last stored data from it), expected_interval_s.
    """


EVENT_TYPES: Final[dict[str, type[DomainEvent]]] = {
    cls.__name__: cls
    for cls in (
        AnomalyDetected,
        MaintenanceDue,
        SiteEntered,
        SiteLeft,
        TripCompleted,
        SlaAtRisk,
        SlaBreached,
        DeviceSilent,
    )
}
