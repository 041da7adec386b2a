"""Day partitions are created ahead and dropped by retention (native partitioning)."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import psycopg

from kernel.db import create_pool
from stream.rollups.storage import run_storage_maintenance


def _partitions(conn: psycopg.Connection, parent: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        (parent,),
    ).fetchall()
    return {name for (name,) in rows}


def _name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def test_maintenance_creates_partitions_ahead_for_both_tables(database_url: str) -> None:
    today = datetime.now(UTC).date()
    dropped = asyncio.run(_maintain(database_url, ahead_days=12))
    with psycopg.connect(database_url) as conn:
        readings = _partitions(conn, "telemetry.readings")
        positions = _partitions(conn, "telemetry.positions")
    wanted = {today + timedelta(days=n) for n in range(-1, 13)}
    assert {_name("readings", d) for d in wanted} <= readings
    assert {_name("positions", d) for d in wanted} <= positions
    assert dropped == []


def test_retention_drops_whole_days_older_than_the_policy_and_keeps_the_rest(
    database_url: str,
) -> None:
    at = datetime(2030, 6, 1, 12, tzinfo=UTC)  # positions keep 180 days: horizon 2029-12-03 12:00
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.ensure_partitions('2029-12-01', '2029-12-04')")
        conn.execute(
            "INSERT INTO telemetry.positions (device_id, ts, lat, lon) "
            "VALUES ('v', '2029-12-02 23:59Z', 1, 1), ('v', '2029-12-03 10:00Z', 1, 1)"
        )
        dropped = conn.execute("SELECT telemetry.run_storage_maintenance(7, %s)", (at,)).fetchall()
        left = _partitions(conn, "telemetry.positions")
        count = conn.execute("SELECT count(*) FROM telemetry.positions").fetchone()
    names = {name for (name,) in dropped}
    assert {"positions_p20291201", "positions_p20291202"} <= names
    assert "positions_p20291203" in left  # its day is not wholly past the horizon yet
    assert "positions_p20291204" in left
    assert not any(name.startswith("readings_p2029") for name in names)  # readings keep 400 days
    assert count == (1,)


def test_a_policy_without_drop_after_keeps_everything(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE telemetry.storage_policy SET drop_after = NULL")
        conn.execute("SELECT telemetry.ensure_partitions('2001-01-01', '2001-01-01')")
        dropped = conn.execute("SELECT telemetry.drop_expired_partitions()").fetchall()
    assert dropped == []


def test_rollups_outlive_the_raw_partitions_retention_drops(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.ensure_partitions('2001-01-01', '2001-01-01')")
        conn.execute(
            "INSERT INTO telemetry.readings (device_id, ts, metrics) "
            "VALUES ('eq', '2001-01-01 10:00Z', '{\"t\": 1}')"
        )
        conn.execute("SELECT telemetry.rebuild_rollups('2001-01-01', '2001-01-01')")
        conn.execute("SELECT telemetry.drop_expired_partitions()")
        raw = conn.execute("SELECT count(*) FROM telemetry.readings").fetchone()
        hourly = conn.execute("SELECT count(*) FROM telemetry.equipment_hourly_metrics").fetchone()
    assert (raw, hourly) == ((0,), (1,))


async def _maintain(database_url: str, *, ahead_days: int) -> list[str]:
    pool = create_pool(database_url, max_size=1, name="test")
    try:
        return await run_storage_maintenance(pool=pool, ahead_days=ahead_days)
    finally:
        await pool.close()
