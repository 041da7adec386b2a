"""Health settings from the environment: detector overrides, the switch, bad values."""

from __future__ import annotations

import pytest

from kernel.settings import SettingsError
from predictive.settings import load_health_settings


def test_detector_settings_can_be_overridden_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOIR_ANOMALY_DETECTOR", '{"warmup_samples": 20, "phase_edges_samples": []}')
    monkeypatch.setenv("TOIR_STREAM_ANOMALY_DETECTION", "false")

    settings = load_health_settings()

    config = settings.detector()
    assert (config.warmup_samples, config.regimes) == (20, 2)
    assert config.drift_warmup_samples == 1440  # the others keep their defaults
    assert settings.stream_anomaly_detection is False


def test_an_unknown_detector_setting_stops_the_process_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOIR_ANOMALY_DETECTOR", '{"warmup": 20}')

    with pytest.raises(SettingsError, match="TOIR_ANOMALY_DETECTOR: unknown detector setting"):
        load_health_settings()
