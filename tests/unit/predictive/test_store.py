from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sklearn

from predictive.models.isolation import build_pipeline
from predictive.store import ModelStore, ModelStoreError

NAME = "Grundfos CR 32-2"
FEATURES = ("temperature_c_mean", "current_a_mean")


def _fitted() -> object:
    pipeline = build_pipeline(trees=10)
    pipeline.fit(np.random.default_rng(0).normal(size=(60, len(FEATURES))))
    return pipeline


def _save(store: ModelStore, features: tuple[str, ...] = FEATURES) -> int:
    saved = store.save(
        NAME,
        _fitted(),
        features=features,
        training_from_us=1_000,
        training_to_us=2_000,
        metrics={"windows": 60},
    )
    return saved.version


def _version_dir(root: Path, version: int) -> Path:
    return root / "grundfos-cr-32-2" / f"v{version:04d}"


def test_a_saved_and_promoted_model_loads_with_its_metadata(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    version = _save(store)
    store.promote(NAME, version)

    loaded = store.load(NAME, expected_features=FEATURES)

    assert loaded.metadata.version == version == 1
    assert loaded.metadata.sklearn_version == sklearn.__version__
    assert loaded.metadata.numpy_version == np.__version__
    assert loaded.metadata.features == FEATURES
    assert loaded.metadata.metrics == {"windows": 60}
    assert (loaded.metadata.training_from_us, loaded.metadata.training_to_us) == (1_000, 2_000)
    assert len(loaded.metadata.sha256) == 64
    assert loaded.pipeline.decision_function(np.zeros((1, 2))).shape == (1,)


def test_versions_count_up(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)

    assert [_save(store), _save(store), _save(store)] == [1, 2, 3]
    assert store.versions(NAME) == [1, 2, 3]


def test_nothing_loads_before_a_promotion(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    _save(store)

    with pytest.raises(ModelStoreError, match="no promoted model"):
        store.load(NAME, expected_features=FEATURES)


def test_a_model_from_another_scikit_learn_minor_version_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    version = _save(store)
    metadata_path = _version_dir(tmp_path, version) / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["sklearn_version"] = "1.2.2"
    metadata_path.write_text(json.dumps(metadata))

    with pytest.raises(ModelStoreError, match=r"scikit-learn 1\.2\.2.*retrain"):
        store.load(NAME, expected_features=FEATURES, version=version)


def test_a_model_whose_file_changed_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    version = _save(store)
    with (_version_dir(tmp_path, version) / "model.joblib").open("ab") as model_file:
        model_file.write(b"tampered")

    with pytest.raises(ModelStoreError, match="does not match its recorded hash"):
        store.load(NAME, expected_features=FEATURES, version=version)


def test_a_model_with_other_features_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    version = _save(store)

    with pytest.raises(ModelStoreError, match=r"missing \['pressure_bar_mean'\]"):
        store.load(NAME, expected_features=(*FEATURES, "pressure_bar_mean"), version=version)
    with pytest.raises(ModelStoreError, match="different order"):
        store.load(NAME, expected_features=FEATURES[::-1], version=version)


def test_promoting_an_unknown_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="no version 4"):
        ModelStore(tmp_path).promote(NAME, 4)


def test_a_newly_promoted_version_is_seen_as_a_change(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    first, second = _save(store), _save(store)

    assert store.changed_since(NAME, None) is False
    store.promote(NAME, first)
    assert store.changed_since(NAME, None) is True
    assert store.changed_since(NAME, first) is False
    store.promote(NAME, second)
    assert store.changed_since(NAME, first) is True
    assert store.load(NAME, expected_features=FEATURES).metadata.version == second


def test_promotion_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.promote(NAME, _save(store))

    names = sorted(p.name for p in (tmp_path / "grundfos-cr-32-2").iterdir())

    assert names == ["current", "v0001"]
