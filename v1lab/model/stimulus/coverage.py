"""Exact pixel coverage: pure functions that area-sample shapes onto a pixel grid.

Why area sampling
-----------------
Shapes are drawn with the exact fraction of each pixel square that they cover (box-filter
anti-aliasing; Crow 1977). A point-sampled bar snaps to whole pixels: a bar moving at
0.5 deg/s on an 8 pixel/deg grid rendered at 100 Hz crosses only 0.04 pixel per frame, so
it would stand still for 25 frames and then jump a whole pixel. A model retina would then
see a 4 Hz staircase instead of smooth motion, and the sharp onsets would drive transient
cells that the real stimulus never drives. With area sampling a sub-pixel displacement
moves the intensity centroid by exactly that displacement and the total intensity
(contrast × area) stays constant while the shape is on the grid.

- Bars (rectangles) and the discs of spots, annuli and grating apertures are integrated
  exactly: the covered area is the four-corner difference of the shape's cumulative area
  function evaluated at the pixel corners, so totals are exact to round-off.
- Square-wave gratings are averaged exactly over each pixel square (the pixel's projection
  onto the grating axis is a trapezoid; its convolution with the square wave has a closed
  form). Sine gratings are band-limited and are sampled at pixel centres, so that their
  amplitude is the contrast asked for at every spatial frequency below the Nyquist limit
  (a pixel average would attenuate them by sinc(π f p) along each axis).
- A grating's aperture multiplies the pattern by the aperture's exact coverage, which is
  exact except inside the pixels the aperture's edge crosses.

References
----------
Crow FC (1977) The aliasing problem in computer-generated shaded images.
Commun ACM 20:799-805.
"""

from __future__ import annotations

import numpy as np

from v1lab.model.stimulus.grid import RetinaGrid

__all__ = ["disc_coverage", "polygon_coverage", "square_wave_average"]

# Coverage closer to 0 than this is round-off in the corner differences, not shape.
_COVERAGE_FLOOR = 1e-8


def _corner_difference(cumulative: np.ndarray, pixel_area: float) -> np.ndarray:
    """Covered fraction of each pixel from a cumulative-area function at the pixel corners.

    ``cumulative[..., i, j]`` is A(x_edges[j], y_edges[i]) for any function whose mixed
    difference over a rectangle is the shape's area inside it (y_edges descending).
    """
    area = (
        cumulative[..., :-1, 1:]
        - cumulative[..., :-1, :-1]
        - cumulative[..., 1:, 1:]
        + cumulative[..., 1:, :-1]
    )
    area /= pixel_area
    area[np.abs(area) < _COVERAGE_FLOOR] = 0.0
    return np.clip(area, 0.0, 1.0, out=area)


