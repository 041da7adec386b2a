"""Every toir dashboard, in the order Grafana lists them."""

from __future__ import annotations

from collections.abc import Callable

from dashboards import engineers, equipment_health, fleet_map, platform, tickets_sla
from dashboards.grafana import JSON

BUILDERS: tuple[Callable[[], JSON], ...] = (
    fleet_map.build,
    equipment_health.build,
    tickets_sla.build,
    engineers.build,
    platform.build,
)


def build_all() -> list[JSON]:
    """The JSON of every dashboard."""
    return [build() for build in BUILDERS]
