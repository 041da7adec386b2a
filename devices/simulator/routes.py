"""Routes between sites: straight-ish legs through jittered waypoints, with corners and signals."""

from __future__ import annotations

import random
from dataclasses import dataclass

from devices.simulator.geography import angle_between_deg, bearing_deg, destination, haversine_m

CITY_MIN_KMH = 20.0
CITY_MAX_KMH = 60.0
CORNER_MIN_KMH = 15.0
# Each degree of turn costs this much speed at the corner.
CORNER_KMH_PER_DEG = 1.2
WAYPOINT_SPACING_M = 1_500.0
MIN_WAYPOINTS = 2
MAX_WAYPOINTS = 12
LATERAL_SPREAD = 0.25
SIGNAL_PROBABILITY = 0.25
SIGNAL_WAIT_S = (10.0, 60.0)

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Waypoint:
    """The end of one leg: where it is, how fast the leg is driven, how it is reached."""

    lat: float
    lon: float
    cruise_kmh: float
    end_kmh: float
    stop_s: float = 0.0


def plan_route(rng: random.Random, start: Point, end: Point) -> tuple[Waypoint, ...]:
    """Waypoints from start to end; the last one is the destination, reached at standstill."""
    points = [start, *_intermediate_points(rng, start, end), end]
    cruise = [rng.uniform(CITY_MIN_KMH, CITY_MAX_KMH) for _ in points[1:]]
    waypoints = [
        _corner(
            rng, points[index - 1], points[index], points[index + 1], cruise[index - 1 : index + 1]
        )
        for index in range(1, len(points) - 1)
    ]
    waypoints.append(Waypoint(lat=end[0], lon=end[1], cruise_kmh=cruise[-1], end_kmh=0.0))
    return tuple(waypoints)


def route_length_m(start: Point, route: tuple[Waypoint, ...]) -> float:
    """The distance along the route from start."""
    total, here = 0.0, start
    for waypoint in route:
        total += haversine_m(*here, waypoint.lat, waypoint.lon)
        here = (waypoint.lat, waypoint.lon)
    return total


def _intermediate_points(rng: random.Random, start: Point, end: Point) -> list[Point]:
    trip_m = haversine_m(*start, *end)
    along = bearing_deg(*start, *end)
    count = max(MIN_WAYPOINTS, min(MAX_WAYPOINTS, int(trip_m / WAYPOINT_SPACING_M)))
    spacing_m = trip_m / (count + 1)
    points: list[Point] = []
    for index in range(1, count + 1):
        on_line = destination(*start, along, spacing_m * (index + rng.uniform(-0.3, 0.3)))
        aside_m = max(-1.0, min(1.0, rng.gauss(0.0, 0.5))) * LATERAL_SPREAD * spacing_m
        points.append(destination(*on_line, along + 90.0, aside_m))
    return points


def _corner(
    rng: random.Random, before: Point, here: Point, after: Point, cruise_kmh: list[float]
) -> Waypoint:
    turn_deg = angle_between_deg(bearing_deg(*before, *here), bearing_deg(*here, *after))
    corner_kmh = max(CORNER_MIN_KMH, CITY_MAX_KMH - CORNER_KMH_PER_DEG * turn_deg)
    end_kmh = min(corner_kmh, *cruise_kmh)
    stop_s = 0.0
    if rng.random() < SIGNAL_PROBABILITY:
        end_kmh, stop_s = 0.0, rng.uniform(*SIGNAL_WAIT_S)
    return Waypoint(
        lat=here[0], lon=here[1], cruise_kmh=cruise_kmh[0], end_kmh=end_kmh, stop_s=stop_s
    )
