"""The stream app's periodic state work: the silence check, as a faust timer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import faust

from kernel import topics
from kernel.clock import utcnow
from kernel.db import create_pool, ensure_open
from kernel.events import DeviceSilent
from kernel.settings import Settings
from stream.state.settings import load_state_settings
from stream.state.silence import report_silent_devices
from stream.timers import every

log = logging.getLogger(__name__)


def register_silence_check(app: faust.App, settings: Settings) -> None:
    """Every `TOIR_SILENCE_CHECK_INTERVAL_S`, emit DeviceSilent for newly silent devices."""
    assert settings.database_url
    interval_s = load_state_settings().silence_check_interval_s
    pool = create_pool(settings.database_url, max_size=1, name="silence")
    events_topic = app.topic(topics.EVENTS, value_type=bytes)

    async def send(events: Sequence[DeviceSilent]) -> None:
        futures = [
            await events_topic.send(key=e.subject.id.encode(), value=e.to_json()) for e in events
        ]
        for future in futures:
            await future

    async def check_silence() -> None:
        try:
            await ensure_open(pool)
            async with pool.connection() as conn:
                sent = await report_silent_devices(conn=conn, now=utcnow(), send=send)
        except Exception:  # the next tick tries again; a failed check must not stop the timer
            log.exception("silence check failed")
            return
        if sent:
            log.info("silence check: %d device(s) fell silent", len(sent))

    # Leader only: one worker reports silences, however many run.
    every(app, interval_s, check_silence, on_leader=True)
