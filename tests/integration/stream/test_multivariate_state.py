"""The multivariate layer's open/clear state survives a stream worker restart (real PostgreSQL).

Most tests play the anomaly handler's part: findings are recorded as they happen, states are
saved at checkpoints, and a restarted worker loads the state of the units it sees. The last
ones run the handler itself, as the stream worker does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from devices.records import encode
from kernel.db import create_pool
from kernel.events import AnomalyDetected
from predictive.settings import HealthSettings
from predictive.store import ModelStore
from stream.health import repository
from stream.health.anomalies import AnomalyHandler
from stream.health.findings import Finding
from stream.health.multivariate import ModelScorer
from stream.health.repository import MultivariateState
from stream.repository import prepare_connection
from tests.unit.health.factories import (
    MODEL,
    UNIT,
    broken,
    model_store,
    normal,
    readings,
    run,
    scorer_of,
)

T = TypeVar("T")
UNIT_ID = UNIT.equipment_id


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A worker's data directory whose model store holds MODEL's promoted model."""
    root = tmp_path_factory.mktemp("data")
    model_store(HealthSettings(data_dir=root).models_dir)
    return root


@pytest.fixture(scope="module")
def store(data_dir: Path) -> ModelStore:
    """The model store every worker of a test reads (trained once: training takes seconds)."""
    return ModelStore(HealthSettings(data_dir=data_dir).models_dir)


