from pathlib import Path

import pytest

from kernel.settings import Environment, SettingsError, load_settings


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOIR_DATABASE_URL", "TOIR_MQTT_URL", "TOIR_KAFKA_URL", "TOIR_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url is None
    assert settings.env is Environment.DEV
    assert settings.data_dir == Path(".toir")


def test_urls_are_read_from_toir_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOIR_DATABASE_URL", "postgresql://toir@db:5432/toir")
    monkeypatch.setenv("TOIR_MQTT_URL", "mqtt://broker:1883")
    monkeypatch.setenv("TOIR_KAFKA_URL", "kafka://k1:9092,k2:9092")
    settings = load_settings()
    assert settings.database_url == "postgresql://toir@db:5432/toir"
    assert settings.mqtt_url == "mqtt://broker:1883"
    assert settings.kafka_url == "kafka://k1:9092,k2:9092"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TOIR_DATABASE_URL", "mysql://db/toir", "TOIR_DATABASE_URL: scheme must be one of"),
        ("TOIR_MQTT_URL", "http://broker", "TOIR_MQTT_URL: scheme must be one of"),
        ("TOIR_MQTT_URL", "mqtt://", "TOIR_MQTT_URL: a host is required"),
        ("TOIR_MQTT_URL", "nonsense", "TOIR_MQTT_URL: scheme must be one of mqtt, mqtts"),
        ("TOIR_MQTT_URL", "mqtt://broker:port", "TOIR_MQTT_URL: the port must be a number"),
        ("TOIR_KAFKA_URL", "broker:9092", "TOIR_KAFKA_URL: scheme must be one of"),
        ("TOIR_KAFKA_PARTITIONS", "0", "TOIR_KAFKA_PARTITIONS: "),
        ("TOIR_INGEST_BATCH_SIZE", "many", "TOIR_INGEST_BATCH_SIZE: "),
        ("TOIR_LOG_LEVEL", "LOUD", "TOIR_LOG_LEVEL: must be DEBUG"),
        ("TOIR_ENV", "staging", "TOIR_ENV: "),
    ],
)
def test_an_invalid_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_ingest_compresses_with_snappy_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOIR_KAFKA_COMPRESSION", raising=False)
    assert load_settings().kafka_compression.codec() == "snappy"
    monkeypatch.setenv("TOIR_KAFKA_COMPRESSION", "none")
    assert load_settings().kafka_compression.codec() is None
    monkeypatch.setenv("TOIR_KAFKA_COMPRESSION", "brotli")
    with pytest.raises(SettingsError, match="TOIR_KAFKA_COMPRESSION"):
        load_settings()
