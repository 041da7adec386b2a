"""The JSON body of Traccar Client 9+ (the Transistorsoft background-geolocation schema).

Shape and units from https://www.traccar.org/osmand/ ("JSON format"): `coords.speed` in
m/s, `battery.level` from 0 to 1, `odometer` in metres; the SDK reports -1 for a speed,
heading or battery level it does not know.
"""

from __future__ import annotations

from typing import Any, Final

from devices.records import Position
from ingest.decode.fields import (
    Obj,
    TimeWindow,
    bounded,
    device_id,
    obj,
    optional_number,
    required,
    required_number,
    scaled,
    timestamp_us,
)
from ingest.decode.payload import decode_items, parse_json, too_large
from ingest.decode.result import DEFAULT_LIMITS, Decoded, DecodeLimits, Invalid, rejected
from kernel.dlq import RejectReason

KMH_PER_MS: Final = 3.6
METRES_PER_KM: Final = 1000.0
PERCENT: Final = 100.0


def decode_traccar_json(
    body: bytes, *, received_us: int, limits: DecodeLimits = DEFAULT_LIMITS
) -> Decoded:
    """Positions from `{"device_id", "location": {...} or [...]}` or an array of those."""
    rejection = too_large(len(body), limits)
    if rejection is not None:
        return rejection
    window = TimeWindow.of(received_us, limits)
    try:
        data = parse_json(body)
        if isinstance(data, list):
            return decode_items(data, lambda item: _wrapped(item, window))
        device, location = _envelope(obj(data, "payload"))
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)
    return decode_items(location, lambda item: position(item, device, window), "location")


def _envelope(data: Obj) -> tuple[str, Any]:
    device = _device(data)
    location = required(data, "location", "location")
    if not isinstance(location, dict | list):
        raise Invalid(RejectReason.WRONG_TYPE, "location: not a JSON object or array")
    return device, location


def _wrapped(data: Obj, window: TimeWindow) -> Position:
    device = _device(data)
    return position(obj(required(data, "location", "location"), "location"), device, window)


def _device(data: Obj) -> str:
    value = required(data, "device_id", "device_id")
    if not isinstance(value, str):
        raise Invalid(RejectReason.WRONG_TYPE, "device_id: not a string")
    return device_id(value, "device_id")


def position(location: Obj, device: str, window: TimeWindow) -> Position:
    """A Position from one location object."""
    coords = obj(required(location, "coords", "location.coords"), "location.coords")
    battery = location.get("battery")
    timestamp = required(location, "timestamp", "location.timestamp")
    return Position(
        device_id=device,
        ts_us=timestamp_us(timestamp, "location.timestamp", window),
        lat=required_number(coords, "latitude", "location.coords.latitude", -90.0, 90.0),
        lon=required_number(coords, "longitude", "location.coords.longitude", -180.0, 180.0),
        speed_kmh=scaled(_known(coords, "speed", "location.coords.speed"), times=KMH_PER_MS),
        heading=_heading(coords),
        odometer_km=scaled(
            optional_number(location, "odometer", "location.odometer", low=0.0),
            per=METRES_PER_KM,
        ),
        accuracy_m=optional_number(coords, "accuracy", "location.coords.accuracy", low=0.0),
        altitude_m=optional_number(coords, "altitude", "location.coords.altitude"),
        battery_pct=None if battery is None else _battery_pct(obj(battery, "location.battery")),
    )


def _known(data: Obj, key: str, field: str) -> float | None:
    # Negative means "unknown" in this schema (CLLocation and the SDK report -1).
    value = optional_number(data, key, field)
    return None if value is None or value < 0 else value


def _heading(coords: Obj) -> float | None:
    heading = _known(coords, "heading", "location.coords.heading")
    return None if heading is None else bounded(heading, "location.coords.heading", 0.0, 360.0)


def _battery_pct(battery: Obj) -> float | None:
    level = _known(battery, "level", "location.battery.level")
    if level is None:
        return None
    return bounded(level, "location.battery.level", 0.0, 1.0) * PERCENT
