"""Metrics families built from a process's own counters, and the health endpoints."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus

from prometheus_client.parser import text_string_to_metric_families

from kernel import metrics
from kernel.health_server import Response, respond
from kernel.observability import ingest_metrics, stream_metrics


@dataclass
class FakeIngestCounters:
    messages: int = 0
    records: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class FakeStreamCounters:
    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


def _samples(families: list[metrics.Metric]) -> dict[tuple[str, tuple[str, ...]], float]:
    return {
        (s.name, tuple(s.labels.values())): s.value for family in families for s in family.samples
    }


def test_ingest_counters_become_prometheus_counters_with_dlq_reasons() -> None:
    counters = FakeIngestCounters(10, 12, Counter(invalid_json=2, unknown_device=1))
    found = _samples(ingest_metrics(counters, queued=5, connected=True))
    assert found[("toir_messages_in_total", ("mqtt",))] == 10
    assert found[("toir_messages_out_total", ("kafka",))] == 12
    assert found[("toir_dead_letters_total", ("invalid_json",))] == 2
    assert found[("toir_ingest_queue_depth", ())] == 5
    assert found[("toir_mqtt_connected", ())] == 1


def test_stream_counters_and_lag_per_partition() -> None:
    counters = FakeStreamCounters(100, 90, 8, Counter(db_rejected=2))
    lag: dict[tuple[str, ...], float] = {
        ("toir.telemetry.readings", "0"): 7.0,
        ("toir.telemetry.readings", "1"): 0.0,
    }
    found = _samples(stream_metrics(counters, lag))
    assert found[("toir_messages_out_total", ("database",))] == 90
    assert found[("toir_duplicates_total", ())] == 8
    assert found[("toir_consumer_lag", ("toir.telemetry.readings", "0"))] == 7


def test_a_registered_collector_shows_in_the_exposition_until_removed() -> None:
    counters = FakeIngestCounters(3, 3)
    collector = metrics.SnapshotCollector(lambda: ingest_metrics(counters, 0, True))
    unregister = metrics.register(collector)
    try:
        counters.messages = 7  # read at scrape time, not at registration
        text = metrics.exposition().decode()
        names = {f.name for f in text_string_to_metric_families(text)}
        assert "toir_messages_in" in names
        assert 'toir_messages_in_total{source="mqtt"} 7.0' in text
    finally:
        unregister()
    assert "toir_messages_in_total" not in metrics.exposition().decode()


def test_batches_latencies_and_sla_breaches_are_recorded() -> None:
    before = metrics.sample("toir_batch_size_count", {"stage": "unit"}) or 0
    metrics.observe_batch("unit", 250, 0.02)
    assert metrics.sample("toir_batch_size_count", {"stage": "unit"}) == before + 1
    breaches = metrics.sample("toir_sla_breaches_total") or 0
    metrics.count_domain_event("SlaBreached")
    metrics.count_domain_event("SlaAtRisk")
    assert metrics.sample("toir_sla_breaches_total") == breaches + 1


def test_the_process_memory_is_exported() -> None:
    assert "process_resident_memory_bytes" in metrics.exposition().decode()


def _respond(method: str, path: str, reason: str | None = None) -> Response:
    async def ready() -> str | None:
        return reason

    return asyncio.run(respond(method, path, ready))


def test_health_endpoints_answer_by_path_and_readiness() -> None:
    assert _respond("GET", "/healthz").status is HTTPStatus.OK
    assert _respond("GET", "/readyz").status is HTTPStatus.OK
    not_ready = _respond("GET", "/readyz", "MQTT not connected")
    assert not_ready.status is HTTPStatus.SERVICE_UNAVAILABLE
    assert b"MQTT not connected" in not_ready.body
    assert b"process_cpu_seconds_total" in _respond("GET", "/metrics?x=1").body
    assert _respond("GET", "/nope").status is HTTPStatus.NOT_FOUND
    assert _respond("POST", "/healthz").status is HTTPStatus.METHOD_NOT_ALLOWED


def test_a_readiness_check_that_raises_means_not_ready() -> None:
    async def broken() -> str | None:
        raise RuntimeError("boom")

    response = asyncio.run(respond("GET", "/readyz", broken))
    assert response.status is HTTPStatus.SERVICE_UNAVAILABLE
    assert b"RuntimeError" in response.body
