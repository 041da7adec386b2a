"""The telemetry read API's service layer: ranges, limits, pagination, simplification."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pydantic import TypeAdapter

from devices.telemetry import repository
from devices.telemetry.models import (
    DEFAULT_RANGE,
    MAX_DAILY_RANGE,
    MAX_HOURLY_RANGE,
    MAX_RAW_RANGE,
    MAX_TRACK_RANGE,
    MOVING_SPEED_KMH,
    BoundingBox,
    Bucket,
    BucketStats,
    FleetDay,
    FleetDayPage,
    RawReading,
    ReadingPage,
    Track,
    TrackPoint,
    VehiclePosition,
    VehiclePositionPage,
    VehicleStatus,
)
from devices.telemetry.repository import PositionFilter
from devices.telemetry.simplify import simplify
from kernel.clock import from_epoch_us, to_epoch_us, utcnow
from kernel.errors import DomainError, Invalid, NotFound

# Vehicles whose last fix is older than this are offline.
OFFLINE_AFTER = timedelta(minutes=15)
BUCKET_WIDTH = {Bucket.HOUR: "hour", Bucket.DAY: "day"}
BUCKET_STEP = {Bucket.HOUR: timedelta(hours=1), Bucket.DAY: timedelta(days=1)}
MAX_RANGE = {Bucket.RAW: MAX_RAW_RANGE, Bucket.HOUR: MAX_HOURLY_RANGE, Bucket.DAY: MAX_DAILY_RANGE}
ONE_US = timedelta(microseconds=1)


# Whole lists are validated in one call: the loop then runs in pydantic-core, not Python.
POSITIONS = TypeAdapter(list[VehiclePosition])
POINTS = TypeAdapter(list[TrackPoint])
RAW_READINGS = TypeAdapter(list[RawReading])
FLEET_DAYS = TypeAdapter(list[FleetDay])
BUCKETS = TypeAdapter(list[BucketStats])


class RangeTooLarge(DomainError):
    """A time range wider than the query allows (HTTP 400: no DomainError kind maps it)."""


@dataclass(frozen=True, slots=True)
class Range:
    lo: datetime
    hi: datetime


def time_range(*, lo: datetime | None, hi: datetime | None, limit: timedelta, what: str) -> Range:
    """The [lo, hi) asked for, defaulting to the last 24 h; checked against `limit`."""
    hi = _utc(hi) if hi is not None else utcnow()
    lo = _utc(lo) if lo is not None else hi - DEFAULT_RANGE
    if lo >= hi:
        raise Invalid("`from` must be before `to`", fields={"from": "not before `to`"})
    if hi - lo > limit:
        raise RangeTooLarge(
            f"the range is {_days(hi - lo)}; {what} may span at most {_days(limit)}"
        )
    return Range(lo, hi)


async def latest_positions(
    *,
    conn: psycopg.AsyncConnection,
    statuses: list[VehicleStatus] | None,
    bbox: BoundingBox | None,
    cursor: str | None,
    limit: int,
) -> VehiclePositionPage:
    """The last known position of every vehicle, by vehicle id."""
    now = utcnow()
    flt = PositionFilter(
        offline_before=now - OFFLINE_AFTER,
        moving_kmh=MOVING_SPEED_KMH,
        after_vehicle_id=cursor or "",
        statuses=[s.value for s in statuses] if statuses else None,
        **_bbox_bounds(bbox),
    )
    rows = await repository.latest_positions(conn, flt, limit=limit)
    items = POSITIONS.validate_python(rows)
    return VehiclePositionPage(items=items, next_cursor=_next(items, limit, lambda p: p.vehicle_id))


async def track(
    *,
    conn: psycopg.AsyncConnection,
    vehicle_id: str,
    lo: datetime | None,
    hi: datetime | None,
    tolerance_m: float | None,
    cursor: str | None,
    limit: int,
) -> Track:
    """A vehicle's fixes in [lo, hi), optionally simplified; paged by time."""
    devices = await repository.vehicle_devices(conn, vehicle_id)
    if devices is None:
        raise NotFound(f"vehicle {vehicle_id!r} not found")
    span = time_range(lo=lo, hi=hi, limit=MAX_TRACK_RANGE, what="a track")
    if tolerance_m is None:
        rows = await repository.track(conn, devices, _after(span.lo, cursor), span.hi, limit=limit)
        points = POINTS.validate_python(rows)
        return _track(vehicle_id, None, None, points, limit)
    # The whole range is simplified at once (the range limit bounds it), then paged, so
    # every page is a slice of the same simplified line.
    rows = await repository.track(conn, devices, span.lo, span.hi, limit=_max_fixes(span))
    kept = [
        rows[i] for i in simplify([r["lat"] for r in rows], [r["lon"] for r in rows], tolerance_m)
    ]
    after = _after(span.lo, cursor)
    points = POINTS.validate_python([row for row in kept if row["ts"] >= after][:limit])
    return _track(vehicle_id, tolerance_m, len(rows), points, limit)


