-- The reporting layer: read-only views in schema `reporting` that the Grafana dashboards
-- query, and the role `toir_grafana` that may read them and nothing else. The views are the
-- contract between storage and dashboards: a storage change keeps their names and columns
-- (CREATE OR REPLACE VIEW in a later migration) so no dashboard has to change with it.
--
-- Engineers' activity and kilometres come from the visits and trips of 0008. Health scores
-- and maintenance plans are not stored yet: their views derive them from tickets until a
-- later migration re-points them at `predictive`, with the same columns.

CREATE SCHEMA IF NOT EXISTS reporting;

-- Facts that live in Kafka, not in the database: the stream is asked to fill these (dead
-- letters counted per minute as it produces them; consumer lag sampled per partition), so
-- the Platform dashboard can show them. Until it does, those panels stay empty.
CREATE TABLE telemetry.dead_letter_counts (
    bucket        timestamptz NOT NULL,  -- the minute the dead letters were produced in
    source_topic  text NOT NULL,
    reason        text NOT NULL,         -- kernel.dlq.RejectReason
    messages      bigint NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (bucket, source_topic, reason)
);

CREATE TABLE telemetry.consumer_lag (
    observed_at  timestamptz NOT NULL,
    group_id     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL CHECK (partition >= 0),
    lag          bigint NOT NULL CHECK (lag >= 0),  -- high watermark minus committed offset
    PRIMARY KEY (group_id, topic, partition, observed_at)
);
CREATE INDEX consumer_lag_observed_idx ON telemetry.consumer_lag (observed_at);

-- Dimensions: what the template variables list and the facts join to. No phone numbers or
-- home addresses: Grafana users need none of them.

CREATE VIEW reporting.sites AS
SELECT id AS site_id, name, customer, area, lat AS latitude, lon AS longitude, radius_m
FROM assets.sites;

CREATE VIEW reporting.areas AS
SELECT area FROM assets.sites WHERE area IS NOT NULL
UNION
SELECT unnest(areas) FROM tickets.engineers;

CREATE VIEW reporting.equipment AS
SELECT e.id AS equipment_id, e.kind, e.model, e.criticality, e.installed_on, e.engineer_id,
       e.site_id, s.name AS site_name, s.area, s.customer
FROM assets.equipment e
LEFT JOIN assets.sites s ON s.id = e.site_id;

-- An engineer's vehicle is named on either side (tickets.engineers.vehicle_id or
-- assets.vehicles.engineer_id); the engineer's own link wins.
CREATE VIEW reporting.engineers AS
SELECT e.id AS engineer_id, e.name, e.status, e.areas, e.max_concurrent, e.timezone,
       coalesce(e.vehicle_id, (SELECT v.id FROM assets.vehicles v WHERE v.engineer_id = e.id
                               ORDER BY v.id LIMIT 1)) AS vehicle_id
FROM tickets.engineers e;

CREATE VIEW reporting.vehicles AS
SELECT v.id AS vehicle_id, v.plate, v.home_site_id, s.area,
       coalesce((SELECT e.engineer_id FROM reporting.engineers e WHERE e.vehicle_id = v.id
                 ORDER BY e.engineer_id LIMIT 1), v.engineer_id) AS engineer_id
FROM assets.vehicles v
LEFT JOIN assets.sites s ON s.id = v.home_site_id;

CREATE VIEW reporting.engineer_shifts AS
SELECT s.engineer_id, s.weekday, s.starts, s.ends, e.timezone
FROM tickets.shifts s
JOIN tickets.engineers e ON e.id = s.engineer_id;

-- Devices and whether they report. "Silent" is the stream's rule (stream/state/silence):
-- nothing new stored for longer than the device's expected interval, else its kind's.
CREATE VIEW reporting.device_status AS
SELECT d.id AS device_id, d.kind, d.enabled, d.equipment_id, d.vehicle_id,
       coalesce(e.site_id, v.home_site_id) AS site_id, st.last_seen_at, st.last_received_at,
       coalesce(d.expected_interval_s, k.expected_interval_s) AS expected_interval_s,
       extract(epoch FROM now() - st.last_received_at)::float8 AS silent_for_s,
       CASE
           WHEN NOT d.enabled THEN 'disabled'
           WHEN st.last_received_at IS NULL THEN 'never_reported'
           WHEN st.last_received_at + make_interval(
                    secs => coalesce(d.expected_interval_s, k.expected_interval_s)) < now()
               THEN 'silent'
           ELSE 'reporting'
       END AS status
