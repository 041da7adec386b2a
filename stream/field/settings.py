"""Settings of field control in the stream, read from `TOIR_FIELD_*` environment variables.

They belong with kernel.settings.Settings and sit here only until they move there; the
variable names are final. Defaults and meaning: stream/field/visits.py and trips.py.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.settings import SettingsError
from stream.field.trips import TripConfig
from stream.field.visits import VisitConfig


class FieldSettings(BaseSettings):
    """Visit and trip detection, and how often the stream re-reads sites and devices."""

    model_config = SettingsConfigDict(env_prefix="TOIR_FIELD_", extra="ignore")

    exit_margin_m: float = Field(default=50.0, ge=0, le=100)
    min_dwell_s: float = Field(default=300.0, ge=0)
    max_gap_s: float = Field(default=900.0, gt=0)
    max_accuracy_m: float = Field(default=100.0, gt=0)
    stop_radius_m: float = Field(default=100.0, gt=0)
    min_stop_s: float = Field(default=300.0, ge=0)
    min_trip_m: float = Field(default=300.0, ge=0)
    registry_refresh_s: float = Field(default=60.0, gt=0)
    # Event time must move on this much between two expiry passes over every device.
    expire_step_s: float = Field(default=30.0, gt=0)
    outbox_sweep_s: float = Field(default=30.0, gt=0)

    def visit_config(self) -> VisitConfig:
        return VisitConfig(
            exit_margin_m=self.exit_margin_m,
            min_dwell_s=self.min_dwell_s,
            max_gap_s=self.max_gap_s,
            max_accuracy_m=self.max_accuracy_m,
        )

    def trip_config(self) -> TripConfig:
        return TripConfig(
            stop_radius_m=self.stop_radius_m,
            min_stop_s=self.min_stop_s,
            min_trip_m=self.min_trip_m,
            max_accuracy_m=self.max_accuracy_m,
            max_gap_s=max(self.max_gap_s, self.min_stop_s),
        )


def load_field_settings() -> FieldSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return FieldSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_FIELD_{field.upper()}: {error['msg']}") from exc
