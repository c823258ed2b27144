"""Orientation maps: a cortical sheet of cells with an orientation map and retinotopy.

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

A recorded sheet's measured map (preference, selectivity, pinwheels, column spacing) is
computed in :mod:`v1lab.analysis.maps`.

References
----------
Bonhoeffer T, Grinvald A (1991) Iso-orientation domains in cat visual cortex are
arranged in pinwheel-like patterns. Nature 353:429-431.
Kaschube M, Schnabel M, Löwel S, Coppola DM, White LE, Wolf F (2010) Universality in the
evolution of orientation columns in the visual cortex. Science 330:1113-1116.
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
from dataclasses import replace

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.model.population import Population, make_population

__all__ = [
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
    spatial_frequency_cpd: float | None = None,
    species: str = "cat",
    lgn_spacing_deg: float | None = None,
) -> Population:
    """A population laid out as a cortical sheet with an orientation map and retinotopy.

    Cells sit on a square lattice (:func:`make_sheet_positions`, row-major); each cell's
    preferred orientation is read from a random-wave map (:func:`make_orientation_field`)
    at its position, and its RF centre is the sheet position divided by the
    magnification, centred on ``center_deg``, plus Gaussian scatter of SD
    ``rf_scatter_deg``. Every other property is drawn as in
    :func:`v1lab.model.population.make_population` (``lgn_spacing_deg`` too). The same
    ``rng`` state gives the same sheet.

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
        species=species,
        lgn_spacing_deg=lgn_spacing_deg,
    )
    half = 0.5 * size
    return replace(
        drawn,
        orientation_deg=np.mod(np.rad2deg(np.angle(z.ravel())) / 2.0, 180.0),
        x_deg=center_deg[0] + (x_mm.ravel() - half) / magnification + drawn.x_deg,
        y_deg=center_deg[1] + (y_mm.ravel() - half) / magnification + drawn.y_deg,
    )
