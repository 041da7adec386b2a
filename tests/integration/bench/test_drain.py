"""The benchmarks' drain wait against real PostgreSQL: the insert counter sums a table with its
partitions, and the wait counts the bench devices' rows exactly only when the counter says
they may all be there (or stopped moving), returning on success, a stall or the deadline."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import count

import psycopg

from toir.bench import baseline as bare
from toir.bench.runs import DrainLimits, count_since, inserted_rows, wait_stored

READINGS = "telemetry.readings"
BASELINE = "bench.baseline_readings"
DEVICES = ["drain-eq-0", "drain-eq-1", "drain-eq-2"]
OTHERS = ["drain-other-0", "drain-other-1"]
FLUSH_TIMEOUT_S = 10.0
# Long enough that only the counter (or the exact count it allows) can end a wait early.
NEVER_S = 60.0

_seconds = count()


def _rows(devices: list[str], n: int, at: datetime) -> list[tuple[str, datetime]]:
    """`n` rows spread over `devices`, each with a timestamp of its own from `at` on."""
    return [(devices[i % len(devices)], at + timedelta(seconds=next(_seconds))) for i in range(n)]


def _insert(conn: psycopg.Connection, table: str, rows: list[tuple[str, datetime]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} (device_id, ts) VALUES (%s, %s)", rows)


def _insert_closed(database_url: str, table: str, rows: list[tuple[str, datetime]]) -> None:
    """Insert and disconnect: a backend flushes its statistics when it exits."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        _insert(conn, table, rows)


def _counter_reaches(database_url: str, table: str, wanted: int) -> int:
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while (seen := inserted_rows(database_url, table)) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen


def _timed_wait(
    database_url: str, expected: int, since: datetime, before: int, limits: DrainLimits
) -> tuple[int, float]:
    started = time.monotonic()
    stored = wait_stored(
        database_url, READINGS, DEVICES, since, expected, inserted_before=before, limits=limits
    )
    return stored, time.monotonic() - started


def test_the_counter_sees_rows_inserted_into_any_day_partition(database_url: str) -> None:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    before = inserted_rows(database_url, READINGS)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for days in range(3):
            _insert(conn, READINGS, _rows(OTHERS, 4, now + timedelta(days=days)))
        child = f"telemetry.readings_p{now + timedelta(days=4):%Y%m%d}"
        _insert(conn, child, _rows(OTHERS, 5, now + timedelta(days=4)))
        row = conn.execute(f"SELECT count(DISTINCT tableoid) FROM {READINGS}").fetchone()
    assert row == (4,)
    assert _counter_reaches(database_url, READINGS, before + 17) == before + 17


def test_the_counter_sums_partitions_of_partitions_and_a_plain_table(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE drain_nested (device_id text, ts timestamptz) PARTITION BY RANGE (ts);"
            "CREATE TABLE drain_nested_2030 PARTITION OF drain_nested"
            " FOR VALUES FROM ('2030-01-01') TO ('2031-01-01') PARTITION BY LIST (device_id);"
            "CREATE TABLE drain_nested_2030_a PARTITION OF drain_nested_2030 FOR VALUES IN ('a');"
            "CREATE TABLE drain_nested_2030_b PARTITION OF drain_nested_2030 FOR VALUES IN ('b');"
            "CREATE TABLE drain_nested_2031 PARTITION OF drain_nested"
            " FOR VALUES FROM ('2031-01-01') TO ('2032-01-01')"
        )
    bare.create_table(database_url)
    _insert_closed(
        database_url, "drain_nested", _rows(["a", "b"], 6, datetime(2030, 3, 1, tzinfo=UTC))
    )
    _insert_closed(database_url, "drain_nested", _rows(["a"], 2, datetime(2031, 3, 1, tzinfo=UTC)))
    _insert_closed(database_url, BASELINE, _rows(DEVICES, 3, datetime.now(UTC)))
    assert _counter_reaches(database_url, "drain_nested", 8) == 8
    assert _counter_reaches(database_url, BASELINE, 3) == 3


def test_the_wait_returns_once_the_expected_rows_are_stored(database_url: str) -> None:
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    _insert_closed(database_url, READINGS, _rows(DEVICES, 12, since))
    _insert_closed(database_url, READINGS, _rows(DEVICES, 12, since + timedelta(days=1)))
    limits = DrainLimits(timeout_s=NEVER_S, stall_s=NEVER_S, quiet_s=NEVER_S, poll_s=0.05)
    stored, took_s = _timed_wait(database_url, 24, since, before, limits)
    assert stored == 24
    assert took_s < 10


