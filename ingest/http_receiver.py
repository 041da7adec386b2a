"""The OsmAnd / Traccar Client HTTP receiver: one request, one answer, only after Kafka.

Traccar Client and OsmAnd keep a position and send it again until they get a 200, so 200
means "stored in Kafka" and nothing less; 400 says why the request will never be accepted
(its records are dead-lettered with the raw request); 503 asks the client to retry later.
Records of a partly accepted request still go to Kafka: its retry is absorbed by the
database's natural keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qsl

from devices.records import Record
from ingest.bridge import IngestCounters
from ingest.decode import Decoded, DecodeLimits, decode_osmand_query, decode_traccar_json
from ingest.decode.result import rejected
from ingest.device_cache import DeviceCache, check_senders
from ingest.http_server import HttpLimits, HttpRequest, HttpResponse, start_http_server
from ingest.http_settings import HttpReceiverSettings
from ingest.kafka_sink import KafkaSink
from kernel.clock import now_us
from kernel.dlq import DeadLetter, RejectReason

log = logging.getLogger(__name__)

SOURCE_TOPIC: Final = "http:osmand"
MAX_FORM_FIELDS: Final = 100
FORM_TYPE: Final = "application/x-www-form-urlencoded"


@dataclass
class _Outcome:
    records: list[Record]
    letters: list[DeadLetter]


class OsmAndReceiver:
    """Decodes a request, checks its devices, and produces to Kafka before answering."""

    def __init__(
        self, *, sink: KafkaSink, devices: DeviceCache, limits: DecodeLimits, ack_timeout_s: float
    ) -> None:
        self._sink = sink
        self._devices = devices
        self._limits = limits
        self._ack_timeout_s = ack_timeout_s
        self.counters = IngestCounters()

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            return HttpResponse(
                HTTPStatus.METHOD_NOT_ALLOWED, "GET or POST", {"Allow": "GET, POST"}
            )
        received_us = now_us()
        decoded = decode_request(request, received_us=received_us, limits=self._limits)
        outcome = await self._route(request, decoded, received_us)
        try:
            await asyncio.wait_for(self._deliver(outcome), self._ack_timeout_s)
        except Exception as exc:  # any Kafka failure: the client keeps the data and retries
            log.warning("Kafka did not take an HTTP request (%s); answered 503", exc)
            return HttpResponse(HTTPStatus.SERVICE_UNAVAILABLE, "try again later")
        self._count(outcome)
        if outcome.letters:
            lines = (f"{letter.reason.value}: {letter.detail}" for letter in outcome.letters)
            return HttpResponse(HTTPStatus.BAD_REQUEST, "\n".join(lines))
        return HttpResponse(HTTPStatus.OK, "OK")

    async def _route(self, request: HttpRequest, decoded: Decoded, received_us: int) -> _Outcome:
        raw = raw_request(request)
        letters = [
            DeadLetter(raw, SOURCE_TOPIC, r.reason, r.detail, received_us, r.item_index)
            for r in decoded.rejections
        ]
        records, refused = await check_senders(self._devices, decoded.records, SOURCE_TOPIC)
        letters += [
            DeadLetter(raw, SOURCE_TOPIC, sender.reason, sender.detail, received_us)
            for sender in refused
        ]
        return _Outcome(records, letters)

    async def _deliver(self, outcome: _Outcome) -> None:
        futures = await self._sink.send_records(outcome.records)
        futures += await self._sink.send_dead_letters(outcome.letters)
        await asyncio.gather(*futures)

    def _count(self, outcome: _Outcome) -> None:
        self.counters.messages += 1
        self.counters.records += len(outcome.records)
        self.counters.rejected.update(letter.reason.value for letter in outcome.letters)


def _decode(request: HttpRequest, *, received_us: int, limits: DecodeLimits) -> Decoded:
    """A Traccar Client JSON body, else OsmAnd parameters (query string and form body).

    A body counts as JSON when declared or when it starts like JSON, and as form parameters
    when declared or undeclared.
    """
    if _is_json(request):
        return decode_traccar_json(request.body, received_us=received_us, limits=limits)
    try:
        params = dict(_pairs(request.query))
        if request.body and FORM_TYPE in request.headers.get("content-type", FORM_TYPE):
            params.update(_pairs(request.body.decode("utf-8")))
    except UnicodeDecodeError:
        return rejected(RejectReason.NOT_UTF8, "parameters: not UTF-8")
    except ValueError:
        return rejected(RejectReason.PAYLOAD_TOO_LARGE, f"over {MAX_FORM_FIELDS} parameters")
    return decode_osmand_query(params, received_us=received_us, limits=limits)


def decode_request(request: HttpRequest, *, received_us: int, limits: DecodeLimits) -> Decoded:
    """The records of one request, or why not; never raises (see _decode for the formats)."""
    # Decoders must not raise; if one does, the request still ends in the DLQ, not in a 500
    # that the client would retry for ever.
    try:
        return _decode(request, received_us=received_us, limits=limits)
    except Exception as exc:
        log.exception("decoder failed on an HTTP request %.200s", request.target)
        return rejected(RejectReason.UNDECODABLE_RECORD, f"decoder failed: {type(exc).__name__}")


def raw_request(request: HttpRequest) -> bytes:
    """The request as a dead letter keeps it: request line, content type and body."""
    content_type = request.headers.get("content-type")
    head = f"{request.method} {request.target} {request.version}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode("latin-1", "replace") + b"\r\n" + request.body


def _is_json(request: HttpRequest) -> bool:
    if "json" in request.headers.get("content-type", ""):
        return True
    return request.body.lstrip()[:1] in (b"{", b"[")


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict")


class RunningReceiver:
    """The receiver's listening server; stop() closes it and its open connections."""

    def __init__(self, server: asyncio.Server, receiver: OsmAndReceiver) -> None:
        self.server = server
        self.receiver = receiver

    @property
    def port(self) -> int:
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        # Stops accepting; requests in flight finish or are cancelled with the event loop.
        self.server.close()
        await self.server.wait_closed()
        counters = self.receiver.counters
        log.info(
            "HTTP receiver: %d requests, %d records, rejected %s",
            counters.messages,
            counters.records,
            dict(counters.rejected),
        )


