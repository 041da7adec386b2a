-- Reorders closed days of the hourly rollups by key (docs/storage.md, "Reordering closed
-- days"): the plain-table counterpart of a TimescaleDB reorder policy.
--
-- The stream writes the rollups in time order, all units' rows of an hour together, so one
-- unit's rows of a month sit on as many heap pages as it has hours. Once a UTC day no
-- longer receives normal traffic, its rows are moved and inserted back in primary-key
-- order, which puts one unit's rows of the day on a page or two. A covering index would do
-- the same for reads but would end the HOT updates the stream relies on, since it would
-- index the columns the stream updates; the bucket indexes below index a column that is
-- never updated, so HOT updates stay.
--
-- With TimescaleDB the rollups are continuous aggregates and all of this does nothing
-- (untested there: TimescaleDB is not installable on the development machines).

-- The days whose hourly rollups were rewritten in key order: each is done once. Late rows
-- for such a day update its rows in place, or add rows wherever there is room.
CREATE TABLE telemetry.rollup_reorders (
    day           date PRIMARY KEY,
    unit_rows     bigint NOT NULL,
    metric_rows   bigint NOT NULL,
    reordered_at  timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF telemetry.rollups_maintained_by_stream() THEN
        -- One day's rows without reading every day's (the primary keys lead with the
        -- device); also how the upkeep finds the days that have rollups.
        CREATE INDEX equipment_hourly_bucket ON telemetry.equipment_hourly (bucket);
        CREATE INDEX equipment_hourly_metrics_bucket
            ON telemetry.equipment_hourly_metrics (bucket);
    END IF;
END
$$;

-- Rewrites one UTC day of equipment_hourly and equipment_hourly_metrics in primary-key
-- order and records it. The EXCLUSIVE locks (taken in the order the stream upserts the
-- tables) hold the stream's upserts back for the rewrite; reads go on, seeing the old rows.
-- The moved rows' old versions are dead space that vacuum makes reusable by later hours.
CREATE FUNCTION telemetry.reorder_rollups(utc_day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := utc_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (utc_day + 1)::timestamp AT TIME ZONE 'UTC';
    units_moved bigint;
    metrics_moved bigint;
BEGIN
    IF NOT telemetry.rollups_maintained_by_stream() THEN
        RAISE EXCEPTION 'rollups are continuous aggregates here: TimescaleDB orders their chunks';
    END IF;
    LOCK TABLE telemetry.equipment_hourly, telemetry.equipment_hourly_metrics
        IN EXCLUSIVE MODE;

    -- The insert sorts every deleted row before writing the first: the new versions go
    -- to pages with room, one after the other, in key order.
    WITH moved AS (
        DELETE FROM telemetry.equipment_hourly WHERE bucket >= lo AND bucket < hi RETURNING *
    )
    INSERT INTO telemetry.equipment_hourly
        (device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max)
    SELECT device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max
    FROM moved
    ORDER BY device_id, bucket;
    GET DIAGNOSTICS units_moved = ROW_COUNT;

    WITH moved AS (
        DELETE FROM telemetry.equipment_hourly_metrics
        WHERE bucket >= lo AND bucket < hi RETURNING *
    )
    INSERT INTO telemetry.equipment_hourly_metrics
        (device_id, bucket, metric, sample_count, value_sum, value_min, value_max)
    SELECT device_id, bucket, metric, sample_count, value_sum, value_min, value_max
    FROM moved
    ORDER BY device_id, metric, bucket;
    GET DIAGNOSTICS metrics_moved = ROW_COUNT;

    INSERT INTO telemetry.rollup_reorders (day, unit_rows, metric_rows)
    VALUES (utc_day, units_moved, metrics_moved)
    ON CONFLICT (day) DO UPDATE SET
        unit_rows = excluded.unit_rows,
        metric_rows = excluded.metric_rows,
        reordered_at = now();
END
$$;

-- The stream's upkeep: reorders the earliest closed UTC day (at least `closed_after_days`
-- before `at`'s day) that has hourly rollups and was never reordered, and returns it; NULL
-- when there is none, when another session is at it, or when the stream's transactions
-- keep the tables for over 2 s (the next run tries again). One day per call, so the
-- caller commits, and lets the stream write, between days.
-- Finding the days costs one index probe per day that has rollups, and one per day on
-- the ledger: a few milliseconds for years of history.
CREATE FUNCTION telemetry.reorder_next_closed_day(
    closed_after_days integer DEFAULT 2, at timestamptz DEFAULT now()
) RETURNS date
LANGUAGE plpgsql AS $$
DECLARE
    last_closed date := (at AT TIME ZONE 'UTC')::date - closed_after_days;
    next_day date;
BEGIN
    IF closed_after_days < 1 THEN
        RAISE EXCEPTION 'closed_after_days must be at least 1, got %', closed_after_days;
    END IF;
    IF NOT telemetry.rollups_maintained_by_stream()
        OR NOT pg_try_advisory_xact_lock(hashtext('telemetry.reorder_next_closed_day')) THEN
        RETURN NULL;
    END IF;
    -- Days with rollups, walked through the bucket index a day at a time. Metric rows
    -- exist only for unit hours that exist, so equipment_hourly's days cover both tables.
    WITH RECURSIVE days (day) AS (
        SELECT (min(bucket) AT TIME ZONE 'UTC')::date FROM telemetry.equipment_hourly
        UNION ALL
        SELECT (SELECT (min(h.bucket) AT TIME ZONE 'UTC')::date
                FROM telemetry.equipment_hourly h
                WHERE h.bucket >= (d.day + 1)::timestamp AT TIME ZONE 'UTC')
        FROM days d
        WHERE d.day < last_closed
    )
    SELECT d.day INTO next_day
    FROM days d
    WHERE d.day <= last_closed
      AND NOT EXISTS (SELECT FROM telemetry.rollup_reorders r WHERE r.day = d.day)
    ORDER BY d.day
    LIMIT 1;
    IF next_day IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('lock_timeout', '2s', true);
    BEGIN
        PERFORM telemetry.reorder_rollups(next_day);
    EXCEPTION WHEN lock_not_available THEN
        RAISE NOTICE 'rollups are busy; reordering % next time', next_day;
        RETURN NULL;
    END;
    RETURN next_day;
END
$$;

-- As in 0005, and a rebuilt day is struck off the reorder ledger: the rebuild writes its
-- rows in no useful order, so the upkeep reorders it again once it is closed.
CREATE OR REPLACE FUNCTION telemetry.rebuild_rollups(first_day date, last_day date)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (last_day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF NOT telemetry.rollups_maintained_by_stream() THEN
        RAISE EXCEPTION 'rollups are continuous aggregates here: use refresh_continuous_aggregate';
    END IF;
    LOCK TABLE telemetry.equipment_hourly, telemetry.equipment_hourly_metrics,
        telemetry.vehicle_daily IN EXCLUSIVE MODE;
    DELETE FROM telemetry.equipment_hourly WHERE bucket >= lo AND bucket < hi;
    DELETE FROM telemetry.equipment_hourly_metrics WHERE bucket >= lo AND bucket < hi;
    DELETE FROM telemetry.vehicle_daily WHERE bucket >= lo AND bucket < hi;
    DELETE FROM telemetry.rollup_reorders WHERE day BETWEEN first_day AND last_day;

    INSERT INTO telemetry.equipment_hourly
        (device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max)
    SELECT device_id, date_trunc('hour', ts, 'UTC'), count(*), count(*) FILTER (WHERE running),
           min(hours_run), max(hours_run)
    FROM telemetry.readings WHERE ts >= lo AND ts < hi
    GROUP BY 1, 2;

    INSERT INTO telemetry.equipment_hourly_metrics
        (device_id, bucket, metric, sample_count, value_sum, value_min, value_max)
    SELECT r.device_id, date_trunc('hour', r.ts, 'UTC'), m.key,
           count(*), sum(m.value::float8), min(m.value::float8), max(m.value::float8)
    FROM telemetry.readings r CROSS JOIN LATERAL jsonb_each(r.metrics) m
    WHERE r.ts >= lo AND r.ts < hi AND jsonb_typeof(m.value) = 'number'
    GROUP BY 1, 2, 3;

    INSERT INTO telemetry.vehicle_daily
        (device_id, bucket, fix_count, odometer_min_km, odometer_max_km, speed_max_kmh,
         hours_run_min, hours_run_max, moving_minutes, ignition_minutes)
    SELECT device_id, date_trunc('day', ts, 'UTC'), count(*), min(odometer_km),
           max(odometer_km), max(speed_kmh), min(hours_run), max(hours_run),
           coalesce(bit_or(telemetry.minute_bit(ts))
               FILTER (WHERE speed_kmh >= 5 AND ignition IS NOT FALSE), B'0'::bit(1440)),
           coalesce(bit_or(telemetry.minute_bit(ts)) FILTER (WHERE ignition), B'0'::bit(1440))
    FROM telemetry.positions WHERE ts >= lo AND ts < hi
    GROUP BY 1, 2;
END
$$;
