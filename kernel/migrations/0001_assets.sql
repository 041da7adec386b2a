-- Asset registry: customers' sites, the equipment on them, vehicles, and the
-- devices that report for either.
CREATE SCHEMA IF NOT EXISTS assets;

CREATE TABLE assets.sites (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    address     text,
    customer    text,
    area        text,
    lat         double precision CHECK (lat BETWEEN -90 AND 90),
    lon         double precision CHECK (lon BETWEEN -180 AND 180),
    radius_m    double precision CHECK (radius_m > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets.equipment (
    id            text PRIMARY KEY,
    site_id       text REFERENCES assets.sites (id),
    kind          text NOT NULL,
    model         text,
    serial        text,
    installed_on  date,
    criticality   text NOT NULL DEFAULT 'normal'
                  CHECK (criticality IN ('low', 'normal', 'high', 'critical')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets.vehicles (
    id           text PRIMARY KEY,
    plate        text,
    home_site_id text REFERENCES assets.sites (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets.devices (
    id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    kind          text NOT NULL CHECK (kind IN ('controller', 'tracker', 'phone')),
    equipment_id  text REFERENCES assets.equipment (id),
    vehicle_id    text REFERENCES assets.vehicles (id),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (equipment_id IS NULL OR vehicle_id IS NULL)
);
