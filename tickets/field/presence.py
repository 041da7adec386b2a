"""Proof of presence: a ticket completed with no GPS visit at its site during the work is
flagged `closed_without_visit` and the planners are told; work claimed on two tickets at
different sites over overlapping times is refused.

Call both from the complete action: `refuse_overlapping_work` before it (it raises Conflict),
`check_presence` after it, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import psycopg

from kernel.clock import utcnow
from kernel.errors import Conflict
from tickets import repository as tickets_repository
from tickets import service as tickets
from tickets.field import repository
from tickets.field.models import PresenceCheck, WorkOverlap
from tickets.notify.outbox import notify_planners, summary

CLOSED_WITHOUT_VISIT: Final = "closed_without_visit"
# GPS drops out (tunnels, basements, a phone in power saving): a visit this close to the
# work, before or after it, still proves presence.
DEFAULT_GPS_GAP_S: Final = 900.0


async def check_presence(
    *, conn: psycopg.AsyncConnection, ticket_id: int, gps_gap_s: float = DEFAULT_GPS_GAP_S
) -> PresenceCheck:
    """Judge a completed ticket; flag it and notify the planners (once) if nobody was there."""
    ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    engineer_id, site_id, done_at = ticket.assignee_id, ticket.site_id, ticket.completed_at
    if done_at is None or engineer_id is None or site_id is None:
        return PresenceCheck(ticket_id, "not_checked", "not completed, or no assignee or site")
    if not await repository.engineer_tracked(conn, engineer_id):
        return PresenceCheck(ticket_id, "not_checked", f"no device places {engineer_id}")
    gap = timedelta(seconds=gps_gap_s)
    lo = (ticket.arrived_at or ticket.accepted_at or done_at) - gap
    hi = done_at + gap
    if await repository.visited(conn, engineer_id=engineer_id, site_id=site_id, lo=lo, hi=hi):
        return PresenceCheck(ticket_id, "visited", f"GPS visit at {site_id}")
    if await repository.add_flag(conn, ticket_id, CLOSED_WITHOUT_VISIT):
        fixes = await repository.fixes_between(conn, engineer_id=engineer_id, lo=lo, hi=hi)
        await _report(conn, ticket_id, engineer_id, (lo, hi), gps_gap_s, fixes)
    return PresenceCheck(ticket_id, CLOSED_WITHOUT_VISIT, f"no GPS visit at {site_id}")


async def _report(
    conn: psycopg.AsyncConnection,
    ticket_id: int,
    engineer_id: str,
    window: tuple[datetime, datetime],
    gps_gap_s: float,
    fixes: int,
) -> None:
    facts = {
        "engineer_id": engineer_id,
        "searched_from": window[0].isoformat(),
        "searched_to": window[1].isoformat(),
        "gps_gap_s": gps_gap_s,
        # None at all: the GPS was off or unreachable; some: the engineer was elsewhere.
        "gps_fixes": fixes,
    }
    await tickets_repository.add_history(
        conn,
        ticket_id,
        actor_kind="system",
        actor_id="gps",
        action="flag",
        from_status=None,
        to_status=None,
        reason=f"{CLOSED_WITHOUT_VISIT}: no GPS visit at the site during the work",
        details={"flag": CLOSED_WITHOUT_VISIT, **facts},
    )
    flagged = await tickets.get(conn=conn, ticket_id=ticket_id)
    await notify_planners(conn, summary(flagged, CLOSED_WITHOUT_VISIT, presence=facts))


async def find_work_overlap(
    *, conn: psycopg.AsyncConnection, ticket_id: int, completed_at: datetime | None = None
) -> WorkOverlap | None:
    """The first completed ticket elsewhere whose work overlaps this ticket's, if any.

    This ticket's work runs from its arrival (else acceptance) to completed_at (default: its
    completion, else now). Tickets at the same site may overlap: one visit serves several.
    """
    ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    work_from = ticket.arrived_at or ticket.accepted_at
    if ticket.assignee_id is None or work_from is None:
        return None
    work_to = completed_at or ticket.completed_at or utcnow()
    other = await repository.overlapping_work(
        conn,
        ticket_id=ticket_id,
        engineer_id=ticket.assignee_id,
        site_id=ticket.site_id,
        lo=work_from,
        hi=work_to,
    )
    if other is None:
        return None
    return WorkOverlap(ticket_id, work_from, work_to, *other)


async def refuse_overlapping_work(
    *, conn: psycopg.AsyncConnection, ticket_id: int, completed_at: datetime | None = None
) -> None:
    """Raise Conflict if completing the ticket now claims time already claimed elsewhere."""
    overlap = await find_work_overlap(conn=conn, ticket_id=ticket_id, completed_at=completed_at)
    if overlap is not None:
        raise Conflict(
            f"the work on ticket {ticket_id} ({overlap.work_from:%Y-%m-%d %H:%M} to "
            f"{overlap.work_to:%H:%M} UTC) overlaps the work on ticket {overlap.other_ticket_id} "
            f"at site {overlap.other_site_id} ({overlap.other_from:%Y-%m-%d %H:%M} to "
            f"{overlap.other_to:%H:%M} UTC) by the same engineer"
        )
