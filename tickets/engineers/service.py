"""The engineer service: the roster planners keep, and what engineers report about themselves.
Keyword-only functions that take their connection, used by the API, the CLI and tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

import psycopg

from kernel.clock import utcnow
from kernel.errors import Conflict, Forbidden, Invalid, NotFound
from tickets.engineers import repository
from tickets.engineers.models import (
    SELF_SET_STATUSES,
    EngineerCreate,
    EngineerRead,
    EngineerStatus,
    EngineerUpdate,
    ImportResult,
    Position,
)
from tickets.engineers.repository import COLUMNS
from tickets.engineers.roster_csv import RosterErrors, RosterRow, parse_roster
from tickets.engineers.status import StatusChange
from tickets.users.models import Role, User

# Phones' clocks drift; a fix further in the future than this is refused.
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
MAX_IMPORT_BYTES: Final = 5_000_000
# Who the status log names for changes made by `toir engineers import`.
ROSTER_COMMAND: Final = "roster-import"


async def create(*, conn: psycopg.AsyncConnection, engineer_in: EngineerCreate) -> EngineerRead:
    """Add an engineer to the roster."""
    if await repository.existing_ids(conn, [engineer_in.id]):
        raise Conflict(f"engineer {engineer_in.id!r} already exists")
    await _write(conn, engineer_in.id, engineer_in, set(EngineerCreate.model_fields), new=True)
    return await get(conn=conn, engineer_id=engineer_in.id)


async def get(*, conn: psycopg.AsyncConnection, engineer_id: str) -> EngineerRead:
    """One engineer; NotFound when there is none with that id."""
    found = await repository.get_engineers(conn, [engineer_id])
    if not found:
        raise NotFound(f"engineer {engineer_id!r} not found")
    return found[0]


async def get_visible(
    *, conn: psycopg.AsyncConnection, engineer_id: str, user: User
) -> EngineerRead:
    """An engineer's record as the user may see it: planners and admins all, an engineer own."""
    ensure_self_or_planner(user, engineer_id)
    return await get(conn=conn, engineer_id=engineer_id)


async def list_all(*, conn: psycopg.AsyncConnection) -> list[EngineerRead]:
    """The whole roster, by id."""
    return await repository.get_engineers(conn)


async def update(
    *,
    conn: psycopg.AsyncConnection,
    engineer_id: str,
    engineer_in: EngineerUpdate,
    by: User | None = None,
) -> EngineerRead:
    """Change the fields sent; lists sent replace the stored ones (`by`: who, for the log)."""
    await get(conn=conn, engineer_id=engineer_id)
    fields = engineer_in.model_fields_set
    await _write(conn, engineer_id, engineer_in, fields, new=False, by=by)
    return await get(conn=conn, engineer_id=engineer_id)


async def delete(*, conn: psycopg.AsyncConnection, engineer_id: str) -> None:
    """Remove an engineer who never had a ticket (the others stay, for the records)."""
    if await repository.has_tickets(conn, engineer_id):
        raise Conflict(f"engineer {engineer_id!r} has tickets on record: set their status off")
    if not await repository.delete_engineer(conn, engineer_id):
        raise NotFound(f"engineer {engineer_id!r} not found")


async def set_status(
    *, conn: psycopg.AsyncConnection, engineer_id: str, status: EngineerStatus, user: User
) -> EngineerRead:
    """Planners set any status; engineers set only their own, and only available or off."""
    ensure_self_or_planner(user, engineer_id)
    if user.role is Role.ENGINEER and status not in SELF_SET_STATUSES:
        allowed = ", ".join(sorted(SELF_SET_STATUSES))
        raise Forbidden(f"engineers set their own status to one of: {allowed}")
    before = await repository.set_status(conn, engineer_id, status.value)
    if before is None:
        raise NotFound(f"engineer {engineer_id!r} not found")
    await _log_change(conn, engineer_id, EngineerStatus(before), status, by=user)
    return await get(conn=conn, engineer_id=engineer_id)


