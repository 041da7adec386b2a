"""`toir demo` as a user runs it: the embedded stack, nothing configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DEMO_TIMEOUT_S = 240


def test_the_demo_accounts_for_every_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOIR_")}
    env["TOIR_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "toir", "demo", "--duration", "8", "--rate", "150", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["published"] > 800
    assert summary["rejected"] > 0
    assert summary["stored"] == summary["published"] - summary["rejected"]
    assert summary["ingested"] >= summary["stored"]  # at least once onto Kafka
    assert sum(summary["rejected_by_reason"].values()) == summary["rejected"]
    assert "published" in done.stderr  # the live progress line
