"""Evaluation of the anomaly detectors: simulated faults and NAB-style labelled series."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from predictive.evaluation.nab import evaluate_nab
from predictive.evaluation.simulated import evaluate_simulated

__all__ = ["cli_entry", "evaluate_nab", "evaluate_simulated"]


def cli_entry(csv: Path | None, windows: Path | None) -> dict[str, Any]:
    """Metrics for `toir predictive evaluate`: NAB-style given both files, else simulated."""
    if (csv is None) != (windows is None):
        raise ValueError("--csv and --windows go together: give both or neither")
    if csv is not None and windows is not None:
        return {"evaluation": "nab", **evaluate_nab(csv, windows, csv.name)}
    return {"evaluation": "simulated", **evaluate_simulated()}