def _db(database_url: str, op: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    async def go() -> T:
        conn = await psycopg.AsyncConnection.connect(database_url)
        async with conn, conn.transaction():
            return await op(conn)

    return asyncio.run(go())


def _record(database_url: str, found: list[Finding]) -> None:
    async def op(conn: psycopg.AsyncConnection) -> None:
        opened = [f.row() for f in found if f.opened]
        cleared = [f.row() for f in found if not f.opened]
        if opened:
            await repository.record_opened(conn, opened)
        if cleared:
            await repository.record_cleared(conn, cleared)

    _db(database_url, op)


def _checkpoint(database_url: str, scorer: ModelScorer) -> None:
    rows = scorer.checkpoints()
    _db(database_url, lambda conn: repository.save_multivariate_states(conn, rows))


def _load(database_url: str) -> list[MultivariateState]:
    return _db(database_url, lambda conn: repository.load_multivariate_states(conn, [UNIT_ID]))


def _anomalies(database_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT equipment_id, kind, cleared_at IS NOT NULL FROM predictive.anomalies"
        ).fetchall()


def _restarted(database_url: str, store: ModelStore) -> ModelScorer:
    scorer = scorer_of(store)
    scorer.restore(_load(database_url))
    return scorer


def test_a_restarted_worker_does_not_open_an_open_anomaly_again_and_clears_it(
    database_url: str, store: ModelStore
) -> None:
    before = scorer_of(store)
    run(before, normal(200, seed=2), 1)
    opened = run(before, broken(30, seed=3), 201)
    _record(database_url, opened)
    _checkpoint(database_url, before)

    after = _restarted(database_url, store)
    still_broken = run(after, broken(30, seed=5), 231)
    cleared = run(after, normal(200, seed=4), 261)
    _record(database_url, cleared)

    assert [f.opened for f in opened] == [True]
    assert still_broken == []
    assert [(f.opened, f.opened_us) for f in cleared] == [(False, opened[0].opened_us)]
    assert _anomalies(database_url) == [(UNIT_ID, "multivariate", True)]


def test_a_worker_without_the_saved_state_would_open_a_duplicate(
    database_url: str, store: ModelStore
) -> None:
    # The failure the saved state prevents: a fresh worker counts the same episode anew.
    before = scorer_of(store)
    run(before, normal(200, seed=2), 1)
    _record(database_url, run(before, broken(30, seed=3), 201))

    fresh = scorer_of(store)
    again = run(fresh, broken(30, seed=5), 231)

    assert [f.opened for f in again] == [True]
    assert again[0].opened_us != before.open_since(UNIT_ID)


def test_an_opening_recorded_after_the_last_checkpoint_is_known_after_a_restart(
    database_url: str, store: ModelStore
) -> None:
    before = scorer_of(store)
    run(before, normal(200, seed=2), 1)
    _checkpoint(database_url, before)  # the last checkpoint: nothing open yet
    opened = run(before, broken(30, seed=3), 201)
    _record(database_url, opened)  # recorded with its event, then the worker dies

    after = _restarted(database_url, store)

    assert after.open_since(UNIT_ID) == opened[0].opened_us
    assert run(after, broken(30, seed=5), 231) == []
    assert [f.opened for f in run(after, normal(200, seed=4), 261)] == [False]


def test_a_clearing_recorded_after_the_last_checkpoint_is_known_after_a_restart(
    database_url: str, store: ModelStore
) -> None:
    before = scorer_of(store)
    run(before, normal(200, seed=2), 1)
    _record(database_url, run(before, broken(30, seed=3), 201))
    _checkpoint(database_url, before)  # saved while open
    cleared = run(before, normal(200, seed=4), 231)
    _record(database_url, cleared)

    after = _restarted(database_url, store)

    assert [f.opened for f in cleared] == [False]
    assert after.open_since(UNIT_ID) is None
    assert [f.opened for f in run(after, broken(30, seed=5), 431)] == [True]


def test_an_older_state_never_overwrites_a_newer_one(database_url: str, store: ModelStore) -> None:
    scorer = scorer_of(store)
    run(scorer, normal(40, seed=2), 1)
    [older] = scorer.checkpoints()
    run(scorer, normal(40, seed=3), 41)
    [newer] = scorer.checkpoints()

    _db(database_url, lambda conn: repository.save_multivariate_states(conn, [newer]))
    _db(database_url, lambda conn: repository.save_multivariate_states(conn, [older]))

    assert _load(database_url) == [newer]


def _register_unit(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO assets.equipment (id, kind, model) VALUES (%s, 'pump', %s)",
            (UNIT_ID, MODEL),
        )
        conn.execute(
            "INSERT INTO assets.devices (id, kind, equipment_id) "
            "VALUES ('dev-1', 'controller', %s)",
            (UNIT_ID,),
        )


async def _discard(events: Sequence[AnomalyDetected]) -> None:
    del events  # what is sent is another test's concern


async def _started(pool: AsyncConnectionPool, data_dir: Path, start: int) -> AnomalyHandler:
    """A new worker's handler: it has seen one reading of the unit and loaded the model."""
    handler = AnomalyHandler(pool, HealthSettings(data_dir=data_dir), _discard)
    await _feed(handler, normal(1, seed=9), start)
    await handler.refresh_models()
    return handler


async def _feed(handler: AnomalyHandler, values: np.ndarray, start: int) -> list[Finding]:
    batch = [encode(reading) for reading in readings(values, start)]
    found: list[Finding] = []
    for begin in range(0, len(batch), 20):
        found += await handler.handle(batch[begin : begin + 20])
    return [f for f in found if f.kind == "multivariate"]


def _through_handlers(
    database_url: str, data_dir: Path, *, checkpoint: bool
) -> list[list[Finding]]:
    """Normal, then broken; the worker stops (after a checkpoint or not), a new one goes on."""

    async def go() -> list[list[Finding]]:
        pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
        try:
            before = await _started(pool, data_dir, 0)
            await _feed(before, normal(200, seed=2), 1)
            opened = await _feed(before, broken(30, seed=3), 201)
            if checkpoint:
                assert await before.checkpoint() >= 1
            after = await _started(pool, data_dir, 230)
            still_broken = await _feed(after, broken(30, seed=5), 231)
            cleared = await _feed(after, normal(200, seed=4), 261)
            return [opened, still_broken, cleared]
        finally:
            await pool.close()

    return asyncio.run(go())


@pytest.mark.parametrize("checkpoint", [True, False], ids=["checkpointed", "died-before"])
def test_a_restarted_handler_resumes_the_open_anomaly_instead_of_opening_another(
    database_url: str, data_dir: Path, checkpoint: bool
) -> None:
    _register_unit(database_url)

    opened, still_broken, cleared = _through_handlers(database_url, data_dir, checkpoint=checkpoint)

    assert [f.opened for f in opened] == [True]
    assert still_broken == []
    assert [(f.opened, f.opened_us) for f in cleared] == [(False, opened[0].opened_us)]
    with psycopg.connect(database_url) as conn:
        saved = conn.execute(
            "SELECT count(*) FROM predictive.multivariate_state WHERE equipment_id = %s",
            (UNIT_ID,),
        ).fetchone()
    assert saved == (1 if checkpoint else 0,)
