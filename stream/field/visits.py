"""Site visits from GPS, per device and site, with hysteresis and a minimum dwell.

Rules, with the defaults of `VisitConfig`:

- Entry: a fix inside a site (within its radius, or inside its polygon) opens a candidate visit.
- Hysteresis: the visit stays open while fixes fall within the site grown by `exit_margin_m`
  (50 m); the first fix beyond that closes it, so jitter at the boundary cannot flap.
- Dwell: `SiteEntered` is emitted once a fix still at the site comes `min_dwell_s` (300 s) after
  the first fix inside; a candidate that closes sooner was a drive-by and emits nothing. The
  event's `arrived_us` is the first fix inside, not the moment the dwell was confirmed.
- `SiteLeft`: `departed_us` is the last fix at the site (within the grown site); the duration
  runs from arrival to departure.
- Gaps: a gap of up to `max_gap_s` (900 s) between two fixes is bridged: the visit goes on if
  the device reappears at the site, and ends at its last fix there if it reappears elsewhere.
  A longer gap ends the visit at its last fix inside (reason "gap") even if the device reappears
  at the site, because a visit is evidence of presence and the GPS has none for the missing
  time; the fix after the gap starts a new visit. Consumers that tolerate longer gaps (proof of
  presence) can join the two. `expire(now_us)` applies the same rule to devices gone silent.
- Overlapping sites: a device can be at several sites at once; each has its own visit.
- Duplicates, out-of-order fixes and fixes less accurate than `max_accuracy_m` (100 m) are
  dropped and counted (see fixes.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from devices.records import Position
from stream.field.events import LeaveReason, SiteEntered, SiteLeft, VisitEvidence, event_id
from stream.field.fixes import FixCounts, screen
from stream.field.geofence_index import FenceHit, GeofenceIndex

US_PER_S = 1_000_000
STATE_VERSION = 1

VisitEvent = SiteEntered | SiteLeft


@dataclass(frozen=True, slots=True)
class VisitConfig:
    """Visit detection settings; the module docstring explains each."""

    exit_margin_m: float = 50.0
    min_dwell_s: float = 300.0
    max_gap_s: float = 900.0
    max_accuracy_m: float = 100.0

    def __post_init__(self) -> None:
        if self.exit_margin_m < 0 or self.min_dwell_s < 0:
            raise ValueError("exit_margin_m and min_dwell_s must not be negative")
        if not (self.max_gap_s > 0 and self.max_accuracy_m > 0):
            raise ValueError("max_gap_s and max_accuracy_m must be positive")


@dataclass(slots=True)
class _Visit:
    first_us: int
    last_us: int
    min_centre_m: float
    fixes: int = 0
    accuracy_sum_m: float = 0.0
    accuracy_fixes: int = 0
    worst_accuracy_m: float | None = None
    confirmed: bool = False

    def add(self, position: Position, hit: FenceHit) -> None:
        self.last_us = position.ts_us
        self.fixes += 1
        self.min_centre_m = min(self.min_centre_m, hit.centre_m)
        if position.accuracy_m is not None:
            self.accuracy_sum_m += position.accuracy_m
            self.accuracy_fixes += 1
            self.worst_accuracy_m = max(self.worst_accuracy_m or 0.0, position.accuracy_m)

    def evidence(self) -> VisitEvidence:
        mean_m = self.accuracy_sum_m / self.accuracy_fixes if self.accuracy_fixes else None
        return VisitEvidence(
            fixes=self.fixes,
            min_centre_m=self.min_centre_m,
            first_fix_us=self.first_us,
            last_fix_us=self.last_us,
            mean_accuracy_m=mean_m,
            worst_accuracy_m=self.worst_accuracy_m,
        )


class DeviceVisits:
    """One device's open visits (candidate or confirmed) and the time of its last fix used."""

    __slots__ = ("device_id", "last_ts_us", "visits")

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.last_ts_us: int | None = None
        self.visits: dict[str, _Visit] = {}

    def step(
        self, position: Position, hits: list[FenceHit], config: VisitConfig
    ) -> list[VisitEvent]:
        """Advance by one accepted fix, given the sites within the exit margin of it."""
        events: list[VisitEvent] = []
        if self.gap_since(position.ts_us, config):
            events += self.close_all(position.ts_us, "gap")
        self.last_ts_us = position.ts_us
        at_sites = {hit.site_id for hit in hits}
        for site_id in [site_id for site_id in self.visits if site_id not in at_sites]:
            events += self._close(site_id, position.ts_us, "exited")
        for hit in hits:
            events += self._at_site(position, hit, config)
        return events

    def gap_since(self, now_us: int, config: VisitConfig) -> bool:
        """Whether more than max_gap_s has passed since the last fix used."""
        return (
            self.last_ts_us is not None and now_us - self.last_ts_us > config.max_gap_s * US_PER_S
        )

    def close_all(self, occurred_us: int, reason: LeaveReason) -> list[VisitEvent]:
        """End every open visit; confirmed ones yield SiteLeft."""
        events: list[VisitEvent] = []
        for site_id in list(self.visits):
            events += self._close(site_id, occurred_us, reason)
        return events

    def _close(self, site_id: str, occurred_us: int, reason: LeaveReason) -> list[VisitEvent]:
        visit = self.visits.pop(site_id)
        if not visit.confirmed:
            return []
        return [
            SiteLeft(
                event_id=event_id("SiteLeft", self.device_id, site_id, visit.first_us),
                device_id=self.device_id,
                site_id=site_id,
                arrived_us=visit.first_us,
                departed_us=visit.last_us,
                duration_s=(visit.last_us - visit.first_us) / US_PER_S,
                occurred_us=occurred_us,
                reason=reason,
                evidence=visit.evidence(),
            )
        ]

    def _at_site(self, position: Position, hit: FenceHit, config: VisitConfig) -> list[VisitEvent]:
        visit = self.visits.get(hit.site_id)
        if visit is None:
            if hit.edge_m > 0:
                return []  # within the exit margin only: entry needs the site itself
            visit = _Visit(position.ts_us, position.ts_us, hit.centre_m)
            self.visits[hit.site_id] = visit
        visit.add(position, hit)
        if visit.confirmed or position.ts_us - visit.first_us < config.min_dwell_s * US_PER_S:
            return []
        visit.confirmed = True
        return [
            SiteEntered(
                event_id=event_id("SiteEntered", self.device_id, hit.site_id, visit.first_us),
                device_id=self.device_id,
                site_id=hit.site_id,
                arrived_us=visit.first_us,
                occurred_us=position.ts_us,
                evidence=visit.evidence(),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """The device's state as a JSON-ready dict."""
        visits = {site_id: asdict(visit) for site_id, visit in self.visits.items()}
        return {"last_ts_us": self.last_ts_us, "visits": visits}

    @classmethod
    def from_state(cls, device_id: str, state: dict[str, Any]) -> DeviceVisits:
        """A device restored from to_state."""
        device = cls(device_id)
        device.last_ts_us = state["last_ts_us"]
        device.visits = {site_id: _Visit(**visit) for site_id, visit in state["visits"].items()}
        return device


class VisitTracker:
    """Visits of every device: feed positions in order per device, get SiteEntered/SiteLeft."""

    def __init__(self, config: VisitConfig | None = None) -> None:
        self.config = config or VisitConfig()
        self.counts = FixCounts()
        self._devices: dict[str, DeviceVisits] = {}

    def observe(self, position: Position, index: GeofenceIndex) -> list[VisitEvent]:
        """The visit events this fix causes (none for a dropped fix)."""
        device = self._devices.get(position.device_id)
        if device is None:
            device = self._devices[position.device_id] = DeviceVisits(position.device_id)
        dropped = screen(position, device.last_ts_us, self.config.max_accuracy_m)
        if dropped is not None:
            self.counts.add(dropped)
            return []
        self.counts.add("accepted")
        if device.visits and device.gap_since(position.ts_us, self.config):
            self.counts.add("gap")
        hits = index.near(position.lat, position.lon, self.config.exit_margin_m)
        return device.step(position, hits, self.config)

    def expire(self, now_us: int) -> list[VisitEvent]:
        """End the visits of devices silent for more than max_gap_s before now_us.

        now_us is event time (the newest ts_us the stream has seen), not the wall clock, so a
        consumer that lags behind does not end what fixes still queued would continue.
        """
        events: list[VisitEvent] = []
        for device in self._devices.values():
            if device.visits and device.gap_since(now_us, self.config):
                self.counts.add("gap")
                events += device.close_all(now_us, "gap")
        return events

    def sites_of(self, device_id: str) -> list[str]:
        """The sites where the device has a confirmed, open visit."""
        device = self._devices.get(device_id)
        visits = device.visits.items() if device else ()
        return [site_id for site_id, visit in visits if visit.confirmed]

    def to_state(self) -> dict[str, Any]:
        """The whole tracker as a JSON-ready dict, for a checkpoint."""
        devices = {device_id: device.to_state() for device_id, device in self._devices.items()}
        return {"version": STATE_VERSION, "counts": self.counts.to_state(), "devices": devices}

    @classmethod
    def from_state(cls, state: dict[str, Any], config: VisitConfig | None = None) -> VisitTracker:
        """A tracker restored from to_state; it continues exactly where the saved one stopped."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported visit tracker state version {state.get('version')}")
        tracker = cls(config)
        tracker.counts = FixCounts.from_state(state["counts"])
        for device_id, device_state in state["devices"].items():
            tracker._devices[device_id] = DeviceVisits.from_state(device_id, device_state)
        return tracker
