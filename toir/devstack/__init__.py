"""The embedded dev stack: PostgreSQL, an MQTT broker and a Kafka-compatible broker on demand."""

from toir.devstack.errors import DataDirError, DirInUseError, PortInUseError, ServiceStartError
from toir.devstack.kafka import start_kafka
from toir.devstack.mqtt import start_mqtt
from toir.devstack.postgres import start_postgres
from toir.devstack.process import RunningService
from toir.devstack.stack import EmbeddedStack, StackUrls

__all__ = [
    "DataDirError",
    "DirInUseError",
    "EmbeddedStack",
    "PortInUseError",
    "RunningService",
    "ServiceStartError",
    "StackUrls",
    "start_kafka",
    "start_mqtt",
    "start_postgres",
]
