"""Commands of the device side: the registry, CSV import, credentials, broker files."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import psycopg
import typer

from kernel.errors import DomainError, Invalid
from toir.cli import _database_errors, _require, _settings, app, fail

T = TypeVar("T")

devices_app = typer.Typer(no_args_is_help=True, help="Devices in the asset registry.")
assets_app = typer.Typer(no_args_is_help=True, help="Sites, equipment and vehicles.")
broker_app = typer.Typer(no_args_is_help=True, help="MQTT broker accounts and configuration.")
app.add_typer(devices_app, name="devices")
app.add_typer(assets_app, name="assets")
app.add_typer(broker_app, name="broker")

DeviceArg = Annotated[str, typer.Argument(help="The device id.")]


def _in_transaction(work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    """Run work on one connection and transaction: committed only if it succeeds."""
    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    url = settings.database_url

    async def run() -> T:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await work(conn)

    with _database_errors():
        try:
            return asyncio.run(run())
        except Invalid as exc:
            for where, problem in exc.fields.items():
                typer.echo(f"{where}: {problem}", err=True)
            fail(str(exc))
        except DomainError as exc:
            fail(str(exc))


@devices_app.command("add")
def devices_add(
    device_id: DeviceArg,
    kind: Annotated[str, typer.Option(help="controller, tracker or phone.")],
    equipment: Annotated[str | None, typer.Option(help="Equipment it reports for.")] = None,
    vehicle: Annotated[str | None, typer.Option(help="Vehicle it reports for.")] = None,
    interval: Annotated[
        float | None, typer.Option(help="Expected seconds between messages (default: kind's).")
    ] = None,
    disabled: Annotated[bool, typer.Option(help="Register it disabled.")] = False,
) -> None:
    """Register a device."""
    from devices import crud
    from devices.models import DeviceCreate
    from devices.service import DEVICE

    device_in = _valid(
        DeviceCreate,
        id=device_id,
        kind=kind,
        equipment_id=equipment,
        vehicle_id=vehicle,
        expected_interval_s=interval,
        enabled=not disabled,
    )
    _in_transaction(lambda conn: crud.create(conn=conn, kind=DEVICE, item_in=device_in))
    typer.echo(f"device {device_id} registered")


@devices_app.command("list")
def devices_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List registered devices, by id."""
    from devices import crud
    from devices.paging import PageIn
    from devices.service import DEVICE

    page = _in_transaction(
        lambda conn: crud.list_page(
            conn=conn, kind=DEVICE, page=PageIn(limit=limit, offset=offset), filters={"kind": kind}
        )
    )
    typer.echo(f"{'id':<28} {'kind':<10} {'asset':<28} {'enabled':<8} last seen")
    for d in page.items:
        asset = d.equipment_id or d.vehicle_id or "-"
        seen = d.last_seen_at.isoformat(timespec="seconds") if d.last_seen_at else "never"
        typer.echo(f"{d.id:<28} {d.kind.value:<10} {asset:<28} {d.enabled!s:<8} {seen}")
    if page.next_offset is not None:
        typer.echo(f"(more: --offset {page.next_offset})")


@devices_app.command("show")
def devices_show(device_id: DeviceArg) -> None:
    """Show a device, its latest state and its asset's meters."""
    from devices import service as devices
    from stream.state import service as state

    async def load(conn: psycopg.AsyncConnection) -> tuple[str, str]:
        device = await devices.get(conn=conn, device_id=device_id)
        current = await state.get_device_state(conn=conn, device_id=device_id)
        return device.model_dump_json(indent=2), current.model_dump_json(indent=2)

    for text in _in_transaction(load):
        typer.echo(text)


@devices_app.command("disable")
def devices_disable(device_id: DeviceArg) -> None:
    """Disable a device: ingest dead-letters its messages, the broker file leaves it out."""
    _set_enabled(device_id, enabled=False)


@devices_app.command("enable")
def devices_enable(device_id: DeviceArg) -> None:
    """Enable a disabled device again."""
    _set_enabled(device_id, enabled=True)


def _set_enabled(device_id: str, *, enabled: bool) -> None:
    from devices import service as devices

    _in_transaction(
        lambda conn: devices.set_enabled(conn=conn, device_id=device_id, enabled=enabled)
    )
    typer.echo(f"device {device_id} {'enabled' if enabled else 'disabled'}")


@devices_app.command("provision")
def devices_provision(device_id: DeviceArg) -> None:
    """Create MQTT credentials for a device and print them, once (replaces any old ones)."""
    from devices.credentials import service as credentials

    issued = _in_transaction(
        lambda conn: credentials.provision_device(conn=conn, device_id=device_id)
    )
    _print_credentials(issued.username, issued.password)
    typer.echo("then regenerate the broker files: toir broker config --out DIR", err=True)


@assets_app.command("import")
def assets_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV file.")],
) -> None:
    """Create or update sites, equipment, vehicles and devices from a CSV file (all or nothing)."""
    from devices.csv_import import import_assets_csv

    text = file.read_text(encoding="utf-8-sig")
    counts = _in_transaction(lambda conn: import_assets_csv(conn=conn, text=text))
    summary = ", ".join(f"{kind}: {n}" for kind, n in counts.items()) or "nothing"
    typer.echo(f"imported {summary}")


@broker_app.command("config")
def broker_config(
    out: Annotated[Path, typer.Option(file_okay=False, help="Folder for the broker files.")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 1883,
    bind: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",  # noqa: S104
    user: Annotated[
        str | None, typer.Option(help="System user mosquitto runs as (`user` line).")
    ] = None,
) -> None:
    """Write mosquitto.conf, the password file and the ACL file from the registry."""
    from devices.credentials import service as credentials
    from devices.credentials.mosquitto import Listener, write_files

    accounts = _in_transaction(lambda conn: credentials.broker_accounts(conn=conn))
    written = write_files(out, accounts, Listener(port=port, bind=bind, run_as=user))
    typer.echo(f"{len(accounts)} account(s); wrote {', '.join(str(p) for p in written)}")
    typer.echo(f"start: mosquitto -c {written[-1]}  (reload after changes: kill -HUP)")


@broker_app.command("account")
def broker_account(
    service: Annotated[
        str | None, typer.Option(help="A platform service: ingest, notifier.")
    ] = None,
    engineer: Annotated[str | None, typer.Option(help="An engineer id (their phone).")] = None,
) -> None:
    """Create MQTT credentials for a service or an engineer's phone and print them once."""
    from devices.credentials import service as credentials

    if (service is None) == (engineer is None):
        fail("give exactly one of --service or --engineer")
    if service is not None:
        name = service
        issued = _in_transaction(
            lambda conn: credentials.create_service_account(conn=conn, name=name)
        )
    else:
        engineer_id = str(engineer)
        issued = _in_transaction(
            lambda conn: credentials.create_engineer_account(conn=conn, engineer_id=engineer_id)
        )
    _print_credentials(issued.username, issued.password)


def _print_credentials(username: str, password: str) -> None:
    typer.echo("MQTT credentials (shown once, keep the password secret):")
    typer.echo(f"username: {username}")
    typer.echo(f"password: {password}")


def _valid(model: type[T], **values: object) -> T:
    from pydantic import ValidationError

    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{where}: {first['msg']}" if where else str(first["msg"]))
