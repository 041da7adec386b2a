"""Geometry on the Earth for the whole platform: distances, bearings, small polygons, boxes.

Distances are great-circle distances on a sphere of the mean Earth radius (IUGG R1,
6,371,008.8 m); the error against the ellipsoid is under 0.5%, far below GPS and site-radius
uncertainty. Polygons are small (a site, a yard, a depot: up to a few tens of kilometres) and
are handled in a local equirectangular projection around their vertex mean, which keeps the
error under 0.1% at that size and lets a polygon straddle the antimeridian. Nothing here is
meant for the polar caps (beyond about ±85° latitude).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_M: Final = 6_371_008.8
# Metres per degree along a meridian (and along the equator).
METRES_PER_DEG: Final = math.pi * EARTH_RADIUS_M / 180.0

LatLon = tuple[float, float]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_m_array(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distances in metres; the arguments broadcast against each other."""
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin((phi2 - phi1) / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    distance_m: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return distance_m


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, degrees clockwise from north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(lat: float, lon: float, bearing: float, distance_m: float) -> LatLon:
    """The point reached from (lat, lon) after distance_m along the given bearing (degrees)."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing)
    phi1 = math.radians(lat)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(sin_phi2)
    y = math.sin(theta) * math.sin(delta) * math.cos(phi1)
    x = math.cos(delta) - math.sin(phi1) * sin_phi2
    return math.degrees(phi2), wrap_lon(lon + math.degrees(math.atan2(y, x)))


def offset_m(lat: float, lon: float, north_m: float, east_m: float) -> LatLon:
    """(lat, lon) shifted by a few metres north and east; a flat step, fine below a kilometre."""
    return LocalProjection(lat, lon).to_latlon(east_m, north_m)


def wrap_lon(lon: float) -> float:
    """Longitude brought into [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular projection around an origin: x metres east, y metres north of it."""

    origin_lat: float
    origin_lon: float
    _m_per_deg_lon: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        scale = METRES_PER_DEG * math.cos(math.radians(self.origin_lat))
        object.__setattr__(self, "_m_per_deg_lon", scale)

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        """Metres east and north of the origin."""
        x_m = wrap_lon(lon - self.origin_lon) * self._m_per_deg_lon
        return x_m, (lat - self.origin_lat) * METRES_PER_DEG

    def to_latlon(self, x_m: float, y_m: float) -> LatLon:
        """The point x_m east and y_m north of the origin."""
        lat = self.origin_lat + y_m / METRES_PER_DEG
        return lat, wrap_lon(self.origin_lon + x_m / self._m_per_deg_lon)


@dataclass(frozen=True, slots=True)
class BBox:
    """A lat/lon box; min_lon < -180 or max_lon > 180 when it crosses the antimeridian."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def expanded(self, margin_m: float) -> BBox:
        """The box grown by at least margin_m on every side (all longitudes near a pole)."""
        dlat = margin_m / METRES_PER_DEG
        min_lat, max_lat = max(-90.0, self.min_lat - dlat), min(90.0, self.max_lat + dlat)
        # The parallel nearest the pole is the shortest, so it needs the widest step in longitude.
        cos_poleward = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
        dlon = margin_m / (METRES_PER_DEG * cos_poleward) if cos_poleward > 1e-9 else 360.0
        if self.max_lon - self.min_lon + 2 * dlon >= 360.0:
            return BBox(min_lat, -180.0, max_lat, 180.0)
        return BBox(min_lat, self.min_lon - dlon, max_lat, self.max_lon + dlon)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point is in the box, longitudes compared modulo 360."""
        if not self.min_lat <= lat <= self.max_lat:
            return False
        return (lon - self.min_lon) % 360.0 <= self.max_lon - self.min_lon


def circle_bbox(lat: float, lon: float, radius_m: float) -> BBox:
    """The box around a circle of radius_m on the sphere."""
    return BBox(lat, lon, lat, lon).expanded(radius_m)


def polygon_bbox(vertices: Sequence[LatLon]) -> BBox:
    """The box around a small polygon's vertices (longitudes unwrapped from the first one)."""
    lats = [lat for lat, _ in vertices]
    lons = _unwrapped_lons(vertices)
    return BBox(min(lats), min(lons), max(lats), max(lons))


class ProjectedPolygon:
    """A small polygon of (lat, lon) vertices, projected around its vertex mean for fast tests."""

    __slots__ = ("projection", "xs", "ys")

    def __init__(self, vertices: Sequence[LatLon]) -> None:
        ring = list(
            vertices[:-1] if len(vertices) > 1 and vertices[0] == vertices[-1] else vertices
        )
        if len(ring) < 3:
            raise ValueError("a polygon needs at least three vertices")
        lons = _unwrapped_lons(ring)
        centre_lat = sum(lat for lat, _ in ring) / len(ring)
        self.projection = LocalProjection(centre_lat, wrap_lon(sum(lons) / len(lons)))
        points = [self.projection.to_xy(lat, lon) for lat, lon in ring]
        self.xs = [x for x, _ in points]
        self.ys = [y for _, y in points]

    @property
    def centre(self) -> LatLon:
        """The vertex mean, origin of the projection."""
        return self.projection.origin_lat, self.projection.origin_lon

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point is inside (a point exactly on an edge may go either way)."""
        return point_in_polygon_xy(*self.projection.to_xy(lat, lon), self.xs, self.ys)

    def signed_distance_m(self, lat: float, lon: float) -> float:
        """Distance to the boundary in metres, negative inside."""
        x, y = self.projection.to_xy(lat, lon)
        edge_m = boundary_distance_xy_m(x, y, self.xs, self.ys)
        return -edge_m if point_in_polygon_xy(x, y, self.xs, self.ys) else edge_m


def point_in_polygon(lat: float, lon: float, vertices: Sequence[LatLon]) -> bool:
    """Whether (lat, lon) is inside the small polygon with these vertices."""
    return ProjectedPolygon(vertices).contains(lat, lon)


def point_in_polygon_xy(x: float, y: float, xs: Sequence[float], ys: Sequence[float]) -> bool:
    """Ray casting in a plane: an odd number of edge crossings to the right means inside."""
    inside = False
    j = len(xs) - 1
    for i in range(len(xs)):
        yi, yj = ys[i], ys[j]
        if (yi > y) != (yj > y) and x < xs[i] + (y - yi) * (xs[j] - xs[i]) / (yj - yi):
            inside = not inside
        j = i
    return inside


def boundary_distance_xy_m(x: float, y: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Distance in the plane from (x, y) to the nearest edge of the polygon."""
    best_sq = math.inf
    j = len(xs) - 1
    for i in range(len(xs)):
        best_sq = min(best_sq, _segment_distance_sq(x, y, xs[j], ys[j], xs[i], ys[i]))
        j = i
    return math.sqrt(best_sq)


def _segment_distance_sq(x: float, y: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    length_sq = dx * dx + dy * dy
    t = 0.0 if length_sq == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length_sq))
    px, py = ax + t * dx - x, ay + t * dy - y
    return px * px + py * py


def _unwrapped_lons(vertices: Sequence[LatLon]) -> list[float]:
    # Each longitude taken within 180° of the first, so a ring across the antimeridian stays whole.
    first = vertices[0][1]
    return [lon - 360.0 * round((lon - first) / 360.0) for _, lon in vertices]
