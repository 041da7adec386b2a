"""Field reports over HTTP (planners and admins): thin handlers over tickets.field.reports."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Query, Response

from kernel.clock import utcnow
from tickets.api.deps import ConnDep, PlannerUser
from tickets.field import reports
from tickets.field.models import EngineerPosition, VehicleDay

router = APIRouter(tags=["field"])

DEFAULT_WAYBILL_DAYS: Final = 7
TimeZone = Annotated[str, Query(description="IANA name: the days run midnight to midnight here.")]


@router.get("/vehicles/{vehicle_id}/days/{day}")
async def vehicle_day(
    conn: ConnDep, user: PlannerUser, vehicle_id: str, day: date, tz: TimeZone = "UTC"
) -> VehicleDay:
    """Work and non-work kilometres and driving time, engine hours, trips and visits."""
    return await reports.vehicle_day(conn=conn, vehicle_id=vehicle_id, day=day, timezone=tz)


@router.get(
    "/vehicles/{vehicle_id}/waybill.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per day."}},
)
async def vehicle_waybill(
    conn: ConnDep,
    user: PlannerUser,
    vehicle_id: str,
    first: Annotated[
        date | None, Query(alias="from", description="First day (default: 6 days before `to`).")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Last day, included (default: today, UTC).")
    ] = None,
    tz: TimeZone = "UTC",
) -> Response:
    """The waybill figures per day over at most 31 days, as CSV."""
    last = last or utcnow().date()
    first = first or last - timedelta(days=DEFAULT_WAYBILL_DAYS - 1)
    days = await reports.waybill(
        conn=conn, vehicle_id=vehicle_id, first=first, last=last, timezone=tz
    )
    name = f"waybill-{re.sub(r'[^A-Za-z0-9_.-]', '_', vehicle_id)}-{first}-{last}.csv"
    return Response(
        reports.waybill_csv(vehicle_id, days),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/engineers/positions")
async def engineer_positions(conn: ConnDep, user: PlannerUser) -> list[EngineerPosition]:
    """Each engineer's latest position, its age, their status and current ticket."""
    return await reports.engineer_positions(conn=conn, now=utcnow())
