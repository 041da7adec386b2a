"""Douglas-Peucker line simplification of GPS tracks, with a tolerance in metres.

Points are projected onto a local equirectangular plane around the track's first point;
over a vehicle's day (a few hundred kilometres) the distortion stays well under the
metres-level tolerances a map needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from kernel.geo import METRES_PER_DEG


def simplify(lats: Sequence[float], lons: Sequence[float], tolerance_m: float) -> list[int]:
    """Indices of the points to keep, in order; the first and last are always kept."""
    count = len(lats)
    if count <= 2:
        return list(range(count))
    xs, ys = _project(np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64))
    keep = np.zeros(count, dtype=bool)
    keep[0] = keep[-1] = True
    spans = [(0, count - 1)]
    while spans:  # an explicit stack: recursion would overflow on long, wiggly tracks
        first, last = spans.pop()
        if last - first < 2:
            continue
        farthest, distance_m = _farthest(xs, ys, first, last)
        if distance_m > tolerance_m:
            keep[farthest] = True
            spans += [(first, farthest), (farthest, last)]
    return [int(i) for i in np.flatnonzero(keep)]


def _project(
    lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    scale_x = METRES_PER_DEG * math.cos(math.radians(float(lats[0])))
    dlon = (lons - lons[0] + 180.0) % 360.0 - 180.0  # a track may cross the antimeridian
    return dlon * scale_x, (lats - lats[0]) * METRES_PER_DEG


def _farthest(
    xs: NDArray[np.float64], ys: NDArray[np.float64], first: int, last: int
) -> tuple[int, float]:
    """The inner point farthest from the segment first-last, and its distance."""
    ax, ay = xs[first], ys[first]
    dx, dy = xs[last] - ax, ys[last] - ay
    px, py = xs[first + 1 : last] - ax, ys[first + 1 : last] - ay
    length_sq = dx * dx + dy * dy
    if length_sq == 0.0:
        distances = np.hypot(px, py)
    else:
        t = np.clip((px * dx + py * dy) / length_sq, 0.0, 1.0)
        distances = np.hypot(px - t * dx, py - t * dy)
    index = int(np.argmax(distances))
    return first + 1 + index, float(distances[index])
