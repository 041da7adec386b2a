"""Automatic assignment of one ticket: the engine picks, the ticket service records it,
the explanation is stored, and nobody-fits is flagged for the planners."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tickets import repository
from tickets import service as tickets
from tickets.assignment import (
    Assigned,
    EngineerTable,
    TicketDemand,
    assign_one,
    select_rule,
)
from tickets.domain.lifecycle import Action, Status
from tickets.models import ActionIn, TicketRead
from tickets.notify.outbox import notify_planners, summary
from tickets.roster import load_profiles
from tickets.rules_repository import load_rules
from tickets.service import ActorRef

DEFAULT_DURATION_H = 1.0
ASSIGNABLE = frozenset(
    {Status.NEW, Status.DECLINED, Status.ASSIGNED, Status.ACCEPTED, Status.EN_ROUTE}
)
UNLOCATED = "the ticket has no site with a known location"
EXPLAINED_CANDIDATES = 10
EXCLUDED_IDS_KEPT = 20


def compact(explanation: dict[str, Any]) -> dict[str, Any]:
    """The stored explanation: every reason with its count, and the first few ids each."""
    excluded = explanation.get("excluded_by_reason", {})
    return {
        **explanation,
        "excluded_by_reason": {reason: ids[:EXCLUDED_IDS_KEPT] for reason, ids in excluded.items()},
        "excluded_counts": {reason: len(ids) for reason, ids in excluded.items()},
    }


async def auto_assign(
    *,
    conn: psycopg.AsyncConnection,
    ticket_id: int,
    now: datetime,
    exclude_ids: Collection[str] = (),
    reason: str = "new ticket",
) -> TicketRead:
    """Assign the ticket to the best engineer, or flag it unassignable with the reasons."""
    ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    return await assign_ticket(
        conn=conn, ticket=ticket, now=now, exclude_ids=exclude_ids, reason=reason
    )


async def assign_ticket(
    *,
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    now: datetime,
    exclude_ids: Collection[str] = (),
    reason: str = "new ticket",
) -> TicketRead:
    """As auto_assign, for a ticket read in this transaction and not changed since."""
    if ticket.status not in ASSIGNABLE or "manual" in ticket.flags:
        return ticket
    demand = await ticket_demand(conn, ticket)
    if demand is None:
        return await _unassignable(conn, ticket, [UNLOCATED], None)
    profiles = await load_profiles(conn, now, site_ids=[demand.site_id])
    table = EngineerTable.from_profiles(profiles)
    rule = select_rule(await load_rules(conn), demand)
    result = assign_one(demand, table, rule, now, exclude_ids=exclude_ids)
    explanation = compact(result.ranking.explanation(top_n=EXPLAINED_CANDIDATES))
    if not isinstance(result, Assigned):
        return await _unassignable(conn, ticket, list(result.reasons), explanation)
    await repository.update_status(conn, ticket.id, {"assignment_explanation": explanation})
    return await tickets.act(
        conn=conn,
        ticket_id=ticket.id,
        action=Action.ASSIGN,
        actor=ActorRef.system(f"assignment:{rule.id}"),
        action_in=ActionIn(assignee_id=result.engineer_id, reason=reason),
    )


async def ticket_demand(conn: psycopg.AsyncConnection, ticket: TicketRead) -> TicketDemand | None:
    """What the engine needs to know about a ticket; None without a located site."""
    if ticket.site_id is None:
        return None
    cur = await conn.execute(
        "SELECT lat, lon, customer, area FROM assets.sites WHERE id = %s", (ticket.site_id,)
    )
    site = await cur.fetchone()
    if site is None or site[0] is None or site[1] is None:
        return None
    return TicketDemand(
        id=str(ticket.id),
        kind=ticket.kind.value,
        priority=ticket.priority.value,
        work_type=ticket.work_type or ticket.kind.value,
        site_id=ticket.site_id,
        lat=float(site[0]),
        lon=float(site[1]),
        duration_h=ticket.estimated_h or DEFAULT_DURATION_H,
        required_skills=ticket.required_skills,
        customer_id=ticket.customer or site[2],
        area=site[3],
        equipment_id=ticket.equipment_id,
    )


async def _unassignable(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    reasons: list[str],
    explanation: dict[str, object] | None,
) -> TicketRead:
    changes: dict[str, object] = {
        "unassignable_reasons": Jsonb(reasons),
        "flags": sorted({*ticket.flags, "unassignable"}),
    }
    if explanation is not None:
        changes["assignment_explanation"] = Jsonb(explanation)
    if ticket.status is Status.DECLINED or ticket.assignee_id:
        changes.update(status=Status.NEW.value, assignee_id=None, accepted_at=None)
    updated = await repository.update_ticket(conn, ticket.id, changes)
    await repository.add_history(
        conn,
        ticket.id,
        actor_kind="system",
        actor_id="assignment",
        action="unassignable",
        from_status=ticket.status.value,
        to_status=str(changes.get("status", ticket.status.value)),
        reason="; ".join(reasons),
    )
    await notify_planners(conn, summary(updated, "unassignable", reasons=reasons))
    return updated
