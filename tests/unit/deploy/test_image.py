"""The Dockerfile and the broker configuration compose mounts, checked as text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
MOSQUITTO_CONF = (ROOT / "docker" / "mosquitto" / "mosquitto.conf").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())


def _directives(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", text)  # continuation lines
    lines = (line.strip() for line in joined.splitlines())
    return [
        (word.upper(), rest)
        for word, _, rest in (line.partition(" ") for line in lines if line and line[0] != "#")
    ]


def test_image_is_built_in_one_stage_and_run_from_another_as_a_non_root_user() -> None:
    directives = _directives(DOCKERFILE)
    stages = [rest for word, rest in directives if word == "FROM"]
    assert len(stages) >= 2 and stages[0].endswith("AS build")
    runtime = directives[[d[0] for d in directives].index("FROM", 1) :]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["toir"]') in runtime


def test_image_installs_no_embedded_servers_or_dev_tools() -> None:
    installs = " ".join(rest for word, rest in _directives(DOCKERFILE) if word == "RUN")
    assert "[embedded]" not in installs and "[dev]" not in installs
    assert "--no-index" in installs  # only the wheels built in the first stage


def test_mosquitto_refuses_anonymous_clients_and_keeps_sessions() -> None:
    conf = dict(_conf_lines(MOSQUITTO_CONF))
    assert conf["allow_anonymous"] == "false"
    assert conf["persistence"] == "true"
    volumes = COMPOSE["services"]["mosquitto"]["volumes"]
    auth_mount = next(mount_target(v) for v in volumes if "BROKER_DIR" in v)
    assert conf["password_file"] == f"{auth_mount}/passwd"
    assert conf["acl_file"] == f"{auth_mount}/acl"


def test_mosquitto_saves_its_store_often_enough_for_a_crash_to_lose_little() -> None:
    conf = dict(_conf_lines(MOSQUITTO_CONF))
    assert conf["autosave_on_changes"] == "true"
    assert int(conf["autosave_interval"]) <= 1000


def mount_target(volume: str) -> str:
    """`source:target[:mode]`, where the source may hold `${VAR:-default}`."""
    parts = volume.rsplit(":", 2)
    return parts[-2] if parts[-1] in ("ro", "rw") else parts[-1]


def _conf_lines(text: str) -> list[tuple[str, str]]:
    return [
        (key, value.strip())
        for key, _, value in (
            line.partition(" ") for line in text.splitlines() if re.match(r"^[a-z_]+ ", line)
        )
    ]
