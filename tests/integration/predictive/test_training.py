"""`toir predictive train` from readings in a real database: stored, promoted, loadable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from devices.records import Reading
from devices.simulator.fleet import Fleet, FleetConfig
from kernel.clock import from_epoch_us, now_us, utcnow
from predictive.store import ModelStore
from predictive.training.artefacts import load_multivariate, multivariate_name
from predictive.training.service import train_all
from toir.fleet_registry import register_fleet

HOURS = 5
INTERVAL_S = 30  # 600 readings: enough windows (of 30, every 10) to train on


def _seed_history(database_url: str) -> str:
    fleet = Fleet(FleetConfig(equipment=1, vehicles=0, seed=5), equipment_interval_s=INTERVAL_S)
    register_fleet(database_url, fleet)
    start_us = now_us() - HOURS * 3_600_000_000
    readings: list[Reading] = []
    for step in range(HOURS * 3600 // INTERVAL_S):
        batch = fleet.advance(start_us + step * INTERVAL_S * 1_000_000)
        readings += [r for r in batch if isinstance(r, Reading)]
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO telemetry.readings (device_id, ts, running, metrics) "
            "VALUES (%s, %s, %s, %s)",
            [(r.device_id, from_epoch_us(r.ts_us), r.running, Jsonb(r.metrics)) for r in readings],
        )
    return fleet.equipment[0].model


def test_training_stores_and_promotes_a_model_per_equipment_model(
    database_url: str, tmp_path: Path
) -> None:
    model = _seed_history(database_url)
    store = ModelStore(tmp_path)

    with psycopg.connect(database_url) as conn:
        outcomes = train_all(
            conn=conn,
            store=store,
            since=utcnow() - timedelta(hours=HOURS + 1),
            until=utcnow(),
        )

    trained = {o["equipment_model"]: o for o in outcomes}
    assert trained[model]["version"] == 1 and trained[model]["promoted"]
    assert trained[model]["failure_risk"] is None  # no breakdowns in the history
    assert store.current_version(multivariate_name(model)) == 1
    loaded = load_multivariate(store, model)
    assert loaded is not None and loaded.clear_below < loaded.threshold
    assert "temperature_c_per_vibration_mm_s" in loaded.spec.names()
