"""A small paced HTTP/1.1 load generator on keep-alive connections, for the API
benchmarks: a fixed request rate for a fixed time, each request's latency recorded."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

CONNECTIONS = 16


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    achieved_rps: float
    p50_ms: float
    p99_ms: float


async def run_load(
    *, host: str, port: int, path: str, token: str, rate_rps: float, duration_s: float
) -> LoadResult:
    """Send GET `path` at `rate_rps` for `duration_s`; latency from scheduled send time."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    total = int(rate_rps * duration_s)
    queue: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_worker(host, port, request, queue, latencies, errors))
        for _ in range(CONNECTIONS)
    ]
    for index in range(total):
        due = started + index / rate_rps
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        queue.put_nowait(due)
    await queue.join()
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.cancel()
    return _result(latencies, len(errors), elapsed)


async def _worker(
    host: str,
    port: int,
    request: bytes,
    queue: asyncio.Queue[float],
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            due = await queue.get()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - due)
            if status != 200:
                errors.append(status)
            queue.task_done()
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return status


def _result(latencies: list[float], errors: int, elapsed_s: float) -> LoadResult:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return LoadResult(
        requests=len(ordered),
        errors=errors,
        achieved_rps=round(len(ordered) / elapsed_s, 1) if elapsed_s else 0.0,
        p50_ms=round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
        p99_ms=round(p99 * 1000, 2),
    )
