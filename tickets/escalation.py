"""SLA watch and its reactions: warn, reassign, or escalate to the planner on duty.

Each deadline (accept, arrive, resolve) is watched while still pending. At the risk
share of its time a warning goes out once; past it, a breach is recorded once. The
reactions follow the field-service custom: an unaccepted ticket is reassigned (the
silent engineer excluded), an arrival at risk is reassigned only if someone can get
there sooner by a margin, a resolution breach goes to the planner on duty.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from kernel.metrics import SLA_WATCH_FAILURES
from tickets import repository
from tickets import service as tickets
from tickets.assign import auto_assign, ticket_demand
from tickets.assignment import EngineerTable, rank, select_rule
from tickets.domain.lifecycle import TRANSITIONS, Action
from tickets.domain.sla import add_minutes, share_used
from tickets.models import ActionIn, TicketRead
from tickets.notify.outbox import notify, notify_planners, summary
from tickets.roster import load_profiles
from tickets.rules_repository import load_rules
from tickets.service import ActorRef

log = logging.getLogger(__name__)

MAX_REASSIGNMENTS = 3
ARRIVAL_MARGIN_MIN = 10.0
# An escalation carries the ticket's story; a long-lived ticket's oldest steps stay in the API.
HISTORY_SENT = 50
# Where an escalation may take the ticket off its engineer (not from on hold: a planner's).
RELEASABLE = frozenset(TRANSITIONS[Action.UNASSIGN])
EVENT_NAMESPACE = uuid.UUID("6f1c1d52-8f0e-4d7a-9b37-1b0f5b4e8a21")

# The open tickets with a deadline at risk or past and not yet warned of: what `due_warnings`
# looks for, done by the database so that a run costs what is due, not what is open. The
# risk test is a second looser than Python's arithmetic, which has the last word.
DUE_SQL = """
SELECT t.id FROM tickets.tickets t
WHERE t.status IN ('assigned', 'accepted', 'en_route', 'on_site', 'new', 'on_hold', 'declined')
  AND t.resolve_by IS NOT NULL
  AND EXISTS (
    SELECT FROM (VALUES
        ('accept', CASE WHEN t.accepted_at IS NULL AND t.assignee_id IS NOT NULL
                        THEN t.accept_by END),
        ('arrive', CASE WHEN t.arrived_at IS NULL THEN t.arrive_by END),
        ('resolve', CASE WHEN t.completed_at IS NULL THEN t.resolve_by END)
    ) AS d (deadline, due)
    WHERE (d.due < %(now)s AND NOT (d.deadline || '_breached') = ANY (t.sla_warned))
       OR (d.due >= %(now)s AND NOT (d.deadline || '_at_risk') = ANY (t.sla_warned)
           AND t.created_at + (d.due - t.created_at) * %(share)s
               <= %(now)s + interval '1 second')
  )
