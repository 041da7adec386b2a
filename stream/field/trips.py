"""Trips and stops per vehicle, segmented from its GPS positions.

Rules, with the defaults of `TripConfig`:

- Stop: the vehicle stays within `stop_radius_m` (100 m) of the first fix of a stay for at least
  `min_stop_s` (300 s), or reports ignition off (a stop at once). A stop begins at that first fix.
- Trip: the movement between two stops. It starts at the last fix of the stop it leaves and ends
  where the next stop begins (with ignition off: at the ignition-off fix). Leaving a stop takes
  two fixes in a row beyond `stop_radius_m`; one alone is a GPS spike, dropped and counted.
- Short hops: a trip shorter than `min_trip_m` (300 m) merges into the stops around it and emits
  nothing.
- Distance: the odometer difference when the device reports an odometer at both ends and the
  difference is plausible (not negative, not faster than `max_speed_kmh` on average); otherwise
  the GPS path. The path skips fixes less accurate than `max_accuracy_m` (100 m) and fixes that
  imply more than `max_speed_kmh` (200 km/h) from the previous one ("jump"); when
  `RELOCATE_AFTER_JUMPS` fixes in a row are jumps, the earlier fix was the wrong one and the
  track restarts at the new fix ("relocated").
- Speeds: the maximum reported speed when the device reports speed, else the maximum implied
  between fixes; the average is distance over duration.
- Gaps: when more than `max_gap_s` (900 s) passes between fixes and the vehicle reappears away
  from its stay, the trip in progress ends at the last fix before the gap and a stop begins at
  the fix after it; what happened in between is unknown. `expire(now_us)` ends the trip of a
  vehicle silent for `max_gap_s` where its current stay began, as if it had stopped there.
- Sites: the start and end site come from the geofence index, if given, within `site_margin_m`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from devices.records import Position
from kernel.geo import haversine_m
from stream.field.events import TripCompleted
from stream.field.fixes import FixCounts, screen
from stream.field.geofence_index import GeofenceIndex
from stream.field.trip_path import (
    MS_PER_KMH,
    US_PER_S,
    Leg,
    PathFix,
    Step,
    TripEnds,
    path_fix,
    trip_event,
)

RELOCATE_AFTER_JUMPS = 3
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class TripConfig:
    """Trip and stop settings; the module docstring explains each."""

    stop_radius_m: float = 100.0
    min_stop_s: float = 300.0
    min_trip_m: float = 300.0
    max_speed_kmh: float = 200.0
    max_accuracy_m: float = 100.0
    max_gap_s: float = 900.0
    site_margin_m: float = 50.0

    def __post_init__(self) -> None:
        if min(self.stop_radius_m, self.max_speed_kmh, self.max_accuracy_m) <= 0:
            raise ValueError("stop_radius_m, max_speed_kmh and max_accuracy_m must be positive")
        if min(self.min_stop_s, self.min_trip_m, self.site_margin_m) < 0:
            raise ValueError("min_stop_s, min_trip_m and site_margin_m must not be negative")
        if self.max_gap_s < self.min_stop_s:
            raise ValueError("max_gap_s must be at least min_stop_s")


class DeviceTrips:
    """One vehicle's segmentation state: its current stay, and the trip in progress if moving."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.last_ts_us: int | None = None  # the last fix screened in, jumps included
        self.prev: PathFix | None = None  # the last fix on the path
        self.moving = False
        self.anchor: PathFix | None = None  # the first fix of the current stay
        self.candidate: PathFix | None = None  # stopped: a first fix away, awaiting a second
        self.stop_last: PathFix | None = None  # stopped: the last fix of the stop
        self.trip_start: PathFix | None = None
        self.trip = Leg()
        self.pending = Leg()  # path since the anchor, or the candidate's step
        self.jumps = 0

    def step(
        self, position: Position, config: TripConfig, counts: FixCounts, index: GeofenceIndex | None
    ) -> list[TripCompleted]:
        """Advance by one screened fix."""
        self.last_ts_us = position.ts_us
        prev, fix = self.prev, path_fix(position, self.prev)
        if prev is None or self.anchor is None:
            self._restart(fix)
            return []
        distance_m = haversine_m(prev.lat, prev.lon, fix.lat, fix.lon)
        dt_s = (fix.ts_us - prev.ts_us) / US_PER_S
        if dt_s > config.max_gap_s and not self._stays(fix, config):
            counts.add("gap")
            return self._break(prev, fix, config, index)
        implied_kmh = distance_m / dt_s / MS_PER_KMH
        if implied_kmh > config.max_speed_kmh:
            self.jumps += 1
            if self.jumps < RELOCATE_AFTER_JUMPS:
                counts.add("jump")
                return []
            counts.add("relocated")
            return self._break(prev, fix, config, index)
        self.jumps, self.prev = 0, fix
        move = Step(fix, distance_m, implied_kmh, position.speed_kmh, position.ignition)
        if self.moving:
            return self._moving(move, config, index)
        return self._stopped(prev, move, config, index, counts)

    def _stays(self, fix: PathFix, config: TripConfig) -> bool:
        assert self.anchor is not None
        return (
            haversine_m(self.anchor.lat, self.anchor.lon, fix.lat, fix.lon) <= config.stop_radius_m
        )

    def _stopped(
        self,
        prev: PathFix,
        move: Step,
        config: TripConfig,
        index: GeofenceIndex | None,
        counts: FixCounts,
    ) -> list[TripCompleted]:
        if move.ignition is False or self._stays(move.fix, config):
            if self.candidate is not None and move.ignition is not False:
                counts.add("spike")
            self.candidate, self.pending = None, Leg()
            return []
        if self.candidate is None:
            self.candidate, self.stop_last = move.fix, prev
            self.pending = Leg()
            self.pending.add(move)
            return []
        # A second fix in a row away from the stop: the vehicle left at the stop's last fix.
        self.moving, self.trip_start, self.anchor = True, self.stop_last, self.candidate
        self.trip, self.pending, self.candidate = self.pending, Leg(), None
        return self._moving(move, config, index)

    def _moving(
        self, move: Step, config: TripConfig, index: GeofenceIndex | None
    ) -> list[TripCompleted]:
        assert self.anchor is not None
        stays = self._stays(move.fix, config)
        if stays:
            self.pending.add(move)
        else:
            self.trip.merge(self.pending)
            self.trip.add(move)
            self.pending, self.anchor = Leg(), move.fix
        if move.ignition is False:
            self.trip.merge(self.pending)
            return self._finish(move.fix, move.fix.ts_us, config, index)
        if stays and move.fix.ts_us - self.anchor.ts_us >= config.min_stop_s * US_PER_S:
            return self._finish(self.anchor, move.fix.ts_us, config, index)
        return []

    def _break(
        self, prev: PathFix, fix: PathFix, config: TripConfig, index: GeofenceIndex | None
    ) -> list[TripCompleted]:
        # The track cannot be followed from prev to fix: end any trip at prev, restart at fix.
        events: list[TripCompleted] = []
        if self.moving:
            self.trip.merge(self.pending)
            events = self._finish(prev, fix.ts_us, config, index)
        self._restart(fix)
        return events

    def _restart(self, fix: PathFix) -> None:
        self.prev, self.anchor, self.moving, self.jumps = fix, fix, False, 0
        self.candidate = self.stop_last = self.trip_start = None
        self.trip, self.pending = Leg(), Leg()

    def expire(
        self, now_us: int, config: TripConfig, index: GeofenceIndex | None
    ) -> list[TripCompleted]:
        """End a trip in progress if the vehicle has been silent for more than max_gap_s."""
        if not self.moving or self.prev is None or self.anchor is None:
            return []
        if now_us - self.prev.ts_us <= config.max_gap_s * US_PER_S:
            return []
        return self._finish(self.anchor, now_us, config, index)

    def _finish(
        self, end: PathFix, occurred_us: int, config: TripConfig, index: GeofenceIndex | None
    ) -> list[TripCompleted]:
        assert self.trip_start is not None
        start = self.trip_start
        ends = TripEnds(start, end, _site(index, start, config), _site(index, end, config))
        event = trip_event(
            self.device_id,
            ends,
            self.trip,
            occurred_us=occurred_us,
            max_speed_kmh=config.max_speed_kmh,
        )
        self.moving, self.anchor, self.trip_start = False, end, None
        self.trip, self.pending = Leg(), Leg()
        # Too short to be a trip: no event, and the stop simply goes on.
        return [event] if event.distance_m >= config.min_trip_m else []

    def to_state(self) -> dict[str, Any]:
        """The vehicle's state as a JSON-ready dict."""
        state = {name: getattr(self, name) for name in _SCALARS + _FIXES}
        return state | {"trip": asdict(self.trip), "pending": asdict(self.pending)}

    @classmethod
    def from_state(cls, device_id: str, state: dict[str, Any]) -> DeviceTrips:
        """A vehicle restored from to_state."""
        device = cls(device_id)
        for name in _SCALARS:
            setattr(device, name, state[name])
        for name in _FIXES:
            setattr(device, name, None if state[name] is None else PathFix(*state[name]))
        device.trip, device.pending = Leg(**state["trip"]), Leg(**state["pending"])
        return device


