"""Field reports: a vehicle's day (work and non-work kilometres and time, engine hours, trips,
visits), the waybill over a range of days as CSV, and where every engineer is."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

from kernel.errors import DomainError, Invalid, NotFound
from tickets.field import reports_repository as repository
from tickets.field.models import DayTotals, EngineerPosition, TripRead, VehicleDay, VisitRead

MAX_WAYBILL_DAYS: Final = 31
WAYBILL_COLUMNS: Final = (
    "date",
    "vehicle_id",
    "trip_count",
    "work_km",
    "non_work_km",
    "total_km",
    "work_driving_h",
    "non_work_driving_h",
    "engine_hours",
    "visit_count",
    "sites",
)


class RangeTooLarge(DomainError):
    """A range of days wider than the report allows (HTTP 400: no DomainError kind maps it)."""


async def vehicle_day(
    *, conn: psycopg.AsyncConnection, vehicle_id: str, day: date, timezone: str = "UTC"
) -> VehicleDay:
    """One vehicle's day, midnight to midnight in the time zone."""
    lo, hi = _span(day, day, timezone)
    await _ensure_vehicle(conn, vehicle_id)
    trips = await repository.trips(conn, vehicle_id, lo, hi)
    visits = await repository.visits(conn, vehicle_id, lo, hi)
    hours = await repository.engine_hours_by_day(conn, vehicle_id, lo, hi, timezone)
    return VehicleDay(
        vehicle_id=vehicle_id,
        timezone=timezone,
        totals=day_totals(day, trips, visits, hours.get(day)),
        trips=trips,
        visits=visits,
    )


async def waybill(
    *,
    conn: psycopg.AsyncConnection,
    vehicle_id: str,
    first: date,
    last: date,
    timezone: str = "UTC",
) -> list[DayTotals]:
    """The vehicle's totals for each day from first to last, both included."""
    if last < first:
        raise Invalid("`from` must not be after `to`", fields={"from": "after `to`"})
    days = (last - first).days + 1
    if days > MAX_WAYBILL_DAYS:
        raise RangeTooLarge(
            f"the range is {days} days; a waybill may span at most {MAX_WAYBILL_DAYS} days"
        )
    lo, hi = _span(first, last, timezone)
    await _ensure_vehicle(conn, vehicle_id)
    zone = ZoneInfo(timezone)
    trips_by_day: defaultdict[date, list[TripRead]] = defaultdict(list)
    for trip in await repository.trips(conn, vehicle_id, lo, hi):
        trips_by_day[trip.started_at.astimezone(zone).date()].append(trip)
    visits_by_day: defaultdict[date, list[VisitRead]] = defaultdict(list)
    for visit in await repository.visits(conn, vehicle_id, lo, hi):
        visits_by_day[visit.arrived_at.astimezone(zone).date()].append(visit)
    hours = await repository.engine_hours_by_day(conn, vehicle_id, lo, hi, timezone)
    return [
        day_totals(day, trips_by_day[day], visits_by_day[day], hours.get(day))
        for day in (first + timedelta(days=n) for n in range(days))
    ]


def day_totals(
    day: date, trips: Sequence[TripRead], visits: Sequence[VisitRead], engine_hours: float | None
) -> DayTotals:
    """A day's figures from its trips and visits."""
    work = [t for t in trips if t.work]
    other = [t for t in trips if not t.work]
    work_km, other_km = sum(t.distance_km for t in work), sum(t.distance_km for t in other)
    return DayTotals(
        date=day,
        trip_count=len(trips),
        work_km=round(work_km, 3),
        non_work_km=round(other_km, 3),
        total_km=round(work_km + other_km, 3),
        work_driving_s=sum(t.duration_s for t in work),
        non_work_driving_s=sum(t.duration_s for t in other),
        engine_hours=None if engine_hours is None else round(engine_hours, 2),
        visit_count=len(visits),
        sites=sorted({v.site_id for v in visits}),
    )


def waybill_csv(vehicle_id: str, days: Sequence[DayTotals]) -> str:
    """The waybill as CSV, one row per day, hours as decimal hours."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WAYBILL_COLUMNS)
    for d in days:
        writer.writerow(
            [
                d.date.isoformat(),
                vehicle_id,
                d.trip_count,
                d.work_km,
                d.non_work_km,
                d.total_km,
                round(d.work_driving_s / 3600, 2),
                round(d.non_work_driving_s / 3600, 2),
                "" if d.engine_hours is None else d.engine_hours,
                d.visit_count,
                " ".join(d.sites),
            ]
        )
    return out.getvalue()


async def engineer_positions(
    *, conn: psycopg.AsyncConnection, now: datetime
) -> list[EngineerPosition]:
    """Every engineer's latest position, its age at now, their status and current ticket."""
    return await repository.engineer_positions(conn, now)


def _span(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """[midnight starting first, midnight ending last) in the zone (DST days included)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"unknown time zone {timezone!r}", fields={"tz": "unknown"}) from exc
    lo = datetime.combine(first, time(0), tzinfo=zone)
    return lo, datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


async def _ensure_vehicle(conn: psycopg.AsyncConnection, vehicle_id: str) -> None:
    if not await repository.vehicle_exists(conn, vehicle_id):
        raise NotFound(f"vehicle {vehicle_id!r} not found")
