"""A simulator fault becomes AnomalyDetected on toir.events, and a plan falls due as
MaintenanceDue, through real `toir ingest` and `toir stream` between real brokers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from devices.records import Reading
from devices.simulator.codec import encode_reading, telemetry_topic
from devices.simulator.faults import FaultKind, FaultSpec
from devices.simulator.fleet import Fleet, FleetConfig
from kernel import topics
from kernel.clock import now_us
from kernel.events import AnomalyDetected, DomainEvent, MaintenanceDue, from_json
from kernel.urls import kafka_bootstrap
from predictive.settings import DEMO_DETECTOR
from tests.e2e.harness import Pipeline
from toir.fleet_registry import register_fleet
from toir.processes import ServiceUrls

US_PER_S = 1_000_000
INTERVAL_S = 1.0
FAULT_AFTER_S = 45
SIMULATED_S = 75
EVENTS_TIMEOUT_S = 60.0


@pytest.fixture
def pipeline(
    database_url: str,
    private_mqtt_url: str,
    kafka_url: str,
    tmp_path: Path,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Pipeline]:
    # The stream reads these at start: units a second apart, the plans checked every second.
    monkeypatch.setenv("TOIR_ANOMALY_DETECTOR", json.dumps(DEMO_DETECTOR))
    monkeypatch.setenv("TOIR_PLANS_CHECK_INTERVAL_S", "1")
    running = Pipeline.create(
        ServiceUrls(database_url, private_mqtt_url, kafka_url), tmp_path, unique
    )
    try:
        yield running
    finally:
        running.stop()


def _fleet(start_us: int) -> tuple[Fleet, str]:
    unit = Fleet(FleetConfig(equipment=2, vehicles=0, seed=3)).equipment[0].id
    fault = FaultSpec(FaultKind.OVERHEATING, unit, start_us + FAULT_AFTER_S * US_PER_S, 600.0)
    config = replace(FleetConfig(equipment=2, vehicles=0, seed=3), faults=(fault,))
    return Fleet(config, equipment_interval_s=INTERVAL_S), unit


def _messages(fleet: Fleet, start_us: int) -> list[tuple[str, bytes]]:
    samples: list[Reading] = []
    for second in range(SIMULATED_S + 1):
        samples += [
            r for r in fleet.advance(start_us + second * US_PER_S) if isinstance(r, Reading)
        ]
    return [(telemetry_topic(r.device_id), encode_reading(r)) for r in samples]


def _plan(database_url: str, unit: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        # In service for a year: the plan's start, a month ago, is what counts.
        conn.execute(
            "UPDATE assets.equipment SET created_at = now() - interval '1 year' WHERE id = %s",
            (unit,),
        )
        conn.execute(
            "INSERT INTO predictive.plans (name, target_kind, target_id, duration_h, every_days, "
            "starts_at) VALUES ('Monthly service', 'equipment', %s, 2, 30, "
            "now() - interval '31 days')",
            (unit,),
        )


async def _events(kafka_url: str, *, until_s: float) -> list[DomainEvent]:
    consumer = AIOKafkaConsumer(
        topics.EVENTS,
        bootstrap_servers=kafka_bootstrap(kafka_url),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[DomainEvent] = []
    try:
        while time.monotonic() < until_s and not _complete(found):
            batches = await consumer.getmany(timeout_ms=1000)
            found += [from_json(r.value) for rs in batches.values() for r in rs if r.value]
        return found
    finally:
        await consumer.stop()


def _complete(found: list[DomainEvent]) -> bool:
    types = {type(e) for e in found}
    return AnomalyDetected in types and MaintenanceDue in types


def test_an_injected_overheating_is_detected_and_a_plan_falls_due(pipeline: Pipeline) -> None:
    start_us = now_us() - (SIMULATED_S + 30) * US_PER_S
    fleet, faulty = _fleet(start_us)
    register_fleet(pipeline.urls.database_url, fleet)
    _plan(pipeline.urls.database_url, faulty)
    messages = _messages(fleet, start_us)
    pipeline.start()

    assert pipeline.publish_all(messages) == len(messages)
    found = asyncio.run(
        _events(pipeline.urls.kafka_url, until_s=time.monotonic() + EVENTS_TIMEOUT_S)
    )

    anomalies = [e for e in found if isinstance(e, AnomalyDetected)]
    due = [e for e in found if isinstance(e, MaintenanceDue)]
    assert anomalies, f"no anomaly; stream log:\n{pipeline.stream.log_tail(40)}"
    assert {e.subject.id for e in anomalies} == {faulty}
    first = anomalies[0]
    fault_start_us = start_us + FAULT_AFTER_S * US_PER_S
    assert first.evidence["kind"] == "spike"
    assert first.evidence["contributors"][0]["metric"] == "temperature_c"
    assert first.occurred_at.timestamp() * US_PER_S >= fault_start_us
    assert [e.subject.id for e in due] == [faulty]
    assert due[0].evidence["basis"] == "calendar"
