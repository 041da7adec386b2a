-- Assignment rules kept by planners, and the engineer links the assignment engine weighs.

-- One rule per scope (NULL = any); among the rules that apply, the most specific wins
-- (site, then customer, then priority, then kind: tickets.assignment.rules.select_rule).
CREATE TABLE tickets.assignment_rules (
    id                        text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    kind                      text
                              CHECK (kind IN ('anomaly', 'maintenance_due', 'planned', 'breakdown',
                                              'inspection')),
    priority                  text CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    customer                  text,
    site_id                   text,
    -- Hard filters: NULL max_travel_min means no travel limit.
    max_travel_min            double precision CHECK (max_travel_min > 0),
    require_area              boolean NOT NULL DEFAULT true,
    require_shift             boolean NOT NULL DEFAULT true,
    position_stale_after_min  double precision NOT NULL DEFAULT 15
                              CHECK (position_stale_after_min >= 0),
    -- {factor: percent}; the service checks the names and the 100 % total before writing.
    weights_pct               jsonb NOT NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (kind, priority, customer, site_id)
);

-- Customers who asked for this engineer (the `customer_preferred` factor).
CREATE TABLE tickets.engineer_preferred_by (
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    customer     text NOT NULL,
    PRIMARY KEY (engineer_id, customer)
);

-- Sites this engineer is responsible for (the `responsible` factor, with the equipment
-- whose assets.equipment.engineer_id names them).
CREATE TABLE tickets.engineer_responsible_sites (
    engineer_id  text NOT NULL REFERENCES tickets.engineers (id) ON DELETE CASCADE,
    site_id      text NOT NULL,
    PRIMARY KEY (engineer_id, site_id)
);
