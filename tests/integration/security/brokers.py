"""Mosquitto configured as in production for the security tests: passwords, TLS."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devices.credentials.mosquitto import hash_password
from toir.devstack.ports import accepts_connections
from toir.processes import free_tcp_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
OPENSSL = shutil.which("openssl")
START_TIMEOUT_S = 10.0

needs_mosquitto = pytest.mark.skipif(not os.access(MOSQUITTO, os.X_OK), reason="needs mosquitto")


@contextmanager
def mosquitto(directory: Path, lines: list[str]) -> Iterator[int]:
    """Run mosquitto with these configuration lines plus a listener; yields its port."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_tcp_port()
    run_as_root = ["user root"] if os.geteuid() == 0 else []
    conf = [f"listener {port} 127.0.0.1", *lines, *run_as_root]
    (directory / "mosquitto.conf").write_text("\n".join(conf) + "\n")
    with (directory / "mosquitto.log").open("ab") as log:
        process = subprocess.Popen(
            [MOSQUITTO, "-c", str(directory / "mosquitto.conf")], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not accepts_connections(port):
            assert time.monotonic() < deadline, (directory / "mosquitto.log").read_text()
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def password_lines(directory: Path, accounts: dict[str, str]) -> list[str]:
    """A password file (Mosquitto's own hash format) and no anonymous access."""
    path = directory / "passwd"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{user}:{hash_password(pw)}\n" for user, pw in accounts.items()))
    return ["allow_anonymous false", f"password_file {path}"]


@contextmanager
def tls_mosquitto(directory: Path) -> Iterator[tuple[int, Path, Path]]:
    """A Mosquitto speaking TLS only, anonymous allowed, its certificate from a fresh CA:
    (port, CA certificate, server certificate)."""
    ca, cert, key = make_certificates(directory / "certs")
    lines = [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}", "allow_anonymous true"]
    with mosquitto(directory / "mqtt", lines) as port:
        yield port, ca, cert


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost: (ca, cert, key)."""
    if OPENSSL is None:
        pytest.skip("needs the openssl command")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        directory / n for n in ("ca.key", "ca.crt", "s.key", "s.csr", "s.crt")
    )
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=toir test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext],
    ]  # fmt: skip
    for args in run:
        subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True)
    return ca, cert, key
