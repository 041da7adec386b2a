"""Every query of every dashboard (panels, variables, annotations) runs against a seeded
database as the Grafana role, with Grafana's macros and variables expanded, and returns the
columns its panel type needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.postgres import types

from dashboards.catalog import build_all
from dashboards.grafana import JSON
from tests.integration.dashboards.factories import Seeded
from tests.unit.dashboards.macros import ALL, Selection, TimeRange, expand

TIME_TYPES = {types.get(name).oid for name in ("timestamptz", "timestamp")}  # type: ignore[union-attr]
NUMBER_TYPES = {
    types.get(name).oid  # type: ignore[union-attr]
    for name in ("int2", "int4", "int8", "float4", "float8", "numeric")
}
TEXT_TYPES = {types.get(name).oid for name in ("text", "varchar", "name")}  # type: ignore[union-attr]
INTERVAL_MS = 60_000


def queries() -> Iterator[Any]:
    """(dashboard, what, panel type, format, SQL) of every query, as pytest params."""
    for board in build_all():
        for variable in board["templating"]["list"]:
            yield _param(
                board, f"variable {variable['name']}", "variable", "table", variable["query"]
            )
        for note in board["annotations"]["list"]:
            if "target" in note:
                yield _param(
                    board,
                    f"annotation {note['name']}",
                    "annotation",
                    "table",
                    note["target"]["rawSql"],
                )
        for panel in board["panels"]:
            for target in panel["targets"]:
                yield _param(
                    board,
                    f"{panel['title']} {target['refId']}",
                    panel["type"],
                    target["format"],
                    target["rawSql"],
                )


def _param(board: JSON, what: str, kind: str, fmt: str, sql: str) -> Any:
    return pytest.param(board, kind, fmt, sql, id=f"{board['uid']}: {what}")


@pytest.mark.parametrize(("board", "kind", "fmt", "sql"), list(queries()))
def test_query_returns_what_its_panel_needs_for_all(
    reporting_url: str, seeded: Seeded, board: JSON, kind: str, fmt: str, sql: str
) -> None:
    columns, rows = run_as_grafana(reporting_url, board, sql, seeded, everything(seeded))

    assert rows, "no rows from the seeded data"
    check_columns(kind, fmt, columns)
    if kind == "stat":
        assert any(rows[0]), "a stat of zero or nothing: the seed should make it count"


@pytest.mark.parametrize(("board", "kind", "fmt", "sql"), list(queries()))
def test_query_runs_with_single_selections(
    reporting_url: str, seeded: Seeded, board: JSON, kind: str, fmt: str, sql: str
) -> None:
    columns, _ = run_as_grafana(reporting_url, board, sql, seeded, one_of_each(seeded))

    check_columns(kind, fmt, columns)


def everything(seeded: Seeded) -> dict[str, Selection]:
    return {
        "area": ALL,
        "site": ALL,
        "equipment": ALL,
        "engineer": ALL,
        "vehicle": seeded.vehicle_id,
    }


def one_of_each(seeded: Seeded) -> dict[str, Selection]:
    return {
        "area": [seeded.area],
        "site": [seeded.site_id],
        "equipment": seeded.equipment_ids[:2],
        "engineer": [seeded.engineer_id],
        "vehicle": seeded.vehicle_id,
    }


def run_as_grafana(
    url: str, board: JSON, sql: str, seeded: Seeded, selections: Mapping[str, Selection]
) -> tuple[list[psycopg.Column], list[tuple[Any, ...]]]:
    expanded = expand(
        sql,
        time_range=TimeRange(seeded.now - timedelta(days=30), seeded.now + timedelta(minutes=1)),
        interval_ms=INTERVAL_MS,
        definitions=board["templating"]["list"],
        selections=selections,
    )
    with psycopg.connect(url) as conn:
        # Grafana logs in as toir_grafana: a query reaching past the views fails here.
        conn.execute("SET ROLE toir_grafana")
        cur = conn.execute(expanded.encode())
        assert cur.description is not None
        return list(cur.description), cur.fetchall()


def check_columns(kind: str, fmt: str, columns: list[psycopg.Column]) -> None:
    names = [c.name for c in columns]
    oids = {c.name: c.type_code for c in columns}
    numbers = [n for n in names if oids[n] in NUMBER_TYPES]
    if kind == "geomap":
        assert {"latitude", "longitude"} <= set(names)
        assert oids["latitude"] in NUMBER_TYPES and oids["longitude"] in NUMBER_TYPES
    elif kind in ("timeseries", "annotation"):
        assert names[0] == "time" and oids["time"] in TIME_TYPES, names
        assert kind == "annotation" or numbers, names
        if kind == "annotation":
            assert "text" in names
    elif kind in ("stat", "piechart"):
        assert numbers, names
    elif kind == "barchart":
        assert oids[names[0]] in TEXT_TYPES and set(numbers) == set(names[1:]), names
    elif kind == "variable":
        assert names in (["__value", "__text"], [names[0]]) and len(names) <= 2, names
    if fmt == "time_series":
        assert set(names) <= {"time", "metric", "value"}, names
    assert len(set(names)) == len(names), names
