"""The TimescaleDB-less path produces the relations docs/storage.md documents."""

import psycopg
import pytest

# docs/storage.md, "Relations": the same names and columns with or without TimescaleDB.
DOCUMENTED_COLUMNS = {
    "telemetry.equipment_hourly": [
        "device_id",
        "bucket",
        "reading_count",
        "running_count",
        "hours_run_min",
        "hours_run_max",
        "hours_run_delta",
    ],
    "telemetry.equipment_hourly_metrics": [
        "device_id",
        "bucket",
        "metric",
        "sample_count",
        "value_sum",
        "value_min",
        "value_max",
        "value_avg",
    ],
    "telemetry.vehicle_daily": [
        "device_id",
        "bucket",
        "fix_count",
        "odometer_min_km",
        "odometer_max_km",
        "distance_km",
        "speed_max_kmh",
        "hours_run_min",
        "hours_run_max",
        "engine_hours",
        "moving_minutes",
        "ignition_minutes",
        "driving_s",
        "ignition_on_s",
    ],
    "telemetry.rollup_reorders": ["day", "unit_rows", "metric_rows", "reordered_at"],
}


def _columns(conn: psycopg.Connection, relation: str) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (relation,),
    ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("relation", sorted(DOCUMENTED_COLUMNS))
def test_each_rollup_relation_has_the_documented_columns(database_url: str, relation: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert _columns(conn, relation) == DOCUMENTED_COLUMNS[relation]


def test_without_timescaledb_the_stream_maintains_plain_rollup_tables(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        by_stream = conn.execute("SELECT telemetry.rollups_maintained_by_stream()").fetchone()
        kinds = conn.execute(
            "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'telemetry'::regnamespace "
            "AND relname IN ('equipment_hourly', 'equipment_hourly_metrics', 'vehicle_daily')"
        ).fetchall()
    assert by_stream == (True,)
    assert sorted(kinds) == [
        ("equipment_hourly", "r"),
        ("equipment_hourly_metrics", "r"),
        ("vehicle_daily", "r"),
    ]


def test_the_storage_policy_has_a_row_per_raw_table(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT relation, extract(day FROM drop_after)::int FROM telemetry.storage_policy "
            "ORDER BY 1"
        ).fetchall()
    assert rows == [("positions", 180), ("readings", 400)]


def test_a_storage_policy_can_be_changed_and_is_checked(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.set_storage_policy('readings', '2 days', '30 days')")
        row = conn.execute(
            "SELECT drop_after FROM telemetry.storage_policy WHERE relation = 'readings'"
        ).fetchone()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("SELECT telemetry.set_storage_policy('readings', '2 days', '1 day')")
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute("SELECT telemetry.set_storage_policy('meters', '2 days', '30 days')")
    assert row is not None
    assert row[0].days == 30


def test_the_timescaledb_metric_aggregate_keeps_count_sum_min_max_per_metric(
    database_url: str,
) -> None:
    # The continuous aggregate's jsonb statistics, checkable here without TimescaleDB.
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            'SELECT telemetry.metric_stats(m) FROM (VALUES (\'{"a": 1, "b": 2}\'::jsonb), '
            '(\'{"a": 3}\'), (NULL), (\'{"a": -2, "c": "text"}\')) v (m)'
        ).fetchone()
    assert row == ({"a": [3, 2, -2, 3], "b": [1, 2, 2, 2]},)
