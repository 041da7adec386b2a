"""What `toir demo` reports of field control: visits detected, tickets put on site by GPS."""

from __future__ import annotations

from datetime import datetime

import psycopg

COUNTS_SQL = """
SELECT
    (SELECT count(*) FROM telemetry.visits WHERE arrived_at >= %(since)s),
    (SELECT count(DISTINCT ticket_id) FROM tickets.history
     WHERE action = 'arrive' AND actor_id = 'gps' AND at >= %(since)s)
"""


def field_counts(database_url: str, *, since: datetime) -> dict[str, int]:
    """Visits that began since `since`, and tickets the GPS moved on site since then."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(COUNTS_SQL, {"since": since}).fetchone()
    assert row is not None
    return {"visits": int(row[0]), "tickets_on_site": int(row[1])}
