"""The path of a trip: its fixes, the distance and speeds along it, the event reporting it.

The segmentation rules live in trips.py; this module measures, and names the sites at the ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, NamedTuple

from devices.records import Position
from kernel.geo import haversine_m
from stream.field.events import TripCompleted, event_id
from stream.field.geofence_index import GeofenceIndex

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
    accuracy_m: float | None
    ignition: bool | None


def is_move(step: Step, mark: PathFix, *, moving_kmh: float, jitter_m: float) -> bool:
    """Whether the vehicle moved since the mark, rather than its fix wandering about it."""
    # Doppler speed is immune to position jitter, so it decides when the device reports it;
    # otherwise the fix must be farther from the mark than its stated (or assumed) error.
    if step.reported_kmh is not None:
        return step.reported_kmh >= moving_kmh
    error_m = jitter_m if step.accuracy_m is None else step.accuracy_m
    return haversine_m(mark.lat, mark.lon, step.fix.lat, step.fix.lon) > error_m


def chord(mark: PathFix, step: Step) -> Step:
    """The step straight from the mark to step's fix, skipping the wander in between."""
    distance_m = haversine_m(mark.lat, mark.lon, step.fix.lat, step.fix.lon)
    implied_kmh = distance_m / ((step.fix.ts_us - mark.ts_us) / US_PER_S) / MS_PER_KMH
    return step._replace(distance_m=distance_m, implied_kmh=implied_kmh)


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


def odometer_m(start: PathFix, end: PathFix, gps_m: float, max_speed_kmh: float) -> float | None:
    """The odometer distance from start to end, or None when missing or implausible."""
    if start.odometer_km is None or end.odometer_km is None:
        return None
    distance_m = (end.odometer_km - start.odometer_km) * 1000.0
    # A reset, a rollover or a swapped tracker shows as a negative or impossible distance; a
    # stuck counter, or one in whole kilometres on a short trip, as far less than the GPS path
    # (which loses distance in gaps and corners, but not half of it).
    duration_s = max((end.ts_us - start.ts_us) / US_PER_S, 1.0)
    ceiling_m = duration_s * max_speed_kmh * MS_PER_KMH
    return distance_m if gps_m / 2 <= distance_m <= ceiling_m else None


def trip_event(
    device_id: str, ends: tuple[PathFix, PathFix], leg: Leg, occurred_us: int, max_speed_kmh: float
) -> TripCompleted:
    """The TripCompleted event for a leg from start to end; sites are left for the caller."""
    start, end = ends
    duration_s = (end.ts_us - start.ts_us) / US_PER_S
    from_odometer_m = odometer_m(start, end, leg.gps_m, max_speed_kmh)
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
        start_site_id=None,
        end_site_id=None,
        occurred_us=occurred_us,
    )


def with_sites(event: TripCompleted, index: GeofenceIndex | None, margin_m: float) -> TripCompleted:
    """The event with the sites at its start and end, when there is an index to ask."""
    if index is None:
        return event
    start_site_id = index.site_at(event.start_lat, event.start_lon, margin_m)
    end_site_id = index.site_at(event.end_lat, event.end_lon, margin_m)
    return replace(event, start_site_id=start_site_id, end_site_id=end_site_id)
