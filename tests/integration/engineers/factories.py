"""Small factories for engineer tests: request bodies and roster files."""

from __future__ import annotations

from typing import Any

ROSTER_HEADER = "id,name,timezone,home_lat,home_lon,areas,skills,shifts,max_concurrent"


def engineer_body(engineer_id: str = "eng-1", **changes: Any) -> dict[str, Any]:
    """A weekday engineer in Moscow with two skills and a week off in August."""
    body: dict[str, Any] = {
        "id": engineer_id,
        "name": f"Engineer {engineer_id}",
        "timezone": "Europe/Moscow",
        "home_lat": 55.75,
        "home_lon": 37.62,
        "areas": ["north", "centre"],
        "skills": {"hvac": 3, "electrical": 2},
        "max_concurrent": 2,
        "shifts": [{"weekday": d, "starts": "08:00", "ends": "17:00"} for d in range(5)],
        "absences": [
            {
                "kind": "leave",
                "starts_at": "2030-08-01T00:00:00+03:00",
                "ends_at": "2030-08-08T00:00:00+03:00",
            }
        ],
        "preferred_by_customers": ["acme"],
        "responsible_sites": ["s1"],
    }
    return body | changes


def roster(*rows: str, header: str = ROSTER_HEADER) -> bytes:
    """A roster CSV file's bytes from its data rows."""
    return "\n".join([header, *rows, ""]).encode()
