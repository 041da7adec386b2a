"""Roster CSV import, over the API and from the command line: all rows or none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from tests.integration.api.conftest import TokenFactory, bearer
from tests.integration.engineers.factories import engineer_body, roster
from tickets.users.models import Role

IMPORT_URL = "/api/v1/engineers/import"
CSV = {"Content-Type": "text/csv"}


def _engineer_ids(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tickets.engineers ORDER BY id")]


def test_a_roster_creates_new_engineers_and_updates_known_ones(
    client: TestClient, token_for: TokenFactory
) -> None:
    planner = bearer(token_for(Role.PLANNER))
    client.post("/api/v1/engineers", headers=planner, json=engineer_body("eng-1", status="off"))
    file = roster(
        'eng-1,Anna,Europe/Moscow,55.7,37.6,north,"hvac:4;boilers:2",mon-fri 08:00-17:00,3',
        "eng-2,Boris,UTC,,,,electrical:1,sat-sun 20:00-08:00,",
    )
    response = client.post(IMPORT_URL, headers=planner | CSV, content=file)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": ["eng-2"], "updated": ["eng-1"]}
    anna = client.get("/api/v1/engineers/eng-1", headers=planner).json()
    assert (anna["name"], anna["skills"]) == ("Anna", {"boilers": 2, "hvac": 4})
    assert [s["weekday"] for s in anna["shifts"]] == [0, 1, 2, 3, 4]
    # Columns the file does not have stay as they were.
    assert (anna["status"], len(anna["absences"])) == ("off", 1)
    boris = client.get("/api/v1/engineers/eng-2", headers=planner).json()
    assert [(s["weekday"], s["starts"], s["ends"]) for s in boris["shifts"]] == [
        (5, "20:00:00", "08:00:00"),
        (6, "20:00:00", "08:00:00"),
    ]
    assert (boris["home_lat"], boris["max_concurrent"]) == (None, 3)


def test_a_roster_with_bad_rows_imports_nothing_and_names_every_row(
    client: TestClient, token_for: TokenFactory, database_url: str
) -> None:
    file = roster(
        "eng-1,Anna,UTC,55.7,37.6,north,hvac:3,mon 08:00-17:00,3",
        "eng-2,Boris,UTC,55.7,37.6,north,hvac:9,mon 08:00-17:00,3",
        "eng-3,Vera,UTC,55.7,37.6,north,hvac:3,someday 08:00-17:00,3",
        "eng-1,Anna again,UTC,55.7,37.6,north,hvac:3,,3",
        "eng-4,Gleb,Nowhere/Town,55.7,,north,hvac:3,,3",
    )
    planner = bearer(token_for(Role.PLANNER))
    response = client.post(IMPORT_URL, headers=planner | CSV, content=file)
    assert response.status_code == 422
    errors = response.json()["fields"]
    assert sorted(errors) == ["row 3", "row 4", "row 5", "row 6"]
    assert "skills.hvac" in errors["row 3"]
    assert "someday" in errors["row 4"]
    assert "repeats row 2" in errors["row 5"]
    assert "time zone" in errors["row 6"]
    assert "nothing was imported" in response.json()["message"]
    assert _engineer_ids(database_url) == []


def test_a_roster_with_an_unknown_column_is_refused(
    client: TestClient, token_for: TokenFactory
) -> None:
    file = roster("eng-1,Anna,blue", header="id,name,favourite_colour")
    planner = bearer(token_for(Role.PLANNER))
    response = client.post(IMPORT_URL, headers=planner | CSV, content=file)
    assert response.status_code == 422
    assert "favourite_colour" in response.json()["fields"]["header"]


def test_toir_engineers_import_loads_a_roster_file(database_url: str, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(roster("eng-1,Anna,UTC,55.7,37.6,north,hvac:3,mon-fri 08:00-17:00,3"))
    bad.write_bytes(roster("eng-2,Boris,UTC,55.7,37.6,north,hvac:0,,3"))
    env = {**os.environ, "TOIR_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "toir", "engineers", "import"]
    ok = subprocess.run([*command, str(good)], env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "1 engineer(s) created, 0 updated" in ok.stdout
    failed = subprocess.run(
        [*command, str(bad)], env=env, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 2
    assert "row 2: skills.hvac" in failed.stderr
    assert _engineer_ids(database_url) == ["eng-1"]
