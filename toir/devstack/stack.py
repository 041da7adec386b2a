"""The dev stack as one context manager: configured services as given, the rest started here."""

from __future__ import annotations

import atexit
import contextlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from kernel.settings import Settings
from kernel.urls import redact
from toir.devstack.kafka import start_kafka
from toir.devstack.mqtt import start_mqtt
from toir.devstack.postgres import start_postgres
from toir.devstack.process import LogFn, RunningService, default_log


class Starter(Protocol):
    def __call__(self, directory: Path, *, log: LogFn | None = None) -> RunningService: ...


@dataclass(frozen=True)
class StackUrls:
    database_url: str
    mqtt_url: str
    kafka_url: str


class EmbeddedStack:
    """PostgreSQL, MQTT and Kafka for `toir demo` and the tests.

    A service whose URL is configured is used as it is; the others are started under
    `settings.data_dir/<service>/` and stopped, newest first, on exit (also on Ctrl-C,
    on an error in the `with` body, and at interpreter exit as a fallback).
    """

    def __init__(self, settings: Settings, *, log: LogFn | None = None) -> None:
        self._settings = settings
        self._log = log or default_log
        self._running = contextlib.ExitStack()
        self._urls: StackUrls | None = None

    def __enter__(self) -> StackUrls:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> StackUrls:
        """Start what is not configured; on any failure stop what was started and re-raise.

        Calling it again before `stop` returns the same URLs.
        """
        if self._urls is not None:
            return self._urls
        atexit.register(self.stop)
        settings = self._settings
        try:
            self._urls = StackUrls(
                database_url=self._url("postgres", settings.database_url, start_postgres),
                mqtt_url=self._url("mqtt", settings.mqtt_url, start_mqtt),
                kafka_url=self._url("kafka", settings.kafka_url, start_kafka),
            )
        except BaseException:
            self.stop()
            raise
        return self._urls

    def stop(self) -> None:
        """Stop only what `start` started, newest first; calling it again does nothing."""
        atexit.unregister(self.stop)
        self._urls = None
        self._running.close()

    def _url(self, service: str, configured: str | None, starter: Starter) -> str:
        if configured is not None:
            self._log(f"{service}: using the configured {redact(configured)}")
            return configured
        running = starter(self._service_dir(service), log=self._log)
        self._running.callback(self._stop_service, running)
        return running.url

    def _service_dir(self, service: str) -> Path:
        return self._settings.data_dir / service

    def _stop_service(self, running: RunningService) -> None:
        running.stop()
        self._log(f"{running.name}: stopped {running.version} (pid {running.pid})")
