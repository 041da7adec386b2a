"""Settings of the dead-letter counter and the consumer-lag sampler, read from `TOIR_*`
environment variables.

They belong with kernel.settings.Settings and sit here only until they move there; the
variable names are final.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.settings import SettingsError


class PlatformSettings(BaseSettings):
    """How the dead-letter topic is read, and how often and how long lag is kept."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    dead_letter_batch_size: int = Field(default=500, ge=1)
    dead_letter_batch_wait_s: float = Field(default=0.5, gt=0)
    consumer_lag_interval_s: float = Field(default=15.0, gt=0)
    consumer_lag_retention_days: float = Field(default=14.0, gt=0)


def load_platform_settings() -> PlatformSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return PlatformSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_{field.upper()}: {error['msg']}") from exc
