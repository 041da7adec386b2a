import json
import re
from itertools import combinations
from typing import Any

import jsonschema
import pytest

from dashboards.catalog import build_all
from dashboards.grafana import DATASOURCE, GRID_COLUMNS, JSON
from tests.unit.dashboards.grafana_schema import DASHBOARD

DASHBOARDS = build_all()
IDS = [d["uid"] for d in DASHBOARDS]
GLOBALS = {"__interval", "__interval_ms"}
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
OTHER_SCHEMAS = re.compile(r"\b(assets|telemetry|tickets|predictive|toir_meta|public|pg_catalog)\.")


def queries_of(board: JSON) -> list[str]:
    """Every SQL text of a dashboard: panels, variables and annotations."""
    panels = [t["rawSql"] for p in board["panels"] for t in p.get("targets", [])]
    variables = [v["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    notes = [a["target"]["rawSql"] for a in board["annotations"]["list"] if "target" in a]
    return panels + variables + notes


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(DASHBOARD)


@pytest.mark.parametrize("board", DASHBOARDS, ids=IDS)
def test_every_dashboard_validates_against_the_grafana_schema(board: JSON) -> None:
    jsonschema.Draft202012Validator(DASHBOARD).validate(board)


def test_the_schema_rejects_a_panel_without_targets() -> None:
    board = json.loads(json.dumps(DASHBOARDS[0]))
    del board["panels"][0]["targets"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(board, DASHBOARD)


def test_uids_are_fixed_and_unique() -> None:
    assert IDS == [
        "toir-fleet-map",
        "toir-equipment-health",
        "toir-tickets-sla",
        "toir-engineers",
        "toir-platform",
    ]


def test_builders_are_pure_and_json_serialisable() -> None:
    again = build_all()
    assert json.dumps(again, sort_keys=True) == json.dumps(DASHBOARDS, sort_keys=True)
    assert all("id" not in d and "version" not in d for d in DASHBOARDS)


@pytest.mark.parametrize("board", DASHBOARDS, ids=IDS)
def test_panels_have_unique_ids_and_do_not_overlap(board: JSON) -> None:
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= GRID_COLUMNS, panel["title"]
    for a, b in combinations(panels, 2):
        assert not _overlap(a["gridPos"], b["gridPos"]), (a["title"], b["title"])


@pytest.mark.parametrize("board", DASHBOARDS, ids=IDS)
def test_every_variable_used_is_defined_before_use(board: JSON) -> None:
    defined: list[str] = []
    for variable in board["templating"]["list"]:
        assert _used(variable["query"]) <= set(defined) | GLOBALS, variable["name"]
        defined.append(variable["name"])
    for text in queries_of(board):
        assert _used(text) <= set(defined) | GLOBALS, text


@pytest.mark.parametrize("board", DASHBOARDS, ids=IDS)
def test_queries_read_only_the_reporting_views(board: JSON) -> None:
    # The grafana role enforces this too (tests/integration/dashboards); this names the panel.
    for text in queries_of(board):
        assert "reporting." in text, text
        assert not OTHER_SCHEMAS.search(text), text


@pytest.mark.parametrize("board", DASHBOARDS, ids=IDS)
def test_panels_use_the_toir_datasource_and_unique_ref_ids(board: JSON) -> None:
    for panel in board["panels"]:
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids)
        assert panel["datasource"] == DATASOURCE
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"])


def test_map_layers_show_queries_of_their_panel() -> None:
    maps = [p for d in DASHBOARDS for p in d["panels"] if p["type"] == "geomap"]
    assert maps
    for panel in maps:
        ref_ids = {t["refId"] for t in panel["targets"]}
        assert {layer["filterData"]["options"] for layer in panel["options"]["layers"]} == ref_ids


def test_dashboards_have_sensible_time_ranges_and_refresh() -> None:
    for board in DASHBOARDS:
        assert board["time"]["from"].startswith("now-") and board["time"]["to"] == "now"
        assert board["refresh"] in board["timepicker"]["refresh_intervals"]


def _used(text: Any) -> set[str]:
    return {m[0] or m[1] for m in VARIABLE.findall(str(text))} - {
        name for name in re.findall(r"\$(__\w+)\(", str(text))
    }


def _overlap(a: JSON, b: JSON) -> bool:
    return bool(
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )
