"""Reading latest state and meters, and setting a meter's baseline, for the API."""

from __future__ import annotations

from typing import Any, Final

import psycopg

from kernel.clock import from_epoch_us
from kernel.errors import NotFound
from stream.state import read_repository, repository
from stream.state.meters import set_baseline as baseline_of
from stream.state.models import (
    BaselineIn,
    DeviceStateRead,
    MetersRead,
    MetricRead,
    PositionRead,
)
from stream.state.repository import MeterKey

HISTORY_LIMIT: Final = 100
POSITION_FIELDS: Final = (
    "lat",
    "lon",
    "speed_kmh",
    "heading",
    "accuracy_m",
    "altitude_m",
    "ignition",
    "battery_pct",
)


async def get_device_state(*, conn: psycopg.AsyncConnection, device_id: str) -> DeviceStateRead:
    """A registered device's latest state and its asset's meters (two indexed reads)."""
    row = await read_repository.device_state(conn, device_id)
    if row is None:
        raise NotFound(f"device {device_id!r} not found")
    meters = await read_repository.meters(conn, row["subject_kind"], row["subject_id"])
    return DeviceStateRead(
        device_id=device_id,
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        online=row["online"],
        expected_interval_s=row["expected_interval_s"],
        last_seen_at=row["last_seen_at"],
        last_received_at=row["last_received_at"],
        running=row["running"],
        metrics=_metrics(row["metrics"] or {}),
        position=_position(row),
        meters=meters,
    )


async def get_meters(
    *, conn: psycopg.AsyncConnection, subject_kind: str, subject_id: str
) -> MetersRead:
    """An asset's meters and the history of baselines set on them, newest first."""
    await _require_subject(conn, subject_kind, subject_id)
    return MetersRead(
        subject_kind=subject_kind,
        subject_id=subject_id,
        meters=await read_repository.meters(conn, subject_kind, subject_id),
        history=await read_repository.baselines(
            conn, subject_kind, subject_id, limit=HISTORY_LIMIT
        ),
    )


async def set_baseline(
    *,
    conn: psycopg.AsyncConnection,
    subject_kind: str,
    subject_id: str,
    baseline_in: BaselineIn,
    set_by: str,
) -> MetersRead:
    """Set a meter to a value from now on; later samples add to it. Kept in the history."""
    await _require_subject(conn, subject_kind, subject_id)
    key = MeterKey(subject_kind, subject_id, baseline_in.meter.value)
    # The same lock the stream takes: a batch in flight either precedes or follows this.
    await repository.create_staging(conn)
    state = (await repository.lock_meters(conn, [key]))[key]
    await repository.save_meters(conn, {key: baseline_of(state, baseline_in.value)})
    await read_repository.insert_baseline(
        conn,
        subject=(subject_kind, subject_id),
        meter=key.meter,
        value=baseline_in.value,
        previous_value=None if state.source == "new" else state.value,
        reason=baseline_in.reason,
        set_by=set_by,
    )
    return await get_meters(conn=conn, subject_kind=subject_kind, subject_id=subject_id)


async def _require_subject(conn: psycopg.AsyncConnection, kind: str, subject_id: str) -> None:
    if not await read_repository.subject_exists(conn, kind, subject_id):
        raise NotFound(f"{kind} {subject_id!r} not found")


def _metrics(stored: dict[str, Any]) -> dict[str, MetricRead]:
    return {
        name: MetricRead(value=item["value"], ts=from_epoch_us(int(item["ts_us"])))
        for name, item in stored.items()
    }


def _position(row: dict[str, Any]) -> PositionRead | None:
    if row["last_position_at"] is None:
        return None
    return PositionRead(ts=row["last_position_at"], **{f: row[f] for f in POSITION_FIELDS})
