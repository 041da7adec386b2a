-- Field control by GPS, continued: the engineers a completion names as having worked on the
-- job with the assignee (each checked against the visits), and the log of engineer status
-- changes (set by hand, or by GPS arrivals at and departures from their tickets' sites).

ALTER TABLE tickets.completions
    ADD COLUMN assisted_by text[] NOT NULL DEFAULT '{}';

CREATE TABLE tickets.engineer_status_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    -- When it happened: the GPS arrival or departure time, else when it was set.
    at           timestamptz NOT NULL,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    actor_kind   text NOT NULL CHECK (actor_kind IN ('user', 'engineer', 'system')),
    actor_id     text NOT NULL,
    reason       text,
    event_id     text,                  -- the SiteEntered or SiteLeft that caused it
    site_id      text,
    ticket_id    bigint,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engineer_status_log_idx ON tickets.engineer_status_log (engineer_id, at, id);
-- A redelivered visit event changes an engineer's status at most once.
CREATE UNIQUE INDEX engineer_status_log_event_idx
    ON tickets.engineer_status_log (engineer_id, event_id) WHERE event_id IS NOT NULL;
