"""The ticket service: open, read, list and act on tickets. Keyword-only functions that
take their connection, used alike by the API, the event agent, the SLA timer and tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import psycopg

from kernel.clock import utcnow
from kernel.errors import Forbidden, Invalid, NotFound
from tickets import repository
from tickets.domain.lifecycle import Action, Actor, Status, next_status
from tickets.domain.sla import SlaPolicy, deadlines
from tickets.engineers import repository as engineers
from tickets.models import ActionIn, Completion, TicketCreate, TicketRead
from tickets.notify.outbox import notify, notify_webhooks, summary
from tickets.repository import TicketFilter
from tickets.users.models import Role, User

DEFAULT_POLICY = SlaPolicy(accept_within_min=60, arrive_within_min=480, resolve_within_min=2880)
MAX_PAGE = 500
ASSISTED_BY_FIELD = "completion.assisted_by"
# Changes the assignee made that planners' systems want to hear about (webhooks only).
PLANNER_EVENTS = {
    Action.ACCEPT: "accepted",
    Action.DECLINE: "declined",
    Action.ARRIVE: "arrived",
    Action.COMPLETE: "completed",
    Action.UNASSIGN: "unassigned",
    Action.HOLD: "held",
}


@dataclass(frozen=True)
class ActorRef:
    """Who changes a ticket: a user, the assigned engineer, or a system rule."""

    kind: Actor
    id: str

    @classmethod
    def of_user(cls, user: User) -> ActorRef:
        if user.role is Role.ENGINEER:
            return cls(Actor.ENGINEER, user.engineer_id or user.id)
        return cls(Actor.USER, user.id)

    @classmethod
    def system(cls, rule: str) -> ActorRef:
        return cls(Actor.SYSTEM, rule)


async def create(
    *,
    conn: psycopg.AsyncConnection,
    ticket_in: TicketCreate,
    actor: ActorRef,
    cause: str | None = None,
    evidence: list[dict[str, Any]] | None = None,
    resolve_by: datetime | None = None,
) -> TicketRead:
    """Open a ticket with its SLA deadlines and a first history entry."""
    policy = (
        await repository.sla_policy(
            conn,
            kind=ticket_in.kind.value,
            priority=ticket_in.priority.value,
            customer=ticket_in.customer,
        )
        or DEFAULT_POLICY
    )
    due = deadlines(policy, utcnow())
    times = {
        "accept_by": due.accept_by,
        "arrive_by": due.arrive_by,
        "resolve_by": resolve_by or due.resolve_by,
    }
    ticket = await repository.insert_ticket(
        conn, ticket_in, deadlines=times, cause=cause, evidence=evidence
    )
    await repository.add_history(
        conn,
        ticket.id,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        action="open",
        from_status=None,
        to_status=Status.NEW.value,
        details={"cause": cause} if cause else None,
    )
    return ticket


async def get(*, conn: psycopg.AsyncConnection, ticket_id: int) -> TicketRead:
    ticket = await repository.get_ticket(conn, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


async def get_visible(*, conn: psycopg.AsyncConnection, ticket_id: int, user: User) -> TicketRead:
    """A ticket the user may see: planners and admins all, an engineer only their own."""
    ticket = await get(conn=conn, ticket_id=ticket_id)
    ensure_visible(ticket, user)
    return ticket


def ensure_visible(ticket: TicketRead, user: User) -> None:
    if user.role is Role.ENGINEER and ticket.assignee_id != (user.engineer_id or user.id):
        raise Forbidden(f"ticket {ticket.id} is not assigned to you")
    if user.role is Role.DEVICE_ADMIN:
        raise Forbidden("device administrators do not see tickets")


async def list_visible(
    *, conn: psycopg.AsyncConnection, flt: TicketFilter, user: User, limit: int
) -> list[TicketRead]:
    """A page of tickets matching the filter, narrowed to what the user may see."""
    if user.role is Role.DEVICE_ADMIN:
        raise Forbidden("device administrators do not see tickets")
    if user.role is Role.ENGINEER:
        flt = replace(flt, assignee_id=user.engineer_id or user.id)
    return await repository.list_tickets(conn, flt, limit=min(limit, MAX_PAGE))


async def list_visible_json(
    *, conn: psycopg.AsyncConnection, flt: TicketFilter, user: User, limit: int
) -> tuple[str, int | None, int]:
    """The same page as list_visible, as JSON text built by the database."""
    if user.role is Role.DEVICE_ADMIN:
        raise Forbidden("device administrators do not see tickets")
    if user.role is Role.ENGINEER:
        flt = replace(flt, assignee_id=user.engineer_id or user.id)
    return await repository.list_tickets_json(conn, flt, limit=min(limit, MAX_PAGE))


async def act(
    *,
    conn: psycopg.AsyncConnection,
    ticket_id: int,
    action: Action,
    actor: ActorRef,
    action_in: ActionIn,
) -> TicketRead:
    """Apply an action: validate the transition, record it, notify whom it concerns."""
    ticket = await repository.get_ticket(conn, ticket_id, for_update=True)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    if actor.kind is Actor.ENGINEER and ticket.assignee_id != actor.id:
        raise Forbidden(f"ticket {ticket_id} is not assigned to you")
    held_from = await _held_from(conn, ticket)
    target = next_status(ticket.status, action, actor.kind, held_from=held_from)
    changes = _changes_for(ticket, action, target, action_in)
    if action is Action.ASSIGN:
        changes["flags"] = _assignment_flags(ticket.flags, manual=actor.kind is Actor.USER)
    if action is Action.COMPLETE:
        await _record_completion(conn, ticket, action_in.completion, actor)
    updated = await repository.update_ticket(conn, ticket_id, changes)
    await repository.add_history(
        conn,
        ticket_id,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        action=action.value,
        from_status=ticket.status.value,
        to_status=target.value,
        reason=action_in.reason,
        details=_details(changes) | _named(action, action_in),
    )
    await _notify_change(conn, ticket, updated, action, action_in)
    return updated


async def _held_from(conn: psycopg.AsyncConnection, ticket: TicketRead) -> Status | None:
    if ticket.status is not Status.ON_HOLD:
        return None
    cur = await conn.execute(
        "SELECT status_before_hold FROM tickets.tickets WHERE id = %s", (ticket.id,)
    )
    row = await cur.fetchone()
    return Status(row[0]) if row and row[0] else None


def _changes_for(
    ticket: TicketRead, action: Action, target: Status, action_in: ActionIn
) -> dict[str, Any]:
    at = action_in.at or utcnow()
    changes: dict[str, Any] = {"status": target.value}
    if action is Action.ACCEPT:
        changes["accepted_at"] = at
    elif action is Action.ARRIVE:
        changes["arrived_at"] = at
    elif action is Action.COMPLETE:
        changes["completed_at"] = at
    elif action is Action.HOLD:
        changes["status_before_hold"] = ticket.status.value
    elif action is Action.ASSIGN:
        changes.update(
            assignee_id=action_in.assignee_id, accepted_at=None, unassignable_reasons=None
        )
    elif action is Action.UNASSIGN:
        changes.update(assignee_id=None, accepted_at=None)
    return changes


def _assignment_flags(flags: list[str], *, manual: bool) -> list[str]:
    """A planner's choice is marked `manual`: the engine never undoes it."""
    kept = {f for f in flags if f not in ("manual", "unassignable")}
    return sorted(kept | {"manual"} if manual else kept)


