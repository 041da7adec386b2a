"""Tickets and SLA: the open backlog, what is at risk or breached, how fast tickets move,
and how well they are fixed."""

from __future__ import annotations

from dashboards.grafana import JSON, Panel, dashboard, override, sql, time_bucket, value_colors
from dashboards.panels import PRIORITY_COLORS, barchart, stat, steps, table, timeseries
from dashboards.variables import AREA, ENGINEER, SITE, matches

UID = "toir-tickets-sla"

TICKETS = " AND ".join(
    [matches("area", "area"), matches("site_id", "site"), matches("engineer_id", "engineer")]
)
FIRST_TIME_FIX_RULE = (
    "Of tickets done in the range after a visit: never put on hold while on site, and no "
    "breakdown or anomaly on the same unit within 7 days."
)
WITHOUT_VISIT_RULE = "Done in the range, flagged closed_without_visit: no GPS visit to the site."
SLA_COLORS = {"ok": "green", "at_risk": "orange", "breached": "red"}
HOUR_MS = 3_600_000

OPEN = f"SELECT count(*) AS open FROM reporting.tickets WHERE is_open AND {TICKETS}"
AT_RISK = f"""
SELECT count(*) AS "at risk" FROM reporting.tickets
WHERE is_open AND sla_state = 'at_risk' AND {TICKETS}
"""
BREACHED = f"""
SELECT count(*) AS breached FROM reporting.tickets
WHERE is_open AND sla_state = 'breached' AND {TICKETS}
"""
CREATED = f"""
SELECT count(*) AS created FROM reporting.tickets
WHERE $__timeFilter(created_at) AND {TICKETS}
"""
FIRST_TIME_FIX = f"""
SELECT avg(first_time_fix::int)::float8 AS "first-time fix"
FROM reporting.tickets
WHERE first_time_fix IS NOT NULL AND $__timeFilter(done_at) AND {TICKETS}
"""
WITHOUT_VISIT_COUNT = f"""
SELECT count(*) AS "closed without a visit" FROM reporting.tickets
WHERE closed_without_visit AND $__timeFilter(done_at) AND {TICKETS}
"""

BY_STATUS = f"""
SELECT status, count(*) AS tickets
FROM reporting.tickets
WHERE is_open AND {TICKETS}
GROUP BY status
ORDER BY array_position(
    ARRAY['new', 'assigned', 'accepted', 'en_route', 'on_site', 'on_hold', 'declined'], status)
"""

BY_PRIORITY = f"""
SELECT priority, count(*) FILTER (WHERE sla_state = 'ok') AS ok,
       count(*) FILTER (WHERE sla_state = 'at_risk') AS "at risk",
       count(*) FILTER (WHERE sla_state = 'breached') AS breached
FROM reporting.tickets
WHERE is_open AND {TICKETS}
GROUP BY priority, priority_rank
ORDER BY priority_rank DESC
"""

# Of tickets created in the range; a stage not reached yet does not count.
DURATIONS = f"""
SELECT v.stage, percentile_cont(0.5) WITHIN GROUP (ORDER BY v.s) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY v.s) AS p90
FROM reporting.tickets t
CROSS JOIN LATERAL (VALUES (1, 'accept', t.time_to_accept_s), (2, 'arrive', t.time_to_arrive_s),
                           (3, 'resolve', t.time_to_resolve_s)) v(n, stage, s)
WHERE $__timeFilter(t.created_at) AND v.s IS NOT NULL AND {TICKETS}
GROUP BY v.n, v.stage
ORDER BY v.n
"""

# Tickets open at each step: created by then and not yet done.
BACKLOG = f"""
SELECT s.at AS time, t.priority AS metric, count(*) AS value
FROM generate_series({time_bucket("$__timeFrom()::timestamptz", min_ms=HOUR_MS)},
                     $__timeTo()::timestamptz,
                     greatest($__interval_ms, {HOUR_MS}) * interval '1 millisecond') s(at)
JOIN reporting.tickets t ON t.created_at <= s.at AND (t.done_at IS NULL OR t.done_at > s.at)
WHERE {TICKETS}
GROUP BY s.at, t.priority
ORDER BY 1
"""

