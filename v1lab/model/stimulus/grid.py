"""The retina grid: the square of pixels on which stimuli are drawn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from v1lab._validate import ParameterError, check_number
from v1lab.model.stimulus._common import set_frozen

__all__ = ["RetinaGrid"]

# A protocol typo such as pixels_per_deg = 800 should fail with a message, not a MemoryError.
_MAX_PIXELS_PER_SIDE = 4096
# Degrees are used as flat coordinates, fair only near the line of sight (at 45° off it,
# tan 45° = 1 rad is 27 % more than 45° = 0.79 rad); a 90° screen also keeps v1lab.live's
# edges (bars 4 screens long, centred up to 1.5 screens out) within the stimulus ranges.
_MAX_EXTENT_DEG = 90.0


@dataclass(frozen=True)
class RetinaGrid:
    """A square grid of pixels covering the visual field around the receptive fields.

    Parameters
    ----------
    extent_deg : float
        Side of the square field of view (deg, at most 90), centred on (0, 0).
    pixels_per_deg : float
        Sampling density. The grid has ``n_pixels = max(1, round(extent_deg *
        pixels_per_deg))`` pixels per side, so the actual pixel size is
        ``pixel_deg = extent_deg / n_pixels``.

    Examples
    --------
    >>> grid = RetinaGrid(extent_deg=2.0, pixels_per_deg=2.0)
    >>> grid.n_pixels, grid.pixel_deg
    (4, 0.5)
    >>> x_deg, y_deg = grid.coords()
    >>> x_deg[0].tolist(), y_deg[:, 0].tolist()
    ([-0.75, -0.25, 0.25, 0.75], [0.75, 0.25, -0.25, -0.75])
    """

    extent_deg: float = 10.0
    pixels_per_deg: float = 8.0

    def __post_init__(self) -> None:
        extent = check_number(
            "extent_deg", self.extent_deg, lo=0, lo_open=True, hi=_MAX_EXTENT_DEG, unit="deg"
        )
        ppd = check_number(
            "pixels_per_deg", self.pixels_per_deg, lo=0, lo_open=True, unit="pixels per deg"
        )
        side = extent * ppd
        if not side <= _MAX_PIXELS_PER_SIDE + 0.5:
            raise ParameterError(
                "pixels_per_deg",
                self.pixels_per_deg,
                f"expected extent_deg × pixels_per_deg <= {_MAX_PIXELS_PER_SIDE} pixels per "
                f"side (extent_deg = {extent:g} gives {side:g})",
            )
        set_frozen(self, "extent_deg", extent)
        set_frozen(self, "pixels_per_deg", ppd)

    @property
    def n_pixels(self) -> int:
        """Number of pixels per side."""
        return max(1, round(self.extent_deg * self.pixels_per_deg))

    @property
    def pixel_deg(self) -> float:
        """Side of one pixel (deg)."""
        return self.extent_deg / self.n_pixels

    @property
    def nbytes_per_frame(self) -> int:
        """Size of one float32 frame in bytes."""
        return self.n_pixels * self.n_pixels * 4

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the pixel-centre coordinates ``(x_deg, y_deg)``, each ``(n, n)`` float64.

        Row 0 is the top of the field (largest y) and column 0 its left edge (smallest x).
        """
        n, p = self.n_pixels, self.pixel_deg
        centres = (np.arange(n) + 0.5) * p - 0.5 * self.extent_deg
        x_deg, y_deg = np.meshgrid(centres, centres[::-1])
        return x_deg, y_deg

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        # Pixel-corner coordinates: x increasing left to right, y decreasing top to bottom.
        edges = np.arange(self.n_pixels + 1) * self.pixel_deg - 0.5 * self.extent_deg
        return edges, edges[::-1].copy()
