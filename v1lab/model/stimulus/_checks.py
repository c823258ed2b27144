"""Argument checks shared by the public rendering functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.model.stimulus.grid import RetinaGrid
from v1lab.model.stimulus.kinds import STIMULUS_KINDS, Stimulus

__all__ = ["check_grid", "check_stimulus", "check_times", "n_frames"]


def check_stimulus(stimulus: Any) -> Stimulus:
    if type(stimulus) not in STIMULUS_KINDS.values():
        names = ", ".join(cls.__name__ for cls in STIMULUS_KINDS.values())
        raise ParameterError(
            "stimulus", stimulus, f"expected one of {names}, got {type(stimulus).__name__}"
        )
    return stimulus


def check_grid(grid: Any) -> RetinaGrid:
    if not isinstance(grid, RetinaGrid):
        raise ParameterError("grid", grid, f"expected a RetinaGrid, got {type(grid).__name__}")
    return grid


def check_times(t_s: Any) -> np.ndarray:
    try:
        t = np.asarray(t_s, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError("t_s", t_s, "expected a 1-D array of times (s)") from exc
    t = np.atleast_1d(t)
    if t.ndim != 1:
        raise ParameterError("t_s", t_s, f"expected a 1-D array of times (s), got {t.ndim}-D")
    if not np.all(np.isfinite(t)):
        raise ParameterError("t_s", t_s, "expected finite times (s)")
    return t


def n_frames(stimulus: Stimulus, frame_rate_hz: float) -> int:
    return round(stimulus.duration_s * frame_rate_hz)
