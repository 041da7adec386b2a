from datetime import UTC, datetime

import pytest

from kernel import topics
from kernel.dlq import DeadLetter, RejectReason
from stream.platform.dead_letters import (
    CountKey,
    Letter,
    Position,
    Resume,
    count_key,
    resume_check,
    source_pattern,
    tally,
)

T0_MS = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


def letter(
    source: str = "toir/v1/devices/eq-1/telemetry",
    reason: RejectReason = RejectReason.INVALID_JSON,
    *,
    timestamp_ms: int = T0_MS,
    partition: int = 0,
    offset: int = 0,
) -> Letter:
    headers = DeadLetter(b"{", source, reason, "detail", 1).headers()
    return Letter(partition, offset, timestamp_ms, tuple(headers))


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("toir/v1/devices/eq-1/telemetry", "toir/v1/devices/+/telemetry"),
        ("toir/v1/devices/veh.7/position", "toir/v1/devices/+/position"),
        ("owntracks/anna/phone", "owntracks/+/+"),
        ("v1/gateway/telemetry", "v1/gateway/telemetry"),
        ("http:osmand", "http:osmand"),
        (topics.READINGS, topics.READINGS),
        (topics.EVENTS, topics.EVENTS),
        ("toir/v1/devices/eq-1/telemetry/extra", "other"),
        ("somewhere/else", "other"),
    ],
)
def test_a_source_topic_is_counted_under_the_filter_it_arrived_by(topic: str, pattern: str) -> None:
    assert source_pattern(topic) == pattern


def test_a_letter_counts_in_the_minute_of_its_kafka_timestamp() -> None:
    key = count_key(letter(timestamp_ms=T0_MS + 59_999, reason=RejectReason.NOT_FINITE))
    assert key == CountKey(
        datetime(2025, 11, 24, 16, 0, tzinfo=UTC), "toir/v1/devices/+/telemetry", "not_finite"
    )


def test_a_record_without_toir_headers_is_counted_as_unknown_and_unlabelled() -> None:
    key = count_key(Letter(0, 0, T0_MS, ()))
    assert (key.source_topic, key.reason) == ("unknown", "unlabelled")


def test_tally_adds_up_per_minute_source_and_reason() -> None:
    counts = tally(
        [
            letter("toir/v1/devices/a/telemetry"),
            letter("toir/v1/devices/b/telemetry"),
            letter("toir/v1/devices/b/telemetry", RejectReason.UNKNOWN_DEVICE),
            letter("toir/v1/devices/a/telemetry", timestamp_ms=T0_MS + 60_000),
        ]
    )
    minute = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
    next_minute = datetime(2025, 11, 24, 16, 1, tzinfo=UTC)
    telemetry = "toir/v1/devices/+/telemetry"
    assert counts == {
        CountKey(minute, telemetry, "invalid_json"): 2,
        CountKey(minute, telemetry, "unknown_device"): 1,
        CountKey(next_minute, telemetry, "invalid_json"): 1,
    }


COUNTED = Position(next_offset=10, last_timestamp_ms=T0_MS)


@pytest.mark.parametrize(
    ("first", "highwater", "verdict"),
    [
        # The last counted record, read again: the same log.
        (letter(offset=9, timestamp_ms=T0_MS), 10, Resume.CONTINUE),
        # Retention removed it: the log goes on after it.
        (letter(offset=12, timestamp_ms=T0_MS + 5), 20, Resume.CONTINUE),
        # Another record at that offset: the topic was made again and has grown past it.
        (letter(offset=9, timestamp_ms=T0_MS + 1), 30, Resume.RESTART),
        # An earlier offset (Kafka reset an out-of-range position to the start).
        (letter(offset=0, timestamp_ms=T0_MS + 1), 3, Resume.RESTART),
        # Nothing read: shorter than what was counted, so another log.
        (None, 9, Resume.RESTART),
        (None, 0, Resume.RESTART),
        # Nothing read yet and long enough: wait for the record.
        (None, 10, Resume.UNDECIDED),
        (None, None, Resume.UNDECIDED),
    ],
)
def test_resume_check_tells_the_counted_log_from_a_new_one(
    first: Letter | None, highwater: int | None, verdict: Resume
) -> None:
    assert resume_check(COUNTED, first, highwater) is verdict
