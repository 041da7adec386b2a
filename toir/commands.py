"""Commands that compose the whole platform: simulate, demo."""

from __future__ import annotations

import json
import threading
from typing import Annotated

import typer

from toir.bench.fresh import fresh_data_dir
from toir.cli import _require, _settings, app, bench_app, data_dir_errors, fail

DurationOpt = Annotated[float, typer.Option("--duration", min=1, help="Seconds to run.")]
EquipmentOpt = Annotated[int, typer.Option(min=0, help="Equipment units to simulate.")]
VehiclesOpt = Annotated[int, typer.Option(min=0, help="Vehicles to simulate.")]
SeedOpt = Annotated[int, typer.Option(help="Seed: the same seed gives the same fleet.")]
RateOpt = Annotated[
    float | None, typer.Option(min=0.1, help="Messages per second in total (default: natural).")
]


def _progress(line: str) -> None:
    live = line.startswith("\r")
    typer.echo(line, err=True, nl=not live)


@app.command()
def simulate(
    duration: DurationOpt = 60.0,
    equipment: EquipmentOpt = 20,
    vehicles: VehiclesOpt = 10,
    seed: SeedOpt = 1,
    rate: RateOpt = None,
    invalid_every: Annotated[
        int | None, typer.Option(min=1, help="Mix in one known-bad message every N.")
    ] = None,
    register: Annotated[
        bool, typer.Option(help="Register the fleet's devices in the database first.")
    ] = False,
) -> None:
    """Publish a simulated fleet's telemetry over MQTT."""
    from devices.simulator.fleet import Fleet, FleetConfig
    from devices.simulator.run import run_simulation
    from kernel.urls import parse_mqtt_url
    from toir.fleet_registry import register_fleet

    settings = _settings()
    _require(settings, "mqtt_url", *(["database_url"] if register else []))
    assert settings.mqtt_url
    fleet = Fleet(FleetConfig(equipment, vehicles, seed))
    if register:
        assert settings.database_url
        register_fleet(settings.database_url, fleet)
    report = run_simulation(
        parse_mqtt_url(settings.mqtt_url),
        fleet,
        duration_s=duration,
        rate_msgs_s=rate,
        invalid_every=invalid_every,
        stop=threading.Event(),
    )
    typer.echo(
        json.dumps(
            {
                "published": report.published,
                "invalid": report.invalid_published,
                "elapsed_s": round(report.elapsed_s, 2),
            }
        )
    )


@app.command()
def demo(
    duration: DurationOpt = 60.0,
    equipment: EquipmentOpt = 20,
    vehicles: VehiclesOpt = 10,
    seed: SeedOpt = 1,
    rate: RateOpt = 100.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object, last line.")
    ] = False,
) -> None:
    """Run the whole platform on the embedded stack for a while and summarise."""
    from toir.demo import DemoOptions, run_demo

    settings = _settings()
    options = DemoOptions(duration, equipment, vehicles, seed, rate)
    try:
        with data_dir_errors():
            summary = run_demo(settings, options, _progress)
    except KeyboardInterrupt:
        fail("interrupted; every service was stopped")
    typer.echo("")
    _print_summary(summary.as_dict())
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), sort_keys=True))
    if not summary.accounted:
        fail("not every message is accounted for: stored != published - rejected")


def _print_summary(summary: dict[str, object]) -> None:
    typer.echo("toir demo summary")
    for key, value in summary.items():
        typer.echo(f"  {key:<20} {value}")


@bench_app.command("ingest")
def bench_ingest(
    duration: DurationOpt = 60.0,
    rate: Annotated[float, typer.Option(min=1, help="Messages per second to publish.")] = 2000.0,
    devices: Annotated[int, typer.Option(min=1, help="Publishing equipment units.")] = 1000,
    stream_workers: Annotated[
        int, typer.Option(min=1, help="`toir stream` workers sharing the partitions.")
    ] = 1,
) -> None:
    """Publish at a fixed rate through the whole pipeline; report throughput and latency."""
    from toir.bench.ingest import IngestLoad, as_json, run_ingest_bench

    load = IngestLoad(
        rate=rate, duration_s=duration, devices=devices, stream_workers=stream_workers
    )
    with data_dir_errors(), fresh_data_dir(_settings(), say=_progress) as settings:
        result = run_ingest_bench(settings, load, progress=_progress)
    for key, value in json.loads(as_json(result)).items():
        typer.echo(f"  {key:<20} {value}")
    typer.echo(as_json(result))


@bench_app.command("assign")
def bench_assign(
    engineers: Annotated[
        int, typer.Option(min=1, help="Engineers for the one-ticket case.")
    ] = 10_000,
    repeats: Annotated[int, typer.Option(min=1, help="Repetitions per figure.")] = 20,
) -> None:
    """Time the assignment engine: one ticket vs many engineers, and a 1,000 x 1,000 batch."""
    from toir.bench.assign import run_assign_bench

    _settings()
    figures = run_assign_bench(engineers=engineers, repeats=repeats)
    for key, value in figures.items():
        typer.echo(f"  {key:<40} {value}")
    typer.echo(json.dumps(figures, sort_keys=True))


@bench_app.command("tickets-api")
def bench_tickets_api(
    tickets: Annotated[int, typer.Option(min=1, help="Tickets stored.")] = 100_000,
    rate: Annotated[float, typer.Option(min=1, help="Requests per second.")] = 200.0,
    duration: DurationOpt = 30.0,
) -> None:
    """GET /api/v1/tickets at a fixed rate over many stored tickets (and /me as baseline)."""
    from toir.bench.tickets_api import run_tickets_api_bench

    with data_dir_errors(), fresh_data_dir(_settings(), say=_progress) as settings:
        figures = run_tickets_api_bench(
            settings, tickets=tickets, rate_rps=rate, duration_s=duration
        )
    typer.echo(json.dumps(figures, sort_keys=True))


@bench_app.command("loop")
def bench_loop(
    events: Annotated[int, typer.Option(min=1, help="AnomalyDetected events to send.")] = 300,
    event_rate: Annotated[float, typer.Option(min=0.1, help="Events per second.")] = 10.0,
    ingest_rate: Annotated[
        float, typer.Option(min=0, help="Telemetry msg/s through the same worker meanwhile.")
    ] = 5000.0,
) -> None:
    """Event → ticket → assigned → engineer notified, p50/p99, under ingest load."""
    from toir.bench.loop import run_loop_bench

    with data_dir_errors(), fresh_data_dir(_settings(), say=_progress) as settings:
        figures = run_loop_bench(
            settings,
            events=events,
            event_rate=event_rate,
            ingest_rate=ingest_rate,
            progress=_progress,
        )
    typer.echo(json.dumps(figures, sort_keys=True))


@bench_app.command("geofence")
def bench_geofence(
    vehicles: Annotated[int, typer.Option(min=1)] = 10_000,
    sites: Annotated[int, typer.Option(min=1)] = 5_000,
    positions: Annotated[int, typer.Option(min=1)] = 200_000,
) -> None:
    """CPU per position for geofence lookup and visit tracking (against a bare-loop baseline)."""
    from toir.bench.geofence import run_geofence_bench

    _settings()
    figures = run_geofence_bench(vehicles=vehicles, sites=sites, positions=positions)
    typer.echo(json.dumps(figures, sort_keys=True))
