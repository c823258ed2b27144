"""Renderers: one pure function per stimulus kind, and :func:`render_frames`.

Static kinds (spot, annulus, full field, blank, image, and a flashed bar or a still
grating) render one ``(n, n)`` frame; moving kinds render ``(m, n, n)`` frames for ``m``
times. All shapes are area-sampled with :mod:`v1lab.model.stimulus.coverage`.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.model.stimulus._checks import check_grid, check_stimulus, check_times
from v1lab.model.stimulus._common import pil_errors, read_picture, wrap_angle
from v1lab.model.stimulus.coverage import disc_coverage, polygon_coverage, square_wave_average
from v1lab.model.stimulus.grid import RetinaGrid
from v1lab.model.stimulus.kinds import (
    Annulus,
    Bar,
    Blank,
    FullField,
    Grating,
    Image,
    SparseNoise,
    Spot,
    Stimulus,
)

__all__ = ["render_frames"]

# Corner-grid elements per internal render batch: bounds the float64 temporaries (~8 MB each).
_BATCH_ELEMENTS = 1 << 20


def _bar_outline(bar: Bar) -> tuple[np.ndarray, np.ndarray]:
    theta = math.radians(bar.orientation_deg)
    along = np.array([math.cos(theta), math.sin(theta)]) * (0.5 * bar.length_deg)
    across = np.array([-math.sin(theta), math.cos(theta)]) * (0.5 * bar.width_deg)
    # Counter-clockwise because along × across > 0.
    corners = np.stack([-along - across, along - across, along + across, -along + across])
    return corners[:, 0], corners[:, 1]


def _bar_frames(bar: Bar, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    xe, ye = grid._edges()
    offset = bar.speed_deg_s * (t - 0.5 * bar.duration_s)
    if bar.speed_deg_s > 0:
        rad = math.radians(bar.direction_deg)
        cx = bar.x_deg + offset * math.cos(rad)
        cy = bar.y_deg + offset * math.sin(rad)
    else:
        cx = np.full(t.shape, bar.x_deg)
        cy = np.full(t.shape, bar.y_deg)
    vx, vy = _bar_outline(bar)
    area = grid.pixel_deg**2
    n = grid.n_pixels
    # Pixels outside the bar's bounding box are exactly 0, so only a window around it is
    # integrated: a 4 x 0.5 deg slit covers ~2 % of a 10-deg field, and the window cuts
    # the cost of a sweep 5-40x. A pixel of margin on each side absorbs round-off in
    # the window's placement; the window's corners are the grid's own corner values, so
    # the result is the full-grid result, bit for bit.
    half_w, half_h = float(np.max(np.abs(vx))), float(np.max(np.abs(vy)))
    win_x = math.ceil(2.0 * half_w / grid.pixel_deg) + 3
    win_y = math.ceil(2.0 * half_h / grid.pixel_deg) + 3
    if win_x * win_y * 2 > n * n:
        # Corners are expressed in the bar's frame so that round-off scales with its size.
        xs = xe[None, :] - cx[:, None]
        ys = ye[None, :] - cy[:, None]
        return bar.contrast * polygon_coverage(vx, vy, xs, ys, area)
    half = 0.5 * grid.extent_deg
    left = np.floor((cx - half_w + half) / grid.pixel_deg) - 1
    top = np.floor((half - cy - half_h) / grid.pixel_deg) - 1
    # A window wholly off the field is clamped into the padding: its pixels are then
    # correctly 0 (the bar is not there) and the canvas stays small.
    col0 = np.clip(left, -win_x, n).astype(np.intp)
    row0 = np.clip(top, -win_y, n).astype(np.intp)
    cols = col0[:, None] + np.arange(win_x + 1)
    rows = row0[:, None] + np.arange(win_y + 1)
    # Same expressions as RetinaGrid._edges, extended past the field's border.
    xs = (cols * grid.pixel_deg - half) - cx[:, None]
    ys = ((n - rows) * grid.pixel_deg - half) - cy[:, None]
    window = polygon_coverage(vx, vy, xs, ys, area)
    canvas = np.zeros((t.size, n + 2 * win_y, n + 2 * win_x))
    frame = np.arange(t.size)[:, None, None]
    canvas[
        frame,
        (row0 + win_y)[:, None, None] + np.arange(win_y)[None, :, None],
        (col0 + win_x)[:, None, None] + np.arange(win_x)[None, None, :],
    ] = window
    return bar.contrast * canvas[:, win_y : win_y + n, win_x : win_x + n]


def _spot_frame(spot: Spot, grid: RetinaGrid) -> np.ndarray:
    return spot.contrast * disc_coverage(spot.radius_deg, spot.x_deg, spot.y_deg, grid)


def _annulus_frame(ring: Annulus, grid: RetinaGrid) -> np.ndarray:
    outer = disc_coverage(ring.outer_radius_deg, ring.x_deg, ring.y_deg, grid)
    inner = disc_coverage(ring.inner_radius_deg, ring.x_deg, ring.y_deg, grid)
    return ring.contrast * np.clip(outer - inner, 0.0, 1.0)


def _full_field_frame(flash: FullField, grid: RetinaGrid) -> np.ndarray:
    return np.full((grid.n_pixels, grid.n_pixels), flash.contrast)


def _blank_frame(blank: Blank, grid: RetinaGrid) -> np.ndarray:
    return np.zeros((grid.n_pixels, grid.n_pixels))


def _grating_axis_deg(g: Grating) -> float:
    return g.direction_deg if g.motion == "drift" else wrap_angle(g.orientation_deg + 90.0, 360.0)


def _grating_cycles(g: Grating, grid: RetinaGrid) -> np.ndarray:
    # Position along the grating axis in cycles, phase included, reduced to [0, 1).
    x, y = grid.coords()
    rad = math.radians(_grating_axis_deg(g))
    u = (x - g.x_deg) * math.cos(rad) + (y - g.y_deg) * math.sin(rad)
    z = g.spatial_frequency_cpd * u + g.phase_deg / 360.0
    return z - np.floor(z)


def _grating_profile(g: Grating, grid: RetinaGrid, z: np.ndarray) -> np.ndarray:
    if g.waveform == "sine":
        return np.cos(2.0 * np.pi * z)
    rad = math.radians(_grating_axis_deg(g))
    span = g.spatial_frequency_cpd * grid.pixel_deg
    return square_wave_average(z, span * abs(math.cos(rad)), span * abs(math.sin(rad)))


def _grating_window(g: Grating, grid: RetinaGrid) -> np.ndarray | float:
    if math.isinf(g.aperture_radius_deg):
        return 1.0
    return disc_coverage(g.aperture_radius_deg, g.x_deg, g.y_deg, grid)


def _cycles_elapsed(g: Grating, t: np.ndarray) -> np.ndarray:
    # Reduced to [0, 1) before use so that long presentations keep full phase precision.
    cycles = g.temporal_frequency_hz * t
    return cycles - np.floor(cycles)


def _grating_frames(g: Grating, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    z0 = _grating_cycles(g, grid)
    window = _grating_window(g, grid)
    if g.motion == "counterphase":
        pattern = g.contrast * window * _grating_profile(g, grid, z0)
        gain = np.cos(2.0 * np.pi * _cycles_elapsed(g, t))
        return gain[:, None, None] * pattern[None]
    z = z0[None] - _cycles_elapsed(g, t)[:, None, None]
    z -= np.floor(z)
    return g.contrast * window * _grating_profile(g, grid, z)


def _overlap(lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray) -> np.ndarray:
    # Length of the overlap of every interval a with every interval b.
    overlap = np.minimum(hi_a[:, None], hi_b[None, :]) - np.maximum(lo_a[:, None], lo_b[None, :])
    return np.maximum(overlap, 0.0)


@functools.lru_cache(maxsize=8)
def _load_picture(path: str, stamp: tuple[int, int]) -> np.ndarray:
    # `stamp` (mtime, size) makes an edited file reload; it is not used otherwise.
    # read_picture refuses a file swapped for a huge one since construction, unread.
    with read_picture(path) as picture:
        try:
            if picture.mode in ("I", "F") or picture.mode.startswith("I;16"):
                grey = picture.convert("F")
            else:
                grey = picture.convert("L")
            luminance = np.asarray(grey, dtype=np.float64)
        except pil_errors() as exc:
            raise ParameterError("path", path, f"expected a readable image file ({exc})") from exc
    mean = float(luminance.mean())
    if not mean > 0.0:
        raise ParameterError(
            "path", path, "the image is black everywhere, so its contrast is undefined"
        )
    contrast = luminance / mean - 1.0
    contrast.setflags(write=False)
    return contrast


@functools.lru_cache(maxsize=8)
def _picture_on_grid(
    path: str,
    stamp: tuple[int, int],
    size_deg: float,
    x_deg: float,
    y_deg: float,
    grid: RetinaGrid,
) -> np.ndarray:
    picture = _load_picture(path, stamp)
    rows, cols = picture.shape
    side = size_deg / cols
    left = x_deg - 0.5 * size_deg
    top = y_deg + 0.5 * side * rows
    xe, ye = grid._edges()
    # Both grids are axis-aligned, so the exact area average factorises into two overlap
    # matrices: frame = Oy · picture · Oxᵀ / pixel area.
    col_edges = left + side * np.arange(cols + 1)
    row_edges = top - side * np.arange(rows + 1)
    over_x = _overlap(xe[:-1], xe[1:], col_edges[:-1], col_edges[1:])
    over_y = _overlap(ye[1:], ye[:-1], row_edges[1:], row_edges[:-1])
    frame = over_y @ (picture @ over_x.T) / grid.pixel_deg**2
    frame.setflags(write=False)
    return frame


def _image_frame(image: Image, grid: RetinaGrid) -> np.ndarray:
    try:
        info = os.stat(image.path)
    except OSError as exc:
        raise ParameterError("path", image.path, f"expected a readable image file ({exc})") from exc
    stamp = (info.st_mtime_ns, info.st_size)
    frame = _picture_on_grid(image.path, stamp, image.size_deg, image.x_deg, image.y_deg, grid)
    return image.contrast * frame


def _sparse_noise_frames(noise: SparseNoise, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    side = noise.square_deg
    g = noise.grid_size
    xe, ye = grid._edges()
    col_edges = noise.x_deg + side * (np.arange(g + 1) - 0.5 * g)
    row_edges = noise.y_deg - side * (np.arange(g + 1) - 0.5 * g)
    # Squares and pixels are both axis-aligned: exact coverage is Oy · pattern · Oxᵀ.
    over_x = _overlap(xe[:-1], xe[1:], col_edges[:-1], col_edges[1:]) / grid.pixel_deg
    over_y = _overlap(ye[1:], ye[:-1], row_edges[1:], row_edges[:-1]) / grid.pixel_deg
    shown = noise.pattern()[noise.noise_frame_index(t)].astype(np.float64)
    return noise.contrast * (over_y @ shown @ over_x.T)


_STATIC_RENDERERS: dict[type[Stimulus], Callable[[Any, RetinaGrid], np.ndarray]] = {
    Spot: _spot_frame,
    Annulus: _annulus_frame,
    FullField: _full_field_frame,
    Blank: _blank_frame,
    Image: _image_frame,
}


_MOVING_RENDERERS: dict[type[Stimulus], Callable[[Any, RetinaGrid, np.ndarray], np.ndarray]] = {
    Bar: _bar_frames,
    Grating: _grating_frames,
    SparseNoise: _sparse_noise_frames,
}


def _static_frame(stimulus: Stimulus, grid: RetinaGrid) -> np.ndarray | None:
    """The one frame of a stimulus that does not change while it is on; None otherwise."""
    renderer = _STATIC_RENDERERS.get(type(stimulus))
    if renderer is not None:
        return renderer(stimulus, grid)
    if isinstance(stimulus, Bar) and stimulus.speed_deg_s == 0:
        return _bar_frames(stimulus, grid, np.zeros(1))[0]
    if isinstance(stimulus, Grating) and stimulus.temporal_frequency_hz == 0:
        return _grating_frames(stimulus, grid, np.zeros(1))[0]
    return None


def render_frames(stimulus: Stimulus, grid: RetinaGrid, t_s: Any) -> np.ndarray:
    """Render a stimulus at arbitrary times.

    Parameters
    ----------
    stimulus : Stimulus
        What to draw.
    grid : RetinaGrid
        Where to draw it.
    t_s : array_like, shape (T,)
        Times from stimulus onset (s). Frames outside ``[0, duration_s)`` are grey (0).

    Returns
    -------
    ndarray, shape (T, n, n), float32
        Signed contrast; row 0 is the top of the field. The whole array is allocated, so
        pass long movies in chunks (see :func:`iter_frames`).

    Examples
    --------
    >>> grid = RetinaGrid(extent_deg=4.0, pixels_per_deg=4.0)
    >>> bar = Bar(orientation_deg=90, width_deg=0.5, length_deg=2.0, speed_deg_s=2.0)
    >>> frames = render_frames(bar, grid, [0.0, 0.5, 1.0])
    >>> frames.shape, frames.dtype
    ((3, 16, 16), dtype('float32'))
    >>> frames.sum(axis=(1, 2)).tolist()  # contrast × area × pixels per deg²; off at t = 1
    [16.0, 16.0, 0.0]
    """
    stimulus = check_stimulus(stimulus)
    grid = check_grid(grid)
    t = check_times(t_s)
    n = grid.n_pixels
    out = np.zeros((t.size, n, n), dtype=np.float32)
    on = np.flatnonzero((t >= 0.0) & (t < stimulus.duration_s))
    if on.size == 0:
        return out
    frame = _static_frame(stimulus, grid)
    if frame is not None:
        out[on] = frame
        return out
    render = _MOVING_RENDERERS[type(stimulus)]
    batch = max(1, _BATCH_ELEMENTS // (n + 1) ** 2)
    for start in range(0, on.size, batch):
        chosen = on[start : start + batch]
        out[chosen] = render(stimulus, grid, t[chosen])
    return out
