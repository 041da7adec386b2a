"""The order in which LaneChains starts lane writes. The write here only records when each
part starts and ends (the real writer is exercised through PostgreSQL in
tests/integration/stream/test_packed_records.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from devices.records import Reading
from stream.lanes import LaneChains, lane_parts
from stream.results import WriteResult


class Recorder:
    """Writes nothing; logs ('start'|'end', step, lane rows) and can be held or made to fail."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int, tuple[str, ...]]] = []
        self.gates: dict[tuple[int, str], asyncio.Event] = {}  # (step, first device)
        self.failing: set[int] = set()

    async def write(self, rows: Sequence[Reading]) -> WriteResult[Reading]:
        step = int(rows[0].ts_us) // 1000
        devices = tuple(sorted({r.device_id for r in rows}))
        self.log.append(("start", step, devices))
        gate = self.gates.get((step, rows[0].device_id))
        if gate is not None:
            await gate.wait()
        if step in self.failing:
            raise RuntimeError(f"step {step} failed")
        self.log.append(("end", step, devices))
        return WriteResult(stored=len(rows))


def _step(number: int, devices: Sequence[str]) -> list[Reading]:
    return [Reading(d, number * 1000 + i) for i, d in enumerate(devices)]


def _lane_devices(lanes: int) -> list[list[str]]:
    """Device ids grouped by the lane they fall in (string hashes vary between runs)."""
    rows = _step(0, [f"eq-{n}" for n in range(60)])
    return [[r.device_id for r in part] for _, part in lane_parts(rows, lanes, 1)]


async def _two_steps_with_the_first_held_in_one_lane() -> Recorder:
    recorder = Recorder()
    chains = LaneChains(recorder.write, lanes=2, min_rows_per_lane=1)
    lane_a, lane_b = _lane_devices(2)
    held = recorder.gates[1, lane_a[0]] = asyncio.Event()
    first = chains.submit(_step(1, [lane_a[0], lane_b[0]]))
    second = chains.submit(_step(2, [lane_a[1], lane_b[1]]))
    await asyncio.sleep(0.05)
    # Lane A of step 1 is held: lane B has gone on to step 2, lane A has not.
    started = [(step, devices) for kind, step, devices in recorder.log if kind == "start"]
    assert (2, (lane_b[1],)) in started and (2, (lane_a[1],)) not in started
    held.set()
    assert (await first).stored == 2 and (await second).stored == 2
    return recorder


def test_a_lane_waits_for_its_own_previous_step_only() -> None:
    recorder = asyncio.run(_two_steps_with_the_first_held_in_one_lane())
    # In every lane, step 2 started only after step 1 of that lane ended.
    for lane_devices in _lane_devices(2):
        events = [(k, s) for k, s, d in recorder.log if set(d) <= set(lane_devices)]
        assert events.index(("end", 1)) < events.index(("start", 2))


async def _a_small_step_between_split_ones() -> Recorder:
    recorder = Recorder()
    chains = LaneChains(recorder.write, lanes=2, min_rows_per_lane=3)
    lane_a, lane_b = _lane_devices(2)
    big = lane_a[:3] + lane_b[:3]
    results = [
        chains.submit(_step(1, big)),
        chains.submit(_step(2, [lane_a[0], lane_b[0]])),  # too small to split: whole
        chains.submit(_step(3, big)),
    ]
    assert [(await r).stored for r in results] == [6, 2, 6]
    return recorder


def test_a_whole_step_waits_for_every_lane_and_every_lane_waits_for_it() -> None:
    log = asyncio.run(_a_small_step_between_split_ones()).log
    whole_start = log.index(next(e for e in log if e[:2] == ("start", 2)))
    whole_end = log.index(next(e for e in log if e[:2] == ("end", 2)))
    assert all(log.index(e) < whole_start for e in log if e[:2] == ("end", 1))
    assert all(log.index(e) > whole_end for e in log if e[:2] == ("start", 3))


async def _a_failed_step() -> tuple[Recorder, list[BaseException | WriteResult[Reading]]]:
    recorder = Recorder()
    recorder.failing.add(1)
    chains = LaneChains(recorder.write, lanes=1, min_rows_per_lane=1)
    first = chains.submit(_step(1, ["eq-1"]))
    second = chains.submit(_step(2, ["eq-1"]))
    results = await asyncio.gather(first, second, return_exceptions=True)
    return recorder, list(results)


def test_a_failed_step_fails_the_steps_behind_it_in_its_lane() -> None:
    recorder, results = asyncio.run(_a_failed_step())
    assert all(isinstance(r, RuntimeError) for r in results)
    assert [e[:2] for e in recorder.log] == [("start", 1)]


@pytest.mark.parametrize("lanes", [1, 3])
def test_results_add_up_over_lanes(lanes: int) -> None:
    async def write() -> WriteResult[Reading]:
        chains = LaneChains(Recorder().write, lanes=lanes, min_rows_per_lane=1)
        return await chains.submit(_step(1, [f"eq-{n}" for n in range(30)]))

    assert asyncio.run(write()).stored == 30
