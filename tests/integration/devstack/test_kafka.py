"""The embedded Kafka-compatible broker (Tansu): produce, consume, restart."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.devstack.support import kafka_roundtrip, port_closed, port_of, process_gone
from toir.devstack import DirInUseError, ports, start_kafka
from toir.devstack.ports import LOOPBACK_HOST


def test_broker_round_trips_a_message_and_restarts_on_the_same_folder(tmp_path: Path) -> None:
    service = start_kafka(tmp_path)
    assert kafka_roundtrip(service.url, "toir.test.first", b"one") == b"one"

    service.stop()
    service.stop()  # idempotent

    assert process_gone(service.pid)
    assert port_closed(service.url)
    again = start_kafka(tmp_path)
    try:
        assert kafka_roundtrip(again.url, "toir.test.second", b"two") == b"two"
    finally:
        again.stop()


def test_second_start_on_the_same_folder_is_refused_until_the_first_stops(tmp_path: Path) -> None:
    service = start_kafka(tmp_path)
    try:
        with pytest.raises(DirInUseError):
            start_kafka(tmp_path)
    finally:
        service.stop()
    start_kafka(tmp_path).stop()


def test_a_port_taken_before_the_broker_binds_it_is_replaced_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK_HOST, 0))  # bound, not listening: the broker's bind fails
        taken_port: int = squatter.getsockname()[1]
        offered = iter([taken_port])
        real_free_port = ports.free_port
        monkeypatch.setattr(ports, "free_port", lambda: next(offered, None) or real_free_port())

        service = start_kafka(tmp_path)
        try:
            assert port_of(service.url) != taken_port
            assert kafka_roundtrip(service.url, "toir.test.retry", b"r") == b"r"
        finally:
            service.stop()