FROM assets.devices d
JOIN assets.device_kinds k ON k.kind = d.kind
LEFT JOIN telemetry.device_state st ON st.device_id = d.id
LEFT JOIN assets.equipment e ON e.id = d.equipment_id
LEFT JOIN assets.vehicles v ON v.id = d.vehicle_id;

-- Fleet.

-- The newest fix of each vehicle over all its devices. `status`: offline when the device is
-- silent, moving at 5 km/h or more (the rollups' threshold), else parked.
CREATE VIEW reporting.vehicle_positions_latest AS
SELECT DISTINCT ON (v.vehicle_id)
       v.vehicle_id, v.plate, v.area, v.engineer_id, en.name AS engineer_name, st.device_id,
       st.lat AS latitude, st.lon AS longitude, st.speed_kmh, st.heading, st.ignition,
       st.last_position_at,
       CASE
           WHEN ds.status IN ('silent', 'disabled') THEN 'offline'
           WHEN st.speed_kmh >= 5 THEN 'moving'
           ELSE 'parked'
       END AS status
FROM reporting.vehicles v
JOIN assets.devices d ON d.vehicle_id = v.vehicle_id
JOIN telemetry.device_state st ON st.device_id = d.id AND st.last_position_at IS NOT NULL
JOIN reporting.device_status ds ON ds.device_id = d.id
LEFT JOIN tickets.engineers en ON en.id = v.engineer_id
ORDER BY v.vehicle_id, st.last_position_at DESC;

-- Where each engineer is: the newest of the position on their record, their phone's fix
-- (0008: tickets.engineers.phone_device_id) and their vehicle's fix.
CREATE VIEW reporting.engineer_positions_latest AS
SELECT DISTINCT ON (e.id)
       e.id AS engineer_id, e.name, e.status, e.areas, p.latitude, p.longitude,
       p.position_at, p.position_source
FROM tickets.engineers e
JOIN reporting.engineers re ON re.engineer_id = e.id
CROSS JOIN LATERAL (
    SELECT e.position_lat AS latitude, e.position_lon AS longitude, e.position_at,
           'engineer' AS position_source
    WHERE e.position_lat IS NOT NULL AND e.position_lon IS NOT NULL
    UNION ALL
    SELECT st.lat, st.lon, st.last_position_at, 'phone'
    FROM telemetry.device_state st
    WHERE st.device_id = e.phone_device_id AND st.last_position_at IS NOT NULL
    UNION ALL
    SELECT vp.latitude, vp.longitude, vp.last_position_at, 'vehicle'
    FROM reporting.vehicle_positions_latest vp
    WHERE vp.vehicle_id = re.vehicle_id
) p
ORDER BY e.id, p.position_at DESC NULLS LAST;

CREATE VIEW reporting.vehicle_track AS
SELECT d.vehicle_id, p.device_id, p.ts, p.lat AS latitude, p.lon AS longitude, p.speed_kmh,
       p.ignition, p.odometer_km
FROM telemetry.positions p
JOIN assets.devices d ON d.id = p.device_id
WHERE d.vehicle_id IS NOT NULL;

-- Tickets.

-- One row per ticket with its SLA state, site (its own, else its equipment's) and the
-- durations the SLA panels measure. done_at: when it first reached completed, closed or
-- cancelled. first_time_fix (NULL unless completed after a visit, i.e. not flagged
-- closed_without_visit): fixed on the one visit, i.e. never put on hold from on site, and
-- no breakdown or anomaly ticket on the same equipment within 7 days of completion.
CREATE VIEW reporting.tickets AS
SELECT t.id AS ticket_id, t.kind, t.status, t.priority,
       array_position(ARRAY['low', 'normal', 'high', 'critical'], t.priority) AS priority_rank,
       t.title, t.equipment_id, coalesce(t.site_id, e.site_id) AS site_id,
       s.name AS site_name, s.area, coalesce(t.customer, s.customer) AS customer,
       t.assignee_id AS engineer_id, en.name AS engineer_name, t.work_type, t.sla_state,
       t.status NOT IN ('completed', 'closed', 'cancelled') AS is_open,
       t.created_at, t.accepted_at, t.arrived_at, t.completed_at,
       coalesce(t.completed_at, done.at) AS done_at,
       t.accept_by, t.arrive_by, t.resolve_by,
       extract(epoch FROM t.accepted_at - t.created_at)::float8 AS time_to_accept_s,
       extract(epoch FROM t.arrived_at - t.created_at)::float8 AS time_to_arrive_s,
       extract(epoch FROM t.completed_at - t.created_at)::float8 AS time_to_resolve_s,
       'closed_without_visit' = ANY (t.flags) AS closed_without_visit,
       CASE WHEN t.status IN ('completed', 'closed') AND t.arrived_at IS NOT NULL
                 AND NOT 'closed_without_visit' = ANY (t.flags) THEN
           NOT EXISTS (
               SELECT 1 FROM tickets.history h
               WHERE h.ticket_id = t.id AND h.action = 'hold' AND h.from_status = 'on_site')
           AND NOT EXISTS (
               SELECT 1 FROM tickets.tickets r
               WHERE r.equipment_id = t.equipment_id AND r.id <> t.id
                 AND r.kind IN ('breakdown', 'anomaly')
                 AND r.created_at > t.completed_at
                 AND r.created_at <= t.completed_at + interval '7 days')
       END AS first_time_fix,
       c.rating, t.flags
FROM tickets.tickets_view t
LEFT JOIN assets.equipment e ON e.id = t.equipment_id
LEFT JOIN assets.sites s ON s.id = coalesce(t.site_id, e.site_id)
LEFT JOIN tickets.engineers en ON en.id = t.assignee_id
LEFT JOIN tickets.completions c ON c.ticket_id = t.id
LEFT JOIN LATERAL (
    SELECT min(h.at) AS at FROM tickets.history h
    WHERE h.ticket_id = t.id AND h.to_status IN ('completed', 'closed', 'cancelled')
) done ON true;

CREATE VIEW reporting.site_open_tickets AS
SELECT s.site_id, s.name, s.area, s.customer, s.latitude, s.longitude,
       count(*) AS open_tickets,
       max(t.priority_rank) AS top_priority_rank,
       (array_agg(t.priority ORDER BY t.priority_rank DESC))[1] AS top_priority,
       count(*) FILTER (WHERE t.sla_state = 'at_risk') AS at_risk,
       count(*) FILTER (WHERE t.sla_state = 'breached') AS breached
FROM reporting.tickets t
JOIN reporting.sites s ON s.site_id = t.site_id
WHERE t.is_open AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL
GROUP BY s.site_id, s.name, s.area, s.customer, s.latitude, s.longitude;

-- Engineers.

-- Site visits and trips as the stream detected them from GPS (0008). A visit is work when
-- the engineer had a ticket at that site open at the time; a trip is work when it ended at
-- such a site (the stream decides, `telemetry.trips.work`).
CREATE VIEW reporting.visits AS
SELECT v.event_id AS visit_id, v.engineer_id, v.vehicle_id, v.device_id, v.site_id,
       v.arrived_at, coalesce(v.left_at, greatest(now(), v.arrived_at)) AS left_at,
       v.left_at IS NULL AS ongoing,
       EXISTS (
           SELECT 1 FROM reporting.tickets t
           WHERE t.engineer_id = v.engineer_id AND t.site_id = v.site_id
             AND t.created_at < coalesce(v.left_at, now())
             AND (t.done_at IS NULL OR t.done_at > v.arrived_at)
       ) AS work
FROM telemetry.visits v;

CREATE VIEW reporting.trips AS
SELECT event_id AS trip_id, engineer_id, vehicle_id, device_id, started_at, ended_at,
       distance_m / 1000 AS km, distance_source, work, ticket_id, start_site_id, end_site_id
FROM telemetry.trips;

-- What each engineer did when: on site (work visits) or travelling (every trip). The
-- utilisation panel takes idle time as the rest of their shifts.
CREATE VIEW reporting.engineer_activity AS
SELECT engineer_id, 'on_site'::text AS activity, arrived_at AS started_at, left_at AS ended_at
FROM reporting.visits
WHERE engineer_id IS NOT NULL AND work
UNION ALL
SELECT engineer_id, 'travel'::text, started_at, ended_at
FROM reporting.trips
WHERE engineer_id IS NOT NULL;

CREATE VIEW reporting.ratings AS
SELECT c.ticket_id, c.rating, c.completed_at, t.assignee_id AS engineer_id,
       en.name AS engineer_name, t.site_id, s.area
FROM tickets.completions c
JOIN tickets.tickets t ON t.id = c.ticket_id
LEFT JOIN tickets.engineers en ON en.id = t.assignee_id
LEFT JOIN assets.sites s ON s.id = t.site_id
WHERE c.rating IS NOT NULL;

-- Equipment health.

-- Anomaly events as the tickets recorded them (each AnomalyDetected adds its evidence to the
-- ticket of its unit and kind): the score timeline and the annotations. Interim until
-- predictive stores scores.
CREATE VIEW reporting.anomaly_events AS
SELECT t.id AS ticket_id, t.equipment_id, e.site_id, s.area,
       CASE WHEN ev ->> 'occurred_at' ~ '^\d{4}-\d\d-\d\d'
            THEN (ev ->> 'occurred_at')::timestamptz END AS ts,
       coalesce(ev ->> 'kind', 'anomaly') AS anomaly_kind,
       coalesce(ev ->> 'severity', 'medium') AS severity,
       ev ->> 'transition' AS transition,
       CASE WHEN jsonb_typeof(ev -> 'score') = 'number' THEN (ev ->> 'score')::float8 END AS score
FROM tickets.tickets t
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(t.evidence) = 'array' THEN t.evidence ELSE '[]'::jsonb END) ev
LEFT JOIN assets.equipment e ON e.id = t.equipment_id
LEFT JOIN assets.sites s ON s.id = e.site_id
WHERE t.kind = 'anomaly' AND ev ->> 'type' = 'AnomalyDetected';

-- Open maintenance, due by calendar (due_at: the event's, else the ticket's resolve_by) or
-- by meter (due_meter names it). Interim until maintenance plans are stored: then the next
-- due date of every plan, not only the ones that already fell due.
CREATE VIEW reporting.maintenance_due AS
SELECT t.id AS ticket_id, t.equipment_id, e.kind AS equipment_kind, e.site_id,
       s.name AS site_name, s.area, t.work_type, t.status, t.priority,
       t.assignee_id AS engineer_id,
       coalesce(CASE WHEN last.ev ->> 'due_at' ~ '^\d{4}-\d\d-\d\d'
                     THEN (last.ev ->> 'due_at')::timestamptz END, t.resolve_by) AS due_at,
       last.ev ->> 'meter' AS due_meter, last.ev ->> 'plan_id' AS plan_id, t.created_at
FROM tickets.tickets t
LEFT JOIN LATERAL (
    SELECT ev FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(t.evidence) = 'array' THEN t.evidence ELSE '[]'::jsonb END)
        WITH ORDINALITY AS x(ev, n)
    ORDER BY n DESC LIMIT 1
) last ON true
LEFT JOIN assets.equipment e ON e.id = t.equipment_id
LEFT JOIN assets.sites s ON s.id = e.site_id
WHERE t.kind = 'maintenance_due' AND t.status NOT IN ('completed', 'closed', 'cancelled');

