"""Assignment, decline, SLA timeouts and escalation against a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg

from kernel.clock import utcnow
from tickets import service as tickets
from tickets.assign import auto_assign
from tickets.domain.lifecycle import Action, Actor
from tickets.escalation import follow_up, watch
from tickets.models import ActionIn, Priority, TicketCreate, TicketRead
from tickets.service import ActorRef

T = TypeVar("T")


def run(database_url: str, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    async def go() -> T:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            result = await work(conn)
            await conn.commit()
            return result

    return asyncio.run(go())


def seed(database_url: str, engineers: list[tuple[str, float]]) -> None:
    """A site and engineers at the given distance (degrees of latitude) from it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.sites (id, name, lat, lon, area) "
            "VALUES ('s1', 'Boiler house', 55.75, 37.62, 'north')"
        )
        for engineer_id, offset in engineers:
            conn.execute(
                "INSERT INTO tickets.engineers (id, name, areas, home_lat, home_lon, "
                "position_lat, position_lon, position_at) "
                "VALUES (%s, %s, '{north}', %s, 37.62, %s, 37.62, now())",
                (engineer_id, engineer_id, 55.75 + offset, 55.75 + offset),
            )
            for day in range(7):
                conn.execute(
                    "INSERT INTO tickets.shifts VALUES (%s, %s, '00:00', '23:59:59')",
                    (engineer_id, day),
                )


async def open_and_assign(conn: psycopg.AsyncConnection, **fields: Any) -> TicketRead:
    ticket_in = TicketCreate(title="No heating", site_id="s1", priority=Priority.HIGH, **fields)
    ticket = await tickets.create(conn=conn, ticket_in=ticket_in, actor=ActorRef.system("test"))
    return await auto_assign(conn=conn, ticket_id=ticket.id, now=utcnow())


def engineer_action(
    ticket_id: int, action: Action, engineer_id: str
) -> Callable[[psycopg.AsyncConnection], Awaitable[TicketRead]]:
    async def act(conn: psycopg.AsyncConnection) -> TicketRead:
        return await tickets.act(
            conn=conn,
            ticket_id=ticket_id,
            action=action,
            actor=ActorRef(Actor.ENGINEER, engineer_id),
            action_in=ActionIn(),
        )

    return act


def outbox(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT destination, payload->>'event' FROM tickets.outbox ORDER BY id"
        ).fetchall()
    return [(str(d), str(e)) for d, e in rows]


def test_the_nearest_engineer_gets_the_ticket_with_an_explanation(database_url: str) -> None:
    seed(database_url, [("far", 0.05), ("near", 0.005)])
    ticket = run(database_url, open_and_assign)
    assert (ticket.status.value, ticket.assignee_id) == ("assigned", "near")
    with psycopg.connect(database_url) as conn:
        explanation = conn.execute("SELECT assignment_explanation FROM tickets.tickets").fetchone()
    assert explanation is not None
    ranked = [c["engineer_id"] for c in explanation[0]["candidates"]]
    assert ranked == ["near", "far"]
    assert set(explanation[0]["candidates"][0]["factors"]) >= {"travel", "workload"}
    assert outbox(database_url) == [("toir/v1/engineers/near/tickets", "assigned")]


def test_nobody_fits_leaves_the_ticket_new_flagged_with_reasons(database_url: str) -> None:
    seed(database_url, [("plumber", 0.01)])
    ticket = run(database_url, lambda c: open_and_assign(c, required_skills={"electrics": 3}))
    assert ticket.status.value == "new"
    assert "unassignable" in ticket.flags
    assert ticket.unassignable_reasons and "skill" in ticket.unassignable_reasons[0]
    assert outbox(database_url)[-1][1] == "unassignable"


def test_a_decline_reassigns_at_once_and_never_back(database_url: str) -> None:
    seed(database_url, [("a", 0.001), ("b", 0.01), ("c", 0.02)])

    async def decline_twice(conn: psycopg.AsyncConnection) -> list[str | None]:
        ticket = await open_and_assign(conn)
        seen = [ticket.assignee_id]
        for _ in range(2):
            assert ticket.assignee_id is not None
            declined = await tickets.act(
                conn=conn,
                ticket_id=ticket.id,
                action=Action.DECLINE,
                actor=ActorRef(Actor.ENGINEER, ticket.assignee_id),
                action_in=ActionIn(reason="too far"),
            )
            ticket = await follow_up(conn=conn, ticket=declined, now=utcnow())
            seen.append(ticket.assignee_id)
        return seen

    assert run(database_url, decline_twice) == ["a", "b", "c"]


