"""Kafka topic names: the one place they are declared."""

from typing import Final

READINGS: Final = "toir.telemetry.readings"
POSITIONS: Final = "toir.telemetry.positions"
DLQ: Final = "toir.telemetry.dlq"
EVENTS: Final = "toir.events"

ALL: Final = (READINGS, POSITIONS, DLQ, EVENTS)
