"""ThingsBoard payload forms on the telemetry topic, and the ThingsBoard gateway topic.

ThingsBoard device API: a telemetry message is `{"key": value, ...}` (server time),
`{"ts": ms, "values": {...}}`, or an array of them. Gateway API (`v1/gateway/telemetry`):
`{"Device A": [{"ts": ms, "values": {...}}, ...], ...}`.
See https://thingsboard.io/docs/reference/mqtt-api/ and .../gateway-mqtt-api/.
"""

from __future__ import annotations

from typing import Any

from devices.records import Reading
from ingest.decode import native
from ingest.decode.fields import (
    Obj,
    TimeWindow,
    bounded,
    device_id,
    flag,
    label,
    number,
    obj,
    timestamp_us,
)
from ingest.decode.payload import add_item
from ingest.decode.result import Decoded, Invalid, Rejection, rejected
from kernel.dlq import RejectReason


def telemetry_item(data: Obj, device: str, window: TimeWindow) -> Reading:
    """A Reading from a native or a ThingsBoard object on the telemetry topic."""
    if is_native(data):
        return native.reading(data, device, window)
    return reading(data, device, window)


def is_native(data: Obj) -> bool:
    """Whether an object on the telemetry topic is the native form, not ThingsBoard's."""
    if "metrics" in data:
        return True
    if "ts" not in data or "values" in data:
        return False
    # `{"ts": ...}` alone is a native reading without metrics, not a metric named "ts".
    return "hours_run" in data or "running" in data or len(data) == 1


def reading(data: Obj, device: str, window: TimeWindow) -> Reading:
    """A Reading from `{"ts": ms, "values": {...}}` or from flat `{"key": value}`."""
    if "ts" in data and "values" in data:
        ts_us = timestamp_us(data["ts"], "ts", window)
        return _from_values(obj(data["values"], "values"), "values.", device, ts_us)
    return _from_values(data, "", device, window.received_us)


def _from_values(values: Obj, prefix: str, device: str, ts_us: int) -> Reading:
    hours_run: float | None = None
    running: bool | None = None
    metrics: dict[str, float] = {}
    for key, value in values.items():
        if key == "hours_run":
            hours_run = bounded(number(value, f"{prefix}hours_run"), f"{prefix}hours_run", 0.0)
        elif key == "running":
            running = flag(value, f"{prefix}running", allow_01=True)
        else:
            metrics[native.metric_name(key, prefix)] = _metric_value(value, prefix, key)
    native.check_count(len(metrics), prefix.rstrip(".") or "payload")
    return Reading(device, ts_us, hours_run, running, metrics)


def _metric_value(value: Any, prefix: str, key: str) -> float:
    # ThingsBoard keeps booleans as a telemetry type; here they become 1.0 / 0.0 metrics.
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return native.metric_value(value, prefix, key)
    detail = f"{prefix}{label(key)}: not a number or boolean"
    raise Invalid(RejectReason.WRONG_TYPE, detail)


def decode_gateway(data: object, window: TimeWindow) -> Decoded:
    """Readings from a gateway message; item_index counts entries across all devices."""
    if not isinstance(data, dict):
        return rejected(RejectReason.WRONG_TYPE, "payload: not a JSON object")
    decoded = Decoded([], [])
    index = 0
    for key, entries in data.items():
        items = entries if isinstance(entries, list) else [entries]
        _add_device(decoded, key, items, index, window)
        index += len(items)
    if index == 0:
        return rejected(RejectReason.MISSING_FIELD, "payload: no telemetry entries")
    return decoded


def _add_device(
    decoded: Decoded, key: str, items: list[Any], start: int, window: TimeWindow
) -> None:
    try:
        device = device_id(key, "device")
    except Invalid as exc:
        rejections = (Rejection(exc.reason, exc.detail, start + i) for i in range(len(items)))
        decoded.rejections.extend(rejections)
        return

    def decode_one(entry: Obj) -> Reading:
        return reading(entry, device, window)

    for offset, item in enumerate(items):
        add_item(decoded, item, decode_one, start + offset)
