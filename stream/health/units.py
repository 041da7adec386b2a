"""Which equipment a device reports for, cached: read from the registry once per TTL."""

from __future__ import annotations

from collections.abc import Sequence

from stream.health.repository import UnitInfo


class UnitDirectory:
    """Device id -> the unit it reports for (or None: not equipment), with an expiry."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._known: dict[str, tuple[float, UnitInfo | None]] = {}

    def missing(self, device_ids: Sequence[str], *, now_s: float) -> list[str]:
        """Devices never looked up, or looked up longer than the TTL ago."""
        known = self._known
        return [d for d in dict.fromkeys(device_ids) if d not in known or known[d][0] <= now_s]

    def learn(self, asked: Sequence[str], found: dict[str, UnitInfo], *, now_s: float) -> None:
        """Remember the answers; devices not found are remembered as not equipment."""
        expires = now_s + self._ttl_s
        for device_id in asked:
            self._known[device_id] = (expires, found.get(device_id))

    def get(self, device_id: str) -> UnitInfo | None:
        entry = self._known.get(device_id)
        return None if entry is None else entry[1]
