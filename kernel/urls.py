"""Parsing of the service URLs the settings carry."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
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


def kafka_uses_tls(url: str) -> bool:
    return url.startswith("kafkas://")


def kafka_tls_context() -> ssl.SSLContext:
    """Verifies the broker's certificate and host name against the system CAs (OpenSSL's
    SSL_CERT_FILE / SSL_CERT_DIR name a private CA)."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


def kafka_client_options(url: str) -> dict[str, Any]:
    """aiokafka's connection keywords for `kafka://` (plain) or `kafkas://` (TLS) URLs."""
    options: dict[str, Any] = {"bootstrap_servers": kafka_bootstrap(url)}
    if kafka_uses_tls(url):
        options |= {"security_protocol": "SSL", "ssl_context": kafka_tls_context()}
    return options


def redact(url: str) -> str:
    """The URL with its password replaced, safe to log."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
