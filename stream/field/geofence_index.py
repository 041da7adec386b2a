"""Which sites a position is at: a uniform grid over the globe, so the cost per fix stays flat.

The grid has rows `cell_m` metres tall; each row is cut into whole columns about `cell_m` wide
at its middle latitude, so cells are near-square everywhere and wrap cleanly at the antimeridian.
A site is listed in every cell that its extent, grown by `max_margin_m`, touches; a lookup reads
the one cell holding the point and measures exactly only the sites listed there.

Defaults: cells of 500 m and a largest margin of 100 m (visits use an exit margin of 50 m,
trips a site margin of 50 m). With 5,000 sites of 80 to 300 m in a dense city (2.5 per square
kilometre) a lookup then measures about 3 sites; 1 km cells double that, and at 250 m the cell
table grows threefold for little gain (see toir/bench/geofence.py). A site sits in a handful
of cells; one with a 20 km radius covers about 6,400: fine for a few, wasteful for thousands.

The index is immutable. When sites change, build a new one with `rebuilt(fences)` and swap it in;
building takes 10 to 20 µs per site (60 ms for 5,000 sites).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from kernel.geo import (
    EARTH_RADIUS_M,
    METRES_PER_DEG,
    BBox,
    LatLon,
    ProjectedPolygon,
    boundary_distance_xy_m,
    circle_bbox,
    haversine_m,
    point_in_polygon_xy,
    polygon_bbox,
)

DEFAULT_CELL_M: Final = 500.0
DEFAULT_MAX_MARGIN_M: Final = 100.0
MIN_CELL_M: Final = 100.0
# Extents are grown a little beyond the exact geometry so float rounding at a cell edge never
# hides a site; a metre is a million times larger than that rounding.
SLACK_M: Final = 1.0
# A cell key is row * stride + column; even 100 m cells give fewer columns than this per row.
_ROW_STRIDE: Final = 1 << 24


@dataclass(frozen=True, slots=True)
class Geofence:
    """A site's extent: a circle of radius_m around (lat, lon), or a polygon when one is given."""

    site_id: str
    lat: float
    lon: float
    radius_m: float = 0.0
    polygon: tuple[LatLon, ...] = ()

    @classmethod
    def circle(cls, site_id: str, lat: float, lon: float, radius_m: float) -> Geofence:
        """A circular site."""
        if not radius_m > 0:
            raise ValueError(f"site {site_id}: radius_m must be positive")
        return cls(site_id, lat, lon, radius_m)

    @classmethod
    def area(cls, site_id: str, vertices: Iterable[LatLon]) -> Geofence:
        """A polygonal site, centred on its vertex mean."""
        ring = tuple(vertices)
        lat, lon = ProjectedPolygon(ring).centre
        return cls(site_id, lat, lon, 0.0, ring)


@dataclass(frozen=True, slots=True)
class FenceHit:
    """A site near a point: signed distance to its boundary (negative inside) and to its centre."""

    site_id: str
    edge_m: float
    centre_m: float


class _Circle:
    __slots__ = ("lat", "lon", "radius_m")

    def __init__(self, fence: Geofence) -> None:
        self.lat, self.lon, self.radius_m = fence.lat, fence.lon, fence.radius_m

    def measure(self, lat: float, lon: float) -> tuple[float, float]:
        centre_m = haversine_m(self.lat, self.lon, lat, lon)
        return centre_m - self.radius_m, centre_m

    def bbox(self, margin_m: float) -> BBox:
        return circle_bbox(self.lat, self.lon, self.radius_m + margin_m)


class _Polygon:
    __slots__ = ("ring", "shape")

    def __init__(self, fence: Geofence) -> None:
        self.ring = fence.polygon
        self.shape = ProjectedPolygon(fence.polygon)

    def measure(self, lat: float, lon: float) -> tuple[float, float]:
        shape = self.shape
        x, y = shape.projection.to_xy(lat, lon)
        edge_m = boundary_distance_xy_m(x, y, shape.xs, shape.ys)
        inside = point_in_polygon_xy(x, y, shape.xs, shape.ys)
        return (-edge_m if inside else edge_m), math.hypot(x, y)

    def bbox(self, margin_m: float) -> BBox:
        return polygon_bbox(self.ring).expanded(margin_m)


_Shape = _Circle | _Polygon
_Entry = tuple[str, _Shape]


def _shape(fence: Geofence) -> _Shape:
    return _Polygon(fence) if fence.polygon else _Circle(fence)


def measure_fence(fence: Geofence, lat: float, lon: float) -> FenceHit:
    """How far a point is from one site, without an index (the brute-force reference)."""
    edge_m, centre_m = _shape(fence).measure(lat, lon)
    return FenceHit(fence.site_id, edge_m, centre_m)


