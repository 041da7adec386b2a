"""Grafana provisioning files: the PostgreSQL datasource, the dashboard provider and the
dashboards' JSON, laid out for compose to mount.

    OUT/provisioning/datasources/toir.yaml  -> /etc/grafana/provisioning/datasources/
    OUT/provisioning/dashboards/toir.yaml   -> /etc/grafana/provisioning/dashboards/
    OUT/dashboards/toir/<uid>.json          -> /var/lib/grafana/dashboards/toir/

The YAML is written by hand with JSON-quoted scalars (valid YAML), so building needs no
YAML library at run time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboards.grafana import DATASOURCE, FOLDER_TITLE, FOLDER_UID, JSON

GRAFANA_ROLE = "toir_grafana"
# Grafana expands ${VAR} in provisioning files when it reads them, so no secret is written.
PASSWORD_PLACEHOLDER = "${TOIR_GRAFANA_DB_PASSWORD}"  # noqa: S105  # not a secret
DASHBOARDS_IN_CONTAINER = "/var/lib/grafana/dashboards/toir"


@dataclass(frozen=True)
class Database:
    """Where Grafana reaches the database (host:port as seen from the Grafana container)."""

    host: str = "timescaledb:5432"
    name: str = "toir"
    sslmode: str = "disable"


def datasource_yaml(database: Database) -> str:
    q = json.dumps
    # timescaledb stays off: the panels bucket time themselves (dashboards.grafana.time_bucket),
    # and the switch only changes what $__timeGroup expands to.
    return f"""# Written by `toir dashboards build`; do not edit.
apiVersion: 1
datasources:
  - name: {q("toir")}
    uid: {q(DATASOURCE["uid"])}
    type: {q(DATASOURCE["type"])}
    access: proxy
    url: {q(database.host)}
    user: {q(GRAFANA_ROLE)}
    isDefault: true
    editable: false
    jsonData:
      database: {q(database.name)}
      sslmode: {q(database.sslmode)}
      postgresVersion: 1500
      timescaledb: false
      maxOpenConns: 10
    secureJsonData:
      password: {q(PASSWORD_PLACEHOLDER)}
"""


def provider_yaml() -> str:
    q = json.dumps
    return f"""# Written by `toir dashboards build`; do not edit.
apiVersion: 1
providers:
  - name: {q("toir")}
    orgId: 1
    folder: {q(FOLDER_TITLE)}
    folderUid: {q(FOLDER_UID)}
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 30
    options:
      path: {q(DASHBOARDS_IN_CONTAINER)}
"""


def write_provisioning(out: Path, dashboards: Sequence[JSON], database: Database) -> list[Path]:
    """Write every provisioning file under `out`; return their paths.

    JSON files of dashboards no longer built are removed: Grafana would keep serving them.
    """
    folder = out / "dashboards" / "toir"
    files = {
        out / "provisioning" / "datasources" / "toir.yaml": datasource_yaml(database),
        out / "provisioning" / "dashboards" / "toir.yaml": provider_yaml(),
    }
    for board in dashboards:
        text = json.dumps(board, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        files[folder / f"{board['uid']}.json"] = text
    for stale in set(folder.glob("*.json")) - set(files):
        stale.unlink()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
