"""Typed process settings, read from `TOIR_*` environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.urls import parse_mqtt_url


class Environment(StrEnum):
    DEV = "dev"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"  # one object per line, for a log shipper


class KafkaCompression(StrEnum):
    """How ingest compresses the record batches it produces (aiokafka's codecs)."""

    NONE = "none"
    GZIP = "gzip"
    SNAPPY = "snappy"
    LZ4 = "lz4"
    ZSTD = "zstd"

    def codec(self) -> str | None:
        """The producer's compression_type."""
        return None if self is KafkaCompression.NONE else self.value


class SettingsError(Exception):
    """A setting is invalid; the message names the variable and the reason."""


def _check_scheme(url: str, schemes: tuple[str, ...]) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        raise ValueError(f"scheme must be one of {', '.join(schemes)}, got {scheme or 'none'!r}")
    if not urlsplit(url).hostname and scheme not in ("postgresql", "postgres"):
        raise ValueError("a host is required")
    return url


class Settings(BaseSettings):
    """Everything a toir process can be told from outside."""

    model_config = SettingsConfigDict(env_prefix="TOIR_", extra="ignore")

    env: Environment = Environment.DEV
    data_dir: Path = Path(".toir")
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT

    database_url: str | None = None
    mqtt_url: str | None = None
    kafka_url: str | None = None

    mqtt_client_id: str = "toir-ingest"
    notify_client_id: str = "toir-notify"
    # Empty: a plain subscription; set (e.g. "ingest") to split load across instances.
    mqtt_share_group: str = ""
    kafka_partitions: int = Field(default=4, ge=1, le=1024)
    kafka_rebalance_timeout_s: float = Field(default=3.0, gt=0)
    # Also bounds how fast a dead worker's partitions move; Tansu's first join waits ~half.
    kafka_session_timeout_s: float = Field(default=6.0, ge=2)
    # Telemetry packs are JSON and shrink about five times under snappy, so the broker
    # stores and serves, and each consumer fetches, a fraction of the bytes. Fifty readings
    # a message, flat out, two workers, interleaved: 72-76k -> 87-95k readings/s, CPU per
    # reading for the whole pipeline 25.4-26.5 -> 21.5-22.6 µs (ingest, the broker and the
    # stream all cheaper).
    kafka_compression: KafkaCompression = KafkaCompression.SNAPPY

    ingest_max_payload_bytes: int = Field(default=65_536, ge=256)
    ingest_batch_size: int = Field(default=1000, ge=1)
    ingest_batch_wait_s: float = Field(default=0.05, ge=0)
    ingest_max_future_s: float = Field(default=86_400, ge=0)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_pool_size: int = Field(default=10, ge=1)

    sla_risk_share: float = Field(default=0.8, gt=0, lt=1)
    sla_watch_interval_s: float = Field(default=15.0, gt=0)

    stream_batch_size: int = Field(default=2000, ge=1)
    stream_batch_wait_s: float = Field(default=0.25, gt=0)
    # Kafka values a worker fetches ahead of each persistence agent, and the most one fetch
    # brings per partition, in compressed bytes (kafka_compression): packs shrink about
    # five times under snappy. A value is at most a 16 KiB pack (ingest.packing), so 4,096
    # values hold at most 64 MiB per topic when a worker lags. One worker draining 1.5
    # million readings, fifty a message, compressed: 464-467 MB at peak, against 491-504
    # with 8 MiB fetches (as fast) and 433-438 with 2 MiB (5-9 % slower). Uncompressed,
    # 8,192 values took 460-485 MB and 16,384 took 545-590 MB for no gain in speed.
    stream_buffer_size: int = Field(default=4_096, ge=1)
    stream_partition_fetch_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    # Transactions a stream worker keeps in flight per batch, each over its own devices:
    # PostgreSQL stores one while the worker prepares the next (stream.persist).
    stream_write_lanes: int = Field(default=3, ge=1, le=8)
    stream_group_id: str = "toir-stream"
    partitions_ahead_days: int = Field(default=7, ge=1)
    # A UTC day this many days old no longer gets normal traffic: its hourly rollups are
    # rewritten in key order (docs/storage.md, "Reordering closed days").
    rollups_reorder_after_days: int = Field(default=2, ge=1)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_scheme(value, ("postgresql", "postgres"))

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mqtt_url(value)  # the rules every MQTT client of toir connects by
        return value

    @field_validator("kafka_url")
    @classmethod
    def _kafka_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_scheme(value, ("kafka", "kafkas"))

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value raises SettingsError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"TOIR_{field.upper()}: {message}") from exc
