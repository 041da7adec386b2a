"""Names for the numpy array types the engine passes around."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]
LevelArray: TypeAlias = npt.NDArray[np.int8]
IdArray: TypeAlias = npt.NDArray[np.object_]
