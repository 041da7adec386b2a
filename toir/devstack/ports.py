"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

from toir.devstack.errors import PortInUseError

LOOPBACK_HOST = "127.0.0.1"
PORT_ATTEMPTS = 3
CONNECT_TIMEOUT_S = 1.0

T = TypeVar("T")


def free_port() -> int:
    """A port nothing listens on right now; another process may still take it before we do."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def accepts_connections(port: int) -> bool:
    """True when something listens on `port` on the loopback interface."""
    try:
        with socket.create_connection((LOOPBACK_HOST, port), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def on_free_port(start: Callable[[int], T]) -> T:
    """Call `start(port)` with a free port, retrying with another when it was taken meanwhile."""
    for _ in range(PORT_ATTEMPTS - 1):
        try:
            return start(free_port())
        except PortInUseError:
            continue
    return start(free_port())
