"""GPS visits acting on engineers' statuses (the rules: tickets.engineers.status). Each change
is written to the engineer's status log with the visit event that caused it.

A visit event changes nothing when it already did (a redelivery), or when it happened before
the engineer's latest logged change (a status set by hand after the GPS fact wins).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import psycopg

from tickets.engineers import repository as engineers
from tickets.engineers import status as rules
from tickets.engineers.models import EngineerStatus
from tickets.engineers.status import StatusChange
from tickets.field import repository

# actor_kind, actor_id: as the tickets GPS moves name it in their history.
GPS: Final = ("system", "gps")


async def arrived(
    *, conn: psycopg.AsyncConnection, engineer_id: str, site_id: str, at: datetime, event_id: str
) -> EngineerStatus | None:
    """Put the engineer on site if a ticket of theirs at the site is; the new status, if any."""
    current = await _changeable(conn, engineer_id, at, event_id)
    if current is None:
        return None
    ticket_id = await repository.ticket_on_site(conn, engineer_id, site_id)
    target = rules.on_arrival(current, working_here=ticket_id is not None)
    if target is None:
        return None
    reason = f"GPS: arrived at site {site_id}"
    await _apply(
        conn,
        StatusChange(engineer_id, at, current, target, *GPS, reason, event_id, site_id, ticket_id),
    )
    return target


async def departed(
    *, conn: psycopg.AsyncConnection, engineer_id: str, site_id: str, at: datetime, event_id: str
) -> EngineerStatus | None:
    """Take an on-site engineer off site: en route or available; the new status, if any."""
    current = await _changeable(conn, engineer_id, at, event_id)
    if current is None:
        return None
    heading_to = await repository.ticket_en_route_elsewhere(conn, engineer_id, site_id)
    target = rules.on_departure(
        current,
        still_on_a_site=await repository.at_a_site_on_site(conn, engineer_id),
        heading_elsewhere=heading_to is not None,
    )
    if target is None:
        return None
    reason = f"GPS: left site {site_id}"
    await _apply(
        conn,
        StatusChange(engineer_id, at, current, target, *GPS, reason, event_id, site_id, heading_to),
    )
    return target


async def _changeable(
    conn: psycopg.AsyncConnection, engineer_id: str, at: datetime, event_id: str
) -> EngineerStatus | None:
    """The engineer's status (their row locked) if this event may change it, else None."""
    status = await engineers.status_of(conn, engineer_id)
    if status is None:
        return None
    last_at, applied = await engineers.last_status_change(conn, engineer_id, event_id)
    if applied or (last_at is not None and at < last_at):
        return None
    return EngineerStatus(status)


async def _apply(conn: psycopg.AsyncConnection, change: StatusChange) -> None:
    await engineers.set_status(conn, change.engineer_id, change.to_status.value)
    await engineers.log_status(conn, change)
