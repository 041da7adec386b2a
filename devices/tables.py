"""Generic SQL for the registry's plain tables: get, list a page, insert, update, delete.

Table and column names come only from the `Table` constants of the repositories, never
from input; every value is a query parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import class_row

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Table:
    """A registry table: its name, the columns written, and the SELECT that reads it."""

    schema: str
    name: str
    columns: tuple[str, ...]
    select: str  # SELECT … FROM … whose rows the read model takes, aliasing the table as t

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


async def get(
    conn: psycopg.AsyncConnection, table: Table, row_type: type[RowT], row_id: str
) -> RowT | None:
    async with conn.cursor(row_factory=class_row(row_type)) as cur:
        await cur.execute(sql.SQL(table.select + " WHERE t.id = %s"), (row_id,))
        return await cur.fetchone()


async def list_page(
    conn: psycopg.AsyncConnection,
    table: Table,
    row_type: type[RowT],
    *,
    filters: Mapping[str, Any],
    limit: int,
    offset: int,
) -> list[RowT]:
    """Up to limit rows in id order from offset, where each given filter column equals."""
    given = {column: value for column, value in filters.items() if value is not None}
    where = sql.SQL(" AND ").join(
        sql.SQL("t.{} = %s").format(sql.Identifier(column)) for column in given
    )
    query: sql.Composable = sql.SQL(table.select)
    if given:
        query += sql.SQL(" WHERE ") + where
    query += sql.SQL(" ORDER BY t.id LIMIT %s OFFSET %s")
    async with conn.cursor(row_factory=class_row(row_type)) as cur:
        await cur.execute(query, (*given.values(), limit, offset))
        return await cur.fetchall()


async def insert(conn: psycopg.AsyncConnection, table: Table, values: Mapping[str, Any]) -> None:
    columns = [c for c in table.columns if c in values]
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        table.ident,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    await conn.execute(query, [values[c] for c in columns])


async def upsert(conn: psycopg.AsyncConnection, table: Table, values: Mapping[str, Any]) -> None:
    """Insert, or overwrite the given columns of the row with the same id."""
    columns = [c for c in table.columns if c in values]
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}").format(
        table.ident,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        _assignments([c for c in columns if c != "id"], excluded=True),
    )
    await conn.execute(query, [values[c] for c in columns])


async def update(
    conn: psycopg.AsyncConnection, table: Table, row_id: str, values: Mapping[str, Any]
) -> bool:
    """Overwrite the given columns; False when there is no such row."""
    columns = [c for c in table.columns if c in values and c != "id"]
    query = sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
        table.ident, _assignments(columns, excluded=False)
    )
    cur = await conn.execute(query, [*(values[c] for c in columns), row_id])
    return cur.rowcount == 1


async def delete(conn: psycopg.AsyncConnection, table: Table, row_id: str) -> bool:
    cur = await conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(table.ident), (row_id,))
    return cur.rowcount == 1


async def existing_ids(conn: psycopg.AsyncConnection, table: Table, ids: list[str]) -> set[str]:
    """Which of ids are rows of the table."""
    query = sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(table.ident)
    cur = await conn.execute(query, (ids,))
    return {row[0] for row in await cur.fetchall()}


def _assignments(columns: list[str], *, excluded: bool) -> sql.Composed:
    """`col = excluded.col` or `col = %s` for each column, and updated_at = now()."""
    template = sql.SQL("{0} = excluded.{0}" if excluded else "{0} = %s")
    parts = [template.format(sql.Identifier(c)) for c in columns]
    return sql.SQL(", ").join([*parts, sql.SQL("updated_at = now()")])
