-- The asset registry grows what operations need (geofence polygons, responsible
-- engineers, meter kinds, expected reporting intervals), learns the devices it does not
-- know yet and the MQTT accounts the broker enforces; telemetry gets the latest state
-- per device and the meters per asset that the stream keeps in step with every batch.

ALTER TABLE assets.sites
    -- A polygon geofence as [[lat, lon], ...]; without one the site is the circle of
    -- radius_m around (lat, lon), which is also the polygon's centre when there is one.
    ADD COLUMN polygon jsonb CHECK (
        polygon IS NULL OR (jsonb_typeof(polygon) = 'array' AND jsonb_array_length(polygon) >= 3)
    ),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE assets.equipment
    ADD COLUMN meter_kinds text[] NOT NULL DEFAULT '{}'
        CHECK (meter_kinds <@ ARRAY['hours_run', 'odometer_km']::text[]),
    ADD COLUMN engineer_id text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE assets.vehicles
    ADD COLUMN engineer_id text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE assets.devices
    -- Overrides the kind's interval: silent for longer than this, a device is offline.
    ADD COLUMN expected_interval_s double precision CHECK (expected_interval_s > 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE INDEX devices_equipment_idx ON assets.devices (equipment_id) WHERE equipment_id IS NOT NULL;
CREATE INDEX devices_vehicle_idx ON assets.devices (vehicle_id) WHERE vehicle_id IS NOT NULL;
CREATE INDEX equipment_site_idx ON assets.equipment (site_id);

CREATE TABLE assets.device_kinds (
    kind                 text PRIMARY KEY CHECK (kind IN ('controller', 'tracker', 'phone')),
    expected_interval_s  double precision NOT NULL CHECK (expected_interval_s > 0)
);
-- Phones (OwnTracks, Traccar Client) report only when they move: they get the longest wait.
INSERT INTO assets.device_kinds (kind, expected_interval_s)
VALUES ('controller', 600), ('tracker', 600), ('phone', 3600);

-- Ids that published without being registered, so an admin can adopt them.
CREATE TABLE assets.unknown_devices (
    id             text PRIMARY KEY,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    message_count  bigint NOT NULL CHECK (message_count > 0),
    last_topic     text
);

-- MQTT accounts of devices, engineers' phones and platform services. The hash is in
-- Mosquitto's password-file form ($7$iterations$salt$hash, PBKDF2-SHA512).
CREATE TABLE assets.mqtt_accounts (
    username       text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    role           text NOT NULL CHECK (role IN ('device', 'engineer', 'service')),
    subject_id     text NOT NULL,
    device_id      text REFERENCES assets.devices (id) ON DELETE CASCADE,
    password_hash  text NOT NULL CHECK (password_hash LIKE '$7$%'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (role, subject_id),
    CHECK ((role = 'device') = (device_id IS NOT NULL))
);

-- The newest of everything a device reported, one row per device: what the API and the
-- dashboards read. No foreign key on purpose: the stream must never fail a batch of raw
-- telemetry because a device was deleted while its messages were in flight.
CREATE TABLE telemetry.device_state (
    device_id             text PRIMARY KEY,
    last_seen_at          timestamptz NOT NULL,   -- newest device timestamp stored
    last_received_at      timestamptz NOT NULL,   -- when the platform last stored anything new
    last_reading_at       timestamptz,
    running               boolean,
    running_at            timestamptz,
    metrics               jsonb NOT NULL DEFAULT '{}',  -- {name: {"value": v, "ts_us": t}}
    last_position_at      timestamptz,
    lat                   double precision,
    lon                   double precision,
    speed_kmh             double precision,
    heading               double precision,
    accuracy_m            double precision,
    altitude_m            double precision,
    ignition              boolean,
    battery_pct           double precision,
    -- last_received_at of the silence a DeviceSilent event was emitted for.
    silence_reported_for  timestamptz
);

-- Keeps, per metric, the value with the newer device timestamp.
CREATE FUNCTION telemetry.newer_metrics(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(old, '{}'::jsonb) || coalesce((
        SELECT jsonb_object_agg(n.key, n.value)
        FROM jsonb_each(coalesce(new, '{}'::jsonb)) AS n
        WHERE old IS NULL OR NOT old ? n.key
           OR (n.value ->> 'ts_us')::bigint > (old -> n.key ->> 'ts_us')::bigint
    ), '{}'::jsonb)
$$;

-- Hours-run and odometer per subject: an equipment unit, a vehicle, or a device not linked
-- to either. Besides the value, the row keeps what the next sample is measured against.
CREATE TABLE telemetry.meters (
    subject_kind     text NOT NULL CHECK (subject_kind IN ('equipment', 'vehicle', 'device')),
    subject_id       text NOT NULL,
    meter            text NOT NULL CHECK (meter IN ('hours_run', 'odometer_km')),
    value            double precision NOT NULL,
    source           text NOT NULL,  -- new, counter, state, gps or baseline: what moved it last
    device_id        text,           -- the device whose samples it follows
    last_at          timestamptz,    -- newest sample applied; older ones are not
    counter_raw      double precision,
    counter_at       timestamptz,
    state_on         boolean,
    state_at         timestamptz,
    anchor_lat       double precision,
    anchor_lon       double precision,
    anchor_at        timestamptz,
    jumps_in_row     integer NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_kind, subject_id, meter)
);

CREATE TABLE telemetry.meter_baselines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_kind    text NOT NULL CHECK (subject_kind IN ('equipment', 'vehicle', 'device')),
    subject_id      text NOT NULL,
    meter           text NOT NULL CHECK (meter IN ('hours_run', 'odometer_km')),
    value           double precision NOT NULL CHECK (value >= 0),
    previous_value  double precision,
    reason          text NOT NULL,
    set_by          text NOT NULL,
    set_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meter_baselines_subject_idx
    ON telemetry.meter_baselines (subject_kind, subject_id, set_at DESC);
