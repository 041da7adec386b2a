"""Every benchmark run starts from empty embedded services.

The embedded stack keeps its data under the data directory between runs. A benchmark run
after another would measure what that one left: the tickets API benchmark's 100,000 tickets
once made the next ingest run spend a quarter of the stream worker's CPU on the SLA watch.
So each run gets a directory of its own under `<data dir>/bench/`, removed when the run
succeeds and kept (and named) when it fails, for its logs. Services configured by URL are
used as they are: emptying them is their operator's call.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kernel.settings import Settings
from toir.devstack.datadir import ensure_dir

# The embedded PostgreSQL runs as a user of its own when started by root: it must be able to
# reach its folder inside this one.
RUN_DIR_MODE = 0o755


@contextmanager
def fresh_data_dir(settings: Settings, *, say: Callable[[str], None] = print) -> Iterator[Settings]:
    """The settings with a new, empty data directory for one benchmark run; DataDirError,
    before the run starts, when `<data dir>/bench` cannot be used."""
    parent = ensure_dir(settings.data_dir / "bench")
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    run_dir.chmod(RUN_DIR_MODE)
    try:
        yield settings.model_copy(update={"data_dir": run_dir})
    except BaseException:
        say(f"benchmark run failed; its services' data and logs are kept in {run_dir}")
        raise
    shutil.rmtree(run_dir, ignore_errors=True)
