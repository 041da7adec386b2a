"""Parsing of the service URLs the settings carry."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

MQTT_DEFAULT_PORT = 1883
MQTTS_DEFAULT_PORT = 8883
MQTT_SCHEMES = ("mqtt", "mqtts")


@dataclass(frozen=True)
class MqttAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> MqttAddress:
    """`mqtt://user:pass@host:port` (or `mqtts://` for TLS) into its parts.

    ValueError, saying what is wrong and never quoting the URL (it may hold a password), for
    anything else: no or another scheme, no host, a port that is not 1-65535.
    """
    parts = urlsplit(url)
    if parts.scheme not in MQTT_SCHEMES:
        raise ValueError(f"scheme must be one of mqtt, mqtts, got {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise ValueError("a host is required")
    tls = parts.scheme == "mqtts"
    return MqttAddress(
        host=parts.hostname,
        port=_port(parts) or (MQTTS_DEFAULT_PORT if tls else MQTT_DEFAULT_PORT),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def _port(parts: SplitResult) -> int | None:
    try:
        port = parts.port
    except ValueError as exc:  # not a number, or past 65535
        raise ValueError("the port must be a number from 1 to 65535") from exc
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    return port


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
