"""Orientation maps: a cortical sheet of cells, and the analysis of its preference map.

The sheet
---------
In cat and monkey V1 preferred orientation changes smoothly across the cortical surface,
repeating with a period Λ (the column spacing, about 1 mm in cat area 17) and winding
around point singularities, the pinwheel centres (Bonhoeffer & Grinvald 1991). Such maps
are well described by a random field: the orientation preference at position ``r`` is
half the angle of a complex field ``z(r)``, a superposition of plane waves whose wave
vectors all have the length ``2π/Λ`` (Swindale 1996; Kaschube et al. 2010, SOM eq. 7):

``z(r) = Σ_j exp(i (l_j k_j · r + φ_j))``, ``|k_j| = 2π/Λ``, directions ``jπ/n``,
``l_j = ±1`` and ``φ_j`` random.

For such a field with many waves the expected pinwheel density is π per Λ² (Wolf &
Geisel 1998; Schnabel et al. 2007), the value Kaschube et al. (2010) measured in
species as distant as tree shrew, galago and ferret (and cat).

Retinotopy: RF centres follow the cells' positions on the sheet through the cortical
magnification factor (mm of cortex per degree of visual field; Tusa, Palmer & Rosenquist
1978 report about 3 mm/deg near the cat's area centralis), plus a local scatter.

Map analysis
------------
:func:`compute_orientation_map` turns per-cell preferences and selectivities into the
complex map ``z = selectivity · exp(2iθ)``, smoothed as an optical-imaging pixel averages
its neighbours; :func:`compute_pinwheels` finds the plaquettes around which the
orientation turns by ±180° (winding number ±1/2); :func:`compute_column_spacing` reads
Λ from the peak of the map's power spectrum; :func:`compute_pinwheel_density` =
pinwheels per Λ²; :func:`compute_map_summary` does all of it for a recorded sheet.

References
----------
Bonhoeffer T, Grinvald A (1991) Iso-orientation domains in cat visual cortex are
arranged in pinwheel-like patterns. Nature 353:429-431.
Kaschube M, Schnabel M, Löwel S, Coppola DM, White LE, Wolf F (2010) Universality in the
evolution of orientation columns in the visual cortex. Science 330:1113-1116.
Ohki K, Chung S, Kara P, Hübener M, Bonhoeffer T, Reid RC (2006) Highly ordered
arrangement of single neurons in orientation pinwheels. Nature 442:925-928.
Schnabel M, Kaschube M, Löwel S, Wolf F (2007) Random waves in the brain: symmetries and
defect generation in the visual cortex. Eur Phys J Spec Top 145:137-157.
Swindale NV (1996) The development of topography in the visual cortex: a review of
models. Network 7:161-247.
Tusa RJ, Palmer LA, Rosenquist AC (1978) The retinotopic organization of area 17
(striate cortex) in the cat. J Comp Neurol 177:213-235.
Wolf F, Geisel T (1998) Spontaneous pinwheel annihilation during visual development.
Nature 395:73-78.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.model.cortex import Population, make_population

__all__ = [
    "MapSummary",
    "Pinwheels",
    "compute_column_spacing",
    "compute_map_summary",
    "compute_orientation_map",
    "compute_pinwheel_density",
    "compute_pinwheels",
    "make_map_population",
    "make_orientation_field",
    "make_sheet_positions",
    "sheet_side",
]

#: Plane waves in the random-field map: beyond ~10 the field is close to Gaussian and
#: the pinwheel density close to π (Schnabel et al. 2007).
N_WAVES = 24


def sheet_side(n_cells: int) -> int:
    """Cells per side of the square lattice of a sheet of ``n_cells`` (a perfect square).

    Examples
    --------
    >>> sheet_side(10_000)
    100
    """
    n = check_int("n_cells", n_cells, lo=4)
    side = math.isqrt(n)
    if side * side != n:
        raise ParameterError(
            "n_cells",
            n_cells,
            f"expected a perfect square for a sheet (e.g. {side * side} or {(side + 1) ** 2})",
        )
    return side


def make_sheet_positions(n_side: int, sheet_size_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Cortical positions (mm) of a square lattice, each ``(n_side, n_side)``.

    Cell ``i`` sits at row ``i // n_side``, column ``i % n_side``; x grows with the column
    and y with the row (row 0 at the bottom: plot with ``origin="lower"``).

    Examples
    --------
    >>> x, y = make_sheet_positions(2, 1.0)
    >>> x.tolist(), y.tolist()
    ([[0.25, 0.75], [0.25, 0.75]], [[0.25, 0.25], [0.75, 0.75]])
    """
    n = check_int("n_side", n_side, lo=1)
    size = check_number("sheet_size_mm", sheet_size_mm, lo=0, lo_open=True, unit="mm")
    centres = (np.arange(n) + 0.5) * size / n
    x, y = np.meshgrid(centres, centres)
    return x, y


