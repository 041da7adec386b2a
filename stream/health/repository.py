"""SQL of the stream's health agent: which unit a device reports for, anomalies, checkpoints
of the online detectors and the multivariate layer's state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
import psycopg
from psycopg.types.json import Jsonb

# Joins a metric set into one text parameter (a unit separator: no metric name holds it).
METRIC_SEPARATOR = "\x1f"
TS = "(timestamptz 'epoch' + {} * interval '1 microsecond')"
EPOCH_US = "(extract(epoch FROM {}) * 1000000)::int8"


class UnitInfo(NamedTuple):
    """The equipment a device reports for, and its model (None if unknown)."""

    equipment_id: str
    model: str | None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One unit's saved detector state, in the metric set it was learnt in."""

    unit_id: str
    metric_set: tuple[str, ...]
    format: int
    regimes: int
    last_ts_us: int
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AnomalyRow:
    """An anomaly opened or cleared: what predictive.anomalies records."""

    equipment_id: str
    kind: str
    opened_us: int
    severity: str
    score: float
    contributors: list[dict[str, Any]]
    event_id: str
    model_version: int | None = None
    cleared_us: int | None = None


@dataclass(frozen=True, slots=True)
class MultivariateState:
    """One unit's multivariate hysteresis: recent window verdicts (oldest first), the calm
    streak, and the open episode (its opening time and peak score) if any."""

    equipment_id: str
    last_ts_us: int
    hits: tuple[bool, ...]
    calm: int
    opened_us: int | None
    peak: float


UNITS_OF = """
SELECT d.id, d.equipment_id, e.model FROM assets.devices d
JOIN assets.equipment e ON e.id = d.equipment_id
WHERE d.id = ANY(%s) AND d.enabled
"""

LOAD_CHECKPOINTS = """
SELECT unit_id, metric_set, format, regimes, last_ts_us, state
FROM predictive.detector_checkpoints WHERE unit_id = ANY(%s)
"""

SAVE_CHECKPOINTS = """
INSERT INTO predictive.detector_checkpoints AS c (unit_id, metric_set, format, regimes,
    last_ts_us, state, saved_at)
SELECT u.unit_id, string_to_array(u.metric_set, E'\\x1f'), u.format, u.regimes, u.last_ts_us,
    u.state, now()
FROM unnest(%s::text[], %s::text[], %s::int4[], %s::int4[], %s::int8[], %s::jsonb[])
    AS u(unit_id, metric_set, format, regimes, last_ts_us, state)
ORDER BY u.unit_id
ON CONFLICT (unit_id) DO UPDATE SET metric_set = excluded.metric_set,
    format = excluded.format, regimes = excluded.regimes, last_ts_us = excluded.last_ts_us,
    state = excluded.state, saved_at = excluded.saved_at
WHERE excluded.last_ts_us >= c.last_ts_us
"""

# The state saved at checkpoints, corrected by what was recorded with the events since: the
# open episode in predictive.anomalies is the truth (a checkpoint may predate an opening or a
# clearing), and its calm streak and peak count only if they belong to that same episode.
LOAD_MULTIVARIATE = f"""
SELECT u.id, coalesce(s.last_ts_us, a.opened_us), coalesce(s.hits, '{{}}'),
    CASE WHEN s.opened_us = a.opened_us THEN s.calm ELSE 0 END,
    a.opened_us,
    CASE WHEN s.opened_us = a.opened_us THEN greatest(s.peak, a.score) ELSE coalesce(a.score, 0) END
FROM unnest(%s::text[]) AS u(id)
LEFT JOIN predictive.multivariate_state s ON s.equipment_id = u.id
LEFT JOIN LATERAL (
    SELECT {EPOCH_US.format("opened_at")} AS opened_us, score FROM predictive.anomalies
    WHERE equipment_id = u.id AND kind = 'multivariate' AND cleared_at IS NULL
    ORDER BY opened_at DESC LIMIT 1
) a ON true
WHERE s.equipment_id IS NOT NULL OR a.opened_us IS NOT NULL
"""

SAVE_MULTIVARIATE = """
INSERT INTO predictive.multivariate_state AS m (equipment_id, last_ts_us, hits, calm,
    opened_us, peak, saved_at)
SELECT u.e, u.l, string_to_array(u.h, ',')::boolean[], u.c, u.o, u.p, now()
FROM unnest(%s::text[], %s::int8[], %s::text[], %s::int4[], %s::int8[], %s::float8[])
    AS u(e, l, h, c, o, p)
ORDER BY u.e
ON CONFLICT (equipment_id) DO UPDATE SET last_ts_us = excluded.last_ts_us,
    hits = excluded.hits, calm = excluded.calm, opened_us = excluded.opened_us,
    peak = excluded.peak, saved_at = excluded.saved_at
WHERE excluded.last_ts_us >= m.last_ts_us
"""

