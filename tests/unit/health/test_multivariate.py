"""Scoring windows with a promoted multivariate model, picked up from the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devices.records import Reading
from predictive.store import ModelStore
from predictive.training.artefacts import multivariate_name
from stream.health.findings import Finding
from stream.health.multivariate import ModelScorer
from stream.health.repository import UnitInfo
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

# Units whose models have no promoted model: their readings are buffered by no one.
UNMODELLED = (UnitInfo("eq-8", None), UnitInfo("eq-9", "Fan Y"))


def test_a_combination_no_single_metric_shows_opens_then_clears(tmp_path: Path) -> None:
    scorer = scorer_of(model_store(tmp_path))

    quiet = run(scorer, normal(200, seed=2), 1)
    opened = run(scorer, broken(60, seed=3), 201)
    cleared = run(scorer, normal(200, seed=4), 261)

    assert quiet == []
    assert [(f.kind, f.opened, f.model_version) for f in opened] == [("multivariate", True, 1)]
    assert opened[0].contributors
    assert [f.opened for f in cleared] == [False]
    assert cleared[0].opened_us == opened[0].opened_us


def test_a_newly_promoted_model_is_picked_up_and_none_means_no_scoring(tmp_path: Path) -> None:
    scorer = scorer_of(model_store(tmp_path))
    store = ModelStore(tmp_path)

    assert scorer.stale_models([MODEL]) == []
    store.promote(multivariate_name(MODEL), 1)  # the same version again: nothing to do
    assert scorer.stale_models([MODEL]) == []
    (tmp_path / "multivariate-pump-x" / "current").unlink()
    assert scorer.stale_models([MODEL]) == [MODEL]
    scorer.install(MODEL, scorer.load(MODEL))
    assert run(scorer, normal(100, seed=5) * 3, 1) == []


def test_a_restored_state_keeps_an_open_anomaly_open_until_it_clears(tmp_path: Path) -> None:
    store = model_store(tmp_path)
    before = scorer_of(store)
    run(before, normal(200, seed=2), 1)
    [opening] = run(before, broken(30, seed=3), 201)

    after = scorer_of(store)
    assert after.restore(before.checkpoints()) == 1
    still_broken = run(after, broken(30, seed=5), 231)
    cleared = run(after, normal(200, seed=4), 261)

    assert still_broken == []
    assert [(f.opened, f.opened_us) for f in cleared] == [(False, opening.opened_us)]


def test_a_new_model_version_keeps_the_open_anomaly(tmp_path: Path) -> None:
    scorer = scorer_of(model_store(tmp_path))
    run(scorer, normal(200, seed=2), 1)
    [opening] = run(scorer, broken(30, seed=3), 201)

    scorer.install(MODEL, scorer.load(MODEL))  # windows start afresh, the episode goes on

    assert scorer.open_since("eq-1") == opening.opened_us
    assert run(scorer, broken(30, seed=5), 231) == []


def test_checkpoints_hold_changed_units_once_and_older_states_are_not_restored(
    tmp_path: Path,
) -> None:
    scorer = scorer_of(model_store(tmp_path))
    run(scorer, normal(40, seed=2), 1)

    [saved] = scorer.checkpoints()
    run(scorer, normal(40, seed=3), 41)
    [newer] = scorer.checkpoints()

    assert scorer.checkpoints() == []
    assert saved.equipment_id == "eq-1" and saved.opened_us is None
    assert newer.last_ts_us > saved.last_ts_us
    assert scorer.restore([saved]) == 0
    assert scorer.restore([newer]) == 0  # the same moment: nothing newer to take


def test_the_models_of_a_step_are_noted_for_the_next_refresh_though_none_is_loaded(
    tmp_path: Path,
) -> None:
    scorer = ModelScorer(ModelStore(tmp_path))
    units = [UnitInfo("eq-2", "Fan Y"), UnitInfo("eq-3", None), UNIT, UnitInfo("eq-4", "Fan Y")]

    found = scorer.update(units, readings(normal(4, seed=1), 0))

    assert found == []
    assert scorer.known_models() == ["Fan Y", MODEL]


def _among_others(values: np.ndarray, start: int) -> list[tuple[list[UnitInfo], list[Reading]]]:
    """UNIT's readings in steps of 20, each after readings of units without a model, and
    every seventh sent twice (a replay)."""
    steps = []
    mine = readings(values, start)
    for begin in range(0, len(mine), 20):
        units: list[UnitInfo] = []
        batch: list[Reading] = []
        for n, reading in enumerate(mine[begin : begin + 20]):
            for other in UNMODELLED:
                units.append(other)
                batch.append(
                    Reading(f"dev-{other.equipment_id}", reading.ts_us, metrics={"x": float(n)})
                )
            copies = 2 if n % 7 == 0 else 1
            units += [UNIT] * copies
            batch += [reading] * copies
        steps.append((units, batch))
    return steps


def test_a_unit_with_a_model_is_scored_alike_among_units_without_one(tmp_path: Path) -> None:
    store = model_store(tmp_path)
    alone, mixed = scorer_of(store), scorer_of(store)
    parts = [(normal(200, seed=2), 1), (broken(60, seed=3), 201), (normal(200, seed=4), 261)]

    expected: list[Finding] = []
    found: list[Finding] = []
    for values, start in parts:
        for units, batch in _among_others(values, start):
            mine = [r for u, r in zip(units, batch, strict=True) if u == UNIT]
            expected += alone.update([UNIT] * len(mine), mine)
            found += mixed.update(units, batch)

    assert found == expected
    assert [f.opened for f in found] == [True, False]
    assert mixed.checkpoints() == alone.checkpoints() != []
