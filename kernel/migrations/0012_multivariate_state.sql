-- The multivariate layer's hysteresis per unit (stream.health.multivariate), saved at the
-- stream's checkpoints: a restarted or rebalanced worker goes on counting windows where the
-- last one stopped, instead of opening an anomaly that is already open (a duplicate
-- AnomalyDetected) or never clearing one. The open episode itself is also recorded in
-- predictive.anomalies with its event, which wins when the two disagree.
CREATE TABLE predictive.multivariate_state (
    equipment_id  text PRIMARY KEY,
    -- The newest reading of the last window scored; only moves forward.
    last_ts_us    bigint NOT NULL,
    -- Whether each of the last windows reached the model's threshold, oldest first.
    hits          boolean[] NOT NULL,
    calm          integer NOT NULL CHECK (calm >= 0),
    -- The open anomaly's opening time (NULL: none open) and its highest score so far.
    opened_us     bigint,
    peak          double precision NOT NULL,
    saved_at      timestamptz NOT NULL DEFAULT now()
);
