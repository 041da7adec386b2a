"""The tickets consumer group on toir.events, run in the stream worker on the tickets thread.

Why not a faust agent (as it first was): faust reads every topic of the worker through one
consumer and hands each fetched message to its agents' buffers in turn. Under a telemetry
backlog the readings buffers are full, that hand-over waits for them, and a ticket event
fetched behind readings waits too. Measured with `toir bench loop` (docs/benchmarks.md):
events took 0.5 to 0.7 s to reach the tickets code with no load at all, and under ingest
load most were not notified within 30 s. A group of its own (`<stream group>-tickets`)
fetches toir.events alone, so a telemetry backlog never stands between an event and its
ticket (and tickets.worker_thread keeps the telemetry event loop out of the way too).

Exactly-once effect, as before: each event is applied in a transaction of its own that first
claims its event_id (a redelivered event changes nothing), and a batch's offsets are
committed only after every event in it is applied or dead-lettered. A new group (the first
start after an upgrade) reads what toir.events still holds; events already applied are
recognised by their event_id and skipped.
"""

from __future__ import annotations

from kernel import topics
from kernel.group_consumer import GroupSettings, Handle, consume_batches

GROUP_SUFFIX = "-tickets"
# The broker answers a fetch as soon as an event arrives; this only bounds an idle poll.
FETCH_MAX_WAIT_MS = 100


async def consume_events(settings: GroupSettings, handle: Handle) -> None:
    """Hand batches of events to `handle`, committing after each; until cancelled.

    The handler applies or dead-letters every event and returns; should it raise, nothing
    is committed and the consumer starts again from the last commit.
    """
    await consume_batches(
        topics.EVENTS, settings, handle, name="tickets", fetch_max_wait_ms=FETCH_MAX_WAIT_MS
    )
