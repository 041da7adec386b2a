"""A TOIR_MQTT_URL no client could connect by stops a command with one line, before it runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toir import commands  # noqa: F401  # registers the commands
from toir.cli import app


@pytest.mark.parametrize(
    ("mqtt_url", "complaint"),
    [
        ("nonsense", "scheme must be one of mqtt, mqtts, got 'none'"),
        ("mqtt://", "a host is required"),
        ("mqtt://broker:port", "the port must be a number from 1 to 65535"),
    ],
)
def test_simulate_refuses_the_mqtt_url_in_one_line(mqtt_url: str, complaint: str) -> None:
    done = CliRunner().invoke(app, ["simulate", "--duration", "1"], env={"TOIR_MQTT_URL": mqtt_url})

    assert done.exit_code == 2
    assert done.stderr.splitlines() == [f"toir: TOIR_MQTT_URL: {complaint}"]
