"""`toir bench ingest-suite | queries | memory`: the telemetry-at-scale benchmarks."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from toir.bench.fresh import fresh_data_dir
from toir.cli import _settings, bench_app, data_dir_errors

StreamWorkersOpt = typer.Option(min=1, help="`toir stream` workers sharing the partitions.")


def _progress(line: str) -> None:
    typer.echo(line, err=True)


def _print(figures: dict[str, object]) -> None:
    typer.echo(json.dumps(figures, sort_keys=True, default=str))


@bench_app.command("ingest-suite")
def bench_ingest_suite(
    devices: Annotated[int, typer.Option(min=1, help="Publishing equipment units.")] = 1000,
    sustained_rate: Annotated[float, typer.Option(min=1, help="msg/s, sustained run.")] = 8000.0,
    sustained_s: Annotated[
        float, typer.Option(min=1, help="Seconds of the sustained run.")
    ] = 300.0,
    latency_rate: Annotated[float, typer.Option(min=1, help="msg/s, latency run.")] = 5000.0,
    latency_s: Annotated[float, typer.Option(min=1, help="Seconds of the latency run.")] = 120.0,
    batch: Annotated[int, typer.Option(min=1, help="Readings per message, batched runs.")] = 50,
    batched_rate: Annotated[float, typer.Option(min=1, help="msg/s, batched run.")] = 2000.0,
    batched_s: Annotated[float, typer.Option(min=1, help="Seconds of the batched run.")] = 60.0,
    flat_out_messages: Annotated[int, typer.Option(min=1)] = 300_000,
    flat_out_batched_messages: Annotated[int, typer.Option(min=1)] = 20_000,
    baseline: Annotated[bool, typer.Option(help="Also run the paho → COPY baseline.")] = True,
    stream_workers: Annotated[int, StreamWorkersOpt] = 1,
) -> None:
    """Sustained, latency, batched and flat-out ingest runs, and the baseline ratio."""
    from toir.bench.ingest_suite import SuiteOptions, run_ingest_suite

    options = SuiteOptions(
        devices,
        sustained_rate,
        sustained_s,
        latency_rate,
        latency_s,
        batch,
        batched_rate,
        batched_s,
        flat_out_messages,
        flat_out_batched_messages,
        baseline,
        stream_workers,
    )
    with data_dir_errors(), fresh_data_dir(_settings(), say=_progress) as settings:
        result = run_ingest_suite(settings, options=options, progress=_progress)
    _print(result.as_dict())


@bench_app.command("queries")
def bench_queries(
    days: Annotated[int, typer.Option(min=1, help="Days of data.")] = 30,
    equipment: Annotated[int, typer.Option(min=1, help="Units, one reading a minute.")] = 1000,
    vehicles: Annotated[int, typer.Option(min=1, help="Vehicles, one fix every 10 s.")] = 1000,
    position_days: Annotated[
        int, typer.Option(min=1, help="Most recent days with raw positions (disk).")
    ] = 8,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs of each query.")] = 20,
) -> None:
    """Time the read API's queries on a generated month of fleet data; bytes per row."""
    from toir.bench.dataset import DatasetSpec
    from toir.bench.queries import run_query_bench

    spec = DatasetSpec(days, equipment, vehicles, position_days)
    with data_dir_errors():
        result = run_query_bench(_settings(), spec=spec, repeats=repeats, progress=_progress)
    _print(result.as_dict())


@bench_app.command("memory")
def bench_memory(
    devices: Annotated[
        int, typer.Option(min=2, help="Active devices, half of them vehicles.")
    ] = 10_000,
    rate: Annotated[float, typer.Option(min=1, help="Messages per second in total.")] = 4000.0,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of publishing.")] = 120.0,
) -> None:
    """The stream worker's RSS while many devices are active."""
    from toir.bench.memory import run_memory_bench

    with data_dir_errors(), fresh_data_dir(_settings(), say=_progress) as settings:
        result = run_memory_bench(
            settings, devices=devices, rate=rate, duration_s=duration, progress=_progress
        )
    _print(result.as_dict())
