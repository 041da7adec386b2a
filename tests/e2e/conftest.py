from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Pipeline
from toir.processes import ServiceUrls


@pytest.fixture
def pipeline(
    database_url: str, private_mqtt_url: str, kafka_url: str, tmp_path: Path, unique: str
) -> Iterator[Pipeline]:
    running = Pipeline.create(
        ServiceUrls(database_url, private_mqtt_url, kafka_url), tmp_path, unique
    )
    try:
        yield running
    finally:
        running.stop()