_SCALARS = ("last_ts_us", "moving", "jumps")
_FIXES = ("prev", "anchor", "candidate", "stop_last", "trip_start")


def _site(index: GeofenceIndex | None, fix: PathFix, config: TripConfig) -> str | None:
    return None if index is None else index.site_at(fix.lat, fix.lon, config.site_margin_m)


class TripTracker:
    """Trips of every vehicle: feed positions in order per device, get TripCompleted."""

    def __init__(self, config: TripConfig | None = None) -> None:
        self.config = config or TripConfig()
        self.counts = FixCounts()
        self._devices: dict[str, DeviceTrips] = {}

    def observe(
        self, position: Position, index: GeofenceIndex | None = None
    ) -> list[TripCompleted]:
        """The trips this fix completes (none for a dropped fix)."""
        device = self._devices.get(position.device_id)
        if device is None:
            device = self._devices[position.device_id] = DeviceTrips(position.device_id)
        dropped = screen(position, device.last_ts_us, self.config.max_accuracy_m)
        if dropped is not None:
            self.counts.add(dropped)
            return []
        self.counts.add("accepted")
        return device.step(position, self.config, self.counts, index)

    def expire(self, now_us: int, index: GeofenceIndex | None = None) -> list[TripCompleted]:
        """End the trips of vehicles silent for more than max_gap_s before now_us."""
        events: list[TripCompleted] = []
        for device in self._devices.values():
            events += device.expire(now_us, self.config, index)
        return events

    def to_state(self) -> dict[str, Any]:
        """The whole tracker as a JSON-ready dict, for a checkpoint."""
        devices = {device_id: device.to_state() for device_id, device in self._devices.items()}
        return {"version": STATE_VERSION, "counts": self.counts.to_state(), "devices": devices}

    @classmethod
    def from_state(cls, state: dict[str, Any], config: TripConfig | None = None) -> TripTracker:
        """A tracker restored from to_state; it continues exactly where the saved one stopped."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported trip tracker state version {state.get('version')}")
        tracker = cls(config)
        tracker.counts = FixCounts.from_state(state["counts"])
        for device_id, device_state in state["devices"].items():
            tracker._devices[device_id] = DeviceTrips.from_state(device_id, device_state)
        return tracker
