"""A unit's health over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from kernel.clock import utcnow
from predictive.api_deps import HealthDep
from predictive.equipment_health import service as health_service
from predictive.equipment_health.models import HealthRead
from tickets.api.deps import ConnDep, CurrentUser

router = APIRouter(tags=["equipment health"])


@router.get("/equipment/{equipment_id}/health")
async def get_equipment_health(
    conn: ConnDep, user: CurrentUser, health: HealthDep, equipment_id: str
) -> HealthRead:
    """Health 0-100 (100 = healthy) from anomalies, overdue maintenance and age; failure risk
    where a model exists. Planners, admins and the unit's responsible engineer."""
    return await health_service.get_health(
        conn=conn, equipment_id=equipment_id, user=user, now=utcnow(), health=health
    )
