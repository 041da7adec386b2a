"""Telemetry over HTTP for planners: thin handlers over devices.telemetry.service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from devices.telemetry import service as telemetry
from devices.telemetry.models import (
    MAX_BUCKETS_PAGE,
    MAX_POINTS_PAGE,
    MAX_POSITIONS_PAGE,
    BoundingBox,
    Bucket,
    FleetDayPage,
    ReadingPage,
    Track,
    VehiclePositionPage,
    VehicleStatus,
)
from kernel.errors import Invalid
from tickets.api.deps import ConnDep, PlannerUser

router = APIRouter(tags=["telemetry"])

From = Annotated[
    datetime | None, Query(alias="from", description="Start, inclusive (UTC if naive).")
]
To = Annotated[datetime | None, Query(alias="to", description="End, exclusive; default now.")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


@router.get("/vehicles/positions")
async def vehicle_positions(
    conn: ConnDep,
    user: PlannerUser,
    status: Annotated[list[VehicleStatus] | None, Query()] = None,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat", examples=["37,55,38,56"])
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POSITIONS_PAGE)] = 500,
) -> VehiclePositionPage:
    """The latest position of every vehicle (offline: no fix for 15 minutes)."""
    return await telemetry.latest_positions(
        conn=conn, statuses=status, bbox=_bbox(bbox), cursor=cursor, limit=limit
    )


@router.get("/vehicles/daily")
async def fleet_days(
    conn: ConnDep,
    user: PlannerUser,
    from_: From = None,
    to: To = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_BUCKETS_PAGE)] = 366,
) -> FleetDayPage:
    """Fleet totals per UTC day: distance, driving time, ignition time, engine hours."""
    return await telemetry.fleet_days(conn=conn, lo=from_, hi=to, cursor=cursor, limit=limit)


@router.get("/vehicles/{vehicle_id}/track")
async def vehicle_track(
    conn: ConnDep,
    user: PlannerUser,
    vehicle_id: str,
    from_: From = None,
    to: To = None,
    tolerance_m: Annotated[
        float | None, Query(gt=0, le=10_000, description="Simplify (Douglas-Peucker), metres.")
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS_PAGE)] = 1_000,
) -> Track:
    """A vehicle's fixes over at most 7 days, oldest first."""
    return await telemetry.track(
        conn=conn,
        vehicle_id=vehicle_id,
        lo=from_,
        hi=to,
        tolerance_m=tolerance_m,
        cursor=cursor,
        limit=limit,
    )


@router.get("/equipment/{equipment_id}/readings")
async def equipment_readings(
    conn: ConnDep,
    user: PlannerUser,
    equipment_id: str,
    from_: From = None,
    to: To = None,
    bucket: Bucket = Bucket.RAW,
    metric: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS_PAGE)] = 1_000,
) -> ReadingPage:
    """Raw readings (up to 7 days) or hourly (92 days) or daily (1,100 days) statistics."""
    return await telemetry.readings(
        conn=conn,
        equipment_id=equipment_id,
        lo=from_,
        hi=to,
        bucket=bucket,
        metric=metric,
        cursor=cursor,
        limit=limit,
    )


def _bbox(text: str | None) -> BoundingBox | None:
    if text is None:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in text.split(","))
        return BoundingBox(min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        raise Invalid(
            "bbox must be min_lon,min_lat,max_lon,max_lat in degrees", fields={"bbox": "invalid"}
        ) from exc
