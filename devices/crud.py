"""Create, read, list, change and delete for every registry table, with the checks the
database alone would report badly (references, duplicates, whole-item validation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import psycopg
from pydantic import BaseModel, ValidationError

from devices import tables
from devices.paging import Page, PageIn, page_of
from devices.tables import Table
from kernel.errors import Conflict, Invalid, NotFound

CreateT = TypeVar("CreateT", bound=BaseModel)
ReadT = TypeVar("ReadT", bound=BaseModel)


def _unchanged(changes: dict[str, Any]) -> dict[str, Any]:
    return changes


@dataclass(frozen=True)
class ItemKind(Generic[CreateT, ReadT]):
    """How the service handles one kind of registry item (site, equipment, vehicle, device)."""

    noun: str
    table: Table
    create_model: type[CreateT]
    read_model: type[ReadT]
    values: Callable[[CreateT], dict[str, Any]]
    references: Mapping[str, tuple[str, Table]] = field(default_factory=dict)
    # Completes a partial update before it is merged (e.g. a new shape clears the old one).
    changes: Callable[[dict[str, Any]], dict[str, Any]] = _unchanged


async def get(
    *, conn: psycopg.AsyncConnection, kind: ItemKind[CreateT, ReadT], item_id: str
) -> ReadT:
    found = await tables.get(conn, kind.table, kind.read_model, item_id)
    if found is None:
        raise NotFound(f"{kind.noun} {item_id!r} not found")
    return found


async def list_page(
    *,
    conn: psycopg.AsyncConnection,
    kind: ItemKind[CreateT, ReadT],
    page: PageIn,
    filters: Mapping[str, Any] | None = None,
) -> Page[ReadT]:
    rows = await tables.list_page(
        conn,
        kind.table,
        kind.read_model,
        filters=filters or {},
        limit=page.limit + 1,
        offset=page.offset,
    )
    return page_of(rows, page)


async def create(
    *, conn: psycopg.AsyncConnection, kind: ItemKind[CreateT, ReadT], item_in: CreateT
) -> ReadT:
    values = kind.values(item_in)
    item_id = str(values["id"])
    if await tables.get(conn, kind.table, kind.read_model, item_id) is not None:
        raise Conflict(f"{kind.noun} {item_id!r} already exists")
    await check_references(conn=conn, kind=kind, values=values)
    await tables.insert(conn, kind.table, values)
    return await get(conn=conn, kind=kind, item_id=item_id)


async def update(
    *,
    conn: psycopg.AsyncConnection,
    kind: ItemKind[CreateT, ReadT],
    item_id: str,
    changes: dict[str, Any],
) -> ReadT:
    """Apply the given fields; the result is validated as a whole, like a new item."""
    current = await get(conn=conn, kind=kind, item_id=item_id)
    fields = kind.create_model.model_fields
    merged = {k: v for k, v in current.model_dump().items() if k in fields}
    try:
        item = kind.create_model.model_validate(merged | kind.changes(changes) | {"id": item_id})
    except ValidationError as exc:
        raise Invalid(f"{kind.noun} {item_id!r}: {_first_error(exc)}") from exc
    await check_references(conn=conn, kind=kind, values=kind.values(item))
    await tables.update(conn, kind.table, item_id, kind.values(item))
    return await get(conn=conn, kind=kind, item_id=item_id)


async def delete(
    *, conn: psycopg.AsyncConnection, kind: ItemKind[CreateT, ReadT], item_id: str
) -> None:
    try:
        deleted = await tables.delete(conn, kind.table, item_id)
    except psycopg.errors.ForeignKeyViolation as exc:
        raise Conflict(
            f"{kind.noun} {item_id!r} is still referenced: {exc.diag.table_name}"
        ) from exc
    if not deleted:
        raise NotFound(f"{kind.noun} {item_id!r} not found")


async def check_references(
    *,
    conn: psycopg.AsyncConnection,
    kind: ItemKind[CreateT, ReadT],
    values: Mapping[str, Any],
) -> None:
    """Invalid unless every id the item refers to exists."""
    problems = {}
    for column, (noun, table) in kind.references.items():
        target = values.get(column)
        if target is None:
            continue
        if not await tables.existing_ids(conn, table, [target]):
            problems[column] = f"no {noun} {target!r}"
    if problems:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
