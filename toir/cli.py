"""The `toir` command: the composition root of every process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import NoReturn

import typer

from kernel.logs import configure_logging
from kernel.migrate import SchemaVersionError
from kernel.settings import Settings, SettingsError, load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures for docs/benchmarks.md).")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")


def fail(message: str) -> NoReturn:
    """Print one readable line to stderr and exit non-zero."""
    typer.echo(f"toir: {message}", err=True)
    raise typer.Exit(2)


@contextlib.contextmanager
def _readable_errors() -> Iterator[None]:
    try:
        yield
    except (SettingsError, SchemaVersionError) as exc:
        fail(str(exc))


def _settings() -> Settings:
    with _readable_errors():
        settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    # SIGTERM unwinds like Ctrl-C, so every `with` block stops what it started.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    return settings


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _require(settings: Settings, *names: str) -> None:
    missing = [f"TOIR_{n.upper()}" for n in names if getattr(settings, n) is None]
    if missing:
        fail(f"{', '.join(missing)} must be set (or use `toir demo` for the embedded stack)")


def run_until_signalled(main: object) -> None:
    """Run an `async (stop: asyncio.Event)` function until SIGINT or SIGTERM."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)  # type: ignore[operator]

    asyncio.run(runner())


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations."""
    from kernel.db import connect
    from kernel.migrate import migrate

    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    with _database_errors(), connect(settings.database_url) as conn:
        applied = migrate(conn)
    typer.echo(f"applied {len(applied)} migration(s)" if applied else "schema is up to date")


@db_app.command("status")
def db_status() -> None:
    """Show the schema version of the database and of this build."""
    from kernel.db import connect
    from kernel.migrate import current_version, latest_version

    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    with _database_errors(), connect(settings.database_url) as conn:
        typer.echo(f"database at version {current_version(conn)}, toir needs {latest_version()}")


@contextlib.contextmanager
def data_dir_errors() -> Iterator[None]:
    """A data directory that cannot be used, or that another stack holds, as one line."""
    from toir.devstack.errors import DataDirError

    try:
        yield
    except DataDirError as exc:
        fail(str(exc))


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.OperationalError as exc:
        fail(f"cannot reach the database: {str(exc).strip().splitlines()[0]}")


@app.command()
def ingest() -> None:
    """Run the MQTT → Kafka ingest bridge."""
    from ingest.service import run_ingest
    from kernel.db import verify_schema

    settings = _settings()
    _require(settings, "database_url", "mqtt_url", "kafka_url")
    assert settings.database_url
    with _readable_errors(), _database_errors():
        verify_schema(settings.database_url)
    run_until_signalled(lambda stop: run_ingest(settings, stop))


@app.command()
def stream() -> None:
    """Run the stream worker (faust): persistence and every other agent."""
    from kernel.db import verify_schema
    from stream.worker import run_worker

    settings = _settings()
    _require(settings, "database_url", "kafka_url")
    assert settings.database_url
    with _readable_errors(), _database_errors():
        verify_schema(settings.database_url)
    run_worker(settings)


def main() -> None:
    """Entry point of the `toir` console script."""
    from toir import (  # noqa: F401  # register their commands
        api_commands,
        bench_commands,
        commands,
        dashboard_commands,
        device_commands,
        engineer_commands,
        health_commands,
    )

    app(prog_name="toir")


if __name__ == "__main__":  # pragma: no cover
    main()
