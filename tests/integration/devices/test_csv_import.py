"""`toir assets import`: everything or nothing, with each bad row named."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from toir import device_commands  # noqa: F401  # registers the commands under test
from toir.cli import app

GOOD = """\
type,id,name,lat,lon,radius_m,polygon,kind,site_id,meter_kinds,installed_on,plate,home_site_id,equipment_id,vehicle_id,enabled
device,ctl-1,,,,,,controller,,,,,,pump-1,,true
site,site-1,Boiler house,55.75,37.62,200,,,,,,,,,,
site,yard-1,Yard,,,,55.0 37.0; 55.0 37.01; 55.01 37.01,,,,,,,,,
equipment,pump-1,,,,,,pump,site-1,hours_run; odometer_km,2024-03-01,,,,,
vehicle,van-1,,,,,,,,,,A123BC,yard-1,,,
device,trk-1,,,,,,tracker,,,,,,,van-1,false
"""

BAD = """\
type,id,name,lat,lon,kind,site_id,plate
site,site-2,New site,55,37,,,
equipment,pump-2,,,,pump,nowhere,
vehicle,van-2,,,,,,X1
vehicle,van-2,,,,,,X2
gadget,g-1,,,,,,
site,site-3,,91,37,,,
equipment,pump-3,,,,pump,site-2,P
"""


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TOIR_DATABASE_URL", database_url)
    return CliRunner()


def counts(database_url: str) -> tuple[int, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM assets.sites), (SELECT count(*) FROM assets.equipment), "
            "(SELECT count(*) FROM assets.vehicles), (SELECT count(*) FROM assets.devices)"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_good_file_imports_every_row_whatever_their_order_and_again_idempotently(
    runner: CliRunner, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "assets.csv"
    path.write_text(GOOD)
    first = runner.invoke(app, ["assets", "import", str(path)])
    again = runner.invoke(app, ["assets", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "site: 2, equipment: 1, vehicle: 1, device: 2" in first.output
    assert again.exit_code == 0
    assert counts(database_url) == (2, 1, 1, 2)
    with psycopg.connect(database_url) as conn:
        unit = conn.execute(
            "SELECT meter_kinds, installed_on::text FROM assets.equipment"
        ).fetchone()
        trk = conn.execute(
            "SELECT vehicle_id, enabled FROM assets.devices WHERE id = 'trk-1'"
        ).fetchone()
        yard = conn.execute(
            "SELECT polygon, radius_m FROM assets.sites WHERE id = 'yard-1'"
        ).fetchone()
    assert unit == (["hours_run", "odometer_km"], "2024-03-01")
    assert trk == ("van-1", False)
    assert yard == ([[55.0, 37.0], [55.0, 37.01], [55.01, 37.01]], None)


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row(
    runner: CliRunner, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "assets.csv"
    path.write_text(BAD)
    result = runner.invoke(app, ["assets", "import", str(path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines == [
        "row 3: site_id: no site 'nowhere' in the file or registry",
        "row 5: vehicle 'van-2' is also in row 4",
        "row 6: type must be one of site, equipment, vehicle, device, not 'gadget'",
        "row 7: name: Field required; lat: Input should be less than or equal to 90",
        "row 8: column(s) plate do not apply to type equipment",
        "toir: 5 row(s) with errors: nothing imported",
    ]
    assert counts(database_url) == (0, 0, 0, 0)
