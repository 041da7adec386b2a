"""Latest device state and asset meters over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from devices.access import RegistryReader, RegistryWriter
from stream.state import service as state
from stream.state.models import BaselineIn, DeviceStateRead, MetersRead
from tickets.api.deps import ConnDep

router = APIRouter(tags=["state"])


@router.get("/devices/{device_id}/state")
async def get_device_state(conn: ConnDep, user: RegistryReader, device_id: str) -> DeviceStateRead:
    return await state.get_device_state(conn=conn, device_id=device_id)


@router.get("/equipment/{unit_id}/meters")
async def get_equipment_meters(conn: ConnDep, user: RegistryReader, unit_id: str) -> MetersRead:
    return await state.get_meters(conn=conn, subject_kind="equipment", subject_id=unit_id)


@router.post("/equipment/{unit_id}/meters/baseline")
async def set_equipment_baseline(
    conn: ConnDep, user: RegistryWriter, unit_id: str, baseline_in: BaselineIn
) -> MetersRead:
    return await state.set_baseline(
        conn=conn,
        subject_kind="equipment",
        subject_id=unit_id,
        baseline_in=baseline_in,
        set_by=user.id,
    )


@router.get("/vehicles/{vehicle_id}/meters")
async def get_vehicle_meters(conn: ConnDep, user: RegistryReader, vehicle_id: str) -> MetersRead:
    return await state.get_meters(conn=conn, subject_kind="vehicle", subject_id=vehicle_id)


@router.post("/vehicles/{vehicle_id}/meters/baseline")
async def set_vehicle_baseline(
    conn: ConnDep, user: RegistryWriter, vehicle_id: str, baseline_in: BaselineIn
) -> MetersRead:
    return await state.set_baseline(
        conn=conn,
        subject_kind="vehicle",
        subject_id=vehicle_id,
        baseline_in=baseline_in,
        set_by=user.id,
    )
