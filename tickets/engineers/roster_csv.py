"""Reading a roster CSV into engineer records, collecting every row's errors.

The header names the columns (any order, only `id` and `name` required):
id, name, phone, timezone, home_lat, home_lon, areas, skills, shifts, max_concurrent, status,
vehicle_id, preferred_by_customers, responsible_sites. Lists are separated by `;`:
areas `north;centre`, skills `hvac:3;electrical:2`, shifts `mon-fri 08:00-17:00;sat 09:00-13:00`.
An empty cell means the field's default. Rows are numbered as in a spreadsheet (header = 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from tickets.engineers.models import EngineerCreate

REQUIRED: Final = frozenset({"id", "name"})
COLUMNS: Final = frozenset(EngineerCreate.model_fields) - {"absences"}
LIST_SEPARATOR: Final = ";"
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHIFT: Final = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<starts>[\d:]+)-(?P<ends>[\d:]+)$"
)
HEADER_ROW: Final = 1


class RosterErrors(ValueError):
    """The file cannot be imported; `errors` maps `header` or `row N` to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the roster file")
        self.errors = dict(errors)


@dataclass(frozen=True)
class RosterRow:
    """One engineer from the file and which fields the file gives (the header's columns)."""

    number: int
    engineer: EngineerCreate
    columns: frozenset[str]


def parse_roster(text: str) -> list[RosterRow]:
    """Every row as an engineer, or RosterErrors listing each bad row by its number."""
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    columns = _check_header(reader.fieldnames)
    rows: list[RosterRow] = []
    errors: dict[str, str] = {}
    first_row_of: dict[str, int] = {}
    for number, record in enumerate(reader, start=HEADER_ROW + 1):
        try:
            engineer = _engineer(record)
        except ValueError as exc:
            errors[f"row {number}"] = str(exc)
            continue
        if engineer.id in first_row_of:
            errors[f"row {number}"] = f"id {engineer.id} repeats row {first_row_of[engineer.id]}"
            continue
        first_row_of[engineer.id] = number
        rows.append(RosterRow(number, engineer, columns))
    if errors:
        raise RosterErrors(errors)
    if not rows:
        raise RosterErrors({"file": "no engineers in the file"})
    return rows


def _check_header(fieldnames: object) -> frozenset[str]:
    if not isinstance(fieldnames, list) or not fieldnames:
        raise RosterErrors({"header": "the file has no header row"})
    names = [str(name).strip() for name in fieldnames]
    unknown = sorted(set(names) - COLUMNS)
    missing = sorted(REQUIRED - set(names))
    problems = [f"unknown columns: {', '.join(unknown)}"] if unknown else []
    problems += [f"missing columns: {', '.join(missing)}"] if missing else []
    if len(names) != len(set(names)):
        problems.append("a column appears twice")
    if problems:
        raise RosterErrors({"header": "; ".join(problems)})
    return frozenset(names)


def _engineer(record: Mapping[str | None, str | list[str] | None]) -> EngineerCreate:
    if None in record:
        raise ValueError("more cells than columns")
    values: dict[str, Any] = {}
    for column, cell in record.items():
        text = (cell or "").strip() if isinstance(cell, str | None) else ""
        if column is not None and text:
            values[column.strip()] = CELL_PARSERS.get(column.strip(), _as_is)(text)
    try:
        return EngineerCreate.model_validate(values)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(problems)


def _as_is(text: str) -> str:
    return text


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def _skills(text: str) -> dict[str, str]:
    skills = {}
    for item in _items(text):
        skill, sep, level = item.partition(":")
        if not sep:
            raise ValueError(f"skills: {item!r} is not skill:level")
        skills[skill.strip()] = level.strip()
    return skills


def _shifts(text: str) -> list[dict[str, Any]]:
    shifts = []
    for item in _items(text):
        match = SHIFT.match(item.lower())
        if match is None:
            raise ValueError(f"shifts: {item!r} is not like 'mon-fri 08:00-17:00'")
        for weekday in _weekdays(match["days"]):
            starts, ends = _clock(match["starts"]), _clock(match["ends"])
            shifts.append({"weekday": weekday, "starts": starts, "ends": ends})
    return shifts


def _clock(text: str) -> str:
    hours, _, minutes = text.partition(":")
    return f"{int(hours):02d}:{minutes}"  # spreadsheets drop the leading zero: 8:00


def _weekdays(days: str) -> list[int]:
    first, _, last = days.partition("-")
    if first not in WEEKDAYS or (last or first) not in WEEKDAYS:
        raise ValueError(f"shifts: {days!r} is not a weekday or range like mon-fri")
    start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    # A range may wrap over the weekend: fri-mon is Friday to Monday.
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


CELL_PARSERS: Final[Mapping[str, Callable[[str], Any]]] = {
    "areas": _items,
    "skills": _skills,
    "shifts": _shifts,
    "preferred_by_customers": _items,
    "responsible_sites": _items,
}
