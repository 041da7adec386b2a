"""The tickets side's own thread and loop: calls both ways, stopping, starting again."""

from __future__ import annotations

import asyncio
import sys
import threading

from tickets.worker_thread import GIL_SWITCH_INTERVAL_S, WorkerThread

WAIT_S = 5.0


async def where() -> tuple[int, asyncio.AbstractEventLoop]:
    return threading.get_ident(), asyncio.get_running_loop()


def test_work_runs_on_the_thread_s_loop_and_the_thread_can_call_back() -> None:
    async def main() -> None:
        await asyncio.Event().wait()  # runs until stopped

    async def scenario() -> None:
        worker = WorkerThread("test-worker", main)
        serving = asyncio.create_task(worker.serve())
        here = (threading.get_ident(), asyncio.get_running_loop())

        there = await asyncio.wait_for(worker.call(where()), WAIT_S)
        assert there[0] != here[0] and there[1] is not here[1]

        async def back_home() -> tuple[int, asyncio.AbstractEventLoop]:
            return await worker.call_owner(where())

        assert await asyncio.wait_for(worker.call(back_home()), WAIT_S) == here
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    asyncio.run(scenario())


def test_cancelling_serve_cancels_main_on_its_thread_and_restores_the_switch_interval() -> None:
    stopped = threading.Event()
    before = sys.getswitchinterval()

    async def main() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    async def scenario() -> None:
        worker = WorkerThread("test-worker", main)
        serving = asyncio.create_task(worker.serve())
        await asyncio.wait_for(worker.call(where()), WAIT_S)  # running
        assert sys.getswitchinterval() == min(before, GIL_SWITCH_INTERVAL_S)
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    asyncio.run(scenario())
    assert stopped.is_set()
    assert sys.getswitchinterval() == before


def test_a_main_that_fails_is_started_again() -> None:
    runs: list[int] = []  # thread ids (which the system may reuse)
    second_run = threading.Event()

    async def main() -> None:
        runs.append(threading.get_ident())
        if len(runs) == 1:
            raise RuntimeError("the broker went away")
        second_run.set()
        await asyncio.Event().wait()

    async def scenario() -> None:
        worker = WorkerThread("test-worker", main, restart_delay_s=0.01)
        serving = asyncio.create_task(worker.serve())
        assert await asyncio.to_thread(second_run.wait, WAIT_S)
        assert await asyncio.wait_for(worker.call(where()), WAIT_S)  # the new thread answers
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    asyncio.run(scenario())
    assert len(runs) == 2  # the first failed, the second was started in its place
