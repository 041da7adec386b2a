"""The OsmAnd protocol as Traccar Client and OsmAnd send it: HTTP query or form parameters.

Parameter names and units follow Traccar's OsmAndProtocolDecoder and
https://www.traccar.org/osmand/: `speed` is in knots, `odometer` in metres, `hours` in ms.
Empty values mean "not reported".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from devices.records import Position
from ingest.decode.fields import (
    INF,
    TimeWindow,
    bounded,
    device_id,
    scaled,
    timestamp_us,
)
from ingest.decode.payload import too_large
from ingest.decode.result import DEFAULT_LIMITS, Decoded, DecodeLimits, Invalid, rejected
from kernel.dlq import RejectReason

KMH_PER_KNOT: Final = 1.852
METRES_PER_KM: Final = 1000.0
MS_PER_HOUR: Final = 3_600_000.0

_INTEGER_RE: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE: Final = frozenset({"nan", "inf", "infinity"})
_FLAGS: Final = {"true": True, "1": True, "false": False, "0": False}


def decode_osmand_query(
    params: Mapping[str, str], *, received_us: int, limits: DecodeLimits = DEFAULT_LIMITS
) -> Decoded:
    """The Position of one OsmAnd / Traccar Client request, or its rejection."""
    rejection = too_large(_size(params), limits)
    if rejection is not None:
        return rejection
    try:
        return Decoded([_position(params, TimeWindow.of(received_us, limits))], [])
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)


def _size(params: Mapping[str, str]) -> int:
    return sum(_length(key) + _length(value) + 2 for key, value in params.items())


def _length(value: object) -> int:
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0


def _position(params: Mapping[str, str], window: TimeWindow) -> Position:
    device = _device(params)
    lat, lon = _coordinates(params)
    return Position(
        device_id=device,
        ts_us=_timestamp(_text(params, "timestamp"), window),
        lat=lat,
        lon=lon,
        speed_kmh=scaled(_number(params, "speed", 0.0), times=KMH_PER_KNOT),
        heading=_number(params, _alias(params, "bearing", "heading"), 0.0, 360.0),
        ignition=_flag(params, "ignition"),
        odometer_km=scaled(_number(params, "odometer", 0.0), per=METRES_PER_KM),
        accuracy_m=_number(params, "accuracy", 0.0),
        altitude_m=_number(params, "altitude"),
        battery_pct=_number(params, "batt", 0.0, 100.0),
        hours_run=scaled(_number(params, "hours", 0.0), per=MS_PER_HOUR),
    )


def _alias(params: Mapping[str, str], name: str, alias: str) -> str:
    # Traccar reads `deviceid` for `id` and `heading` for `bearing`; clients send either.
    return alias if name not in params and alias in params else name


def _device(params: Mapping[str, str]) -> str:
    key = _alias(params, "id", "deviceid")
    value = _text(params, key)
    if value is None:
        raise Invalid(RejectReason.MISSING_FIELD, "id: missing")
    return device_id(value, key)


def _coordinates(params: Mapping[str, str]) -> tuple[float, float]:
    if "lat" not in params and "lon" not in params and _text(params, "location") is not None:
        return _location(params)
    return _required(params, "lat", -90.0, 90.0), _required(params, "lon", -180.0, 180.0)


def _location(params: Mapping[str, str]) -> tuple[float, float]:
    parts = (_text(params, "location") or "").split(",")
    if len(parts) != 2:
        raise Invalid(RejectReason.WRONG_TYPE, "location: not lat,lon")
    lat = bounded(_parse_number(parts[0], "location.lat"), "location.lat", -90.0, 90.0)
    lon = bounded(_parse_number(parts[1], "location.lon"), "location.lon", -180.0, 180.0)
    return lat, lon


def _timestamp(text: str | None, window: TimeWindow) -> int:
    if text is None:
        return window.received_us
    if _INTEGER_RE.fullmatch(text):
        return timestamp_us(int(text), "timestamp", window)
    if _DECIMAL_RE.fullmatch(text) or text.lower().lstrip("+-") in _NON_FINITE:
        return timestamp_us(_parse_number(text, "timestamp"), "timestamp", window)
    return timestamp_us(text, "timestamp", window)


def _required(params: Mapping[str, str], key: str, low: float, high: float) -> float:
    value = _number(params, key, low, high)
    if value is None:
        raise Invalid(RejectReason.MISSING_FIELD, f"{key}: missing")
    return value


def _number(
    params: Mapping[str, str], key: str, low: float = -INF, high: float = INF
) -> float | None:
    text = _text(params, key)
    return None if text is None else bounded(_parse_number(text, key), key, low, high)


def _parse_number(text: str, field: str) -> float:
    if _DECIMAL_RE.fullmatch(text):
        value = float(text)
        if value - value == 0.0:
            return value
        raise Invalid(RejectReason.NOT_FINITE, f"{field}: not finite")
    if text.lower().lstrip("+-") in _NON_FINITE:
        raise Invalid(RejectReason.NOT_FINITE, f"{field}: not finite")
    raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not a number")


def _flag(params: Mapping[str, str], key: str) -> bool | None:
    text = _text(params, key)
    if text is None:
        return None
    value = _FLAGS.get(text.lower())
    if value is None:
        raise Invalid(RejectReason.WRONG_TYPE, f"{key}: not true or false")
    return value


def _text(params: Mapping[str, str], key: str) -> str | None:
    value: object = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise Invalid(RejectReason.WRONG_TYPE, f"{key}: not a string")
