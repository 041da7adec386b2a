"""MQTT → ingest → Kafka → stream → PostgreSQL, through real processes and brokers."""

from __future__ import annotations

import threading
import time
from collections import Counter

import orjson

from kernel.clock import utcnow
from tests.e2e.harness import Pipeline

NOW = utcnow()
NOW_MS = int(NOW.timestamp() * 1000)


def reading(pipeline: Pipeline, device: str, seq: int) -> tuple[str, bytes]:
    ts = NOW_MS - 600_000 + seq  # distinct, recent, and in the past
    body = {"ts": ts, "hours_run": 10.0 + seq / 1000, "running": True, "metrics": {"t": seq}}
    return f"toir/v1/devices/{pipeline.device(device)}/telemetry", orjson.dumps(body)


def position(pipeline: Pipeline, device: str, seq: int) -> tuple[str, bytes]:
    body = {"ts": NOW_MS - 600_000 + seq, "lat": 55.7, "lon": 37.6, "speed_kmh": 30}
    return f"toir/v1/devices/{pipeline.device(device)}/position", orjson.dumps(body)


def bad_messages(pipeline: Pipeline) -> tuple[list[tuple[str, bytes]], Counter[str]]:
    topic = f"toir/v1/devices/{pipeline.device('eq')}/telemetry"
    gps = f"toir/v1/devices/{pipeline.device('veh')}/position"
    messages = [
        (topic, b"{not json"),
        (topic, b'{"ts": 1764000000, "metrics": {"t": NaN}}'),
        (topic, b"\xff\xfe\x00garbage"),
        (topic, orjson.dumps({"metrics": {"t": 1}, "running": True})),
        (topic, orjson.dumps({"ts": NOW_MS, "metrics": {"t": "hot"}})),
        (topic, orjson.dumps({"ts": NOW_MS + 3 * 86_400_000, "metrics": {"t": 1}})),
        (topic, orjson.dumps({"ts": 915_148_800_000, "metrics": {"t": 1}})),
        (topic, b'{"ts": 1764000000, "metrics": {"pad": "' + b"x" * 70_000 + b'"}}'),
        (gps, orjson.dumps({"ts": NOW_MS, "lat": 95.0, "lon": 37.0})),
        (f"toir/v1/devices/{pipeline.device('ghost')}/telemetry", orjson.dumps({"ts": NOW_MS})),
        (f"toir/v1/devices/{pipeline.device('off')}/telemetry", orjson.dumps({"ts": NOW_MS})),
    ]
    expected = Counter(
        invalid_json=1,
        not_finite=1,
        not_utf8=1,
        missing_field=1,
        wrong_type=1,
        ts_in_future=1,
        ts_too_old=1,
        payload_too_large=1,
        out_of_range=1,
        unknown_device=1,
        disabled_device=1,
    )
    return messages, expected


def test_valid_messages_are_stored_once_and_invalid_ones_dead_lettered_with_reasons(
    pipeline: Pipeline,
) -> None:
    pipeline.register("eq", "veh")
    pipeline.register("off", enabled=False)
    pipeline.start()
    valid = [reading(pipeline, "eq", i) for i in range(200)]
    valid += [position(pipeline, "veh", i) for i in range(100)]
    invalid, expected_reasons = bad_messages(pipeline)
    assert pipeline.publish_all(valid + invalid) == 311

    assert pipeline.wait_stored(300) == 300
    assert pipeline.wait_dead_letters(expected_reasons.total()) == expected_reasons
    time.sleep(1.0)  # nothing more arrives late
    assert pipeline.stored() == 300


def test_the_same_message_published_twice_is_stored_once(pipeline: Pipeline) -> None:
    pipeline.register("eq")
    pipeline.start()
    message = reading(pipeline, "eq", 1)
    assert pipeline.publish_all([message, message, message]) == 3
    assert pipeline.wait_stored(1) == 1
    time.sleep(2.0)
    assert pipeline.stored() == 1


def test_killing_the_stream_worker_mid_run_loses_and_duplicates_nothing(
    pipeline: Pipeline,
) -> None:
    pipeline.register("eq")
    pipeline.start()
    total = 4000
    messages = [reading(pipeline, "eq", i) for i in range(total)]
    publishing = threading.Thread(target=_publish_paced, args=(pipeline, messages, 800.0))
    publishing.start()
    _wait_until(lambda: pipeline.stored() > 500)
    pipeline.stream.kill()
    stored_at_kill = pipeline.stored()
    pipeline.stream.start()
    publishing.join()
    assert stored_at_kill < total, "the kill came too late to test anything"
    assert pipeline.wait_stored(total, timeout_s=90) == total
    time.sleep(2.0)
    assert pipeline.stored() == total


def test_killing_ingest_mid_run_loses_nothing(pipeline: Pipeline) -> None:
    pipeline.register("eq")
    pipeline.start()
    total = 2000
    messages = [reading(pipeline, "eq", i) for i in range(total)]
    publishing = threading.Thread(target=_publish_paced, args=(pipeline, messages, 400.0))
    publishing.start()
    _wait_until(lambda: pipeline.stored() > 300)
    pipeline.ingest.kill()
    time.sleep(1.0)  # the broker queues QoS 1 messages for the persistent session
    pipeline.ingest.start()
    publishing.join()
    assert pipeline.wait_stored(total, timeout_s=90) == total


def _publish_paced(pipeline: Pipeline, messages: list[tuple[str, bytes]], rate: float) -> None:
    publisher = pipeline.publisher()
    started = time.monotonic()
    try:
        for index, (topic, payload) in enumerate(messages):
            publisher.publish(topic, payload)
            ahead_s = index / rate - (time.monotonic() - started)
            if ahead_s > 0:
                time.sleep(ahead_s)
        assert publisher.flush(30.0)
    finally:
        publisher.close()


def _wait_until(condition: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)
