"""Running the faust worker for the `toir stream` process."""

from __future__ import annotations

import asyncio

import faust

from kernel.gc_tuning import collect_less_often
from kernel.kafka import ensure_topics
from kernel.settings import Settings
from stream.app import create_app


def run_worker(settings: Settings) -> None:
    """Create the topics if needed, then run the worker until SIGINT/SIGTERM."""
    assert settings.kafka_url
    asyncio.run(ensure_topics(settings.kafka_url, partitions=settings.kafka_partitions))
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    collect_less_often()
    # The process's logging (format, secrets filter) is set up already; faust's own set-up
    # would replace it with a coloured console handler.
    worker = faust.Worker(
        app, loglevel=settings.log_level.lower(), quiet=True, override_logging=False
    )
    worker.spinner = None  # it writes terminal escapes into the log, even when not a tty
    worker.execute_from_commandline()
