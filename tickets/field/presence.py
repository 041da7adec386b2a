"""Proof of presence: a ticket completed with no GPS visit at its site during the work is
flagged `closed_without_visit`, one whose completion names (in assisted_by) an engineer GPS
did not place there is flagged `assisting_engineer_not_on_site`, and the planners are told;
work claimed on two tickets at different sites over overlapping times is refused.

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
from tickets.field.models import (
    AssistingCheck,
    AssistingVerdict,
    PresenceCheck,
    Verdict,
    WorkOverlap,
)
from tickets.models import TicketRead
from tickets.notify.outbox import notify_planners, summary

CLOSED_WITHOUT_VISIT: Final = "closed_without_visit"
ASSISTING_NOT_ON_SITE: Final = "assisting_engineer_not_on_site"
# GPS drops out (tunnels, basements, a phone in power saving): a visit this close to the
# work, before or after it, still proves presence.
DEFAULT_GPS_GAP_S: Final = 900.0
REASONS: Final = {
    CLOSED_WITHOUT_VISIT: "no GPS visit at the site during the work",
    ASSISTING_NOT_ON_SITE: "{engineer_id}, named on the completion, was not at the site by GPS",
}

Window = tuple[datetime, datetime]


async def check_presence(
    *, conn: psycopg.AsyncConnection, ticket_id: int, gps_gap_s: float = DEFAULT_GPS_GAP_S
) -> PresenceCheck:
    """Judge a completed ticket: its assignee, and each engineer its completion names in
    assisted_by. Whoever GPS did not place at the site flags the ticket, and the planners
    are told (once per flag)."""
    ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    window = work_window(ticket, gps_gap_s)
    if window is None or ticket.site_id is None:
        return PresenceCheck(ticket_id, "not_checked", "not completed, or no site")
    verdict, reason = await _check_assignee(conn, ticket, ticket.site_id, window, gps_gap_s)
    assisting = await _check_assisting(conn, ticket, ticket.site_id, window, gps_gap_s)
    return PresenceCheck(ticket_id, verdict, reason, assisting)


def work_window(ticket: TicketRead, gps_gap_s: float) -> Window | None:
    """The work, from arrival (else acceptance, else completion) to completion, widened by
    the GPS gap on both sides; None for a ticket not completed."""
    done_at = ticket.completed_at
    if done_at is None:
        return None
    gap = timedelta(seconds=gps_gap_s)
    return (ticket.arrived_at or ticket.accepted_at or done_at) - gap, done_at + gap


async def _check_assignee(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    site_id: str,
    window: Window,
    gps_gap_s: float,
) -> tuple[Verdict, str]:
    """Judge the assignee; flag the ticket if they were not there."""
    engineer_id = ticket.assignee_id
    if engineer_id is None:
        return "not_checked", "no assignee"
    verdict = await _judge(conn, engineer_id, site_id, window)
    if verdict == "not_checked":
        return verdict, f"no device places {engineer_id}"
    if verdict == "visited":
        return verdict, f"GPS visit at {site_id}"
    if await repository.add_flag(conn, ticket.id, CLOSED_WITHOUT_VISIT):
        await _report(conn, ticket.id, CLOSED_WITHOUT_VISIT, engineer_id, window, gps_gap_s)
    return CLOSED_WITHOUT_VISIT, f"no GPS visit at {site_id}"


async def _check_assisting(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    site_id: str,
    window: Window,
    gps_gap_s: float,
) -> tuple[AssistingCheck, ...]:
    """Judge each engineer the completion names; flag the ticket if one was elsewhere."""
    checks = [
        AssistingCheck(engineer_id, await _judge(conn, engineer_id, site_id, window))
        for engineer_id in await repository.assisted_by(conn, ticket.id)
    ]
    absent = [check.engineer_id for check in checks if check.verdict == "not_on_site"]
    if absent and await repository.add_flag(conn, ticket.id, ASSISTING_NOT_ON_SITE):
        for engineer_id in absent:
            await _report(conn, ticket.id, ASSISTING_NOT_ON_SITE, engineer_id, window, gps_gap_s)
    return tuple(checks)


async def _judge(
    conn: psycopg.AsyncConnection, engineer_id: str, site_id: str, window: Window
) -> AssistingVerdict:
    """Whether GPS placed the engineer at the site in the window (no device: not checked)."""
    if not await repository.engineer_tracked(conn, engineer_id):
        return "not_checked"
    lo, hi = window
    if await repository.visited(conn, engineer_id=engineer_id, site_id=site_id, lo=lo, hi=hi):
        return "visited"
    return "not_on_site"


async def _report(
    conn: psycopg.AsyncConnection,
    ticket_id: int,
    flag: str,
    engineer_id: str,
    window: Window,
    gps_gap_s: float,
) -> None:
    """Write the flag's facts into the ticket's history and tell the planners."""
    fixes = await repository.fixes_between(
        conn, engineer_id=engineer_id, lo=window[0], hi=window[1]
    )
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
        reason=f"{flag}: {REASONS[flag].format(engineer_id=engineer_id)}",
        details={"flag": flag, **facts},
    )
    flagged = await tickets.get(conn=conn, ticket_id=ticket_id)
    await notify_planners(conn, summary(flagged, flag, presence=facts))


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
