"""Logging set-up shared by every process: one handler on the root logger, text or JSON
(`TOIR_LOG_FORMAT`), and every line passed through the secrets filter."""

from __future__ import annotations

import logging
import sys

from kernel.json_logs import RedactSecrets, json_formatter
from kernel.settings import LogFormat

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_format: LogFormat = LogFormat.TEXT) -> None:
    handler = logging.StreamHandler(sys.stderr)
    # On the handler, not a logger: a handler's filter sees the records of every logger
    # that propagates to the root, a logger's filter only its own.
    handler.addFilter(RedactSecrets())
    formatter = json_formatter() if log_format is LogFormat.JSON else logging.Formatter(LOG_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # aiokafka and faust are chatty at INFO about every rebalance step.
    for noisy in ("aiokafka", "faust", "mode"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
