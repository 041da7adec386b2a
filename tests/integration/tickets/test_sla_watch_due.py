"""The SLA watch visits only tickets with something due, and misses none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import psycopg

from kernel import metrics
from kernel.clock import utcnow
from tests.integration.tickets.test_dispatch import open_and_assign, run, seed
from tests.integration.tickets.test_sla_watch_failures import current, warned
from tickets import service as tickets
from tickets.assign import auto_assign
from tickets.escalation import SlaEvent, due_warnings, watch
from tickets.models import Priority, TicketCreate, TicketRead
from tickets.service import ActorRef

ENGINEERS = [("a", 0.001), ("b", 0.01), ("c", 0.02), ("d", 0.03)]
RISK_SHARE = 0.8


def open_with(priority: Priority) -> Callable[[psycopg.AsyncConnection], Awaitable[TicketRead]]:
    async def open_one(conn: psycopg.AsyncConnection) -> TicketRead:
        ticket_in = TicketCreate(title="No heating", site_id="s1", priority=priority)
        ticket = await tickets.create(conn=conn, ticket_in=ticket_in, actor=ActorRef.system("t"))
        return await auto_assign(conn=conn, ticket_id=ticket.id, now=utcnow())

    return open_one


def watch_at(database_url: str, moment: datetime) -> list[SlaEvent]:
    async def watch_once(conn: psycopg.AsyncConnection) -> list[SlaEvent]:
        return await watch(conn=conn, now=moment, risk_share=RISK_SHARE)

    return run(database_url, watch_once)


def due_now(database_url: str, ids: list[int], moment: datetime) -> set[tuple[str, int, str]]:
    """What the watch should find, worked out ticket by ticket in Python."""
    found = set()
    for ticket_id in ids:
        ticket = current(database_url, ticket_id)
        for event in due_warnings(ticket, set(warned(database_url, ticket_id)), moment, RISK_SHARE):
            found.add((event.type, event.ticket_id, event.deadline))
    return found


def test_every_run_reacts_to_exactly_what_is_due(database_url: str) -> None:
    seed(database_url, ENGINEERS)
    opened = [
        run(database_url, open_with(priority))
        for priority in (Priority.HIGH, Priority.CRITICAL, Priority.NORMAL)
    ]
    ids = [t.id for t in opened]
    start = max(t.created_at for t in opened)
    # Either side of each risk point and deadline of the seeded policies, and long after.
    minutes = [1, 11, 13, 16, 23, 25, 31, 95, 97, 121, 193, 241, 385, 1153, 1441, 2900]
    reacted = 0
    for minute in minutes:
        moment = start + timedelta(minutes=minute)
        expected = due_now(database_url, ids, moment)
        emitted = watch_at(database_url, moment)
        assert {(e.type, e.ticket_id, e.deadline) for e in emitted} == expected, minute
        reacted += len(emitted)
    assert reacted >= 9  # each ticket went through its deadlines, not just a few of them


def test_a_ticket_with_nothing_due_is_not_even_locked(database_url: str) -> None:
    seed(database_url, ENGINEERS)
    ticket: TicketRead = run(database_url, open_and_assign)
    before = metrics.sample("toir_sla_watch_failures_total") or 0.0

    async def watch_while_a_planner_edits_it() -> int:
        async with (
            await psycopg.AsyncConnection.connect(database_url) as planner,
            await psycopg.AsyncConnection.connect(database_url) as watcher,
        ):
            await planner.execute(
                "SELECT 1 FROM tickets.tickets WHERE id = %s FOR UPDATE", (ticket.id,)
            )
            await watcher.execute("SET lock_timeout = '1s'")
            await watcher.commit()
            early = ticket.created_at + timedelta(minutes=5)
            emitted = await watch(conn=watcher, now=early, risk_share=RISK_SHARE)
            await planner.rollback()
            return len(emitted)

    assert asyncio.run(watch_while_a_planner_edits_it()) == 0
    # Not a lock wait rolled back as a failure: the ticket was never asked for.
    assert (metrics.sample("toir_sla_watch_failures_total") or 0.0) == before
