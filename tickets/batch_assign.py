"""Batch assignment: every waiting ticket assigned jointly, maximising the total score within
engineer capacities, each assignment recorded with its explanation like a single one."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import psycopg
from pydantic import BaseModel, Field

from tickets import batch_repository, repository
from tickets import service as tickets
from tickets.assign import EXPLAINED_CANDIDATES, auto_assign, compact, ticket_demand
from tickets.assignment import (
    Assigned,
    AssignmentRule,
    EngineerTable,
    TicketDemand,
    assign_batch,
    assign_greedy,
)
from tickets.domain.lifecycle import Action
from tickets.escalation import refused_by
from tickets.models import ActionIn, TicketRead
from tickets.roster import load_profiles
from tickets.rules_repository import load_rules
from tickets.service import ActorRef

MAX_BATCH: Final = 1000  # the size the engine's benchmark holds to its time budget
BATCH_ACTOR: Final = "assignment:batch"
BATCH_REASON: Final = "batch assignment"
OBJECTIVE: Final = "maximum total score over the waiting tickets, within capacities"


class BatchAssignment(BaseModel):
    ticket_id: int
    engineer_id: str
    total: float | None = Field(
        default=None, description="The pair's score; None when assigned singly after the batch."
    )


class BatchLeftover(BaseModel):
    ticket_id: int
    reasons: list[str]


class BatchSummary(BaseModel):
    """What a batch run did, with the greedy total on the same data for comparison."""

    waiting: int
    assigned: list[BatchAssignment]
    unassignable: list[BatchLeftover]
    total_score: float = Field(description="Sum of the batch-assigned pairs' scores.")
    greedy_total_score: float = Field(description="What one ticket at a time would have scored.")


async def assign_waiting(*, conn: psycopg.AsyncConnection, now: datetime) -> BatchSummary:
    """Assign every ticket waiting in status new; the rest are flagged with their reasons."""
    waiting = await batch_repository.lock_waiting(conn, limit=MAX_BATCH)
    demands = [d for d in [await ticket_demand(conn, t) for t in waiting] if d is not None]
    exclude = {str(t.id): await refused_by(conn, t.id) for t in waiting}
    sites = {d.site_id for d in demands}
    table = EngineerTable.from_profiles(await load_profiles(conn, now, site_ids=sites))
    joint, greedy_total = _solve(demands, table, await load_rules(conn), now, exclude)
    assigned = [await _apply(conn, pick) for pick in joint]
    done = {a.ticket_id for a in assigned}
    leftovers = [t for t in waiting if t.id not in done]
    unassignable = []
    for ticket in leftovers:
        # The one-ticket path flags nobody-fits with its reasons and tells the planners.
        after = await _single(conn, ticket, now, exclude[str(ticket.id)])
        if after.assignee_id is not None:
            assigned.append(BatchAssignment(ticket_id=after.id, engineer_id=after.assignee_id))
        else:
            unassignable.append(BatchLeftover(ticket_id=after.id, reasons=_reasons(after)))
    return BatchSummary(
        waiting=len(waiting),
        assigned=assigned,
        unassignable=unassignable,
        total_score=float(sum(a.total for a in joint)),
        greedy_total_score=greedy_total,
    )


def _solve(
    demands: Sequence[TicketDemand],
    table: EngineerTable,
    rules: Sequence[AssignmentRule],
    now: datetime,
    exclude: Mapping[str, Collection[str]],
) -> tuple[tuple[Assigned, ...], float]:
    if not demands:
        return (), 0.0
    joint = assign_batch(demands, table, rules, now, exclude=exclude)
    # Greedy on the same data costs one more score matrix and shows what the batch gained.
    greedy = assign_greedy(demands, table, rules, now, exclude=exclude)
    return joint.assigned, greedy.total_score


async def _apply(conn: psycopg.AsyncConnection, pick: Assigned) -> BatchAssignment:
    ticket_id = int(pick.ticket_id)
    await repository.update_status(
        conn, ticket_id, {"assignment_explanation": batch_explanation(pick)}
    )
    await tickets.act(
        conn=conn,
        ticket_id=ticket_id,
        action=Action.ASSIGN,
        actor=ActorRef.system(BATCH_ACTOR),
        action_in=ActionIn(assignee_id=pick.engineer_id, reason=BATCH_REASON),
    )
    return BatchAssignment(ticket_id=ticket_id, engineer_id=pick.engineer_id, total=pick.total)


def batch_explanation(pick: Assigned) -> dict[str, Any]:
    """The stored explanation, plus which candidate the batch chose and why it may not be #1."""
    full = pick.ranking.explanation()
    ranked = full["candidates"]
    chosen = next(c for c in ranked if c["engineer_id"] == pick.engineer_id)
    shown = ranked[:EXPLAINED_CANDIDATES]
    if chosen["rank"] > EXPLAINED_CANDIDATES:
        shown = [*shown, chosen]
    batch = {"engineer_id": pick.engineer_id, "rank": chosen["rank"], "objective": OBJECTIVE}
    return compact({**full, "candidates": shown, "batch": batch})


async def _single(
    conn: psycopg.AsyncConnection, ticket: TicketRead, now: datetime, exclude: Collection[str]
) -> TicketRead:
    return await auto_assign(
        conn=conn, ticket_id=ticket.id, now=now, exclude_ids=exclude, reason=BATCH_REASON
    )


def _reasons(ticket: TicketRead) -> list[str]:
    return list(ticket.unassignable_reasons or [])
