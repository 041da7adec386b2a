"""The anomaly handler on mixed steps gives what a plain per-reading loop gives: readings of
devices that are not equipment and readings without metrics are counted and left out, and
the rest are scored as the reference scores them (real PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from devices.records import Reading, encode
from kernel.db import create_pool
from kernel.events import AnomalyDetected
from predictive.settings import DEMO_DETECTOR, HealthSettings
from stream.health.anomalies import AnomalyHandler, Counters
from stream.health.findings import Finding
from stream.repository import prepare_connection
from tests.unit.health.reference import ReferenceDetectors, device_of, mixed_steps, unit_of

UNITS = 9
STRAYS = 3


@dataclass
class Outcome:
    found: list[list[Finding]] = field(default_factory=list)
    checkpointed: list[int] = field(default_factory=list)
    sent: list[AnomalyDetected] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)


def _register_units(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for i in range(UNITS):
            model = "Pump A" if i % 2 else None
            conn.execute(
                "INSERT INTO assets.equipment (id, kind, model) VALUES (%s, 'pump', %s)",
                (unit_of(i), model),
            )
            conn.execute(
                "INSERT INTO assets.devices (id, kind, equipment_id) VALUES (%s, 'controller', %s)",
                (device_of(i), unit_of(i)),
            )


async def _through_handler(
    database_url: str, data_dir: Path, steps: list[list[Reading]]
) -> Outcome:
    pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
    outcome = Outcome()

    async def send(events: Sequence[AnomalyDetected]) -> None:
        outcome.sent.extend(events)

    health = HealthSettings(anomaly_detector=DEMO_DETECTOR, data_dir=data_dir)
    handler = AnomalyHandler(pool, health, send, clock=lambda: 0.0)
    try:
        for step in steps:
            outcome.found.append(await handler.handle([encode(r) for r in step]))
            outcome.checkpointed.append(await handler.checkpoint())
    finally:
        await pool.close()
    outcome.counters = handler.counters
    return outcome


def _through_reference(steps: list[list[Reading]]) -> Outcome:
    reference, outcome = ReferenceDetectors(), Outcome()
    unit_of_device = {device_of(i): unit_of(i) for i in range(UNITS)}
    for step in steps:
        with_metrics = [r for r in step if r.metrics]
        pairs = [
            (unit_of_device[r.device_id], r) for r in with_metrics if r.device_id in unit_of_device
        ]
        found, updated = reference.update(pairs)
        outcome.found.append(found)
        outcome.checkpointed.append(len(updated))
        outcome.sent += [f.event() for f in found if f.opened]
        c = outcome.counters
        c.readings += len(with_metrics)
        c.not_equipment += len(with_metrics) - len(pairs)
        c.opened += sum(f.opened for f in found)
        c.cleared += sum(not f.opened for f in found)
    return outcome


def test_mixed_steps_give_the_findings_counters_and_checkpoints_of_a_per_reading_loop(
    database_url: str, tmp_path: Path
) -> None:
    _register_units(database_url)
    steps = mixed_steps(5, steps=24, units=UNITS, strays=STRAYS)

    handled = asyncio.run(_through_handler(database_url, tmp_path, steps))
    expected = _through_reference(steps)

    assert handled.found == expected.found
    assert handled.counters == expected.counters
    assert handled.checkpointed == expected.checkpointed
    assert [e.event_id for e in handled.sent] == [e.event_id for e in expected.sent]
    assert expected.counters.not_equipment > 0 and expected.counters.cleared > 0
    assert sum(len(s) for s in steps) > expected.counters.readings  # some had no metrics
