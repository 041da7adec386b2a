"""SQL for users and tokens."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row

from tickets.users.models import TokenRead, User, UserCreate

USER_FIELDS = ("id", "name", "role", "engineer_id", "created_at", "disabled_at")
USER_COLUMNS = ", ".join(USER_FIELDS)


async def insert_user(conn: psycopg.AsyncConnection, user_in: UserCreate) -> User:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(
            f"INSERT INTO tickets.users (id, name, role, engineer_id) VALUES (%s, %s, %s, %s) "
            f"RETURNING {USER_COLUMNS}",
            (user_in.id, user_in.name, user_in.role.value, user_in.engineer_id),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_user(conn: psycopg.AsyncConnection, user_id: str) -> User | None:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {USER_COLUMNS} FROM tickets.users WHERE id = %s", (user_id,))
        return await cur.fetchone()


async def list_users(conn: psycopg.AsyncConnection) -> list[User]:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {USER_COLUMNS} FROM tickets.users ORDER BY id")
        return await cur.fetchall()


async def insert_token(
    conn: psycopg.AsyncConnection, *, token_id: str, user_id: str, name: str, digest: bytes
) -> None:
    await conn.execute(
        "INSERT INTO tickets.tokens (id, user_id, name, secret_sha256) VALUES (%s, %s, %s, %s)",
        (token_id, user_id, name, digest),
    )


async def get_token_owner(
    conn: psycopg.AsyncConnection, token_id: str
) -> tuple[bytes, User, datetime | None] | None:
    """A live token's digest, its enabled user and when it was last used, in one query."""
    cur = await conn.execute(
        f"SELECT t.secret_sha256, t.last_used_at, {', '.join('u.' + c for c in USER_FIELDS)} "
        "FROM tickets.tokens t JOIN tickets.users u ON u.id = t.user_id "
        "WHERE t.id = %s AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
        (token_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    user = User(**dict(zip(USER_FIELDS, row[2:], strict=True)))
    return bytes(row[0]), user, row[1]


async def get_token_digest(
    conn: psycopg.AsyncConnection, token_id: str
) -> tuple[str, bytes] | None:
    """The owner and digest of a live (not revoked) token."""
    cur = await conn.execute(
        "SELECT user_id, secret_sha256 FROM tickets.tokens WHERE id = %s AND revoked_at IS NULL",
        (token_id,),
    )
    row = await cur.fetchone()
    return None if row is None else (str(row[0]), bytes(row[1]))


async def touch_token(conn: psycopg.AsyncConnection, token_id: str) -> None:
    await conn.execute(
        "UPDATE tickets.tokens SET last_used_at = now() WHERE id = %s "
        "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        (token_id,),
    )


async def revoke_token(conn: psycopg.AsyncConnection, token_id: str) -> bool:
    cur = await conn.execute(
        "UPDATE tickets.tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (token_id,),
    )
    return cur.rowcount == 1


async def list_tokens(conn: psycopg.AsyncConnection, user_id: str | None) -> list[TokenRead]:
    sql = "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM tickets.tokens"
    params: tuple[str, ...] = ()
    if user_id is not None:
        sql += " WHERE user_id = %s"
        params = (user_id,)
    async with conn.cursor(row_factory=class_row(TokenRead)) as cur:
        await cur.execute(sql + " ORDER BY created_at", params)
        return await cur.fetchall()
