"""Closed days of the hourly rollups are rewritten in key order, once, changing no value."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from devices.records import Reading
from kernel.db import create_pool
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection
from stream.rollups.extension import RollupExtension
from stream.rollups.storage import UpkeepDone, run_storage_upkeep

UNITS = 60  # enough that one hour of all units' rows fills most of a page
METRICS = ("current_a", "temperature_c")
CLOSED_AFTER_DAYS = 2
UNIT_HOURS = (
    "SELECT *, ctid FROM telemetry.equipment_hourly "
    "WHERE bucket >= %(lo)s AND bucket < %(hi)s ORDER BY device_id, bucket"
)
METRIC_HOURS = (
    "SELECT *, ctid FROM telemetry.equipment_hourly_metrics "
    "WHERE bucket >= %(lo)s AND bucket < %(hi)s ORDER BY device_id, metric, bucket"
)
REORDER_NEXT = "SELECT telemetry.reorder_next_closed_day(%s)"
# Distinct heap pages holding one unit's rows of one day (one metric's, for metric rows).
UNIT_PAGES = """
SELECT count(DISTINCT (h.ctid::text::point)[0]), count(*)
FROM telemetry.equipment_hourly h
WHERE h.device_id = %(device)s AND h.bucket >= %(lo)s AND h.bucket < %(hi)s
"""
METRIC_PAGES = """
SELECT count(DISTINCT (m.ctid::text::point)[0]), count(*)
FROM telemetry.equipment_hourly_metrics m
WHERE m.device_id = %(device)s AND m.metric = %(metric)s
  AND m.bucket >= %(lo)s AND m.bucket < %(hi)s
"""


@dataclass(frozen=True)
class Written:
    closed: list[date]  # oldest first
    open: list[date]


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _span(day: date) -> dict[str, datetime]:
    return {"lo": _start(day), "hi": _start(day + timedelta(days=1))}


def _reading(unit: int, at: datetime, **metrics: float) -> Reading:
    minute = int(at.timestamp()) // 60
    values = {m: float((unit * 7 + minute + n) % 50) + 0.25 for n, m in enumerate(METRICS)}
    return Reading(
        f"eq-{unit:03d}",
        int(at.timestamp()) * 1_000_000,
        1000.0 + unit + minute / 60,
        minute % 3 != 0,
        values | metrics,
    )


def _hour_by_hour(days: Sequence[date]) -> list[list[Reading]]:
    """Two batches an hour, each a reading of every unit: time order, as the stream writes."""
    return [
        [
            _reading(unit, _start(day) + timedelta(hours=hour, minutes=minute))
            for unit in range(UNITS)
        ]
        for day in days
        for hour in range(24)
        for minute in (10, 40)
    ]


async def _write_async(database_url: str, batches: Sequence[Sequence[Reading]]) -> None:
    pool = create_pool(database_url, max_size=1, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, [RollupExtension()])
    try:
        for batch in batches:
            await writer.write_readings(batch)
    finally:
        await pool.close()


def _write(database_url: str, batches: Sequence[Sequence[Reading]]) -> None:
    asyncio.run(_write_async(database_url, batches))


@pytest.fixture
def written(database_url: str) -> Written:
    """Four days ending yesterday: the first three closed, yesterday still open."""
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (4, 3, 2, 1)]
    _write(database_url, _hour_by_hour(days))
    with psycopg.connect(database_url, autocommit=True) as conn:
        # What autovacuum may do at any time: the page-level free space map is filled in.
        conn.execute("VACUUM telemetry.equipment_hourly, telemetry.equipment_hourly_metrics")
    return Written(closed=days[:3], open=days[3:])


def _reorder_all(
    conn: psycopg.Connection, closed_after_days: int = CLOSED_AFTER_DAYS
) -> list[date]:
    done = []
    while (row := conn.execute(REORDER_NEXT, (closed_after_days,)).fetchone()) != (None,):
        assert row is not None
        done.append(row[0])
    return done


def _day(conn: psycopg.Connection, day: date) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of the day's rows, and where each row is stored (its ctid, last)."""
    return {
        "unit": conn.execute(UNIT_HOURS, _span(day)).fetchall(),
        "metric": conn.execute(METRIC_HOURS, _span(day)).fetchall(),
    }


def _values(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [row[:-1] for row in table_rows] for table, table_rows in rows.items()}


def _pages(conn: psycopg.Connection, day: date) -> list[int]:
    """For a few units: pages holding their hourly rows of the day, and each metric's."""
    counts = []
    for device in ("eq-000", "eq-031", "eq-059"):
        params = {"device": device, **_span(day)}
        row = conn.execute(UNIT_PAGES, params).fetchone()
        assert row is not None and row[1] == 24
        counts.append(int(row[0]))
        for metric in METRICS:
            row = conn.execute(METRIC_PAGES, {**params, "metric": metric}).fetchone()
            assert row is not None and row[1] == 24
            counts.append(int(row[0]))
    return counts


def test_reordering_keeps_every_row_and_every_column(database_url: str, written: Written) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = {day: _values(_day(conn, day)) for day in written.closed}
        reordered = _reorder_all(conn)
        after = {day: _values(_day(conn, day)) for day in written.closed}
    assert reordered == written.closed
    assert after == before
    assert all(len(rows["metric"]) == UNITS * 24 * len(METRICS) for rows in after.values())


