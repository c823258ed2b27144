"""Argument checks and defaults shared by the Hodgkin–Huxley modules of :mod:`v1lab.cells`.

The input-noise and step defaults, and the checks of rate or current arrays, the random
generator, the step, the recorded trains and the noise (each raises
:class:`~v1lab.ParameterError` naming the field).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_number

# Defaults of the input noise (see sim_hodgkin_huxley).
NOISE_UA_CM2 = 2.0
NOISE_TAU_S = 0.005
MAX_DT_S = 2.5e-5


def check_array2d(name: str, value: Any, *, nonneg: bool, unit: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            name, value, f"expected a 2-D array ({unit}), shape (n_samples, n_cells)"
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(
            name,
            f"array of shape {arr.shape}",
            "expected a 2-D array (n_samples, n_cells) with at least one sample and one cell",
        )
    finite = np.isfinite(arr)
    if not finite.all():
        raise ParameterError(name, float(arr[~finite].flat[0]), f"expected finite values ({unit})")
    if nonneg and float(arr.min()) < 0:
        raise ParameterError(name, float(arr.min()), f"expected values >= 0 ({unit})")
    return np.ascontiguousarray(arr)


def check_rng(rng: Any, *, required: bool) -> np.random.Generator | None:
    if rng is None and not required:
        return None
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            "rng", rng, "expected a numpy.random.Generator, e.g. np.random.default_rng(seed)"
        )
    return rng


def check_dt(dt_s: Any, fs: float | None = None) -> float:
    hi = MAX_DT_S if fs is None else min(MAX_DT_S, 1.0 / fs)
    return check_number("dt_s", dt_s, lo=0, lo_open=True, hi=hi, unit="s; at most 25 µs (and 1/fs)")


def check_record(record: Any, n_trains: int) -> np.ndarray | None:
    if record is None:
        return None
    try:
        arr = np.unique(np.asarray(record, dtype=np.int64).ravel())
    except (TypeError, ValueError):
        raise ParameterError(
            "record", record, "expected train indices (trial * n_cells + cell) or None"
        ) from None
    if arr.size == 0 or arr.min() < 0 or arr.max() >= n_trains:
        raise ParameterError("record", record, f"expected train indices in [0, {n_trains - 1}]")
    return arr


def check_noise(noise_ua_cm2: Any, noise_tau_s: Any) -> tuple[float, float]:
    sd = check_number("noise_ua_cm2", noise_ua_cm2, lo=0, hi=50, unit="µA/cm²")
    tau = check_number("noise_tau_s", noise_tau_s, lo=1e-4, hi=1.0, unit="s")
    return sd, tau
