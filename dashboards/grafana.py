"""Building blocks of Grafana dashboard JSON (schemaVersion 39, Grafana 10.3 and later).

Plain dicts rather than grafana-foundation-sdk: the SDK has no PostgreSQL query type, its
annotation target only fits Grafana's built-in datasource, and its geomap view types
latitude and longitude as integers, so every panel here would need a way around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
Format = Literal["table", "time_series"]

SCHEMA_VERSION = 39
GRID_COLUMNS = 24
FOLDER_UID = "toir"
FOLDER_TITLE = "toir"
TAG = "toir"
DATASOURCE: JSON = {"type": "grafana-postgresql-datasource", "uid": "toir-postgres"}
BUILT_IN_ANNOTATIONS: JSON = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


@dataclass(frozen=True)
class Query:
    """One SQL target: raw SQL in code mode, as the PostgreSQL datasource stores it."""

    sql: str
    format: Format = "table"
    ref_id: str = "A"

    def to_json(self) -> JSON:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE,
            "editorMode": "code",
            "format": self.format,
            "rawQuery": True,
            "rawSql": self.sql.strip(),
        }


@dataclass(frozen=True)
class Panel:
    """A panel before layout: its type, queries, options and size on the 24-column grid."""

    type: str
    title: str
    queries: Sequence[Query]
    width: int = 12
    height: int = 8
    description: str = ""
    options: JSON = field(default_factory=dict)
    defaults: JSON = field(default_factory=dict)
    overrides: Sequence[JSON] = ()


def time_bucket(column: str, *, min_ms: int = 1) -> str:
    """SQL: the start of the $__interval-wide bucket (at least min_ms) that column falls in.

    date_bin rather than $__timeGroup: that macro yields epoch seconds without TimescaleDB
    and a timestamp with it (the datasource's `timescaledb` switch), this is the same on both.
    """
    step = f"greatest($__interval_ms, {min_ms}) * interval '1 millisecond'"
    return f"date_bin({step}, {column}, timestamptz '2000-01-01')"


def sql(text: str, *, fmt: Format = "table", ref_id: str = "A") -> Query:
    return Query(text, fmt, ref_id)


def layout(panels: Sequence[Panel]) -> list[JSON]:
    """Panels placed left to right, wrapping at the grid width, with ids in order."""
    placed: list[JSON] = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        grid_pos = {"h": panel.height, "w": panel.width, "x": x, "y": y}
        placed.append(_panel_json(panel, panel_id, grid_pos))
        x += panel.width
        row_height = max(row_height, panel.height)
    return placed


def _panel_json(panel: Panel, panel_id: int, grid_pos: JSON) -> JSON:
    return {
        "id": panel_id,
        "type": panel.type,
        "title": panel.title,
        "description": panel.description,
        "gridPos": grid_pos,
        "datasource": DATASOURCE,
        "targets": [q.to_json() for q in panel.queries],
        "fieldConfig": {"defaults": panel.defaults, "overrides": list(panel.overrides)},
        "options": panel.options,
    }


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    panels: Sequence[Panel],
    variables: Sequence[JSON] = (),
    annotations: Sequence[JSON] = (),
    time_from: str = "now-24h",
    refresh: str = "1m",
) -> JSON:
    """A whole dashboard. No id or version: Grafana assigns them, the uid identifies it."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG],
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        # Dashboards are code: a change goes through the repository, not the UI.
        "editable": False,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {"refresh_intervals": ["30s", "1m", "5m", "15m", "1h"]},
        "refresh": refresh,
        "templating": {"list": list(variables)},
        "annotations": {"list": [BUILT_IN_ANNOTATIONS, *annotations]},
        "links": [_other_dashboards()],
        "panels": layout(panels),
    }


def _other_dashboards() -> JSON:
    return {
        "type": "dashboards",
        "title": "toir",
        "tags": [TAG],
        "asDropdown": True,
        "includeVars": True,
        "keepTime": True,
        "icon": "external link",
        "targetBlank": False,
        "tooltip": "",
        "url": "",
    }


def sql_annotation(name: str, text: str, *, color: str = "red") -> JSON:
    """Annotations from a query returning time, text and tags (comma-separated)."""
    return {
        "name": name,
        "datasource": DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": color,
        "target": Query(text, "table", "Anno").to_json(),
    }


def value_colors(colors: dict[str, str]) -> JSON:
    """A value mapping that colours each text value."""
    return {
        "type": "value",
        "options": {
            value: {"color": color, "index": index, "text": value}
            for index, (value, color) in enumerate(colors.items())
        },
    }


def override(field_name: str, **properties: Any) -> JSON:
    """Field config for one field, by its name."""
    return {
        "matcher": {"id": "byName", "options": field_name},
        "properties": [{"id": key, "value": value} for key, value in properties.items()],
    }
