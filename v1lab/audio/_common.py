"""Input checks and limits shared by the modules of :mod:`v1lab.audio`.

Spike-train and audio-array validation (each raises :class:`~v1lab.ParameterError`
naming the field) and the sampling-rate range the renderer supports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab._validate import ParameterError

FS_MIN_HZ = 16000  # 7 kHz upper band edge needs a Nyquist frequency above it
FS_MAX_HZ = 192000


def as_float_array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, value, f"expected an array of numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(name, value, f"expected a {ndim}-D array, got {arr.ndim}-D")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, value, "expected finite numbers (no NaN or inf)")
    return arr


def check_spike_trains(name: str, spike_times: Any) -> list[np.ndarray]:
    """Validate a sequence of per-cell spike-time arrays (finite, 1-D)."""
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        raise ParameterError(
            name,
            spike_times,
            "expected a sequence of 1-D arrays, one per cell (wrap a single train in a list)",
        )
    if isinstance(spike_times, (str, bytes)) or not isinstance(spike_times, (Sequence, np.ndarray)):
        raise ParameterError(name, spike_times, "expected a sequence of 1-D arrays, one per cell")
    trains = []
    for i, train in enumerate(spike_times):
        try:
            arr = np.asarray(train, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{name}[{i}]", train, f"expected spike times ({exc})") from None
        if arr.ndim != 1:
            if arr.ndim != 0:
                raise ParameterError(f"{name}[{i}]", train, "expected a 1-D array of times (s)")
            arr = arr.reshape(1)
        trains.append(arr)
    # One vectorised check for all cells; look for the culprit only when it fails.
    if trains and not np.isfinite(np.concatenate(trains)).all():
        i = next(i for i, t in enumerate(trains) if not np.isfinite(t).all())
        raise ParameterError(f"{name}[{i}]", spike_times[i], "expected finite times (no NaN/inf)")
    return trains


def check_times_in(
    name: str, spike_times: Any, trains: list[np.ndarray], lo: float, hi: float, allowed: str
) -> None:
    """Raise naming the first cell with a spike outside ``[lo, hi)``."""
    times = np.concatenate(trains) if trains else np.zeros(0)
    if times.size and (times.min() < lo or times.max() >= hi):
        i = next(i for i, t in enumerate(trains) if t.size and (t.min() < lo or t.max() >= hi))
        raise ParameterError(f"{name}[{i}]", spike_times[i], allowed)


def check_audio_array(audio: Any, name: str = "audio") -> np.ndarray:
    arr = np.asarray(audio)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] != 2):
        raise ParameterError(
            name, audio, f"expected shape (n_samples,) or (n_samples, 2), got {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ParameterError(name, audio, "expected at least one sample")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ParameterError(name, audio, f"expected float samples in [-1, 1], got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, audio, "expected finite samples (no NaN or inf)")
    if np.max(np.abs(arr)) > 1.0:
        raise ParameterError(name, audio, "expected samples in [-1, 1]")
    return arr
