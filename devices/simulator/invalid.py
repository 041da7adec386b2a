"""Known-bad device messages, to exercise the platform's dead-letter path."""

from __future__ import annotations

from typing import Final, NamedTuple

import orjson

from devices.simulator.codec import position_topic, telemetry_topic, wire_ts
from kernel.dlq import RejectReason

GHOST_DEVICE_ID: Final = "ghost-001"
# Legal in an MQTT topic, illegal as a device id ([A-Za-z0-9_.-]{1,64}).
MALFORMED_DEVICE_ID: Final = "bad id!"


class BadMessage(NamedTuple):
    """A message the platform must refuse, and the reason it should give."""

    topic: str
    payload: bytes
    expected_reason: str


def bad_messages(*, equipment_id: str, vehicle_id: str, ts_us: int) -> list[BadMessage]:
    """One message per defect, each otherwise valid and stamped ts_us so only its defect counts."""
    ts = orjson.dumps(wire_ts(ts_us)).decode()
    telemetry, position = telemetry_topic(equipment_id), position_topic(vehicle_id)
    metrics = '"metrics": {"temperature_c": 41.5, "current_a": 12.0}'
    return [
        BadMessage(
            telemetry,
            f'{{"ts": {ts}, "metrics": {{"temperature_c": 41.'.encode(),
            RejectReason.INVALID_JSON.value,
        ),
        BadMessage(
            telemetry,
            f'{{"ts": {ts}, "metrics": {{"temperature_c": NaN, "current_a": 12.0}}}}'.encode(),
            RejectReason.NOT_FINITE.value,
        ),
        BadMessage(
            position,
            f'{{"ts": {ts}, "lat": 91.5, "lon": 37.6}}'.encode(),
            RejectReason.OUT_OF_RANGE.value,
        ),
        BadMessage(position, b'{"lat": 55.75, "lon": 37.62}', RejectReason.MISSING_FIELD.value),
        BadMessage(
            telemetry_topic(GHOST_DEVICE_ID),
            f'{{"ts": {ts}, "hours_run": 10.5, "running": true, {metrics}}}'.encode(),
            RejectReason.UNKNOWN_DEVICE.value,
        ),
        BadMessage(
            position,
            f'{{"ts": {ts}, "lat": 55.75, "lon": 37.62, "speed_kmh": "fast"}}'.encode(),
            RejectReason.WRONG_TYPE.value,
        ),
        BadMessage(telemetry, b'{"ts": "\xff\xfe", "metrics": {}}', RejectReason.NOT_UTF8.value),
        BadMessage(
            telemetry_topic(MALFORMED_DEVICE_ID),
            f'{{"ts": {ts}, {metrics}}}'.encode(),
            RejectReason.INVALID_DEVICE_ID.value,
        ),
    ]
