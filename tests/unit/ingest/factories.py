"""Small payload factories and outcome helpers for the decoder tests."""

from __future__ import annotations

import json
from typing import Any, Final

from devices.records import Position, Reading
from ingest.decode import Decoded, Rejection, decode_mqtt

# 2023-11-14T22:13:20Z: the receive time of every test message.
RECEIVED_US: Final = 1_700_000_000_000_000
# One minute before RECEIVED_US, as epoch seconds, milliseconds and microseconds.
TS_S: Final = 1_699_999_940
TS_MS: Final = TS_S * 1000
TS_US: Final = TS_S * 1_000_000

TELEMETRY_TOPIC: Final = "toir/v1/devices/pump-1/telemetry"
POSITION_TOPIC: Final = "toir/v1/devices/truck-7/position"
GATEWAY_TOPIC: Final = "v1/gateway/telemetry"
OWNTRACKS_TOPIC: Final = "owntracks/jane/phone"


class _Omit:
    """Marks a field a factory should leave out of the payload."""


OMIT: Final = _Omit()


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """base updated with changes; fields set to OMIT are removed."""
    return {key: value for key, value in {**base, **changes}.items() if value is not OMIT}


def dumps(value: object) -> bytes:
    """JSON bytes; the stdlib encoder, so NaN and huge integers can be written too."""
    return json.dumps(value).encode()


def reading_payload(**changes: Any) -> dict[str, Any]:
    """A native telemetry object."""
    base = {"ts": TS_S, "hours_run": 12.5, "running": True, "metrics": {"temp": 21.5}}
    return merged(base, changes)


def position_payload(**changes: Any) -> dict[str, Any]:
    """A native position object."""
    return merged({"ts": TS_S, "lat": 55.75, "lon": 37.62}, changes)


def owntracks_payload(**changes: Any) -> dict[str, Any]:
    """An OwnTracks location message."""
    return merged({"_type": "location", "lat": 55.75, "lon": 37.62, "tst": TS_S}, changes)


def osmand_params(**changes: object) -> dict[str, str]:
    """OsmAnd query parameters, all strings as they arrive."""
    return merged(
        {"id": "phone-1", "lat": "55.75", "lon": "37.62", "timestamp": str(TS_S)}, changes
    )


def traccar_location(**changes: Any) -> dict[str, Any]:
    """A Traccar Client 9+ location object."""
    coords = {"latitude": 55.75, "longitude": 37.62, "accuracy": 5.0, "speed": 10.0}
    return merged({"timestamp": "2023-11-14T22:12:20Z", "coords": coords}, changes)


def traccar_body(location: object = None, **changes: Any) -> dict[str, Any]:
    """A Traccar Client 9+ request body."""
    body = {
        "device_id": "48241179",
        "location": traccar_location() if location is None else location,
    }
    return merged(body, changes)


def mqtt(topic: str, payload: object) -> Decoded:
    """decode_mqtt of payload encoded as JSON, received at RECEIVED_US."""
    return decode_mqtt(topic, dumps(payload), received_us=RECEIVED_US)


def telemetry(payload: object) -> Decoded:
    """A payload decoded on the native telemetry topic."""
    return mqtt(TELEMETRY_TOPIC, payload)


def position(payload: object) -> Decoded:
    """A payload decoded on the native position topic."""
    return mqtt(POSITION_TOPIC, payload)


def only_rejection(decoded: Decoded) -> Rejection:
    """The single rejection of an outcome that has no records."""
    assert decoded.records == []
    assert len(decoded.rejections) == 1
    return decoded.rejections[0]


def only_reading(decoded: Decoded) -> Reading:
    """The single Reading of an outcome without rejections."""
    assert decoded.rejections == []
    assert len(decoded.records) == 1
    record = decoded.records[0]
    assert isinstance(record, Reading)
    return record


def only_position(decoded: Decoded) -> Position:
    """The single Position of an outcome without rejections."""
    assert decoded.rejections == []
    assert len(decoded.records) == 1
    record = decoded.records[0]
    assert isinstance(record, Position)
    return record
