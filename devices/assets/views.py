"""Sites, equipment and vehicles over HTTP: thin routes over the registry service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from devices import crud
from devices.access import PageQuery, RegistryReader, RegistryWriter
from devices.assets.models import (
    EquipmentCreate,
    EquipmentRead,
    EquipmentUpdate,
    SiteCreate,
    SiteRead,
    SiteUpdate,
    VehicleCreate,
    VehicleRead,
    VehicleUpdate,
)
from devices.assets.service import EQUIPMENT, SITE, VEHICLE
from devices.paging import Page
from tickets.api.deps import ConnDep

router = APIRouter(tags=["assets"])


@router.get("/sites")
async def list_sites(
    conn: ConnDep,
    user: RegistryReader,
    page: PageQuery,
    customer: str | None = None,
    area: str | None = None,
) -> Page[SiteRead]:
    filters = {"customer": customer, "area": area}
    return await crud.list_page(conn=conn, kind=SITE, page=page, filters=filters)


@router.post("/sites", status_code=status.HTTP_201_CREATED)
async def create_site(conn: ConnDep, user: RegistryWriter, site_in: SiteCreate) -> SiteRead:
    return await crud.create(conn=conn, kind=SITE, item_in=site_in)


@router.get("/sites/{site_id}")
async def get_site(conn: ConnDep, user: RegistryReader, site_id: str) -> SiteRead:
    return await crud.get(conn=conn, kind=SITE, item_id=site_id)


@router.patch("/sites/{site_id}")
async def update_site(
    conn: ConnDep, user: RegistryWriter, site_id: str, site_in: SiteUpdate
) -> SiteRead:
    return await crud.update(conn=conn, kind=SITE, item_id=site_id, changes=_given(site_in))


@router.delete("/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_site(conn: ConnDep, user: RegistryWriter, site_id: str) -> None:
    await crud.delete(conn=conn, kind=SITE, item_id=site_id)


@router.get("/equipment")
async def list_equipment(
    conn: ConnDep, user: RegistryReader, page: PageQuery, site_id: str | None = None
) -> Page[EquipmentRead]:
    filters = {"site_id": site_id}
    return await crud.list_page(conn=conn, kind=EQUIPMENT, page=page, filters=filters)


@router.post("/equipment", status_code=status.HTTP_201_CREATED)
async def create_equipment(
    conn: ConnDep, user: RegistryWriter, unit_in: EquipmentCreate
) -> EquipmentRead:
    return await crud.create(conn=conn, kind=EQUIPMENT, item_in=unit_in)


@router.get("/equipment/{unit_id}")
async def get_equipment(conn: ConnDep, user: RegistryReader, unit_id: str) -> EquipmentRead:
    return await crud.get(conn=conn, kind=EQUIPMENT, item_id=unit_id)


@router.patch("/equipment/{unit_id}")
async def update_equipment(
    conn: ConnDep, user: RegistryWriter, unit_id: str, unit_in: EquipmentUpdate
) -> EquipmentRead:
    return await crud.update(conn=conn, kind=EQUIPMENT, item_id=unit_id, changes=_given(unit_in))


@router.delete("/equipment/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_equipment(conn: ConnDep, user: RegistryWriter, unit_id: str) -> None:
    await crud.delete(conn=conn, kind=EQUIPMENT, item_id=unit_id)


@router.get("/vehicles")
async def list_vehicles(
    conn: ConnDep, user: RegistryReader, page: PageQuery, home_site_id: str | None = None
) -> Page[VehicleRead]:
    filters = {"home_site_id": home_site_id}
    return await crud.list_page(conn=conn, kind=VEHICLE, page=page, filters=filters)


@router.post("/vehicles", status_code=status.HTTP_201_CREATED)
async def create_vehicle(
    conn: ConnDep, user: RegistryWriter, vehicle_in: VehicleCreate
) -> VehicleRead:
    return await crud.create(conn=conn, kind=VEHICLE, item_in=vehicle_in)


@router.get("/vehicles/{vehicle_id}")
async def get_vehicle(conn: ConnDep, user: RegistryReader, vehicle_id: str) -> VehicleRead:
    return await crud.get(conn=conn, kind=VEHICLE, item_id=vehicle_id)


@router.patch("/vehicles/{vehicle_id}")
async def update_vehicle(
    conn: ConnDep, user: RegistryWriter, vehicle_id: str, vehicle_in: VehicleUpdate
) -> VehicleRead:
    changes = _given(vehicle_in)
    return await crud.update(conn=conn, kind=VEHICLE, item_id=vehicle_id, changes=changes)


@router.delete("/vehicles/{vehicle_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_vehicle(conn: ConnDep, user: RegistryWriter, vehicle_id: str) -> None:
    await crud.delete(conn=conn, kind=VEHICLE, item_id=vehicle_id)


def _given(update: Any) -> dict[str, Any]:
    """The fields a PATCH body set (an explicit null clears a field)."""
    given: dict[str, Any] = update.model_dump(exclude_unset=True)
    return given
