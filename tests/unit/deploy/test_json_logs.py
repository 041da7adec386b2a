"""Structured log lines and the redaction of URL passwords."""

from __future__ import annotations

import logging

import orjson
import pytest

from kernel.json_logs import RedactSecrets, json_formatter, redact_secrets
from kernel.logs import configure_logging
from kernel.settings import LogFormat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://toir:s3cret@db:5432/toir", "postgresql://toir:***@db:5432/toir"),
        ("mqtts://ingest:p%40ss@broker:8883", "mqtts://ingest:***@broker:8883"),
        ("connect to kafka://k1:9092,k2:9092 failed", "connect to kafka://k1:9092,k2:9092 failed"),
        ("a=mqtt://u:x@h b=postgres://v:y@i/db", "a=mqtt://u:***@h b=postgres://v:***@i/db"),
        ("http://host:8080/path", "http://host:8080/path"),
    ],
)
def test_url_passwords_are_replaced_and_nothing_else_changes(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "toir.test", "levelno": logging.WARNING, "levelname": "WARNING"}
    )
    record.msg, record.args = message, args
    record.__dict__.update(extra)
    return record


def test_a_json_line_carries_level_logger_message_and_extra_fields() -> None:
    line = json_formatter().format(_record("stored %d rows", 42, partition=3))
    entry = orjson.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "toir.test"
    assert entry["message"] == "stored 42 rows"
    assert entry["partition"] == 3
    assert entry["ts"].endswith("+00:00")
    assert "\n" not in line


def test_a_json_line_never_carries_a_url_password() -> None:
    record = _record("cannot connect to %s", "postgresql://toir:hunter2@db/toir")
    assert "hunter2" not in json_formatter().format(record)


def test_the_filter_redacts_text_log_lines_too() -> None:
    record = _record("using %s", "mqtt://ingest:hunter2@broker:1883")
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "using mqtt://ingest:***@broker:1883"


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_the_root_handler_redacts_every_logger_in_the_chosen_format(
    log_format: LogFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = logging.root.handlers[:], logging.root.level
    try:
        configure_logging("INFO", log_format)
        logging.getLogger("aiokafka.somewhere").warning("dial kafka://u:hunter2@k1:9092")
    finally:
        logging.root.handlers[:], logging.root.level = saved
    line = capsys.readouterr().err.strip()
    assert "hunter2" not in line and "u:***@k1" in line
    if log_format is LogFormat.JSON:
        assert orjson.loads(line)["logger"] == "aiokafka.somewhere"
    else:
        assert line.endswith("WARNING aiokafka.somewhere: dial kafka://u:***@k1:9092")
