"""Assignment rule schemas: the scope a rule applies to, its hard filters and its weights."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tickets.assignment.rules import DEFAULT_WEIGHTS_PCT, FACTOR_NAMES
from tickets.models import Kind, Priority

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
WEIGHTS_DESCRIPTION = f"Percent per factor, summing to 100; factors: {', '.join(FACTOR_NAMES)}."


class RuleBase(BaseModel):
    kind: Kind | None = Field(default=None, description="Scope: None applies to every kind.")
    priority: Priority | None = None
    customer: str | None = Field(default=None, max_length=200)
    site_id: str | None = Field(default=None, max_length=64)
    max_travel_min: float | None = Field(default=120.0, gt=0, description="None: no limit.")
    require_area: bool = True
    require_shift: bool = True
    position_stale_after_min: float = Field(default=15.0, ge=0)
    weights_pct: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS_PCT), description=WEIGHTS_DESCRIPTION
    )


class RuleCreate(RuleBase):
    id: RuleId = Field(description="Ties between equally specific rules go to the lower id.")


class RuleUpdate(BaseModel):
    """Fields to change; those not sent stay. Send null to widen a scope field to any."""

    kind: Kind | None = None
    priority: Priority | None = None
    customer: str | None = Field(default=None, max_length=200)
    site_id: str | None = Field(default=None, max_length=64)
    max_travel_min: float | None = Field(default=None, gt=0)
    require_area: bool | None = None
    require_shift: bool | None = None
    position_stale_after_min: float | None = Field(default=None, ge=0)
    weights_pct: dict[str, float] | None = None


class RuleRead(RuleBase):
    id: str
    created_at: datetime
    updated_at: datetime
