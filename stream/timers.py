"""Timers that survive their own failures: in faust an exception escaping a timer
crashes the whole worker, so every periodic job goes through `every`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import faust

log = logging.getLogger(__name__)


def every(
    app: faust.App,
    interval_s: float,
    job: Callable[[], Awaitable[object]],
    *,
    on_leader: bool = False,
) -> None:
    """Run `job` every `interval_s` seconds; an exception is logged and the next run goes on."""

    async def guarded() -> None:
        try:
            await job()
        except Exception:
            log.exception(
                "periodic job %s failed; it runs again in %.1f s",
                getattr(job, "__qualname__", job),
                interval_s,
            )

    guarded.__qualname__ = getattr(job, "__qualname__", "job")
    app.timer(interval=interval_s, on_leader=on_leader)(guarded)
