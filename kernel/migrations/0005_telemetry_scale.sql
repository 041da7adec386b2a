-- Telemetry at scale: storage policy (compression, retention, partitions ahead) and the
-- rollups planners query instead of raw data (docs/storage.md).
--
-- With TimescaleDB the rollups are continuous aggregates and the policies are TimescaleDB
-- jobs. Without it the same relations exist by name and columns as plain tables that the
-- stream app keeps up to date inside each raw batch's transaction (stream/rollups), and its
-- storage timer creates day partitions ahead and drops expired ones. Every rollup column is
-- additive (counts, sums, minima, maxima, OR-ed minute bitmaps), so a bucket can be grown
-- from the new rows alone, in any order, and equals a recomputation from raw data.

-- One row per raw table; both paths read it, `telemetry.set_storage_policy` changes it.
CREATE TABLE telemetry.storage_policy (
    relation        text PRIMARY KEY CHECK (relation IN ('readings', 'positions')),
    -- TimescaleDB only: chunks older than this are compressed.
    compress_after  interval NOT NULL CHECK (compress_after >= interval '1 hour'),
    -- Raw data older than this is dropped, a whole day or chunk at a time; NULL keeps it.
    -- At least a week so the aggregates' refresh window never reaches dropped data.
    drop_after      interval CHECK (drop_after >= interval '7 days'),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

INSERT INTO telemetry.storage_policy (relation, compress_after, drop_after) VALUES
    ('readings', interval '7 days', interval '400 days'),
    ('positions', interval '7 days', interval '180 days');

-- The bit of a UTC minute of the day (0 = leftmost) in a 1,440-bit day map. OR-ing these
-- counts "minutes with a moving fix" exactly whatever the order or repetition of fixes.
-- extract(epoch) does not depend on the time zone, hence IMMUTABLE.
CREATE FUNCTION telemetry.minute_bit(ts timestamptz) RETURNS bit(1440)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT B'1'::bit(1440) >> (((floor(extract(epoch FROM ts))::bigint % 86400 + 86400) % 86400) / 60)::int
$$;

-- Per-metric statistics of a set of readings as jsonb {metric: [count, sum, min, max]}: the
-- TimescaleDB continuous aggregate cannot expand jsonb into rows (no set-returning functions
-- in its definition), so it aggregates the whole metrics object with this.
CREATE FUNCTION telemetry.metric_stats_add(state jsonb, metrics jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT state || coalesce(jsonb_object_agg(m.key, CASE
        WHEN state -> m.key IS NULL THEN jsonb_build_array(1, m.v, m.v, m.v)
        ELSE jsonb_build_array(
            (state -> m.key ->> 0)::bigint + 1,
            (state -> m.key ->> 1)::float8 + m.v,
            least((state -> m.key ->> 2)::float8, m.v),
            greatest((state -> m.key ->> 3)::float8, m.v))
        END), '{}')
    FROM (SELECT key, value::float8 AS v FROM jsonb_each(metrics)
          WHERE jsonb_typeof(value) = 'number') m
$$;

CREATE FUNCTION telemetry.metric_stats_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT a || coalesce(jsonb_object_agg(k, CASE
        WHEN a -> k IS NULL THEN b -> k
        ELSE jsonb_build_array(
            (a -> k ->> 0)::bigint + (b -> k ->> 0)::bigint,
            (a -> k ->> 1)::float8 + (b -> k ->> 1)::float8,
            least((a -> k ->> 2)::float8, (b -> k ->> 2)::float8),
            greatest((a -> k ->> 3)::float8, (b -> k ->> 3)::float8))
        END), '{}')
    FROM jsonb_object_keys(b) k
$$;

CREATE AGGREGATE telemetry.metric_stats(jsonb) (
    SFUNC = telemetry.metric_stats_add,
    STYPE = jsonb,
    INITCOND = '{}',
    COMBINEFUNC = telemetry.metric_stats_merge,
    PARALLEL = SAFE
);

DO $$
BEGIN
    IF telemetry.timescale_usable() THEN
        -- Chunks stay one day (0002): at 1,000 vehicles a day of positions is ~1 GB with its
        -- index, well under the quarter of RAM TimescaleDB advises for the newest chunk.
        -- Segment by device so a compressed chunk reads one device's run of values at once.
        ALTER TABLE telemetry.readings SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'device_id',
            timescaledb.compress_orderby = 'ts DESC');
        ALTER TABLE telemetry.positions SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'device_id',
            timescaledb.compress_orderby = 'ts DESC');

        CREATE MATERIALIZED VIEW telemetry.equipment_hourly_cagg
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT device_id,
               time_bucket(interval '1 hour', ts) AS bucket,
               count(*) AS reading_count,
               count(*) FILTER (WHERE running) AS running_count,
               min(hours_run) AS hours_run_min,
               max(hours_run) AS hours_run_max,
               telemetry.metric_stats(metrics) AS metric_stats
        FROM telemetry.readings
        GROUP BY device_id, time_bucket(interval '1 hour', ts)
        WITH NO DATA;

        CREATE VIEW telemetry.equipment_hourly AS
        SELECT device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max,
               hours_run_max - hours_run_min AS hours_run_delta
        FROM telemetry.equipment_hourly_cagg;

        CREATE VIEW telemetry.equipment_hourly_metrics AS
        SELECT c.device_id, c.bucket, m.key AS metric,
               (m.value ->> 0)::bigint AS sample_count,
               (m.value ->> 1)::float8 AS value_sum,
               (m.value ->> 2)::float8 AS value_min,
               (m.value ->> 3)::float8 AS value_max,
               (m.value ->> 1)::float8 / (m.value ->> 0)::float8 AS value_avg
        FROM telemetry.equipment_hourly_cagg c
        CROSS JOIN LATERAL jsonb_each(c.metric_stats) m;

        CREATE MATERIALIZED VIEW telemetry.vehicle_daily
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT device_id,
               time_bucket(interval '1 day', ts) AS bucket,
               count(*) AS fix_count,
               min(odometer_km) AS odometer_min_km,
               max(odometer_km) AS odometer_max_km,
               max(odometer_km) - min(odometer_km) AS distance_km,
               max(speed_kmh) AS speed_max_kmh,
               min(hours_run) AS hours_run_min,
               max(hours_run) AS hours_run_max,
               max(hours_run) - min(hours_run) AS engine_hours,
               coalesce(bit_or(telemetry.minute_bit(ts))
                   FILTER (WHERE speed_kmh >= 5 AND ignition IS NOT FALSE),
                   B'0'::bit(1440)) AS moving_minutes,
               coalesce(bit_or(telemetry.minute_bit(ts)) FILTER (WHERE ignition),
                   B'0'::bit(1440)) AS ignition_minutes,
               coalesce(bit_count(bit_or(telemetry.minute_bit(ts))
                   FILTER (WHERE speed_kmh >= 5 AND ignition IS NOT FALSE)), 0) * 60 AS driving_s,
               coalesce(bit_count(bit_or(telemetry.minute_bit(ts)) FILTER (WHERE ignition)), 0)
                   * 60 AS ignition_on_s
        FROM telemetry.positions
        GROUP BY device_id, time_bucket(interval '1 day', ts)
        WITH NO DATA;

        -- Refresh recent buckets only; older late data needs a manual
        -- refresh_continuous_aggregate (docs/storage.md). The real-time part of each view
        -- covers what the last refresh has not yet materialised.
        PERFORM add_continuous_aggregate_policy('telemetry.equipment_hourly_cagg',
            start_offset => interval '3 days', end_offset => interval '1 hour',
            schedule_interval => interval '30 minutes');
        PERFORM add_continuous_aggregate_policy('telemetry.vehicle_daily',
            start_offset => interval '3 days', end_offset => interval '1 hour',
            schedule_interval => interval '30 minutes');
    ELSE
        CREATE TABLE telemetry.equipment_hourly (
            device_id        text NOT NULL,
            bucket           timestamptz NOT NULL,
            reading_count    bigint NOT NULL,
            running_count    bigint NOT NULL,
            hours_run_min    double precision,
            hours_run_max    double precision,
            hours_run_delta  double precision
                             GENERATED ALWAYS AS (hours_run_max - hours_run_min) STORED,
            PRIMARY KEY (device_id, bucket)
        ) WITH (fillfactor = 80);  -- room for HOT updates: no indexed column ever changes

        CREATE TABLE telemetry.equipment_hourly_metrics (
            device_id     text NOT NULL,
            bucket        timestamptz NOT NULL,
            metric        text NOT NULL,
            sample_count  bigint NOT NULL,
            value_sum     double precision NOT NULL,
            value_min     double precision NOT NULL,
            value_max     double precision NOT NULL,
            value_avg     double precision GENERATED ALWAYS AS (value_sum / sample_count) STORED,
            PRIMARY KEY (device_id, metric, bucket)
        ) WITH (fillfactor = 80);

        CREATE TABLE telemetry.vehicle_daily (
            device_id         text NOT NULL,
            bucket            timestamptz NOT NULL,
            fix_count         bigint NOT NULL,
            odometer_min_km   double precision,
            odometer_max_km   double precision,
            distance_km       double precision
                              GENERATED ALWAYS AS (odometer_max_km - odometer_min_km) STORED,
            speed_max_kmh     double precision,
            hours_run_min     double precision,
            hours_run_max     double precision,
            engine_hours      double precision
                              GENERATED ALWAYS AS (hours_run_max - hours_run_min) STORED,
            moving_minutes    bit(1440) NOT NULL,
            ignition_minutes  bit(1440) NOT NULL,
            driving_s         bigint GENERATED ALWAYS AS (bit_count(moving_minutes) * 60) STORED,
            ignition_on_s     bigint GENERATED ALWAYS AS (bit_count(ignition_minutes) * 60) STORED,
            PRIMARY KEY (device_id, bucket)
        ) WITH (fillfactor = 80);
        CREATE INDEX vehicle_daily_bucket ON telemetry.vehicle_daily (bucket);
    END IF;
