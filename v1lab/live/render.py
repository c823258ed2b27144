"""From the live stimulus to the retina's input, fast enough for a 10-ms block.

:func:`make_live_stimulus` turns a :class:`~v1lab.live.state.StimulusParams` into the
:mod:`v1lab.model.stimulus` object the screen shows; :class:`SeparableDoG` computes the
LGN mosaic's difference-of-Gaussians responses to it as two small matrix products per
Gaussian, from the pixels a slit or spot covers only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.special import ndtr

from v1lab._validate import ParameterError, check_choice
from v1lab.live.state import LIVE_KINDS, StimulusParams
from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import Bar, Grating, RetinaGrid, Spot, Stimulus, render_frames

_GRATING_DURATION_S = 86400.0  # never ends: its clock wraps to one period; 1 day = longest stimulus
_SUBNORMAL_FLOOR = 1e-12  # Gaussian tails below this are zero (and never subnormal)


def make_live_stimulus(params: StimulusParams, *, extent_deg: float) -> Stimulus | None:
    """The :mod:`v1lab.model.stimulus` object the screen shows now; None with the shutter closed.

    An edge is a light (or dark) half-plane: a bar far larger than the screen whose long
    side passes through (x, y), on the side 90° counter-clockwise from its orientation.
    A grating is a drifting patch of diameter ``length_deg`` centred on (x, y) with its
    stripes at ``orientation_deg``; render it at the grating's own clock.

    Examples
    --------
    >>> make_live_stimulus(StimulusParams(kind="spot", width_deg=1.0), extent_deg=10).radius_deg
    0.5
    >>> make_live_stimulus(StimulusParams(on=False), extent_deg=10) is None
    True
    """
    if not params.on:
        return None
    c = float(params.contrast)
    x, y = float(params.x_deg), float(params.y_deg)
    ori = float(params.orientation_deg) % 360.0
    if params.kind == "bar":
        return Bar(
            contrast=c,
            width_deg=params.width_deg,
            length_deg=params.length_deg,
            orientation_deg=ori % 180.0,
            x_deg=x,
            y_deg=y,
        )
    if params.kind == "spot":
        return Spot(contrast=c, radius_deg=0.5 * params.width_deg, x_deg=x, y_deg=y)
    if params.kind == "edge":
        # From any point of the screen the far corner is under 1.5 extents away.
        big = 2.0 * extent_deg
        rad = math.radians(ori)
        return Bar(
            contrast=c,
            width_deg=big,
            length_deg=2.0 * big,
            orientation_deg=ori % 180.0,
            x_deg=x - math.sin(rad) * 0.5 * big,
            y_deg=y + math.cos(rad) * 0.5 * big,
        )
    check_choice("kind", params.kind, LIVE_KINDS)
    return Grating(
        contrast=c,
        spatial_frequency_cpd=params.spatial_frequency_cpd,
        temporal_frequency_hz=params.temporal_frequency_hz,
        direction_deg=(ori + 90.0) % 360.0,
        aperture_radius_deg=0.5 * params.length_deg,
        x_deg=x,
        y_deg=y,
        duration_s=_GRATING_DURATION_S,
    )


class SeparableDoG:
    """DoG responses of the LGN lattice as ``Gyᵀ · frame · Gx`` per Gaussian.

    Each DoG weight of :func:`v1lab.model.retina.make_dog_weights` is a product of a pixel-
    integrated Gaussian in x and one in y, and the LGN positions form a square lattice,
    so the dense product ``frame @ spatial`` (n² × n_positions) factorises into two small
    matrix products per Gaussian. A frame that is zero outside a square sub-window only
    needs those rows and columns.
    """

    def __init__(self, retina: Retina) -> None:
        grid = retina.grid
        n, p = grid.n_pixels, grid.pixel_deg
        positions = make_lgn_positions(retina.lgn_extent_deg, retina.lgn_spacing_deg)
        side = round(math.sqrt(positions.shape[0]))
        axis = positions[:side, 0]
        if side * side != positions.shape[0] or not np.array_equal(
            positions, np.column_stack([np.tile(axis, side), np.repeat(axis, side)])
        ):
            raise ParameterError(
                "retina.lgn_spacing_deg", retina.lgn_spacing_deg, "expected a square LGN lattice"
            )
        self.n_pixels = n
        self.pixel_deg = p
        self.extent_deg = n * p
        self.side = side
        self.surround_weight = retina.surround_weight
        edges = (np.arange(n + 1) - n / 2) * p  # as v1lab.model.retina._pixel_gaussian
        y_top = edges[::-1]
        gx, gy = [], []
        for sigma in (retina.center_sigma_deg, retina.surround_sigma_deg):
            mx = ndtr((edges[1:, None] - axis) / sigma) - ndtr((edges[:-1, None] - axis) / sigma)
            my = ndtr((y_top[:-1, None] - axis) / sigma) - ndtr((y_top[1:, None] - axis) / sigma)
            mx[mx < _SUBNORMAL_FLOOR] = 0.0
            my[my < _SUBNORMAL_FLOOR] = 0.0
            gx.append(mx)
            gy.append(my)
        # Both Gaussians' x factors side by side: one product for the centre and surround.
        self._gx = np.ascontiguousarray(np.hstack(gx))  # (n, 2 side)
        self._gy_t = [np.ascontiguousarray(g.T) for g in gy]  # (side, n) each
        self._grids: dict[int, RetinaGrid] = {}

    def response(self, frames: np.ndarray, r0: int = 0, c0: int = 0) -> np.ndarray:
        """DoG responses (k, n_positions) of frames (k, m, m) placed at row r0, column c0."""
        m = frames.shape[-1]
        s = self.side
        half = frames @ self._gx[c0 : c0 + m]  # (k, m, 2 side)
        centre = self._gy_t[0][:, r0 : r0 + m] @ half[..., :s]
        surround = self._gy_t[1][:, r0 : r0 + m] @ half[..., s:]
        out = centre - self.surround_weight * surround
        return out.reshape(frames.shape[0], s * s)

    def subgrid(self, m: int) -> RetinaGrid:
        """A square grid of m pixels per side with the retina's pixel size (cached)."""
        grid = self._grids.get(m)
        if grid is None:
            p = self.pixel_deg
            grid = RetinaGrid(extent_deg=m * p, pixels_per_deg=1.0 / p)
            self._grids[m] = grid
        return grid

    def shape_response(self, params: StimulusParams) -> np.ndarray:
        """DoG responses (n_positions,) to a slit or spot, rendered in its own window only."""
        window = self.window(params)
        if window is None or not params.on:
            return np.zeros(self.side * self.side)
        r0, c0, m = window
        # Centred on the window, so that the shape is drawn on the retina's pixel lattice.
        sx = (c0 + 0.5 * m - 0.5 * self.n_pixels) * self.pixel_deg
        sy = (0.5 * self.n_pixels - r0 - 0.5 * m) * self.pixel_deg
        shifted = dataclasses.replace(params, x_deg=params.x_deg - sx, y_deg=params.y_deg - sy)
        stim = make_live_stimulus(shifted, extent_deg=self.extent_deg)
        return self.response(render_frames(stim, self.subgrid(m), [0.0]), r0, c0)[0]

    def window(self, params: StimulusParams) -> tuple[int, int, int] | None:
        """Smallest square pixel window (r0, c0, m) outside which a slit or spot is grey."""
        p, n, half_e = self.pixel_deg, self.n_pixels, 0.5 * self.extent_deg
        if params.kind == "spot":
            hx = hy = 0.5 * params.width_deg
        else:
            rad = math.radians(params.orientation_deg)
            c, s = abs(math.cos(rad)), abs(math.sin(rad))
            hx = 0.5 * (params.length_deg * c + params.width_deg * s)
            hy = 0.5 * (params.length_deg * s + params.width_deg * c)
        # One pixel of margin either side: the window only has to contain the shape.
        c_lo = max(0, math.floor((params.x_deg - hx + half_e) / p) - 1)
        c_hi = min(n, math.ceil((params.x_deg + hx + half_e) / p) + 1)
        r_lo = max(0, math.floor((half_e - params.y_deg - hy) / p) - 1)
        r_hi = min(n, math.ceil((half_e - params.y_deg + hy) / p) + 1)
        if c_lo >= c_hi or r_lo >= r_hi:
            return None
        m = max(c_hi - c_lo, r_hi - r_lo)
        return min(r_lo, n - m), min(c_lo, n - m), m
