"""A pragmatic subset of the Grafana dashboard JSON schema (schemaVersion 39 and later).

Grafana publishes its dashboard schema as CUE (kinds/dashboard), not as JSON Schema, and
accepts unknown fields; this subset checks what toir's dashboards rely on: the top-level
fields, panels with type, gridPos, datasource and SQL targets, templating, annotations,
time range and refresh. Cross-field rules (no overlapping panels, variables defined before
use) are tests of their own.
"""

from __future__ import annotations

from typing import Any

PANEL_TYPES = ["timeseries", "stat", "table", "barchart", "piechart", "geomap", "text"]
UID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"}
NON_EMPTY = {"type": "string", "minLength": 1}
DATASOURCE = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": NON_EMPTY, "uid": NON_EMPTY},
}
SQL_TARGET = {
    "type": "object",
    "required": ["refId", "rawSql", "format", "rawQuery", "editorMode"],
    "properties": {
        "refId": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*$"},
        "datasource": DATASOURCE,
        "rawSql": NON_EMPTY,
        "format": {"enum": ["table", "time_series"]},
        "rawQuery": {"const": True},
        "editorMode": {"const": "code"},
    },
}
GRID_POS = {
    "type": "object",
    "required": ["h", "w", "x", "y"],
    "properties": {
        "h": {"type": "integer", "minimum": 1},
        "w": {"type": "integer", "minimum": 1, "maximum": 24},
        "x": {"type": "integer", "minimum": 0, "maximum": 23},
        "y": {"type": "integer", "minimum": 0},
    },
}
PANEL = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "type": {"enum": PANEL_TYPES},
        "title": NON_EMPTY,
        "description": {"type": "string"},
        "gridPos": GRID_POS,
        "datasource": DATASOURCE,
        "targets": {"type": "array", "items": SQL_TARGET},
        "fieldConfig": {
            "type": "object",
            "required": ["defaults", "overrides"],
            "properties": {
                "defaults": {"type": "object"},
                "overrides": {
                    "type": "array",
                    "items": {"type": "object", "required": ["matcher", "properties"]},
                },
            },
        },
        "options": {"type": "object"},
        "transformations": {"type": "array"},
    },
    # A text panel shows its content; every other panel queries a datasource.
    "if": {"properties": {"type": {"const": "text"}}},
    "then": {"required": ["options"]},
    "else": {
        "required": ["datasource", "targets", "fieldConfig", "options"],
        "properties": {"targets": {"minItems": 1}},
    },
}
VARIABLE = {
    "type": "object",
    "required": ["type", "name"],
    "properties": {
        "type": {"enum": ["query", "custom", "constant", "interval", "datasource", "textbox"]},
        "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
        "label": {"type": "string"},
        "query": {},
        "multi": {"type": "boolean"},
        "includeAll": {"type": "boolean"},
        "allValue": {"type": ["string", "null"]},
        "refresh": {"enum": [0, 1, 2]},
        "hide": {"enum": [0, 1, 2]},
        "sort": {"type": "integer", "minimum": 0, "maximum": 8},
    },
    "if": {"properties": {"type": {"const": "query"}}},
    "then": {
        "required": ["datasource", "query", "refresh"],
        "properties": {"datasource": DATASOURCE, "query": NON_EMPTY},
    },
}
ANNOTATION = {
    "type": "object",
    "required": ["name", "datasource", "enable"],
    "properties": {
        "name": NON_EMPTY,
        "datasource": DATASOURCE,
        "enable": {"type": "boolean"},
        "hide": {"type": "boolean"},
        "iconColor": {"type": "string"},
        "builtIn": {"enum": [0, 1]},
        "target": SQL_TARGET,
    },
    # Only Grafana's built-in annotation may come without a query.
    "if": {"not": {"required": ["builtIn"], "properties": {"builtIn": {"const": 1}}}},
    "then": {"required": ["target"]},
}
RELATIVE_TIME = {"type": "string", "pattern": r"^(now([-+]\d+[smhdwMy])?(/[smhdwMy])?|\d{4}-.*)$"}
DASHBOARD: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Grafana dashboard (toir subset)",
    "type": "object",
    "required": [
        "uid",
        "title",
        "schemaVersion",
        "panels",
        "templating",
        "annotations",
        "time",
        "refresh",
        "tags",
    ],
    "properties": {
        "id": {"type": ["integer", "null"]},
        "uid": UID,
        "title": NON_EMPTY,
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"},
        "schemaVersion": {"type": "integer", "minimum": 39},
        "editable": {"type": "boolean"},
        "graphTooltip": {"enum": [0, 1, 2]},
        "time": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": RELATIVE_TIME, "to": RELATIVE_TIME},
        },
        "timepicker": {"type": "object"},
        "refresh": {"type": "string", "pattern": r"^(\d+[smhd])?$"},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": VARIABLE}},
        },
        "annotations": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": ANNOTATION}},
        },
        "links": {"type": "array", "items": {"type": "object", "required": ["type", "title"]}},
        "panels": {"type": "array", "minItems": 1, "items": PANEL},
    },
}
