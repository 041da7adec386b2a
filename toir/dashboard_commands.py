"""Commands for the Grafana dashboards: write provisioning files, publish to a Grafana."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboards.catalog import build_all
from dashboards.provisioning import Database, write_provisioning
from dashboards.publish import DEFAULT_TIMEOUT_S, PublishError, connect, publish
from toir.cli import app, fail

dashboards_app = typer.Typer(no_args_is_help=True, help="Grafana dashboards.")
app.add_typer(dashboards_app, name="dashboards")

DEFAULT_MESSAGE = "published by `toir dashboards publish`"


@dashboards_app.command("build")
def dashboards_build(
    out: Annotated[Path, typer.Option(help="Folder to write the provisioning files in.")],
    db_host: Annotated[
        str, typer.Option(help="host:port of PostgreSQL as the Grafana container sees it.")
    ] = Database.host,
    db_name: Annotated[str, typer.Option(help="Database name.")] = Database.name,
    db_sslmode: Annotated[str, typer.Option(help="libpq sslmode.")] = Database.sslmode,
) -> None:
    """Write the datasource and dashboard provisioning files and the dashboards' JSON."""
    database = Database(host=db_host, name=db_name, sslmode=db_sslmode)
    try:
        written = write_provisioning(out, build_all(), database)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    for path in written:
        typer.echo(path)


@dashboards_app.command("publish")
def dashboards_publish(
    url: Annotated[
        str | None, typer.Option(envvar="GRAFANA_URL", help="Grafana's URL.", show_default=False)
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="GRAFANA_TOKEN", help="A service account token.", show_default=False),
    ] = None,
    message: Annotated[str, typer.Option(help="Version message in Grafana.")] = DEFAULT_MESSAGE,
    timeout_s: Annotated[float, typer.Option(min=0.1, help="Per request.")] = DEFAULT_TIMEOUT_S,
) -> None:
    """Create or update every dashboard in Grafana's toir folder; unchanged ones are skipped."""
    if not url:
        fail("GRAFANA_URL (or --url) must be set")
    try:
        grafana = connect(url, token, timeout_s=timeout_s)
        result = publish(grafana, build_all(), url=url, message=message)
    except PublishError as exc:
        fail(str(exc))
    if result.folder_created:
        typer.echo("created folder toir")
    for uid, outcome in result.outcomes.items():
        typer.echo(f"{outcome.value} {uid}")
