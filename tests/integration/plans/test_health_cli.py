"""`toir plans ...` and `toir predictive evaluate` as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from toir import health_commands  # noqa: F401  # registers the commands
from toir.cli import app


def test_a_plan_added_from_the_command_line_shows_in_the_list_and_calendar(
    database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO assets.equipment (id, kind, model) VALUES ('eq-1', 'pump', 'P')")
    steps = tmp_path / "steps.json"
    steps.write_text('[{"id": "belt", "kind": "check", "label": "Belt tension"}]')
    env = {"TOIR_DATABASE_URL": database_url, "TOIR_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    added = runner.invoke(
        app,
        [
            "plans",
            "add",
            "--name",
            "Belts",
            "--equipment",
            "eq-1",
            "--every-days",
            "7",
            "--lead-days",
            "7",
            "--skill",
            "mechanic=2",
            "--checklist",
            str(steps),
        ],
        env=env,
    )
    listed = runner.invoke(app, ["plans", "list"], env=env)
    upcoming = runner.invoke(app, ["plans", "upcoming", "--days", "8"], env=env)
    refused = runner.invoke(app, ["plans", "add", "--name", "X", "--equipment", "eq-1"], env=env)

    assert added.exit_code == 0, added.output
    plan = json.loads(added.stdout)
    assert plan["skills"] == {"mechanic": 2} and plan["checklist"][0]["id"] == "belt"
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [plan["id"]]
    (entry,) = [json.loads(line) for line in upcoming.stdout.splitlines()]
    assert entry["subject_id"] == "eq-1" and entry["due_now"] is True
    assert refused.exit_code != 0 and "at least one interval" in refused.stderr


def test_evaluate_prints_nab_style_metrics_as_json_on_the_last_line(tmp_path: Path) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        f"{(start + timedelta(minutes=5 * i)).strftime('%Y-%m-%d %H:%M:%S')},"
        f"{50.0 + (i % 7) * 0.1 + (40.0 if 2_500 <= i < 2_520 else 0.0)}"
        for i in range(3_000)
    ]
    series = tmp_path / "series.csv"
    series.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    window = [str(start + timedelta(minutes=5 * 2_480)), str(start + timedelta(minutes=5 * 2_560))]
    windows = tmp_path / "windows.json"
    windows.write_text(json.dumps({"series.csv": [[w.replace("+00:00", "") for w in window]]}))
    runner = CliRunner()

    done = runner.invoke(
        app, ["predictive", "evaluate", "--csv", str(series), "--windows", str(windows)]
    )
    half = runner.invoke(app, ["predictive", "evaluate", "--csv", str(series)])

    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["evaluation"] == "nab" and figures["detections"] >= 1
    assert half.exit_code != 0 and "go together" in half.stderr