RECORD_OPENED = f"""
INSERT INTO predictive.anomalies (equipment_id, kind, opened_at, severity, score,
    contributors, event_id, model_version)
SELECT u.e, u.k, {TS.format("u.o")}, u.s, u.sc, u.c, u.ev, u.v
FROM unnest(%s::text[], %s::text[], %s::int8[], %s::text[], %s::float8[], %s::jsonb[],
    %s::text[], %s::int4[]) AS u(e, k, o, s, sc, c, ev, v)
ON CONFLICT (equipment_id, kind, opened_at) DO NOTHING
"""

RECORD_CLEARED = f"""
UPDATE predictive.anomalies a SET cleared_at = {TS.format("u.cl")}, peak_score = u.p
FROM unnest(%s::text[], %s::text[], %s::int8[], %s::int8[], %s::float8[]) AS u(e, k, o, cl, p)
WHERE a.equipment_id = u.e AND a.kind = u.k AND a.opened_at = {TS.format("u.o")}
  AND a.cleared_at IS NULL
"""


async def units_of(conn: psycopg.AsyncConnection, device_ids: Sequence[str]) -> dict[str, UnitInfo]:
    """The equipment each enabled device reports for; devices of no equipment are absent."""
    cur = await conn.execute(UNITS_OF, (list(device_ids),))
    return {device: UnitInfo(unit, model) for device, unit, model in await cur.fetchall()}


async def load_checkpoints(
    conn: psycopg.AsyncConnection, unit_ids: Sequence[str]
) -> dict[str, Checkpoint]:
    cur = await conn.execute(LOAD_CHECKPOINTS, (list(unit_ids),))
    return {
        unit: Checkpoint(unit, tuple(names), fmt, regimes, int(last_us), state)
        for unit, names, fmt, regimes, last_us, state in await cur.fetchall()
    }


async def save_checkpoints(conn: psycopg.AsyncConnection, rows: Sequence[Checkpoint]) -> None:
    """Upsert each unit's state unless a newer one (by last reading) is already saved."""
    params = (
        [r.unit_id for r in rows],
        [METRIC_SEPARATOR.join(r.metric_set) for r in rows],
        [r.format for r in rows],
        [r.regimes for r in rows],
        [r.last_ts_us for r in rows],
        [Jsonb(r.state, dumps=_dumps) for r in rows],
    )
    await conn.execute(SAVE_CHECKPOINTS, params)


async def load_multivariate_states(
    conn: psycopg.AsyncConnection, unit_ids: Sequence[str]
) -> list[MultivariateState]:
    """The saved multivariate state of these units (those with one or an open anomaly)."""
    cur = await conn.execute(LOAD_MULTIVARIATE, (list(unit_ids),))
    return [
        MultivariateState(unit, int(last_us), tuple(hits), calm, opened_us, peak)
        for unit, last_us, hits, calm, opened_us, peak in await cur.fetchall()
    ]


async def save_multivariate_states(
    conn: psycopg.AsyncConnection, rows: Sequence[MultivariateState]
) -> None:
    """Upsert each unit's state unless a newer one (by last window) is already saved."""
    params = (
        [r.equipment_id for r in rows],
        [r.last_ts_us for r in rows],
        [",".join("t" if hit else "f" for hit in r.hits) for r in rows],
        [r.calm for r in rows],
        [r.opened_us for r in rows],
        [r.peak for r in rows],
    )
    await conn.execute(SAVE_MULTIVARIATE, params)


async def record_opened(conn: psycopg.AsyncConnection, rows: Sequence[AnomalyRow]) -> None:
    params = (
        [r.equipment_id for r in rows],
        [r.kind for r in rows],
        [r.opened_us for r in rows],
        [r.severity for r in rows],
        [r.score for r in rows],
        [Jsonb(r.contributors) for r in rows],
        [r.event_id for r in rows],
        [r.model_version for r in rows],
    )
    await conn.execute(RECORD_OPENED, params)


async def record_cleared(conn: psycopg.AsyncConnection, rows: Sequence[AnomalyRow]) -> None:
    params = (
        [r.equipment_id for r in rows],
        [r.kind for r in rows],
        [r.opened_us for r in rows],
        [r.cleared_us for r in rows],
        [r.score for r in rows],
    )
    await conn.execute(RECORD_CLEARED, params)


def _dumps(value: Any) -> str:
    # Checkpoints are thousands of numbers per unit: orjson is an order faster than json.
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
