"""A device's batch travels as one Kafka message: packing in ingest, unpacking in the stream."""

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
from ingest.bridge import _packs

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


def test_ingest_packs_consecutive_records_of_one_device_and_kind() -> None:
    a1, a2 = Reading("a", TS_US), Reading("a", TS_US + 1)
    b1 = Reading("b", TS_US)
    fix = Position("a", TS_US, 1.0, 2.0)
    assert _packs([a1, a2, b1, fix, a1]) == [[a1, a2], [b1], [fix], [a1]]
