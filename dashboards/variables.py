"""The template variables the dashboards share, and the SQL filters that apply them.

Grafana's SQL datasources quote each selected value of a multi-value or include-all
variable ('a','b') but insert a custom "All" value as it is written. The All value here is
the literal '__all', which no id equals, so `'__all' IN ($v) OR col IN ($v)` reads "any" for
All and "one of" otherwise, and an empty option list never yields the invalid `IN ()`.
"""

from __future__ import annotations

from dashboards.grafana import DATASOURCE, JSON

ALL_VALUE = "'__all'"
# Variable options are queried again when the time range changes (2) or only on load (1).
ON_LOAD = 1


def matches(column: str, variable: str) -> str:
    """SQL: the column is one of the variable's selected values, or All is selected."""
    return f"({ALL_VALUE} IN (${variable}) OR {column} IN (${variable}))"


def overlaps(array_column: str, variable: str) -> str:
    """SQL: the text[] column holds one of the selected values, or All is selected."""
    return f"({ALL_VALUE} IN (${variable}) OR {array_column} && ARRAY[${variable}]::text[])"


def query_variable(name: str, label: str, query: str, *, multi: bool = True) -> JSON:
    """A variable listing the rows of a reporting query (`__value` and `__text` if both)."""
    variable: JSON = {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": ON_LOAD,
        "multi": multi,
        "includeAll": multi,
        "current": {},
        "options": [],
        "sort": 0,
        "hide": 0,
        "regex": "",
        "skipUrlSync": False,
    }
    if multi:
        variable["allValue"] = ALL_VALUE
    return variable


AREA = query_variable("area", "Area", "SELECT area FROM reporting.areas ORDER BY area")
SITE = query_variable(
    "site",
    "Site",
    "SELECT site_id AS __value, name AS __text FROM reporting.sites "
    f"WHERE {matches('area', 'area')} ORDER BY name",
)
EQUIPMENT = query_variable(
    "equipment",
    "Equipment",
    "SELECT equipment_id AS __value, equipment_id || ' (' || kind || ')' AS __text "
    f"FROM reporting.equipment WHERE {matches('area', 'area')} AND {matches('site_id', 'site')} "
    "ORDER BY equipment_id",
)
# One vehicle at a time: its track is drawn. Single-value variables are inserted unquoted.
VEHICLE = query_variable(
    "vehicle",
    "Vehicle",
    "SELECT vehicle_id AS __value, coalesce(plate, vehicle_id) AS __text "
    f"FROM reporting.vehicles WHERE {matches('area', 'area')} ORDER BY 2",
    multi=False,
)
ENGINEER = query_variable(
    "engineer",
    "Engineer",
    "SELECT engineer_id AS __value, name AS __text FROM reporting.engineers "
    f"WHERE {overlaps('areas', 'area')} ORDER BY name",
)
