"""Orientation maps: measuring a recorded sheet's preference map and its pinwheels.

:func:`compute_orientation_map` turns per-cell preferences and selectivities into the
complex map ``z = selectivity · exp(2iθ)``, smoothed as an optical-imaging pixel averages
its neighbours; :func:`compute_pinwheels` finds the plaquettes around which the
orientation turns by ±180° (winding number ±1/2); :func:`compute_column_spacing` reads
Λ from the peak of the map's power spectrum; :func:`compute_pinwheel_density` =
pinwheels per Λ² (about π in cortex; Kaschube et al. 2010); :func:`compute_map_summary`
does all of it for a recorded sheet. The sheet itself, and its true map, are built in
:mod:`v1lab.model.maps`.

References
----------
Kaschube M, Schnabel M, Löwel S, Coppola DM, White LE, Wolf F (2010) Universality in the
evolution of orientation columns in the visual cortex. Science 330:1113-1116.
Ohki K, Chung S, Kara P, Hübener M, Bonhoeffer T, Reid RC (2006) Highly ordered
arrangement of single neurons in orientation pinwheels. Nature 442:925-928.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from v1lab._validate import ParameterError, check_number
from v1lab.analysis.metrics import compute_metrics
from v1lab.model.maps import sheet_side

__all__ = [
    "MapSummary",
    "Pinwheels",
    "compute_column_spacing",
    "compute_map_summary",
    "compute_orientation_map",
    "compute_pinwheel_density",
    "compute_pinwheels",
]


def compute_orientation_map(
    preferred_deg: np.ndarray,
    selectivity: np.ndarray | None = None,
    *,
    smooth_px: float = 0.0,
) -> np.ndarray:
    """Complex orientation map ``selectivity · exp(2iθ)``, optionally Gaussian-smoothed.

    Smoothing averages the vectors of neighbouring cells, as a pixel of an optical
    imaging map averages the cells under it: near a pinwheel centre, where neighbours
    prefer different orientations, the magnitude (the map's selectivity) falls even
    though each cell stays sharply tuned (Ohki et al. 2006).

    Parameters
    ----------
    preferred_deg : ndarray (rows, cols)
        Preferred orientation of each cell of the lattice (deg; NaN = unknown).
    selectivity : ndarray (rows, cols), optional
        Weight of each cell (e.g. ``g_osi``); default 1.
    smooth_px : float
        SD of the Gaussian smoothing, in lattice steps (0 = none).

    Returns
    -------
    ndarray, complex (rows, cols)
        ``np.angle(z) / 2`` is the map's preference, ``abs(z)`` its selectivity.

    Examples
    --------
    >>> z = compute_orientation_map(np.array([[0.0, 90.0]]))
    >>> np.round(z, 12).tolist()
    [[(1+0j), (-1+0j)]]
    """
    theta = np.deg2rad(np.asarray(preferred_deg, dtype=float))
    weight = np.ones_like(theta) if selectivity is None else np.asarray(selectivity, float)
    if weight.shape != theta.shape:
        raise ParameterError(
            "selectivity", weight.shape, f"expected the shape of preferred_deg {theta.shape}"
        )
    z = np.where(np.isfinite(theta) & np.isfinite(weight), weight * np.exp(2j * theta), 0.0)
    sigma = check_number("smooth_px", smooth_px, lo=0)
    if sigma > 0:
        from scipy.ndimage import gaussian_filter

        z = gaussian_filter(z.real, sigma, mode="nearest") + 1j * gaussian_filter(
            z.imag, sigma, mode="nearest"
        )
    return z


@dataclass(frozen=True)
class Pinwheels:
    """Pinwheel centres found in a map.

    Attributes
    ----------
    x, y : ndarray
        Positions, in the units of the lattice spacing given to :func:`compute_pinwheels`,
        with the lattice point ``[row, col]`` at ``((col + 0.5) · spacing, (row + 0.5) ·
        spacing)`` (:func:`v1lab.model.maps.make_sheet_positions`).
    sign : ndarray of int
        +1 where orientation turns counter-clockwise along a counter-clockwise loop,
        −1 where it turns clockwise.
    """

    x: np.ndarray
    y: np.ndarray
    sign: np.ndarray

    def __len__(self) -> int:
        return len(self.sign)


def compute_pinwheels(map_: np.ndarray, *, spacing: float = 1.0) -> Pinwheels:
    """Pinwheel centres: plaquettes around which the orientation turns by ±180°.

    For each elementary square of four neighbouring lattice points the change of the
    doubled angle ``2θ`` is summed around the loop (each step wrapped to (−π, π]); a
    total of ±2π is a pinwheel of sign ±1 at the square's centre. This is the phase
    winding number used for pinwheels in imaged maps (e.g. Löwel et al. 1998;
    Kaschube et al. 2010 use the zeros of ``z``, the same points).

    Parameters
    ----------
    map_ : ndarray (rows, cols)
        Either a complex map ``z`` (:func:`compute_orientation_map`) or real preferred
        orientations in degrees. NaN or zero entries make their plaquettes count as none.
    spacing : float
        Lattice spacing, for the returned positions (e.g. mm).

    Returns
    -------
    Pinwheels

    Examples
    --------
    >>> from v1lab.model.maps import make_sheet_positions
    >>> x, y = make_sheet_positions(20, 20.0)
    >>> theta = np.rad2deg(np.angle((x - 10.3) + 1j * (y - 9.6))) / 2  # one pinwheel
    >>> pw = compute_pinwheels(theta)
    >>> len(pw), pw.sign.tolist(), float(pw.x[0]), float(pw.y[0])
    (1, [1], 10.0, 10.0)
    """
    m = np.asarray(map_)
    if m.ndim != 2 or min(m.shape) < 2:
        raise ParameterError("map_", m.shape, "expected a 2-D map at least 2 × 2")
    if np.iscomplexobj(m):
        valid = np.isfinite(m) & (np.abs(m) > 0)
        phase = np.angle(np.where(valid, m, 1.0))
    else:
        valid = np.isfinite(m)
        phase = np.deg2rad(2.0 * np.where(valid, m, 0.0))

    def step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.angle(np.exp(1j * (b - a)))

    # Loop counter-clockwise in (x, y): (r, c) → (r, c+1) → (r+1, c+1) → (r+1, c).
    p00, p01 = phase[:-1, :-1], phase[:-1, 1:]
    p11, p10 = phase[1:, 1:], phase[1:, :-1]
    winding = step(p00, p01) + step(p01, p11) + step(p11, p10) + step(p10, p00)
    ok = valid[:-1, :-1] & valid[:-1, 1:] & valid[1:, 1:] & valid[1:, :-1]
    charge = np.where(ok, np.rint(winding / (2.0 * np.pi)), 0).astype(int)
    rows, cols = np.nonzero(charge)
    return Pinwheels(
        x=(cols + 1.0) * spacing,
        y=(rows + 1.0) * spacing,
        sign=charge[rows, cols],
    )


def compute_column_spacing(map_: np.ndarray, *, spacing: float = 1.0) -> float:
    """The map's period Λ from its power spectrum (same units as ``spacing``).

    The spectrum of an orientation map is a ring (Kaschube et al. 2010 estimate the
    column spacing from it). The mean-subtracted, Hann-windowed complex map ``z`` is
    Fourier transformed, its power averaged over rings one frequency step wide, and Λ is
    the inverse of the power-weighted wavenumber of the strongest ring and its two
    neighbours. The peak, unlike the spectrum's mean, is not pulled up by the broadband
    power of the pinwheel singularities and of measurement noise.

    Parameters
    ----------
    map_ : ndarray (rows, cols)
        Complex map or preferred orientations in degrees.
    spacing : float
        Lattice spacing.

    Examples
    --------
    >>> from v1lab.model.maps import make_orientation_field, make_sheet_positions
    >>> x, y = make_sheet_positions(96, 12.0)
    >>> z = make_orientation_field(x, y, column_spacing_mm=1.5, rng=np.random.default_rng(3))
    >>> round(compute_column_spacing(z, spacing=12.0 / 96), 1)
    1.5
    """
    m = np.asarray(map_)
    z = m if np.iscomplexobj(m) else np.exp(2j * np.deg2rad(np.asarray(m, dtype=float)))
    z = np.where(np.isfinite(z), z, 0.0)
    rows, cols = z.shape
    window = np.outer(np.hanning(rows), np.hanning(cols))
    power = np.abs(np.fft.fft2((z - z.mean()) * window)) ** 2
    ky = np.fft.fftfreq(rows, d=spacing)
    kx = np.fft.fftfreq(cols, d=spacing)
    k = np.hypot(ky[:, None], kx[None, :])
    step = 1.0 / (spacing * min(rows, cols))
    ring = np.floor(k / step + 0.5).astype(int).ravel()
    radial = np.bincount(ring, power.ravel()) / np.maximum(np.bincount(ring), 1)
    # The window spreads the mean's leak over the two lowest rings; start past them.
    radial[:2] = 0.0
    peak = int(np.argmax(radial))
    near = np.arange(max(peak - 1, 2), min(peak + 2, len(radial)))
    k_peak = float(np.sum(near * step * radial[near]) / np.sum(radial[near]))
    return 1.0 / k_peak


def compute_pinwheel_density(n_pinwheels: int, area: float, column_spacing: float) -> float:
    """Pinwheels per column spacing squared: ``n · Λ² / area`` (≈ π in cortex).

    Examples
    --------
    >>> compute_pinwheel_density(314, 100.0, 1.0)
    3.14
    """
    return float(n_pinwheels) * column_spacing**2 / float(area)


@dataclass(frozen=True)
class MapSummary:
    """A recorded sheet's orientation map and its pinwheels (:func:`compute_map_summary`).

    Attributes
    ----------
    spacing_mm : float
        Lattice spacing of the cells on the cortex.
    preferred_deg, selectivity : ndarray (n_side, n_side)
        Measured preferred orientation and global OSI of each cell (row 0 at the bottom).
    z : ndarray, complex (n_side, n_side)
        The smoothed complex map the pinwheels were found in.
    true_preferred_deg : ndarray (n_side, n_side)
        The sheet's ground truth.
    pinwheels, true_pinwheels : Pinwheels
        Found in the measured map and in the true one (positions in mm).
    column_spacing_mm, true_column_spacing_mm : float
        Λ of the measured and the true map.
    area_mm2 : float
        Area of the sheet.
    """

    spacing_mm: float
    preferred_deg: np.ndarray
    selectivity: np.ndarray
    z: np.ndarray
    true_preferred_deg: np.ndarray
    pinwheels: Pinwheels
    true_pinwheels: Pinwheels
    column_spacing_mm: float
    true_column_spacing_mm: float
    area_mm2: float

    @property
    def pinwheel_density(self) -> float:
        """Measured pinwheels per Λ² (measured Λ)."""
        return compute_pinwheel_density(len(self.pinwheels), self.area_mm2, self.column_spacing_mm)

    @property
    def true_pinwheel_density(self) -> float:
        """Pinwheels per Λ² of the true map."""
        return compute_pinwheel_density(
            len(self.true_pinwheels), self.area_mm2, self.true_column_spacing_mm
        )


def compute_map_summary(
    recording: object, metrics: Mapping[str, np.ndarray] | None = None, *, smooth_px: float = 1.0
) -> MapSummary | None:
    """Measured and true orientation maps of a recorded sheet, with their pinwheels.

    The measured map weights each cell's preferred orientation by its global OSI and
    smooths it by ``smooth_px`` lattice steps (an imaging pixel's worth of averaging: it
    removes the spurious pinwheel pairs that measurement noise creates between two
    neighbouring cells) before pinwheels are counted. The true map is used as it is.

    Returns None when the recording's population is not an orientation-map sheet or the
    protocol did not measure orientation tuning.
    """
    spec = recording.protocol.population  # type: ignore[attr-defined]
    if getattr(spec, "layout", "scatter") != "orientation_map":
        return None
    if metrics is None:
        metrics = compute_metrics(recording)
    if "preferred_orientation_measured_deg" not in metrics:
        return None
    n_side = sheet_side(len(metrics["cell_id"]))
    spacing = spec.sheet_size_mm / n_side
    preferred = np.asarray(metrics["preferred_orientation_measured_deg"], float)
    preferred = preferred.reshape(n_side, n_side)
    selectivity = np.asarray(metrics["g_osi"], float).reshape(n_side, n_side)
    truth = np.asarray(metrics["preferred_orientation_deg"], float).reshape(n_side, n_side)
    z = compute_orientation_map(preferred, selectivity, smooth_px=smooth_px)
    return MapSummary(
        spacing_mm=spacing,
        preferred_deg=preferred,
        selectivity=selectivity,
        z=z,
        true_preferred_deg=truth,
        pinwheels=compute_pinwheels(z, spacing=spacing),
        true_pinwheels=compute_pinwheels(truth, spacing=spacing),
        column_spacing_mm=compute_column_spacing(z, spacing=spacing),
        true_column_spacing_mm=compute_column_spacing(truth, spacing=spacing),
        area_mm2=float(spec.sheet_size_mm) ** 2,
    )
