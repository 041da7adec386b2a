"""SQL for the engineer app: the registry rows a ticket refers to (engineers may not list
the registry itself, but they see the equipment and site of their own tickets)."""

from __future__ import annotations

import psycopg
from psycopg.rows import class_row

from tickets.models import TicketRead
from tickets.web.models import EquipmentContext, SiteContext, TicketContext


async def ticket_context(conn: psycopg.AsyncConnection, ticket: TicketRead) -> TicketContext:
    equipment = await _equipment(conn, ticket.equipment_id) if ticket.equipment_id else None
    site_id = ticket.site_id or await _site_of_equipment(conn, ticket.equipment_id)
    site = await _site(conn, site_id) if site_id else None
    return TicketContext(ticket_id=ticket.id, equipment=equipment, site=site)


async def _equipment(conn: psycopg.AsyncConnection, unit_id: str) -> EquipmentContext | None:
    async with conn.cursor(row_factory=class_row(EquipmentContext)) as cur:
        await cur.execute(
            "SELECT id, kind, model, serial, criticality, installed_on "
            "FROM assets.equipment WHERE id = %s",
            (unit_id,),
        )
        return await cur.fetchone()


async def _site_of_equipment(conn: psycopg.AsyncConnection, unit_id: str | None) -> str | None:
    if unit_id is None:
        return None
    cur = await conn.execute("SELECT site_id FROM assets.equipment WHERE id = %s", (unit_id,))
    row = await cur.fetchone()
    return None if row is None else row[0]


async def _site(conn: psycopg.AsyncConnection, site_id: str) -> SiteContext | None:
    async with conn.cursor(row_factory=class_row(SiteContext)) as cur:
        await cur.execute(
            "SELECT id, name, address, customer, lat, lon FROM assets.sites WHERE id = %s",
            (site_id,),
        )
        return await cur.fetchone()
