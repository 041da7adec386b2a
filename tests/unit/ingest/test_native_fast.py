"""The one-pass decoder of usual native telemetry against the general path: for every
payload, decode_mqtt gives the same records and rejections with it as without it, and it
does take the usual messages (else the comparison would hold trivially)."""

from __future__ import annotations

import random

import orjson
import pytest

from ingest.decode.fields import TimeWindow
from ingest.decode.native_fast import native_readings
from ingest.decode.result import DEFAULT_LIMITS
from ingest.decode.router import decode_mqtt

TOPIC = "toir/v1/devices/pump-7/telemetry"
RECEIVED_US = 1_780_000_000_000_000
NOW_MS = RECEIVED_US // 1000


def _both_ways(payload: bytes) -> None:
    general = decode_mqtt(TOPIC, payload, received_us=RECEIVED_US, usual_first=False)
    usual = decode_mqtt(TOPIC, payload, received_us=RECEIVED_US)
    assert usual == general, payload


def _accepted(payload: bytes) -> bool:
    decode_mqtt(TOPIC, payload, received_us=RECEIVED_US, usual_first=False)  # learns names
    window = TimeWindow.of(RECEIVED_US, DEFAULT_LIMITS)
    return native_readings(payload, "pump-7", window) is not None


USUAL = [
    {"ts": NOW_MS, "hours_run": 12.5, "running": True, "metrics": {"temperature_c": 61.5}},
    [{"ts": NOW_MS - i, "metrics": {"temperature_c": 60.0 + i, "current_a": 3}} for i in range(5)],
    {"ts": NOW_MS / 1000, "metrics": {"pressure_bar": 4}},  # epoch seconds, an integer value
    {"ts": "2026-05-28T20:26:40+00:00", "running": False},
    {"ts": NOW_MS, "metrics": None, "hours_run": None, "running": None},
    {"ts": NOW_MS, "metrics": {}},
    {"ts": NOW_MS},
    [
        {"ts": NOW_MS - 2, "hours_run": 3.0, "metrics": {"current_a": 1.0}},
        {"ts": NOW_MS - 1, "metrics": None},
        {"ts": NOW_MS, "hours_run": 0.0, "running": False},
    ],
]

_NOW = str(NOW_MS).encode()

UNUSUAL = [
    b"[]",
    b"not json",
    b"\xff\xfe",
    b'{"ts": "\xff"}',
    b'{"ts": NaN}',
    b'{"ts": 1, "metrics": {"a": Infinity}}',
    b'{"ts": 1, "metrics": {"a": 1e999}}',
    b'{"ts": 1, "hours_run": 1e999}',
    b'{"ts": 99999999999999999999999}',
    b'{"ts": true}',
    b'{"ts": "2026-05-28T20:26:40"}',
    b'{"ts": 1}',
    b'{"ts": 9999999999999, "metrics": {"a": 1.0}}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "hours_run": -1}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "hours_run": true}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "running": 1}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "running": "yes"}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "metrics": {"bad name!": 1.0}}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "metrics": {"a": "hot"}}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "metrics": {"a": {"b": 1}}}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "metrics": [1, 2]}',
    b'{"ts": ' + str(NOW_MS).encode() + b', "values": {"a": 1.0}}',
    b'{"temperature_c": 5.0}',
    b'[{"ts": ' + str(NOW_MS).encode() + b'}, {"ts": 5, "values": {"a": 1}}, 7]',
    b'{"ts": ' + str(NOW_MS).encode() + b', "ts": 1}',
    orjson.dumps({"ts": NOW_MS, "metrics": {f"m{i}": 1.0 for i in range(257)}}),
    orjson.dumps({"ts": NOW_MS, "note": "a key native readings ignore", "running": True}),
    # The checks look at a whole message at once: a bad member anywhere sends it all the
    # general way, and so does a sum of values that overflows though each value is finite.
    b'[{"ts": ' + _NOW + b', "hours_run": 1}, {"ts": ' + _NOW + b', "hours_run": -1}]',
    b'[{"ts": ' + _NOW + b'}, {"ts": ' + _NOW + b', "metrics": {"a": 1e999}}]',
    b'[{"ts": '
    + _NOW
    + b', "metrics": {"a": 1e308}}, {"ts": '
    + _NOW
    + b', "metrics": {"a": 1e308}}]',
    b'[{"ts": ' + _NOW + b', "hours_run": 1e308}, {"ts": ' + _NOW + b', "hours_run": 1e308}]',
]


@pytest.mark.parametrize("message", USUAL)
def test_a_usual_message_is_taken_in_one_pass_with_the_same_records(message: object) -> None:
    payload = orjson.dumps(message)
    _both_ways(payload)
    assert _accepted(payload)


@pytest.mark.parametrize("payload", UNUSUAL)
def test_any_other_message_is_left_to_the_general_path(payload: bytes) -> None:
    _both_ways(payload)
    assert not _accepted(payload)


def _random_item(rng: random.Random) -> object:
    item: dict[str, object] = {}
    item["ts"] = rng.choice(
        [NOW_MS - rng.randrange(10**9), NOW_MS / 1000, "2026-05-28T20:26:40Z", NOW_MS * 10, -1]
    )
    if rng.random() < 0.5:
        item["hours_run"] = rng.choice([rng.uniform(0, 1e5), 0, -0.5, None, 3])
    if rng.random() < 0.5:
        item["running"] = rng.choice([True, False, None, 1])
    if rng.random() < 0.8:
        names = ["temperature_c", "vibration_mm_s", "pressure_bar", "new.metric_7", "x y"]
        item["metrics"] = {
            rng.choice(names): rng.choice([rng.uniform(-1e3, 1e3), 2, True, "1"])
            for _ in range(rng.randrange(5))
        }
    if rng.random() < 0.05:
        item["values"] = {"a": 1.0}
    return item


def test_random_messages_decode_the_same_either_way() -> None:
    rng = random.Random(20261127)
    taken = 0
    for _ in range(3_000):
        items = [_random_item(rng) for _ in range(rng.randrange(1, 6))]
        payload = orjson.dumps(items if len(items) > 1 or rng.random() < 0.5 else items[0])
        _both_ways(payload)
        taken += _accepted(payload)
    assert taken > 100  # the one-pass path was exercised, not just refused
