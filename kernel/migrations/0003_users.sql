-- People and programs that use the API, and their bearer tokens (stored hashed).
CREATE SCHEMA IF NOT EXISTS tickets;

CREATE TABLE tickets.users (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'planner', 'engineer', 'device-admin')),
    engineer_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);

CREATE TABLE tickets.tokens (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES tickets.users (id),
    name          text NOT NULL,
    secret_sha256 bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX tokens_user_idx ON tickets.tokens (user_id);