async def readings(
    *,
    conn: psycopg.AsyncConnection,
    equipment_id: str,
    lo: datetime | None,
    hi: datetime | None,
    bucket: Bucket,
    metric: str | None,
    cursor: str | None,
    limit: int,
) -> ReadingPage:
    """An equipment unit's raw readings, or hourly or daily statistics from the rollup."""
    devices = await repository.equipment_devices(conn, equipment_id)
    if devices is None:
        raise NotFound(f"equipment {equipment_id!r} not found")
    span = time_range(lo=lo, hi=hi, limit=MAX_RANGE[bucket], what=f"bucket={bucket.value}")
    if bucket is Bucket.RAW:
        return await _raw(conn, equipment_id, devices, span, metric, cursor, limit)
    return await _bucketed(conn, equipment_id, devices, span, bucket, metric, cursor, limit)


async def fleet_days(
    *,
    conn: psycopg.AsyncConnection,
    lo: datetime | None,
    hi: datetime | None,
    cursor: str | None,
    limit: int,
) -> FleetDayPage:
    """Per UTC day, the whole fleet's distance, driving time and engine hours."""
    span = time_range(lo=lo, hi=hi, limit=MAX_DAILY_RANGE, what="fleet days")
    lo_day = _floor(span.lo, timedelta(days=1))
    day = timedelta(days=1)
    rows = await repository.fleet_days(conn, _after(lo_day, cursor, day), span.hi, limit=limit)
    items = FLEET_DAYS.validate_python(rows)
    return FleetDayPage(items=items, next_cursor=_next(items, limit, lambda d: _cursor(d.day)))


async def _raw(
    conn: psycopg.AsyncConnection,
    equipment_id: str,
    devices: list[str],
    span: Range,
    metric: str | None,
    cursor: str | None,
    limit: int,
) -> ReadingPage:
    lo = _after(span.lo, cursor)
    rows = await repository.raw_readings(conn, devices, lo, span.hi, metric=metric, limit=limit)
    items = RAW_READINGS.validate_python(rows)
    return ReadingPage(
        equipment_id=equipment_id,
        bucket=Bucket.RAW,
        raw=items,
        buckets=None,
        next_cursor=_next(items, limit, lambda r: _cursor(r.ts)),
    )


async def _bucketed(
    conn: psycopg.AsyncConnection,
    equipment_id: str,
    devices: list[str],
    span: Range,
    bucket: Bucket,
    metric: str | None,
    cursor: str | None,
    limit: int,
) -> ReadingPage:
    step, width = BUCKET_STEP[bucket], BUCKET_WIDTH[bucket]
    # Whole buckets only: a bucket is in when it starts in [from, to) widened to buckets.
    lo = _after(_floor(span.lo, step), cursor, step)
    hi = _floor(span.hi - ONE_US, step) + step
    units = await repository.bucket_units(conn, devices, lo, hi, width=width, limit=limit)
    if units:
        hi = units[-1]["bucket"] + step
    stats = await repository.bucket_metrics(conn, devices, lo, hi, width=width, metric=metric)
    items = _bucket_stats(units, stats)
    return ReadingPage(
        equipment_id=equipment_id,
        bucket=bucket,
        raw=None,
        buckets=items,
        next_cursor=_next(items, limit, lambda b: _cursor(b.bucket)),
    )


def _bucket_stats(units: list[dict[str, Any]], stats: list[dict[str, Any]]) -> list[BucketStats]:
    by_bucket: dict[datetime, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in stats:
        by_bucket[row.pop("bucket")][row.pop("metric")] = row
    for unit in units:
        unit["metrics"] = by_bucket.get(unit["bucket"], {})
    return BUCKETS.validate_python(units)


def _track(
    vehicle_id: str,
    tolerance_m: float | None,
    raw_points: int | None,
    points: list[TrackPoint],
    limit: int,
) -> Track:
    return Track(
        vehicle_id=vehicle_id,
        tolerance_m=tolerance_m,
        raw_points=raw_points,
        items=points,
        next_cursor=_next(points, limit, lambda p: _cursor(p.ts)),
    )


def _max_fixes(span: Range) -> int:
    # One fix a second is as dense as any tracker reports; it bounds what one request reads.
    return int((span.hi - span.lo).total_seconds()) + 1


def _bbox_bounds(bbox: BoundingBox | None) -> dict[str, float]:
    if bbox is None:
        return {}
    return {
        "min_lat": bbox.min_lat,
        "max_lat": bbox.max_lat,
        "min_lon": bbox.min_lon,
        "max_lon": bbox.max_lon,
    }


def _next(items: list[Any], limit: int, key: Any) -> str | None:
    return str(key(items[-1])) if items and len(items) == limit else None


def _cursor(ts: datetime) -> str:
    return str(to_epoch_us(ts))


def _after(lo: datetime, cursor: str | None, step: timedelta = ONE_US) -> datetime:
    """The lower bound of the next page: the first time after the cursor's item."""
    if cursor is None:
        return lo
    try:
        return max(lo, from_epoch_us(int(cursor)) + step)
    except (ValueError, OverflowError) as exc:
        raise Invalid(
            "`cursor` is not one this API returned", fields={"cursor": "invalid"}
        ) from exc


def _floor(ts: datetime, step: timedelta) -> datetime:
    return ts - (ts - datetime(2000, 1, 1, tzinfo=UTC)) % step


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours % 24:
        return f"{hours:g} hours"
    return f"{hours / 24:g} day" + ("" if hours == 24 else "s")
