"""Shared field validators: device ids, names, numbers, ranges, flags and timestamps.

Each validator returns the normalised value or raises `Invalid` with a detail that
names the field, so a format decoder reads as a list of its fields. JSON null in an
optional field means "not reported" and yields None.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ingest.decode.result import DecodeLimits, Invalid
from kernel.clock import to_epoch_us
from kernel.dlq import RejectReason

Obj = dict[str, Any]

# Device ids and metric names share one alphabet (ARCHITECTURE.md, "Contracts").
NAME_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# 1e11 s is the year 5138 and 1e11 ms is 1973: real clocks never fall between the readings.
MS_THRESHOLD: Final = 100_000_000_000
EPOCH_CEILING: Final = 1e16  # milliseconds: the year ~318,000
MAX_LABEL_CHARS: Final = 64
INF: Final = math.inf


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The accepted timestamp range for one message, fixed when it was received."""

    received_us: int
    min_us: int
    max_us: float
    max_future_s: float

    @classmethod
    def of(cls, received_us: int, limits: DecodeLimits) -> TimeWindow:
        """The window for a message received at received_us."""
        max_us = received_us + limits.max_future_s * 1_000_000
        return cls(received_us, limits.min_ts_us, max_us, limits.max_future_s)


def label(value: object) -> str:
    """A device-supplied name made safe for a detail: truncated and UTF-8 encodable."""
    text = value if isinstance(value, str) else type(value).__name__
    return text[:MAX_LABEL_CHARS].encode("utf-8", "backslashreplace").decode("utf-8")


def device_id(value: object, field: str) -> str:
    """A device id, or invalid_device_id."""
    if isinstance(value, str) and NAME_RE.fullmatch(value):
        return value
    raise Invalid(RejectReason.INVALID_DEVICE_ID, f"{field}: {label(value)!r} is not a device id")


def obj(value: object, field: str) -> Obj:
    """A JSON object, or wrong_type."""
    if isinstance(value, dict):
        return value
    raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not a JSON object")


def required(data: Obj, key: str, field: str) -> Any:
    """The value under key, or missing_field."""
    if key in data:
        return data[key]
    raise Invalid(RejectReason.MISSING_FIELD, f"{field}: missing")


def number(value: object, field: str) -> float:
    """A finite JSON number (bool is not one), as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not a number")
    try:
        result = float(value)
    except OverflowError:  # an integer beyond float range
        raise Invalid(RejectReason.NOT_FINITE, f"{field}: not finite") from None
    if math.isfinite(result):
        return result
    raise Invalid(RejectReason.NOT_FINITE, f"{field}: not finite")


def bounded(value: float, field: str, low: float = -INF, high: float = INF) -> float:
    """value if low <= value <= high, else out_of_range."""
    if low <= value <= high:
        return value
    if high == INF:
        raise Invalid(RejectReason.OUT_OF_RANGE, f"{field}: {value:g} is below {low:g}")
    raise Invalid(RejectReason.OUT_OF_RANGE, f"{field}: {value:g} not in [{low:g}, {high:g}]")


def required_number(data: Obj, key: str, field: str, low: float = -INF, high: float = INF) -> float:
    """A required finite number within [low, high]."""
    return bounded(number(required(data, key, field), field), field, low, high)


def optional_number(
    data: Obj, key: str, field: str, low: float = -INF, high: float = INF
) -> float | None:
    """An optional finite number within [low, high]; absent or null gives None."""
    value = data.get(key)
    if value is None:
        return None
    return bounded(number(value, field), field, low, high)


def scaled(value: float | None, *, times: float = 1.0, per: float = 1.0) -> float | None:
    """value * times / per (a unit conversion), keeping None."""
    return None if value is None else value * times / per


def flag(value: object, field: str, *, allow_01: bool = False) -> bool:
    """A JSON boolean (and, where the format allows it, the numbers 0 and 1)."""
    if isinstance(value, bool):
        return value
    if allow_01 and isinstance(value, int | float) and value in (0, 1):
        return value == 1
    raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not a boolean")


def optional_flag(data: Obj, key: str, field: str, *, allow_01: bool = False) -> bool | None:
    """An optional flag; absent or null gives None."""
    value = data.get(key)
    return None if value is None else flag(value, field, allow_01=allow_01)


def timestamp_us(value: object, field: str, window: TimeWindow) -> int:
    """Microseconds since the epoch from ISO-8601 with offset, epoch seconds or epoch ms."""
    us = _iso_us(value, field) if isinstance(value, str) else _epoch_us(value, field)
    if us < window.min_us:
        raise Invalid(RejectReason.TS_TOO_OLD, f"{field}: before the oldest accepted time")
    if us > window.max_us:
        detail = f"{field}: more than {window.max_future_s:g} s after the receive time"
        raise Invalid(RejectReason.TS_IN_FUTURE, detail)
    return us


def _iso_us(text: str, field: str) -> int:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Invalid(RejectReason.WRONG_TYPE, f"{field}: timestamp needs a UTC offset")
    return to_epoch_us(parsed)


def _epoch_us(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        # Integer arithmetic keeps epoch values exact to the microsecond.
        return value * 1_000 if value >= MS_THRESHOLD else value * 1_000_000
    if not isinstance(value, float):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field}: not a timestamp")
    seconds = number(value, field)
    # Far outside any real clock: decide here, before the product overflows to inf.
    if seconds >= EPOCH_CEILING:
        raise Invalid(RejectReason.TS_IN_FUTURE, f"{field}: far in the future")
    if seconds < 0:
        raise Invalid(RejectReason.TS_TOO_OLD, f"{field}: before 1970")
    return round(seconds * 1_000) if seconds >= MS_THRESHOLD else round(seconds * 1_000_000)
