"""The numeric helpers of the detector's scoring step."""

from __future__ import annotations

import numpy as np
import pytest

from predictive.online.scoring import max_along


@pytest.mark.parametrize(
    ("shape", "axis"), [((7, 10, 4), 1), ((7, 4), 1), ((7, 1), 1), ((3, 5, 2), 0), ((3, 5, 2), 2)]
)
def test_max_along_equals_numpy_max(shape: tuple[int, ...], axis: int) -> None:
    values = np.random.default_rng(7).normal(size=shape)
    assert np.array_equal(max_along(values, axis), values.max(axis=axis))


def test_max_along_lets_nan_win_as_numpy_max_does() -> None:
    values = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    assert np.array_equal(max_along(values, 1), values.max(axis=1), equal_nan=True)


def test_max_along_does_not_change_its_input() -> None:
    values = np.array([[2.0], [1.0]])
    result = max_along(values, 1)
    result[0] = 9.0
    assert values[0, 0] == 2.0
