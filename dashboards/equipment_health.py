"""Equipment health: which units are worst, what their sensors and anomaly scores did, and
what maintenance falls due."""

from __future__ import annotations

from dashboards.grafana import JSON, dashboard, override, sql, sql_annotation
from dashboards.panels import steps, table, timeseries
from dashboards.variables import AREA, EQUIPMENT, SITE, matches

UID = "toir-equipment-health"


def units(alias: str = "") -> str:
    """SQL: the row's unit is among the selected areas, sites and units."""
    prefix = f"{alias}." if alias else ""
    return " AND ".join(
        [
            matches(f"{prefix}area", "area"),
            matches(f"{prefix}site_id", "site"),
            matches(f"{prefix}equipment_id", "equipment"),
        ]
    )


UNITS = units()

HEALTH = f"""
SELECT equipment_id AS equipment, kind, criticality, site_name AS site,
       health_score AS health, open_anomalies AS "open anomalies",
       overdue_maintenance AS "overdue maintenance", hours_run AS "hours run",
       last_reading_at AS "last reading"
FROM reporting.equipment_health
WHERE {UNITS}
ORDER BY health_score,
         array_position(ARRAY['critical', 'high', 'normal', 'low'], criticality),
         equipment_id
"""

ANOMALY_SCORES = f"""
SELECT ts AS time, equipment_id || ' ' || anomaly_kind AS metric, score AS value
FROM reporting.anomaly_events
WHERE $__timeFilter(ts) AND score IS NOT NULL AND {UNITS}
ORDER BY 1
"""

SENSOR_METRICS = f"""
SELECT m.bucket AS time, m.equipment_id || ' ' || m.metric AS metric, m.value_avg AS value
FROM reporting.equipment_metrics_hourly m
JOIN reporting.equipment e ON e.equipment_id = m.equipment_id
WHERE $__timeFilter(m.bucket) AND {units("e")}
ORDER BY 1
"""

HOURS_RUN = f"""
SELECT h.bucket AS time, h.equipment_id AS metric, h.hours_run AS value
FROM reporting.equipment_hourly h
JOIN reporting.equipment e ON e.equipment_id = h.equipment_id
WHERE $__timeFilter(h.bucket) AND h.hours_run IS NOT NULL AND {units("e")}
ORDER BY 1
"""

NEXT_MAINTENANCE = f"""
SELECT h.equipment_id AS equipment, h.kind, h.hours_run AS "hours run",
       m.due_at AS "next due", m.due_meter AS "due by meter", m.work_type AS "work"
FROM reporting.equipment_health h
LEFT JOIN LATERAL (
    SELECT d.due_at, d.due_meter, d.work_type FROM reporting.maintenance_due d
    WHERE d.equipment_id = h.equipment_id
    ORDER BY d.due_at NULLS LAST LIMIT 1
) m ON true
WHERE {units("h")}
ORDER BY m.due_at NULLS LAST, h.equipment_id
"""

UPCOMING = f"""
SELECT due_at AS "due", due_at < now() AS overdue, equipment_id AS equipment,
       equipment_kind AS kind, site_name AS site, work_type AS "work", due_meter AS "meter",
       status, priority, engineer_id AS engineer
FROM reporting.maintenance_due
WHERE due_at < now() + interval '14 days' AND {UNITS}
ORDER BY due_at
"""

ANOMALY_ANNOTATIONS = f"""
SELECT ts AS time,
       format('%s %s on %s (%s, score %s)', anomaly_kind, coalesce(transition, 'detected'),
              equipment_id, severity, round(score::numeric, 2)) AS text,
       anomaly_kind || ',' || severity AS tags
FROM reporting.anomaly_events
WHERE $__timeFilter(ts) AND {UNITS}
"""

HEALTH_COLORS = override(
    "health",
    thresholds=steps(("red", None), ("orange", 50), ("green", 80)),
    **{"custom.cellOptions": {"type": "color-background"}},
)


def build() -> JSON:
    """The Equipment health dashboard."""
    return dashboard(
        uid=UID,
        title="Equipment health",
        description="Health, anomalies, hours run and maintenance due, per unit.",
        variables=[AREA, SITE, EQUIPMENT],
        annotations=[sql_annotation("Anomalies", ANOMALY_ANNOTATIONS)],
        time_from="now-7d",
        refresh="5m",
        panels=[
            table(
                "Health, worst first",
                [sql(HEALTH)],
                overrides=[HEALTH_COLORS],
                width=24,
                height=9,
                description=(
                    "0-100, 100 healthy: open anomalies cost 5/10/20 points by severity "
                    "(cleared ones fade over weeks, 50 at most), overdue maintenance up to 30."
                ),
            ),
            timeseries(
                "Anomaly scores",
                [sql(ANOMALY_SCORES, fmt="time_series")],
                draw="points",
                description="Each anomaly event's score; red marks are the events.",
            ),
            timeseries(
                "Sensor metrics, hourly average",
                [sql(SENSOR_METRICS, fmt="time_series")],
                description="Pick a unit: every metric of every unit is a lot of lines.",
            ),
            timeseries("Hours run", [sql(HOURS_RUN, fmt="time_series")], unit="h"),
            table("Hours run and next maintenance", [sql(NEXT_MAINTENANCE)]),
            table(
                "Maintenance due in the next 14 days",
                [sql(UPCOMING)],
                width=24,
                description="Overdue first. Calendar and meter plans both raise these tickets.",
            ),
        ],
    )
