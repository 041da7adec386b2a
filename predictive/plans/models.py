"""Maintenance plan schemas: what the API and the CLI read and write about plans."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from predictive.plans.schedule import Intervals

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
TargetId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class TargetKind(StrEnum):
    """What a plan covers: every unit of an equipment model, one unit, or one vehicle."""

    EQUIPMENT_MODEL = "equipment_model"
    EQUIPMENT = "equipment"
    VEHICLE = "vehicle"


class StepKind(StrEnum):
    CHECK = "check"
    MEASURE = "measure"
    TEXT = "text"
    PHOTO = "photo"


class ChecklistItem(BaseModel):
    """A step of the work: a check, a measured value within a range, a text or a photo."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    kind: StepKind
    label: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    required: bool = True
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.kind is not StepKind.MEASURE and (self.min is not None or self.max is not None):
            raise ValueError("only a measure step has a range")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class PlanFields(BaseModel):
    """Everything about a plan but its target; every field optional, for updates."""

    name: Name | None = None
    work_type: Name | None = None
    skills: dict[str, SkillLevel] | None = None
    duration_h: Positive | None = None
    checklist: list[ChecklistItem] | None = None
    every_days: Annotated[int, Field(ge=1)] | None = None
    every_months: Annotated[int, Field(ge=1)] | None = None
    every_hours_run: Positive | None = None
    every_odometer_km: Positive | None = None
    lead_days: NonNegative | None = None
    lead_hours_run: NonNegative | None = None
    lead_odometer_km: NonNegative | None = None
    starts_at: AwareDatetime | None = None
    enabled: bool | None = None


class PlanCreate(PlanFields):
    """A new plan: a target, at least one interval (several: whichever comes first)."""

    name: Name
    target_kind: TargetKind
    target_id: TargetId
    work_type: Name = "maintenance"
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    duration_h: Positive = 1.0
    checklist: list[ChecklistItem] = Field(default_factory=list)
    lead_days: NonNegative = 0.0
    lead_hours_run: NonNegative = 0.0
    lead_odometer_km: NonNegative = 0.0
    enabled: bool = True

    @model_validator(mode="after")
    def _intervals(self) -> Self:
        check_intervals(self, self.target_kind)
        return self


class PlanUpdate(PlanFields):
    """A partial update: only the fields sent change (null clears an interval)."""


class PlanRead(BaseModel):
    id: int
    name: str
    target_kind: TargetKind
    target_id: str
    work_type: str
    skills: dict[str, int]
    duration_h: float
    checklist: list[ChecklistItem]
    every_days: int | None
    every_months: int | None
    every_hours_run: float | None
    every_odometer_km: float | None
    lead_days: float
    lead_hours_run: float
    lead_odometer_km: float
    starts_at: datetime
    enabled: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    def intervals(self) -> Intervals:
        return Intervals(
            every_days=self.every_days,
            every_months=self.every_months,
            every_hours_run=self.every_hours_run,
            every_odometer_km=self.every_odometer_km,
            lead_days=self.lead_days,
            lead_hours_run=self.lead_hours_run,
            lead_odometer_km=self.lead_odometer_km,
        )


def check_intervals(plan: PlanFields, target_kind: str) -> None:
    """At least one interval, and no odometer for equipment (it does not travel)."""
    intervals = (plan.every_days, plan.every_months, plan.every_hours_run, plan.every_odometer_km)
    if all(value is None for value in intervals):
        raise ValueError("a plan needs at least one interval (days, months, hours run or km)")
    if plan.every_odometer_km is not None and target_kind != TargetKind.VEHICLE:
        raise ValueError("an odometer interval needs a vehicle plan")


class CompletionIn(BaseModel):
    """Work done under a plan outside the tickets (e.g. before the platform, or a vehicle)."""

    subject_id: TargetId
    done_at: AwareDatetime
    hours_run: NonNegative | None = None
    odometer_km: NonNegative | None = None


class DueRead(BaseModel):
    """One interval's due point on one unit."""

    basis: str
    due_at: datetime | None
    due_value: float | None
    remaining: float | None
    rate_per_day: float | None
    forecast: bool
    summary: str


class UpcomingRead(BaseModel):
    """A plan falling due on a unit: the planners' calendar entry."""

    plan_id: int
    plan_name: str
    work_type: str
    subject_kind: str
    subject_id: str
    due_at: datetime | None
    basis: str
    summary: str
    due_now: bool
    overdue: bool
    ticket_open: bool
    last_done_at: datetime
    intervals: list[DueRead]
