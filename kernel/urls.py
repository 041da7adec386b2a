"""Parsing of the service URLs the settings carry."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MQTT_DEFAULT_PORT = 1883
MQTTS_DEFAULT_PORT = 8883


@dataclass(frozen=True)
class MqttAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> MqttAddress:
    """`mqtt://user:pass@host:port` into its parts."""
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return MqttAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (MQTTS_DEFAULT_PORT if tls else MQTT_DEFAULT_PORT),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def kafka_bootstrap(url: str) -> str:
    """`kafka://host1:9092,host2:9092` into aiokafka's bootstrap string."""
    return url.split("://", 1)[1].rstrip("/")


def redact(url: str) -> str:
    """The URL with its password replaced, safe to log."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
