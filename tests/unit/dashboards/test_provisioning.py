import json
from pathlib import Path

import yaml

from dashboards.catalog import build_all
from dashboards.provisioning import DASHBOARDS_IN_CONTAINER, Database, write_provisioning


def test_writes_the_datasource_the_provider_and_one_json_per_dashboard(tmp_path: Path) -> None:
    written = write_provisioning(tmp_path, build_all(), Database(host="db:5432", name="toir"))

    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "provisioning/datasources/toir.yaml",
        "provisioning/dashboards/toir.yaml",
        "dashboards/toir/toir-fleet-map.json",
        "dashboards/toir/toir-equipment-health.json",
        "dashboards/toir/toir-tickets-sla.json",
        "dashboards/toir/toir-engineers.json",
        "dashboards/toir/toir-platform.json",
    }
    board = json.loads((tmp_path / "dashboards/toir/toir-platform.json").read_text())
    assert board["uid"] == "toir-platform"


def test_the_datasource_logs_in_as_the_grafana_role_with_the_password_from_env(
    tmp_path: Path,
) -> None:
    write_provisioning(tmp_path, [], Database(host="db:5432", name="toir", sslmode="require"))
    config = yaml.safe_load((tmp_path / "provisioning/datasources/toir.yaml").read_text())

    (source,) = config["datasources"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert source["uid"] == "toir-postgres"
    assert (source["url"], source["user"]) == ("db:5432", "toir_grafana")
    assert source["jsonData"]["database"] == "toir"
    assert source["jsonData"]["sslmode"] == "require"
    assert source["secureJsonData"]["password"] == "${TOIR_GRAFANA_DB_PASSWORD}"


def test_the_provider_loads_the_json_folder_into_the_toir_folder(tmp_path: Path) -> None:
    write_provisioning(tmp_path, [], Database())
    config = yaml.safe_load((tmp_path / "provisioning/dashboards/toir.yaml").read_text())

    (provider,) = config["providers"]
    assert provider["folder"] == "toir"
    assert provider["folderUid"] == "toir"
    assert provider["options"]["path"] == DASHBOARDS_IN_CONTAINER


def test_json_of_dashboards_no_longer_built_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / "dashboards/toir/toir-retired.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")

    write_provisioning(tmp_path, build_all(), Database())

    assert not stale.exists()
