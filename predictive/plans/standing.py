"""Where every unit of a set of plans stands: its anchor, usage and due points, now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from predictive.plans import repository
from predictive.plans.models import PlanRead
from predictive.plans.repository import Subject, Unit
from predictive.plans.schedule import (
    HOURS_RUN,
    ODOMETER_KM,
    Anchor,
    DueStatus,
    Usage,
    due_status,
    usage_rate,
)


@dataclass(frozen=True, slots=True)
class UnitStanding:
    """One plan on one unit: what it counts from, the unit's usage, and its due points."""

    plan: PlanRead
    unit: Unit
    anchor: Anchor
    anchor_source: str | None
    usage: Usage
    status: DueStatus


@dataclass(frozen=True, slots=True)
class Meters:
    """Meter values now per subject, and the oldest recent sample of each."""

    current: dict[Subject, dict[str, float]]
    oldest: dict[tuple[str, str, str], tuple[datetime, float]]

    def usage(self, subject: Subject, now: datetime) -> Usage:
        values = self.current.get(subject, {})
        rates = {
            meter: usage_rate(self.oldest.get((*subject, meter)), values.get(meter), now)
            for meter in (HOURS_RUN, ODOMETER_KM)
        }
        return Usage(
            hours_run=values.get(HOURS_RUN),
            odometer_km=values.get(ODOMETER_KM),
            hours_run_per_day=rates[HOURS_RUN],
            odometer_km_per_day=rates[ODOMETER_KM],
        )


async def read_meters(
    conn: psycopg.AsyncConnection, subjects: Sequence[Subject], *, now: datetime, usage_days: float
) -> Meters:
    """Current meters of the subjects and their samples from the usage window on."""
    since = now - timedelta(days=usage_days)
    return Meters(
        current=await repository.meters_of(conn, subjects),
        oldest=await repository.oldest_samples(conn, subjects, since=since),
    )


async def standings(
    conn: psycopg.AsyncConnection,
    plans: Sequence[PlanRead],
    *,
    now: datetime,
    usage_days: float,
    only: Subject | None = None,
) -> list[UnitStanding]:
    """Every unit of the plans (or only one subject), evaluated at now."""
    by_id = {plan.id: plan for plan in plans}
    units = await repository.plan_units(conn, list(by_id))
    if only is not None:
        units = {u: at for u, at in units.items() if (u.subject_kind, u.subject_id) == only}
    subjects = sorted({(u.subject_kind, u.subject_id) for u in units})
    meters = await read_meters(conn, subjects, now=now, usage_days=usage_days)
    anchors = await repository.latest_anchors(conn, list(by_id))
    found = []
    for unit, registered_at in units.items():
        plan = by_id[unit.plan_id]
        usage = meters.usage((unit.subject_kind, unit.subject_id), now)
        anchor, source = anchors.get(unit, (start_anchor(plan, registered_at, usage), None))
        status = due_status(plan.intervals(), anchor, usage, now)
        found.append(UnitStanding(plan, unit, anchor, source, usage, status))
    return found


def start_anchor(plan: PlanRead, registered_at: datetime, usage: Usage) -> Anchor:
    """What a unit never serviced under the plan counts from: the plan's start, or the unit's
    registration if later (a unit added to a model's fleet is not born overdue); meters as
    they are now."""
    return Anchor(max(plan.starts_at, registered_at), usage.hours_run, usage.odometer_km)
