"""Settings of equipment health (plans check, anomaly detection, models), from `TOIR_*`.

They sit beside kernel.settings.Settings until they move there; the variable names are final.
`TOIR_ANOMALY_DETECTOR` overrides online-detector settings by name, as JSON, e.g.
`{"warmup_samples": 20}` (see predictive.online.config.DetectorConfig; counted in samples).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.settings import SettingsError
from predictive.online.config import DetectorConfig

# For a demo whose units report every 0.2-2 s instead of once a minute: the defaults would
# stay in warm-up for the whole run (720 samples per running/stopped phase). One baseline
# per mode, a short warm-up and a floor for metrics that sit at zero. Drift is off: it
# needs hours.
DEMO_DETECTOR: dict[str, Any] = {
    "warmup_samples": 20,
    "drift_warmup_samples": 1_000_000_000,
    "phase_edges_samples": [],
    "scale_floor_abs": 0.1,
    "stuck_samples": 10,
}


class HealthSettings(BaseSettings):
    """Plans check, anomaly detection and model store settings."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    data_dir: Path = Path(".toir")
    # Off: the stream runs no detector agent at all (e.g. to measure what it costs).
    stream_anomaly_detection: bool = True
    anomaly_detector: dict[str, Any] = Field(default_factory=dict)
    anomaly_checkpoint_interval_s: float = Field(default=60.0, gt=0)
    anomaly_batch_size: int = Field(default=2000, ge=1)
    anomaly_batch_wait_s: float = Field(default=0.25, gt=0)
    # How long a device's equipment mapping is trusted before it is read again.
    anomaly_unit_cache_s: float = Field(default=300.0, gt=0)
    model_refresh_interval_s: float = Field(default=30.0, gt=0)
    plans_check_interval_s: float = Field(default=60.0, gt=0)
    # Usage rates behind meter forecasts are measured over this many past days.
    plans_usage_days: float = Field(default=14.0, gt=0)
    health_service_life_years: float = Field(default=15.0, gt=0)
    health_anomaly_days: float = Field(default=90.0, gt=0)

    @field_validator("anomaly_detector")
    @classmethod
    def _detector(cls, value: dict[str, Any]) -> dict[str, Any]:
        detector_config(value)
        return value

    @property
    def models_dir(self) -> Path:
        """The model store's root."""
        return self.data_dir / "models"

    def detector(self) -> DetectorConfig:
        """The online detector's settings: the defaults with the overrides applied."""
        return detector_config(self.anomaly_detector)


def detector_config(overrides: dict[str, Any]) -> DetectorConfig:
    """DetectorConfig defaults with overrides by field name; ValueError naming a bad one."""
    values = {**DetectorConfig().to_dict(), **overrides}
    try:
        return DetectorConfig.from_dict(values)
    except TypeError as exc:
        raise ValueError(f"unknown detector setting ({exc})") from exc


def load_health_settings() -> HealthSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return HealthSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"TOIR_{field.upper()}: {message}") from exc


def demo_environment() -> dict[str, str]:
    """TOIR_* variables a 60 s demo sets for its stream: fast checks, a demo detector."""
    return {
        "TOIR_ANOMALY_DETECTOR": json.dumps(DEMO_DETECTOR),
        "TOIR_PLANS_CHECK_INTERVAL_S": "5",
        "TOIR_ANOMALY_CHECKPOINT_INTERVAL_S": "10",
    }