def test_an_unaccepted_ticket_is_reassigned_then_escalated(database_url: str) -> None:
    seed(database_url, [("a", 0.001), ("b", 0.01), ("c", 0.02), ("d", 0.03)])
    ticket = run(database_url, open_and_assign)
    assert ticket.assignee_id == "a"
    later = utcnow() + timedelta(hours=1)  # past the 30-minute accept deadline of "high"
    assignees = []
    for step in range(3):
        moment = later + timedelta(hours=step)
        run(database_url, lambda c: watch(conn=c, now=moment, risk_share=0.8))  # noqa: B023
        current = run(database_url, lambda c: tickets.get(conn=c, ticket_id=ticket.id))
        assignees.append(current.assignee_id)
    assert assignees[:2] == ["b", "c"]
    assert "escalated" in current.flags
    assert ("toir/v1/engineers/a/tickets", "unassigned") in outbox(database_url)


def test_an_sla_warning_goes_out_once(database_url: str) -> None:
    seed(database_url, [("a", 0.001)])
    ticket = run(database_url, open_and_assign)
    run(
        database_url,
        lambda c: tickets.act(
            conn=c,
            ticket_id=ticket.id,
            action=Action.ACCEPT,
            actor=ActorRef(Actor.ENGINEER, "a"),
            action_in=ActionIn(),
        ),
    )
    assert ticket.sla.arrive_by is not None
    at_risk = ticket.created_at + (ticket.sla.arrive_by - ticket.created_at) * 0.9
    first = run(database_url, lambda c: watch(conn=c, now=at_risk, risk_share=0.8))
    again = run(database_url, lambda c: watch(conn=c, now=at_risk, risk_share=0.8))
    assert [(e.type, e.deadline) for e in first] == [("SlaAtRisk", "arrive")]
    assert again == []
    warnings = [e for d, e in outbox(database_url) if e == "sla_warning"]
    assert warnings == ["sla_warning"]


def test_a_resolution_breach_escalates_to_the_planner(database_url: str) -> None:
    seed(database_url, [("a", 0.001)])
    ticket = run(database_url, open_and_assign)
    for action in (Action.ACCEPT, Action.ARRIVE):
        step = engineer_action(ticket.id, action, "a")
        run(database_url, step)
    assert ticket.sla.resolve_by is not None
    after: datetime = ticket.sla.resolve_by + timedelta(minutes=1)
    events = run(database_url, lambda c: watch(conn=c, now=after, risk_share=0.8))
    assert ("SlaBreached", "resolve") in [(e.type, e.deadline) for e in events]
    current = run(database_url, lambda c: tickets.get(conn=c, ticket_id=ticket.id))
    assert "escalated" in current.flags
    assert len({e.to_json()["event_id"] for e in events}) == len(events)


def test_a_planners_manual_assignment_is_never_undone_by_the_engine(database_url: str) -> None:
    seed(database_url, [("near", 0.001), ("far", 0.05)])

    async def manual(conn: psycopg.AsyncConnection) -> TicketRead:
        ticket_in = TicketCreate(title="Check the pump", site_id="s1", priority=Priority.HIGH)
        ticket = await tickets.create(conn=conn, ticket_in=ticket_in, actor=ActorRef.system("t"))
        await tickets.act(
            conn=conn,
            ticket_id=ticket.id,
            action=Action.ASSIGN,
            actor=ActorRef(Actor.USER, "planner"),
            action_in=ActionIn(assignee_id="far", reason="knows this customer"),
        )
        return await auto_assign(conn=conn, ticket_id=ticket.id, now=utcnow())

    ticket = run(database_url, manual)
    assert (ticket.assignee_id, "manual" in ticket.flags) == ("far", True)
    later = utcnow() + timedelta(hours=2)
    run(database_url, lambda c: watch(conn=c, now=later, risk_share=0.8))
    current = run(database_url, lambda c: tickets.get(conn=c, ticket_id=ticket.id))
    assert current.assignee_id == "far"
    assert "escalated" in current.flags
