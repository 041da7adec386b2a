"""What the health endpoint returns about one unit."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AnomalyRead(BaseModel):
    kind: str
    severity: str
    score: float
    opened_at: datetime
    cleared_at: datetime | None


class MaintenanceStandingRead(BaseModel):
    plan_id: int
    plan_name: str
    basis: str
    due_at: datetime | None
    summary: str
    overdue_fraction: float


class HealthRead(BaseModel):
    """The score (100 = healthy) and what it was computed from."""

    equipment_id: str
    score: float
    computed_at: datetime
    open_anomalies: int
    anomalies: list[AnomalyRead]
    maintenance: list[MaintenanceStandingRead]
    overdue_fraction: float
    age_years: float | None
    age_fraction: float
    failure_risk: float | None
    failure_risk_horizon_days: float | None
    failure_risk_model_version: int | None
