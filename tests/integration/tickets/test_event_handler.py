"""The tickets side's event handler against a real database: an anomaly event opens a
ticket, assigns it and queues the notification, reading the ticket once on the way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from kernel.dlq import DeadLetter
from tests.integration.tickets.test_dispatch import seed
from tickets import service as tickets
from tickets.agent import EventHandler
from tickets.domain.lifecycle import Status
from tickets.models import TicketRead
from tickets.notify.outbox import summary
from tickets.notify.relay import Relay

# Per opened and assigned ticket: claim, unit, open duplicate, SLA policy, insert, history,
# link; site, seven roster reads (one round trip), rules, explanation, lock, assign, history,
# two notifications (the engineer's, the webhooks').
STATEMENTS_PER_EVENT = 22


class CountingCursor(psycopg.AsyncCursor[Any]):
    """Keeps every statement its connection sends."""

    sent: ClassVar[list[str]] = []

    async def execute(self, query: Any, params: Any = None, **options: Any) -> CountingCursor:
        CountingCursor.sent.append(str(query))
        await super().execute(query, params, **options)
        return self


def anomaly(equipment_id: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "AnomalyDetected",
            "subject": {"kind": "equipment", "id": equipment_id},
            "evidence": {"kind": "drift", "severity": "medium"},
        }
    )


async def handle(database_url: str, events: Sequence[bytes]) -> list[DeadLetter]:
    letters: list[DeadLetter] = []

    async def send(batch: Sequence[DeadLetter]) -> None:
        letters.extend(batch)

    options = {"cursor_factory": CountingCursor}
    async with AsyncConnectionPool(database_url, min_size=1, max_size=1, kwargs=options) as pool:
        await EventHandler(pool, send, Relay(pool, None)).handle(events)
    return letters


def seed_unit(database_url: str) -> None:
    """Two engineers near a site, and a boiler there."""
    seed(database_url, [("near", 0.01), ("far", 0.3)])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO assets.equipment (id, site_id, kind) VALUES ('b1', 's1', 'x')")


def stored(database_url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], TicketRead]:
    async def ticket() -> TicketRead:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            row = await (await conn.execute("SELECT id FROM tickets.tickets")).fetchone()
            assert row is not None
            return await tickets.get(conn=conn, ticket_id=row[0])

    with psycopg.connect(database_url) as conn:
        history = conn.execute(
            "SELECT action, from_status, to_status, actor_id, details->>'assignee_id' "
            "FROM tickets.history ORDER BY id"
        ).fetchall()
        outbox = conn.execute("SELECT destination, payload FROM tickets.outbox").fetchall()
    return history, outbox, asyncio.run(ticket())


def test_an_anomaly_is_opened_assigned_and_notified(database_url: str) -> None:
    seed_unit(database_url)
    assert asyncio.run(handle(database_url, [anomaly("b1")])) == []
    history, outbox, ticket = stored(database_url)
    assert history == [
        ("open", None, "new", "event:AnomalyDetected", None),
        ("assign", "new", "assigned", "assignment:default", "near"),
    ]
    # The notification carries the ticket as stored.
    assert outbox == [("toir/v1/engineers/near/tickets", summary(ticket, "assigned"))]
    assert (ticket.status, ticket.assignee_id) == (Status.ASSIGNED, "near")


def test_the_event_reads_the_ticket_once_and_sends_a_fixed_number_of_statements(
    database_url: str,
) -> None:
    seed_unit(database_url)
    CountingCursor.sent.clear()
    asyncio.run(handle(database_url, [anomaly("b1")]))
    sent = CountingCursor.sent
    reads = [q for q in sent if q.lstrip().startswith("SELECT * FROM tickets.tickets_view")]
    assert len(reads) == 1  # the lock before assigning
    assert len(sent) == STATEMENTS_PER_EVENT
