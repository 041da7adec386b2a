"""Latest state and meters as the API returns them, and the baseline an admin sets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class MeterName(StrEnum):
    HOURS_RUN = "hours_run"
    ODOMETER_KM = "odometer_km"


class MeterRead(BaseModel):
    """A meter's value (hours or km) and what moved it last (counter, state, gps, baseline)."""

    meter: MeterName
    value: float
    source: str
    device_id: str | None
    last_at: datetime | None
    updated_at: datetime


class BaselineIn(BaseModel):
    """A meter set by hand: replaced, or corrected to what the dashboard shows."""

    model_config = ConfigDict(extra="forbid")

    meter: MeterName
    value: float = Field(ge=0, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500)


class BaselineRead(BaseModel):
    id: int
    meter: MeterName
    value: float
    previous_value: float | None
    reason: str
    set_by: str
    set_at: datetime


class MetersRead(BaseModel):
    subject_kind: str
    subject_id: str
    meters: list[MeterRead]
    history: list[BaselineRead]


class MetricRead(BaseModel):
    value: float
    ts: datetime


class PositionRead(BaseModel):
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    heading: float | None
    accuracy_m: float | None
    altitude_m: float | None
    ignition: bool | None
    battery_pct: float | None


class DeviceStateRead(BaseModel):
    """Everything current about a device; online while it reports within its interval."""

    device_id: str
    subject_kind: str
    subject_id: str
    online: bool
    expected_interval_s: float
    last_seen_at: datetime | None
    last_received_at: datetime | None
    running: bool | None
    metrics: dict[str, MetricRead]
    position: PositionRead | None
    meters: list[MeterRead]
