"""Settings of the OsmAnd / Traccar Client HTTP receiver, from `TOIR_*` variables.

They belong with kernel.settings.Settings and sit here only until they move there; the
variable names are final.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.settings import SettingsError

# Traccar's port for the OsmAnd protocol, which Traccar Client and OsmAnd default to.
OSMAND_PORT = 5055


class HttpReceiverSettings(BaseSettings):
    """Where the receiver listens (port 0: not at all) and how long it waits."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    ingest_http_host: str = "0.0.0.0"  # noqa: S104 - trackers reach it over the network
    ingest_http_port: int = Field(default=OSMAND_PORT, ge=0, le=65535)
    ingest_http_timeout_s: float = Field(default=10.0, gt=0)
    ingest_http_max_connections: int = Field(default=1024, ge=1)


def load_http_settings() -> HttpReceiverSettings:
    """Read them from the environment; a bad value raises SettingsError naming it."""
    try:
        return HttpReceiverSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"TOIR_{field.upper()}: {error['msg']}") from exc