END
$$;

-- Whether the stream app maintains the rollups (plain tables) rather than TimescaleDB.
CREATE FUNCTION telemetry.rollups_maintained_by_stream() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT relkind = 'r' FROM pg_class WHERE oid = 'telemetry.vehicle_daily'::regclass
$$;

-- Applies the storage policy rows as TimescaleDB jobs (without TimescaleDB the stream's
-- storage timer reads the table itself).
CREATE FUNCTION telemetry.apply_storage_policy() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    policy record;
BEGIN
    IF telemetry.rollups_maintained_by_stream() THEN
        RETURN;
    END IF;
    FOR policy IN SELECT * FROM telemetry.storage_policy LOOP
        PERFORM remove_compression_policy('telemetry.' || policy.relation, if_exists => true);
        PERFORM add_compression_policy('telemetry.' || policy.relation,
            compress_after => policy.compress_after);
        PERFORM remove_retention_policy('telemetry.' || policy.relation, if_exists => true);
        IF policy.drop_after IS NOT NULL THEN
            PERFORM add_retention_policy('telemetry.' || policy.relation,
                drop_after => policy.drop_after);
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION telemetry.set_storage_policy(
    rel text, compress_after interval, drop_after interval
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE telemetry.storage_policy p
    SET compress_after = set_storage_policy.compress_after,
        drop_after = set_storage_policy.drop_after,
        updated_at = now()
    WHERE p.relation = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no storage policy for %: readings or positions', rel;
    END IF;
    PERFORM telemetry.apply_storage_policy();
END
$$;

-- Drops the day partitions wholly older than each table's drop_after (native partitions
-- only); returns their names. A partition another session holds is skipped, not waited
-- for: waiting would queue every insert behind the DROP's lock.
CREATE FUNCTION telemetry.drop_expired_partitions(at timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    IF NOT telemetry.rollups_maintained_by_stream() THEN
        RETURN;
    END IF;
    PERFORM set_config('lock_timeout', '2s', true);
    FOR part IN
        SELECT c.relname
        FROM telemetry.storage_policy p
        JOIN pg_inherits i ON i.inhparent = ('telemetry.' || p.relation)::regclass
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE p.drop_after IS NOT NULL
          AND c.relname ~ '_p\d{8}$'
          AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
              <= at - p.drop_after
        ORDER BY c.relname
    LOOP
        BEGIN
            EXECUTE format('DROP TABLE telemetry.%I', part.relname);
            RETURN NEXT part.relname;
        EXCEPTION WHEN lock_not_available THEN
            RAISE NOTICE 'partition % is busy; dropping it next time', part.relname;
        END;
    END LOOP;
END
$$;

-- The stream's periodic storage upkeep: day partitions from yesterday to `ahead_days`
-- ahead (UTC days), then retention. One session at a time; the others return at once.
CREATE FUNCTION telemetry.run_storage_maintenance(
    ahead_days integer DEFAULT 7, at timestamptz DEFAULT now()
) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    today date := (at AT TIME ZONE 'UTC')::date;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('telemetry.run_storage_maintenance')) THEN
        RETURN;
    END IF;
    PERFORM telemetry.ensure_partitions(today - 1, today + ahead_days);
    RETURN QUERY SELECT telemetry.drop_expired_partitions(at);
END
$$;

-- Recomputes the rollups of whole UTC days from raw data (native path only): a backfill
-- after this migration, or a repair. The EXCLUSIVE locks make batches that are mid-write
-- wait, and their raw rows are not yet visible here, so nothing is counted twice.
CREATE FUNCTION telemetry.rebuild_rollups(first_day date, last_day date) RETURNS void
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

DO $$
DECLARE
    first_day date;
    last_day date;
BEGIN
    PERFORM telemetry.apply_storage_policy();
    IF telemetry.rollups_maintained_by_stream() THEN
        SELECT least(r.lo, p.lo), greatest(r.hi, p.hi) INTO first_day, last_day
        FROM (SELECT min(ts)::date AS lo, max(ts)::date AS hi FROM telemetry.readings) r,
             (SELECT min(ts)::date AS lo, max(ts)::date AS hi FROM telemetry.positions) p;
        IF first_day IS NOT NULL THEN
            PERFORM telemetry.rebuild_rollups(first_day - 1, last_day + 1);
        END IF;
    END IF;
END
$$;
