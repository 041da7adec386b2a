"""The visit and trip trackers of every device a worker has seen, checkpointed per device.

Each device has a VisitTracker (and, for a vehicle's trip device, a TripTracker) of its own,
so its state is saved and restored alone through the trackers' public to_state/from_state:
a worker takes over a device after a restart or a rebalance by reading its one row. Devices
changed since the last commit are "dirty"; after a failed or refused write they are
forgotten, so the next batch re-reads them from the database rather than trust memory that
moved ahead of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devices.records import Position
from stream.field.events import FieldEvent
from stream.field.geofence_index import GeofenceIndex
from stream.field.registry import DeviceLink
from stream.field.storage import StoredState
from stream.field.trips import TripConfig, TripTracker
from stream.field.visits import VisitConfig, VisitTracker

log = logging.getLogger(__name__)

US_PER_S = 1_000_000


@dataclass(slots=True)
class _Device:
    visits: VisitTracker
    trips: TripTracker | None
    last_us: int | None  # the newest fix observed, dropped ones included
    revision: int  # of the stored row this state follows (0: none yet)
    settled: bool  # silent and already expired: the expiry pass can skip it


class FieldTrackers:
    """Per-device trackers in memory, with what must be written after this batch."""

    def __init__(self, visit_config: VisitConfig, trip_config: TripConfig) -> None:
        self.visit_config = visit_config
        self.trip_config = trip_config
        self._devices: dict[str, _Device] = {}
        self._dirty: set[str] = set()
        # A silent device is a candidate for expiry after the shorter gap, done after the longer.
        self._first_gap_us = int(min(visit_config.max_gap_s, trip_config.max_gap_s) * US_PER_S)
        self._last_gap_us = int(max(visit_config.max_gap_s, trip_config.max_gap_s) * US_PER_S)

    def __len__(self) -> int:
        return len(self._devices)

    def missing(self, device_ids: Iterable[str]) -> list[str]:
        """Those of device_ids with no state in memory."""
        return sorted({d for d in device_ids if d not in self._devices})

    def restore(self, states: Iterable[StoredState]) -> None:
        """Adopt stored checkpoints (over anything in memory for those devices)."""
        for state in states:
            try:
                self._devices[state.device_id] = self._restored(state)
            except (ValueError, KeyError, TypeError) as exc:
                # An unreadable checkpoint (an older format): start afresh from its revision.
                log.warning("field: state of %s not restored: %s", state.device_id, exc)
                self._devices[state.device_id] = self._fresh(state.revision)

    def _restored(self, state: StoredState) -> _Device:
        trips = None
        if state.trips is not None:
            trips = TripTracker.from_state(state.trips, self.trip_config)
        return _Device(
            VisitTracker.from_state(state.visits, self.visit_config),
            trips,
            state.last_fix_us,
            state.revision,
            settled=not state.open,
        )

    def _fresh(self, revision: int = 0) -> _Device:
        return _Device(VisitTracker(self.visit_config), None, None, revision, settled=True)

    def observe(
        self, position: Position, link: DeviceLink, index: GeofenceIndex
    ) -> list[FieldEvent]:
        """The events one fix causes on its device's trackers."""
        device = self._devices.get(position.device_id)
        if device is None:
            device = self._devices[position.device_id] = self._fresh()
        if link.trips and device.trips is None:
            device.trips = TripTracker(self.trip_config)
        self._dirty.add(position.device_id)
        device.settled = False
        device.last_us = max(device.last_us or 0, position.ts_us)
        events: list[FieldEvent] = list(device.visits.observe(position, index))
        if device.trips is not None:
            events += device.trips.observe(position, index)
        return events

    def expire(self, now_us: int, index: GeofenceIndex) -> list[FieldEvent]:
        """End the visits and trips of devices silent too long before now_us (event time)."""
        events: list[FieldEvent] = []
        for device_id, device in self._devices.items():
            if device.settled or device.last_us is None:
                continue
            silent_us = now_us - device.last_us
            if silent_us <= self._first_gap_us:
                continue
            events += device.visits.expire(now_us)
            if device.trips is not None:
                events += device.trips.expire(now_us, index)
            self._dirty.add(device_id)
            device.settled = silent_us > self._last_gap_us
        return events

    def dirty_states(self) -> list[StoredState]:
        """The checkpoints to write for this batch, each one revision on."""
        return [self._state(device_id) for device_id in sorted(self._dirty)]

    def _state(self, device_id: str) -> StoredState:
        device = self._devices[device_id]
        visits = device.visits.to_state()
        trips = None if device.trips is None else device.trips.to_state()
        return StoredState(
            device_id, visits, trips, device.last_us, _open(visits, trips), device.revision + 1
        )

    def committed(self) -> None:
        """The dirty checkpoints are in the database: memory and rows agree again."""
        for device_id in self._dirty:
            self._devices[device_id].revision += 1
        self._dirty.clear()

    def rolled_back(self) -> list[str]:
        """The batch's writes did not happen: forget the devices it changed; their ids."""
        forgotten = sorted(self._dirty)
        for device_id in forgotten:
            del self._devices[device_id]
        self._dirty.clear()
        return forgotten


def _open(visits: dict[str, Any], trips: dict[str, Any] | None) -> bool:
    # Read from the checkpoint format of visits.py and trips.py (to_state): a candidate or
    # confirmed visit, or a trip in progress, is what a later expire may have to end.
    in_visit = any(device["visits"] for device in visits["devices"].values())
    moving = trips is not None and any(device["moving"] for device in trips["devices"].values())
    return in_visit or moving
