"""The demo's hooks: its plans fall due at the first check, and the counts see them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import psycopg

from devices.simulator.fleet import Fleet, FleetConfig
from kernel.clock import utcnow
from kernel.events import MaintenanceDue
from predictive.plans.due import check_due
from stream.health.demo_hooks import add_demo_plans, count_anomalies, count_maintenance_due
from toir.fleet_registry import register_fleet


def test_the_demo_plans_fall_due_and_are_counted(database_url: str) -> None:
    started = utcnow() - timedelta(seconds=1)
    fleet = Fleet(FleetConfig(equipment=6, vehicles=0, seed=1))
    register_fleet(database_url, fleet)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO predictive.anomalies (equipment_id, kind, opened_at, severity, score, "
            "event_id) VALUES ('eq-0001', 'spike', now(), 'high', 20, 'e1')"
        )
    add_demo_plans(database_url, fleet)

    async def check() -> list[MaintenanceDue]:
        async def send(events: Sequence[MaintenanceDue]) -> None:
            pass

        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await check_due(conn=conn, now=utcnow(), send=send, usage_days=14)

    due = asyncio.run(check())

    assert [e.evidence["plan_name"] for e in due] == ["Daily inspection"]
    assert count_maintenance_due(database_url, started) == 1
    assert count_anomalies(database_url, started) == 1
