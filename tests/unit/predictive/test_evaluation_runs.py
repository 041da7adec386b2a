from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from predictive.evaluation import cli_entry
from predictive.evaluation.benchmark import scoring_cost
from predictive.evaluation.nab import NabDataError, evaluate_nab, load_windows
from predictive.evaluation.simulated import evaluate_simulated

SERIES = "pump_temperature.csv"
START = datetime(2014, 1, 1, tzinfo=UTC)


def _stamp(hours: int) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def _nab_files(tmp_path: Path, *, points: int = 3_000, fault_at: int = 2_500) -> tuple[Path, Path]:
    values = 60.0 + np.random.default_rng(0).normal(0.0, 1.0, points)
    values[fault_at : fault_at + 6] += 25.0
    csv_path = tmp_path / SERIES
    rows = "".join(f"{_stamp(h)},{v:.4f}\n" for h, v in enumerate(values))
    csv_path.write_text("timestamp,value\n" + rows)
    windows_path = tmp_path / "windows.json"
    window = [f"{_stamp(fault_at - 24)}.000000", f"{_stamp(fault_at + 24)}.000000"]
    windows_path.write_text(json.dumps({f"realKnownCause/{SERIES}": [window]}))
    return csv_path, windows_path


def test_nab_evaluation_finds_a_fault_inside_its_window_without_false_positives(
    tmp_path: Path,
) -> None:
    csv_path, windows_path = _nab_files(tmp_path)

    result = evaluate_nab(csv_path, windows_path, SERIES)

    assert result["points"] == 3_000
    assert result["windows_detected"] == result["windows_scored"] == 1
    assert result["false_positives"] == 0
    assert result["detections_at"] == [_stamp(2_502)]
    assert 90 < result["nab_style_score"] <= 100
    json.dumps(result)


def test_a_series_missing_from_the_windows_file_is_refused(tmp_path: Path) -> None:
    _, windows_path = _nab_files(tmp_path, points=100, fault_at=50)

    with pytest.raises(NabDataError, match="no single entry"):
        load_windows(windows_path, "other.csv")


def test_a_file_without_the_nab_header_is_refused(tmp_path: Path) -> None:
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("time,reading\n2014-01-01 00:00:00,1\n")

    with pytest.raises(NabDataError, match="timestamp,value"):
        evaluate_nab(csv_path, tmp_path / "windows.json", "bad.csv")


def test_the_cli_entry_wants_both_files_or_neither(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="go together"):
        cli_entry(tmp_path / "a.csv", None)


def test_the_cli_entry_scores_a_nab_series_when_given_both_files(tmp_path: Path) -> None:
    csv_path, windows_path = _nab_files(tmp_path)

    result = cli_entry(csv_path, windows_path)

    assert result["evaluation"] == "nab"
    assert result["windows_detected"] == 1


def test_a_small_simulated_fleet_has_every_fault_detected_and_no_false_alarm() -> None:
    result = evaluate_simulated(units=4, days=7, seeds=(1,), clean_units=0)

    assert result["faults"] == 4
    assert result["recall"] == 1.0
    assert result["false_alarms"] == 0
    assert set(result["by_kind"]) == {
        "bearing_wear",
        "overheating",
        "pressure_leak",
        "stuck_sensor",
    }
    assert result["scoring_us_per_reading"] > 0
    json.dumps(result)


def test_scoring_cost_is_measured_per_reading() -> None:
    result = scoring_cost(units=10, readings=2_000)

    assert result["readings"] == 2_000
    assert result["cpu_us_per_reading"] > 0