ORDER BY t.id
"""


@dataclass(frozen=True)
class SlaEvent:
    """A SlaAtRisk or SlaBreached event for toir.events."""

    type: str
    ticket_id: int
    deadline: str
    due_at: datetime

    def to_json(self) -> dict[str, Any]:
        name = f"{self.type}:{self.ticket_id}:{self.deadline}:{self.due_at.isoformat()}"
        return {
            "event_id": str(uuid.uuid5(EVENT_NAMESPACE, name)),
            "type": self.type,
            "occurred_at": self.due_at.isoformat(),
            "subject": {"kind": "ticket", "id": str(self.ticket_id)},
            "evidence": {"deadline": self.deadline, "due_at": self.due_at.isoformat()},
        }


def pending_deadlines(ticket: TicketRead) -> list[tuple[str, datetime]]:
    """The deadlines not met yet, by name."""
    pending: list[tuple[str, datetime]] = []
    if ticket.accepted_at is None and ticket.assignee_id and ticket.sla.accept_by:
        pending.append(("accept", ticket.sla.accept_by))
    if ticket.arrived_at is None and ticket.sla.arrive_by:
        pending.append(("arrive", ticket.sla.arrive_by))
    if ticket.completed_at is None and ticket.sla.resolve_by:
        pending.append(("resolve", ticket.sla.resolve_by))
    return pending


def due_warnings(
    ticket: TicketRead, warned: set[str], now: datetime, risk_share: float
) -> list[SlaEvent]:
    """The warnings and breaches this ticket has reached and not yet had."""
    found = []
    for deadline, due in pending_deadlines(ticket):
        if now > due and f"{deadline}_breached" not in warned:
            found.append(SlaEvent("SlaBreached", ticket.id, deadline, due))
        elif (
            share_used(ticket.created_at, due, now) >= risk_share
            and now <= due
            and f"{deadline}_at_risk" not in warned
        ):
            found.append(SlaEvent("SlaAtRisk", ticket.id, deadline, due))
    return found


async def watch(
    *, conn: psycopg.AsyncConnection, now: datetime, risk_share: float
) -> list[SlaEvent]:
    """Check every open ticket with something due; react and return the events to publish.

    Each ticket is checked and reacted to in a transaction of its own. One that fails is
    rolled back, logged with its id and counted (`toir_sla_watch_failures_total`), and the
    others go on; being unmarked, it is tried again next run. Only a lost connection ends
    the run early, since every ticket after it would fail the same way.
    """
    cur = await conn.execute(DUE_SQL, {"now": now, "share": risk_share})
    ids = await cur.fetchall()
    await conn.commit()
    emitted: list[SlaEvent] = []
    for (ticket_id,) in ids:
        try:
            emitted += await _watch_one(conn, ticket_id, now, risk_share)
        except Exception:
            if conn.broken or conn.closed:
                raise
            SLA_WATCH_FAILURES.inc()
            log.exception(
                "SLA watch failed on ticket %s; rolled back, tried again next run", ticket_id
            )
    return emitted


async def _watch_one(
    conn: psycopg.AsyncConnection, ticket_id: int, now: datetime, risk_share: float
) -> list[SlaEvent]:
    async with conn.transaction():
        ticket = await repository.get_ticket(conn, ticket_id, for_update=True)
        if ticket is None:
            return []
        warned = await _warned(conn, ticket_id)
        events = due_warnings(ticket, warned, now, risk_share)
        for event in events:
            await _mark(conn, ticket_id, warned, event)
            await react(conn=conn, ticket=ticket, event=event, now=now)
        return events


async def react(
    *, conn: psycopg.AsyncConnection, ticket: TicketRead, event: SlaEvent, now: datetime
) -> None:
    """The reaction to one warning or breach, recorded in the ticket's history."""
    await repository.add_history(
        conn,
        ticket.id,
        actor_kind="system",
        actor_id="sla",
        action=event.type,
        from_status=None,
        to_status=None,
        details={"deadline": event.deadline},
    )
    if event.type == "SlaAtRisk":
        await notify(conn, ticket, "sla_warning", deadline=event.deadline)
        if event.deadline == "arrive":
            await _reassign_if_sooner(conn, ticket, now)
    elif event.deadline == "accept":
        await reassign_after_timeout(conn=conn, ticket=ticket, now=now)
    else:
        await escalate(conn=conn, ticket=ticket, why=f"{event.deadline} deadline breached")


async def reassign_after_timeout(
    *, conn: psycopg.AsyncConnection, ticket: TicketRead, now: datetime
) -> None:
    """Not accepted in time: next best candidate, or the planner after too many tries."""
    await repository.add_history(
        conn,
        ticket.id,
        actor_kind="system",
        actor_id="sla",
        action="accept_timeout",
        from_status=None,
        to_status=None,
        reason="not accepted in time",
        details={"engineer_id": ticket.assignee_id},
    )
    tried = await refused_by(conn, ticket.id)
    if "manual" in ticket.flags:  # the planner's own choice stays until the planner changes it
        await escalate(conn=conn, ticket=ticket, why="not accepted in time")
    elif len(tried) >= MAX_REASSIGNMENTS:
        why = f"not accepted by {len(tried)} engineers"
        await escalate(conn=conn, ticket=ticket, why=why, release=True)
    else:
        await _reassign(conn, ticket, now, tried, "not accepted in time")


async def follow_up(
    *, conn: psycopg.AsyncConnection, ticket: TicketRead, now: datetime
) -> TicketRead:
    """After an engineer declines: reassign at once, never to who already refused."""
    if ticket.status.value != "declined":
        return ticket
    tried = await refused_by(conn, ticket.id)
    if len(tried) >= MAX_REASSIGNMENTS or "manual" in ticket.flags:
        why = f"declined by {len(tried)} engineers"
        await escalate(conn=conn, ticket=ticket, why=why, release=True)
        return await tickets.get(conn=conn, ticket_id=ticket.id)
    return await _reassign(conn, ticket, now, tried, "declined")


async def _reassign(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    now: datetime,
    tried: set[str],
    reason: str,
) -> TicketRead:
    """The next best engineer, with the policy's full time to accept."""
    reassigned = await auto_assign(
        conn=conn, ticket_id=ticket.id, now=now, exclude_ids=tried, reason=reason
    )
    if reassigned.assignee_id in (None, ticket.assignee_id):  # nobody fits, or held as it is
        return reassigned
    await _restart_accept_clock(conn, reassigned, now)
    return await tickets.get(conn=conn, ticket_id=ticket.id)


