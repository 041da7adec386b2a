"""Prometheus metrics of a toir process, in one registry per process.

The ingest and stream processes already count what they do (`IngestCounters`,
`StreamCounters`); rather than count twice, collectors read those counters at scrape
time. What no counter holds yet (batch sizes, latencies, lag, SLA breaches) is recorded
here, by the helpers below or by the faust sensor in kernel.stream_sensor.

Metric objects are created at import (no I/O, as prometheus_client intends); collectors
that read a process's counters are registered by that process and removed on stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
# RSS, CPU and open files of the process: the bounded-memory claim is checked on these.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000)

BATCH_SIZE = Histogram(
    "toir_batch_size",
    "Messages or rows per batch, by pipeline stage.",
    ["stage"],
    buckets=BATCH_SIZE_BUCKETS,
    registry=REGISTRY,
)
LATENCY = Histogram(
    "toir_latency_seconds",
    "Time spent by a message or batch in a pipeline stage.",
    ["stage"],
    buckets=LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
DOMAIN_EVENTS = Counter(
    "toir_domain_events",
    "Domain events emitted on toir.events, by type.",
    ["type"],
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "toir_sla_breaches",
    "SlaBreached events emitted (one per ticket deadline missed).",
    registry=REGISTRY,
)
SLA_WATCH_FAILURES = Counter(
    "toir_sla_watch_failures",
    "Tickets whose SLA watch check or reaction failed and was rolled back (tried again next run).",
    registry=REGISTRY,
)
HTTP_REFUSED = Counter(
    "toir_http_refused",
    "HTTP requests refused before reaching a handler, by reason.",
    ["reason"],
    registry=REGISTRY,
)


def observe_batch(stage: str, size: int, seconds: float) -> None:
    """Record one batch: how many items, and how long the stage took."""
    BATCH_SIZE.labels(stage).observe(size)
    LATENCY.labels(stage).observe(seconds)


def count_domain_event(event_type: str) -> None:
    DOMAIN_EVENTS.labels(event_type).inc()
    if event_type == "SlaBreached":
        SLA_BREACHES.inc()


def exposition() -> bytes:
    """The registry in Prometheus's text format (for GET /metrics)."""
    return generate_latest(REGISTRY)


Snapshot = Callable[[], Iterable[Metric]]


class SnapshotCollector(Collector):
    """Metrics computed at scrape time from a process's own state (counters, queues)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        return list(self._snapshot())


def counter_family(
    name: str, help_text: str, values: Mapping[str, float], *, label: str = ""
) -> CounterMetricFamily:
    """A counter `toir_<name>_total`; one sample per label value (a single one if no label)."""
    family = CounterMetricFamily(f"toir_{name}", help_text, labels=[label] if label else [])
    for label_value, count in values.items():
        family.add_metric([label_value] if label else [], count)
    return family


def gauge_family(
    name: str,
    help_text: str,
    samples: Mapping[tuple[str, ...], float],
    *,
    labels: tuple[str, ...] = (),
) -> GaugeMetricFamily:
    """A gauge `toir_<name>`; samples keyed by their label values, in `labels` order."""
    family = GaugeMetricFamily(f"toir_{name}", help_text, labels=list(labels))
    for label_values, value in samples.items():
        family.add_metric(list(label_values), value)
    return family


def register(collector: Collector) -> Callable[[], None]:
    """Add a collector to the registry; returns the function that removes it again."""
    REGISTRY.register(collector)
    return lambda: REGISTRY.unregister(collector)


def sample(name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The current value of one sample (tests and the health server's summaries)."""
    return REGISTRY.get_sample_value(name, dict(labels or {}))


__all__ = [
    "BATCH_SIZE",
    "CONTENT_TYPE",
    "DOMAIN_EVENTS",
    "HTTP_REFUSED",
    "LATENCY",
    "REGISTRY",
    "SLA_BREACHES",
    "SLA_WATCH_FAILURES",
    "Metric",
    "SnapshotCollector",
    "count_domain_event",
    "counter_family",
    "exposition",
    "gauge_family",
    "observe_batch",
    "register",
    "sample",
]