def _named(action: Action, action_in: ActionIn) -> dict[str, Any]:
    """Who a completion names besides the assignee, for the history (the flags refer to it)."""
    completion = action_in.completion
    if action is not Action.COMPLETE or completion is None or not completion.assisted_by:
        return {}
    return {"assisted_by": completion.assisted_by}


def _details(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in changes.items()
        if k != "status"
    }


async def _record_completion(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    completion: Completion | None,
    actor: ActorRef,
) -> None:
    if completion is None:
        raise Invalid("completing needs a completion record", fields={"completion": "required"})
    missing = [
        s.id for s in ticket.checklist if s.required and s.id not in completion.checklist_answers
    ]
    if missing:
        raise Invalid(
            f"required checklist steps unanswered: {', '.join(missing)}",
            fields={f"completion.checklist_answers.{step}": "required" for step in missing},
        )
    await _check_assisted_by(conn, ticket, completion.assisted_by)
    await repository.insert_completion(conn, ticket.id, completion.model_dump(), by=actor.id)


async def _check_assisted_by(
    conn: psycopg.AsyncConnection, ticket: TicketRead, engineer_ids: list[str]
) -> None:
    """The engineers a completion names besides the assignee must be on the roster."""
    if ticket.assignee_id in engineer_ids:
        raise Invalid(
            f"assisted_by names the assignee {ticket.assignee_id}",
            fields={ASSISTED_BY_FIELD: f"{ticket.assignee_id} is the assignee"},
        )
    unknown = sorted(set(engineer_ids) - await engineers.existing_ids(conn, engineer_ids))
    if unknown:
        raise Invalid(
            f"assisted_by names unknown engineers: {', '.join(unknown)}",
            fields={ASSISTED_BY_FIELD: f"unknown engineers: {', '.join(unknown)}"},
        )


async def _notify_change(
    conn: psycopg.AsyncConnection,
    before: TicketRead,
    after: TicketRead,
    action: Action,
    action_in: ActionIn,
) -> None:
    if action is Action.ASSIGN:
        event = "reassigned" if before.assignee_id else "assigned"
        await notify(conn, after, event)
        if before.assignee_id and before.assignee_id != after.assignee_id:
            await notify(conn, after, "unassigned", engineer_id=before.assignee_id)
    elif action is Action.CANCEL:
        await notify(conn, after, "cancelled", engineer_id=before.assignee_id)
    elif action in PLANNER_EVENTS:
        payload = summary(after, PLANNER_EVENTS[action], reason=action_in.reason)
        await notify_webhooks(conn, payload)
