"""Geofence benchmark: CPU per position for site lookup plus visit tracking (issue 8).

Scenario: `vehicles` vehicles reporting every 10 s against `sites` sites spread over a disc
50 km across around Moscow (2.5 sites per square kilometre by default: a dense city), circles
of 80 to 300 m and one in ten a square polygon. A third of the vehicles are parked at a site
with GPS jitter, the rest drive straight at 20 to 80 km/h.
The trackers are first warmed up for longer than the minimum dwell (untimed), so the timed
positions meet open visits and confirm some, as the stream does in steady state.

Figures, in CPU microseconds per position (`time.process_time`), best of `repeats` runs:

- bare_loop_us: a loop that only reads each position's fields: the interpreter's floor on this
  machine in this run, the baseline to compare the others with.
- lookup_us: `GeofenceIndex.near` alone.
- lookup_and_visits_us: `VisitTracker.observe` (screen, lookup, tracking): the figure the
  target of 50 us applies to; net_us is the same minus the bare loop.
- trips_us: `TripTracker.observe` from a cold start, for the stream's whole budget (sites are
  looked up only when a trip ends).
- brute_force_numpy_us: what the index saves: a vectorised haversine against every site
  (circles only), on a sample of positions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np

from devices.records import Position
from kernel.geo import METRES_PER_DEG, destination, haversine_m_array
from stream.field.geofence_index import Geofence, GeofenceIndex
from stream.field.trips import TripTracker
from stream.field.visits import VisitConfig, VisitTracker

CENTRE: Final = (55.75, 37.62)
AREA_RADIUS_M: Final = 25_000.0
REPORT_EVERY_S: Final = 10
PARKED_SHARE: Final = 1 / 3
POLYGON_SHARE: Final = 0.1
JITTER_M: Final = 8.0
T0_US: Final = 1_700_000_000_000_000
BRUTE_FORCE_SAMPLE: Final = 1_000


def run_geofence_bench(
    *,
    vehicles: int = 10_000,
    sites: int = 5_000,
    positions: int = 200_000,
    seed: int = 1,
    repeats: int = 3,
) -> dict[str, float]:
    """Measure lookup and visit tracking per position and return the figures."""
    rng = np.random.default_rng(seed)
    fences = synthetic_sites(rng, sites)
    started = time.perf_counter()
    index = GeofenceIndex(fences)
    build_ms = (time.perf_counter() - started) * 1000
    config = VisitConfig()
    warmup_rounds = math.ceil(config.min_dwell_s / REPORT_EVERY_S) + 1
    rounds = max(1, positions // vehicles)
    track = synthetic_positions(rng, fences, vehicles, warmup_rounds + rounds)
    warm, timed = track[: warmup_rounds * vehicles], track[warmup_rounds * vehicles :]
    warmed = VisitTracker(config)
    for position in warm:
        warmed.observe(position, index)
    figures = _timings(index, warmed, timed, repeats)
    return figures | {
        "index_build_ms": build_ms,
        "vehicles": float(vehicles),
        "sites": float(sites),
        "positions": float(len(timed)),
        "candidates_per_position": float(
            np.mean([len(index.candidates(p.lat, p.lon)) for p in timed])
        ),
        "brute_force_numpy_us": _brute_force_us(fences, timed[:BRUTE_FORCE_SAMPLE], repeats),
    }


def _timings(
    index: GeofenceIndex, warmed: VisitTracker, timed: Sequence[Position], repeats: int
) -> dict[str, float]:
    margin_m = warmed.config.exit_margin_m

    def bare() -> None:
        for position in timed:
            _read(position.device_id, position.ts_us, position.lat, position.lon)

    def lookup() -> None:
        for position in timed:
            index.near(position.lat, position.lon, margin_m)

    def trips() -> None:
        tracker = TripTracker()
        for position in timed:
            tracker.observe(position, index)

    count = len(timed)
    bare_us = _best_us(bare, repeats) / count
    tracked_us, events = _tracking_us(index, warmed, timed, repeats)
    return {
        "bare_loop_us": bare_us,
        "lookup_us": _best_us(lookup, repeats) / count,
        "lookup_and_visits_us": tracked_us,
        "net_us": tracked_us - bare_us,
        "visit_events": float(events),
        "trips_us": _best_us(trips, repeats) / count,
    }


def _tracking_us(
    index: GeofenceIndex, warmed: VisitTracker, timed: Sequence[Position], repeats: int
) -> tuple[float, int]:
    state = warmed.to_state()
    best_s, events = math.inf, 0
    for _ in range(repeats):
        # Every run starts from the same warmed-up state, restored from its checkpoint.
        tracker = VisitTracker.from_state(state, warmed.config)
        started = time.process_time()
        events = sum(len(tracker.observe(position, index)) for position in timed)
        best_s = min(best_s, time.process_time() - started)
    return best_s * 1e6 / len(timed), events


def _read(device_id: str, ts_us: int, lat: float, lon: float) -> None:
    """Nothing: the bare loop's call, so it pays for a call like the measured loops do."""


