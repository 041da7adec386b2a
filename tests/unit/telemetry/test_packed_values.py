"""Every stream consumer reads single records and packs alike; a bad pack member is refused
alone, with its own bytes, and the members around it still count."""

from __future__ import annotations

import orjson
import pytest

from devices.records import (
    Position,
    Reading,
    RecordError,
    decode_reading,
    encode,
    encode_many,
)
from stream.packed import in_steps, positions_in, readings_in

TS_US = 1_764_000_000_000_000


def _readings(count: int) -> list[Reading]:
    return [Reading(f"eq-{n}", TS_US + n, 1.0, True, {"t": float(n)}) for n in range(count)]


def test_packs_and_single_records_give_every_record_in_order() -> None:
    first, second = _readings(5), _readings(3)
    found = readings_in([encode_many(first), encode(second[0]), encode_many(second[1:])])
    assert found.records == [*first, *second]
    assert found.bad == []


def test_a_bad_member_is_refused_alone_with_its_bytes_and_index() -> None:
    good = [orjson.loads(encode(r)) for r in _readings(4)]
    bad_member = {"device_id": "eq-x", "ts_us": "yesterday"}
    value = orjson.dumps([good[0], good[1], bad_member, good[2], good[3]])
    found = readings_in([value])
    assert [r.device_id for r in found.records] == ["eq-0", "eq-1", "eq-2", "eq-3"]
    [bad] = found.bad
    assert (orjson.loads(bad.value), bad.member_index) == (bad_member, 2)
    assert "ts_us" in bad.detail


def test_a_value_that_is_not_json_is_refused_whole() -> None:
    found = readings_in([b"{not json", encode(_readings(1)[0])])
    assert [b.value for b in found.bad] == [b"{not json"]
    assert found.bad[0].member_index is None
    assert len(found.records) == 1


def test_an_empty_pack_is_refused_whole() -> None:
    assert [b.value for b in readings_in([b"[]"]).bad] == [b"[]"]


def test_positions_unpack_the_same_way() -> None:
    fixes = [Position("veh-1", TS_US + n, 55.0, 37.0 + n / 100) for n in range(3)]
    broken = orjson.dumps([orjson.loads(encode(fixes[0])), {"device_id": "veh-1"}])
    found = positions_in([encode_many(fixes), broken])
    assert found.records == [*fixes, fixes[0]]
    assert [b.member_index for b in found.bad] == [1]


def test_a_refused_member_is_exactly_what_the_single_record_decoder_refuses() -> None:
    member = {"device_id": "eq-1", "ts_us": TS_US, "metrics": {"t": "hot"}}
    found = readings_in([orjson.dumps([member, member])])
    assert len(found.bad) == 2
    with pytest.raises((RecordError, TypeError)) as refused:
        decode_reading(found.bad[0].value)
    assert found.bad[0].detail == f"{type(refused.value).__name__}: {refused.value}"


def test_a_batch_is_taken_in_steps_of_whole_packs() -> None:
    packs = [encode_many(_readings(30)) for _ in range(5)]
    steps = list(in_steps([*packs, b"junk"], readings_in, max_records=50))
    assert [len(s.records) for s in steps] == [60, 60, 30]
    assert [len(s.bad) for s in steps] == [0, 0, 1]
    assert [r for s in steps for r in s.records] == _readings(30) * 5
