"""Structured logs: one JSON object per line (`TOIR_LOG_FORMAT=json`), and a filter that
keeps passwords in URLs out of every log line whatever the format."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Final

import orjson

# `scheme://user:password@host`: the password part, up to the `@` that ends user info.
_URL_PASSWORD: Final = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.I)
REDACTED: Final = "***"
# Attributes every LogRecord has; anything else was passed in `extra=` and is kept.
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact_secrets(text: str) -> str:
    """The text with the password of every `scheme://user:password@` URL replaced."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message (with its arguments) so no URL password gets out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "exc_info"?, **extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_secrets(record.getMessage()),
            "process": record.process,
        }
        if record.exc_info:
            entry["exc_info"] = redact_secrets(self.formatException(record.exc_info))
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRS
        )
        return orjson.dumps(entry, default=str).decode()


def json_formatter() -> logging.Formatter:
    """The formatter for `TOIR_LOG_FORMAT=json`."""
    return JsonFormatter()
