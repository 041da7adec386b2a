"""GPS visits acting on tickets: arriving at the site of a ticket the engineer accepted (or
drives to) puts it on site at the GPS arrival time; leaving the site of an open ticket is
written into its history. The engineers' statuses follow (tickets.field.engineer_status).
All of it is idempotent, so a redelivered event changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import psycopg

from kernel.errors import DomainError
from kernel.events import DomainEvent, SiteEntered, SiteLeft
from tickets import repository as tickets_repository
from tickets import service as tickets
from tickets.domain.lifecycle import Action
from tickets.field import engineer_status, repository
from tickets.models import ActionIn
from tickets.service import ActorRef

log = logging.getLogger(__name__)

GPS = ActorRef.system("gps")


async def apply_visit_event(*, conn: psycopg.AsyncConnection, event: DomainEvent) -> list[int]:
    """Apply a SiteEntered or SiteLeft (others are ignored); the ids of the tickets it touched."""
    if isinstance(event, SiteEntered):
        return await arrive(conn=conn, event_id=event.event_id, evidence=event.evidence)
    if isinstance(event, SiteLeft):
        return await record_departure(conn=conn, event_id=event.event_id, evidence=event.evidence)
    return []


async def arrive(
    *, conn: psycopg.AsyncConnection, event_id: str, evidence: dict[str, Any]
) -> list[int]:
    """Move the engineers' accepted or en-route tickets at the visited site to on_site."""
    device_id, site_id = str(evidence["device_id"]), str(evidence["site_id"])
    arrived_at = datetime.fromisoformat(evidence["arrived_at"])
    engineers = await repository.engineers_of_device(conn, device_id)
    moved = []
    for ticket_id, accepted_at in await repository.tickets_to_arrive(conn, engineers, site_id):
        # Already there when accepting: the work (and the arrive SLA) starts at acceptance.
        at = max(arrived_at, accepted_at) if accepted_at else arrived_at
        action_in = ActionIn(at=at, reason=f"GPS: {device_id} at site {site_id}")
        try:
            async with conn.transaction():  # a savepoint: one refused ticket spoils no other
                await tickets.act(
                    conn=conn,
                    ticket_id=ticket_id,
                    action=Action.ARRIVE,
                    actor=GPS,
                    action_in=action_in,
                )
        except DomainError as exc:  # changed since it was read (declined, reassigned...)
            log.info("GPS arrival left ticket %d as it is: %s", ticket_id, exc)
            continue
        moved.append(ticket_id)
    for engineer_id in engineers:
        await engineer_status.arrived(
            conn=conn, engineer_id=engineer_id, site_id=site_id, at=arrived_at, event_id=event_id
        )
    return moved


async def record_departure(
    *, conn: psycopg.AsyncConnection, event_id: str, evidence: dict[str, Any]
) -> list[int]:
    """Write the departure into the history of the engineers' open tickets at that site."""
    device_id, site_id = str(evidence["device_id"]), str(evidence["site_id"])
    departed_at = datetime.fromisoformat(evidence["departed_at"])
    engineers = await repository.engineers_of_device(conn, device_id)
    worked = await repository.tickets_worked_at(conn, engineers, site_id, event_id)
    details = {
        "event_id": event_id,
        "device_id": device_id,
        "site_id": site_id,
        **{k: evidence.get(k) for k in ("arrived_at", "departed_at", "duration_s", "reason")},
    }
    for ticket_id, status in worked:
        await tickets_repository.add_history(
            conn,
            ticket_id,
            actor_kind=GPS.kind.value,
            actor_id=GPS.id,
            action="departed",
            from_status=status,
            to_status=status,
            reason=f"GPS: {device_id} left site {site_id}",
            details=details,
        )
    for engineer_id in engineers:
        await engineer_status.departed(
            conn=conn, engineer_id=engineer_id, site_id=site_id, at=departed_at, event_id=event_id
        )
    return [ticket_id for ticket_id, _ in worked]