async def start_http_receiver(
    settings: HttpReceiverSettings, *, sink: KafkaSink, devices: DeviceCache, limits: DecodeLimits
) -> RunningReceiver | None:
    """Listen on the configured port (None when it is 0: the receiver is disabled)."""
    if settings.ingest_http_port == 0:
        log.info("OsmAnd HTTP receiver disabled (TOIR_INGEST_HTTP_PORT=0)")
        return None
    receiver = OsmAndReceiver(
        sink=sink, devices=devices, limits=limits, ack_timeout_s=settings.ingest_http_timeout_s
    )
    http_limits = HttpLimits(
        max_body_bytes=limits.max_payload_bytes,
        request_timeout_s=settings.ingest_http_timeout_s,
        max_connections=settings.ingest_http_max_connections,
    )
    host, port = settings.ingest_http_host, settings.ingest_http_port
    try:
        server = await start_http_server(receiver.handle, host=host, port=port, limits=http_limits)
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port} (TOIR_INGEST_HTTP_PORT): {exc}") from exc
    log.info("OsmAnd / Traccar Client HTTP receiver listening on %s:%d", host, port)
    return RunningReceiver(server, receiver)


@contextlib.asynccontextmanager
async def http_receiver(
    settings: HttpReceiverSettings, *, sink: KafkaSink, devices: DeviceCache, limits: DecodeLimits
) -> AsyncIterator[RunningReceiver | None]:
    """The receiver listening for the duration of the block (None when disabled)."""
    running = await start_http_receiver(settings, sink=sink, devices=devices, limits=limits)
    try:
        yield running
    finally:
        if running is not None:
            await running.stop()
