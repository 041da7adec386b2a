"""A Kafka-compatible broker reachable only over TLS, for the `kafkas://` tests.

Tansu cannot serve TLS itself here (the bundled 0.6.0 refuses `--cert` together with
`--key`), so a TLS-terminating proxy listens in front of it, as a load balancer would, and
Tansu advertises the proxy's address: a client that does not speak TLS gets nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toir.devstack.kafka import start_kafka
from toir.processes import free_tcp_port

CHUNK_BYTES = 65_536
STOP_TIMEOUT_S = 5.0


@contextmanager
def kafka_behind_tls(directory: Path, cert: Path, key: Path) -> Iterator[str]:
    """Tansu with a TLS proxy in front; yields the `kafkas://` URL of the proxy."""
    proxy_port = free_tcp_port()
    broker = start_kafka(directory, advertised_port=proxy_port)
    try:
        upstream = int(broker.url.rsplit(":", 1)[1])
        with tls_proxy(proxy_port, upstream, cert, key):
            yield f"kafkas://127.0.0.1:{proxy_port}"
    finally:
        broker.stop()


@contextmanager
def tls_proxy(port: int, upstream_port: int, cert: Path, key: Path) -> Iterator[None]:
    """Accept TLS on `port` and pass the plain bytes to `upstream_port`, both ways."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()
    handler = _Forwarder(upstream_port)
    server = loop.run_until_complete(
        asyncio.start_server(handler.handle, "127.0.0.1", port, ssl=context)
    )
    thread = threading.Thread(target=loop.run_forever, name="tls-proxy", daemon=True)
    thread.start()
    try:
        yield
    finally:
        closing = _close(server, handler)
        asyncio.run_coroutine_threadsafe(closing, loop).result(STOP_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        loop.close()


class _Forwarder:
    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self.writers: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self.writers -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK_BYTES):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass  # either side went away: close the other
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            writer.close()


async def _close(server: asyncio.Server, handler: _Forwarder) -> None:
    server.close()
    for writer in list(handler.writers):  # or wait_closed waits for the clients to leave
        writer.close()
    await server.wait_closed()
