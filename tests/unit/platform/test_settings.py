"""Settings of the dead-letter counter and lag sampler from the environment."""

from __future__ import annotations

import pytest

from kernel.settings import SettingsError
from stream.platform.settings import load_platform_settings


def test_lag_interval_and_retention_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOIR_CONSUMER_LAG_INTERVAL_S", "2.5")
    monkeypatch.setenv("TOIR_CONSUMER_LAG_RETENTION_DAYS", "3")

    settings = load_platform_settings()

    assert (settings.consumer_lag_interval_s, settings.consumer_lag_retention_days) == (2.5, 3)
    assert settings.dead_letter_batch_size == 500  # the others keep their defaults


def test_a_retention_of_zero_days_stops_the_process_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOIR_CONSUMER_LAG_RETENTION_DAYS", "0")

    with pytest.raises(SettingsError, match="TOIR_CONSUMER_LAG_RETENTION_DAYS"):
        load_platform_settings()
