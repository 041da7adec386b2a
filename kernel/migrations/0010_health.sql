-- Equipment health: maintenance plans (ППР / PM) and what they have produced, meter samples
-- for usage forecasts, anomalies found by the stream and the detectors' checkpoints.
CREATE SCHEMA IF NOT EXISTS predictive;

-- A plan covers every unit of an equipment model, one unit, or one vehicle. Its intervals
-- combine as "whichever comes first"; at least one is required.
CREATE TABLE predictive.plans (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL,
    target_kind        text NOT NULL CHECK (target_kind IN ('equipment_model', 'equipment', 'vehicle')),
    target_id          text NOT NULL,
    work_type          text NOT NULL DEFAULT 'maintenance',
    skills             jsonb NOT NULL DEFAULT '{}',
    duration_h         double precision NOT NULL CHECK (duration_h > 0),
    checklist          jsonb NOT NULL DEFAULT '[]',
    every_days         integer CHECK (every_days > 0),
    every_months       integer CHECK (every_months > 0),
    every_hours_run    double precision CHECK (every_hours_run > 0),
    every_odometer_km  double precision CHECK (every_odometer_km > 0),
    lead_days          double precision NOT NULL DEFAULT 0 CHECK (lead_days >= 0),
    lead_hours_run     double precision NOT NULL DEFAULT 0 CHECK (lead_hours_run >= 0),
    lead_odometer_km   double precision NOT NULL DEFAULT 0 CHECK (lead_odometer_km >= 0),
    -- Calendar intervals of a unit never serviced under this plan count from here.
    starts_at          timestamptz NOT NULL DEFAULT now(),
    enabled            boolean NOT NULL DEFAULT true,
    created_by         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(every_days, every_months, every_hours_run, every_odometer_km) >= 1)
);
CREATE INDEX plans_target_idx ON predictive.plans (target_kind, target_id);

-- What the next due point of a plan on a unit counts from: the plan's start (meters as the
-- plan first saw them), then each completion (from a maintenance ticket or recorded by hand)
-- with the meters at the moment the work was done.
CREATE TABLE predictive.plan_anchors (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id       bigint NOT NULL REFERENCES predictive.plans (id) ON DELETE CASCADE,
    subject_kind  text NOT NULL CHECK (subject_kind IN ('equipment', 'vehicle')),
    subject_id    text NOT NULL,
    done_at       timestamptz NOT NULL,
    hours_run     double precision,
    odometer_km   double precision,
    source        text NOT NULL CHECK (source IN ('start', 'ticket', 'manual')),
    ticket_id     bigint UNIQUE,
    recorded_by   text,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_anchors_unit_idx
    ON predictive.plan_anchors (plan_id, subject_kind, subject_id, done_at DESC, id DESC);
CREATE UNIQUE INDEX plan_anchors_one_start
    ON predictive.plan_anchors (plan_id, subject_kind, subject_id) WHERE source = 'start';

-- One MaintenanceDue per due point: the event is recorded here once sent.
CREATE TABLE predictive.plan_occurrences (
    plan_id       bigint NOT NULL REFERENCES predictive.plans (id) ON DELETE CASCADE,
    subject_kind  text NOT NULL,
    subject_id    text NOT NULL,
    due_key       text NOT NULL,
    event_id      text NOT NULL UNIQUE,
    basis         text NOT NULL,
    due_at        timestamptz,
    emitted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, subject_kind, subject_id, due_key)
);
CREATE INDEX plan_occurrences_emitted_idx ON predictive.plan_occurrences (emitted_at);

-- Meter values sampled by the plans check, the first of each hour: the usage rate behind
-- due-date forecasts, and the meter at a completion reported late.
CREATE TABLE predictive.meter_samples (
    subject_kind  text NOT NULL,
    subject_id    text NOT NULL,
    meter         text NOT NULL CHECK (meter IN ('hours_run', 'odometer_km')),
    hour          timestamptz NOT NULL,
    value         double precision NOT NULL,
    taken_at      timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, meter, hour)
);

-- Anomalies the stream opened and cleared, per unit and kind (spike, drift, stuck,
-- multivariate); the opening time identifies an episode.
CREATE TABLE predictive.anomalies (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    equipment_id   text NOT NULL,
    kind           text NOT NULL,
    opened_at      timestamptz NOT NULL,
    cleared_at     timestamptz,
    severity       text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    score          double precision NOT NULL,
    peak_score     double precision,
    contributors   jsonb NOT NULL DEFAULT '[]',
    event_id       text NOT NULL,
    model_version  integer,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (equipment_id, kind, opened_at)
);
CREATE INDEX anomalies_recorded_idx ON predictive.anomalies (recorded_at);

-- The online detector's state per unit, so a restarted (or rebalanced) worker goes on
-- where the last one stopped. last_ts_us only moves forward: a stale worker cannot win.
CREATE TABLE predictive.detector_checkpoints (
    unit_id     text PRIMARY KEY,
    metric_set  text[] NOT NULL,
    format      integer NOT NULL,
    regimes     integer NOT NULL,
    last_ts_us  bigint NOT NULL,
    state       jsonb NOT NULL,
    saved_at    timestamptz NOT NULL DEFAULT now()
);
