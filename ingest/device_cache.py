"""Which device ids may publish: a cache of the registry refreshed in the background.

It also remembers the unknown ids it turned away, and records them in the registry in the
background — one statement per flush interval, never a query per message — so an admin can
adopt them (GET /api/v1/devices/unknown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import psycopg
from psycopg_pool import AsyncConnectionPool

from devices.records import Record
from devices.registry import (
    UnknownSighting,
    fetch_device_state,
    fetch_device_states,
    record_unknown_devices,
)
from kernel.clock import now_us
from kernel.dlq import RejectReason

log = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 10.0
# How long an id found unregistered stays so before the registry is asked again,
# so a flood from an unknown device costs one query per interval, not per message.
NEGATIVE_TTL_S = 5.0
UNKNOWN_FLUSH_INTERVAL_S = 5.0
# Past this many distinct unknown ids between flushes, new ones are not remembered (their
# messages are still dead-lettered): a spoofing flood must not exhaust memory.
MAX_PENDING_UNKNOWN = 10_000


class DeviceStatus(Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Refused:
    """A device that may not publish, as named in one message or request."""

    device_id: str
    status: DeviceStatus

    @property
    def reason(self) -> RejectReason:
        if self.status is DeviceStatus.DISABLED:
            return RejectReason.DISABLED_DEVICE
        return RejectReason.UNKNOWN_DEVICE

    @property
    def detail(self) -> str:
        return f"device {self.device_id!r} is {self.status.value}"


class DeviceCache:
    """Answers "may this device publish?" from memory, asking the database on a miss."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._enabled: dict[str, bool] = {}
        self._unknown_until: dict[str, float] = {}
        self._refreshed_at = 0.0
        self._sightings: dict[str, UnknownSighting] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        async with self._pool.connection() as conn:
            self._enabled = await fetch_device_states(conn)
        self._unknown_until.clear()
        self._refreshed_at = time.monotonic()

    async def status(self, device_id: str, topic: str | None = None) -> DeviceStatus:
        """Whether device_id may publish; an unknown one is noted with the topic it used."""
        if time.monotonic() - self._refreshed_at > REFRESH_INTERVAL_S:
            await self.refresh()
        enabled = self._enabled.get(device_id)
        if enabled is None:
            enabled = await self._lookup_miss(device_id)
        if enabled is None:
            self._note_unknown(device_id, topic)
            return DeviceStatus.UNKNOWN
        return DeviceStatus.ENABLED if enabled else DeviceStatus.DISABLED

    async def flush_unknown(self) -> None:
        """Record the unknown ids noted since the last flush, in one statement."""
        pending, self._sightings = self._sightings, {}
        if not pending:
            return
        try:
            async with self._pool.connection() as conn:
                await record_unknown_devices(conn, list(pending.values()))
        except psycopg.Error as exc:
            log.warning("could not record %d unknown device ids: %s", len(pending), exc)
            for sighting in pending.values():
                self._remember(sighting)

    async def close(self) -> None:
        """Stop the background flush and record what is still pending."""
        if self._flusher is not None:
            self._flusher.cancel()
        await self.flush_unknown()

    async def _lookup_miss(self, device_id: str) -> bool | None:
        if self._unknown_until.get(device_id, 0.0) > time.monotonic():
            return None
        async with self._pool.connection() as conn:
            enabled = await fetch_device_state(conn, device_id)
        if enabled is None:
            self._unknown_until[device_id] = time.monotonic() + NEGATIVE_TTL_S
        else:
            self._enabled[device_id] = enabled
        return enabled

    def _note_unknown(self, device_id: str, topic: str | None) -> None:
        seen_us = now_us()
        self._remember(UnknownSighting(device_id, seen_us, seen_us, 1, topic))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    def _remember(self, sighting: UnknownSighting) -> None:
        known = self._sightings.get(sighting.device_id)
        if known is not None:
            self._sightings[sighting.device_id] = known.merged(sighting)
        elif len(self._sightings) < MAX_PENDING_UNKNOWN:
            self._sightings[sighting.device_id] = sighting

    async def _flush_later(self) -> None:
        await asyncio.sleep(UNKNOWN_FLUSH_INTERVAL_S)
        await self.flush_unknown()


async def check_senders(
    devices: DeviceCache, records: Sequence[Record], topic: str
) -> tuple[list[Record], list[Refused]]:
    """The records whose device may publish, and each refused device once.

    One look-up per run of a device's records, not per record: a message usually carries
    one device's batch, and an unknown sender then counts once per message.
    """
    accepted: list[Record] = []
    refused: dict[str, Refused] = {}
    device, status = "", DeviceStatus.UNKNOWN
    for record in records:
        if record.device_id != device:
            device = record.device_id
            status = await devices.status(device, topic)
        if status is DeviceStatus.ENABLED:
            accepted.append(record)
        elif device not in refused:
            refused[device] = Refused(device, status)
    return accepted, list(refused.values())
