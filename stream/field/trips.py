"""Trips and stops per vehicle, segmented from its GPS positions.

Rules, with the defaults of `TripConfig`:

- Stop: the vehicle stays within `stop_radius_m` (100 m) of the first fix of a stay for at least
  `min_stop_s` (300 s), or reports ignition off (a stop at once).
- Moving: the vehicle moved when the reported speed is at least `moving_kmh` (5 km/h) or, when
  no speed is reported, when the fix is farther from the last mark (the last fix known to be
  stationary, or to be moving) than its stated accuracy (`jitter_m`, 20 m, when none is stated).
  Anything else is the fix wandering, not the vehicle, and adds no distance near a stop.
- Trip: the movement between two stops. It starts at the last stationary fix of the stop it
  leaves and ends at the last moving fix before the next stop (with ignition off: at the
  ignition-off fix). Leaving a stop takes two fixes in a row beyond `stop_radius_m`; one alone
  is a GPS spike, dropped and counted.
- Short hops: a trip shorter than `min_trip_m` (300 m), by its distance and by its GPS path
  both, merges into the stops around it and emits nothing.
- Distance: the odometer difference when the device reports an odometer at both ends and the
  difference is plausible (not faster than `max_speed_kmh` on average, not less than half the
  GPS path); otherwise the GPS path. The path skips fixes less accurate than `max_accuracy_m`
  (100 m) and fixes that imply more than `max_speed_kmh` (200 km/h) from the previous one
  ("jump"); when `RELOCATE_AFTER_JUMPS` fixes in a row are jumps, the earlier fix was the wrong
  one and the track restarts at the new fix ("relocated").
- Speeds: the maximum reported speed when the device reports speed, else the maximum implied
  between fixes; the average is distance over duration.
- Gaps: when more than `max_gap_s` (900 s) passes between fixes and the vehicle reappears away
  from its stay, the trip in progress ends at the last fix before the gap and a stop begins at
  the fix after it; what happened in between is unknown. `expire(now_us)` ends the trip of a
  vehicle silent for `max_gap_s` at its last moving fix, as if it had stopped there.
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
    chord,
    is_move,
    path_fix,
    trip_event,
    with_sites,
)

RELOCATE_AFTER_JUMPS = 3
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class TripConfig:
    """Trip and stop settings; the module docstring explains each."""

    stop_radius_m: float = 100.0
    min_stop_s: float = 300.0
    min_trip_m: float = 300.0
    moving_kmh: float = 5.0
    jitter_m: float = 20.0
    max_speed_kmh: float = 200.0
    max_accuracy_m: float = 100.0
    max_gap_s: float = 900.0
    site_margin_m: float = 50.0

    def __post_init__(self) -> None:
        if min(self.stop_radius_m, self.max_speed_kmh, self.max_accuracy_m) <= 0:
            raise ValueError("stop_radius_m, max_speed_kmh and max_accuracy_m must be positive")
        if min(self.min_stop_s, self.min_trip_m, self.moving_kmh, self.jitter_m) < 0:
            raise ValueError("min_stop_s, min_trip_m, moving_kmh and jitter_m must not be negative")
        if self.site_margin_m < 0 or self.max_gap_s < self.min_stop_s:
            raise ValueError("site_margin_m must not be negative, nor max_gap_s below min_stop_s")


Events = list[TripCompleted]


class DeviceTrips:
    """One vehicle's segmentation state: its current stay, and the trip in progress if moving."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.last_ts_us: int | None = None  # the last fix screened in, jumps included
        self.prev: PathFix | None = None  # the last fix on the path
        self.moving = False
        self.jumps = 0
        self.anchor: PathFix | None = None  # the first fix of the current stay
        # Stopped: the last stationary fix; moving: the last moving fix within the stay.
        self.mark: PathFix | None = None
        self.candidate: PathFix | None = None  # stopped: a first fix away, awaiting a second
        self.trip_start: PathFix | None = None
        self.trip = Leg()  # moving: from trip_start to the anchor
        self.pending = Leg()  # moving: anchor to mark, mark to mark; stopped: since the mark
        self.idle = Leg()  # moving: the path since the mark

    def step(self, position: Position, config: TripConfig, counts: FixCounts) -> Events:
        """Advance by one screened fix."""
        self.last_ts_us = position.ts_us
        prev, fix = self.prev, path_fix(position, self.prev)
        if prev is None:
            self._restart(fix)
            return []
        distance_m = haversine_m(prev.lat, prev.lon, fix.lat, fix.lon)
        dt_s = (fix.ts_us - prev.ts_us) / US_PER_S
        if dt_s > config.max_gap_s and not self._stays(fix, config):
            counts.add("gap")
            return self._break(prev, fix, config)
        implied_kmh = distance_m / dt_s / MS_PER_KMH
        if implied_kmh > config.max_speed_kmh:
            self.jumps += 1
            if self.jumps < RELOCATE_AFTER_JUMPS:
                counts.add("jump")
                return []
            counts.add("relocated")
            return self._break(prev, fix, config)
        self.jumps, self.prev = 0, fix
        move = Step(
            fix, distance_m, implied_kmh, position.speed_kmh, position.accuracy_m, position.ignition
        )
        if self.moving:
            return self._moving(move, config)
        self._stopped(move, config, counts)
        return []

    def _stays(self, fix: PathFix, config: TripConfig) -> bool:
        assert self.anchor is not None
        distance_m = haversine_m(self.anchor.lat, self.anchor.lon, fix.lat, fix.lon)
        return distance_m <= config.stop_radius_m

    def _moved(self, move: Step, config: TripConfig) -> bool:
        assert self.mark is not None
        return is_move(move, self.mark, moving_kmh=config.moving_kmh, jitter_m=config.jitter_m)

    def _stopped(self, move: Step, config: TripConfig, counts: FixCounts) -> None:
        if move.ignition is False or self._stays(move.fix, config):
            spike = self.candidate is not None and move.ignition is not False
            if spike:
                counts.add("spike")
            self.candidate = None
            if spike or move.ignition is False or not self._moved(move, config):
                self.mark, self.pending = move.fix, Leg()
            else:
                self.pending.add(move)
            return
        self.pending.add(move)
        if self.candidate is None:
            self.candidate = move.fix
            return
        # A second fix in a row beyond the stay: the vehicle left from its last stationary fix.
        self.moving, self.trip_start, self.trip = True, self.mark, self.pending
        self.anchor = self.mark = move.fix
        self.pending, self.idle, self.candidate = Leg(), Leg(), None

    def _moving(self, move: Step, config: TripConfig) -> Events:
        assert self.anchor is not None
        stays = self._stays(move.fix, config)
        if not stays:
            self._absorb()
            self.trip.add(move)
            self.pending, self.idle, self.anchor, self.mark = Leg(), Leg(), move.fix, move.fix
        elif self._moved(move, config):
            assert self.mark is not None
            self.pending.add(chord(self.mark, move))
            self.idle, self.mark = Leg(), move.fix
        else:
            self.idle.add(move)
        if move.ignition is False:
            self._absorb()
            return self._finish(move.fix, move.fix.ts_us, config)
        if stays and move.fix.ts_us - self.anchor.ts_us >= config.min_stop_s * US_PER_S:
            # Stopped since the mark: what the fix did after it is wander, not path.
            self.trip.merge(self.pending)
            assert self.mark is not None
            return self._finish(self.mark, move.fix.ts_us, config)
        return []

    def _absorb(self) -> None:
        self.trip.merge(self.pending)
        self.trip.merge(self.idle)

    def _break(self, prev: PathFix, fix: PathFix, config: TripConfig) -> Events:
        # The track cannot be followed from prev to fix: end any trip at prev, restart at fix.
        events: Events = []
        if self.moving:
            self._absorb()
            events = self._finish(prev, fix.ts_us, config)
        self._restart(fix)
        return events

    def _restart(self, fix: PathFix) -> None:
        self.prev = self.anchor = self.mark = fix
        self.moving, self.jumps, self.candidate, self.trip_start = False, 0, None, None
        self.trip, self.pending, self.idle = Leg(), Leg(), Leg()

    def expire(self, now_us: int, config: TripConfig) -> Events:
        """End a trip in progress if the vehicle has been silent for more than max_gap_s."""
        silent = self.prev is not None and now_us - self.prev.ts_us > config.max_gap_s * US_PER_S
        if not (self.moving and silent and self.mark is not None):
            return []
        self.trip.merge(self.pending)
        return self._finish(self.mark, now_us, config)

    def _finish(self, end: PathFix, occurred_us: int, config: TripConfig) -> Events:
        assert self.trip_start is not None
        ends = (self.trip_start, end)
        event = trip_event(self.device_id, ends, self.trip, occurred_us, config.max_speed_kmh)
        self.moving, self.mark, self.trip_start = False, self.prev, None
        self.trip, self.pending, self.idle = Leg(), Leg(), Leg()
        # Too short to be a trip: no event, and the stop simply goes on. The GPS path has a say
        # too, so an odometer a little short of it cannot erase a real trip.
        long_enough = max(event.distance_m, event.gps_distance_m) >= config.min_trip_m
        return [event] if long_enough else []

    def to_state(self) -> dict[str, Any]:
        """The vehicle's state as a JSON-ready dict."""
        state = {name: getattr(self, name) for name in _SCALARS + _FIXES}
        return state | {name: asdict(getattr(self, name)) for name in _LEGS}

    @classmethod
    def from_state(cls, device_id: str, state: dict[str, Any]) -> DeviceTrips:
        """A vehicle restored from to_state."""
        device = cls(device_id)
        for name in _SCALARS:
            setattr(device, name, state[name])
        for name in _FIXES:
            setattr(device, name, None if state[name] is None else PathFix(*state[name]))
        for name in _LEGS:
            setattr(device, name, Leg(**state[name]))
        return device


_SCALARS = ("last_ts_us", "moving", "jumps")
_FIXES = ("prev", "anchor", "mark", "candidate", "trip_start")
_LEGS = ("trip", "pending", "idle")


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
        events = device.step(position, self.config, self.counts)
        return [with_sites(event, index, self.config.site_margin_m) for event in events]

    def expire(self, now_us: int, index: GeofenceIndex | None = None) -> list[TripCompleted]:
        """End the trips of vehicles silent for more than max_gap_s before now_us.

        now_us is event time (the newest ts_us the stream has seen), not the wall clock, so a
        consumer that lags behind does not end what fixes still queued would continue.
        """
        events: list[TripCompleted] = []
        for device in self._devices.values():
            events += device.expire(now_us, self.config)
        return [with_sites(event, index, self.config.site_margin_m) for event in events]

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
