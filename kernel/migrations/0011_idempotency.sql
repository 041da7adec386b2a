-- Idempotency keys for ticket actions (the engineer app's offline queue replays with them),
-- and the NOTIFY that wakes the API's live stream when a notification is written.

-- One row per (user, key): written in the same transaction as the action it answers, so a
-- key exists exactly when its action committed, and a repeat gets the stored response.
CREATE TABLE tickets.idempotency_keys (
    user_id         text NOT NULL REFERENCES tickets.users (id),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    -- SHA-256 of method, path and body: the same key on another request is refused.
    request_sha256  bytea NOT NULL,
    status_code     integer,
    response        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
-- For pruning old keys (a client replays within days, not months).
CREATE INDEX idempotency_keys_created_idx ON tickets.idempotency_keys (created_at);

-- The live stream (tickets/live.py) LISTENs on this channel. Only the id and destination
-- travel: a NOTIFY payload is limited to 8000 bytes, and an oversized one would fail the
-- ticket change itself. NOTIFY is transactional: it is sent when the change commits.
CREATE FUNCTION tickets.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('toir_outbox', json_build_object(
        'id', NEW.id, 'destination', left(NEW.destination, 500))::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON tickets.outbox
    FOR EACH ROW WHEN (NEW.channel = 'mqtt') EXECUTE FUNCTION tickets.outbox_notify();
