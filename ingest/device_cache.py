"""Which device ids may publish: a cache of the registry refreshed in the background."""

from __future__ import annotations

import time
from enum import Enum

from psycopg_pool import AsyncConnectionPool

from devices.registry import fetch_device_state, fetch_device_states

REFRESH_INTERVAL_S = 10.0
# How long an id found unregistered stays so before the registry is asked again,
# so a flood from an unknown device costs one query per interval, not per message.
NEGATIVE_TTL_S = 5.0


class DeviceStatus(Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


class DeviceCache:
    """Answers "may this device publish?" from memory, asking the database on a miss."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._enabled: dict[str, bool] = {}
        self._unknown_until: dict[str, float] = {}
        self._refreshed_at = 0.0

    async def refresh(self) -> None:
        async with self._pool.connection() as conn:
            self._enabled = await fetch_device_states(conn)
        self._unknown_until.clear()
        self._refreshed_at = time.monotonic()

    async def status(self, device_id: str) -> DeviceStatus:
        if time.monotonic() - self._refreshed_at > REFRESH_INTERVAL_S:
            await self.refresh()
        enabled = self._enabled.get(device_id)
        if enabled is None:
            enabled = await self._lookup_miss(device_id)
        if enabled is None:
            return DeviceStatus.UNKNOWN
        return DeviceStatus.ENABLED if enabled else DeviceStatus.DISABLED

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
