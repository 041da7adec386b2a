"""Scoring windows with a promoted multivariate model, picked up from the store."""

from __future__ import annotations

from pathlib import Path

from predictive.store import ModelStore
from predictive.training.artefacts import multivariate_name
from tests.unit.health.factories import MODEL, broken, model_store, normal, run, scorer_of


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