def make_orientation_field(
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    *,
    column_spacing_mm: float,
    rng: np.random.Generator,
    n_waves: int = N_WAVES,
) -> np.ndarray:
    """Complex orientation field ``z`` at the given positions (Kaschube et al. 2010).

    The preferred orientation is ``np.angle(z) / 2`` (radians, in (−π/2, π/2]); ``|z|`` is
    small near pinwheel centres.

    Parameters
    ----------
    x_mm, y_mm : ndarray
        Positions on the cortex (mm), any matching shape.
    column_spacing_mm : float
        Λ, the period of the map (mm, > 0).
    rng : numpy.random.Generator
        Draws the wave signs and phases.
    n_waves : int
        Number of plane waves (directions evenly spaced over 180°).

    Returns
    -------
    ndarray, complex128, the shape of ``x_mm``
        Normalised so that ``mean |z|² = 1``.

    Examples
    --------
    >>> x, y = make_sheet_positions(50, 4.0)
    >>> z = make_orientation_field(x, y, column_spacing_mm=1.0, rng=np.random.default_rng(0))
    >>> z.shape, round(float(np.mean(np.abs(z) ** 2)), 6)
    ((50, 50), 1.0)
    """
    spacing = check_number("column_spacing_mm", column_spacing_mm, lo=0, lo_open=True, unit="mm")
    n = check_int("n_waves", n_waves, lo=1)
    k = 2.0 * np.pi / spacing
    angles = np.pi * np.arange(n) / n
    signs = rng.choice([-1.0, 1.0], n)
    phases = rng.uniform(0.0, 2.0 * np.pi, n)
    x = np.asarray(x_mm, dtype=float)
    y = np.asarray(y_mm, dtype=float)
    z = np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=complex)
    for a, s, p in zip(angles, signs, phases, strict=True):
        z += np.exp(1j * (s * k * (np.cos(a) * x + np.sin(a) * y) + p))
    return z / np.sqrt(np.mean(np.abs(z) ** 2))


def make_map_population(
    n_cells: int,
    rng: np.random.Generator,
    *,
    sheet_size_mm: float = 6.0,
    column_spacing_mm: float = 1.0,
    magnification_mm_per_deg: float = 2.0,
    type_fractions: Mapping[str, float] | None = None,
    center_deg: tuple[float, float] = (0.0, 0.0),
    rf_scatter_deg: float = 0.1,
    spatial_frequency_cpd: float = 0.8,
) -> Population:
    """A population laid out as a cortical sheet with an orientation map and retinotopy.

    Cells sit on a square lattice (:func:`make_sheet_positions`, row-major); each cell's
    preferred orientation is read from a random-wave map (:func:`make_orientation_field`)
    at its position, and its RF centre is the sheet position divided by the
    magnification, centred on ``center_deg``, plus Gaussian scatter of SD
    ``rf_scatter_deg``. Every other property is drawn as in
    :func:`v1lab.model.cortex.make_population`. The same ``rng`` state gives the same sheet.

    Examples
    --------
    >>> pop = make_map_population(400, np.random.default_rng(1), sheet_size_mm=2.0)
    >>> len(pop), bool(np.ptp(pop.x_deg) > 0.8)
    (400, True)
    """
    n_side = sheet_side(n_cells)
    size = check_number("sheet_size_mm", sheet_size_mm, lo=0, lo_open=True, unit="mm")
    magnification = check_number(
        "magnification_mm_per_deg", magnification_mm_per_deg, lo=0, lo_open=True, unit="mm/deg"
    )
    field_rng, cell_rng = rng.spawn(2)
    x_mm, y_mm = make_sheet_positions(n_side, size)
    z = make_orientation_field(x_mm, y_mm, column_spacing_mm=column_spacing_mm, rng=field_rng)
    drawn = make_population(
        n_side * n_side,
        cell_rng,
        type_fractions=type_fractions,
        center_deg=(0.0, 0.0),
        rf_scatter_deg=rf_scatter_deg,
        spatial_frequency_cpd=spatial_frequency_cpd,
    )
    half = 0.5 * size
    return replace(
        drawn,
        orientation_deg=np.mod(np.rad2deg(np.angle(z.ravel())) / 2.0, 180.0),
        x_deg=center_deg[0] + (x_mm.ravel() - half) / magnification + drawn.x_deg,
        y_deg=center_deg[1] + (y_mm.ravel() - half) / magnification + drawn.y_deg,
    )


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
        spacing)`` (:func:`make_sheet_positions`).
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
        from v1lab.analysis import compute_metrics

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
