"""`toir bench ingest-suite`: the issue's ingest figures in one run.

Through toir (MQTT → ingest → Kafka → stream → PostgreSQL): a sustained rate for minutes, a
latency run at a lower rate, a batched run (many readings per message), and flat-out runs.
Then, with toir stopped, the same flat-out loads through the bare paho → COPY baseline
(toir/bench/baseline.py), so toir's throughput is also given as a ratio to it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from toir.bench import baseline as bare
from toir.bench.publisher import bench_equipment_ids
from toir.bench.runs import (
    Scenario,
    ScenarioResult,
    count_since,
    machine,
    measure,
    publish,
    register_bench_devices,
)
from toir.devstack import EmbeddedStack
from toir.processes import Progress, ServiceUrls, running_platform

READINGS = "telemetry.readings"
BASELINE = "bench.baseline_readings"
BASELINE_READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SuiteOptions:
    devices: int = 1_000
    sustained_rate: float = 8_000.0
    sustained_s: float = 300.0
    latency_rate: float = 5_000.0
    latency_s: float = 120.0
    batch: int = 50
    batched_rate: float = 2_000.0
    batched_s: float = 60.0
    flat_out_messages: int = 300_000
    flat_out_batched_messages: int = 20_000
    baseline: bool = True
    stream_workers: int = 1


@dataclass
class SuiteResult:
    date: str
    machine: str
    options: SuiteOptions
    results: list[ScenarioResult] = field(default_factory=list)

    def ratio(self, scenario: str) -> float | None:
        """toir's stored readings/s over the baseline's, for a scenario both ran."""
        ours = self._rate(scenario, "toir")
        theirs = self._rate(scenario, "baseline")
        return round(ours / theirs, 2) if ours and theirs else None

    def _rate(self, scenario: str, path: str) -> float | None:
        found = [r for r in self.results if r.scenario == scenario and r.path == path]
        return found[0].stored_readings_s if found else None

    def as_dict(self) -> dict[str, object]:
        body = asdict(self)
        body["ratio_flat_out"] = self.ratio("flat-out")
        body["ratio_flat_out_batched"] = self.ratio("flat-out-batched")
        return body


def toir_scenarios(options: SuiteOptions) -> list[Scenario]:
    return [
        Scenario("sustained", options.sustained_rate, duration_s=options.sustained_s),
        Scenario("latency", options.latency_rate, duration_s=options.latency_s),
        Scenario("batched", options.batched_rate, options.batch, duration_s=options.batched_s),
        *flat_out_scenarios(options),
    ]


def flat_out_scenarios(options: SuiteOptions) -> list[Scenario]:
    return [
        Scenario("flat-out", 0, messages=options.flat_out_messages),
        Scenario("flat-out-batched", 0, options.batch, messages=options.flat_out_batched_messages),
    ]


def run_ingest_suite(
    settings: Settings, *, options: SuiteOptions, progress: Progress
) -> SuiteResult:
    """Run every scenario through toir, then the flat-out ones through the baseline."""
    result = SuiteResult(utcnow().strftime("%Y-%m-%d"), machine(), options)
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        with connect(urls.database_url) as conn:
            migrate(conn)
        register_bench_devices(urls.database_url, equipment=options.devices)
        with running_platform(settings, urls, progress, stream_workers=options.stream_workers):
            for scenario in toir_scenarios(options):
                result.results.append(_run(urls, scenario, "toir", READINGS, options, progress))
        if options.baseline:
            with baseline_subscriber(urls, progress):
                for scenario in flat_out_scenarios(options):
                    run = _run(urls, scenario, "baseline", BASELINE, options, progress)
                    result.results.append(run)
    return result


def _run(
    urls: ServiceUrls,
    scenario: Scenario,
    path: str,
    table: str,
    options: SuiteOptions,
    progress: Progress,
) -> ScenarioResult:
    progress(f"{path}: {scenario.name} ({_describe(scenario)})...")
    since = utcnow()
    run = measure(
        urls.database_url,
        urls.mqtt_url,
        scenario,
        path=path,
        table=table,
        equipment=options.devices,
        since=since,
    )
    progress(
        f"{path}: {scenario.name}: {run.stored_readings}/{run.published_readings} readings, "
        f"{run.stored_msgs_s:,.0f} msg/s, {run.stored_readings_s:,.0f} readings/s, "
        f"p50 {run.latency_p50_s} s, p99 {run.latency_p99_s} s, CPU {run.cpu_pct_of_one_core}, "
        f"CPU µs/reading {run.cpu_us_per_reading}, load {run.load_average}"
    )
    return run


@contextmanager
def baseline_subscriber(urls: ServiceUrls, progress: Progress) -> Iterator[None]:
    """The baseline subscriber as a process of its own, ready when it stores a probe."""
    command = [sys.executable, "-m", "toir.bench.baseline"]
    command += ["--mqtt-url", urls.mqtt_url, "--database-url", urls.database_url]
    bare.create_table(urls.database_url)
    process = subprocess.Popen(command)
    try:
        _wait_baseline_ready(urls)
        progress("baseline subscriber ready")
        yield
    finally:
        process.terminate()
        process.wait(30)


def _wait_baseline_ready(urls: ServiceUrls) -> None:
    probe = Scenario("probe", 0, messages=1)
    deadline = time.monotonic() + BASELINE_READY_TIMEOUT_S
    since = utcnow()
    while time.monotonic() < deadline:
        publish(urls.mqtt_url, probe, equipment=1)
        time.sleep(0.5)
        if count_since(urls.database_url, BASELINE, bench_equipment_ids(1), since):
            return
    raise RuntimeError("the baseline subscriber stored nothing")


def _describe(scenario: Scenario) -> str:
    rate = f"{scenario.rate_msgs_s:,.0f} msg/s" if scenario.rate_msgs_s else "flat out"
    size = f"{scenario.duration_s:.0f} s" if scenario.duration_s else f"{scenario.messages} msgs"
    return f"{rate}, {scenario.batch} reading(s)/msg, {size}"