def _mean_negative_part(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Mean of min(m, 0) along a segment on which m runs linearly from start to stop."""
    lo = np.minimum(start, stop)
    hi = np.maximum(start, stop)
    both_negative = 0.5 * (lo + hi)
    # Only used where lo < 0 < hi, so hi - lo > |lo| and nothing cancels.
    width = np.where(hi > lo, hi - lo, 1.0)
    crossing = -0.5 * lo * lo / width
    return np.where(hi <= 0.0, both_negative, np.where(lo >= 0.0, 0.0, crossing))


def polygon_coverage(
    vx: np.ndarray, vy: np.ndarray, xs: np.ndarray, ys: np.ndarray, pixel_area: float
) -> np.ndarray:
    """Exact covered fraction of every pixel by a convex polygon, for several placements.

    Parameters
    ----------
    vx, vy : ndarray, shape (k,)
        Vertices, counter-clockwise, in the polygon's own frame.
    xs : ndarray, shape (m, nx + 1)
    ys : ndarray, shape (m, ny + 1)
        Pixel-corner coordinates relative to the polygon's frame, one row per placement
        (ys descending).

    Returns
    -------
    ndarray, shape (m, ny, nx), float64
    """
    # Area of polygon ∩ {x <= X, y <= Y} by Green's theorem: ∮ min(x - X, 0)·[y <= Y] dy,
    # integrated edge by edge in closed form (the X·∮[y <= Y] dy term vanishes).
    X = xs[:, None, :]
    Y = ys[:, :, None]
    cumulative = np.zeros((xs.shape[0], ys.shape[1], xs.shape[1]))
    k = vx.size
    for i in range(k):
        x0, y0 = float(vx[i]), float(vy[i])
        x1, y1 = float(vx[(i + 1) % k]), float(vy[(i + 1) % k])
        if y1 == y0:
            continue  # a horizontal edge has dy = 0 everywhere
        slope = (x1 - x0) / (y1 - y0)
        y_from = np.minimum(y0, Y)
        y_to = np.minimum(y1, Y)
        m_from = (x0 + (y_from - y0) * slope) - X
        m_to = (x0 + (y_to - y0) * slope) - X
        cumulative += (y_to - y_from) * _mean_negative_part(m_from, m_to)
    return _corner_difference(cumulative, pixel_area)


def _circle_primitive(x: np.ndarray, radius: float) -> np.ndarray:
    # ∫_0^x sqrt(R² - s²) ds for 0 <= x <= R; (R - x)(R + x) keeps precision near x = R.
    height = np.sqrt((radius - x) * (radius + x))
    return 0.5 * (x * height + radius * radius * np.arctan2(x, height))


def _disc_rectangle_area(X: np.ndarray, Y: np.ndarray, radius: float) -> np.ndarray:
    """Signed area of the disc x² + y² <= R² inside the rectangle from (0, 0) to (X, Y)."""
    x = np.minimum(np.abs(X), radius)
    y = np.minimum(np.abs(Y), radius)
    inside = x * x + y * y <= radius * radius
    # Otherwise the circle leaves the top edge at x_top < x: a rectangle plus a circular slab.
    x_top = np.sqrt((radius - y) * (radius + y))
    outside = x_top * y + _circle_primitive(x, radius) - _circle_primitive(x_top, radius)
    return np.sign(X) * np.sign(Y) * np.where(inside, x * y, outside)


def disc_coverage(radius: float, cx: float, cy: float, grid: RetinaGrid) -> np.ndarray:
    """Exact covered fraction of every pixel by a disc, (n, n) float64."""
    xe, ye = grid._edges()
    if radius <= 0.0:
        return np.zeros((grid.n_pixels, grid.n_pixels))
    cumulative = _disc_rectangle_area((xe - cx)[None, :], (ye - cy)[:, None], radius)
    return _corner_difference(cumulative, grid.pixel_deg**2)


# --------------------------------------------------------------------------------------
# Square-wave grating: exact pixel average
# --------------------------------------------------------------------------------------


def _square_wave_integral(z: np.ndarray) -> np.ndarray:
    # Antiderivative of sign(cos 2πz) (in cycles): a zero-mean triangle wave.
    r = z - np.rint(z)
    a = np.abs(r)
    return np.where(a <= 0.25, r, np.sign(r) * (0.5 - a))


def _square_wave_integral2(z: np.ndarray) -> np.ndarray:
    # Antiderivative of the triangle wave: periodic because the triangle has zero mean.
    r = z - np.rint(z)
    a = np.abs(r)
    return np.where(a <= 0.25, 0.5 * r * r, 0.5 * a - 0.5 * a * a - 0.0625)


def square_wave_average(z: np.ndarray, width_a: float, width_b: float) -> np.ndarray:
    """Pixel average of sign(cos 2πz) when the pixel spans a trapezoid of widths a, b in z.

    The pixel's projection on the grating axis is the sum of two uniforms of widths
    ``a = f p |cos θ|`` and ``b = f p |sin θ|`` (in cycles); averaging the square wave over
    it is a second difference of its second antiderivative.
    """
    big, small = max(width_a, width_b), min(width_a, width_b)
    if big * small >= 1e-9:
        h, g = 0.5 * (big + small), 0.5 * (big - small)
        S2 = _square_wave_integral2
        return (S2(z + h) - S2(z + g) - S2(z - g) + S2(z - h)) / (big * small)
    # A very thin trapezoid: the second difference would cancel; a box of width `big` is
    # within small / (4 big) of it.
    if big >= 1e-9:
        S1 = _square_wave_integral
        return (S1(z + 0.5 * big) - S1(z - 0.5 * big)) / big
    return np.sign(np.cos(2.0 * np.pi * z))
