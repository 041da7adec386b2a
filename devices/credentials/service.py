"""Issuing MQTT credentials (shown once, stored hashed) and the broker files enforcing them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Final

import psycopg

from devices import service as devices
from devices.credentials import repository
from devices.credentials.mosquitto import SERVICE_GRANTS, Account, Role, hash_password
from devices.paging import ID_PATTERN
from kernel.errors import Conflict, Invalid

SECRET_BYTES: Final = 24
ENGINEER_PREFIX: Final = "engineer-"
SERVICE_PREFIX: Final = "toir-"
_ID_RE: Final = re.compile(ID_PATTERN)


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    """A username and password as issued: the only time the password is shown."""

    username: str
    password: str


async def provision_device(*, conn: psycopg.AsyncConnection, device_id: str) -> IssuedCredentials:
    """New credentials for a registered device (replacing any it had); username = its id."""
    await devices.get(conn=conn, device_id=device_id)
    return await _issue(conn, username=device_id, role="device", subject_id=device_id)


async def create_engineer_account(
    *, conn: psycopg.AsyncConnection, engineer_id: str
) -> IssuedCredentials:
    """Credentials for an engineer's phone: it may only read its own ticket inbox."""
    username = f"{ENGINEER_PREFIX}{engineer_id}"
    if not _ID_RE.match(engineer_id) or not _ID_RE.match(username):
        raise Invalid(f"engineer id {engineer_id!r} cannot be an MQTT username")
    return await _issue(conn, username=username, role="engineer", subject_id=engineer_id)


async def create_service_account(*, conn: psycopg.AsyncConnection, name: str) -> IssuedCredentials:
    """Credentials for a platform service (ingest, notifier), with that service's rights."""
    if name not in SERVICE_GRANTS:
        known = ", ".join(sorted(SERVICE_GRANTS))
        raise Invalid(f"unknown service {name!r}: one of {known}", fields={"name": "unknown"})
    return await _issue(conn, username=f"{SERVICE_PREFIX}{name}", role="service", subject_id=name)


async def broker_accounts(*, conn: psycopg.AsyncConnection) -> list[Account]:
    """The accounts the broker files must list (disabled devices left out)."""
    return await repository.broker_accounts(conn)


async def _issue(
    conn: psycopg.AsyncConnection, *, username: str, role: Role, subject_id: str
) -> IssuedCredentials:
    password = secrets.token_urlsafe(SECRET_BYTES)
    try:
        await repository.upsert_account(
            conn,
            username=username,
            role=role,
            subject_id=subject_id,
            password_hash=hash_password(password),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"MQTT username {username!r} belongs to another account") from exc
    return IssuedCredentials(username, password)
