"""The unprivileged account a server runs as when toir itself runs as root."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from toir.devstack.errors import ServiceStartError

USERADD_TIMEOUT_S = 30.0
SYSTEM_USER_OPTIONS = (
    "--system",
    "--user-group",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
)


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int

    def chown(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)

    def chown_tree(self, root: Path) -> None:
        for path in (root, *root.rglob("*")):
            os.chown(path, self.uid, self.gid, follow_symlinks=False)


def running_as_root() -> bool:
    return os.geteuid() == 0


def system_account(name: str) -> RunAs:
    """The system user `name`, created (no home, no login shell) when missing."""
    try:
        return _run_as(pwd.getpwnam(name))
    except KeyError:
        pass
    # Not check=True: a concurrent start may have created it between the lookup and now.
    result = subprocess.run(
        ["useradd", *SYSTEM_USER_OPTIONS, name],
        capture_output=True,
        text=True,
        timeout=USERADD_TIMEOUT_S,
        check=False,
    )
    try:
        return _run_as(pwd.getpwnam(name))
    except KeyError as exc:
        reason = result.stderr.strip()
        raise ServiceStartError(f"cannot create system user {name}: {reason}") from exc


def _run_as(entry: pwd.struct_passwd) -> RunAs:
    return RunAs(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def grant_traverse(path: Path) -> list[Path]:
    """Let every user traverse (not list) the folders above `path`; returns the ones changed."""
    changed = []
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
            changed.append(parent)
    return changed


def grant_read_tree(root: Path) -> bool:
    """Let every user read `root` and run what its owner can run; False when already so.

    Only the top level is checked: an install made under a strict umask shows there.
    """
    if all(_readable_by_others(path) for path in (root, *root.iterdir())):
        return False
    for path in (root, *root.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | _read_bits(path))
    return True


def _read_bits(path: Path) -> int:
    mode = path.stat().st_mode
    runnable = path.is_dir() or mode & stat.S_IXUSR
    return stat.S_IROTH | (stat.S_IXOTH if runnable else 0)


def _readable_by_others(path: Path) -> bool:
    wanted = _read_bits(path)
    return path.stat().st_mode & wanted == wanted
