-- How far the stream's dead-letter counter (stream/platform) has counted each partition of
-- the dead-letter topic. Written in the same transaction as telemetry.dead_letter_counts
-- (0009), so a dead letter read twice (a restart, a rebalance) is counted once; the worker
-- resumes from here, not from the offsets it commits to Kafka.
CREATE TABLE telemetry.dead_letter_offsets (
    topic              text NOT NULL,
    partition          integer NOT NULL CHECK (partition >= 0),
    next_offset        bigint NOT NULL CHECK (next_offset >= 0),
    -- The Kafka timestamp of the record at next_offset - 1: read again, it must match, or the
    -- topic is a new one (recreated, or a broker that kept it in memory restarted).
    last_timestamp_ms  bigint,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition),
    CHECK (next_offset = 0 OR last_timestamp_ms IS NOT NULL)
);
