"""Turning domain events into tickets: one open ticket per (equipment, kind, cause),
a repeated event adds evidence to it, and the same event_id twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from kernel.errors import Invalid
from tickets import repository
from tickets import service as tickets
from tickets.models import Kind, Priority, TicketCreate, TicketRead
from tickets.service import ActorRef

# The event's severity, raised by the unit's criticality, gives the ticket priority.
PRIORITY_BY_SEVERITY = {"low": Priority.LOW, "medium": Priority.NORMAL, "high": Priority.HIGH}
RAISE_FOR_CRITICALITY = {"high": 1, "critical": 2}
PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.CRITICAL]
SILENT_TICKET_CRITICALITIES = frozenset({"critical"})


@dataclass(frozen=True)
class Outcome:
    """What an event did: opened a ticket, added evidence to one, or nothing."""

    ticket: TicketRead | None
    opened: bool


async def open_from_event(*, conn: psycopg.AsyncConnection, event: dict[str, Any]) -> Outcome:
    """Apply one event (call inside a transaction); idempotent by event_id."""
    event_id = _required(event, "event_id")
    if not await repository.claim_event(conn, event_id):
        return Outcome(None, opened=False)
    unit = await _unit(conn, _equipment_id(event))
    spec = ticket_spec(event, criticality=unit.get("criticality", "normal"))
    if spec is None:
        return Outcome(None, opened=False)
    ticket_in, cause, resolve_by = spec
    ticket_in = ticket_in.model_copy(update={"site_id": unit.get("site_id")})
    existing = await repository.find_open_by_cause(
        conn, equipment_id=ticket_in.equipment_id, kind=ticket_in.kind.value, cause=cause
    )
    if existing is not None:
        await _add_evidence(conn, existing, event)
        return Outcome(await tickets.get(conn=conn, ticket_id=existing), opened=False)
    ticket = await tickets.create(
        conn=conn,
        ticket_in=ticket_in,
        actor=ActorRef.system(f"event:{event['type']}"),
        cause=cause,
        evidence=[_evidence(event)],
        resolve_by=resolve_by,
    )
    await repository.link_event(conn, event_id, ticket.id)
    return Outcome(ticket, opened=True)


def ticket_spec(
    event: dict[str, Any], *, criticality: str
) -> tuple[TicketCreate, str, datetime | None] | None:
    """The ticket an event calls for, its de-duplication cause and due date; None if none."""
    kind = event.get("type")
    equipment_id = _equipment_id(event)
    evidence = event.get("evidence") or {}
    if kind == "AnomalyDetected":
        anomaly = str(evidence.get("kind", "anomaly"))
        priority = _priority(str(evidence.get("severity", "medium")), criticality)
        title = f"Anomaly ({anomaly}) on {equipment_id}"
        return (
            TicketCreate(
                kind=Kind.ANOMALY,
                priority=priority,
                title=title,
                equipment_id=equipment_id,
                work_type="diagnostics",
                required_skills=evidence.get("skills") or {},
            ),
            f"anomaly:{anomaly}",
            None,
        )
    if kind == "MaintenanceDue":
        return _maintenance(event, equipment_id, evidence)
    if kind == "DeviceSilent" and criticality in SILENT_TICKET_CRITICALITIES:
        title = f"Inspection: {equipment_id} stopped reporting"
        return (
            TicketCreate(
                kind=Kind.INSPECTION,
                priority=Priority.HIGH,
                title=title,
                equipment_id=equipment_id,
                work_type="inspection",
            ),
            "silent",
            None,
        )
    return None


def _maintenance(
    event: dict[str, Any], equipment_id: str | None, evidence: dict[str, Any]
) -> tuple[TicketCreate, str, datetime | None]:
    plan = str(evidence.get("plan_id", "plan"))
    due = evidence.get("due_at")
    ticket_in = TicketCreate(
        kind=Kind.MAINTENANCE_DUE,
        priority=Priority.NORMAL,
        title=f"{evidence.get('work_type', 'Maintenance')} due on {equipment_id}",
        equipment_id=equipment_id,
        work_type=evidence.get("work_type"),
        required_skills=evidence.get("skills") or {},
        estimated_h=evidence.get("duration_h"),
        checklist=evidence.get("checklist") or [],
    )
    return ticket_in, f"plan:{plan}", datetime.fromisoformat(due) if due else None


def _priority(severity: str, criticality: str) -> Priority:
    base = PRIORITY_ORDER.index(PRIORITY_BY_SEVERITY.get(severity, Priority.NORMAL))
    raised = min(base + RAISE_FOR_CRITICALITY.get(criticality, 0), len(PRIORITY_ORDER) - 1)
    return PRIORITY_ORDER[raised]


def _equipment_id(event: dict[str, Any]) -> str | None:
    subject = event.get("subject") or {}
    return str(subject["id"]) if subject.get("kind") == "equipment" and "id" in subject else None


def _required(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise Invalid(f"event without {name}", fields={name: "required"})
    return value


def _evidence(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event["event_id"],
        "type": event.get("type"),
        "occurred_at": event.get("occurred_at"),
        **(event.get("evidence") or {}),
    }


async def _add_evidence(
    conn: psycopg.AsyncConnection, ticket_id: int, event: dict[str, Any]
) -> None:
    await repository.add_evidence(conn, ticket_id, _evidence(event))
    await repository.link_event(conn, event["event_id"], ticket_id)
    await repository.add_history(
        conn,
        ticket_id,
        actor_kind="system",
        actor_id=f"event:{event.get('type')}",
        action="evidence",
        from_status=None,
        to_status=None,
        details={"event_id": event["event_id"]},
    )


async def _unit(conn: psycopg.AsyncConnection, equipment_id: str | None) -> dict[str, Any]:
    if equipment_id is None:
        return {}
    cur = await conn.execute(
        "SELECT criticality, site_id FROM assets.equipment WHERE id = %s", (equipment_id,)
    )
    row = await cur.fetchone()
    return {} if row is None else {"criticality": row[0], "site_id": row[1]}
