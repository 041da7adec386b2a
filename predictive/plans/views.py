"""Maintenance plans and the planners' calendar over HTTP (planners and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kernel.clock import utcnow
from predictive.api_deps import HealthDep
from predictive.plans import service as plans
from predictive.plans.models import CompletionIn, PlanCreate, PlanRead, PlanUpdate, UpcomingRead
from tickets.api.deps import ConnDep, PlannerUser

router = APIRouter(tags=["maintenance plans"])


@router.get("/plans")
async def list_plans(conn: ConnDep, user: PlannerUser) -> list[PlanRead]:
    return await plans.list_all(conn=conn)


@router.post("/plans", status_code=201)
async def create_plan(conn: ConnDep, user: PlannerUser, plan_in: PlanCreate) -> PlanRead:
    return await plans.create(conn=conn, plan_in=plan_in, created_by=user.id)


@router.get("/plans/{plan_id}")
async def get_plan(conn: ConnDep, user: PlannerUser, plan_id: int) -> PlanRead:
    return await plans.get(conn=conn, plan_id=plan_id)


@router.patch("/plans/{plan_id}")
async def update_plan(
    conn: ConnDep, user: PlannerUser, plan_id: int, plan_in: PlanUpdate
) -> PlanRead:
    return await plans.update(conn=conn, plan_id=plan_id, plan_in=plan_in)


@router.delete("/plans/{plan_id}", status_code=204)
async def delete_plan(conn: ConnDep, user: PlannerUser, plan_id: int) -> Response:
    await plans.delete(conn=conn, plan_id=plan_id)
    return Response(status_code=204)


@router.post("/plans/{plan_id}/completions", status_code=204)
async def record_completion(
    conn: ConnDep, user: PlannerUser, plan_id: int, completion_in: CompletionIn
) -> Response:
    """Work done outside the tickets; the plan's next due point on the unit counts from it."""
    await plans.record_completion(
        conn=conn, plan_id=plan_id, completion_in=completion_in, recorded_by=user.id
    )
    return Response(status_code=204)


@router.get("/maintenance/upcoming")
async def upcoming_maintenance(
    conn: ConnDep,
    user: PlannerUser,
    health: HealthDep,
    days: Annotated[float, Query(gt=0, le=3660, description="Look this many days ahead.")] = 30,
) -> list[UpcomingRead]:
    """Maintenance falling due within `days` (overdue first), with meter forecasts."""
    return await plans.upcoming(
        conn=conn, now=utcnow(), days=days, usage_days=health.plans_usage_days
    )
