"""Why a dev-stack server could not be started."""

from __future__ import annotations


class ServiceStartError(RuntimeError):
    """A dev-stack server did not start or did not answer in time."""


class PortInUseError(ServiceStartError):
    """The server could not bind its port; another free port may work."""


class DataDirError(ServiceStartError):
    """A data directory cannot be created, written to, or taken; the message says which."""


class DirInUseError(DataDirError):
    """Another process already runs a server on this data dir."""
