"""The unit directory: which unit each device reports for, looked up again after its TTL."""

from __future__ import annotations

from stream.health.repository import UnitInfo
from stream.health.units import UnitDirectory

PUMP = UnitInfo("eq-1", "Pump X")
FAN = UnitInfo("eq-2", None)


def test_each_reading_gets_its_devices_unit_and_none_when_not_equipment() -> None:
    units = UnitDirectory(ttl_s=60.0)
    units.learn(["dev-1", "dev-2", "dev-x"], {"dev-1": PUMP, "dev-2": FAN}, now_s=0.0)

    found = units.units_of(["dev-2", "dev-x", "dev-1", "dev-2", "dev-never-asked"])

    assert found == [FAN, None, PUMP, FAN, None]


def test_devices_are_missing_until_learnt_and_again_once_their_ttl_has_passed() -> None:
    units = UnitDirectory(ttl_s=60.0)
    assert units.missing(["dev-1", "dev-2", "dev-1"], now_s=0.0) == ["dev-1", "dev-2"]
    units.learn(["dev-1", "dev-2"], {"dev-1": PUMP}, now_s=0.0)

    assert units.missing(["dev-1", "dev-2", "dev-3"], now_s=59.0) == ["dev-3"]
    assert units.missing(["dev-1", "dev-2"], now_s=60.0) == ["dev-1", "dev-2"]


def test_a_device_looked_up_again_takes_its_new_answer() -> None:
    units = UnitDirectory(ttl_s=60.0)
    units.learn(["dev-1", "dev-2"], {"dev-1": PUMP, "dev-2": FAN}, now_s=0.0)

    units.learn(["dev-1", "dev-2"], {"dev-1": FAN}, now_s=60.0)

    assert units.units_of(["dev-1", "dev-2"]) == [FAN, None]
    assert units.missing(["dev-1", "dev-2"], now_s=119.0) == []
