"""An event loop of its own, on a thread of its own, for the tickets side of the stream worker.

Why: the worker's faust loop runs the telemetry agents, and under ingest load a single turn of
that loop took 0.5 to 1.4 s (measured on the 2-core bench machine, docs/benchmarks.md). Opening
and assigning a ticket takes a few dozen database round trips, and on that loop each one
waited a turn: seconds per event. On its own loop a round trip waits only for the GIL.

The telemetry thread hands the GIL over to a waiting thread only every switch interval (5 ms
by default), a wait that falls on every round trip; the worker thread lowers it to 0.5 ms
while it runs. That costs something only while this thread is runnable, which it rarely is;
in A/B runs the worker stored no fewer readings per second that the noise would show.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
STOP_TIMEOUT_S = 10.0
RESTART_DELAY_S = 5.0
GIL_SWITCH_INTERVAL_S = 0.0005

Main = Callable[[], Coroutine[Any, Any, None]]


class WorkerThread:
    """Runs `main` on a loop of its own while `serve` runs (as a task) on the caller's loop."""

    def __init__(self, name: str, main: Main, *, restart_delay_s: float = RESTART_DELAY_S) -> None:
        self._name = name
        self._main = main
        self._restart_delay_s = restart_delay_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._running: asyncio.Event | None = None
        self._owner: asyncio.AbstractEventLoop | None = None

    async def serve(self) -> None:
        """Run the thread until cancelled; start it again if it ever ends by itself."""
        switch_interval_s = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval_s, GIL_SWITCH_INTERVAL_S))
        try:
            while True:
                ended = await self._start()
                try:
                    await asyncio.shield(ended)
                except asyncio.CancelledError:
                    await self._stop(ended)
                    raise
                log.error("%s thread ended; again in %.0f s", self._name, self._restart_delay_s)
                await asyncio.sleep(self._restart_delay_s)
        finally:
            sys.setswitchinterval(switch_interval_s)

    async def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the thread's loop and wait for its result from the caller's loop."""
        await self._ready()
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if caller is not None and caller.cancelling():
                raise
            # The thread's loop went away under the call: a failure, not our cancellation.
            raise RuntimeError(f"{self._name} thread stopped during the call") from None

    async def call_owner(self, work: Coroutine[Any, Any, T]) -> T:
        """From the thread: run `work` on the loop `serve` runs on, and wait for its result."""
        assert self._owner is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._owner))

    async def _start(self) -> asyncio.Future[None]:
        caller = self._owner = asyncio.get_running_loop()
        running = self._ensure_running_event()
        running.clear()
        ended: asyncio.Future[None] = caller.create_future()

        def run() -> None:
            try:
                asyncio.run(self._run(caller, running))
            except BaseException:  # whatever ended it, the owner is told
                log.exception("%s thread failed", self._name)
            finally:
                caller.call_soon_threadsafe(running.clear)
                caller.call_soon_threadsafe(_resolve, ended)

        threading.Thread(target=run, name=self._name, daemon=True).start()
        return ended

    async def _run(self, caller: asyncio.AbstractEventLoop, running: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        caller.call_soon_threadsafe(running.set)
        try:
            await self._main()
        except asyncio.CancelledError:
            log.info("%s thread stopped", self._name)

    async def _stop(self, ended: asyncio.Future[None]) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        try:
            await asyncio.wait_for(asyncio.shield(ended), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("%s thread did not stop within %.0f s", self._name, STOP_TIMEOUT_S)

    async def _ready(self) -> None:
        await self._ensure_running_event().wait()

    def _ensure_running_event(self) -> asyncio.Event:
        if self._running is None:
            self._running = asyncio.Event()
        return self._running


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
