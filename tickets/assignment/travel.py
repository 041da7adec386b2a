"""Travel time estimates from many origins (engineers) to many destinations (tickets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np

from kernel.geo import haversine_m_array
from tickets.assignment.arrays import FloatArray

METRES_PER_KM: Final = 1000.0
MINUTES_PER_HOUR: Final = 60.0


class TravelEstimator(Protocol):
    """Anything that estimates travel minutes; a road-routing client can stand in later."""

    def travel_min(
        self,
        *,
        from_lat: FloatArray,
        from_lon: FloatArray,
        to_lat: FloatArray,
        to_lon: FloatArray,
        to_areas: Sequence[str | None],
    ) -> FloatArray:
        """Minutes from each origin (E,) to each destination (T,), shape (T, E)."""
        ...


@dataclass(frozen=True, slots=True)
class GreatCircleTravel:
    """Great-circle distance times a detour factor, at an average speed for the ticket's area."""

    detour_factor: float = 1.4
    speed_kmh: float = 25.0
    speed_kmh_by_area: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        speeds = [self.speed_kmh, *self.speed_kmh_by_area.values()]
        if self.detour_factor < 1 or min(speeds) <= 0:
            raise ValueError("detour_factor must be at least 1 and speeds positive")

    def travel_min(
        self,
        *,
        from_lat: FloatArray,
        from_lon: FloatArray,
        to_lat: FloatArray,
        to_lon: FloatArray,
        to_areas: Sequence[str | None],
    ) -> FloatArray:
        """Minutes from each origin (E,) to each destination (T,), shape (T, E)."""
        straight_m = haversine_m_array(
            from_lat[None, :], from_lon[None, :], to_lat[:, None], to_lon[:, None]
        )
        road_km = straight_m * (self.detour_factor / METRES_PER_KM)
        return road_km * (MINUTES_PER_HOUR / self._speeds_kmh(to_areas))[:, None]

    def _speeds_kmh(self, areas: Sequence[str | None]) -> FloatArray:
        by_area = self.speed_kmh_by_area
        return np.array([by_area.get(a, self.speed_kmh) if a else self.speed_kmh for a in areas])
