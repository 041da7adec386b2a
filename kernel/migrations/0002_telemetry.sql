-- Raw telemetry. The CHECKs repeat the edge validation on purpose: a record put on
-- Kafka by anything but our ingest still cannot store nonsense. With TimescaleDB (preloaded and installable) the tables are
-- hypertables; without it they are natively range-partitioned by day, with the
-- same names, columns and keys, so every query works on both.
CREATE SCHEMA IF NOT EXISTS telemetry;

CREATE FUNCTION telemetry.timescale_usable() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'
$$;

DO $$
DECLARE
    use_timescale boolean := telemetry.timescale_usable();
    partitioning  text := CASE WHEN use_timescale THEN '' ELSE 'PARTITION BY RANGE (ts)' END;
BEGIN
    IF use_timescale THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;

    EXECUTE format($ddl$
        CREATE TABLE telemetry.readings (
            device_id  text NOT NULL,
            ts         timestamptz NOT NULL,
            hours_run  double precision CHECK (hours_run >= 0),
            running    boolean,
            metrics    jsonb NOT NULL DEFAULT '{}',
            stored_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (device_id, ts)
        ) %s $ddl$, partitioning);

    EXECUTE format($ddl$
        CREATE TABLE telemetry.positions (
            device_id    text NOT NULL,
            ts           timestamptz NOT NULL,
            lat          double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
            lon          double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
            speed_kmh    double precision,
            heading      double precision,
            ignition     boolean,
            odometer_km  double precision,
            accuracy_m   double precision,
            altitude_m   double precision,
            battery_pct  double precision,
            hours_run    double precision,
            stored_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (device_id, ts)
        ) %s $ddl$, partitioning);

    IF use_timescale THEN
        PERFORM create_hypertable('telemetry.readings', 'ts', chunk_time_interval => interval '1 day');
        PERFORM create_hypertable('telemetry.positions', 'ts', chunk_time_interval => interval '1 day');
    END IF;
END
$$;

-- Creates the day partition of a natively partitioned table (a no-op under
-- TimescaleDB, which makes chunks itself). Safe under concurrent callers: the
-- advisory lock serialises creators, IF NOT EXISTS lets the second one pass.
CREATE FUNCTION telemetry.ensure_day_partition(parent text, day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    child text := format('%s_p%s', parent, to_char(day, 'YYYYMMDD'));
BEGIN
    IF telemetry.timescale_usable() OR to_regclass('telemetry.' || child) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('telemetry.' || child));
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS telemetry.%I PARTITION OF telemetry.%I FOR VALUES FROM (%L) TO (%L)',
        child, parent,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC'));
END
$$;

CREATE FUNCTION telemetry.ensure_partitions(first_day date, last_day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    day date := first_day;
BEGIN
    WHILE day <= last_day LOOP
        PERFORM telemetry.ensure_day_partition('readings', day);
        PERFORM telemetry.ensure_day_partition('positions', day);
        day := day + 1;
    END LOOP;
END
$$;

SELECT telemetry.ensure_partitions(current_date - 1, current_date + 7);
