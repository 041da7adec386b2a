"""Engineers: how their shifts divide into site work, travel and idle time, what they
complete, how far they drive for work, and what customers think."""

from __future__ import annotations

from dashboards.grafana import JSON, dashboard, sql
from dashboards.panels import barchart, stat, steps, table, timeseries
from dashboards.variables import AREA, ENGINEER, matches, overlaps

UID = "toir-engineers"

ENGINEERS = f"{overlaps('e.areas', 'area')} AND {matches('e.engineer_id', 'engineer')}"

# Shift hours come from the weekly shifts, laid on each local day of the range; idle is what
# the shifts leave after site work and travel (never below zero: work outside a shift).
UTILISATION = f"""
WITH bounds AS (
    SELECT $__timeFrom()::timestamptz AS lo, $__timeTo()::timestamptz AS hi
), activity AS (
    SELECT a.engineer_id, a.activity,
           sum(extract(epoch FROM least(a.ended_at, b.hi) - greatest(a.started_at, b.lo)))
               / 3600 AS hours
    FROM reporting.engineer_activity a, bounds b
    WHERE a.started_at < b.hi AND a.ended_at > b.lo
    GROUP BY a.engineer_id, a.activity
), shifts AS (
    SELECT sh.engineer_id,
           sum(extract(epoch FROM least(p.ends_at, b.hi) - greatest(p.starts_at, b.lo)))
               / 3600 AS hours
    FROM reporting.engineer_shifts sh
    CROSS JOIN bounds b
    CROSS JOIN LATERAL generate_series(((b.lo AT TIME ZONE sh.timezone)::date - 1)::timestamp,
                                       (b.hi AT TIME ZONE sh.timezone)::date::timestamp,
                                       interval '1 day') d(day)
    CROSS JOIN LATERAL (
        SELECT (d.day + sh.starts) AT TIME ZONE sh.timezone AS starts_at,
               (d.day + sh.ends + CASE WHEN sh.ends <= sh.starts THEN interval '1 day'
                                       ELSE interval '0' END) AT TIME ZONE sh.timezone AS ends_at
    ) p
    WHERE extract(isodow FROM d.day) - 1 = sh.weekday
      AND p.starts_at < b.hi AND p.ends_at > b.lo
    GROUP BY sh.engineer_id
)
SELECT e.name AS engineer,
       coalesce(site.hours, 0)::float8 AS "on site",
       coalesce(travel.hours, 0)::float8 AS travel,
       greatest(coalesce(s.hours, 0) - coalesce(site.hours, 0) - coalesce(travel.hours, 0),
                0)::float8 AS idle
FROM reporting.engineers e
LEFT JOIN activity site ON site.engineer_id = e.engineer_id AND site.activity = 'on_site'
LEFT JOIN activity travel ON travel.engineer_id = e.engineer_id AND travel.activity = 'travel'
LEFT JOIN shifts s ON s.engineer_id = e.engineer_id
WHERE {ENGINEERS}
ORDER BY e.name
"""

COMPLETED_PER_DAY = f"""
SELECT date_trunc('day', t.done_at) AS time, e.name AS metric, count(*) AS value
FROM reporting.tickets t
JOIN reporting.engineers e ON e.engineer_id = t.engineer_id
WHERE t.status IN ('completed', 'closed') AND $__timeFilter(t.done_at) AND {ENGINEERS}
GROUP BY 1, 2
ORDER BY 1, 2
"""

KILOMETRES = f"""
SELECT e.name AS engineer,
       coalesce(sum(tr.km) FILTER (WHERE tr.work), 0)::float8 AS work,
       coalesce(sum(tr.km) FILTER (WHERE NOT tr.work), 0)::float8 AS "non-work"
FROM reporting.engineers e
LEFT JOIN reporting.trips tr ON tr.engineer_id = e.engineer_id AND $__timeFilter(tr.started_at)
WHERE {ENGINEERS}
GROUP BY e.name
ORDER BY e.name
"""

RATINGS = f"""
SELECT e.name AS engineer, count(r.rating) AS ratings,
       round(avg(r.rating), 2)::float8 AS average, min(r.rating) AS lowest
FROM reporting.engineers e
LEFT JOIN reporting.ratings r ON r.engineer_id = e.engineer_id AND $__timeFilter(r.completed_at)
WHERE {ENGINEERS}
GROUP BY e.name
ORDER BY average NULLS LAST, e.name
"""

AVERAGE_RATING = f"""
SELECT round(avg(r.rating), 2)::float8 AS "average rating"
FROM reporting.ratings r
JOIN reporting.engineers e ON e.engineer_id = r.engineer_id
WHERE $__timeFilter(r.completed_at) AND {ENGINEERS}
"""

COMPLETED = f"""
SELECT count(*) AS completed
FROM reporting.tickets t
JOIN reporting.engineers e ON e.engineer_id = t.engineer_id
WHERE t.status IN ('completed', 'closed') AND $__timeFilter(t.done_at) AND {ENGINEERS}
"""

WORK_SHARE = f"""
SELECT (sum(tr.km) FILTER (WHERE tr.work) / nullif(sum(tr.km), 0))::float8 AS "work share"
FROM reporting.trips tr
JOIN reporting.engineers e ON e.engineer_id = tr.engineer_id
WHERE $__timeFilter(tr.started_at) AND {ENGINEERS}
"""


def build() -> JSON:
    """The Engineers dashboard."""
    return dashboard(
        uid=UID,
        title="Engineers",
        description="Utilisation, completed tickets, kilometres and customer ratings.",
        variables=[AREA, ENGINEER],
        time_from="now-7d",
        refresh="5m",
        panels=[
            stat("Tickets completed", [sql(COMPLETED)], width=8, height=4),
            stat(
                "Kilometres driven for work",
                [sql(WORK_SHARE)],
                unit="percentunit",
                thresholds=steps(("orange", None), ("green", 0.7)),
                width=8,
                height=4,
            ),
            stat(
                "Average customer rating",
                [sql(AVERAGE_RATING)],
                thresholds=steps(("red", None), ("orange", 3.5), ("green", 4.5)),
                width=8,
                height=4,
            ),
            barchart(
                "Utilisation",
                [sql(UTILISATION)],
                unit="h",
                stacked=True,
                height=10,
                description=(
                    "On site: GPS visits to a site where the engineer had an open ticket. "
                    "Travel: every trip. Idle: the rest of their shifts."
                ),
            ),
            timeseries(
                "Tickets completed per day",
                [sql(COMPLETED_PER_DAY, fmt="time_series")],
                draw="bars",
                height=10,
            ),
            barchart(
                "Work and non-work kilometres",
                [sql(KILOMETRES)],
                unit="lengthkm",
                stacked=True,
                height=10,
                description="Work: trips that ended at the site of a ticket the engineer held.",
            ),
            table("Customer ratings, lowest first", [sql(RATINGS)], height=10),
        ],
    )
