"""What the engineer app shows beside a ticket: the equipment and the site, with a map link."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, computed_field

OSM_MAP_URL = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


class EquipmentContext(BaseModel):
    id: str
    kind: str
    model: str | None
    serial: str | None
    criticality: str
    installed_on: date | None


class SiteContext(BaseModel):
    id: str
    name: str
    address: str | None
    customer: str | None
    lat: float | None
    lon: float | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def map_url(self) -> str | None:
        """OpenStreetMap at the site: needs no key, opens in any browser or maps app."""
        if self.lat is None or self.lon is None:
            return None
        return OSM_MAP_URL.format(lat=f"{self.lat:.6f}", lon=f"{self.lon:.6f}")


class TicketContext(BaseModel):
    ticket_id: int
    equipment: EquipmentContext | None
    site: SiteContext | None
