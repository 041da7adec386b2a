"""The periodic plans check: take completed work as new anchors, emit MaintenanceDue.

One occurrence, one event: an occurrence is a due point (every interval's due value or
date, counted from the unit's anchor). It is recorded in the same transaction that sends its
event, so a failed send is retried on the next check and a sent one is never repeated; the
event id derives from the due point, so a repeat after a crash is dropped by consumers.
Nothing is emitted while a maintenance ticket of the plan on the unit is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg

from kernel.events import MaintenanceDue, Subject, SubjectKind, event_id_for
from predictive.plans import repository
from predictive.plans.models import PlanRead
from predictive.plans.repository import Unit
from predictive.plans.schedule import METERS, Anchor, IntervalDue, meter_at
from predictive.plans.standing import UnitStanding, read_meters, standings

SendEvents = Callable[[Sequence[MaintenanceDue]], Awaitable[None]]
# Samples back this far serve usage forecasts and completions reported late.
SAMPLE_RETENTION_DAYS: Final = 120


async def check_due(
    *, conn: psycopg.AsyncConnection, now: datetime, send: SendEvents, usage_days: float
) -> list[MaintenanceDue]:
    """Bring anchors up to date and send one MaintenanceDue per new occurrence due now."""
    async with conn.transaction():
        plans = [
            PlanRead.model_validate(row)
            for row in await repository.list_plans(conn, enabled_only=True)
        ]
        if not plans:
            return []
        await _sample_meters(conn, plans, now=now, usage_days=usage_days)
        await _anchor_completions(conn, now=now)
        await _anchor_starts(conn, plans, now=now, usage_days=usage_days)
        found = await standings(conn, plans, now=now, usage_days=usage_days)
        open_tickets = await repository.open_plan_tickets(conn, [p.id for p in plans])
        events = [
            maintenance_due(s, now)
            for s in found
            if s.status.due_now
            and (s.plan.id, s.unit.subject_id) not in open_tickets
            and await _claim(conn, s, now)
        ]
        if events:
            await send(events)
    return events


def maintenance_due(standing: UnitStanding, now: datetime) -> MaintenanceDue:
    """The event of one occurrence, with what a ticket needs to plan the work."""
    plan, unit, status = standing.plan, standing.unit, standing.status
    first = status.first
    return MaintenanceDue(
        event_id=_event_id(standing),
        occurred_at=now,
        subject=Subject(SubjectKind(unit.subject_kind), unit.subject_id),
        evidence={
            "plan_id": plan.id,
            "plan_name": plan.name,
            "work_type": plan.work_type,
            "skills": plan.skills,
            "duration_h": plan.duration_h,
            "checklist": [item.model_dump(mode="json") for item in plan.checklist],
            "due_at": first.due_at.isoformat() if first.due_at else None,
            "basis": first.basis,
            "summary": first.summary(now),
            "last_done_at": standing.anchor.done_at.isoformat(),
            "meters": _meters(standing),
            "intervals": [_interval(i, now) for i in status.intervals],
        },
    )


async def _claim(conn: psycopg.AsyncConnection, standing: UnitStanding, now: datetime) -> bool:
    first = standing.status.first
    return await repository.claim_occurrence(
        conn,
        standing.unit,
        due_key=standing.status.due_key(),
        event_id=_event_id(standing),
        basis=first.basis,
        due_at=first.due_at,
        now=now,
    )


def _event_id(standing: UnitStanding) -> str:
    unit = standing.unit
    key = standing.status.due_key()
    return event_id_for("MaintenanceDue", unit.plan_id, unit.subject_kind, unit.subject_id, key)


async def _sample_meters(
    conn: psycopg.AsyncConnection, plans: Sequence[PlanRead], *, now: datetime, usage_days: float
) -> None:
    units = await repository.plan_units(conn, [p.id for p in plans])
    subjects = sorted({(u.subject_kind, u.subject_id) for u in units})
    meters = await read_meters(conn, subjects, now=now, usage_days=usage_days)
    await repository.record_samples(conn, meters.current, now=now)
    await repository.prune_samples(conn, before=now - timedelta(days=SAMPLE_RETENTION_DAYS))


async def _anchor_completions(conn: psycopg.AsyncConnection, *, now: datetime) -> None:
    """Each completed plan ticket becomes an anchor, with the meters when it was completed."""
    for ticket_id, unit, done_at in await repository.new_completions(conn):
        values = [await _meter_at(conn, unit, meter, done_at, now) for meter in METERS]
        anchor = Anchor(done_at, *values)
        await repository.insert_anchor(conn, unit, anchor, source="ticket", ticket_id=ticket_id)


async def _meter_at(
    conn: psycopg.AsyncConnection, unit: Unit, meter: str, at: datetime, now: datetime
) -> float | None:
    """The meter when the work was done: between the samples around it, or the meter now."""
    subject = (unit.subject_kind, unit.subject_id)
    points = await repository.samples_around(conn, subject, meter, at)
    current = (await repository.meters_of(conn, [subject])).get(subject, {}).get(meter)
    if current is not None and (not points or points[-1][0] < now):
        points.append((now, current))
    return meter_at(points, at)


async def _anchor_starts(
    conn: psycopg.AsyncConnection, plans: Sequence[PlanRead], *, now: datetime, usage_days: float
) -> None:
    """Units first seen by a plan count from its start, meters as they are now."""
    for standing in await standings(conn, plans, now=now, usage_days=usage_days):
        if standing.anchor_source is None:
            await repository.insert_anchor(conn, standing.unit, standing.anchor, source="start")
        elif standing.anchor_source == "start" and _gains_meters(standing):
            usage = standing.usage
            fill = Anchor(standing.anchor.done_at, usage.hours_run, usage.odometer_km)
            await repository.fill_start_meters(conn, standing.unit, fill)


def _gains_meters(standing: UnitStanding) -> bool:
    anchor, usage = standing.anchor, standing.usage
    return any(anchor.meter(m) is None and usage.meter(m) is not None for m in METERS)


def _meters(standing: UnitStanding) -> dict[str, float]:
    usage = standing.usage
    return {m: v for m in METERS if (v := usage.meter(m)) is not None}


def _interval(interval: IntervalDue, now: datetime) -> dict[str, Any]:
    return {
        "basis": interval.basis,
        "due_at": interval.due_at.isoformat() if interval.due_at else None,
        "due_value": interval.due_value,
        "remaining": interval.remaining,
        "forecast": interval.forecast,
        "summary": interval.summary(now),
    }
