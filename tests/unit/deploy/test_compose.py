"""compose.yaml, checked without Docker: against the Compose schema, the `toir` command
tree and the settings the code knows."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.unit.deploy.catalog import known_variables, toir_commands

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((Path(__file__).parent / "compose_schema.json").read_text())
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
# Variable uses outside comments (comments quote `${VAR:?message}` to explain it).
COMPOSE_CODE = "\n".join(
    line for line in COMPOSE_TEXT.splitlines() if not line.lstrip().startswith("#")
)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# Services running the toir image (they have a build section: `build: .`).
TOIR_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
ONE_SHOT = {name for name, s in SERVICES.items() if s.get("restart") == "no"}
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN")
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[?-])?")


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_schema() -> None:
    assert schema_errors(COMPOSE) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["services"]["api"].update(helthcheck={}), "helthcheck"),
        (lambda d: d["services"]["api"]["depends_on"]["migrate"].update(condition="done"), "done"),
        (lambda d: d["services"]["api"]["healthcheck"].update(interval="soon"), "soon"),
        (lambda d: d.update(servces={}), "servces"),
    ],
)
def test_the_schema_rejects_what_compose_would_reject(change: Any, where: str) -> None:
    broken = copy.deepcopy(COMPOSE)
    change(broken)
    errors = schema_errors(broken)
    assert errors and any(where in error for error in errors), errors


def test_every_toir_service_runs_a_real_toir_command() -> None:
    commands = toir_commands()
    assert {"ingest", "ingest-2", "stream", "api", "migrate"} <= TOIR_SERVICES.keys()
    for name, service in TOIR_SERVICES.items():
        argv = service["command"]
        words = tuple(w for w in argv if not w.startswith("-"))
        assert any(words[: len(c)] == c for c in commands), f"{name}: toir {' '.join(argv)}"


def test_every_toir_variable_a_toir_service_sets_is_a_known_setting() -> None:
    known = known_variables()
    for name, service in TOIR_SERVICES.items():
        unknown = {v for v in service["environment"] if v.startswith("TOIR_")} - known
        assert not unknown, f"{name} sets variables no settings class reads: {sorted(unknown)}"


def test_secrets_are_required_so_a_missing_one_fails_loudly() -> None:
    uses = list(VARIABLE.finditer(COMPOSE_CODE))
    secrets = [m for m in uses if any(word in m["name"] for word in SECRET_WORDS)]
    assert {m["name"] for m in secrets} >= {"POSTGRES_PASSWORD", "MQTT_INGEST_PASSWORD"}
    assert all(m["op"] == ":?" for m in secrets), [m.group(0) for m in secrets if m["op"] != ":?"]


def test_no_secret_is_written_into_the_compose_file() -> None:
    for name, service in SERVICES.items():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if any(word in key for word in SECRET_WORDS):
                assert str(value).startswith("${"), f"{name}.{key} has a literal value"


def test_services_start_in_order_once_what_they_need_is_healthy_or_done() -> None:
    for name, service in SERVICES.items():
        for needed, rule in service.get("depends_on", {}).items():
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[needed], f"{name} waits on {needed}'s health"
            if rule["condition"] == "service_completed_successfully":
                assert needed in ONE_SHOT, f"{name} waits for {needed} to finish"
    assert SERVICES["migrate"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    for name in TOIR_SERVICES.keys() - {"migrate"}:
        condition = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_long_running_services_have_a_healthcheck_and_a_restart_policy() -> None:
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            continue
        assert service.get("restart") in ("always", "unless-stopped"), name
        assert service.get("healthcheck", {}).get("test"), name


def test_stateful_services_keep_their_data_in_named_volumes() -> None:
    mounts = {
        "timescaledb": "/var/lib/postgresql/data",
        "kafka": "/var/lib/kafka/data",
        "mosquitto": "/mosquitto/data",
        "grafana": "/var/lib/grafana",
    }
    for name, target in mounts.items():
        source = f"{name}-data"
        volumes = [v.split(":")[:2] for v in SERVICES[name]["volumes"]]
        assert [source, target] in volumes and source in COMPOSE["volumes"], name


def test_ingest_instances_share_a_group_with_distinct_persistent_sessions() -> None:
    ingests = [s["environment"] for n, s in TOIR_SERVICES.items() if s["command"] == ["ingest"]]
    assert len(ingests) >= 2
    assert len({env["TOIR_MQTT_SHARE_GROUP"] for env in ingests}) == 1
    client_ids = [env["TOIR_MQTT_CLIENT_ID"] for env in ingests]
    assert len(set(client_ids)) == len(client_ids)


def test_env_example_lists_every_setting_and_every_compose_variable() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    compose_variables = {m["name"] for m in VARIABLE.finditer(COMPOSE_CODE)}
    assert known_variables() - listed == set()
    assert compose_variables - listed == set()
