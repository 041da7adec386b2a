"""How GPS moves an engineer's status, and the record of every status change.

Arriving at a site where the engineer has a ticket on site makes them `on_site`. Leaving a
site makes an `on_site` engineer `en_route` when one of their tickets elsewhere is `en_route`
(they said they are driving there), else `available`; an engineer still at a site where a
ticket of theirs is on site (overlapping sites, a second device) stays `on_site`. GPS never
changes `off`: only the engineer or a planner turns them on again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tickets.engineers.models import EngineerStatus

ON_SITE, OFF = EngineerStatus.ON_SITE, EngineerStatus.OFF


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One line of an engineer's status log: who moved them from what to what, and why."""

    engineer_id: str
    at: datetime
    from_status: EngineerStatus
    to_status: EngineerStatus
    actor_kind: str
    actor_id: str
    reason: str | None = None
    event_id: str | None = None
    site_id: str | None = None
    ticket_id: int | None = None


def on_arrival(current: EngineerStatus, *, working_here: bool) -> EngineerStatus | None:
    """The status a GPS arrival gives (None: unchanged); working_here: a ticket on site here."""
    if current in (ON_SITE, OFF) or not working_here:
        return None
    return ON_SITE


def on_departure(
    current: EngineerStatus, *, still_on_a_site: bool, heading_elsewhere: bool
) -> EngineerStatus | None:
    """The status a GPS departure gives (None: unchanged).

    still_on_a_site: another visit of theirs is open at a site where a ticket of theirs is on
    site; heading_elsewhere: a ticket of theirs at another site is en_route.
    """
    if current is not ON_SITE or still_on_a_site:
        return None
    return EngineerStatus.EN_ROUTE if heading_elsewhere else EngineerStatus.AVAILABLE
