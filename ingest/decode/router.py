"""MQTT topic routing: which decoder a message goes to, and for which device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ingest.decode import native, owntracks, thingsboard
from ingest.decode.fields import NAME_RE, TimeWindow, device_id
from ingest.decode.native_fast import native_readings
from ingest.decode.payload import decode_items, parse_json, too_large
from ingest.decode.result import DEFAULT_LIMITS, Decoded, DecodeLimits, Invalid, rejected
from kernel.dlq import RejectReason

# A topic's decoder: (parsed JSON, device id from the topic, time window) -> outcome.
Route = Callable[[object, str, TimeWindow], Decoded]

GATEWAY_TOPIC: Final = "v1/gateway/telemetry"


def decode_mqtt(
    topic: str,
    payload: bytes,
    *,
    received_us: int,
    limits: DecodeLimits = DEFAULT_LIMITS,
    usual_first: bool = True,
) -> Decoded:
    """Records and rejections for one MQTT message (see the module docstring of each format).

    Every message yields at least one record or rejection, except OwnTracks messages of a
    type other than `location` (transitions, waypoints, lwt, ...), which yield neither.
    usual_first tries ingest.decode.native_fast before the general path (which gives the
    same records for what it accepts; tests compare the two).
    """
    rejection = too_large(len(payload), limits)
    if rejection is not None:
        return rejection
    try:
        route, device = route_of(topic)
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)
    window = TimeWindow.of(received_us, limits)
    if usual_first and route is _telemetry:
        usual = native_readings(payload, device, window)
        if usual is not None:
            return usual
    try:
        data = parse_json(payload)
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)
    return route(data, device, window)


def route_of(topic: str) -> tuple[Route, str]:
    """The decoder for topic and the device id the topic names; raises Invalid."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == "toir" and parts[1] == "v1" and parts[2] == "devices":
        route = _DEVICE_ROUTES.get(parts[4])
        if route is not None:
            return route, device_id(parts[3], "topic device id")
    elif len(parts) == 3 and parts[0] == "owntracks":
        return _owntracks, _owntracks_device(parts[1], parts[2])
    elif topic == GATEWAY_TOPIC:
        return _gateway, ""
    raise Invalid(RejectReason.UNKNOWN_TOPIC, "topic: not a toir, ThingsBoard or OwnTracks topic")


def _owntracks_device(user: str, device: str) -> str:
    # Both levels must be names on their own, so "owntracks//x" cannot become ".x".
    if NAME_RE.fullmatch(user) and NAME_RE.fullmatch(device):
        return device_id(f"{user}.{device}", "topic device id")
    return device_id(f"{user}/{device}", "topic device id")


def _telemetry(data: object, device: str, window: TimeWindow) -> Decoded:
    return decode_items(data, lambda item: thingsboard.telemetry_item(item, device, window))


def _position(data: object, device: str, window: TimeWindow) -> Decoded:
    return decode_items(data, lambda item: native.position(item, device, window))


def _gateway(data: object, device: str, window: TimeWindow) -> Decoded:
    return thingsboard.decode_gateway(data, window)


def _owntracks(data: object, device: str, window: TimeWindow) -> Decoded:
    return owntracks.decode(data, device, window)


_DEVICE_ROUTES: Final[dict[str, Route]] = {"telemetry": _telemetry, "position": _position}
