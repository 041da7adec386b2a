"""`toir assets import`: sites, equipment, vehicles and devices from one CSV file.

One row per item; the `type` column says which (site, equipment, vehicle, device) and
the other columns are the fields of that type, as in the API (empty cells: not given).
Lists are separated by ";": `polygon` as `lat lon; lat lon; lat lon`, `meter_kinds` as
`hours_run; odometer_km`. Items are created or, when the id exists, overwritten.

Every row is checked — shape, duplicates, references to ids in the file or the registry —
before anything is written; any error means nothing is imported, and each error names its
row (the line number in the file, the header being row 1). The caller runs the import in
one transaction, so even a database refusal half-way leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from pydantic import BaseModel, ValidationError

from devices import crud, tables
from devices.assets.service import EQUIPMENT, SITE, VEHICLE
from devices.service import DEVICE
from kernel.errors import Invalid

KINDS: Final[dict[str, crud.ItemKind[Any, Any]]] = {
    "site": SITE,
    "equipment": EQUIPMENT,
    "vehicle": VEHICLE,
    "device": DEVICE,
}
# Referenced kinds are written before the kinds that refer to them.
WRITE_ORDER: Final = ("site", "equipment", "vehicle", "device")
COLUMNS: Final = frozenset(
    {"type"} | {name for kind in KINDS.values() for name in kind.create_model.model_fields}
)


@dataclass(frozen=True, slots=True)
class ImportRow:
    row: int
    type: str
    item: BaseModel

    @property
    def item_id(self) -> str:
        return str(self.item.model_dump()["id"])


async def import_assets_csv(*, conn: psycopg.AsyncConnection, text: str) -> Counter[str]:
    """Import a CSV file (call in a transaction); returns how many items of each type."""
    rows, errors = parse_assets_csv(text)
    errors |= await _reference_errors(conn, rows)
    _raise_if(errors)
    return await _write(conn, rows)


def parse_assets_csv(text: str) -> tuple[list[ImportRow], dict[str, str]]:
    """The valid rows of a CSV file as items, and an error for each other row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    errors: dict[str, str] = {}
    unknown = sorted(set(reader.fieldnames or ()) - COLUMNS)
    if not reader.fieldnames or "type" not in reader.fieldnames:
        errors["row 1"] = "the header must name a type column"
    elif unknown:
        errors["row 1"] = f"unknown column(s): {', '.join(unknown)}"
    rows: list[ImportRow] = []
    if not errors:
        for record in reader:
            _parse_row(reader.line_num, record, rows, errors)
    return rows, errors


async def _write(conn: psycopg.AsyncConnection, rows: list[ImportRow]) -> Counter[str]:
    written: Counter[str] = Counter()
    for kind_name in WRITE_ORDER:
        kind = KINDS[kind_name]
        for row in (r for r in rows if r.type == kind_name):
            try:
                await tables.upsert(conn, kind.table, kind.values(row.item))
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                message = exc.diag.message_primary or str(exc)
                raise Invalid(
                    f"row {row.row}: {message}", fields={f"row {row.row}": message}
                ) from exc
            written[kind_name] += 1
    return written


def _parse_row(
    row: int, record: dict[str | Any, str | Any], rows: list[ImportRow], errors: dict[str, str]
) -> None:
    type_name = (record.pop("type", "") or "").strip()
    kind = KINDS.get(type_name)
    if kind is None:
        errors[f"row {row}"] = f"type must be one of {', '.join(KINDS)}, not {type_name!r}"
        return
    values = {k: v.strip() for k, v in record.items() if isinstance(v, str) and v.strip()}
    misplaced = sorted(set(values) - set(kind.create_model.model_fields))
    if misplaced:
        errors[f"row {row}"] = f"column(s) {', '.join(misplaced)} do not apply to type {type_name}"
        return
    try:
        item = kind.create_model.model_validate({k: _cell(k, v) for k, v in values.items()})
    except (ValidationError, ValueError) as exc:
        errors[f"row {row}"] = _message(exc)
        return
    parsed = ImportRow(row, type_name, item)
    duplicate = next((r for r in rows if (r.type, r.item_id) == (type_name, parsed.item_id)), None)
    if duplicate is not None:
        errors[f"row {row}"] = f"{type_name} {parsed.item_id!r} is also in row {duplicate.row}"
        return
    rows.append(parsed)


def _cell(column: str, text: str) -> object:
    if column == "meter_kinds":
        return [part.strip() for part in text.split(";") if part.strip()]
    if column == "polygon":
        try:
            return [tuple(float(x) for x in p.split()) for p in text.split(";") if p.strip()]
        except ValueError:
            raise ValueError("polygon: write it as 'lat lon; lat lon; lat lon'") from None
    return text


async def _reference_errors(conn: psycopg.AsyncConnection, rows: list[ImportRow]) -> dict[str, str]:
    """Rows referring to an id that is neither in the file nor in the registry."""
    in_file: dict[str, set[str]] = defaultdict(set)
    wanted: dict[str, set[str]] = defaultdict(set)
    for _, _, noun, target in _references(rows):
        wanted[noun].add(target)
    for row in rows:
        in_file[row.type].add(row.item_id)
    existing = {
        noun: await tables.existing_ids(conn, KINDS[noun].table, sorted(ids - in_file[noun]))
        for noun, ids in wanted.items()
    }
    errors: dict[str, str] = {}
    for row, column, noun, target in _references(rows):
        if target not in in_file[noun] and target not in existing[noun]:
            errors[f"row {row.row}"] = f"{column}: no {noun} {target!r} in the file or registry"
    return errors


def _references(rows: Iterable[ImportRow]) -> Iterable[tuple[ImportRow, str, str, str]]:
    for row in rows:
        values = row.item.model_dump()
        for column, (noun, _) in KINDS[row.type].references.items():
            if values.get(column) is not None:
                yield row, column, noun, str(values[column])


def _message(exc: Exception) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        ordered = dict(sorted(errors.items(), key=lambda item: int(item[0].split()[1])))
        raise Invalid(f"{len(errors)} row(s) with errors: nothing imported", fields=ordered)
