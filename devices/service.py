"""Registered devices: CRUD through the registry service, enabling and disabling, adopting
ids that published before anyone registered them, and the intervals that define silence."""

from __future__ import annotations

import psycopg

from devices import crud, repository
from devices.assets import repository as assets_repository
from devices.models import (
    DeviceAdopt,
    DeviceCreate,
    DeviceKind,
    DeviceKindRead,
    DeviceRead,
    UnknownDeviceRead,
)
from devices.paging import Page, PageIn, page_of
from kernel.errors import NotFound

DEVICE = crud.ItemKind(
    "device",
    repository.DEVICES,
    DeviceCreate,
    DeviceRead,
    repository.device_values,
    {
        "equipment_id": ("equipment", assets_repository.EQUIPMENT),
        "vehicle_id": ("vehicle", assets_repository.VEHICLES),
    },
)


async def get(*, conn: psycopg.AsyncConnection, device_id: str) -> DeviceRead:
    return await crud.get(conn=conn, kind=DEVICE, item_id=device_id)


async def set_enabled(
    *, conn: psycopg.AsyncConnection, device_id: str, enabled: bool
) -> DeviceRead:
    """Enable or disable a device: a disabled one's messages are dead-lettered."""
    return await crud.update(
        conn=conn, kind=DEVICE, item_id=device_id, changes={"enabled": enabled}
    )


async def list_unknown(*, conn: psycopg.AsyncConnection, page: PageIn) -> Page[UnknownDeviceRead]:
    rows = await repository.list_unknown(conn, limit=page.limit + 1, offset=page.offset)
    return page_of(rows, page)


async def adopt(
    *, conn: psycopg.AsyncConnection, device_id: str, adopt_in: DeviceAdopt
) -> DeviceRead:
    """Register an id seen publishing; it leaves the unknown list."""
    if await repository.take_unknown(conn, device_id) is None:
        raise NotFound(f"no unknown device {device_id!r}")
    device_in = DeviceCreate(id=device_id, **adopt_in.model_dump())
    return await crud.create(conn=conn, kind=DEVICE, item_in=device_in)


async def list_kinds(*, conn: psycopg.AsyncConnection) -> list[DeviceKindRead]:
    return await repository.list_kinds(conn)


async def set_kind_interval(
    *, conn: psycopg.AsyncConnection, kind: DeviceKind, expected_interval_s: float
) -> DeviceKindRead:
    """How long a device of this kind may stay silent before it counts as offline."""
    await repository.set_kind_interval(conn, kind.value, expected_interval_s)
    return DeviceKindRead(kind=kind, expected_interval_s=expected_interval_s)
