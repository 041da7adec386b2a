"""Settings of meters and the silence check, read from `TOIR_*` environment variables.

They belong with kernel.settings.Settings and sit here only until they move there; the
variable names are final.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.settings import SettingsError
from stream.state.meters import MeterLimits


class StateSettings(BaseSettings):
    """Meter filters (see stream.state.meters) and how often silence is looked for."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    meters_max_gap_s: float = Field(default=900.0, gt=0)
    meters_max_accuracy_m: float = Field(default=100.0, gt=0)
    meters_max_speed_kmh: float = Field(default=250.0, gt=0)
    meters_min_move_m: float = Field(default=10.0, ge=0)
    silence_check_interval_s: float = Field(default=30.0, gt=0)

    def meter_limits(self) -> MeterLimits:
        return MeterLimits(
            max_gap_s=self.meters_max_gap_s,
            max_accuracy_m=self.meters_max_accuracy_m,
            max_speed_kmh=self.meters_max_speed_kmh,
            min_move_m=self.meters_min_move_m,
        )


def load_state_settings() -> StateSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return StateSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_{field.upper()}: {error['msg']}") from exc
