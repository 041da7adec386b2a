"""Writing notifications into the outbox, in the caller's transaction: if the ticket
change commits, its notifications exist; a broker or webhook outage only delays them."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tickets.models import TicketRead

ENGINEER_TOPIC = "toir/v1/engineers/{engineer_id}/tickets"
# Planners on duty (the dispatch board, a pager bridge) follow what needs a person.
PLANNER_TOPIC = "toir/v1/planners/tickets"


def summary(ticket: TicketRead, event: str, **extra: Any) -> dict[str, Any]:
    """The JSON ticket summary engineers' phones and webhooks receive."""
    return {
        "event": event,
        "ticket": {
            "id": ticket.id,
            "kind": ticket.kind.value,
            "status": ticket.status.value,
            "priority": ticket.priority.value,
            "title": ticket.title,
            "equipment_id": ticket.equipment_id,
            "site_id": ticket.site_id,
            "assignee_id": ticket.assignee_id,
            "sla": ticket.sla.model_dump(mode="json"),
        },
        **extra,
    }


async def notify_engineer(
    conn: psycopg.AsyncConnection, engineer_id: str, payload: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO tickets.outbox (channel, destination, payload) VALUES ('mqtt', %s, %s)",
        (ENGINEER_TOPIC.format(engineer_id=engineer_id), Jsonb(payload)),
    )


async def notify_webhooks(conn: psycopg.AsyncConnection, payload: dict[str, Any]) -> None:
    """One outbox entry per active webhook subscribed to this event (or to all)."""
    await conn.execute(
        """
        INSERT INTO tickets.outbox (channel, destination, webhook_id, payload)
        SELECT 'webhook', url, id, %s FROM tickets.webhooks
        WHERE active AND (events = '{}' OR %s = ANY(events))
        """,
        (Jsonb(payload), payload["event"]),
    )


async def notify(
    conn: psycopg.AsyncConnection,
    ticket: TicketRead,
    event: str,
    *,
    engineer_id: str | None = None,
    **extra: Any,
) -> None:
    """Tell the engineer concerned (if any) and every subscribed webhook."""
    payload = summary(ticket, event, **extra)
    target = engineer_id or ticket.assignee_id
    if target:
        await notify_engineer(conn, target, payload)
    await notify_webhooks(conn, payload)


async def notify_planners(conn: psycopg.AsyncConnection, payload: dict[str, Any]) -> None:
    """What needs a person: unassignable tickets, escalations, suspicious completions."""
    await conn.execute(
        "INSERT INTO tickets.outbox (channel, destination, payload) VALUES ('mqtt', %s, %s)",
        (PLANNER_TOPIC, Jsonb(payload)),
    )
    await notify_webhooks(conn, payload)
