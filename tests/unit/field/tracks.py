"""Synthetic GPS tracks and sites for the field-control tests.

A Track is built leg by leg (park, drive, arc, silence); each leg starts where and when the
previous one ended and adds a fix every `every_s` seconds. Positions are exact unless a leg
asks for jitter, which is Gaussian per axis from a seeded generator, so every test is repeatable.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final

from msgspec.structs import replace

from devices.records import Position
from kernel.geo import destination, haversine_m, offset_m
from stream.field.geofence_index import Geofence

# 2023-11-14T22:13:20Z.
T0_US: Final = 1_700_000_000_000_000
US_PER_S: Final = 1_000_000
# Central Moscow: every test scene is laid out around it.
CENTRE: Final = (55.75, 37.62)


def at(north_m: float, east_m: float) -> tuple[float, float]:
    """The point so many metres north and east of CENTRE."""
    return offset_m(*CENTRE, north_m, east_m)


def circle(site_id: str, north_m: float, east_m: float, radius_m: float) -> Geofence:
    """A circular site centred so many metres north and east of CENTRE."""
    return Geofence.circle(site_id, *at(north_m, east_m), radius_m)


def square(site_id: str, north_m: float, east_m: float, side_m: float) -> Geofence:
    """A square polygon site centred so many metres north and east of CENTRE."""
    half = side_m / 2
    corners = [(-half, -half), (-half, half), (half, half), (half, -half)]
    return Geofence.area(site_id, [at(north_m + n, east_m + e) for n, e in corners])


def ts(seconds: float) -> int:
    """The epoch microseconds so many seconds after T0_US."""
    return T0_US + round(seconds * US_PER_S)


@dataclass
class Track:
    """One device's fixes, built leg by leg."""

    lat: float
    lon: float
    device_id: str = "truck-1"
    every_s: float = 10.0
    odometer_km: float | None = None
    seed: int = 7
    last_s: float | None = None  # seconds after T0_US of the last fix, None before the first
    fixes: list[Position] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def starting_at(
        cls, north_m: float, east_m: float, *, odometer_km: float | None = None, seed: int = 7
    ) -> Track:
        """A track that starts so many metres north and east of CENTRE."""
        lat, lon = at(north_m, east_m)
        return cls(lat, lon, odometer_km=odometer_km, seed=seed)

    @property
    def now_s(self) -> float:
        """The time of the last fix (0 before the first)."""
        return 0.0 if self.last_s is None else self.last_s

    @property
    def next_s(self) -> float:
        """When the next fix is due at the regular cadence."""
        return 0.0 if self.last_s is None else self.last_s + self.every_s

    def park(
        self,
        duration_s: float,
        *,
        jitter_m: float = 0.0,
        accuracy_m: float | None = None,
        ignition: bool | None = None,
    ) -> Track:
        """Stand still for duration_s, one fix every every_s, the first one now."""
        for _ in range(max(1, round(duration_s / self.every_s))):
            north, east = self._rng.gauss(0, jitter_m), self._rng.gauss(0, jitter_m)
            lat, lon = (
                offset_m(self.lat, self.lon, north, east) if jitter_m else (self.lat, self.lon)
            )
            self._emit(self.next_s, lat, lon, 0.0, accuracy_m=accuracy_m, ignition=ignition)
        return self

    def drive_to(self, north_m: float, east_m: float, *, speed_kmh: float = 40.0) -> Track:
        """Drive in a straight line to the point so many metres north and east of CENTRE."""
        lat, lon = at(north_m, east_m)
        distance_m = haversine_m(self.lat, self.lon, lat, lon)
        return self._line(lat, lon, distance_m, speed_kmh)

    def arc(self, radius_m: float, turn_deg: float, *, heading: float, speed_kmh: float) -> Track:
        """Drive along a circular arc turning right by turn_deg, starting on the given heading."""
        centre = destination(self.lat, self.lon, heading + 90.0, radius_m)
        steps = max(1, round(radius_m * math.radians(turn_deg) / (speed_kmh / 3.6 * self.every_s)))
        start_bearing = (heading - 90.0) % 360.0
        for step in range(1, steps + 1):
            bearing = start_bearing + turn_deg * step / steps
            self._advance_to(*destination(*centre, bearing, radius_m), speed_kmh)
        return self

    def silence(self, duration_s: float) -> Track:
        """Make the next fix come duration_s after the last one instead of every_s."""
        self.last_s = self.now_s + duration_s - self.every_s
        return self

    def fix(self, north_m: float, east_m: float, **changes: object) -> Track:
        """One fix at a point so many metres from CENTRE, then time moves on; position does not."""
        lat, lon = at(north_m, east_m)
        position = Position(self.device_id, ts(self.next_s), lat, lon)
        self.fixes.append(replace(position, **changes))
        self.last_s = self.next_s
        return self

    def _line(self, lat: float, lon: float, distance_m: float, speed_kmh: float) -> Track:
        steps = max(1, math.ceil(distance_m / (speed_kmh / 3.6 * self.every_s)))
        start = (self.lat, self.lon)
        for step in range(1, steps + 1):
            share = step / steps
            point = (start[0] + (lat - start[0]) * share, start[1] + (lon - start[1]) * share)
            self._advance_to(*point, speed_kmh)
        return self

    def _advance_to(self, lat: float, lon: float, speed_kmh: float) -> None:
        step_m = haversine_m(self.lat, self.lon, lat, lon)
        when_s = self.now_s + step_m / (speed_kmh / 3.6)
        if self.odometer_km is not None:
            self.odometer_km += step_m / 1000.0
        self.lat, self.lon = lat, lon
        self._emit(when_s, lat, lon, speed_kmh)

    def _emit(
        self,
        when_s: float,
        lat: float,
        lon: float,
        speed_kmh: float,
        *,
        accuracy_m: float | None = None,
        ignition: bool | None = None,
    ) -> None:
        self.last_s = when_s
        self.fixes.append(
            Position(
                self.device_id,
                ts(when_s),
                lat,
                lon,
                speed_kmh=speed_kmh,
                ignition=ignition,
                odometer_km=self.odometer_km,
                accuracy_m=accuracy_m,
            )
        )
