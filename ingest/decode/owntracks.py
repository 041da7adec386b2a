"""OwnTracks `_type: location` messages on `owntracks/{user}/{device}`.

Field meanings and units follow https://owntracks.org/booklet/tech/json/ ("_type=location"
and the Queclink vehicle extensions `hmc`, `odometer`, `ign`).
"""

from __future__ import annotations

from typing import Final

from devices.records import Position
from ingest.decode.fields import (
    Obj,
    TimeWindow,
    optional_flag,
    optional_number,
    required,
    required_number,
    scaled,
    timestamp_us,
)
from ingest.decode.result import Decoded, Invalid, rejected
from kernel.dlq import RejectReason

SECONDS_PER_HOUR: Final = 3600.0


def decode(data: object, device_id: str, window: TimeWindow) -> Decoded:
    """A Position from a location message; no outcome at all for other message types.

    Transitions, waypoints, lwt, cards, status and the like carry no fix and are
    ignored: the one case where a message yields neither a record nor a rejection.
    """
    if not isinstance(data, dict):
        return rejected(RejectReason.WRONG_TYPE, "payload: not a JSON object")
    try:
        kind = _message_type(data)
        if kind != "location":
            return Decoded([], [])
        return Decoded([position(data, device_id, window)], [])
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)


def _message_type(data: Obj) -> str:
    kind = required(data, "_type", "_type")
    if not isinstance(kind, str):
        raise Invalid(RejectReason.WRONG_TYPE, "_type: not a string")
    if kind == "encrypted":
        # An encrypted message may hold a location we cannot read: dead-letter it, don't drop it.
        raise Invalid(RejectReason.WRONG_TYPE, "_type: encrypted payloads are not supported")
    return kind


def position(data: Obj, device_id: str, window: TimeWindow) -> Position:
    """A Position from a `_type: location` object."""
    return Position(
        device_id=device_id,
        ts_us=timestamp_us(required(data, "tst", "tst"), "tst", window),
        lat=required_number(data, "lat", "lat", -90.0, 90.0),
        lon=required_number(data, "lon", "lon", -180.0, 180.0),
        # The apps add `vel` only when it is not zero, so a missing `vel` is 0 km/h.
        speed_kmh=optional_number(data, "vel", "vel", low=0.0) or 0.0,
        # `cog` is also left out when zero, but Android never sends it: absence stays unknown.
        heading=optional_number(data, "cog", "cog", 0.0, 360.0),
        ignition=optional_flag(data, "ign", "ign", allow_01=True),
        odometer_km=optional_number(data, "odometer", "odometer", low=0.0),
        accuracy_m=optional_number(data, "acc", "acc", low=0.0),
        altitude_m=optional_number(data, "alt", "alt"),
        battery_pct=optional_number(data, "batt", "batt", 0.0, 100.0),
        hours_run=scaled(optional_number(data, "hmc", "hmc", low=0.0), per=SECONDS_PER_HOUR),
    )
