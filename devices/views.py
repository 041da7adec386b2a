"""Devices over HTTP: the registry, the unknown ids waiting to be adopted, kind intervals."""

from __future__ import annotations

from fastapi import APIRouter, status

from devices import crud
from devices import service as devices
from devices.access import PageQuery, RegistryReader, RegistryWriter
from devices.models import (
    DeviceAdopt,
    DeviceCreate,
    DeviceKind,
    DeviceKindRead,
    DeviceKindUpdate,
    DeviceRead,
    DeviceUpdate,
    UnknownDeviceRead,
)
from devices.paging import Page
from tickets.api.deps import ConnDep

router = APIRouter(tags=["devices"])


@router.get("/devices")
async def list_devices(
    conn: ConnDep,
    user: RegistryReader,
    page: PageQuery,
    kind: DeviceKind | None = None,
    enabled: bool | None = None,
    equipment_id: str | None = None,
    vehicle_id: str | None = None,
) -> Page[DeviceRead]:
    filters = {
        "kind": kind.value if kind else None,
        "enabled": enabled,
        "equipment_id": equipment_id,
        "vehicle_id": vehicle_id,
    }
    return await crud.list_page(conn=conn, kind=devices.DEVICE, page=page, filters=filters)


@router.post("/devices", status_code=status.HTTP_201_CREATED)
async def create_device(conn: ConnDep, user: RegistryWriter, device_in: DeviceCreate) -> DeviceRead:
    return await crud.create(conn=conn, kind=devices.DEVICE, item_in=device_in)


# Declared before /devices/{device_id} so "unknown" is not taken for an id.
@router.get("/devices/unknown")
async def list_unknown_devices(
    conn: ConnDep, user: RegistryReader, page: PageQuery
) -> Page[UnknownDeviceRead]:
    return await devices.list_unknown(conn=conn, page=page)


@router.post("/devices/unknown/{device_id}/adopt", status_code=status.HTTP_201_CREATED)
async def adopt_device(
    conn: ConnDep, user: RegistryWriter, device_id: str, adopt_in: DeviceAdopt
) -> DeviceRead:
    return await devices.adopt(conn=conn, device_id=device_id, adopt_in=adopt_in)


@router.get("/devices/{device_id}")
async def get_device(conn: ConnDep, user: RegistryReader, device_id: str) -> DeviceRead:
    return await devices.get(conn=conn, device_id=device_id)


@router.patch("/devices/{device_id}")
async def update_device(
    conn: ConnDep, user: RegistryWriter, device_id: str, device_in: DeviceUpdate
) -> DeviceRead:
    changes = device_in.model_dump(exclude_unset=True)
    return await crud.update(conn=conn, kind=devices.DEVICE, item_id=device_id, changes=changes)


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_device(conn: ConnDep, user: RegistryWriter, device_id: str) -> None:
    await crud.delete(conn=conn, kind=devices.DEVICE, item_id=device_id)


@router.get("/device-kinds")
async def list_device_kinds(conn: ConnDep, user: RegistryReader) -> list[DeviceKindRead]:
    return await devices.list_kinds(conn=conn)


@router.put("/device-kinds/{kind}")
async def set_device_kind(
    conn: ConnDep, user: RegistryWriter, kind: DeviceKind, kind_in: DeviceKindUpdate
) -> DeviceKindRead:
    interval_s = kind_in.expected_interval_s
    return await devices.set_kind_interval(conn=conn, kind=kind, expected_interval_s=interval_s)
