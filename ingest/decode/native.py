"""The native toir payloads on `toir/v1/devices/{device_id}/telemetry` and `.../position`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

from devices.records import Position, Reading
from ingest.decode.fields import (
    NAME_RE,
    Obj,
    TimeWindow,
    label,
    number,
    obj,
    optional_flag,
    optional_number,
    required,
    required_number,
    timestamp_us,
)
from ingest.decode.result import Invalid
from kernel.dlq import RejectReason

MAX_METRICS: Final = 256


def reading(data: Obj, device_id: str, window: TimeWindow) -> Reading:
    """A Reading from `{"ts", "hours_run"?, "running"?, "metrics"?}`."""
    metrics = data.get("metrics")
    return Reading(
        device_id=device_id,
        ts_us=timestamp_us(required(data, "ts", "ts"), "ts", window),
        hours_run=optional_number(data, "hours_run", "hours_run", low=0.0),
        running=optional_flag(data, "running", "running"),
        metrics={} if metrics is None else _metrics(obj(metrics, "metrics")),
    )


def position(data: Obj, device_id: str, window: TimeWindow) -> Position:
    """A Position from `{"ts", "lat", "lon", ...}` with units already in km/h, km, metres."""
    return Position(
        device_id=device_id,
        ts_us=timestamp_us(required(data, "ts", "ts"), "ts", window),
        lat=required_number(data, "lat", "lat", -90.0, 90.0),
        lon=required_number(data, "lon", "lon", -180.0, 180.0),
        speed_kmh=optional_number(data, "speed_kmh", "speed_kmh", low=0.0),
        heading=optional_number(data, "heading", "heading", 0.0, 360.0),
        ignition=optional_flag(data, "ignition", "ignition"),
        odometer_km=optional_number(data, "odometer_km", "odometer_km", low=0.0),
        accuracy_m=optional_number(data, "accuracy_m", "accuracy_m", low=0.0),
        altitude_m=optional_number(data, "altitude_m", "altitude_m"),
        battery_pct=optional_number(data, "battery_pct", "battery_pct", 0.0, 100.0),
        hours_run=optional_number(data, "hours_run", "hours_run", low=0.0),
    )


# Devices send the same few metric names in every reading: a name found valid once is
# looked up in a set rather than matched again. Bounded, so that a flood of distinct names
# cannot grow it; past the bound names are matched as before.
_VALID_NAMES: set[str] = set()
VALID_NAMES_KEPT: Final = 10_000
_FLOATS_ONLY: Final = {float}


def metric_name(name: str, prefix: str) -> str:
    """name if it is a valid metric name, else wrong_type."""
    if name in _VALID_NAMES:
        return name
    if NAME_RE.fullmatch(name):
        if len(_VALID_NAMES) < VALID_NAMES_KEPT:
            _VALID_NAMES.add(name)
        return name
    raise Invalid(RejectReason.WRONG_TYPE, f"{prefix}{label(name)!r}: not a valid metric name")


def check_count(count: int, field: str) -> None:
    """Refuse more than MAX_METRICS metrics in one reading."""
    if count > MAX_METRICS:
        detail = f"{field}: {count} metrics, limit {MAX_METRICS}"
        raise Invalid(RejectReason.OUT_OF_RANGE, detail)


def metric_value(value: Any, prefix: str, name: str) -> float:
    """A finite metric value; the detail naming it is only built when it is refused."""
    if value.__class__ is float and value - value == 0.0:
        return value  # a finite float: the common case, checked without a call
    return number(value, f"{prefix}{label(name)}")


def _metrics(data: Obj) -> dict[str, float]:
    check_count(len(data), "metrics")
    if all_known_and_finite(data):
        return dict(data)
    return {
        metric_name(name, "metrics."): metric_value(value, "metrics.", name)
        for name, value in data.items()
    }


def all_known_and_finite(data: Obj) -> bool:
    """The usual metrics object, checked by a few C calls instead of two per metric: every
    name valid before, every value a float, and their exact sum finite, which it is only
    if each of them is (an infinity or a NaN makes it one too; so does an overflow of the
    sum, and then the slow path looks at each value)."""
    values = data.values()
    if not (known_names(data) and set(map(type, values)) == _FLOATS_ONLY):
        return False
    try:
        return math.isfinite(math.fsum(values))
    except (OverflowError, ValueError):  # a sum past float range; or inf and -inf
        return False


def known_names(names: Iterable[str]) -> bool:
    """Whether every name is one seen valid before."""
    return _VALID_NAMES.issuperset(names)