def test_other_devices_rows_moving_the_counter_do_not_end_the_wait(database_url: str) -> None:
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    _insert_closed(database_url, READINGS, _rows(DEVICES, 4, since))
    _insert_closed(database_url, READINGS, _rows(OTHERS, 20, since))
    late = _rows(DEVICES, 6, since)
    timer = threading.Timer(1.0, _insert_closed, (database_url, READINGS, late))
    timer.start()
    limits = DrainLimits(timeout_s=NEVER_S, stall_s=NEVER_S, quiet_s=NEVER_S, poll_s=0.05)
    try:
        stored, took_s = _timed_wait(database_url, 10, since, before, limits)
    finally:
        timer.join()
    assert stored == 10
    assert 1.0 <= took_s < 10


def test_a_stall_returns_the_exact_count_of_what_is_stored(database_url: str) -> None:
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    _insert_closed(database_url, READINGS, _rows(DEVICES, 2, since - timedelta(hours=1)))
    _insert_closed(database_url, READINGS, _rows(DEVICES, 4, since))
    _insert_closed(database_url, READINGS, _rows(OTHERS, 3, since))
    limits = DrainLimits(timeout_s=NEVER_S, stall_s=1.0, quiet_s=NEVER_S, poll_s=0.05)
    stored, took_s = _timed_wait(database_url, 10, since, before, limits)
    assert stored == 4
    assert 1.0 <= took_s < 10


def test_the_deadline_returns_the_exact_count_of_what_is_stored(database_url: str) -> None:
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    _insert_closed(database_url, READINGS, _rows(DEVICES, 5, since))
    limits = DrainLimits(timeout_s=1.0, stall_s=NEVER_S, quiet_s=NEVER_S, poll_s=0.05)
    stored, took_s = _timed_wait(database_url, 10, since, before, limits)
    assert stored == 5
    assert 1.0 <= took_s < 10


def test_a_counter_held_back_by_an_idle_writer_still_ends_the_wait_soon(database_url: str) -> None:
    # A backend flushes its statistics at most once a second; going idle sooner after a flush,
    # it keeps the rest for up to 10 s. The first insert flushes, the second is held back.
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    with psycopg.connect(database_url, autocommit=True) as writer:
        _insert(writer, READINGS, _rows(DEVICES, 1, since))
        _insert(writer, READINGS, _rows(DEVICES, 9, since))
        assert inserted_rows(database_url, READINGS) - before < 10
        limits = DrainLimits(timeout_s=NEVER_S, stall_s=NEVER_S, quiet_s=0.5, poll_s=0.05)
        stored, took_s = _timed_wait(database_url, 10, since, before, limits)
    assert stored == 10
    assert took_s < 5


def test_no_exact_count_runs_while_the_counter_is_short(database_url: str) -> None:
    since = datetime.now(UTC)
    before = inserted_rows(database_url, READINGS)
    _insert_closed(database_url, READINGS, _rows(DEVICES, 5, since))
    scans = _scans(database_url)
    assert count_since(database_url, READINGS, DEVICES, since) == 5
    one_count = _scans_grow(database_url, scans) - scans
    limits = DrainLimits(timeout_s=1.0, stall_s=NEVER_S, quiet_s=NEVER_S, poll_s=0.05)
    assert _timed_wait(database_url, 10, since, before, limits)[0] == 5
    # The looks at the counter scan no readings: the deadline's exact count is the only scan.
    assert _scans_grow(database_url, scans + one_count) - (scans + one_count) == one_count


def _scans(database_url: str) -> int:
    """Scans of the readings and their partitions, as the statistics count them."""
    query = """
        SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)::bigint
        FROM pg_stat_user_tables
        WHERE relid = %(t)s::regclass
           OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %(t)s::regclass)
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(query, {"t": READINGS}).fetchone()
    return int(row[0]) if row else 0


def _scans_grow(database_url: str, past: int) -> int:
    """The scans once a closed connection's statistics have arrived (flushed at its exit)."""
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while _scans(database_url) <= past and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    return _scans(database_url)
