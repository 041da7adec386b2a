"""What `toir demo` needs of equipment health: a fault and plans that show within a minute,
the stream settings for readings a fraction of a second apart, and what to count after."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import psycopg

from devices.simulator.equipment import EquipmentKind
from devices.simulator.faults import FaultKind, FaultSpec
from devices.simulator.fleet import Fleet
from predictive.plans import service as plans
from predictive.plans.models import PlanCreate, TargetKind
from predictive.settings import demo_environment

__all__ = [
    "add_demo_plans",
    "count_anomalies",
    "count_maintenance_due",
    "demo_environment",
    "demo_fault",
]

ANOMALIES_SQL = "SELECT count(*) FROM predictive.anomalies WHERE recorded_at >= %s"
MAINTENANCE_DUE_SQL = "SELECT count(*) FROM predictive.plan_occurrences WHERE emitted_at >= %s"
# The overheating jumps 25 °C at once and climbs 10 more over this long.
FAULT_RAMP_S = 120.0
# About 20 s of running at a demo's pace: falls due mid-run on a unit that runs.
DEMO_HOURS_INTERVAL = 0.005


def demo_fault(equipment_id: str, *, starts_at_us: int) -> FaultSpec:
    """A sudden overheating: the demo detector opens a spike within seconds of it."""
    return FaultSpec(FaultKind.OVERHEATING, equipment_id, starts_at_us, FAULT_RAMP_S)


def add_demo_plans(database_url: str, fleet: Fleet) -> list[int]:
    """Two plans, their ids: a daily inspection of the first unit with a day's notice (due
    at the first check), and lubrication every 18 s of running for the fleet's most common
    pump model (pumps run most of the day, so one of them falls due mid-run)."""
    daily = PlanCreate(
        name="Daily inspection",
        target_kind=TargetKind.EQUIPMENT,
        target_id=fleet.equipment[0].id,
        work_type="inspection",
        every_days=1,
        lead_days=1.0,
    )
    running = PlanCreate(
        name="Lubrication (demo: every 18 s of running)",
        target_kind=TargetKind.EQUIPMENT_MODEL,
        target_id=_busiest_model(fleet),
        every_hours_run=DEMO_HOURS_INTERVAL,
    )

    async def create() -> list[int]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return [
                (await plans.create(conn=conn, plan_in=p, created_by="demo")).id
                for p in (daily, running)
            ]

    return asyncio.run(create())


def _busiest_model(fleet: Fleet) -> str:
    pumps = [u.model for u in fleet.equipment if u.kind is EquipmentKind.PUMP]
    models = pumps or [u.model for u in fleet.equipment]
    return Counter(models).most_common(1)[0][0]


def count_anomalies(database_url: str, since: datetime) -> int:
    """Anomalies the stream opened (and recorded) since a moment."""
    return _count(database_url, ANOMALIES_SQL, since)


def count_maintenance_due(database_url: str, since: datetime) -> int:
    """MaintenanceDue events the plans check emitted since a moment."""
    return _count(database_url, MAINTENANCE_DUE_SQL, since)


def _count(database_url: str, sql: str, since: datetime) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql.encode(), (since,)).fetchone()
    return int(row[0]) if row else 0
