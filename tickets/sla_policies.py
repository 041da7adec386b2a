"""SLA policies over HTTP: by kind, priority and optionally customer (planners, admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from fastapi import APIRouter, status
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, field_validator

from kernel.errors import Conflict, NotFound
from tickets.api.deps import ConnDep, PlannerUser
from tickets.domain.sla import WorkingHours
from tickets.models import Kind, Priority

router = APIRouter(prefix="/sla-policies", tags=["sla"])
COLUMNS = (
    "id, kind, priority, customer, accept_within_min, arrive_within_min, resolve_within_min, "
    "working_hours, created_at"
)


class SlaPolicyIn(BaseModel):
    kind: Kind | None = None
    priority: Priority | None = None
    customer: str | None = None
    accept_within_min: int = Field(gt=0, le=525_600)
    arrive_within_min: int = Field(gt=0, le=525_600)
    resolve_within_min: int = Field(gt=0, le=525_600)
    working_hours: dict[str, Any] | None = Field(
        default=None, description='{"timezone": "Europe/Moscow", "days": {"0": ["09:00", "18:00"]}}'
    )

    @field_validator("working_hours")
    @classmethod
    def _parses(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            WorkingHours.from_json(value)  # raises on a malformed calendar
        return value


class SlaPolicyRead(SlaPolicyIn):
    id: int
    created_at: datetime


@router.get("")
async def list_policies(conn: ConnDep, user: PlannerUser) -> list[SlaPolicyRead]:
    async with conn.cursor(row_factory=class_row(SlaPolicyRead)) as cur:
        await cur.execute(f"SELECT {COLUMNS} FROM tickets.sla_policies ORDER BY id")
        return await cur.fetchall()


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_policy(conn: ConnDep, user: PlannerUser, policy_in: SlaPolicyIn) -> SlaPolicyRead:
    try:
        async with conn.transaction(), conn.cursor(row_factory=class_row(SlaPolicyRead)) as cur:
            await cur.execute(
                f"INSERT INTO tickets.sla_policies (kind, priority, customer, accept_within_min, "
                f"arrive_within_min, resolve_within_min, working_hours) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
                _values(policy_in),
            )
            row = await cur.fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict("a policy for this kind, priority and customer exists") from exc
    assert row is not None
    return row


@router.put("/{policy_id}")
async def replace_policy(
    conn: ConnDep, user: PlannerUser, policy_id: int, policy_in: SlaPolicyIn
) -> SlaPolicyRead:
    try:
        async with conn.transaction(), conn.cursor(row_factory=class_row(SlaPolicyRead)) as cur:
            await cur.execute(
                f"UPDATE tickets.sla_policies SET kind = %s, priority = %s, customer = %s, "
                f"accept_within_min = %s, arrive_within_min = %s, resolve_within_min = %s, "
                f"working_hours = %s WHERE id = %s RETURNING {COLUMNS}",
                (*_values(policy_in), policy_id),
            )
            row = await cur.fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict("a policy for this kind, priority and customer exists") from exc
    if row is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return row


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(conn: ConnDep, user: PlannerUser, policy_id: int) -> None:
    cur = await conn.execute("DELETE FROM tickets.sla_policies WHERE id = %s", (policy_id,))
    if cur.rowcount == 0:
        raise NotFound(f"SLA policy {policy_id} not found")


def _values(policy_in: SlaPolicyIn) -> tuple[Any, ...]:
    return (
        policy_in.kind.value if policy_in.kind else None,
        policy_in.priority.value if policy_in.priority else None,
        policy_in.customer,
        policy_in.accept_within_min,
        policy_in.arrive_within_min,
        policy_in.resolve_within_min,
        Jsonb(policy_in.working_hours) if policy_in.working_hours else None,
    )
