"""SQL for MQTT accounts."""

from __future__ import annotations

import psycopg
from psycopg.rows import class_row

from devices.credentials.mosquitto import Account, Role

# A new secret for the same subject replaces the old one (rotation); a username taken by
# another subject fails on the primary key.
UPSERT_ACCOUNT = """
INSERT INTO assets.mqtt_accounts (username, role, subject_id, device_id, password_hash)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (role, subject_id) DO UPDATE SET username = excluded.username,
    password_hash = excluded.password_hash, created_at = now()
"""

# Disabled devices are left out: the broker refuses them before ingest has to.
BROKER_ACCOUNTS = """
SELECT a.username, a.role, a.subject_id, a.password_hash
FROM assets.mqtt_accounts a LEFT JOIN assets.devices d ON d.id = a.device_id
WHERE a.role <> 'device' OR d.enabled
ORDER BY a.role, a.username
"""


async def upsert_account(
    conn: psycopg.AsyncConnection,
    *,
    username: str,
    role: Role,
    subject_id: str,
    password_hash: str,
) -> None:
    device_id = subject_id if role == "device" else None
    await conn.execute(UPSERT_ACCOUNT, (username, role, subject_id, device_id, password_hash))


async def broker_accounts(conn: psycopg.AsyncConnection) -> list[Account]:
    """Every account the broker should accept, services first."""
    async with conn.cursor(row_factory=class_row(Account)) as cur:
        await cur.execute(BROKER_ACCOUNTS)
        return await cur.fetchall()
