"""What the field trackers need to know about the world: the sites as a geofence index, and
which devices place a vehicle or an engineer. Re-read from the database by the stream agent."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from kernel.events import Subject, SubjectKind
from stream.field import storage
from stream.field.geofence_index import Geofence, GeofenceIndex

log = logging.getLogger(__name__)

# A device heard from but unknown here makes the links be re-read, at most this often.
UNKNOWN_RELOAD_S = 10.0


@dataclass(frozen=True, slots=True)
class DeviceLink:
    """A tracker or phone whose fixes place a vehicle and/or engineers."""

    device_id: str
    vehicle_id: str | None
    # The phone's owner, or the vehicle's engineer when it has exactly one: the visit's "who".
    engineer_id: str | None
    # Every engineer whose position follows this device (a crew shares a vehicle).
    engineer_ids: tuple[str, ...]
    # Trips are a vehicle's: segmented from its tracker, or from its phone when it has none.
    trips: bool

    def subject(self) -> Subject:
        """Whom the device's events are about: the vehicle, else the engineer, else itself."""
        if self.vehicle_id is not None:
            return Subject(SubjectKind.VEHICLE, self.vehicle_id)
        if self.engineer_id is not None:
            return Subject(SubjectKind.ENGINEER, self.engineer_id)
        return Subject(SubjectKind.DEVICE, self.device_id)


def link_of(row: storage.LinkRow) -> DeviceLink:
    """The link of one device as the registry query returns it."""
    device_id, vehicle_id, engineer_ids, phone_owner, trips = row
    engineer_id = phone_owner or (engineer_ids[0] if len(engineer_ids) == 1 else None)
    return DeviceLink(device_id, vehicle_id, engineer_id, tuple(engineer_ids), trips)


class FieldRegistry:
    """The current geofence index and device links; swapped whole when re-read."""

    def __init__(self) -> None:
        self.index = GeofenceIndex(())
        self.links: dict[str, DeviceLink] = {}
        self._sites_fingerprint: str | None = None
        self._links_read_at = -UNKNOWN_RELOAD_S

    async def refresh(self, conn: psycopg.AsyncConnection) -> None:
        """Re-read devices, and sites when they changed (rebuilding the index is the cost)."""
        fingerprint = await storage.sites_fingerprint(conn)
        if fingerprint != self._sites_fingerprint:
            fences = _fences(await storage.load_sites(conn))
            self.index = self.index.rebuilt(fences)
            self._sites_fingerprint = fingerprint
            log.info("field: geofence index rebuilt with %d site(s)", len(self.index))
        await self.read_links(conn)

    def links_stale_for(self, device_ids: Iterable[str]) -> bool:
        """Whether to re-read the links: a device is unknown (registered since?), rate-limited."""
        if time.monotonic() - self._links_read_at < UNKNOWN_RELOAD_S:
            return False
        return any(device_id not in self.links for device_id in device_ids)

    async def read_links(self, conn: psycopg.AsyncConnection) -> None:
        """Re-read which devices place which vehicle and engineers."""
        self.links = {row[0]: link_of(row) for row in await storage.load_links(conn)}
        self._links_read_at = time.monotonic()


def _fences(rows: Iterable[storage.SiteRow]) -> list[Geofence]:
    fences = []
    for site_id, lat, lon, radius_m, polygon in rows:
        try:
            if polygon:
                fences.append(Geofence.area(site_id, [(p[0], p[1]) for p in polygon]))
            elif lat is not None and lon is not None:
                fences.append(Geofence.circle(site_id, lat, lon, radius_m))
        except (ValueError, TypeError, IndexError) as exc:  # one bad site must not hide the rest
            log.warning("field: site %s has no usable geofence: %s", site_id, exc)
    return fences
