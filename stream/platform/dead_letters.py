"""Counting dead letters: which row of telemetry.dead_letter_counts each one adds to, and
whether a partition read again is the one counted so far. No I/O here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from kernel import topics
from kernel.clock import EPOCH
from kernel.dlq import reason_of

SOURCE_HEADER: Final = "toir-source-topic"
# Ingest's MQTT subscriptions (ingest/mqtt_source.py). A dead letter's MQTT topic names its
# device, so it is counted under the filter it arrived by: one row per filter, not per device.
MQTT_FILTERS: Final = (
    "toir/v1/devices/+/telemetry",
    "toir/v1/devices/+/position",
    "v1/gateway/telemetry",
    "owntracks/+/+",
)
HTTP_PREFIX: Final = "http:"
UNKNOWN_SOURCE: Final = "unknown"
OTHER_SOURCE: Final = "other"
MINUTE_MS: Final = 60_000


@dataclass(frozen=True, slots=True)
class Letter:
    """One record read from the dead-letter topic."""

    partition: int
    offset: int
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True, order=True)
class CountKey:
    """A row of telemetry.dead_letter_counts."""

    bucket: datetime
    source_topic: str
    reason: str


def tally(letters: Iterable[Letter]) -> Counter[CountKey]:
    """How many dead letters go to each row."""
    return Counter(count_key(letter) for letter in letters)


def count_key(letter: Letter) -> CountKey:
    """The minute the letter was produced in (its Kafka timestamp), its source and reason."""
    bucket = EPOCH + timedelta(minutes=letter.timestamp_ms // MINUTE_MS)
    return CountKey(bucket, source_of(letter.headers), reason_of(letter.headers))


def source_of(headers: tuple[tuple[str, bytes], ...]) -> str:
    """The source topic header, as the MQTT filter it matches when it is an MQTT topic."""
    for key, value in headers:
        if key == SOURCE_HEADER:
            return source_pattern(value.decode("utf-8", "replace"))
    return UNKNOWN_SOURCE


def source_pattern(topic: str) -> str:
    if topic in topics.ALL or topic.startswith(HTTP_PREFIX):
        return topic
    return next((f for f in MQTT_FILTERS if matches(f, topic)), OTHER_SOURCE)


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic matching with single-level wildcards (MQTT 3.1.1, section 4.7.1.3)."""
    wanted, levels = topic_filter.split("/"), topic.split("/")
    if len(wanted) != len(levels):
        return False
    return all(w in ("+", level) for w, level in zip(wanted, levels, strict=True))


@dataclass(frozen=True, slots=True)
class Position:
    """How far one partition is counted: the next offset to count, and the Kafka timestamp
    of the last record counted, to recognise that record when it is read again."""

    next_offset: int
    last_timestamp_ms: int | None


class Resume(Enum):
    CONTINUE = "continue"  # the log counted so far: go on after the last counted record
    RESTART = "restart"  # another log under the same name: count it from its start
    UNDECIDED = "undecided"  # nothing read yet to tell


def resume_check(position: Position, first: Letter | None, highwater: int | None) -> Resume:
    """After seeking to the last counted record: is this the log that was counted?

    `first` is the first record read since the seek, `highwater` the partition's end as a
    fetch reported it. A topic recreated (or a broker that kept it in memory restarted)
    starts again at offset 0: its record at that offset is another one, or it has none.
    """
    last = position.next_offset - 1
    if first is not None:
        if first.offset > last:  # the last counted record was deleted by retention
            return Resume.CONTINUE
        same = first.offset == last and first.timestamp_ms == position.last_timestamp_ms
        return Resume.CONTINUE if same else Resume.RESTART
    if highwater is not None and highwater < position.next_offset:
        return Resume.RESTART  # shorter than what was counted: not the same log
    return Resume.UNDECIDED
