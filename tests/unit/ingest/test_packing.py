"""Ingest packs a batch's records per partition; each device stays on its own partition."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from devices.records import Position, Reading, decode_positions, decode_readings, encode
from ingest.packing import Pack, PartitionMap, pack_records
from kernel import topics

TS_US = 1_764_000_000_000_000
PARTITIONS = (0, 1, 2, 3)


def _partition_map() -> PartitionMap:
    partitions = PartitionMap()
    partitions.update(topics.READINGS, PARTITIONS)
    partitions.update(topics.POSITIONS, PARTITIONS)
    return partitions


def _readings(devices: int, per_device: int = 1) -> list[Reading]:
    return [
        Reading(f"eq-{d}", TS_US + n, 1.0 + n, True, {"t": float(d)})
        for n in range(per_device)
        for d in range(devices)
    ]


def _pack(records: list[Reading], *, max_bytes: int = 64 * 1024) -> list[Pack]:
    return pack_records(records, _partition_map().partition, max_bytes=max_bytes)


def test_every_record_goes_where_kafka_would_put_it_alone_keyed_by_its_device() -> None:
    partitioner = DefaultPartitioner()
    for pack in _pack(_readings(200)):
        for reading in decode_readings(pack.value()):
            expected = partitioner(reading.device_id.encode(), list(PARTITIONS), list(PARTITIONS))
            assert pack.partition == expected


def test_a_batch_becomes_one_pack_per_partition_holding_every_record() -> None:
    readings = _readings(200, per_device=2)
    packs = _pack(readings)
    assert sorted(p.partition for p in packs) == list(PARTITIONS)
    unpacked = [r for p in packs for r in decode_readings(p.value())]
    assert sorted(unpacked, key=_order) == sorted(readings, key=_order)


def test_each_partition_keeps_the_order_of_its_records_across_full_packs() -> None:
    readings = _readings(50, per_device=20)
    packs = _pack(readings, max_bytes=2_000)
    assert len(packs) > 2 * len(PARTITIONS)
    assert all(p.size <= 2_000 for p in packs)
    for partition in PARTITIONS:
        sent = [r for p in packs if p.partition == partition for r in decode_readings(p.value())]
        assert sent == [r for r in readings if r in sent]
    assert sum(len(decode_readings(p.value())) for p in packs) == len(readings)


def test_a_pack_of_many_devices_has_no_key_and_one_of_a_single_device_its_id() -> None:
    [mixed] = [p for p in _pack(_readings(40)) if p.partition == 0]
    assert mixed.key() is None
    one_device = [Reading("eq-7", TS_US + n) for n in range(5)]
    [pack] = _pack(one_device)
    assert pack.key() == b"eq-7"
    assert decode_readings(pack.value()) == one_device


def test_a_devices_run_of_records_packs_as_the_records_would_one_by_one() -> None:
    run = [Reading("eq-7", TS_US + n, 1.0 + n, True, {"t": 0.5 * n}) for n in range(50)]
    [pack] = _pack(run)
    assert pack.value() == b"[" + b",".join(map(encode, run)) + b"]"
    assert (pack.records, len(pack.chunks)) == (50, 1)  # encoded by one call


def test_a_run_too_big_for_one_pack_is_spread_over_packs_in_order() -> None:
    run = [Reading("eq-7", TS_US + n, 1.0 + n, True, {"t": 0.5 * n}) for n in range(50)]
    packs = _pack(run, max_bytes=1_000)
    assert len(packs) > 1
    assert all(p.size <= 1_000 for p in packs)
    assert [r for p in packs for r in decode_readings(p.value())] == run


def test_a_lone_record_travels_exactly_as_it_would_unpacked() -> None:
    reading = Reading("eq-1", TS_US, 3.5, False, {"p": 1.0})
    [pack] = _pack([reading])
    assert (pack.value(), pack.key()) == (encode(reading), b"eq-1")


def test_readings_and_positions_go_to_their_own_topics() -> None:
    fix = Position("veh-1", TS_US, 55.7, 37.6)
    reading = Reading("veh-1", TS_US)
    packs = pack_records([reading, fix, reading], _partition_map().partition)
    by_topic = {p.topic: p for p in packs}
    assert set(by_topic) == {topics.READINGS, topics.POSITIONS}
    assert decode_positions(by_topic[topics.POSITIONS].value()) == [fix]
    assert decode_readings(by_topic[topics.READINGS].value()) == [reading, reading]


def test_a_topic_with_new_partitions_places_devices_afresh() -> None:
    partitions = PartitionMap()
    partitions.update(topics.READINGS, [0])
    assert {partitions.partition(topics.READINGS, f"eq-{n}") for n in range(50)} == {0}
    partitions.update(topics.READINGS, range(8))
    assert len({partitions.partition(topics.READINGS, f"eq-{n}") for n in range(50)}) > 1


def _order(reading: Reading) -> tuple[str, int]:
    return (reading.device_id, reading.ts_us)
