"""`toir bench memory`: the stream worker's resident memory with many active devices.

Half the devices are equipment units, half vehicles, all publishing throughout the run,
so every agent holds state for each of them (latest state, meters, detectors, trips).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from toir.bench import cpu
from toir.bench.publisher import bench_equipment_ids
from toir.bench.runs import (
    Scenario,
    inserted_rows,
    machine,
    publish,
    register_bench_devices,
    wait_stored,
)
from toir.devstack import EmbeddedStack
from toir.processes import Progress, ServiceUrls, running_platform

SAMPLE_INTERVAL_S = 1.0
TARGET_MB = 500.0
READINGS = "telemetry.readings"


@dataclass
class MemoryBenchResult:
    date: str
    machine: str
    devices: int
    rate_msgs_s: float
    duration_s: float
    published_msgs: int
    stream_rss_start_mb: float
    stream_rss_max_mb: float
    stream_rss_end_mb: float
    ingest_rss_max_mb: float
    target_mb: float = TARGET_MB

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_memory_bench(
    settings: Settings, *, devices: int, rate: float, duration_s: float, progress: Progress
) -> MemoryBenchResult:
    """Publish from `devices` devices for `duration_s` and sample the workers' RSS."""
    equipment, vehicles = devices - devices // 2, devices // 2
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        with connect(urls.database_url) as conn:
            migrate(conn)
        register_bench_devices(urls.database_url, equipment=equipment, vehicles=vehicles)
        with running_platform(settings, urls, progress):
            start_mb = cpu.rss_mb("stream")
            sampler = _Sampler()
            sampler.start()
            since = utcnow()
            # Readings only: positions are stored too, but one table tells that it drained.
            inserted_before = inserted_rows(urls.database_url, READINGS)
            scenario = Scenario("memory", rate, duration_s=duration_s)
            report = publish(urls.mqtt_url, scenario, equipment=equipment, vehicles=vehicles)
            wait_stored(
                urls.database_url,
                READINGS,
                bench_equipment_ids(equipment),
                since,
                int(report["messages"]) * equipment // devices,
                inserted_before=inserted_before,
            )
            sampler.stop()
            return MemoryBenchResult(
                date=utcnow().strftime("%Y-%m-%d"),
                machine=machine(),
                devices=devices,
                rate_msgs_s=rate,
                duration_s=duration_s,
                published_msgs=int(report["messages"]),
                stream_rss_start_mb=start_mb,
                stream_rss_max_mb=sampler.peak["stream"],
                stream_rss_end_mb=cpu.rss_mb("stream"),
                ingest_rss_max_mb=sampler.peak["ingest"],
            )


class _Sampler:
    """Samples the RSS of the stream and ingest processes until stopped; keeps the peaks."""

    def __init__(self) -> None:
        self.peak = {"stream": 0.0, "ingest": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            for name in self.peak:
                self.peak[name] = max(self.peak[name], cpu.rss_mb(name))
