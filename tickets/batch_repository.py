"""SQL for batch assignment: the tickets waiting for an engineer, locked for the batch."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from tickets.models import TicketRead
from tickets.repository import to_ticket

# Locked until the batch commits, so an agent assigning one of them meanwhile waits and then
# sees it assigned; SKIP LOCKED leaves to others the tickets someone is already handling.
LOCK_WAITING = """
WITH waiting AS (
    SELECT id FROM tickets.tickets
    WHERE status = 'new' AND NOT ('manual' = ANY(flags))
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
)
SELECT v.* FROM tickets.tickets_view v JOIN waiting USING (id) ORDER BY v.id
"""


async def lock_waiting(conn: psycopg.AsyncConnection, *, limit: int) -> list[TicketRead]:
    """The oldest tickets in status new that no planner assigned by hand, locked."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(LOCK_WAITING, (limit,))
        return [to_ticket(row) for row in await cur.fetchall()]
