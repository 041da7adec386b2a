"""Commands for the engineer roster: import it from a CSV file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from kernel.errors import Invalid
from tickets.engineers import service as engineers
from tickets.engineers.models import ImportResult
from toir.cli import _database_errors, _require, _settings, app, fail

engineers_app = typer.Typer(no_args_is_help=True, help="The engineer roster.")
app.add_typer(engineers_app, name="engineers")


@engineers_app.command("import")
def engineers_import(
    file: Annotated[Path, typer.Argument(help="Roster CSV (columns: see the API docs).")],
) -> None:
    """Create or update engineers from a roster CSV: every row or, on any error, none."""
    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    with _database_errors():
        result = asyncio.run(_import(settings.database_url, data))
    typer.echo(f"{len(result.created)} engineer(s) created, {len(result.updated)} updated")


async def _import(database_url: str, data: bytes) -> ImportResult:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        try:
            return await engineers.import_roster(conn=conn, data=data)
        except Invalid as exc:
            for where, problem in exc.fields.items():
                typer.echo(f"{where}: {problem}", err=True)
            fail(str(exc))