CREATE VIEW reporting.equipment_hourly AS
SELECT d.equipment_id, h.device_id, h.bucket, h.reading_count, h.running_count,
       h.hours_run_max AS hours_run, h.hours_run_delta
FROM telemetry.equipment_hourly h
JOIN assets.devices d ON d.id = h.device_id AND d.equipment_id IS NOT NULL;

CREATE VIEW reporting.equipment_metrics_hourly AS
SELECT d.equipment_id, m.device_id, m.bucket, m.metric, m.sample_count, m.value_avg,
       m.value_min, m.value_max
FROM telemetry.equipment_hourly_metrics m
JOIN assets.devices d ON d.id = m.device_id AND d.equipment_id IS NOT NULL;

-- Health 0-100 (100 = healthy), worst first on the dashboard. Interim, in step with
-- predictive.health until predictive stores its scores: open anomalies cost 5/10/20 points
-- by severity, cleared ones half that fading with a 7-day half-life, at most 50 in all;
-- overdue maintenance costs up to 30 points, in full at 30 days overdue. Age is left out:
-- the registry has no service lives yet.
CREATE VIEW reporting.equipment_health AS
WITH anomalies AS (
    SELECT t.equipment_id, count(*) FILTER (WHERE t.is_open) AS open_anomalies,
           least(50, sum(
               CASE coalesce(sev.severity, 'medium')
                   WHEN 'low' THEN 5 WHEN 'high' THEN 20 ELSE 10 END
               * CASE WHEN t.is_open THEN 1
                      ELSE 0.5 * 0.5 ^ (greatest(0, extract(epoch FROM now() - t.done_at))
                                        / 86400 / 7) END)) AS penalty
    FROM reporting.tickets t
    LEFT JOIN LATERAL (
        SELECT a.severity FROM reporting.anomaly_events a
        WHERE a.ticket_id = t.ticket_id ORDER BY a.ts DESC NULLS LAST LIMIT 1
    ) sev ON true
    WHERE t.kind = 'anomaly' AND t.equipment_id IS NOT NULL AND t.status <> 'cancelled'
      AND (t.is_open OR t.done_at > now() - interval '90 days')
    GROUP BY t.equipment_id
), overdue AS (
    SELECT equipment_id, count(*) AS overdue_maintenance,
           30 * least(1, max(extract(epoch FROM now() - due_at)) / (30 * 86400)) AS penalty
    FROM reporting.maintenance_due
    WHERE due_at < now() AND equipment_id IS NOT NULL
    GROUP BY equipment_id
)
SELECT e.equipment_id, e.kind, e.model, e.criticality, e.site_id, e.site_name, e.area,
       round((100 - coalesce(a.penalty, 0) - coalesce(o.penalty, 0))::numeric, 1)::float8
           AS health_score,
       coalesce(a.open_anomalies, 0) AS open_anomalies,
       coalesce(o.overdue_maintenance, 0) AS overdue_maintenance,
       m.value AS hours_run, st.last_reading_at, st.running
