"""Which decoder an HTTP request goes to, and what a dead letter keeps of it."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.records import Position
from ingest.decode import DecodeLimits
from ingest.http_receiver import decode_request, raw_request
from ingest.http_server import HttpRequest
from kernel.dlq import RejectReason

RECEIVED_US = 1_700_000_000_000_000
TS_S = 1_699_999_940
LIMITS = DecodeLimits()


def request(target: str, body: bytes = b"", content_type: str | None = None) -> HttpRequest:
    headers = {"content-type": content_type} if content_type else {}
    return HttpRequest("POST" if body else "GET", target, "HTTP/1.1", headers, body)


def decoded(req: HttpRequest) -> tuple[list[Position], list[RejectReason]]:
    result = decode_request(req, received_us=RECEIVED_US, limits=LIMITS)
    return result.records, [r.reason for r in result.rejections]  # type: ignore[return-value]


def test_the_query_string_form_is_decoded_with_speed_in_knots() -> None:
    records, _ = decoded(request(f"/?id=phone-1&lat=55.75&lon=37.62&timestamp={TS_S}&speed=10"))
    assert records == [Position("phone-1", TS_S * 1_000_000, 55.75, 37.62, speed_kmh=18.52)]


def test_form_parameters_in_the_body_are_read_too() -> None:
    body = f"lat=55.75&lon=37.62&timestamp={TS_S}".encode()
    records, _ = decoded(request("/?id=phone-1", body, "application/x-www-form-urlencoded"))
    assert [r.device_id for r in records] == ["phone-1"]


def test_a_json_body_is_the_traccar_client_format() -> None:
    location = {
        "timestamp": "2023-11-14T22:12:20Z",
        "coords": {"latitude": 55.75, "longitude": 37.62, "speed": 10, "heading": -1},
        "battery": {"level": 0.5},
    }
    body = orjson.dumps({"device_id": "phone-2", "location": location})
    records, _ = decoded(request("/", body, "application/json"))
    assert records == [
        Position("phone-2", TS_S * 1_000_000, 55.75, 37.62, speed_kmh=36.0, battery_pct=50.0)
    ]


def test_a_json_body_is_recognised_without_a_content_type() -> None:
    records, reasons = decoded(request("/", b'{"device_id": "x"}'))
    assert (records, reasons) == ([], [RejectReason.MISSING_FIELD])


def test_parameters_that_are_not_utf8_are_rejected_as_such() -> None:
    assert decoded(request("/?id=%FF&lat=1&lon=2"))[1] == [RejectReason.NOT_UTF8]


def test_a_request_without_parameters_is_missing_the_id() -> None:
    assert decoded(request("/"))[1] == [RejectReason.MISSING_FIELD]


def test_too_many_parameters_are_refused() -> None:
    query = "&".join(f"k{i}=1" for i in range(200))
    assert decoded(request(f"/?{query}"))[1] == [RejectReason.PAYLOAD_TOO_LARGE]


def test_a_dead_letter_keeps_a_replayable_request() -> None:
    req = request("/?id=x", b'{"a": 1}', "application/json")
    assert raw_request(req) == (
        b'POST /?id=x HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"a": 1}'
    )


QUERY_KEYS = ["id", "deviceid", "lat", "lon", "timestamp", "speed", "bearing", "batt", "hours"]
query_values = st.sampled_from(["", "1", "-1", "55.75", "nan", "phone-1", "%FF", "%20", "a=b"])


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.sampled_from(QUERY_KEYS), query_values | st.text(max_size=8))),
    body=st.sampled_from([b"", b"{", b"[]", b'{"device_id": "x"}', b"id=1&lat=2"]) | st.binary(),
    content_type=st.sampled_from([None, "application/json", "application/x-www-form-urlencoded"]),
)
def test_any_request_becomes_records_or_rejections_and_never_raises(
    pairs: list[tuple[str, str]], body: bytes, content_type: str | None
) -> None:
    query = "&".join(f"{key}={value}" for key, value in pairs)
    result = decode_request(
        request(f"/?{query}", body, content_type), received_us=RECEIVED_US, limits=LIMITS
    )
    assert result.records or result.rejections
    assert all(r.reason in RejectReason for r in result.rejections)


def test_a_timestamp_too_large_for_any_clock_is_refused_not_raised() -> None:
    # Such a value once made a decoder raise; the receiver must still answer with a reason.
    records, reasons = decoded(request("/?id=phone-1&lat=1&lon=2&timestamp=1e306"))
    assert (records, len(reasons)) == ([], 1)
