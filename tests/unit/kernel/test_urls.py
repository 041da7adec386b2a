import ssl

from kernel.urls import kafka_bootstrap, kafka_client_options, parse_mqtt_url, redact


def test_mqtt_url_parts_with_credentials_and_default_port() -> None:
    address = parse_mqtt_url("mqtt://ingest:s%40cret@broker")
    assert (address.host, address.port) == ("broker", 1883)
    assert (address.username, address.password, address.tls) == ("ingest", "s@cret", False)


def test_mqtts_defaults_to_the_tls_port() -> None:
    address = parse_mqtt_url("mqtts://broker")
    assert (address.port, address.tls) == (8883, True)


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
