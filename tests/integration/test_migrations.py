import threading
import time
from importlib import resources

import psycopg
import pytest
from psycopg import sql

from kernel.migrate import SchemaVersionError, check_schema, latest_version, migrate


def _relkind(conn: psycopg.Connection, name: str) -> str:
    row = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (name,))
    found = row.fetchone()
    assert found is not None, f"{name} does not exist"
    return str(found[0])


def test_migrate_applies_every_migration_once(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        first = migrate(conn)
        second = migrate(conn)
        versions = conn.execute("SELECT version FROM toir_meta.migrations ORDER BY 1").fetchall()
    assert [m.version for m in first] == [v for (v,) in versions]
    assert versions[-1][0] == latest_version()
    assert second == []


def test_without_timescaledb_telemetry_tables_are_partitioned_by_day(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        usable = conn.execute("SELECT telemetry.timescale_usable()").fetchone()
        assert usable == (False,)
        assert _relkind(conn, "telemetry.readings") == "p"
        assert _relkind(conn, "telemetry.positions") == "p"
        bounds = conn.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class "
            "WHERE oid = to_regclass('telemetry.readings_p' || to_char(current_date, 'YYYYMMDD'))"
        ).fetchone()
    assert bounds is not None
    assert "FOR VALUES FROM" in bounds[0]


def test_partitions_exist_a_week_ahead(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        missing = conn.execute(
            "SELECT d::date FROM generate_series(current_date, current_date + 7, '1 day') d "
            "WHERE to_regclass('telemetry.positions_p' || to_char(d, 'YYYYMMDD')) IS NULL"
        ).fetchall()
    assert missing == []


def test_ensure_partitions_is_idempotent(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.ensure_partitions('2001-02-03', '2001-02-04')")
        conn.execute("SELECT telemetry.ensure_partitions('2001-02-03', '2001-02-04')")
        conn.execute(
            "INSERT INTO telemetry.readings (device_id, ts) VALUES ('d', '2001-02-03 12:00Z')"
        )
        count = conn.execute("SELECT count(*) FROM telemetry.readings_p20010203").fetchone()
    assert count == (1,)


def test_an_unmigrated_database_is_refused(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url) as conn, pytest.raises(SchemaVersionError) as err:
        check_schema(conn)
    assert "toir db migrate" in str(err.value)


def test_a_newer_schema_is_refused(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO toir_meta.migrations (version, name) VALUES (%s, 'from_the_future')",
            (latest_version() + 1,),
        )
        with pytest.raises(SchemaVersionError) as err:
            check_schema(conn)
    assert "newer than this toir" in str(err.value)


def test_a_migrated_database_passes_the_check(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        check_schema(conn)
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'assets'"
            )
        }
    assert {"sites", "equipment", "vehicles", "devices"} <= tables


def _grafana_role_block(role: str) -> str:
    """The migration's own statement that creates the Grafana role, for another role name."""
    text = (resources.files("kernel") / "migrations" / "0009_reporting.sql").read_text()
    start = text.index("DO $$\nBEGIN\n    CREATE ROLE toir_grafana")
    return text[start : text.index("$$;", start) + 3].replace("toir_grafana", role)


def _run_collecting(conn: psycopg.Connection, statement: str, errors: list[Exception]) -> None:
    try:
        conn.execute(statement.encode())
    except psycopg.Error as exc:
        errors.append(exc)


def _wait_until_waiting_on_a_lock(watcher: psycopg.Connection, pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.05)
    raise AssertionError("the second creator never waited for the first")


def test_creating_the_grafana_role_tolerates_a_concurrent_creator(
    database_url: str, unique: str
) -> None:
    # Roles belong to the cluster: two databases migrating together (test workers, or two
    # deployments sharing a server) both create the role, and the later one must not fail.
    # Two connections to one database race the same way.
    role = f"toir_test_role_{unique}"
    block = _grafana_role_block(role)
    errors: list[Exception] = []
    with (
        psycopg.connect(database_url) as first,
        psycopg.connect(database_url, autocommit=True) as second,
        psycopg.connect(database_url, autocommit=True) as watcher,
    ):
        try:
            first.execute(block.encode())  # created, not yet committed
            racer = threading.Thread(target=_run_collecting, args=(second, block, errors))
            racer.start()
            _wait_until_waiting_on_a_lock(watcher, second.info.backend_pid)
            first.commit()
            racer.join(10)
            assert not racer.is_alive()
            assert errors == []
            assert watcher.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        finally:
            first.rollback()
            watcher.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