async def _restart_accept_clock(
    conn: psycopg.AsyncConnection, ticket: TicketRead, now: datetime
) -> None:
    """The new assignee gets the policy's full time to accept, counted as the policy counts."""
    policy = (
        await repository.sla_policy(
            conn, kind=ticket.kind.value, priority=ticket.priority.value, customer=ticket.customer
        )
        or tickets.DEFAULT_POLICY
    )
    warned = await _warned(conn, ticket.id) - {"accept_at_risk", "accept_breached"}
    await repository.update_status(
        conn,
        ticket.id,
        {
            "accept_by": add_minutes(now, policy.accept_within_min, policy.working_hours),
            "sla_warned": sorted(warned),
        },
    )


async def refused_by(conn: psycopg.AsyncConnection, ticket_id: int) -> set[str]:
    """Engineers who declined this ticket or let it time out."""
    cur = await conn.execute(
        "SELECT CASE WHEN action = 'decline' THEN actor_id ELSE details->>'engineer_id' END "
        "FROM tickets.history WHERE ticket_id = %s AND action IN ('decline', 'accept_timeout')",
        (ticket_id,),
    )
    return {row[0] for row in await cur.fetchall() if row[0]}


async def escalate(
    *, conn: psycopg.AsyncConnection, ticket: TicketRead, why: str, release: bool = False
) -> None:
    """Hand the ticket to the planner on duty: flagged, recorded, and pushed with its history.

    `release` also takes it off the assignee's list (nobody would take it): the engineer is
    told, and the planner sees it unassigned, as it now is.
    """
    await repository.update_status(conn, ticket.id, {"flags": sorted({*ticket.flags, "escalated"})})
    await repository.add_history(
        conn,
        ticket.id,
        actor_kind="system",
        actor_id="sla",
        action="escalate",
        from_status=None,
        to_status=None,
        reason=why,
    )
    if release and ticket.assignee_id is not None and ticket.status in RELEASABLE:
        await _release(conn, ticket.id, ticket.assignee_id)
    updated = await tickets.get(conn=conn, ticket_id=ticket.id)
    story = await _story(conn, ticket.id)
    await notify_planners(conn, summary(updated, "escalated", reason=why, history=story))


async def _release(conn: psycopg.AsyncConnection, ticket_id: int, engineer_id: str) -> None:
    released = await tickets.act(
        conn=conn,
        ticket_id=ticket_id,
        action=Action.UNASSIGN,
        actor=ActorRef.system("sla"),
        action_in=ActionIn(reason="escalated to the planner"),
    )
    await notify(conn, released, "unassigned", engineer_id=engineer_id)


async def _story(conn: psycopg.AsyncConnection, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's latest steps, as many as a planner's message carries."""
    entries = (await repository.history(conn, ticket_id))[-HISTORY_SENT:]
    return [entry.model_dump(mode="json", exclude={"id"}) for entry in entries]


async def _reassign_if_sooner(
    conn: psycopg.AsyncConnection, ticket: TicketRead, now: datetime
) -> None:
    demand = await ticket_demand(conn, ticket)
    if demand is None or ticket.assignee_id is None:
        return await escalate(conn=conn, ticket=ticket, why="arrival at risk")
    profiles = await load_profiles(conn, now, site_ids=[demand.site_id])
    table = EngineerTable.from_profiles(profiles)
    ranking = rank(demand, table, select_rule(await load_rules(conn), demand), now)
    travel = {c.engineer_id: c.travel_min for c in ranking.candidates()}
    current = travel.get(ticket.assignee_id, float("inf"))
    others = [(t, e) for e, t in travel.items() if e != ticket.assignee_id]
    best = min(others, default=None)
    if best is not None and best[0] + ARRIVAL_MARGIN_MIN < current:
        await auto_assign(
            conn=conn,
            ticket_id=ticket.id,
            now=now,
            exclude_ids={ticket.assignee_id},
            reason="arrival at risk",
        )
    else:
        await escalate(conn=conn, ticket=ticket, why="arrival at risk, nobody nearer")


async def _warned(conn: psycopg.AsyncConnection, ticket_id: int) -> set[str]:
    cur = await conn.execute("SELECT sla_warned FROM tickets.tickets WHERE id = %s", (ticket_id,))
    row = await cur.fetchone()
    return set(row[0]) if row else set()


async def _mark(
    conn: psycopg.AsyncConnection, ticket_id: int, warned: set[str], event: SlaEvent
) -> None:
    suffix = "breached" if event.type == "SlaBreached" else "at_risk"
    warned.add(f"{event.deadline}_{suffix}")
    await repository.update_status(conn, ticket_id, {"sla_warned": sorted(warned)})
