"""What the registry accepts as a site, a piece of equipment and a device."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from devices.assets.models import EquipmentCreate, SiteCreate
from devices.models import DeviceCreate

SQUARE = [(55.0, 37.0), (55.0, 37.01), (55.01, 37.01), (55.01, 37.0)]


def test_a_circular_site_gets_the_default_radius() -> None:
    site = SiteCreate(id="s", name="Boiler house", lat=55.75, lon=37.62)
    assert (site.radius_m, site.polygon) == (150.0, None)


def test_a_polygonal_site_is_centred_on_its_vertices() -> None:
    site = SiteCreate(id="s", name="Yard", polygon=SQUARE)
    assert site.lat == pytest.approx(55.005)
    assert site.lon == pytest.approx(37.005)
    assert site.radius_m is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "lat and lon are required"),
        ({"lat": 55.0, "lon": 37.0, "radius_m": 50.0, "polygon": SQUARE}, "not both"),
        ({"polygon": SQUARE[:2]}, "at least 3"),
        ({"lat": 95.0, "lon": 37.0}, "less than or equal to 90"),
        ({"lat": 55.0, "lon": 37.0, "radius_m": 0}, "greater than 0"),
    ],
)
def test_a_site_needs_exactly_one_valid_geofence(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SiteCreate.model_validate({"id": "s", "name": "X", **fields})


def test_ids_use_the_device_id_alphabet() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        SiteCreate(id="a b", name="X", lat=1.0, lon=1.0)
    with pytest.raises(ValidationError, match="pattern"):
        DeviceCreate.model_validate({"id": "a/b", "kind": "tracker"})


def test_equipment_meter_kinds_are_the_platform_meters() -> None:
    unit = EquipmentCreate.model_validate({"id": "p", "kind": "pump", "meter_kinds": ["hours_run"]})
    assert [k.value for k in unit.meter_kinds] == ["hours_run"]
    with pytest.raises(ValidationError):
        EquipmentCreate.model_validate({"id": "p", "kind": "pump", "meter_kinds": ["runtime"]})


def test_a_device_reports_for_equipment_or_a_vehicle_not_both() -> None:
    with pytest.raises(ValidationError, match="not both"):
        DeviceCreate.model_validate(
            {"id": "d", "kind": "tracker", "equipment_id": "e", "vehicle_id": "v"}
        )