FROM reporting.equipment e
LEFT JOIN anomalies a ON a.equipment_id = e.equipment_id
LEFT JOIN overdue o ON o.equipment_id = e.equipment_id
LEFT JOIN telemetry.meters m
       ON m.subject_kind = 'equipment' AND m.subject_id = e.equipment_id AND m.meter = 'hours_run'
LEFT JOIN LATERAL (
    SELECT s.last_reading_at, s.running FROM telemetry.device_state s
    JOIN assets.devices d ON d.id = s.device_id
    WHERE d.equipment_id = e.equipment_id
    ORDER BY s.last_reading_at DESC NULLS LAST LIMIT 1
) st ON true;

-- Platform.

-- Every stored message with when it was stored. Filter on ts as well as stored_at: ts is the
-- partitioning key, so only that bound keeps the scan to the partitions in range.
CREATE VIEW reporting.ingested_messages AS
SELECT 'readings'::text AS stream, device_id, ts, stored_at FROM telemetry.readings
UNION ALL
SELECT 'positions'::text, device_id, ts, stored_at FROM telemetry.positions;

CREATE VIEW reporting.dead_letters AS
SELECT bucket, source_topic, reason, messages FROM telemetry.dead_letter_counts;

CREATE VIEW reporting.consumer_lag AS
SELECT observed_at, group_id, topic, partition, lag FROM telemetry.consumer_lag;

CREATE VIEW reporting.database_size AS
SELECT current_database() AS database, pg_database_size(current_database()) AS bytes;

-- Table sizes with partitions counted in their parent. With TimescaleDB, hypertable chunks
-- show under _timescaledb_internal.
CREATE VIEW reporting.table_sizes AS
SELECT n.nspname AS schema_name, r.relname AS table_name,
       sum(pg_total_relation_size(c.oid))::bigint AS bytes
FROM pg_class c
JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid)
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname IN ('assets', 'telemetry', 'tickets', 'predictive', 'toir_meta',
                    '_timescaledb_internal')
GROUP BY n.nspname, r.relname;

-- The Grafana role: NOLOGIN here; the operator gives it LOGIN and a password
-- (docs: README, "Dashboards"). Roles are per cluster, so another database of the same
-- cluster may have made it already (duplicate_object), or may be making it right now: a
-- creator that waited for the other's commit fails on the role name's unique index instead.
DO $$
BEGIN
    CREATE ROLE toir_grafana NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

REVOKE ALL ON SCHEMA reporting FROM PUBLIC;
GRANT USAGE ON SCHEMA reporting TO toir_grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO toir_grafana;
-- Views that later migrations add to the schema are readable without another GRANT.
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO toir_grafana;
