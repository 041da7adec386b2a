"""Score a univariate `timestamp,value` series NAB-style with the stream's online detector."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kernel.clock import to_epoch_us
from predictive.evaluation.nab_scoring import Window, probation_end_us, score_windows
from predictive.online.config import DetectorConfig
from predictive.online.detector import OnlineDetector
from predictive.online.events import Transition

SERIES_UNIT = "series"
SERIES_METRIC = "value"
BATCH_READINGS = 1_000


class NabDataError(ValueError):
    """A series or windows file that cannot be read."""


def evaluate_nab(
    csv_path: Path, windows_path: Path, series_key: str, *, config: DetectorConfig | None = None
) -> dict[str, Any]:
    """Detections of the online detector on one series, scored against its labelled windows."""
    ts_us, values = load_series(csv_path)
    windows = load_windows(windows_path, series_key)
    detections = detect(ts_us, values, config or DetectorConfig())
    scored_from_us = probation_end_us(ts_us.tolist())
    return {
        "series": series_key,
        "points": len(ts_us),
        "probation_ends": _iso(scored_from_us),
        "detections": len(detections),
        "detections_at": [_iso(d) for d in detections],
        **score_windows(detections, windows, scored_from_us=scored_from_us),
    }


def detect(
    ts_us: np.ndarray[Any, Any], values: np.ndarray[Any, Any], config: DetectorConfig
) -> list[int]:
    """When anomalies opened on the series, treated as one unit with one metric."""
    detector = OnlineDetector((SERIES_METRIC,), config)
    opened: list[int] = []
    for start in range(0, len(ts_us), BATCH_READINGS):
        stop = min(len(ts_us), start + BATCH_READINGS)
        events = detector.update_batch(
            [SERIES_UNIT] * (stop - start), ts_us[start:stop], values[start:stop, None]
        )
        opened += [e.ts_us for e in events if e.transition is Transition.OPENED]
    return opened


def load_series(csv_path: Path) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Timestamps (µs, UTC) and values of a NAB-format CSV."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"timestamp", "value"} <= set(rows[0]):
        raise NabDataError(f"{csv_path}: expected a header 'timestamp,value' and rows")
    try:
        ts_us = np.array([_parse_time(row["timestamp"]) for row in rows], dtype=np.int64)
        values = np.array([float(row["value"]) for row in rows], dtype=np.float64)
    except ValueError as exc:
        raise NabDataError(f"{csv_path}: {exc}") from exc
    return ts_us, values


def load_windows(windows_path: Path, series_key: str) -> list[Window]:
    """The labelled windows of one series from a NAB combined_windows.json file."""
    data = json.loads(windows_path.read_text(encoding="utf-8"))
    matches = [key for key in data if key == series_key or Path(key).name == series_key]
    if len(matches) != 1:
        raise NabDataError(f"{windows_path}: no single entry for {series_key!r}")
    return [(_parse_time(start), _parse_time(end)) for start, end in data[matches[0]]]


def _parse_time(text: str) -> int:
    # NAB timestamps carry no zone; reading them as UTC keeps their spacing exact.
    return to_epoch_us(datetime.fromisoformat(text).replace(tzinfo=UTC))


def _iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1e6, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
