"""Stimulus movies as animated GIFs, for reports and for looking at a protocol."""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from pathlib import Path

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.model.stimulus._checks import check_grid, check_stimulus, n_frames
from v1lab.model.stimulus.grid import RetinaGrid
from v1lab.model.stimulus.kinds import Stimulus
from v1lab.model.stimulus.render import render_frames

__all__ = ["save_gif"]

# Browsers show GIF frames shorter than 20 ms at 100 ms, which would slow the movie down.
_GIF_MIN_FRAME_S = 0.02


def save_gif(
    stimulus: Stimulus,
    grid: RetinaGrid,
    path: str | os.PathLike[str],
    *,
    frame_rate_hz: float = 25.0,
    max_frames: int = 200,
) -> Path:
    """Write the stimulus as an animated GIF (grey = 128, contrast -1..+1 → 0..255).

    Frames are taken at ``frame_rate_hz``; when there are more than ``max_frames`` (or
    frames shorter than the 20 ms that GIF viewers honour) every k-th frame is kept and
    shown k times longer, so the GIF still plays in real time. A static stimulus may come
    out as a single frame (pillow merges identical frames). The
    file is written to a temporary name in the same folder and then renamed, so a reader
    never sees a half-written GIF.

    Parameters
    ----------
    stimulus : Stimulus
    grid : RetinaGrid
    path : str or os.PathLike
        Output file; its folder must exist.
    frame_rate_hz : float
        Frame rate (> 0).
    max_frames : int
        Largest number of frames to write (>= 1).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    stimulus = check_stimulus(stimulus)
    grid = check_grid(grid)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    limit = check_int("max_frames", max_frames, lo=1)
    if not isinstance(path, str | os.PathLike):
        raise ParameterError("path", path, f"expected a file path, got {type(path).__name__}")
    target = Path(os.fspath(path))
    if not target.parent.is_dir() or target.is_dir():
        raise ParameterError("path", str(path), "expected a file in an existing folder")
    from PIL import Image as PILImage

    total = max(1, n_frames(stimulus, fs))
    stride = max(-(-total // limit), math.ceil(_GIF_MIN_FRAME_S * fs - 1e-9))
    times = np.arange(0, total, stride) / fs
    pictures = []
    for start in range(0, times.size, 64):
        frames = render_frames(stimulus, grid, times[start : start + 64])
        grey = np.clip(np.rint(128.0 + 128.0 * frames), 0, 255).astype(np.uint8)
        pictures.extend(PILImage.fromarray(frame) for frame in grey)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        pictures[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=round(1000.0 * stride / fs),
            loop=0,
        )
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target
