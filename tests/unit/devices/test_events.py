"""The domain-event vocabulary (kernel.events): names, wire form, deterministic ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from kernel.events import (
    EVENT_TYPES,
    DeviceSilent,
    EventDecodeError,
    SiteLeft,
    Subject,
    SubjectKind,
    event_id_for,
    from_json,
)

AT = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)


def silent() -> DeviceSilent:
    return DeviceSilent(
        event_id=event_id_for("DeviceSilent", "pump-1", 1),
        occurred_at=AT,
        subject=Subject(SubjectKind.EQUIPMENT, "pump-1"),
        evidence={"device_id": "ctl-1", "expected_interval_s": 600.0},
    )


def test_the_vocabulary_has_exactly_the_architecture_names() -> None:
    assert set(EVENT_TYPES) == {
        "AnomalyDetected", "MaintenanceDue", "SiteEntered", "SiteLeft",
        "TripCompleted", "SlaAtRisk", "SlaBreached", "DeviceSilent",
    }  # fmt: skip


def test_an_event_travels_as_json_with_type_subject_and_evidence() -> None:
    assert orjson.loads(silent().to_json()) == {
        "event_id": silent().event_id,
        "type": "DeviceSilent",
        "occurred_at": "2025-11-24T12:00:00+00:00",
        "subject": {"kind": "equipment", "id": "pump-1"},
        "evidence": {"device_id": "ctl-1", "expected_interval_s": 600.0},
    }


def test_from_json_gives_back_the_same_event_of_the_right_type() -> None:
    event = from_json(silent().to_json())
    assert isinstance(event, DeviceSilent)
    assert event == silent()
    assert DeviceSilent.from_json(silent().to_json()) == silent()


def test_occurred_at_is_written_in_utc() -> None:
    local = silent().__class__(
        event_id="x",
        occurred_at=AT.astimezone(timezone(timedelta(hours=3))),
        subject=Subject(SubjectKind.DEVICE, "d"),
    )
    assert orjson.loads(local.to_json())["occurred_at"] == "2025-11-24T12:00:00+00:00"


def test_event_ids_are_deterministic_and_distinct_per_type_and_parts() -> None:
    assert event_id_for("DeviceSilent", "a", 1) == event_id_for("DeviceSilent", "a", 1)
    assert event_id_for("DeviceSilent", "a", 1) != event_id_for("DeviceSilent", "a", 2)
    assert event_id_for("DeviceSilent", "a", 1) != event_id_for("SiteLeft", "a", 1)


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"[]",
        b'{"type": "Nope"}',
        b'{"type": "DeviceSilent", "event_id": "x"}',
        b'{"type": "DeviceSilent", "event_id": "x", "occurred_at": "2025-01-01T00:00:00",'
        b' "subject": {"kind": "device", "id": "d"}}',
        b'{"type": "DeviceSilent", "event_id": "x", "occurred_at": "2025-01-01T00:00:00Z",'
        b' "subject": {"kind": "planet", "id": "d"}}',
    ],
)
def test_anything_else_is_an_event_decode_error(value: bytes) -> None:
    with pytest.raises(EventDecodeError):
        from_json(value)


def test_a_concrete_class_refuses_another_type() -> None:
    with pytest.raises(EventDecodeError, match="not SiteLeft"):
        SiteLeft.from_json(silent().to_json())
