"""DeviceSilent: a device reported nothing for longer than its expected interval.

The event id derives from the device and the moment it was last heard from, so the same
silence always yields the same id: a check that dies between sending and marking sends it
again, and consumers drop the repeat. The event is sent before the silence is marked, and
both happen under the row lock, so a silence is never lost nor reported by two workers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import psycopg

from kernel.clock import to_epoch_us
from kernel.events import DeviceSilent, Subject, SubjectKind, event_id_for
from stream.state import silence_repository
from stream.state.silence_repository import SilentDevice

SendEvents = Callable[[Sequence[DeviceSilent]], Awaitable[None]]
MAX_EVENTS_PER_CHECK = 500


def silence_event(device: SilentDevice) -> DeviceSilent:
    """The event for one silence; occurred_at is when the expected interval ran out."""
    started = device.last_received_at
    return DeviceSilent(
        event_id=event_id_for("DeviceSilent", device.device_id, to_epoch_us(started)),
        occurred_at=started + timedelta(seconds=device.expected_interval_s),
        subject=Subject(SubjectKind(device.subject_kind), device.subject_id),
        evidence={
            "device_id": device.device_id,
            "last_seen": device.last_seen_at.isoformat(),
            "last_received": started.isoformat(),
            "expected_interval_s": device.expected_interval_s,
        },
    )


async def report_silent_devices(
    *,
    conn: psycopg.AsyncConnection,
    now: datetime,
    send: SendEvents,
    limit: int = MAX_EVENTS_PER_CHECK,
) -> list[DeviceSilent]:
    """Send one DeviceSilent per new silence found at `now`; returns what was sent."""
    async with conn.transaction():
        silent = await silence_repository.lock_silent(conn, now=now, limit=limit)
        events = [silence_event(device) for device in silent]
        if events:
            await send(events)
            await silence_repository.mark_reported(conn, [d.device_id for d in silent])
    return events
