import ssl

import pytest

from kernel.urls import kafka_bootstrap, kafka_client_options, parse_mqtt_url, redact


def test_mqtt_url_parts_with_credentials_and_default_port() -> None:
    address = parse_mqtt_url("mqtt://ingest:s%40cret@broker")
    assert (address.host, address.port) == ("broker", 1883)
    assert (address.username, address.password, address.tls) == ("ingest", "s@cret", False)


def test_mqtts_defaults_to_the_tls_port() -> None:
    address = parse_mqtt_url("mqtts://broker")
    assert (address.port, address.tls) == (8883, True)


@pytest.mark.parametrize(
    ("url", "host", "port", "tls"),
    [
        ("mqtt://broker:1884", "broker", 1884, False),
        ("mqtts://broker:8884", "broker", 8884, True),
        ("MQTT://Broker", "broker", 1883, False),
        ("mqtt://[::1]:1883", "::1", 1883, False),
        ("mqtt://127.0.0.1:65535", "127.0.0.1", 65535, False),
    ],
)
def test_mqtt_urls_with_a_scheme_and_a_host_are_accepted(
    url: str, host: str, port: int, tls: bool
) -> None:
    address = parse_mqtt_url(url)
    assert (address.host, address.port, address.tls) == (host, port, tls)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("nonsense", "scheme must be one of mqtt, mqtts, got 'none'"),
        ("", "scheme must be one of mqtt, mqtts, got 'none'"),
        ("127.0.0.1:1883", "scheme must be one of mqtt, mqtts, got 'none'"),
        ("//broker:1883", "scheme must be one of mqtt, mqtts, got 'none'"),
        ("http://broker:1883", "scheme must be one of mqtt, mqtts, got 'http'"),
        ("ws://broker:8080", "scheme must be one of mqtt, mqtts, got 'ws'"),
        ("mqtt://", "a host is required"),
        ("mqtts://:8883", "a host is required"),
        ("mqtt:///toir", "a host is required"),
        ("mqtt://broker:port", "the port must be a number from 1 to 65535"),
        ("mqtt://broker:70000", "the port must be a number from 1 to 65535"),
        ("mqtt://broker:0", "the port must be a number from 1 to 65535"),
    ],
)
def test_mqtt_urls_without_a_scheme_host_or_valid_port_are_refused(
    url: str, complaint: str
) -> None:
    with pytest.raises(ValueError) as refused:
        parse_mqtt_url(url)
    assert str(refused.value) == complaint


@pytest.mark.parametrize("url", ["mqtt://ingest:hunter2@:1883", "ingest:hunter2@broker"])
def test_a_refused_mqtt_url_is_not_quoted_with_its_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_mqtt_url(url)
    assert "hunter2" not in str(refused.value)


def test_kafka_bootstrap_keeps_every_broker() -> None:
    assert kafka_bootstrap("kafka://k1:9092,k2:9093/") == "k1:9092,k2:9093"


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://toir:hunter2@db/toir") == "postgresql://toir:***@db/toir"
    assert redact("mqtt://broker:1883") == "mqtt://broker:1883"


def test_kafka_client_options_are_plain_for_kafka_and_verified_tls_for_kafkas() -> None:
    assert kafka_client_options("kafka://k1:9092,k2:9092") == {
        "bootstrap_servers": "k1:9092,k2:9092"
    }
    options = kafka_client_options("kafkas://k1:9093")
    assert options["bootstrap_servers"] == "k1:9093"
    assert options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
