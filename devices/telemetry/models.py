"""Shapes and limits of the telemetry read API."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, Field

# A fix counts as moving from this speed on with the ignition not reported off; the
# rollups (stream/rollups, migration 0005) use the same rule for driving time.
MOVING_SPEED_KMH: Final = 5.0

# The widest range each query may span: they bound the rows one request can read.
MAX_RAW_RANGE: Final = timedelta(days=7)
MAX_HOURLY_RANGE: Final = timedelta(days=92)
MAX_DAILY_RANGE: Final = timedelta(days=1_100)
MAX_TRACK_RANGE: Final = timedelta(days=7)
DEFAULT_RANGE: Final = timedelta(hours=24)

MAX_POSITIONS_PAGE: Final = 1_000
MAX_POINTS_PAGE: Final = 10_000
MAX_BUCKETS_PAGE: Final = 5_000


class VehicleStatus(StrEnum):
    MOVING = "moving"
    STOPPED = "stopped"
    OFFLINE = "offline"


class Bucket(StrEnum):
    RAW = "raw"
    HOUR = "1h"
    DAY = "1d"


class BoundingBox(BaseModel):
    min_lon: float = Field(ge=-180, le=180)
    min_lat: float = Field(ge=-90, le=90)
    max_lon: float = Field(ge=-180, le=180)
    max_lat: float = Field(ge=-90, le=90)


class VehiclePosition(BaseModel):
    vehicle_id: str
    plate: str | None
    device_id: str
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    heading: float | None
    ignition: bool | None
    odometer_km: float | None
    status: VehicleStatus


class VehiclePositionPage(BaseModel):
    items: list[VehiclePosition]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TrackPoint(BaseModel):
    ts: datetime
    lat: float
    lon: float
    speed_kmh: float | None
    heading: float | None
    ignition: bool | None
    odometer_km: float | None


class Track(BaseModel):
    vehicle_id: str
    tolerance_m: float | None = Field(description="Douglas-Peucker tolerance, when simplified.")
    raw_points: int | None = Field(description="Points before simplification, when simplified.")
    items: list[TrackPoint]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RawReading(BaseModel):
    device_id: str
    ts: datetime
    hours_run: float | None
    running: bool | None
    metrics: dict[str, float]


class MetricStats(BaseModel):
    count: int
    min: float
    avg: float
    max: float


class BucketStats(BaseModel):
    bucket: datetime
    reading_count: int
    running_count: int
    hours_run_delta: float | None
    metrics: dict[str, MetricStats]


class ReadingPage(BaseModel):
    equipment_id: str
    bucket: Bucket
    raw: list[RawReading] | None = Field(description="The readings, for bucket=raw.")
    buckets: list[BucketStats] | None = Field(description="Statistics, for 1h and 1d.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class FleetDay(BaseModel):
    day: datetime
    vehicles: int
    distance_km: float | None
    driving_s: int
    ignition_on_s: int
    engine_hours: float | None


class FleetDayPage(BaseModel):
    items: list[FleetDay]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