async def report_position(
    *, conn: psycopg.AsyncConnection, engineer_id: str, fix: Position, user: User, now: datetime
) -> Position:
    """An engineer's phone reports where they are; the newest fix is kept and returned."""
    if not _is_self(user, engineer_id):
        raise Forbidden("only the engineer's own phone reports their position")
    if fix.at > now + MAX_CLOCK_SKEW:
        raise Invalid("the fix is from the future", fields={"at": "later than now"})
    stored = await repository.move_position(conn, engineer_id, fix)
    if stored is None:
        raise NotFound(f"engineer {engineer_id!r} not found")
    return stored


async def import_roster(
    *, conn: psycopg.AsyncConnection, data: bytes, by: User | None = None
) -> ImportResult:
    """Create or update the engineers of a roster CSV, all of them or none (`by`: who)."""
    rows = _parse(data)
    existing = await repository.existing_ids(conn, [row.engineer.id for row in rows])
    created: list[str] = []
    updated: list[str] = []
    async with conn.transaction():
        for row in rows:
            new = row.engineer.id not in existing
            await _write(conn, row.engineer.id, row.engineer, row.columns, new=new, by=by)
            (created if new else updated).append(row.engineer.id)
    return ImportResult(created=created, updated=updated)


def ensure_self_or_planner(user: User, engineer_id: str) -> None:
    """Planners and admins see every engineer; an engineer only themself."""
    if not (user.sees_everything() or _is_self(user, engineer_id)):
        raise Forbidden(f"engineer {engineer_id!r} is not you")


def _is_self(user: User, engineer_id: str) -> bool:
    return user.role is Role.ENGINEER and (user.engineer_id or user.id) == engineer_id


def _parse(data: bytes) -> list[RosterRow]:
    if len(data) > MAX_IMPORT_BYTES:
        raise Invalid(f"the roster file is over {MAX_IMPORT_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError as exc:
        raise Invalid("the roster file is not UTF-8 text", fields={"file": str(exc)}) from exc
    try:
        return parse_roster(text)
    except RosterErrors as exc:
        message = f"{len(exc.errors)} problem(s) in the roster; nothing was imported"
        raise Invalid(message, fields=exc.errors) from exc


async def _write(
    conn: psycopg.AsyncConnection,
    engineer_id: str,
    engineer_in: EngineerCreate | EngineerUpdate,
    fields: Collection[str],
    *,
    new: bool,
    by: User | None = None,
) -> None:
    """Write the named fields of the input: the engineer's row, then the lists that hang off it."""
    columns = {name: _stored(getattr(engineer_in, name)) for name in COLUMNS if name in fields}
    if new:
        await repository.insert_engineer(conn, engineer_id, columns)
    else:
        before = await repository.status_of(conn, engineer_id) if "status" in columns else None
        await repository.update_engineer(conn, engineer_id, columns)
        if before is not None and engineer_in.status is not None:
            await _log_change(conn, engineer_id, EngineerStatus(before), engineer_in.status, by=by)
    for name, replace in LIST_WRITERS.items():
        if name in fields:
            await replace(conn, engineer_id, getattr(engineer_in, name))


async def _log_change(
    conn: psycopg.AsyncConnection,
    engineer_id: str,
    before: EngineerStatus,
    after: EngineerStatus,
    *,
    by: User | None,
) -> None:
    """Log a status set by a person (`by`; None: the roster command line), if it changed."""
    if before is after:
        return
    kind, actor_id = ("system", ROSTER_COMMAND) if by is None else _actor(by)
    change = StatusChange(engineer_id, utcnow(), before, after, kind, actor_id)
    await repository.log_status(conn, change)


def _actor(user: User) -> tuple[str, str]:
    if user.role is Role.ENGINEER:
        return "engineer", user.engineer_id or user.id
    return "user", user.id


def _stored(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


ListWriter = Callable[[psycopg.AsyncConnection, str, Any], Awaitable[None]]
LIST_WRITERS: Final[Mapping[str, ListWriter]] = {
    "skills": repository.replace_skills,
    "shifts": repository.replace_shifts,
    "absences": repository.replace_absences,
    "preferred_by_customers": repository.replace_preferred_by,
    "responsible_sites": repository.replace_responsible_sites,
}
