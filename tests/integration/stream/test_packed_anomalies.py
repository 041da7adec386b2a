"""Anomaly detection reads packed Kafka values as it reads single records: every reading is
scored, and an injected overheating opens the same anomaly either way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import psycopg

from devices.records import Reading, encode
from devices.simulator.faults import FaultKind, FaultSpec
from devices.simulator.fleet import Fleet, FleetConfig
from ingest.packing import PartitionMap, pack_records
from kernel import topics
from kernel.clock import now_us
from kernel.db import create_pool
from kernel.events import AnomalyDetected
from predictive.settings import DEMO_DETECTOR, HealthSettings
from stream.health.anomalies import AnomalyHandler
from stream.health.findings import Finding
from stream.repository import prepare_connection
from toir.fleet_registry import register_fleet

US_PER_S = 1_000_000
SIMULATED_S = 90
FAULT_AFTER_S = 50
BATCH = 40  # readings per stream batch


def _fleet(start_us: int) -> tuple[Fleet, str]:
    config = FleetConfig(equipment=3, vehicles=0, seed=3)
    unit = Fleet(config).equipment[0].id
    fault = FaultSpec(FaultKind.OVERHEATING, unit, start_us + FAULT_AFTER_S * US_PER_S, 600.0)
    return Fleet(replace(config, faults=(fault,)), equipment_interval_s=1.0), unit


def _readings(fleet: Fleet, start_us: int) -> list[Reading]:
    samples: list[Reading] = []
    for second in range(SIMULATED_S + 1):
        advanced = fleet.advance(start_us + second * US_PER_S)
        samples += [r for r in advanced if isinstance(r, Reading)]
    return samples


def _as_singles(batch: Sequence[Reading]) -> list[bytes]:
    return [encode(r) for r in batch]


def _as_packs(batch: Sequence[Reading]) -> list[bytes]:
    where = PartitionMap()
    where.update(topics.READINGS, [0])
    return [p.value() for p in pack_records(batch, where.partition)]


async def _detect(
    database_url: str, tmp_path: Path, batches: list[list[bytes]]
) -> tuple[list[Finding], list[AnomalyDetected], int]:
    pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
    sent: list[AnomalyDetected] = []

    async def send(events: Sequence[AnomalyDetected]) -> None:
        sent.extend(events)

    health = HealthSettings(anomaly_detector=DEMO_DETECTOR, data_dir=tmp_path)
    handler = AnomalyHandler(pool, health, send)
    found: list[Finding] = []
    try:
        for values in batches:
            found += await handler.handle(values)
    finally:
        await pool.close()
    return found, sent, handler.counters.readings


def test_packed_readings_are_all_scored_and_open_the_same_anomalies(
    database_url: str, tmp_path: Path
) -> None:
    start_us = now_us() - (SIMULATED_S + 60) * US_PER_S
    fleet, unit = _fleet(start_us)
    register_fleet(database_url, fleet)
    readings = _readings(fleet, start_us)
    batches = [readings[i : i + BATCH] for i in range(0, len(readings), BATCH)]
    assert max(len(_as_packs(b)) for b in batches) == 1  # one value for many readings

    packed = asyncio.run(_detect(database_url, tmp_path, [_as_packs(b) for b in batches]))
    single = asyncio.run(_detect(database_url, tmp_path, [_as_singles(b) for b in batches]))

    _, sent, scored = packed
    assert scored == len(readings)
    assert any(e.subject.id == unit for e in sent)
    assert packed == single
    with psycopg.connect(database_url) as conn:
        opened = conn.execute(
            "SELECT count(*) FROM predictive.anomalies WHERE equipment_id = %s", (unit,)
        ).fetchone()
    assert opened is not None and opened[0] >= 1
