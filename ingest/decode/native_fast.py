"""The usual native telemetry message, decoded and checked in one C pass.

Most messages on `toir/v1/devices/{id}/telemetry` are native readings (or arrays of them)
with known metric names and plain numbers. msgspec decodes such a payload straight into
typed items, skipping the generic JSON tree and the per-field Python checks of
ingest.decode.native; the few checks msgspec cannot express (timestamps in the accepted
window, finite numbers, known metric names) follow per item.

Anything else gets None, never a rejection: the general path then decodes the message
again and reports exactly what is wrong with it, item by item. So for every payload this
path accepts, the records equal the general path's (tests/unit/ingest/test_native_fast.py).
"""

from __future__ import annotations

import math

import msgspec

from devices.records import Position, Reading
from ingest.decode.fields import TimeWindow, timestamp_us
from ingest.decode.native import MAX_METRICS, all_known_and_finite
from ingest.decode.result import Decoded, Invalid


class _Unusual(Exception):
    """An item the general path must look at (it names the field and the reason)."""


class _NativeReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    ts: int | float | str
    hours_run: float | None = None
    running: bool | None = None
    metrics: dict[str, float] | None = None


_MESSAGE = msgspec.json.Decoder(list[_NativeReading] | _NativeReading)


def native_readings(payload: bytes, device: str, window: TimeWindow) -> Decoded | None:
    """The message's readings if it is the usual native form throughout, else None."""
    try:
        message = _MESSAGE.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError):  # the general path says what it is
        return None
    items = message if isinstance(message, list) else [message]
    if not items:
        return None
    try:
        records: list[Reading | Position] = [_reading(item, device, window) for item in items]
    except (Invalid, _Unusual):
        return None
    return Decoded(records, [])


def _reading(item: _NativeReading, device: str, window: TimeWindow) -> Reading:
    hours_run = item.hours_run
    if hours_run is not None and not (0.0 <= hours_run < math.inf):
        raise _Unusual
    metrics = item.metrics
    if metrics and (len(metrics) > MAX_METRICS or not all_known_and_finite(metrics)):
        raise _Unusual
    return Reading(
        device_id=device,
        ts_us=timestamp_us(item.ts, "ts", window),
        hours_run=hours_run,
        running=item.running,
        metrics={} if metrics is None else metrics,
    )
