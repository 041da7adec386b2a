"""The path of a trip: the fixes on it, the distance and speeds along it, the event reporting it.

The segmentation rules live in trips.py; this module only measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

from devices.records import Position
from stream.field.events import TripCompleted, event_id

US_PER_S: Final = 1_000_000
# Metres per second in one km/h.
MS_PER_KMH: Final = 1 / 3.6


class PathFix(NamedTuple):
    """A fix on a vehicle's path; the odometer is the latest reading at or before it."""

    ts_us: int
    lat: float
    lon: float
    odometer_km: float | None


def path_fix(position: Position, prev: PathFix | None) -> PathFix:
    """The path fix of a position, following prev."""
    # Odometers are often reported on some fixes only: carry the last reading forward.
    odometer_km = position.odometer_km
    if odometer_km is None and prev is not None:
        odometer_km = prev.odometer_km
    return PathFix(position.ts_us, position.lat, position.lon, odometer_km)


class Step(NamedTuple):
    """One move from the previous path fix to fix."""

    fix: PathFix
    distance_m: float
    implied_kmh: float
    reported_kmh: float | None
    ignition: bool | None


@dataclass(slots=True)
class Leg:
    """GPS distance and speeds accumulated over consecutive steps."""

    gps_m: float = 0.0
    steps: int = 0
    max_reported_kmh: float | None = None
    max_implied_kmh: float = 0.0

    def add(self, step: Step) -> None:
        """Extend by one step."""
        self.gps_m += step.distance_m
        self.steps += 1
        self.max_implied_kmh = max(self.max_implied_kmh, step.implied_kmh)
        if step.reported_kmh is not None:
            self.max_reported_kmh = max(self.max_reported_kmh or 0.0, step.reported_kmh)

    def merge(self, other: Leg) -> None:
        """Extend by the steps of the leg that follows this one."""
        self.gps_m += other.gps_m
        self.steps += other.steps
        self.max_implied_kmh = max(self.max_implied_kmh, other.max_implied_kmh)
        if other.max_reported_kmh is not None:
            self.max_reported_kmh = max(self.max_reported_kmh or 0.0, other.max_reported_kmh)

    @property
    def max_speed_kmh(self) -> float:
        """The highest reported speed if the device reports speed, else the highest implied."""
        return self.max_implied_kmh if self.max_reported_kmh is None else self.max_reported_kmh


def odometer_m(start: PathFix, end: PathFix, max_speed_kmh: float) -> float | None:
    """The odometer distance from start to end, or None when missing or implausible."""
    if start.odometer_km is None or end.odometer_km is None:
        return None
    distance_m = (end.odometer_km - start.odometer_km) * 1000.0
    # A reset, a rollover or a swapped tracker shows as a negative or impossible distance.
    duration_s = max((end.ts_us - start.ts_us) / US_PER_S, 1.0)
    return distance_m if 0.0 <= distance_m <= duration_s * max_speed_kmh * MS_PER_KMH else None


@dataclass(frozen=True, slots=True)
class TripEnds:
    """Where and when a trip started and ended, with the sites there if any."""

    start: PathFix
    end: PathFix
    start_site_id: str | None
    end_site_id: str | None


def trip_event(
    device_id: str, ends: TripEnds, leg: Leg, *, occurred_us: int, max_speed_kmh: float
) -> TripCompleted:
    """The TripCompleted event for a leg between two ends."""
    start, end = ends.start, ends.end
    duration_s = (end.ts_us - start.ts_us) / US_PER_S
    from_odometer_m = odometer_m(start, end, max_speed_kmh)
    distance_m = leg.gps_m if from_odometer_m is None else from_odometer_m
    return TripCompleted(
        event_id=event_id("TripCompleted", device_id, start.ts_us),
        device_id=device_id,
        started_us=start.ts_us,
        ended_us=end.ts_us,
        start_lat=start.lat,
        start_lon=start.lon,
        end_lat=end.lat,
        end_lon=end.lon,
        distance_m=distance_m,
        distance_source="gps" if from_odometer_m is None else "odometer",
        gps_distance_m=leg.gps_m,
        odometer_distance_m=from_odometer_m,
        duration_s=duration_s,
        max_speed_kmh=leg.max_speed_kmh,
        avg_speed_kmh=distance_m / duration_s / MS_PER_KMH if duration_s > 0 else 0.0,
        fixes=leg.steps + 1,
        start_site_id=ends.start_site_id,
        end_site_id=ends.end_site_id,
        occurred_us=occurred_us,
    )
