"""Which equipment a device reports for, cached: read from the registry once per TTL."""

from __future__ import annotations

from collections.abc import Sequence

from stream.health.repository import UnitInfo


class UnitDirectory:
    """Device id -> the unit it reports for (or None: not equipment), with an expiry."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._expires_s: dict[str, float] = {}
        self._unit_of: dict[str, UnitInfo | None] = {}

    def missing(self, device_ids: Sequence[str], *, now_s: float) -> list[str]:
        """Devices never looked up, or looked up longer than the TTL ago."""
        expires_s = self._expires_s
        return [d for d in dict.fromkeys(device_ids) if d not in expires_s or expires_s[d] <= now_s]

    def learn(self, asked: Sequence[str], found: dict[str, UnitInfo], *, now_s: float) -> None:
        """Remember the answers; devices not found are remembered as not equipment."""
        expires_s = now_s + self._ttl_s
        for device_id in asked:
            self._expires_s[device_id] = expires_s
            self._unit_of[device_id] = found.get(device_id)

    def units_of(self, device_ids: Sequence[str]) -> list[UnitInfo | None]:
        """The unit of each device, in the same order (None: not equipment, or never learnt)."""
        # One dict lookup per reading, mapped in C: a step holds tens of thousands.
        return list(map(self._unit_of.get, device_ids))
