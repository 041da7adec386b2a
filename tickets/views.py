"""Tickets over HTTP: thin handlers over tickets.service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from kernel.clock import utcnow
from tickets import repository
from tickets import service as tickets
from tickets.api.deps import ConnDep, CurrentUser, PlannerUser
from tickets.domain.lifecycle import Action, Status
from tickets.escalation import follow_up
from tickets.field.presence import check_presence, refuse_overlapping_work
from tickets.idempotency import IdempotentRoute
from tickets.models import (
    ActionIn,
    HistoryEntry,
    Kind,
    Priority,
    SlaState,
    TicketCreate,
    TicketPage,
    TicketRead,
)
from tickets.repository import TicketFilter
from tickets.service import ActorRef

router = APIRouter(prefix="/tickets", tags=["tickets"], route_class=IdempotentRoute)


@router.get("", response_model=TicketPage)
async def list_tickets(
    conn: ConnDep,
    user: CurrentUser,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    kind: Kind | None = None,
    priority: Priority | None = None,
    assignee: str | None = None,
    site: str | None = None,
    equipment: str | None = None,
    sla_state: SlaState | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: Annotated[
        int | None, Query(ge=1, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=tickets.MAX_PAGE)] = 50,
) -> Response:
    flt = TicketFilter(
        statuses=tuple(s.value for s in status_ or ()),
        kind=kind,
        priority=priority,
        assignee_id=assignee,
        site_id=site,
        equipment_id=equipment,
        sla_state=sla_state,
        created_from=created_from,
        created_to=created_to,
        before_id=cursor,
    )
    items, last_id, count = await tickets.list_visible_json(
        conn=conn, flt=flt, user=user, limit=limit
    )
    next_cursor = f'"{last_id}"' if count == limit else "null"
    body = f'{{"items":{items},"next_cursor":{next_cursor}}}'
    return Response(body, media_type="application/json")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(conn: ConnDep, user: PlannerUser, ticket_in: TicketCreate) -> TicketRead:
    return await tickets.create(conn=conn, ticket_in=ticket_in, actor=ActorRef.of_user(user))


@router.get("/{ticket_id}")
async def get_ticket(conn: ConnDep, user: CurrentUser, ticket_id: int) -> TicketRead:
    return await tickets.get_visible(conn=conn, ticket_id=ticket_id, user=user)


@router.get("/{ticket_id}/history")
async def ticket_history(conn: ConnDep, user: CurrentUser, ticket_id: int) -> list[HistoryEntry]:
    await tickets.get_visible(conn=conn, ticket_id=ticket_id, user=user)
    return await repository.history(conn, ticket_id)


@router.post("/{ticket_id}/actions/{action}")
async def act_on_ticket(
    conn: ConnDep,
    user: CurrentUser,
    ticket_id: int,
    action: Action,
    action_in: ActionIn | None = None,
) -> TicketRead:
    await tickets.get_visible(conn=conn, ticket_id=ticket_id, user=user)
    action_in = action_in or ActionIn()
    if action is Action.COMPLETE:
        await refuse_overlapping_work(conn=conn, ticket_id=ticket_id, completed_at=action_in.at)
    ticket = await tickets.act(
        conn=conn,
        ticket_id=ticket_id,
        action=action,
        actor=ActorRef.of_user(user),
        action_in=action_in,
    )
    if action is Action.DECLINE:
        await follow_up(conn=conn, ticket=ticket, now=utcnow())
    elif action is Action.COMPLETE:
        await check_presence(conn=conn, ticket_id=ticket_id)
        ticket = await tickets.get(conn=conn, ticket_id=ticket_id)
    return ticket
