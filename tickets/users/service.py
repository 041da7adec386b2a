"""Users and bearer tokens: issuing, authenticating, revoking.

Tokens look like `toir_<id>_<secret>`. Only a SHA-256 of the secret is stored: the
secret is 256 random bits, so a slow password hash would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import psycopg

from kernel.clock import utcnow
from kernel.errors import Conflict, NotFound, Unauthenticated
from tickets.users import repository
from tickets.users.models import IssuedToken, User, UserCreate

TOKEN_PREFIX = "toir"  # noqa: S105 - a public marker, not a secret
TOKEN_ID_BYTES = 6
TOKEN_SECRET_BYTES = 32
TOUCH_INTERVAL = timedelta(minutes=1)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def create_user(*, conn: psycopg.AsyncConnection, user_in: UserCreate) -> User:
    if await repository.get_user(conn, user_in.id) is not None:
        raise Conflict(f"user {user_in.id!r} already exists")
    return await repository.insert_user(conn, user_in)


async def get_user(*, conn: psycopg.AsyncConnection, user_id: str) -> User:
    user = await repository.get_user(conn, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    return user


async def issue_token(*, conn: psycopg.AsyncConnection, user_id: str, name: str) -> IssuedToken:
    """Create a token for a user; the returned secret is never retrievable again."""
    await get_user(conn=conn, user_id=user_id)
    token_id = secrets.token_hex(TOKEN_ID_BYTES)
    secret = secrets.token_urlsafe(TOKEN_SECRET_BYTES)
    await repository.insert_token(
        conn, token_id=token_id, user_id=user_id, name=name, digest=_digest(secret)
    )
    return IssuedToken(id=token_id, user_id=user_id, token=f"{TOKEN_PREFIX}_{token_id}_{secret}")


async def authenticate(*, conn: psycopg.AsyncConnection, token: str) -> User:
    """The user a bearer token belongs to; Unauthenticated for anything else."""
    prefix, _, rest = token.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not token_id or not secret:
        raise Unauthenticated("malformed bearer token")
    found = await repository.get_token_owner(conn, token_id)
    if found is None or not hmac.compare_digest(found[0], _digest(secret)):
        raise Unauthenticated("invalid or revoked token, or a disabled user")
    _, user, last_used_at = found
    if last_used_at is None or utcnow() - last_used_at > TOUCH_INTERVAL:
        await repository.touch_token(conn, token_id)  # a write at most once a minute
    return user


async def revoke_token(*, conn: psycopg.AsyncConnection, token_id: str) -> None:
    if not await repository.revoke_token(conn, token_id):
        raise NotFound(f"token {token_id!r} not found or already revoked")
