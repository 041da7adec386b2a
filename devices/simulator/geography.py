"""Sites and the spherical geometry the simulated vehicles drive on."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
MIN_SITE_SPACING_M = 1_000.0
PLACEMENT_ATTEMPTS = 50

_DISTRICTS = ("North", "South", "East", "West", "Central", "River", "Park", "Lake", "Hill", "Port")
_FACILITIES = (
    "Boiler House",
    "Pumping Station",
    "Warehouse",
    "Substation",
    "Workshop",
    "Business Center",
    "Hospital",
    "School",
    "Mall",
    "Data Center",
)


@dataclass(frozen=True, slots=True)
class Site:
    """A place where equipment is installed and vehicles stop."""

    id: str
    name: str
    lat: float
    lon: float
    radius_m: float


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, degrees clockwise from north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(lat: float, lon: float, bearing: float, distance_m: float) -> tuple[float, float]:
    """The point reached from (lat, lon) after distance_m along the given bearing."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing)
    phi1, lmb1 = math.radians(lat), math.radians(lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(sin_phi2)
    y = math.sin(theta) * math.sin(delta) * math.cos(phi1)
    x = math.cos(delta) - math.sin(phi1) * sin_phi2
    return math.degrees(phi2), (math.degrees(lmb1 + math.atan2(y, x)) + 540.0) % 360.0 - 180.0


def offset_m(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """(lat, lon) shifted by a few metres; a flat-earth step, fine below a kilometre."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def angle_between_deg(a: float, b: float) -> float:
    """The unsigned difference of two bearings, 0..180."""
    diff = abs(a - b) % 360.0
    return 360.0 - diff if diff > 180.0 else diff


def place_sites(
    rng: random.Random, *, count: int, center_lat: float, center_lon: float, radius_km: float
) -> tuple[Site, ...]:
    """Sites spread uniformly over a disc around the centre, at least a kilometre apart."""
    points: list[tuple[float, float]] = []
    for _ in range(count):
        points.append(_free_point(rng, points, center_lat, center_lon, radius_km * 1000.0))
    names = _site_names(rng, count)
    return tuple(
        Site(
            id=f"site-{index + 1:03d}",
            name=names[index],
            lat=round(lat, 6),
            lon=round(lon, 6),
            radius_m=float(rng.randrange(80, 300, 10)),
        )
        for index, (lat, lon) in enumerate(points)
    )


def _free_point(
    rng: random.Random,
    taken: list[tuple[float, float]],
    center_lat: float,
    center_lon: float,
    radius_m: float,
) -> tuple[float, float]:
    point = (center_lat, center_lon)
    for _ in range(PLACEMENT_ATTEMPTS):
        # sqrt makes the density uniform over the disc rather than packed at the centre.
        distance_m = radius_m * math.sqrt(rng.random())
        point = destination(center_lat, center_lon, rng.uniform(0.0, 360.0), distance_m)
        if all(haversine_m(*point, *other) >= MIN_SITE_SPACING_M for other in taken):
            return point
    return point


def _site_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    for index in range(count):
        name = f"{rng.choice(_DISTRICTS)} {rng.choice(_FACILITIES)}"
        names.append(name if name not in names else f"{name} {index + 1}")
    return names
