"""Ticket schemas: what the API reads and writes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tickets.domain.lifecycle import Status
from tickets.engineers.models import EngineerId

MAX_ASSISTED_BY = 20


class Kind(StrEnum):
    ANOMALY = "anomaly"
    MAINTENANCE_DUE = "maintenance_due"
    PLANNED = "planned"
    BREAKDOWN = "breakdown"
    INSPECTION = "inspection"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


class ChecklistStep(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: Literal["check", "measure", "text", "photo"]
    label: str = Field(min_length=1, max_length=500)
    required: bool = True
    min: float | None = None
    max: float | None = None


class Sla(BaseModel):
    accept_by: datetime | None
    arrive_by: datetime | None
    resolve_by: datetime | None


class TicketBase(BaseModel):
    kind: Kind = Kind.BREAKDOWN
    priority: Priority = Priority.NORMAL
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    equipment_id: str | None = None
    site_id: str | None = None
    customer: str | None = None
    work_type: str | None = None
    required_skills: dict[str, int] = Field(default_factory=dict)
    estimated_h: float | None = Field(default=None, gt=0, le=240)
    checklist: list[ChecklistStep] = Field(default_factory=list)


class TicketCreate(TicketBase):
    """A ticket opened by hand (a breakdown call, a planned visit)."""


class TicketRead(TicketBase):
    id: int
    status: Status
    assignee_id: str | None
    cause: str | None
    evidence: list[dict[str, Any]]
    event_count: int
    flags: list[str]
    unassignable_reasons: list[str] | None
    sla: Sla
    sla_state: SlaState
    accepted_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class Completion(BaseModel):
    work_done: str = Field(min_length=1, max_length=10_000)
    materials: list[dict[str, Any]] = Field(default_factory=list)
    checklist_answers: dict[str, Any] = Field(default_factory=dict)
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=5_000)
    assisted_by: list[EngineerId] = Field(
        default_factory=list,
        max_length=MAX_ASSISTED_BY,
        description="Other engineers who worked on the job with the assignee; each is checked "
        "against the GPS visits at the site during the work.",
    )

    @field_validator("assisted_by")
    @classmethod
    def _each_once(cls, engineer_ids: list[str]) -> list[str]:
        if len(set(engineer_ids)) != len(engineer_ids):
            raise ValueError("an engineer is named twice")
        return engineer_ids


class ActionIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2_000)
    assignee_id: str | None = Field(default=None, description="For a planner's manual assign.")
    at: datetime | None = Field(default=None, description="When it happened (e.g. GPS arrival).")
    completion: Completion | None = None


class HistoryEntry(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor_id: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: dict[str, Any]