def _best_us(work: Callable[[], None], repeats: int) -> float:
    best_s = math.inf
    for _ in range(repeats):
        started = time.process_time()
        work()
        best_s = min(best_s, time.process_time() - started)
    return best_s * 1e6


def _brute_force_us(fences: Sequence[Geofence], sample: Sequence[Position], repeats: int) -> float:
    circles = [fence for fence in fences if not fence.polygon]
    lats = np.array([fence.lat for fence in circles])
    lons = np.array([fence.lon for fence in circles])
    reach_m = np.array([fence.radius_m for fence in circles]) + VisitConfig().exit_margin_m

    def scan() -> None:
        for position in sample:
            np.flatnonzero(haversine_m_array(position.lat, position.lon, lats, lons) <= reach_m)

    return _best_us(scan, repeats) / max(1, len(sample))


def synthetic_sites(rng: np.random.Generator, count: int) -> list[Geofence]:
    """Sites spread uniformly over the area: circles of 80 to 300 m, some square polygons."""
    fences = []
    for n in range(count):
        lat, lon = _random_point(rng)
        radius_m = float(rng.integers(8, 31) * 10)
        if rng.random() < POLYGON_SHARE:
            corners = [destination(lat, lon, 45.0 + 90.0 * k, radius_m) for k in range(4)]
            fences.append(Geofence.area(f"site-{n:05d}", corners))
        else:
            fences.append(Geofence.circle(f"site-{n:05d}", lat, lon, radius_m))
    return fences


def synthetic_positions(
    rng: np.random.Generator, fences: Sequence[Geofence], vehicles: int, rounds: int
) -> list[Position]:
    """Every vehicle's fixes, interleaved by time as the stream receives them."""
    tracks = [_vehicle_track(rng, f"veh-{n:05d}", fences, rounds) for n in range(vehicles)]
    return [track[r] for r in range(rounds) for track in tracks]


def _vehicle_track(
    rng: np.random.Generator, device_id: str, fences: Sequence[Geofence], rounds: int
) -> list[Position]:
    times_us = T0_US + np.arange(rounds) * REPORT_EVERY_S * 1_000_000 + int(rng.integers(0, 10**7))
    if rng.random() < PARKED_SHARE:
        site = fences[int(rng.integers(len(fences)))]
        north_m, east_m = rng.normal(0.0, JITTER_M, (2, rounds))
        lats = site.lat + north_m / METRES_PER_DEG
        lons = site.lon + east_m / (METRES_PER_DEG * math.cos(math.radians(site.lat)))
        speed_kmh = 0.0
    else:
        lat, lon = _random_point(rng)
        speed_kmh = float(rng.uniform(20.0, 80.0))
        bearing = float(rng.uniform(0.0, 360.0))
        step_m = speed_kmh / 3.6 * REPORT_EVERY_S
        points = [destination(lat, lon, bearing, step_m * r) for r in range(rounds)]
        lats, lons = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return [
        Position(device_id, int(t), float(a), float(o), speed_kmh=speed_kmh, accuracy_m=JITTER_M)
        for t, a, o in zip(times_us, lats, lons, strict=True)
    ]


def _random_point(rng: np.random.Generator) -> tuple[float, float]:
    # sqrt makes the density uniform over the disc rather than packed at the centre.
    distance_m = AREA_RADIUS_M * math.sqrt(float(rng.random()))
    return destination(*CENTRE, float(rng.uniform(0.0, 360.0)), distance_m)
