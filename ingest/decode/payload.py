"""From raw bytes to JSON, and from a JSON object or array to one outcome per item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from devices.records import Position, Reading
from ingest.decode.fields import Obj
from ingest.decode.result import Decoded, DecodeLimits, Invalid, Rejection, rejected
from kernel.dlq import RejectReason

ItemDecoder = Callable[[Obj], Reading | Position]


def too_large(size: int, limits: DecodeLimits) -> Decoded | None:
    """A payload_too_large rejection when size exceeds the limit, else None."""
    if size <= limits.max_payload_bytes:
        return None
    detail = f"payload: {size} bytes, limit {limits.max_payload_bytes}"
    return rejected(RejectReason.PAYLOAD_TOO_LARGE, detail)


def parse_json(payload: bytes) -> Any:
    """The JSON value of payload; raises Invalid (not_utf8, invalid_json)."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _parse_leniently(payload)


def _parse_leniently(payload: bytes) -> Any:
    # orjson refuses NaN, Infinity and numbers that overflow a double. The stdlib parser
    # reads them as float nan/inf, so the field validators can report them as not_finite
    # and name the field, instead of calling a whole array invalid JSON.
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(RejectReason.NOT_UTF8, "payload: not UTF-8") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid(RejectReason.INVALID_JSON, "payload: invalid JSON") from None


def decode_items(data: object, decode_one: ItemDecoder, field: str = "payload") -> Decoded:
    """One outcome for a JSON object, or one per element of a non-empty JSON array."""
    if isinstance(data, dict):
        return _decode_one(data, decode_one)
    if not isinstance(data, list):
        return rejected(RejectReason.WRONG_TYPE, f"{field}: not a JSON object or array")
    if not data:
        return rejected(RejectReason.MISSING_FIELD, f"{field}: empty array")
    decoded = Decoded([], [])
    for index, item in enumerate(data):
        add_item(decoded, item, decode_one, index)
    return decoded


def add_item(decoded: Decoded, item: object, decode_one: ItemDecoder, index: int) -> None:
    """Append the record of one array element, or its rejection carrying index."""
    if not isinstance(item, dict):
        reject = Rejection(RejectReason.WRONG_TYPE, "item: not a JSON object", index)
        decoded.rejections.append(reject)
        return
    try:
        decoded.records.append(decode_one(item))
    except Invalid as exc:
        decoded.rejections.append(Rejection(exc.reason, exc.detail, index))


def _decode_one(data: Obj, decode_one: ItemDecoder) -> Decoded:
    try:
        return Decoded([decode_one(data)], [])
    except Invalid as exc:
        return rejected(exc.reason, exc.detail)
