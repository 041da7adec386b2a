-- Field control by GPS: the stream's tracker checkpoints, the visits to sites and the trips
-- it detects, the events it has yet to publish, and the phone that places an engineer.

-- An engineer's own phone (a registered device of kind phone): its fixes are the engineer's,
-- as the fixes of the vehicle named by vehicle_id are.
ALTER TABLE tickets.engineers
    ADD COLUMN phone_device_id text UNIQUE;

-- The visit and trip trackers of one device, as of its last batch. `revision` counts the
-- writes: a worker writes only over the revision it read, so two workers that both believe
-- they own a device (during a Kafka rebalance) cannot overwrite each other's state.
CREATE TABLE telemetry.field_state (
    device_id    text PRIMARY KEY,
    visits       jsonb NOT NULL,
    trips        jsonb,                  -- NULL: the device's fixes are not segmented in trips
    last_fix_at  timestamptz,            -- the newest fix the trackers saw
    open         boolean NOT NULL,       -- a visit or a trip is in progress: expire may end it
    revision     bigint NOT NULL CHECK (revision > 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);  -- rewritten every batch: room for HOT updates
CREATE INDEX field_state_open_idx ON telemetry.field_state (device_id) WHERE open;

-- One row per visit, from its SiteEntered (event_id) to its SiteLeft (left_event_id).
-- No foreign keys, as for telemetry: a deleted site or device must not fail a batch.
CREATE TABLE telemetry.visits (
    event_id       text PRIMARY KEY,
    device_id      text NOT NULL,
    vehicle_id     text,
    engineer_id    text,                 -- the phone's owner, or the vehicle's only engineer
    site_id        text NOT NULL,
    arrived_at     timestamptz NOT NULL,
    left_at        timestamptz,          -- NULL while the device is still there
    duration_s     double precision,
    leave_reason   text CHECK (leave_reason IN ('exited', 'gap')),
    left_event_id  text UNIQUE,
    evidence       jsonb NOT NULL
);
CREATE INDEX visits_site_idx ON telemetry.visits (site_id, arrived_at);
CREATE INDEX visits_vehicle_idx ON telemetry.visits (vehicle_id, arrived_at)
    WHERE vehicle_id IS NOT NULL;
CREATE INDEX visits_engineer_idx ON telemetry.visits (engineer_id, arrived_at)
    WHERE engineer_id IS NOT NULL;

CREATE TABLE telemetry.trips (
    event_id          text PRIMARY KEY,
    device_id         text NOT NULL,
    vehicle_id        text,
    engineer_id       text,
    started_at        timestamptz NOT NULL,
    ended_at          timestamptz NOT NULL,
    distance_m        double precision NOT NULL CHECK (distance_m >= 0),
    distance_source   text NOT NULL CHECK (distance_source IN ('odometer', 'gps')),
    duration_s        double precision NOT NULL,
    max_speed_kmh     double precision NOT NULL,
    avg_speed_kmh     double precision NOT NULL,
    start_site_id     text,
    end_site_id       text,
    -- Work: the trip ended at the site of a ticket its engineer had accepted and not finished.
    work              boolean NOT NULL,
    ticket_id         bigint,
    evidence          jsonb NOT NULL
);
CREATE INDEX trips_vehicle_idx ON telemetry.trips (vehicle_id, started_at);

-- Events stored with the batch that caused them and deleted once on toir.events: a worker
-- that dies in between leaves them here, and the sweep publishes them (at least once).
CREATE TABLE telemetry.field_outbox (
    event_id    text PRIMARY KEY,
    key         text NOT NULL,
    value       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
