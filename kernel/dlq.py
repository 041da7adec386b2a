"""The dead-letter vocabulary: why a message was refused, and how that travels.

A dead letter keeps the original bytes as its Kafka value; the source topic, the
reason, a human-readable detail and the receive time go in record headers, so a
replay tool can re-publish the value exactly as the device sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RejectReason(StrEnum):
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    INVALID_DEVICE_ID = "invalid_device_id"
    UNKNOWN_DEVICE = "unknown_device"
    DISABLED_DEVICE = "disabled_device"
    UNKNOWN_TOPIC = "unknown_topic"
    DB_REJECTED = "db_rejected"
    UNDECODABLE_RECORD = "undecodable_record"
    EVENT_REJECTED = "event_rejected"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    payload: bytes
    source_topic: str
    reason: RejectReason
    detail: str
    received_us: int
    item_index: int | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("toir-source-topic", self.source_topic.encode()),
            ("toir-reason", self.reason.value.encode()),
            ("toir-detail", self.detail.encode()[:1024]),
            ("toir-received-us", str(self.received_us).encode()),
        ]
        if self.item_index is not None:
            headers.append(("toir-item-index", str(self.item_index).encode()))
        return headers


def reason_of(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> str:
    """The reason header of a dead letter read back from Kafka."""
    for key, value in headers:
        if key == "toir-reason":
            return value.decode()
    return "unlabelled"
