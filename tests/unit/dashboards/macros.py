"""What Grafana does to a panel's SQL before PostgreSQL sees it, for running panels in tests.

Two passes, as in Grafana: the frontend replaces template and global variables
(packages/grafana-sql SqlDatasource.interpolateVariable: multi-value and include-all
variables quote each value, single-value ones are inserted bare, a custom All value as it is
written), then the backend expands the macros (pkg/tsdb/grafana-postgresql-datasource/
macros.go, without TimescaleDB).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final


class AllSelected:
    """The "All" option of a variable."""


ALL: Final = AllSelected()
Selection = AllSelected | str | Sequence[str]

VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
MACRO = re.compile(r"\$(__\w+)\(([^)]*)\)")
UNITS_MS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000))


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


def expand(
    sql: str,
    *,
    time_range: TimeRange,
    interval_ms: int,
    definitions: Sequence[Mapping[str, Any]],
    selections: Mapping[str, Selection],
) -> str:
    """The SQL Grafana would send for these variable selections and time range."""
    values = {
        "__interval_ms": str(interval_ms),
        "__interval": interval_text(interval_ms),
        **{
            d["name"]: interpolate(d, selections[d["name"]])
            for d in definitions
            if d["name"] in selections
        },
    }
    with_variables = VARIABLE.sub(lambda m: _variable(m, values), sql)
    return MACRO.sub(lambda m: _macro(m[1], _args(m[2]), time_range), with_variables)


def interpolate(definition: Mapping[str, Any], selection: Selection) -> str:
    """One variable's value as Grafana's SQL datasources insert it."""
    quoted = definition.get("multi") or definition.get("includeAll")
    if isinstance(selection, AllSelected):
        if not definition.get("allValue"):
            raise ValueError(f"{definition['name']} has no custom All value")
        return str(definition["allValue"])
    if isinstance(selection, str):
        return quote(selection) if quoted else selection.replace("'", "''")
    return ",".join(quote(v) for v in selection)


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def interval_text(interval_ms: int) -> str:
    """$__interval as Grafana writes it: the largest whole unit (1h, 30s, 500ms)."""
    for unit, size in UNITS_MS:
        if interval_ms % size == 0:
            return f"{interval_ms // size}{unit}"
    return f"{interval_ms}ms"


def rfc3339(moment: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: no trailing zeros in the fraction, Z for the offset."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _variable(match: re.Match[str], values: Mapping[str, str]) -> str:
    name = match[1] or match[2]
    # Unknown names stay as written, as in Grafana: the backend's macros among them.
    return values.get(name, match[0])


def _args(text: str) -> list[str]:
    return [arg.strip() for arg in text.split(",")] if text.strip() else []


def _macro(name: str, args: list[str], time_range: TimeRange) -> str:
    start, end = rfc3339(time_range.start), rfc3339(time_range.end)
    if name == "__timeFilter":
        return f"{args[0]} BETWEEN '{start}' AND '{end}'"
    if name == "__timeFrom":
        return f"'{start}'"
    if name == "__timeTo":
        return f"'{end}'"
    if name == "__time":
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {args[0]}) as "time"'
    raise ValueError(f"macro ${name} is not supported here; add it to the expander")
