"""ThingsBoard gateway messages on `v1/gateway/telemetry`."""

from __future__ import annotations

from devices.records import Reading
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    GATEWAY_TOPIC,
    RECEIVED_US,
    TS_MS,
    TS_US,
    mqtt,
    only_reading,
    only_rejection,
)


def entry(**values: object) -> dict[str, object]:
    return {"ts": TS_MS, "values": values}


def test_each_device_entry_is_a_reading_for_that_device() -> None:
    decoded = mqtt(
        GATEWAY_TOPIC, {"pump-1": [entry(temp=20), entry(temp=21)], "pump-2": [entry(rpm=9)]}
    )
    assert decoded.records == [
        Reading("pump-1", TS_US, None, None, {"temp": 20.0}),
        Reading("pump-1", TS_US, None, None, {"temp": 21.0}),
        Reading("pump-2", TS_US, None, None, {"rpm": 9.0}),
    ]
    assert decoded.rejections == []


def test_a_single_object_entry_is_accepted_instead_of_a_list() -> None:
    reading = only_reading(mqtt(GATEWAY_TOPIC, {"pump-1": entry(temp=20)}))
    assert (reading.device_id, reading.metrics) == ("pump-1", {"temp": 20.0})


def test_entry_without_ts_is_read_at_the_receive_time() -> None:
    reading = only_reading(mqtt(GATEWAY_TOPIC, {"pump-1": [{"temp": 20}]}))
    assert reading.ts_us == RECEIVED_US


def test_item_index_counts_entries_across_devices_in_order() -> None:
    message = {"pump-1": [entry(temp=1), entry(temp=2)], "pump-2": [entry(temp=1), entry(mode="x")]}
    decoded = mqtt(GATEWAY_TOPIC, message)
    assert len(decoded.records) == 3
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [(RejectReason.WRONG_TYPE, 3)]


def test_bad_device_id_key_rejects_each_of_its_entries() -> None:
    message = {"pump-1": [entry(temp=1)], "bad id": [entry(temp=1), entry(temp=2)]}
    decoded = mqtt(GATEWAY_TOPIC, message)
    assert [r.device_id for r in decoded.records if isinstance(r, Reading)] == ["pump-1"]
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.INVALID_DEVICE_ID, 1),
        (RejectReason.INVALID_DEVICE_ID, 2),
    ]


def test_entry_that_is_not_an_object_is_wrong_type_at_its_index() -> None:
    decoded = mqtt(GATEWAY_TOPIC, {"pump-1": [entry(temp=1), 5]})
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [(RejectReason.WRONG_TYPE, 1)]


def test_payload_that_is_not_an_object_is_wrong_type() -> None:
    rejection = only_rejection(mqtt(GATEWAY_TOPIC, [entry(temp=1)]))
    assert (rejection.reason, rejection.item_index) == (RejectReason.WRONG_TYPE, None)


def test_message_without_any_entry_is_one_rejection() -> None:
    messages: list[dict[str, list[object]]] = [{}, {"pump-1": []}]
    for message in messages:
        rejection = only_rejection(mqtt(GATEWAY_TOPIC, message))
        assert (rejection.reason, rejection.item_index) == (RejectReason.MISSING_FIELD, None)