def test_a_units_rows_of_a_reordered_day_share_a_few_pages(
    database_url: str, written: Written
) -> None:
    day = written.closed[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _pages(conn, day)
        _reorder_all(conn)
        after = _pages(conn, day)
    assert min(before) >= 10  # written hour by hour: all units' rows of an hour together
    # Rewritten rows first fill pages vacuum left room in, then new ones: 24 rows of ~90
    # bytes take one page, or two or three where they straddle pages.
    assert max(after) <= 3
    assert sum(after) <= 2 * len(after)


def test_the_ledger_records_each_reordered_day_with_its_rows(
    database_url: str, written: Written
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        _reorder_all(conn)
        ledger = conn.execute(
            "SELECT day, unit_rows, metric_rows FROM telemetry.rollup_reorders ORDER BY day"
        ).fetchall()
    assert ledger == [(day, UNITS * 24, UNITS * 24 * len(METRICS)) for day in written.closed]


def test_a_day_is_reordered_once_and_open_days_never(database_url: str, written: Written) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        open_before = [_day(conn, day) for day in written.open]
        first = _reorder_all(conn)
        closed_after_first = [_day(conn, day) for day in written.closed]
        second = _reorder_all(conn)
        closed_after_second = [_day(conn, day) for day in written.closed]
        open_after = [_day(conn, day) for day in written.open]
    assert first == written.closed
    assert second == []
    assert closed_after_second == closed_after_first  # same ctids: not rewritten again
    assert open_after == open_before


def test_how_long_a_day_stays_open_is_a_parameter(database_url: str, written: Written) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        three = _reorder_all(conn, closed_after_days=3)
        then_two = _reorder_all(conn, closed_after_days=2)
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute(REORDER_NEXT, (0,))
    assert three == written.closed[:2]
    assert then_two == written.closed[2:]


def test_late_data_for_a_reordered_day_is_folded_in_as_before(
    database_url: str, written: Written
) -> None:
    day = written.closed[0]
    late = [
        _reading(3, _start(day) + timedelta(hours=5, minutes=55)),  # existing hours
        _reading(3, _start(day) + timedelta(hours=5, minutes=56), pressure_bar=4.5),  # new metric
        _reading(UNITS + 1, _start(day) + timedelta(hours=9, minutes=1)),  # a new unit
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _reorder_all(conn)
    _write(database_url, [late])
    with psycopg.connect(database_url, autocommit=True) as conn:
        folded = _values(_day(conn, day))
        conn.execute("SELECT telemetry.rebuild_rollups(%s, %s)", (day, day))
        recomputed = _values(_day(conn, day))
    assert folded["unit"] == recomputed["unit"]
    # Sums of floats depend on the order of addition: equal to rounding.
    assert [r[:4] for r in folded["metric"]] == [r[:4] for r in recomputed["metric"]]
    assert [r[4:] for r in folded["metric"]] == [
        pytest.approx(r[4:], rel=1e-12) for r in recomputed["metric"]
    ]
    assert len(folded["unit"]) == UNITS * 24 + 1


def test_late_updates_of_a_reordered_day_stay_heap_only(
    database_url: str, written: Written
) -> None:
    hour = _start(written.closed[0]) + timedelta(hours=5)
    with psycopg.connect(database_url, autocommit=True) as conn:
        _reorder_all(conn)
        with conn.transaction():  # a late reading for every unit, as the upsert updates it
            conn.execute(
                "UPDATE telemetry.equipment_hourly SET reading_count = reading_count + 1 "
                "WHERE bucket = %s",
                (hour,),
            )
            row = conn.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relid = 'telemetry.equipment_hourly'::regclass"
            ).fetchone()
    # The rewritten pages keep the table's fillfactor room, and no index covers the
    # updated columns: the updates need no new index entries.
    assert row == (UNITS, UNITS)


def test_a_rebuilt_day_is_reordered_again(database_url: str, written: Written) -> None:
    day = written.closed[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _reorder_all(conn)
        conn.execute("SELECT telemetry.rebuild_rollups(%s, %s)", (day, day))
        again = _reorder_all(conn)
        pages = _pages(conn, day)
    assert again == [day]
    assert max(pages) <= 3


def test_a_day_the_stream_is_writing_to_is_left_for_the_next_run(
    database_url: str, written: Written
) -> None:
    with (
        psycopg.connect(database_url) as writer,
        psycopg.connect(database_url, autocommit=True) as conn,
    ):
        # A batch's transaction still open: it holds the lock of its upserts.
        writer.execute("LOCK TABLE telemetry.equipment_hourly IN ROW EXCLUSIVE MODE")
        busy = conn.execute(REORDER_NEXT, (CLOSED_AFTER_DAYS,)).fetchone()
        writer.rollback()
        later = _reorder_all(conn)
    assert busy == (None,)
    assert later == written.closed


def test_the_storage_upkeep_reorders_the_closed_days(database_url: str, written: Written) -> None:
    first = asyncio.run(_upkeep(database_url))
    second = asyncio.run(_upkeep(database_url))
    with psycopg.connect(database_url) as conn:
        pages = _pages(conn, written.closed[-1])
    assert first.reordered == written.closed
    assert second.reordered == []
    assert max(pages) <= 3


async def _upkeep(database_url: str) -> UpkeepDone:
    pool = create_pool(database_url, max_size=1, name="test", configure=prepare_connection)
    try:
        return await run_storage_upkeep(
            pool=pool, ahead_days=7, reorder_after_days=CLOSED_AFTER_DAYS
        )
    finally:
        await pool.close()
