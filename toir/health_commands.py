"""Commands for equipment health: `toir plans ...` and `toir predictive ...`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import psycopg
import typer
from pydantic import ValidationError

from kernel.clock import utcnow
from kernel.errors import DomainError
from kernel.settings import SettingsError
from toir.cli import _database_errors, _require, _settings, app, fail

plans_app = typer.Typer(no_args_is_help=True, help="Maintenance plans (PM).")
predictive_app = typer.Typer(no_args_is_help=True, help="Anomaly models: train, evaluate, promote.")
app.add_typer(plans_app, name="plans")
app.add_typer(predictive_app, name="predictive")

T = TypeVar("T")
Float = Annotated[float | None, typer.Option(min=0)]


def _database_url() -> str:
    settings = _settings()
    _require(settings, "database_url")
    assert settings.database_url
    return settings.database_url


def _run(op: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    """Run one service call in a transaction; domain errors become one readable line."""

    url = _database_url()

    async def main() -> T:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            return await op(conn)

    with _database_errors():
        try:
            return asyncio.run(main())
        except DomainError as exc:
            fail(str(exc))


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False))


@plans_app.command("list")
def plans_list() -> None:
    """Every plan, one JSON object a line."""
    from predictive.plans import service as plans

    for plan in _run(lambda conn: plans.list_all(conn=conn)):
        _print(plan.model_dump(mode="json"))


@plans_app.command("add")
def plans_add(
    name: Annotated[str, typer.Option(help="What the work is called.")],
    model: Annotated[str | None, typer.Option(help="Every unit of this equipment model.")] = None,
    equipment: Annotated[str | None, typer.Option(help="One equipment unit.")] = None,
    vehicle: Annotated[str | None, typer.Option(help="One vehicle.")] = None,
    every_days: Annotated[int | None, typer.Option(min=1)] = None,
    every_months: Annotated[int | None, typer.Option(min=1)] = None,
    every_hours: Annotated[float | None, typer.Option(help="Hours run.")] = None,
    every_km: Annotated[float | None, typer.Option(help="Odometer km (vehicles).")] = None,
    lead_days: Float = 0.0,
    lead_hours: Float = 0.0,
    lead_km: Float = 0.0,
    work_type: str = "maintenance",
    skill: Annotated[list[str] | None, typer.Option(help="skill=level, repeatable.")] = None,
    duration_h: Annotated[float, typer.Option(min=0.01)] = 1.0,
    checklist: Annotated[Path | None, typer.Option(help="JSON file: a list of steps.")] = None,
) -> None:
    """Add a plan; several intervals mean whichever comes first."""
    from predictive.plans import service as plans
    from predictive.plans.models import PlanCreate

    targets = {"equipment_model": model, "equipment": equipment, "vehicle": vehicle}
    chosen = {kind: target for kind, target in targets.items() if target is not None}
    if len(chosen) != 1:
        fail("give exactly one of --model, --equipment, --vehicle")
    ((target_kind, target_id),) = chosen.items()
    fields: dict[str, Any] = {
        "name": name,
        "target_kind": target_kind,
        "target_id": target_id,
        "every_days": every_days,
        "every_months": every_months,
        "every_hours_run": every_hours,
        "every_odometer_km": every_km,
        "lead_days": lead_days or 0.0,
        "lead_hours_run": lead_hours or 0.0,
        "lead_odometer_km": lead_km or 0.0,
        "work_type": work_type,
        "skills": _skills(skill or []),
        "duration_h": duration_h,
        "checklist": _checklist(checklist),
    }
    try:
        plan_in = PlanCreate.model_validate(fields)
    except ValidationError as exc:
        fail(plans.validation_message(exc))
    plan = _run(lambda conn: plans.create(conn=conn, plan_in=plan_in, created_by="cli"))
    _print(plan.model_dump(mode="json"))


@plans_app.command("upcoming")
def plans_upcoming(
    days: Annotated[float, typer.Option(min=0.01, help="Look this many days ahead.")] = 30.0,
) -> None:
    """Maintenance falling due within --days (overdue included), one JSON object a line."""
    from predictive.plans import service as plans
    from predictive.settings import load_health_settings

    usage_days = _health_settings(load_health_settings).plans_usage_days
    entries = _run(
        lambda conn: plans.upcoming(conn=conn, now=utcnow(), days=days, usage_days=usage_days)
    )
    for entry in entries:
        _print(entry.model_dump(mode="json"))


@predictive_app.command("train")
def predictive_train(
    days: Annotated[
        float, typer.Option(min=0.1, help="Train on this many days of history.")
    ] = 30.0,
    model: Annotated[list[str] | None, typer.Option(help="Only this equipment model.")] = None,
    promote: Annotated[bool, typer.Option(help="Promote what was trained.")] = True,
) -> None:
    """Train the multivariate (and, with failures, risk) model per equipment model."""
    from kernel.db import connect
    from predictive.settings import load_health_settings
    from predictive.store import ModelStore
    from predictive.training.service import train_all

    health = _health_settings(load_health_settings)
    store = ModelStore(health.models_dir)
    until = utcnow()
    with _database_errors(), connect(_database_url()) as conn:
        outcomes = train_all(
            conn=conn,
            store=store,
            since=until - timedelta(days=days),
            until=until,
            equipment_models=model,
            promote=promote,
        )
    for outcome in outcomes:
        _print(outcome)
    trained = [o for o in outcomes if "version" in o]
    _print(
        {"trained": len(trained), "skipped": len(outcomes) - len(trained), "store": str(store.root)}
    )


@predictive_app.command("evaluate")
def predictive_evaluate(
    csv: Annotated[Path | None, typer.Option(help="NAB-style timestamp,value series.")] = None,
    windows: Annotated[Path | None, typer.Option(help="NAB combined windows JSON.")] = None,
) -> None:
    """Evaluate the online detector: simulated faults, or a labelled series (--csv, --windows).

    The metrics are JSON on the last line.
    """
    from predictive.evaluation import cli_entry
    from predictive.evaluation.nab import NabDataError

    _settings()
    try:
        figures = cli_entry(csv, windows)
    except (NabDataError, ValueError, OSError) as exc:
        fail(str(exc))
    _print(figures)


@predictive_app.command("promote")
def predictive_promote(
    name: Annotated[str, typer.Argument(help='Store name, e.g. "multivariate Grundfos CR 32-2".')],
    version: Annotated[int, typer.Argument(min=1)],
) -> None:
    """Make a stored model version the one the stream uses (picked up without restart)."""
    from predictive.settings import load_health_settings
    from predictive.store import ModelStore, ModelStoreError

    store = ModelStore(_health_settings(load_health_settings).models_dir)
    try:
        store.promote(name, version)
    except ModelStoreError as exc:
        fail(str(exc))
    _print({"promoted": name, "version": version})


def _health_settings(load: Callable[[], T]) -> T:
    _settings()
    try:
        return load()
    except SettingsError as exc:
        fail(str(exc))


def _skills(pairs: list[str]) -> dict[str, str]:
    skills = {}
    for pair in pairs:
        skill, _, level = pair.partition("=")
        if not skill or not level:
            fail(f"--skill {pair!r}: expected skill=level")
        skills[skill.strip()] = level.strip()
    return skills


def _checklist(path: Path | None) -> list[Any]:
    if path is None:
        return []
    try:
        steps = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read {path}: {exc}")
    if not isinstance(steps, list):
        fail(f"{path}: expected a JSON list of steps")
    return steps
