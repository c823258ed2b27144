"""What the spike generators :mod:`~v1lab.cells.poisson` and :mod:`~v1lab.cells.lif` share.

The switch between their compiled (numba) kernels (:mod:`v1lab.cells._kernels`) and
their pure-numpy paths, and the checks of their rate and random-generator arguments.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Any

import numpy as np

from v1lab._validate import ParameterError

#: Use the compiled (numba) kernels when numba is installed. ``False`` (or the
#: environment variable ``V1LAB_NUMBA=0``) selects the pure-numpy path, which draws the
#: same distributions; tests compare the two.
USE_NUMBA = os.environ.get("V1LAB_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")
# Below this many trains × input samples the numpy path takes a few tens of ms, less than
# importing numba and loading its cached machine code, so small runs (the default
# protocol's 16 cells) never pay for it.
NUMBA_MIN_WORK = 1_000_000


def compiled_kernels(work: float = math.inf) -> Any:
    """The numba kernel module for ``work`` trains × samples, or None for the numpy path.

    None when numba is missing, switched off (:data:`USE_NUMBA`), or the work is small.
    """
    if not USE_NUMBA or work < NUMBA_MIN_WORK:
        return None
    return _load_kernels()


@lru_cache(maxsize=1)
def _load_kernels() -> Any:
    try:
        from v1lab.cells import _kernels as _spikes_numba
    except ImportError:  # numba not installed: the numpy path is the fallback
        return None
    return _spikes_numba


def check_rates(name: str, rates: Any) -> np.ndarray:
    """Return ``rates`` as a C-contiguous float64 (n_samples, n_cells) array of rates >= 0."""
    try:
        arr = np.asarray(rates, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            name, rates, "expected a 2-D array of rates (spikes/s), shape (n_samples, n_cells)"
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(
            name,
            f"array of shape {arr.shape}",
            "expected a 2-D array (n_samples, n_cells) with at least one sample and one cell",
        )
    # min and max propagate NaN and see ±inf: two reductions instead of a boolean mask
    # (the checks of a large population's rates otherwise cost as much as its spikes).
    lowest, highest = float(arr.min()), float(arr.max())
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ParameterError(name, float(bad), "expected finite rates (spikes/s), no NaN or inf")
    if lowest < 0:
        raise ParameterError(name, lowest, "expected rates >= 0 spikes/s")
    return np.ascontiguousarray(arr)


def check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            "rng", rng, "expected a numpy.random.Generator, e.g. np.random.default_rng(seed)"
        )
    return rng
