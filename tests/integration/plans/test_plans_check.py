"""The plans check against a real database: one event per occurrence, none while a ticket
is open, and the next due point from the completed work."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from kernel.events import MaintenanceDue
from predictive.plans import service as plans
from predictive.plans.due import check_due
from predictive.plans.models import PlanCreate, PlanRead

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
USAGE_DAYS = 14.0


def _seed(url: str, *, hours_run: float) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, model, created_at) VALUES "
            "('eq-1', 'pump', 'P1', '2020-01-01Z'), ('eq-2', 'pump', 'P1', '2020-01-01Z')"
        )
        for unit in ("eq-1", "eq-2"):
            conn.execute(
                "INSERT INTO telemetry.meters (subject_kind, subject_id, meter, value, source) "
                "VALUES ('equipment', %s, 'hours_run', %s, 'counter')",
                (unit, hours_run),
            )


def _set_hours(url: str, unit: str, value: float) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE telemetry.meters SET value = %s WHERE subject_id = %s", (value, unit))


def _create(url: str, **fields: Any) -> PlanRead:
    plan_in = PlanCreate.model_validate({"name": "Service", "duration_h": 2.0, **fields})

    async def run() -> PlanRead:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await plans.create(conn=conn, plan_in=plan_in, created_by="test")

    return asyncio.run(run())


def _check(url: str, now: datetime) -> list[MaintenanceDue]:
    sent: list[MaintenanceDue] = []

    async def send(events: Sequence[MaintenanceDue]) -> None:
        sent.extend(events)

    async def run() -> list[MaintenanceDue]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await check_due(conn=conn, now=now, send=send, usage_days=USAGE_DAYS)

    returned = asyncio.run(run())
    assert returned == sent
    return sent


def _open_ticket(url: str, plan_id: int, unit: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO tickets.tickets (kind, status, priority, title, equipment_id, cause) "
            "VALUES ('maintenance_due', 'assigned', 'normal', 'Service', %s, %s) RETURNING id",
            (unit, f"plan:{plan_id}"),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _complete(url: str, ticket_id: int, at: datetime) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE tickets.tickets SET status = 'completed', completed_at = %s WHERE id = %s",
            (at, ticket_id),
        )


def test_a_model_plan_falls_due_once_per_unit_with_what_the_ticket_needs(
    database_url: str,
) -> None:
    _seed(database_url, hours_run=1_000.0)
    plan = _create(
        database_url,
        target_kind="equipment_model",
        target_id="P1",
        every_hours_run=100.0,
        lead_hours_run=10.0,
        skills={"mechanic": 2},
        checklist=[{"id": "oil", "kind": "measure", "label": "Oil level", "min": 1, "max": 3}],
    )

    assert _check(database_url, NOW) == []  # counts from 1,000 h: due at 1,100 h
    _set_hours(database_url, "eq-1", 1_091.0)
    first = _check(database_url, NOW + timedelta(hours=1))
    again = _check(database_url, NOW + timedelta(hours=2))

    (event,) = first
    assert again == []
    assert (event.subject.kind.value, event.subject.id) == ("equipment", "eq-1")
    evidence = event.evidence
    assert evidence["plan_id"] == plan.id and evidence["basis"] == "hours_run"
    assert evidence["skills"] == {"mechanic": 2} and evidence["duration_h"] == 2.0
    assert evidence["checklist"][0]["kind"] == "measure"
    assert evidence["summary"].startswith("due in ~9.0 h of running")


def test_no_event_while_a_ticket_of_the_plan_is_open_on_the_unit(database_url: str) -> None:
    _seed(database_url, hours_run=0.0)
    plan = _create(
        database_url,
        target_kind="equipment",
        target_id="eq-1",
        every_days=30,
        starts_at=(NOW - timedelta(days=40)).isoformat(),
    )
    _open_ticket(database_url, plan.id, "eq-1")

    assert _check(database_url, NOW) == []


def test_a_unit_registered_after_the_plan_started_counts_from_its_registration(
    database_url: str,
) -> None:
    _seed(database_url, hours_run=0.0)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, model, created_at) VALUES "
            "('eq-new', 'pump', 'P1', %s)",
            (NOW - timedelta(days=5),),
        )
    _create(
        database_url,
        target_kind="equipment_model",
        target_id="P1",
        every_days=30,
        starts_at=(NOW - timedelta(days=40)).isoformat(),
    )

    due = _check(database_url, NOW)

    assert sorted(e.subject.id for e in due) == ["eq-1", "eq-2"]


def test_the_next_due_point_counts_from_the_completed_ticket(database_url: str) -> None:
    _seed(database_url, hours_run=1_000.0)
    plan = _create(
        database_url,
        target_kind="equipment",
        target_id="eq-2",
        every_days=30,
        every_hours_run=100.0,
        starts_at=(NOW - timedelta(days=40)).isoformat(),
    )
    (due,) = _check(database_url, NOW)  # 40 days > 30: overdue by calendar
    ticket_id = _open_ticket(database_url, plan.id, "eq-2")
    _set_hours(database_url, "eq-2", 1_020.0)
    _complete(database_url, ticket_id, NOW + timedelta(hours=1))

    after = _check(database_url, NOW + timedelta(hours=2))
    upcoming = _upcoming(database_url, NOW + timedelta(hours=2), days=60)

    assert due.evidence["basis"] == "calendar" and after == []
    (entry,) = upcoming
    assert entry.last_done_at == NOW + timedelta(hours=1)
    by_basis = {i.basis: i for i in entry.intervals}
    assert by_basis["calendar"].due_at == NOW + timedelta(days=30, hours=1)
    # The meter when the work was done: halfway between the 1,000 h sampled at the first
    # check and the 1,020 h at the second, so the next 100 h count from 1,010 h.
    assert by_basis["hours_run"].due_value == 1_110.0


def _upcoming(url: str, now: datetime, *, days: float) -> list[Any]:
    async def run() -> list[Any]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return list(await plans.upcoming(conn=conn, now=now, days=days, usage_days=USAGE_DAYS))

    return asyncio.run(run())
