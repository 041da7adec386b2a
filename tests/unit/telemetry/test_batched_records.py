"""Many records travel as one Kafka message (a pack): how the stream decodes one."""

import orjson
import pytest

from devices.records import (
    Position,
    Reading,
    RecordError,
    decode_positions,
    decode_readings,
    encode,
    encode_many,
)

TS_US = 1_764_000_000_000_000


def test_a_batch_of_one_device_round_trips_as_one_value() -> None:
    batch = [Reading("eq-1", TS_US + i, 1.0, True, {"t": float(i)}) for i in range(50)]
    assert decode_readings(encode_many(batch)) == batch


def test_a_single_record_value_still_decodes() -> None:
    fix = Position("v", TS_US, 55.7, 37.6, 10.0)
    assert decode_positions(encode(fix)) == [fix]


@pytest.mark.parametrize(
    "value",
    [b"[]", b"[1]", orjson.dumps([{"device_id": "eq", "ts_us": TS_US}, {"device_id": 5}])],
)
def test_a_bad_item_condemns_the_whole_value(value: bytes) -> None:
    with pytest.raises((RecordError, TypeError)):
        decode_readings(value)
