"""The baseline consumer refuses an MQTT URL it cannot use before it touches the database."""

from __future__ import annotations

import pytest

from toir.bench.baseline import main

# Nothing listens on port 1: reaching for the database would fail in another way.
UNREACHABLE_DATABASE = "postgresql://toir@127.0.0.1:1/toir"


@pytest.mark.parametrize(
    ("mqtt_url", "complaint"),
    [
        ("nonsense", "--mqtt-url: scheme must be one of mqtt, mqtts, got 'none'"),
        ("http://broker", "--mqtt-url: scheme must be one of mqtt, mqtts, got 'http'"),
        ("mqtt://", "--mqtt-url: a host is required"),
    ],
)
def test_an_mqtt_url_it_cannot_use_is_one_line_and_exit_2(
    mqtt_url: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--mqtt-url", mqtt_url, "--database-url", UNREACHABLE_DATABASE])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: {complaint}")
