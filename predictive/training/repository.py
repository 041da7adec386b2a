"""SQL that training reads: readings of an equipment model's units, and their breakdowns.

Synchronous: training is a CLI command, one long read per equipment model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import psycopg

EQUIPMENT_MODELS = """
SELECT DISTINCT e.model FROM assets.equipment e
JOIN assets.devices d ON d.equipment_id = e.id
WHERE e.model IS NOT NULL ORDER BY 1
"""

HISTORY = """
SELECT d.equipment_id, (extract(epoch FROM r.ts) * 1000000)::int8, r.running, r.metrics
FROM telemetry.readings r
JOIN assets.devices d ON d.id = r.device_id
JOIN assets.equipment e ON e.id = d.equipment_id
WHERE e.model = %s AND r.ts >= %s AND r.ts < %s
ORDER BY d.equipment_id, r.ts
"""

BREAKDOWNS = """
SELECT t.equipment_id, (extract(epoch FROM t.created_at) * 1000000)::int8
FROM tickets.tickets t JOIN assets.equipment e ON e.id = t.equipment_id
WHERE t.kind = 'breakdown' AND e.model = %s AND t.created_at >= %s
"""


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings as arrays, in (unit, time) order; metrics in metric_names order, NaN if missing."""

    unit_ids: tuple[str, ...]
    unit_index: npt.NDArray[np.int64]
    ts_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_]
    metric_names: tuple[str, ...]


def equipment_models(conn: psycopg.Connection) -> list[str]:
    """Equipment models with at least one reporting device."""
    return [str(row[0]) for row in conn.execute(EQUIPMENT_MODELS).fetchall()]


def history(
    conn: psycopg.Connection, equipment_model: str, *, since: datetime, until: datetime
) -> Readings:
    """Every reading of the model's units in [since, until)."""
    rows = conn.execute(HISTORY, (equipment_model, since, until)).fetchall()
    return to_readings([(str(r[0]), int(r[1]), r[2], r[3]) for r in rows])


def breakdowns(
    conn: psycopg.Connection, equipment_model: str, *, since: datetime
) -> list[tuple[str, int]]:
    """(unit, when) of the breakdown tickets of the model's units: the failures risk learns."""
    rows = conn.execute(BREAKDOWNS, (equipment_model, since)).fetchall()
    return [(str(unit), int(at_us)) for unit, at_us in rows]


def to_readings(rows: list[tuple[str, int, bool | None, dict[str, float]]]) -> Readings:
    """Arrays of (unit, ts_us, running, metrics) rows; metric names are all those seen."""
    names = tuple(sorted({name for row in rows for name in row[3]}))
    unit_ids = tuple(dict.fromkeys(row[0] for row in rows))
    position = {unit: index for index, unit in enumerate(unit_ids)}
    nan = float("nan")
    values = np.array(
        [[row[3].get(name, nan) for name in names] for row in rows], dtype=np.float64
    ).reshape(len(rows), len(names))
    return Readings(
        unit_ids=unit_ids,
        unit_index=np.array([position[row[0]] for row in rows], dtype=np.int64),
        ts_us=np.array([row[1] for row in rows], dtype=np.int64),
        values=values,
        running=np.array([row[2] is not False for row in rows], dtype=np.bool_),
        metric_names=names,
    )
