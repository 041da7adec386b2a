-- Tickets, their history, SLA policies, engineers, and the notification outbox.

CREATE TABLE tickets.engineers (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    phone            text,
    areas            text[] NOT NULL DEFAULT '{}',
    home_lat         double precision,
    home_lon         double precision,
    max_concurrent   integer NOT NULL DEFAULT 3 CHECK (max_concurrent > 0),
    status           text NOT NULL DEFAULT 'available'
                     CHECK (status IN ('available', 'en_route', 'on_site', 'off')),
    vehicle_id       text,
    position_lat     double precision,
    position_lon     double precision,
    position_at      timestamptz,
    timezone         text NOT NULL DEFAULT 'UTC',
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tickets.engineer_skills (
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    skill        text NOT NULL,
    level        integer NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (engineer_id, skill)
);

-- Weekly shifts in the engineer's local time; weekday 0 = Monday.
CREATE TABLE tickets.shifts (
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    weekday      integer NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts       time NOT NULL,
    ends         time NOT NULL,
    PRIMARY KEY (engineer_id, weekday, starts)
);

CREATE TABLE tickets.absences (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('leave', 'sick', 'other')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at)
);

CREATE TABLE tickets.sla_policies (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               text,
    priority           text,
    customer           text,
    accept_within_min  integer NOT NULL CHECK (accept_within_min > 0),
    arrive_within_min  integer NOT NULL CHECK (arrive_within_min > 0),
    resolve_within_min integer NOT NULL CHECK (resolve_within_min > 0),
    -- NULL: around the clock; else {"timezone": "...", "days": {"0": ["09:00", "18:00"], ...}}
    working_hours      jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (kind, priority, customer)
);

CREATE TABLE tickets.tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL
                    CHECK (kind IN ('anomaly', 'maintenance_due', 'planned', 'breakdown', 'inspection')),
    status          text NOT NULL DEFAULT 'new',
    status_before_hold text,
    priority        text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    title           text NOT NULL,
    description     text,
    equipment_id    text,
    site_id         text,
    customer        text,
    assignee_id     text REFERENCES tickets.engineers (id),
    cause           text,
    work_type       text,
    required_skills jsonb NOT NULL DEFAULT '{}',
    estimated_h     double precision,
    checklist       jsonb NOT NULL DEFAULT '[]',
    evidence        jsonb NOT NULL DEFAULT '[]',
    event_count     integer NOT NULL DEFAULT 0,
    flags           text[] NOT NULL DEFAULT '{}',
    unassignable_reasons jsonb,
    assignment_explanation jsonb,
    accept_by       timestamptz,
    arrive_by       timestamptz,
    resolve_by      timestamptz,
    sla_warned      text[] NOT NULL DEFAULT '{}',
    accepted_at     timestamptz,
    arrived_at      timestamptz,
    completed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One open ticket per (equipment, kind, cause): a repeated event adds evidence instead.
CREATE UNIQUE INDEX tickets_one_open_per_cause ON tickets.tickets (equipment_id, kind, cause)
    WHERE cause IS NOT NULL AND status NOT IN ('completed', 'closed', 'cancelled');
CREATE INDEX tickets_status_idx ON tickets.tickets (status, priority, created_at DESC);
CREATE INDEX tickets_assignee_idx ON tickets.tickets (assignee_id, status);
CREATE INDEX tickets_created_idx ON tickets.tickets (created_at DESC, id DESC);

CREATE TABLE tickets.history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id    bigint NOT NULL REFERENCES tickets.tickets (id),
    at           timestamptz NOT NULL DEFAULT now(),
    actor_kind   text NOT NULL CHECK (actor_kind IN ('user', 'engineer', 'system')),
    actor_id     text NOT NULL,
    action       text NOT NULL,
    from_status  text,
    to_status    text,
    reason       text,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX history_ticket_idx ON tickets.history (ticket_id, id);

CREATE TABLE tickets.completions (
    ticket_id          bigint PRIMARY KEY REFERENCES tickets.tickets (id),
    work_done          text NOT NULL,
    materials          jsonb NOT NULL DEFAULT '[]',
    checklist_answers  jsonb NOT NULL DEFAULT '{}',
    rating             integer CHECK (rating BETWEEN 1 AND 5),
    comment            text,
    completed_by       text NOT NULL,
    completed_at       timestamptz NOT NULL DEFAULT now()
);

-- Events already turned into ticket changes: the same event_id twice changes nothing.
CREATE TABLE tickets.processed_events (
    event_id      text PRIMARY KEY,
    ticket_id     bigint,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tickets.webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL,
    events      text[] NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: written with the ticket change, delivered by the relay.
CREATE TABLE tickets.outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel          text NOT NULL CHECK (channel IN ('mqtt', 'webhook')),
    destination      text NOT NULL,
    webhook_id       bigint REFERENCES tickets.webhooks (id),
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    dead_at          timestamptz,
    last_error       text
);
CREATE INDEX outbox_pending_idx ON tickets.outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;

INSERT INTO tickets.sla_policies (kind, priority, customer, accept_within_min, arrive_within_min,
                                  resolve_within_min)
VALUES (NULL, 'critical', NULL, 15, 120, 480),
       (NULL, 'high', NULL, 30, 240, 1440),
       (NULL, 'normal', NULL, 60, 480, 2880),
       (NULL, 'low', NULL, 240, 1440, 10080);

-- Tickets as read: with the SLA state computed at read time, so lists can filter on it.
-- "At risk" means 80 % of the time to a pending deadline has passed (the SLA timer's
-- default); the timer itself uses its configured share.
CREATE VIEW tickets.tickets_view AS
SELECT t.*,
    CASE
        WHEN t.status IN ('completed', 'closed', 'cancelled') THEN 'ok'
        WHEN (t.accepted_at IS NULL AND t.accept_by < now())
          OR (t.arrived_at IS NULL AND t.arrive_by < now())
          OR (t.resolve_by < now()) THEN 'breached'
        WHEN (t.accepted_at IS NULL AND t.created_at + (t.accept_by - t.created_at) * 0.8 < now())
          OR (t.arrived_at IS NULL AND t.created_at + (t.arrive_by - t.created_at) * 0.8 < now())
          OR (t.created_at + (t.resolve_by - t.created_at) * 0.8 < now()) THEN 'at_risk'
        ELSE 'ok'
    END AS sla_state
FROM tickets.tickets t;
