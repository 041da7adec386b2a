"""What the deployment files are checked against, taken from the code itself: the
`toir` command tree and every `TOIR_*` variable some settings class reads."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache
from typing import Any

import typer
from pydantic_settings import BaseSettings

PROJECT_PACKAGES = ("kernel", "devices", "ingest", "stream", "predictive", "tickets", "dashboards")
ENV_PREFIX = "TOIR_"


def _project_modules() -> Iterator[str]:
    for package in PROJECT_PACKAGES:
        root = importlib.import_module(package)
        yield package
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            yield info.name


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@cache
def settings_classes() -> tuple[type[BaseSettings], ...]:
    """Every BaseSettings subclass defined in the project (all modules imported first)."""
    for name in _project_modules():
        importlib.import_module(name)
    importlib.import_module("toir.cli")
    found = {
        cls
        for cls in _subclasses(BaseSettings)
        if cls.__module__.split(".")[0] in (*PROJECT_PACKAGES, "toir")
    }
    return tuple(sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}"))


@cache
def known_variables() -> frozenset[str]:
    """`TOIR_<FIELD>` for every field of every settings class."""
    names = set()
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        assert prefix.startswith(ENV_PREFIX), f"{cls.__qualname__} reads {prefix!r}"
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return frozenset(names)


@cache
def toir_commands() -> frozenset[tuple[str, ...]]:
    """Every runnable `toir` command path, e.g. ("db", "migrate"), ("ingest",)."""
    from toir import cli

    _import_command_modules()
    root = typer.main.get_command(cli.app)
    return frozenset(_walk(root, ()))


def _import_command_modules() -> None:
    # What toir.cli.main() imports before running the app: the modules that add commands.
    for info in pkgutil.iter_modules(importlib.import_module("toir").__path__):
        if info.name.endswith("_commands") or info.name == "commands":
            importlib.import_module(f"toir.{info.name}")


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    # Duck-typed: typer vendors its own click, so click.Group is not its base class.
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield path
