"""Platform: what the pipeline stores and refuses, how far its consumers lag, which devices
went quiet, and how big the database is."""

from __future__ import annotations

from dashboards.grafana import JSON, dashboard, override, sql, time_bucket
from dashboards.panels import stat, steps, table, timeseries

UID = "toir-platform"
SECOND_MS = 1_000
MINUTE_MS = 60_000

# Counted by when the rows were stored. The ts bound only lets PostgreSQL skip partitions
# (ts is their key): a replay of data more than a day old is missed, which is rare and slow.
INGEST_RATE = f"""
SELECT {time_bucket("stored_at", min_ms=SECOND_MS)} AS time, stream AS metric,
       (count(*) / (greatest($__interval_ms, {SECOND_MS}) / 1000.0))::float8 AS value
FROM reporting.ingested_messages
WHERE $__timeFilter(stored_at) AND ts > $__timeFrom()::timestamptz - interval '1 day'
GROUP BY 1, 2
ORDER BY 1
"""

DEAD_LETTERS = f"""
SELECT {time_bucket("bucket", min_ms=MINUTE_MS)} AS time, reason AS metric,
       sum(messages)::float8 AS value
FROM reporting.dead_letters
WHERE $__timeFilter(bucket)
GROUP BY 1, 2
ORDER BY 1
"""

# Per consumer group and topic: the partitions' lags added up, each partition's largest
# sample in the interval.
CONSUMER_LAG = f"""
SELECT time, metric, sum(lag)::float8 AS value FROM (
    SELECT {time_bucket("observed_at", min_ms=SECOND_MS)} AS time,
           group_id || ' ' || topic AS metric, partition, max(lag) AS lag
    FROM reporting.consumer_lag
    WHERE $__timeFilter(observed_at)
    GROUP BY 1, 2, 3
) per_partition
GROUP BY time, metric
ORDER BY 1
"""

SILENT = "SELECT count(*) AS silent FROM reporting.device_status WHERE status = 'silent'"
NEVER = (
    'SELECT count(*) AS "never reported" FROM reporting.device_status '
    "WHERE status = 'never_reported'"
)
REPORTING = "SELECT count(*) AS reporting FROM reporting.device_status WHERE status = 'reporting'"
DATABASE_SIZE = "SELECT bytes AS size FROM reporting.database_size"

QUIET_DEVICES = """
SELECT device_id AS device, kind, status, coalesce(equipment_id, vehicle_id) AS "unit",
       last_received_at AS "last stored", silent_for_s AS "silent for",
       expected_interval_s AS "expected every"
FROM reporting.device_status
WHERE status IN ('silent', 'never_reported')
ORDER BY status, silent_for_s DESC NULLS LAST, device_id
"""

LARGEST_TABLES = """
SELECT schema_name || '.' || table_name AS "table", bytes AS size
FROM reporting.table_sizes
ORDER BY bytes DESC, 1
LIMIT 15
"""


def build() -> JSON:
    """The Platform dashboard."""
    return dashboard(
        uid=UID,
        title="Platform",
        description="Ingest rate, dead letters, consumer lag, silent devices, database size.",
        time_from="now-6h",
        refresh="30s",
        panels=[
            stat("Devices reporting", [sql(REPORTING)], width=6, height=4),
            stat(
                "Silent devices",
                [sql(SILENT)],
                thresholds=steps(("green", None), ("red", 1)),
                width=6,
                height=4,
            ),
            stat(
                "Never reported", [sql(NEVER)], thresholds=steps(("text", None)), width=6, height=4
            ),
            stat("Database size", [sql(DATABASE_SIZE)], unit="bytes", width=6, height=4),
            timeseries(
                "Messages stored per second",
                [sql(INGEST_RATE, fmt="time_series")],
                unit="reqps",
                width=24,
            ),
            timeseries(
                "Dead letters by reason",
                [sql(DEAD_LETTERS, fmt="time_series")],
                draw="bars",
                stacked=True,
                description=(
                    "Messages sent to toir.telemetry.dlq, each counted once by the stream, per "
                    "minute, source topic and reason (telemetry.dead_letter_counts)."
                ),
            ),
            timeseries(
                "Consumer lag",
                [sql(CONSUMER_LAG, fmt="time_series")],
                description=(
                    "Messages behind the high watermark, per consumer group and topic, from "
                    "the telemetry.consumer_lag samples the stream takes (every 15 s by default)."
                ),
            ),
            table(
                "Silent and never-reporting devices",
                [sql(QUIET_DEVICES)],
                overrides=[
                    override("silent for", unit="s"),
                    override("expected every", unit="s"),
                ],
                height=10,
            ),
            table(
                "Largest tables",
                [sql(LARGEST_TABLES)],
                overrides=[override("size", unit="bytes")],
                height=10,
                description="Partitions counted in their parent table.",
            ),
        ],
    )
