"""Versioned model artefacts in the project's own store: pipeline, metadata, current pointer.

Layout under the root the caller gives (e.g. `<data_dir>/models`):

    <slug of name>/v0003/model.joblib      the whole fitted scikit-learn pipeline
    <slug of name>/v0003/metadata.json     versions, features, training range, metrics, hash
    <slug of name>/current                 "3": the promoted version, replaced atomically
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
CURRENT_FILE = "current"
_VERSION_DIR = re.compile(r"^v(\d+)$")


class ModelStoreError(Exception):
    """A model that cannot be saved, found or trusted; the message says why."""


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """What is known about a stored model version."""

    name: str
    version: int
    created_at: str
    sklearn_version: str
    numpy_version: str
    features: tuple[str, ...]
    training_from_us: int
    training_to_us: int
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**asdict(self), "features": list(self.features)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        """Metadata read back from its JSON file."""
        return cls(**{**data, "features": tuple(data["features"])})


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A pipeline loaded from the store, with the metadata it was checked against."""

    pipeline: Any
    metadata: ModelMetadata


class ModelStore:
    """Models saved under one root, one folder per name, one sub-folder per version."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(
        self,
        name: str,
        pipeline: Any,
        *,
        features: tuple[str, ...],
        training_from_us: int,
        training_to_us: int,
        metrics: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ModelMetadata:
        """Store a fitted pipeline as the next version of name (not promoted)."""
        folder = self._folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=folder))
        joblib.dump(pipeline, staging / MODEL_FILE)
        version = max(self.versions(name), default=0) + 1
        metadata = ModelMetadata(
            name=name,
            version=version,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sklearn_version=sklearn.__version__,
            numpy_version=np.__version__,
            features=tuple(features),
            training_from_us=training_from_us,
            training_to_us=training_to_us,
            metrics=dict(metrics or {}),
            extra=dict(extra or {}),
            sha256=_sha256(staging / MODEL_FILE),
        )
        (staging / METADATA_FILE).write_text(json.dumps(metadata.to_dict(), indent=2))
        try:
            # A version appears whole or not at all; a concurrent save of the same number fails.
            staging.rename(folder / f"v{version:04d}")
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelStoreError(f"{name}: version {version} was saved concurrently") from exc
        return metadata

    def versions(self, name: str) -> list[int]:
        """Stored versions of name, ascending."""
        folder = self._folder(name)
        if not folder.is_dir():
            return []
        found = (_VERSION_DIR.match(entry.name) for entry in folder.iterdir())
        return sorted(int(match.group(1)) for match in found if match)

    def promote(self, name: str, version: int) -> None:
        """Make version the current one; readers see the old or the new pointer, never half."""
        if version not in self.versions(name):
            raise ModelStoreError(f"{name}: no version {version} to promote")
        folder = self._folder(name)
        handle, temporary = tempfile.mkstemp(prefix=".current-", dir=folder)
        with os.fdopen(handle, "w") as pointer:
            pointer.write(f"{version}\n")
            pointer.flush()
            os.fsync(pointer.fileno())
        os.replace(temporary, folder / CURRENT_FILE)

    def current_version(self, name: str) -> int | None:
        """The promoted version of name, None if none is."""
        try:
            text = (self._folder(name) / CURRENT_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        if not text.isdigit():
            raise ModelStoreError(f"{name}: unreadable current pointer {text!r}")
        return int(text)

    def changed_since(self, name: str, version: int | None) -> bool:
        """Whether the promoted version differs from the one the caller runs: one small read."""
        return self.current_version(name) != version

    def load(
        self, name: str, *, expected_features: tuple[str, ...], version: int | None = None
    ) -> LoadedModel:
        """The promoted (or given) version, after checking versions, features and hash."""
        chosen = self.current_version(name) if version is None else version
        if chosen is None:
            raise ModelStoreError(f"{name}: no promoted model in {self.root}")
        metadata = self.metadata(name, chosen)
        path = self._folder(name) / f"v{chosen:04d}" / MODEL_FILE
        _check(metadata, path, name=name, expected_features=tuple(expected_features))
        return LoadedModel(pipeline=joblib.load(path), metadata=metadata)

    def metadata(self, name: str, version: int) -> ModelMetadata:
        """The metadata of one stored version."""
        path = self._folder(name) / f"v{version:04d}" / METADATA_FILE
        try:
            return ModelMetadata.from_dict(json.loads(path.read_text()))
        except FileNotFoundError as exc:
            raise ModelStoreError(f"{name}: no version {version} in {self.root}") from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelStoreError(f"{name} v{version}: unreadable metadata ({exc})") from exc

    def _folder(self, name: str) -> Path:
        return self.root / _slug(name)


def _check(
    metadata: ModelMetadata, path: Path, *, name: str, expected_features: tuple[str, ...]
) -> None:
    label = f"model {name!r} v{metadata.version}"
    if metadata.name != name:
        raise ModelStoreError(f"{label}: its metadata names {metadata.name!r}")
    saved, running = _major_minor(metadata.sklearn_version), _major_minor(sklearn.__version__)
    if saved != running:
        raise ModelStoreError(
            f"{label} was saved with scikit-learn {metadata.sklearn_version}, this process "
            f"runs {sklearn.__version__}: retrain it (`toir predictive train`) before use"
        )
    if metadata.features != expected_features:
        missing = sorted(set(expected_features) - set(metadata.features))
        extra = sorted(set(metadata.features) - set(expected_features))
        raise ModelStoreError(
            f"{label} has other features than expected (missing {missing}, unexpected "
            f"{extra}, or a different order)"
        )
    try:
        actual = _sha256(path)
    except FileNotFoundError as exc:
        raise ModelStoreError(f"{label}: {path.name} is missing") from exc
    if actual != metadata.sha256:
        raise ModelStoreError(
            f"{label}: {path.name} does not match its recorded hash (changed or corrupt)"
        )


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ModelStoreError(f"model name {name!r} has no letters or digits")
    return slug
