"""The frame clock: which frames a stimulus has at a frame rate, rendered in chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from v1lab._validate import check_int, check_number
from v1lab.model.stimulus._checks import check_grid, check_stimulus, n_frames
from v1lab.model.stimulus.grid import RetinaGrid
from v1lab.model.stimulus.kinds import Stimulus
from v1lab.model.stimulus.render import render_frames

__all__ = ["frame_times", "iter_frames"]


def frame_times(stimulus: Stimulus, frame_rate_hz: float) -> np.ndarray:
    """Frame times ``i / frame_rate_hz`` for ``i < round(duration_s · frame_rate_hz)``.

    Examples
    --------
    >>> from v1lab.model.stimulus import Blank
    >>> frame_times(Blank(duration_s=0.1), 50.0).tolist()
    [0.0, 0.02, 0.04, 0.06, 0.08]
    """
    stimulus = check_stimulus(stimulus)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    return np.arange(n_frames(stimulus, fs)) / fs


def iter_frames(
    stimulus: Stimulus, grid: RetinaGrid, frame_rate_hz: float, *, chunk_frames: int = 256
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(t_s, frames)`` chunks covering :func:`frame_times`, to bound memory.

    Parameters
    ----------
    stimulus : Stimulus
    grid : RetinaGrid
    frame_rate_hz : float
        Frames per second (> 0).
    chunk_frames : int
        Frames per chunk (>= 1); the last chunk may be shorter.

    Yields
    ------
    t_s : ndarray, shape (k,), float64
    frames : ndarray, shape (k, n, n), float32

    Examples
    --------
    >>> from v1lab.model.stimulus import Spot
    >>> grid = RetinaGrid(extent_deg=2.0, pixels_per_deg=4.0)
    >>> chunks = iter_frames(Spot(radius_deg=0.5, duration_s=1.0), grid, 10.0, chunk_frames=4)
    >>> [frames.shape[0] for _, frames in chunks]
    [4, 4, 2]
    """
    stimulus = check_stimulus(stimulus)
    grid = check_grid(grid)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    chunk = check_int("chunk_frames", chunk_frames, lo=1)
    total = n_frames(stimulus, fs)

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, total, chunk):
            # Same expression as frame_times, so chunks concatenate to it bit for bit.
            t = np.arange(start, min(start + chunk, total)) / fs
            yield t, render_frames(stimulus, grid, t)

    return generate()