class _Grid:
    """Rows of equal height; each row split into whole columns of about the same width."""

    __slots__ = ("cols", "lat_step", "lon_steps", "rows")

    def __init__(self, cell_m: float) -> None:
        self.lat_step = cell_m / METRES_PER_DEG
        self.rows = math.ceil(180.0 / self.lat_step)
        self.cols = [self._columns(row, cell_m) for row in range(self.rows)]
        self.lon_steps = [360.0 / cols for cols in self.cols]

    def _columns(self, row: int, cell_m: float) -> int:
        middle_lat = -90.0 + (row + 0.5) * self.lat_step
        circumference_m = 2 * math.pi * EARTH_RADIUS_M * math.cos(math.radians(middle_lat))
        return max(1, int(circumference_m / cell_m))

    def row(self, lat: float) -> int:
        return min(self.rows - 1, max(0, int((lat + 90.0) / self.lat_step)))

    def key(self, lat: float, lon: float) -> int:
        row = self.row(lat)
        col = int(((lon + 180.0) % 360.0) / self.lon_steps[row])
        return row * _ROW_STRIDE + min(col, self.cols[row] - 1)

    def keys(self, box: BBox) -> Iterator[int]:
        for row in range(self.row(box.min_lat), self.row(box.max_lat) + 1):
            cols, step = self.cols[row], self.lon_steps[row]
            first = math.floor((box.min_lon + 180.0) / step)
            last = math.floor((box.max_lon + 180.0) / step)
            span = range(cols) if last - first + 1 >= cols else range(first, last + 1)
            yield from (row * _ROW_STRIDE + col % cols for col in span)


@functools.lru_cache(maxsize=4)
def _grid_for(cell_m: float) -> _Grid:
    # Rebuilding the index when sites change reuses the grid's per-row tables.
    return _Grid(cell_m)


class GeofenceIndex:
    """Sites on a uniform grid: a lookup reads one cell and measures only the sites it lists."""

    def __init__(
        self,
        fences: Iterable[Geofence],
        *,
        cell_m: float = DEFAULT_CELL_M,
        max_margin_m: float = DEFAULT_MAX_MARGIN_M,
    ) -> None:
        if not cell_m >= MIN_CELL_M:
            raise ValueError(f"cell_m must be at least {MIN_CELL_M:g}")
        if not max_margin_m >= 0:
            raise ValueError("max_margin_m must not be negative")
        self.cell_m = cell_m
        self.max_margin_m = max_margin_m
        self._grid = _grid_for(cell_m)
        self._fences: dict[str, Geofence] = {}
        self._cells = self._fill(fences)

    def _fill(self, fences: Iterable[Geofence]) -> dict[int, tuple[_Entry, ...]]:
        cells: defaultdict[int, list[_Entry]] = defaultdict(list)
        for fence in fences:
            if fence.site_id in self._fences:
                raise ValueError(f"site {fence.site_id} is listed twice")
            self._fences[fence.site_id] = fence
            shape = _shape(fence)
            for key in self._grid.keys(shape.bbox(self.max_margin_m + SLACK_M)):
                cells[key].append((fence.site_id, shape))
        return {key: tuple(entries) for key, entries in cells.items()}

    def rebuilt(self, fences: Iterable[Geofence]) -> GeofenceIndex:
        """A new index over these sites with the same grid and margin."""
        return GeofenceIndex(fences, cell_m=self.cell_m, max_margin_m=self.max_margin_m)

    def __len__(self) -> int:
        return len(self._fences)

    def fence(self, site_id: str) -> Geofence:
        """The site's geofence; KeyError if the index does not hold it."""
        return self._fences[site_id]

    def candidates(self, lat: float, lon: float) -> tuple[str, ...]:
        """Ids of the sites listed in the point's cell (a superset of those within the margin)."""
        return tuple(site_id for site_id, _ in self._cells.get(self._grid.key(lat, lon), ()))

    def near(self, lat: float, lon: float, margin_m: float = 0.0) -> list[FenceHit]:
        """The sites whose boundary is at most margin_m outside the point (inside ones included)."""
        if margin_m > self.max_margin_m:
            raise ValueError(f"margin_m {margin_m} exceeds the index's {self.max_margin_m}")
        hits = []
        for site_id, shape in self._cells.get(self._grid.key(lat, lon), ()):
            edge_m, centre_m = shape.measure(lat, lon)
            if edge_m <= margin_m:
                hits.append(FenceHit(site_id, edge_m, centre_m))
        return hits

    def inside(self, lat: float, lon: float, margin_m: float = 0.0) -> list[str]:
        """Ids of the sites the point is in, each grown by margin_m."""
        return [hit.site_id for hit in self.near(lat, lon, margin_m)]

    def site_at(self, lat: float, lon: float, margin_m: float = 0.0) -> str | None:
        """Of the sites the point is in (grown by margin_m), the one with the nearest centre."""
        # Nearest centre rather than deepest inside: a building within a campus wins over it.
        hits = self.near(lat, lon, margin_m)
        return min(hits, key=lambda hit: hit.centre_m).site_id if hits else None
