"""The usual native telemetry message, decoded and checked in one C pass.

Most messages on `toir/v1/devices/{id}/telemetry` are native readings (or arrays of them)
with known metric names and plain numbers. msgspec decodes such a payload straight into
typed items, skipping the generic JSON tree and the per-field Python checks of
ingest.decode.native; the few checks msgspec cannot express (timestamps in the accepted
window, finite numbers, known metric names) follow, on the whole message at once.

Anything else gets None, never a rejection: the general path then decodes the message
again and reports exactly what is wrong with it, item by item. So for every payload this
path accepts, the records equal the general path's (tests/unit/ingest/test_native_fast.py).
"""

from __future__ import annotations

import math
from itertools import chain
from operator import attrgetter

import msgspec

from devices.records import Position, Reading
from ingest.decode.fields import TimeWindow, timestamp_us
from ingest.decode.native import MAX_METRICS, known_names
from ingest.decode.result import Decoded, Invalid


class _NativeReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    ts: int | float | str
    hours_run: float | None = None
    running: bool | None = None
    metrics: dict[str, float] | None = None


_MESSAGE = msgspec.json.Decoder(list[_NativeReading] | _NativeReading)
_HOURS_RUN = attrgetter("hours_run")
_METRICS = attrgetter("metrics")


def native_readings(payload: bytes, device: str, window: TimeWindow) -> Decoded | None:
    """The message's readings if it is the usual native form throughout, else None."""
    try:
        message = _MESSAGE.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError):  # the general path says what it is
        return None
    items = message if isinstance(message, list) else [message]
    if not items or not (_usual_hours(items) and _usual_metrics(items)):
        return None
    try:
        stamps = [timestamp_us(item.ts, "ts", window) for item in items]
    except Invalid:
        return None
    records: list[Reading | Position] = [
        Reading(device, ts_us, item.hours_run, item.running, item.metrics or {})
        for item, ts_us in zip(items, stamps, strict=True)
    ]
    return Decoded(records, [])


# The checks below look at a whole message at once, in a few C calls rather than a few
# Python calls per reading. msgspec has made every number a float: a sum of floats is
# finite only if each of them is (a NaN or an infinity makes it one too; so does an
# overflow, which sends the message the general way).
def _usual_hours(items: list[_NativeReading]) -> bool:
    """Every hours counter given is finite and not negative."""
    hours = [h for h in map(_HOURS_RUN, items) if h is not None]
    return not hours or (min(hours) >= 0.0 and math.isfinite(sum(hours)))


def _usual_metrics(items: list[_NativeReading]) -> bool:
    """Every metrics object within the size limit, its names known and its values finite."""
    objects = [m for m in map(_METRICS, items) if m]
    if not objects:
        return True
    if max(map(len, objects)) > MAX_METRICS:
        return False
    names: set[str] = set()
    names.update(*objects)
    return known_names(names) and math.isfinite(sum(chain.from_iterable(map(dict.values, objects))))
