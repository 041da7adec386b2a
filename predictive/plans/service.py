"""Maintenance plans for the API and the CLI: create, read, update, delete, the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import ValidationError

from kernel.clock import utcnow
from kernel.errors import Invalid, NotFound
from predictive.plans import repository
from predictive.plans.models import (
    CompletionIn,
    DueRead,
    PlanCreate,
    PlanFields,
    PlanRead,
    PlanUpdate,
    TargetKind,
    UpcomingRead,
    check_intervals,
)
from predictive.plans.repository import Unit
from predictive.plans.schedule import Anchor
from predictive.plans.standing import UnitStanding, standings

INTERVAL_FIELDS = frozenset({"every_days", "every_months", "every_hours_run", "every_odometer_km"})
# A meter interval without a usage forecast shows in the calendar once this close to due.
UNDATED_SHOWN_WITHIN_SHARE = 0.1


async def create(
    *, conn: psycopg.AsyncConnection, plan_in: PlanCreate, created_by: str | None
) -> PlanRead:
    """A new plan; its target must exist (an equipment model needs at least one unit)."""
    await _require_target(conn, plan_in.target_kind, plan_in.target_id)
    values = plan_in.model_dump(mode="json", exclude_none=True)
    values["starts_at"] = plan_in.starts_at or utcnow()
    row = await repository.insert_plan(conn, {**values, "created_by": created_by})
    return PlanRead.model_validate(row)


async def get(*, conn: psycopg.AsyncConnection, plan_id: int) -> PlanRead:
    row = await repository.get_plan(conn, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    return PlanRead.model_validate(row)


async def list_all(*, conn: psycopg.AsyncConnection) -> list[PlanRead]:
    return [PlanRead.model_validate(row) for row in await repository.list_plans(conn)]


async def update(*, conn: psycopg.AsyncConnection, plan_id: int, plan_in: PlanUpdate) -> PlanRead:
    """Change the fields sent; the plan must still have an interval afterwards."""
    row = await repository.get_plan_for_update(conn, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    changes = plan_in.model_dump(mode="json", exclude_unset=True)
    cleared = sorted(k for k, v in changes.items() if v is None and k not in INTERVAL_FIELDS)
    if cleared:
        raise Invalid(f"{cleared[0]} cannot be null", fields={k: "required" for k in cleared})
    if plan_in.starts_at is not None:
        changes["starts_at"] = plan_in.starts_at
    try:
        check_intervals(PlanFields.model_validate({**row, **changes}), row["target_kind"])
    except ValueError as exc:
        raise Invalid(str(exc), fields={"intervals": str(exc)}) from exc
    updated = await repository.update_plan(conn, plan_id, changes)
    assert updated is not None
    return PlanRead.model_validate(updated)


async def delete(*, conn: psycopg.AsyncConnection, plan_id: int) -> None:
    if not await repository.delete_plan(conn, plan_id):
        raise NotFound(f"plan {plan_id} not found")


async def record_completion(
    *,
    conn: psycopg.AsyncConnection,
    plan_id: int,
    completion_in: CompletionIn,
    recorded_by: str,
) -> None:
    """Work done outside the tickets: the plan's next due point on the unit counts from it."""
    plan = await get(conn=conn, plan_id=plan_id)
    units = await repository.plan_units(conn, [plan_id])
    kind = "vehicle" if plan.target_kind is TargetKind.VEHICLE else "equipment"
    unit = Unit(plan_id, kind, completion_in.subject_id)
    if unit not in units:
        raise Invalid(
            f"plan {plan_id} does not cover {kind} {completion_in.subject_id!r}",
            fields={"subject_id": "not covered by this plan"},
        )
    anchor = Anchor(completion_in.done_at, completion_in.hours_run, completion_in.odometer_km)
    await repository.insert_anchor(conn, unit, anchor, source="manual", recorded_by=recorded_by)


async def upcoming(
    *, conn: psycopg.AsyncConnection, now: datetime, days: float, usage_days: float
) -> list[UpcomingRead]:
    """What falls due within days from now (overdue included), soonest first."""
    rows = await repository.list_plans(conn, enabled_only=True)
    plans = [PlanRead.model_validate(row) for row in rows]
    found = await standings(conn, plans, now=now, usage_days=usage_days)
    open_tickets = await repository.open_plan_tickets(conn, [p.id for p in plans])
    horizon = now + timedelta(days=days)
    entries = [
        upcoming_entry(s, now, ticket_open=(s.plan.id, s.unit.subject_id) in open_tickets)
        for s in found
        if _within(s, horizon)
    ]
    return sorted(entries, key=lambda e: (e.due_at is None, e.due_at or now, e.plan_id))


async def unit_standings(
    *,
    conn: psycopg.AsyncConnection,
    subject_kind: str,
    subject_id: str,
    now: datetime,
    usage_days: float,
) -> list[UnitStanding]:
    """Every enabled plan covering one unit, evaluated at now."""
    rows = await repository.plans_for_subject(conn, subject_kind, subject_id)
    plans = [PlanRead.model_validate(row) for row in rows]
    return await standings(
        conn, plans, now=now, usage_days=usage_days, only=(subject_kind, subject_id)
    )


def upcoming_entry(standing: UnitStanding, now: datetime, *, ticket_open: bool) -> UpcomingRead:
    """The calendar entry of one plan on one unit."""
    status, plan, unit = standing.status, standing.plan, standing.unit
    return UpcomingRead(
        plan_id=plan.id,
        plan_name=plan.name,
        work_type=plan.work_type,
        subject_kind=unit.subject_kind,
        subject_id=unit.subject_id,
        due_at=status.first.due_at,
        basis=status.first.basis,
        summary=status.first.summary(now),
        due_now=status.due_now,
        overdue=status.overdue_fraction(now) > 0,
        ticket_open=ticket_open,
        last_done_at=standing.anchor.done_at,
        intervals=[
            DueRead(
                basis=i.basis,
                due_at=i.due_at,
                due_value=i.due_value,
                remaining=i.remaining,
                rate_per_day=i.rate_per_day,
                forecast=i.forecast,
                summary=i.summary(now),
            )
            for i in status.intervals
        ],
    )


def _within(standing: UnitStanding, horizon: datetime) -> bool:
    status = standing.status
    if status.due_now or (status.first.due_at is not None and status.first.due_at <= horizon):
        return True
    # No forecast yet (usage unknown): show meter intervals that are nearly used up.
    return any(
        i.remaining is not None
        and i.every is not None
        and i.remaining <= i.every * UNDATED_SHOWN_WITHIN_SHARE
        for i in status.intervals
    )


async def _require_target(conn: psycopg.AsyncConnection, kind: TargetKind, target: str) -> None:
    if kind is TargetKind.EQUIPMENT_MODEL:
        units = await repository.count_model_units(conn, target)
        if units == 0:
            raise Invalid(
                f"no equipment of model {target!r}", fields={"target_id": "unknown model"}
            )
        return
    if not await repository.subject_exists(conn, kind.value, target):
        raise Invalid(f"{kind.value} {target!r} not found", fields={"target_id": "not found"})


def validation_message(exc: ValidationError) -> str:
    """The first problem of a pydantic error, in one line (for the CLI)."""
    error: dict[str, Any] = dict(exc.errors()[0])
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
