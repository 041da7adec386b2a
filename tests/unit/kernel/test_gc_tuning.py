"""The stream worker's garbage-collector thresholds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kernel.gc_tuning import collect_less_often


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_the_youngest_generation_is_collected_far_less_often() -> None:
    young_default = gc.get_threshold()[0]
    collect_less_often()
    young, middle, old = gc.get_threshold()
    assert young >= 50 * young_default
    assert (middle, old) == (20, 100)
    assert gc.isenabled()  # fewer passes, not none: cycles are still collected
