"""What the demo reports of the tickets loop: opened, assigned, notifications delivered."""

from __future__ import annotations

from datetime import datetime

import psycopg

COUNTS_SQL = """
SELECT
    (SELECT count(*) FROM tickets.tickets WHERE created_at >= %(since)s),
    (SELECT count(DISTINCT ticket_id) FROM tickets.history
     WHERE action = 'assign' AND at >= %(since)s),
    (SELECT count(*) FROM tickets.outbox WHERE delivered_at IS NOT NULL
     AND created_at >= %(since)s)
"""


def ticket_counts(database_url: str, *, since: datetime) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(COUNTS_SQL, {"since": since}).fetchone()
    assert row is not None
    return {
        "tickets_opened": int(row[0]),
        "tickets_assigned": int(row[1]),
        "notifications_delivered": int(row[2]),
    }