FLOW = f"""
SELECT time, metric, value FROM (
    SELECT date_trunc('day', created_at) AS time, 'created' AS metric, count(*) AS value
    FROM reporting.tickets WHERE $__timeFilter(created_at) AND {TICKETS} GROUP BY 1
    UNION ALL
    SELECT date_trunc('day', done_at), 'done', count(*)
    FROM reporting.tickets WHERE $__timeFilter(done_at) AND {TICKETS} GROUP BY 1
) f
ORDER BY 1, 2
"""

AT_RISK_LIST = f"""
SELECT ticket_id AS ticket, title, priority, status, sla_state AS sla,
       engineer_name AS engineer, site_name AS site, accept_by, arrive_by, resolve_by
FROM reporting.tickets
WHERE is_open AND sla_state IN ('at_risk', 'breached') AND {TICKETS}
ORDER BY sla_state = 'breached' DESC, priority_rank DESC, resolve_by
"""

WITHOUT_VISIT = f"""
SELECT ticket_id AS ticket, title, kind, status, engineer_name AS engineer, site_name AS site,
       done_at AS "closed"
FROM reporting.tickets
WHERE closed_without_visit AND $__timeFilter(done_at) AND {TICKETS}
ORDER BY done_at DESC
"""


def _headline() -> list[Panel]:
    """The figures along the top: open now, SLA trouble now, and quality over the range."""
    figures = [
        ("Open", OPEN, "short", "blue", "Open tickets now."),
        ("At risk", AT_RISK, "short", "orange", "80 % of the time to a deadline has passed."),
        ("Breached", BREACHED, "short", "red", "A deadline passed with its step not done."),
        ("Created", CREATED, "short", "blue", "Tickets created in the time range."),
        ("First-time fix", FIRST_TIME_FIX, "percentunit", "green", FIRST_TIME_FIX_RULE),
        ("Without a visit", WITHOUT_VISIT_COUNT, "short", "purple", WITHOUT_VISIT_RULE),
    ]
    return [
        stat(
            title,
            [sql(query)],
            unit=unit,
            thresholds=steps((color, None)),
            width=4,
            height=4,
            description=description,
        )
        for title, query, unit, color, description in figures
    ]


def build() -> JSON:
    """The Tickets and SLA dashboard."""
    sla = override("sla", mappings=[value_colors(SLA_COLORS)])
    priority = override("priority", mappings=[value_colors(PRIORITY_COLORS)])
    return dashboard(
        uid=UID,
        title="Tickets and SLA",
        description="Backlog, SLA risk and breaches, response times and fix quality.",
        variables=[AREA, SITE, ENGINEER],
        time_from="now-30d",
        refresh="1m",
        panels=[
            *_headline(),
            barchart("Open by status", [sql(BY_STATUS)], width=8),
            barchart("Open by priority and SLA", [sql(BY_PRIORITY)], stacked=True, width=8),
            barchart(
                "Time to accept, arrive and resolve",
                [sql(DURATIONS)],
                unit="s",
                width=8,
                description="Median and 90th percentile from creation, tickets created in range.",
            ),
            timeseries(
                "Backlog",
                [sql(BACKLOG, fmt="time_series")],
                stacked=True,
                width=16,
                description="Tickets open at each moment, by priority.",
            ),
            timeseries(
                "Created and done per day", [sql(FLOW, fmt="time_series")], draw="bars", width=8
            ),
            table(
                "At risk and breached", [sql(AT_RISK_LIST)], overrides=[sla, priority], height=10
            ),
            table(
                "Closed without a visit",
                [sql(WITHOUT_VISIT)],
                height=10,
                description=WITHOUT_VISIT_RULE,
            ),
        ],
    )
