"""Messages from paho's thread reach the event loop in batches, with few wake-ups."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ingest.handoff import Handoff

WINDOW_S = 0.2


def _put_from_a_thread(handoff: Handoff[int], items: range) -> threading.Thread:
    def put_all() -> None:
        for n in items:
            handoff.put(n)

    thread = threading.Thread(target=put_all)
    thread.start()
    return thread


def test_items_come_out_in_order_in_batches_of_at_most_the_size() -> None:
    async def run() -> list[list[int]]:
        handoff: Handoff[int] = Handoff()
        for n in range(7):
            handoff.put(n)
        return [await handoff.take(max_size=3, wait_s=WINDOW_S) for _ in range(3)]

    assert asyncio.run(run()) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_full_batch_is_taken_at_once_without_waiting_out_the_window() -> None:
    async def run() -> tuple[list[int], float]:
        handoff: Handoff[int] = Handoff()
        handoff.bind(asyncio.get_running_loop())
        started = time.monotonic()
        thread = _put_from_a_thread(handoff, range(500))
        batch = await handoff.take(max_size=500, wait_s=30)
        thread.join()
        return batch, time.monotonic() - started

    batch, elapsed_s = asyncio.run(run())
    assert batch == list(range(500))
    assert elapsed_s < 10


def test_a_partial_batch_is_taken_when_the_window_ends() -> None:
    async def run() -> tuple[list[int], float]:
        handoff: Handoff[int] = Handoff()
        handoff.bind(asyncio.get_running_loop())
        waiting = asyncio.create_task(handoff.take(max_size=100, wait_s=WINDOW_S))
        await asyncio.sleep(0)  # the consumer is now waiting
        started = time.monotonic()
        _put_from_a_thread(handoff, range(5)).join()
        batch = await waiting
        return batch, time.monotonic() - started

    batch, elapsed_s = asyncio.run(run())
    assert batch == list(range(5))
    assert elapsed_s >= WINDOW_S * 0.9


def test_the_loop_is_woken_at_most_twice_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        wakes = 0
        wake = loop.call_soon_threadsafe

        def counting(*args: object) -> object:
            nonlocal wakes
            wakes += 1
            return wake(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
        handoff: Handoff[int] = Handoff()
        handoff.bind(loop)
        waiting = asyncio.create_task(handoff.take(max_size=1000, wait_s=30))
        await asyncio.sleep(0)  # the consumer is now waiting
        _put_from_a_thread(handoff, range(1000)).join()
        return len(await waiting), wakes

    taken, wakes = asyncio.run(run())
    assert taken == 1000
    assert 1 <= wakes <= 2


def test_get_waits_for_one_item() -> None:
    async def run() -> int:
        handoff: Handoff[int] = Handoff()
        handoff.bind(asyncio.get_running_loop())
        getting = asyncio.create_task(handoff.get())
        await asyncio.sleep(0)  # the consumer is now waiting
        assert not getting.done()
        _put_from_a_thread(handoff, range(42, 43)).join()
        return await asyncio.wait_for(getting, 5)

    assert asyncio.run(run()) == 42
