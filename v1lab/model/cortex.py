"""V1 cells built from LGN input the way the literature explains them.

Cell types, and what each reproduces
------------------------------------
``simple``
    Hubel & Wiesel's (1962) feedforward model: a Gabor-weighted sum of aligned LGN
    cells, ON cells where the Gabor is positive and OFF cells where it is negative, so
    the RF has elongated, side-by-side ON and OFF subregions with even or odd symmetry
    (Jones & Palmer 1987; envelope sizes in Ringach's 2002 ``nx``, ``ny`` units). Each
    subregion is also inhibited by the opposite-sign LGN cells — push–pull (Ferster
    1988; Hirsch et al. 1998) — so light in an OFF subregion actively suppresses the
    cell, as H&W saw, and the summed input stays nearly linear despite the LGN's
    rectification (Troyer et al. 1998).
``complex``
    The energy model (Adelson & Bergen 1985): the sum of squares of two simple
    subunits in spatial quadrature, so the cell responds to a correct slit anywhere in
    its field without ON/OFF subregions (Hubel & Wiesel 1962; Movshon et al. 1978).
    A share ``linear_weight`` of it is phase-sensitive instead (the first subunit,
    half-wave rectified), so simple and complex cells are the ends of a continuum whose
    spike F1/F0 is bimodal with overlap (Mechler & Ringach 2002; Priebe et al. 2004).
``ds_simple``
    A space–time inseparable RF: an even subunit fed by non-lagged LGN cells plus a
    quadrature (odd) subunit fed by lagged cells (Saul & Humphrey 1990; DeAngelis,
    Ohzawa & Freeman 1993), so one direction of motion sums the two and the other
    cancels them.
``end_stopped``
    Hubel & Wiesel's (1965) hypercomplex cell: a complex centre minus complex end zones
    of the same orientation displaced along the bar's axis, so a bar longer than the
    RF is suppressed (the subtractive end-inhibition model of Dobbins, Zucker & Cynader
    1987).

Response nonlinearity (Heeger 1992; Albrecht & Hamilton 1982; Carandini & Heeger 2012)
    ``R = r_max · [S + b]₊^n / (c50^n + N^n)``: an expansive power law of the drive
    ``S`` divided by an untuned normalisation signal ``N``: the same rectified
    push–pull LGN signals, summed linearly under the RF's own envelope (no carrier, so
    every orientation counts alike; linear, so ``N`` grows with a small stimulus's area
    as ``S`` does). For the optimal grating ``N ≈ S``, so the contrast response is a
    saturating Naka–Rushton curve; and because ``N`` is the same for every
    orientation, the tuning curve only scales with contrast — its width does not change
    (Sclar & Freeman 1982).

Spontaneous firing (Carandini & Ferster 2000; Hubel & Wiesel 1959)
    In simple cells ``S`` is the signed sum of the RF (the membrane potential's
    stimulus-driven part) and ``b = c50 · (r_spont / r_max)^{1/n}`` its resting value:
    the same power law of the potential above threshold then gives the maintained
    discharge at rest, and a stimulus that hyperpolarises the cell — light in an OFF
    subregion, the null half-cycle of a grating — silences it: Hubel & Wiesel (1959)
    heard light on an inhibitory region stop a cell's maintained firing, and Carandini
    & Ferster (2000) measured the firing rate as a power law of the potential above
    threshold, the potential moving both ways about rest. So a light and a dark spot at
    one place move the rate in opposite directions, and the ON and OFF spot maps are
    anticorrelated inside the field, not only disjoint. In the energy-model cells (complex,
    end-stopped) the drive is a sum of squares with no hyperpolarising direction, so
    their maintained discharge is added: ``R = r_spont + r_max · S^n / (c50^n + N^n)``.

Extra-classical surround (Cavanaugh, Bair & Movshon 2002a; Sceniak et al. 1999)
    The normalisation signal also pools a wide region around the RF,
    ``N = N_centre + k_s · N_surround``, with the surround Gaussian
    :data:`SURROUND_SCALE` times as wide as the centre pool (the "ratio of Gaussians"
    form Cavanaugh et al. fitted). A grating growing past the RF no longer adds drive
    but keeps adding surround signal, so the size-tuning curve rises to a peak — the
    grating summation field — then falls to a suppressed plateau. Each cell's ``k_s``
    (``surround_strength``) is set from a suppression index drawn from their
    distribution (:func:`v1lab.model.population.surround_strength_for_index`).

Population
    The cells themselves — the table, its published distributions and the explicit
    list form — are :mod:`v1lab.model.population`; this module turns them into a layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.model.population import CELL_TYPES, SURROUND_SCALE, Population
from v1lab.model.retina import (
    Retina,
    compute_dog_gain,
    compute_kernel_response,
    compute_resolvable,
    describe_resolution,
    flush_tiny,
)

__all__ = [
    "V1Layer",
    "compute_peak_gain_excess",
    "gabor",
    "make_gabor_weights",
    "make_image_weights",
]

#: Subunits per block when Gabor weights are computed (see make_gabor_weights).
_GABOR_BLOCK = 512


def make_gabor_weights(
    positions_deg: np.ndarray,
    *,
    x_deg: np.ndarray,
    y_deg: np.ndarray,
    orientation_deg: np.ndarray,
    spatial_frequency_cpd: np.ndarray,
    phase_deg: np.ndarray,
    sigma_across_deg: np.ndarray,
    sigma_along_deg: np.ndarray,
) -> np.ndarray:
    """Gabor weights at LGN positions, one column per subunit.

    The carrier runs across the preferred bar orientation (its wavefronts are parallel
    to the bar): with ``u`` the coordinate along the direction ``orientation + 90°``
    and ``v`` along the bar, ``g = exp(−u²/2σ_u² − v²/2σ_v²) cos(2π f u + phase)``.

    Returns
    -------
    ndarray, shape (n_positions, n_subunits)

    Examples
    --------
    >>> g = make_gabor_weights(np.array([[0.0, 0.0], [0.0, 0.5]]), x_deg=np.zeros(1),
    ...     y_deg=np.zeros(1), orientation_deg=np.zeros(1), spatial_frequency_cpd=np.ones(1),
    ...     phase_deg=np.zeros(1), sigma_across_deg=np.ones(1), sigma_along_deg=np.ones(1))
    >>> g[:, 0].round(3).tolist()  # half a period across a horizontal bar flips the sign
    [1.0, -0.882]
    """
    params = [
        np.broadcast_to(np.asarray(p, dtype=float), np.shape(x_deg))
        for p in (
            x_deg, y_deg, orientation_deg, spatial_frequency_cpd, phase_deg,
            sigma_across_deg, sigma_along_deg,
        )
    ]  # fmt: skip
    out = np.empty((positions_deg.shape[0], params[0].size))
    # Column blocks keep the temporaries in cache (10,000 cells: 1.7 s -> ~0.5 s); the
    # arithmetic is elementwise, so the result is the same to the bit.
    for j in range(0, out.shape[1], _GABOR_BLOCK):
        x0, y0, ori, sf, ph, s_u, s_v = (p[None, j : j + _GABOR_BLOCK] for p in params)
        out[:, j : j + _GABOR_BLOCK] = gabor(
            positions_deg[:, 0:1], positions_deg[:, 1:2], x0_deg=x0, y0_deg=y0,
            orientation_deg=ori, spatial_frequency_cpd=sf, phase_deg=ph,
            sigma_across_deg=s_u, sigma_along_deg=s_v,
        )  # fmt: skip
    return out


def gabor(
    x_deg: Any,
    y_deg: Any,
    *,
    x0_deg: Any = 0.0,
    y0_deg: Any = 0.0,
    orientation_deg: Any = 0.0,
    spatial_frequency_cpd: Any = 0.8,
    phase_deg: Any = 0.0,
    sigma_across_deg: Any = 0.5,
    sigma_along_deg: Any = 0.8,
) -> np.ndarray:
    """The 2-D Gabor of v1lab's receptive fields, broadcasting over every argument.

    With ``u`` the coordinate from ``(x0, y0)`` along ``orientation + 90°`` (across the
    preferred bar) and ``v`` along the bar:
    ``exp(−u²/2σ_u² − v²/2σ_v²) cos(2π f u + phase)`` (Jones & Palmer 1987).

    Examples
    --------
    >>> float(gabor(0.0, 0.0)), round(float(gabor(0.0, 0.625)), 3)  # half a period up
    (1.0, -0.458)
    """
    dx = np.asarray(x_deg, dtype=float) - x0_deg
    dy = np.asarray(y_deg, dtype=float) - y0_deg
    theta = np.deg2rad(orientation_deg)
    u = -dx * np.sin(theta) + dy * np.cos(theta)
    v = dx * np.cos(theta) + dy * np.sin(theta)
    envelope = np.exp(-0.5 * (u / sigma_across_deg) ** 2 - 0.5 * (v / sigma_along_deg) ** 2)
    carrier = np.cos(2 * np.pi * spatial_frequency_cpd * u + np.deg2rad(phase_deg))
    return envelope * carrier


#: Frequencies searched for a subunit's best grating, in octaves about its carrier's.
_PEAK_SEARCH_OCTAVES = np.linspace(-4.0, 1.0, 81)  # 1/16-octave steps; 0 is included


def compute_peak_gain_excess(
    spatial_frequency_cpd: Any,
    sigma_across_deg: Any,
    phase_deg: Any,
    *,
    center_sigma_deg: float,
    surround_sigma_deg: float,
    surround_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """How much more strongly a Gabor subunit seen through the LGN answers its best grating.

    A subunit's response to a grating of frequency ``ν`` at its orientation is its
    Gabor's spectrum there times the LGN's DoG gain (Enroth-Cugell & Robson 1966):
    ``|e^{iφ} ĝ(ν − f) + e^{−iφ} ĝ(ν + f)| · DoG(ν)`` with ``ĝ(x) = exp(−2π²σ_u²x²)``.
    Where the DoG falls steeply above ``f`` and the envelope is narrow (``nx`` small: a
    broad spectrum), that product peaks well below the carrier ``f``: the cell's measured
    optimal frequency is lower than its carrier and its response there is larger. The
    drive is normalised at that peak, so no grating drives a cell beyond its optimum
    (measured before this: a macaque complex cell of nx 0.2 at 7.5 c/deg through the
    species' eye fired 500 spikes/s, ten times its r_max, to a thin bar).

    Returns
    -------
    excess : ndarray
        Peak response over the response at ``f`` (≥ 1).
    peak_cpd : ndarray
        The frequency of the peak.

    Examples
    --------
    >>> excess, peak = compute_peak_gain_excess(0.8, 0.45, 0.0, center_sigma_deg=0.15,
    ...     surround_sigma_deg=0.6, surround_weight=0.55)
    >>> bool(1.0 <= excess[0] < 1.1), bool(peak[0] <= 0.8)
    (True, True)
    """
    f = np.atleast_1d(np.asarray(spatial_frequency_cpd, dtype=float))[:, None]
    sigma = np.atleast_1d(np.asarray(sigma_across_deg, dtype=float))[:, None]
    phase = np.deg2rad(np.atleast_1d(np.asarray(phase_deg, dtype=float)))[:, None]
    nu = f * 2.0 ** _PEAK_SEARCH_OCTAVES[None, :]
    k = -2.0 * np.pi**2 * sigma**2
    spectrum = np.abs(
        np.exp(1j * phase) * np.exp(k * (nu - f) ** 2)
        + np.exp(-1j * phase) * np.exp(k * (nu + f) ** 2)
    )
    dog = compute_dog_gain(
        nu, center_sigma_deg=center_sigma_deg, surround_sigma_deg=surround_sigma_deg,
        surround_weight=surround_weight,
    )  # fmt: skip
    response = spectrum * dog
    at_f = response[:, int(np.flatnonzero(_PEAK_SEARCH_OCTAVES == 0.0)[0])]
    best = np.argmax(response, axis=1)
    rows = np.arange(response.shape[0])
    return response[rows, best] / at_f, nu[rows, best]


def make_image_weights(
    positions_deg: np.ndarray,
    images: np.ndarray,
    *,
    x_deg: np.ndarray,
    y_deg: np.ndarray,
    pixel_deg: float,
) -> np.ndarray:
    """Weights at LGN positions read from explicit RF images, one column per subunit.

    The hook for receptive fields that are not Gabors (learned ones, :mod:`v1lab.learn`):
    image ``k`` (row 0 at the top, pixels of ``pixel_deg``) is centred on
    ``(x_deg[k], y_deg[k])`` and sampled at each LGN position by bilinear interpolation,
    0 outside it.

    Returns
    -------
    ndarray, shape (n_positions, n_subunits)

    Examples
    --------
    >>> img = np.zeros((3, 3)); img[0, 1] = 1.0  # one pixel above the centre
    >>> w = make_image_weights(np.array([[0.0, 0.5], [0.0, -0.5]]), img[None],
    ...     x_deg=np.zeros(1), y_deg=np.zeros(1), pixel_deg=0.5)
    >>> w[:, 0].tolist()
    [1.0, 0.0]
    """
    from scipy.ndimage import map_coordinates

    imgs = np.asarray(images, dtype=float)
    n = imgs.shape[-1]
    out = np.empty((positions_deg.shape[0], imgs.shape[0]))
    for k in range(imgs.shape[0]):  # once per subunit, when the layer is built
        col = (positions_deg[:, 0] - x_deg[k]) / pixel_deg + (n - 1) / 2.0
        row = (n - 1) / 2.0 - (positions_deg[:, 1] - y_deg[k]) / pixel_deg
        out[:, k] = map_coordinates(imgs[k], [row, col], order=1, mode="constant", cval=0.0)
    return out


def _pooled_optimal_grating(
    pool: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    pop: Population,
    block: slice,
    frequency_cpd: np.ndarray,
) -> np.ndarray:
    """Pooled ``|cos|`` of each cell's optimal grating, in its classical pool, at peak drive.

    The grating ``cos(2π f u + φ)`` at the cell's preferred orientation and at
    ``frequency_cpd`` (its best grating through the LGN), with ``u`` measured across the
    bar from the RF centre (``dx``, ``dy``: the LGN
    positions relative to the block's RF centres, (n_positions, n_block)). A simple
    cell's drive peaks at ``φ`` = its own phase; a complex (or end-stopped, or
    direction-selective) cell's drive is the same at every phase, so the pooled value is
    averaged over phase.
    """
    theta = np.deg2rad(pop.orientation_deg[None, block])
    cycles = frequency_cpd[None, block] * (-dx * np.sin(theta) + dy * np.cos(theta))
    carrier = 2.0 * np.pi * cycles
    own_phase = np.deg2rad(pop.phase_deg[None, block])
    own = (pool * np.abs(np.cos(carrier + own_phase))).sum(axis=0)
    phases = np.deg2rad(np.arange(0.0, 180.0, 22.5))
    mean_over_phase = np.mean(
        [(pool * np.abs(np.cos(carrier + p))).sum(axis=0) for p in phases], axis=0
    )
    simple = pop.cell_type[block] == "simple"
    return np.where(simple, own, mean_over_phase)


@dataclass
class _Subunits:
    """Per-subunit parameters, accumulated while laying out a population."""

    cell: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    phase: list[float] = field(default_factory=list)
    lagged: list[bool] = field(default_factory=list)
    gain: list[float] = field(default_factory=list)

    def add(
        self,
        cell: int,
        x: float,
        y: float,
        phase: float,
        *,
        lagged: bool = False,
        gain: float = 1.0,
    ) -> int:
        self.cell.append(cell)
        self.x.append(x)
        self.y.append(y)
        self.phase.append(phase)
        self.lagged.append(lagged)
        self.gain.append(gain)
        return len(self.cell) - 1


def _explicit_weights(
    pop: Population,
    rf_images: np.ndarray,
    pixel_deg: float,
    positions_deg: np.ndarray,
    cell: np.ndarray,
    phase: np.ndarray,
) -> np.ndarray:
    """Subunit weights from per-cell images: a subunit at the cell's own phase reads the
    field, the one 90° on (a complex cell's second) reads its quadrature partner."""
    images = np.asarray(rf_images, dtype=float)
    n = len(pop)
    if images.ndim != 4 or images.shape[:2] != (n, 2) or images.shape[2] != images.shape[3]:
        raise ParameterError(
            "rf_images", images.shape, f"expected (n_cells = {n}, 2, n, n): field, quadrature"
        )
    bad = np.flatnonzero(~np.isin(pop.cell_type, ("simple", "complex")))
    if bad.size:
        raise ParameterError(
            f"cells[{bad[0]}].type", str(pop.cell_type[bad[0]]),
            "expected simple or complex with explicit receptive fields",
        )  # fmt: skip
    quadrature = (phase != pop.phase_deg[cell]).astype(int)
    return make_image_weights(
        positions_deg, images[cell, quadrature], x_deg=pop.x_deg[cell], y_deg=pop.y_deg[cell],
        pixel_deg=pixel_deg,
    )  # fmt: skip


class V1Layer:
    """The V1 stage: LGN activity → firing rates of every cell of a population.

    It holds no temporal state (the LGN stage carries it), so block-wise and one-shot
    processing agree exactly.

    Parameters
    ----------
    population : Population
    retina : Retina
    lgn_positions_deg : ndarray, shape (n_positions, 2)
    pool_scale : float
        Width of the Gaussian normalisation pool in units of the RF envelope.
    ds_reference_hz : float
        Temporal frequency at which the lagged half of a direction-selective RF is
        matched in gain to the non-lagged half.
    end_zone_offset : float
        Distance of the end zones from the RF centre, in SDs of the envelope along the bar.
    rf_images : ndarray (n_cells, 2, n, n), optional
        Explicit receptive fields instead of the Gabors (:func:`make_image_weights`): per
        cell, its field and the field's quadrature partner (a complex cell's second
        subunit), centred on the cell's RF; only ``simple`` and ``complex`` cells. The
        population's orientation, frequency and envelope still set the grating that
        calibrates the drive and the normalisation pool, so they should be the fields'
        Gabor fits (:mod:`v1lab.model.learned`). Default: the population's own
        (``population.rf_images``, ``population.rf_pixel_deg``; None for Gabor cells).
    rf_pixel_deg : float
        Pixel size of ``rf_images`` (deg).
    """

    def __init__(
        self,
        population: Population,
        retina: Retina,
        lgn_positions_deg: np.ndarray,
        *,
        pool_scale: float = 1.0,
        ds_reference_hz: float = 3.0,
        end_zone_offset: float = 2.5,
        rf_images: np.ndarray | None = None,
        rf_pixel_deg: float = 0.2,
    ) -> None:
        self.population = population
        pop = population
        if rf_images is None and pop.rf_images is not None:  # learned cells (issue 15)
            rf_images, rf_pixel_deg = pop.rf_images, pop.rf_pixel_deg
        n_pos = lgn_positions_deg.shape[0]
        sigma_across = pop.nx / pop.spatial_frequency_cpd
        sigma_along = pop.ny / pop.spatial_frequency_cpd
        theta = np.deg2rad(pop.orientation_deg)
        along = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        h_fast, h_lag = (
            abs(compute_kernel_response(retina.frame_rate_hz, tau, beta, ds_reference_hz)[0])
            for tau, beta in (
                (retina.tau_s, retina.beta),
                (retina.lagged_tau_s, retina.lagged_beta),
            )
        )

        subs = _Subunits()
        self._groups: dict[str, np.ndarray] = {}
        groups: dict[str, list[list[int]]] = {t: [] for t in CELL_TYPES}
        groups_cells: dict[str, list[int]] = {t: [] for t in CELL_TYPES}
        for i in range(len(pop)):
            kind = str(pop.cell_type[i])
            x, y, ph = float(pop.x_deg[i]), float(pop.y_deg[i]), float(pop.phase_deg[i])
            if kind == "simple":
                cols = [subs.add(i, x, y, ph)]
            elif kind == "ds_simple":
                # Halves scaled so their sum at the preferred direction matches one subunit.
                sign = float(pop.direction_sign[i])
                cols = [
                    subs.add(i, x, y, ph, gain=0.5),
                    subs.add(i, x, y, ph + sign * 90.0, lagged=True, gain=0.5 * h_fast / h_lag),
                ]
            elif kind == "complex":
                cols = [subs.add(i, x, y, ph), subs.add(i, x, y, ph + 90.0)]
            else:
                offset = end_zone_offset * sigma_along[i] * along[i]
                cols = []
                for sx, sy in (
                    (x, y),
                    (x + offset[0], y + offset[1]),
                    (x - offset[0], y - offset[1]),
                ):
                    cols += [subs.add(i, sx, sy, ph), subs.add(i, sx, sy, ph + 90.0)]
            groups[kind].append(cols)
            groups_cells[kind].append(i)
        self._groups = {k: np.asarray(v, dtype=int) for k, v in groups.items() if v}
        self._group_cells = {k: np.asarray(v, dtype=int) for k, v in groups_cells.items() if v}

        cell = np.asarray(subs.cell)
        rf_weights = make_gabor_weights(
            lgn_positions_deg,
            x_deg=np.asarray(subs.x),
            y_deg=np.asarray(subs.y),
            orientation_deg=pop.orientation_deg[cell],
            spatial_frequency_cpd=pop.spatial_frequency_cpd[cell],
            phase_deg=np.asarray(subs.phase),
            sigma_across_deg=sigma_across[cell],
            sigma_along_deg=sigma_along[cell],
        )
        if rf_images is not None:  # explicit fields (the learned ones) replace the Gabors
            rf_weights = _explicit_weights(
                pop, rf_images, rf_pixel_deg, lgn_positions_deg, cell, np.asarray(subs.phase)
            )
        dog = {
            "center_sigma_deg": retina.center_sigma_deg,
            "surround_sigma_deg": retina.surround_sigma_deg,
            "surround_weight": retina.surround_weight,
        }
        dog_gain = compute_dog_gain(pop.spatial_frequency_cpd, **dog)
        if np.any(dog_gain <= 0):
            bad = int(np.argmin(dog_gain))
            raise ParameterError(
                f"cells[{bad}].spatial_frequency_cpd",
                float(pop.spatial_frequency_cpd[bad]),
                "expected a frequency the LGN passes (its DoG gain there is not positive)",
            )
        if rf_images is None:
            fits = compute_resolvable(
                pop.spatial_frequency_cpd, pop.nx, lgn_spacing_deg=retina.lgn_spacing_deg
            )
            if not np.all(fits):
                bad = int(np.flatnonzero(~fits)[0])
                f, spacing = float(pop.spatial_frequency_cpd[bad]), retina.lgn_spacing_deg
                raise ParameterError(
                    f"cells[{bad}]",
                    f"spatial_frequency_cpd = {f:g}, nx = {float(pop.nx[bad]):g}",
                    f"a field the LGN mosaic (spacing {spacing:g} deg) resolves: "
                    f"{describe_resolution(spacing)}; a finer [retina] "
                    "(lgn_spacing_deg, center_sigma_deg) records it",
                )
        # Unit response to the subunit's optimal grating of contrast 1 through the DoG
        # (in column blocks, as make_gabor_weights, for the cache).
        response = np.empty(len(cell), dtype=complex)
        sub_x, sub_y = np.asarray(subs.x), np.asarray(subs.y)
        for j in range(0, len(cell), _GABOR_BLOCK):
            block = slice(j, j + _GABOR_BLOCK)
            dx = lgn_positions_deg[:, 0:1] - sub_x[None, block]
            dy = lgn_positions_deg[:, 1:2] - sub_y[None, block]
            th = theta[cell[block]][None, :]
            u = -dx * np.sin(th) + dy * np.cos(th)
            carrier = np.exp(2j * np.pi * pop.spatial_frequency_cpd[cell[block]][None, :] * u)
            response[block] = (rf_weights[:, block] * carrier).sum(axis=0)
        optimal = np.abs(response) * dog_gain[cell]
        if np.any(optimal <= 1e-9):
            bad = int(cell[np.argmin(optimal)])
            raise ParameterError(
                f"cells[{bad}]",
                f"rf at ({pop.x_deg[bad]:g}, {pop.y_deg[bad]:g}) deg",
                "expected the RF to lie inside the LGN mosaic (retina.lgn_extent_deg)",
            )
        # Contrast in the response function is grating contrast: a subunit's drive is 1
        # for its optimal grating of contrast 1 drifting at the reference temporal
        # frequency, so ``c50`` is the semi-saturation contrast that Albrecht & Hamilton
        # (1982) measured with drifting gratings, not a contrast scaled down by the LGN's
        # temporal gain.
        # ... and no grating drives it beyond 1: where the LGN's DoG makes the cell answer
        # another frequency more strongly than its carrier's, the drive is normalised at
        # that peak (compute_peak_gain_excess), the cell's measured optimum.
        # Explicit (learned) fields are calibrated by their Gabor fits, as above.
        excess, peak_cpd = np.ones(len(pop)), pop.spatial_frequency_cpd.astype(float)
        sub_excess, sub_peak = compute_peak_gain_excess(
            pop.spatial_frequency_cpd[cell], sigma_across[cell], np.asarray(subs.phase), **dog
        )
        np.maximum.at(excess, cell, sub_excess)
        # The cell's peak is its most excessive subunit's (the later subunit wins a tie).
        strongest = sub_excess >= excess[cell]
        peak_cpd[cell[strongest]] = sub_peak[strongest]
        unit = np.asarray(subs.gain) / (optimal * h_fast * excess[cell])
        rf_weights = rf_weights * unit[None, :]

        lagged = np.asarray(subs.lagged)
        # Push–pull: where the Gabor is positive, ON cells excite and OFF cells inhibit,
        # and the reverse where it is negative. For small signals (ON − OFF)/2 is the
        # LGN's linear response, so each subunit is the Gabor-weighted linear RF: +w/2 on
        # the ON and exactly −w/2 on the OFF cells of its channel (non-lagged or lagged).
        # Only w/2 is stored, in two compact blocks (the full matrix over the four channel
        # blocks is :attr:`weights`): a subunit's drive is (ON − OFF) @ w/2 over n_pos
        # rows instead of 4 n_pos (4x fewer flops, 4x less memory). Columns are regrouped
        # non-lagged first; _compact_groups index the new order.
        half = flush_tiny((rf_weights / 2.0).astype(np.float32))
        order = np.concatenate([np.flatnonzero(~lagged), np.flatnonzero(lagged)])
        self._order = order
        self._n_nonlagged = int((~lagged).sum())
        self._w_nonlagged = np.ascontiguousarray(half[:, order[: self._n_nonlagged]])
        self._w_lagged = np.ascontiguousarray(half[:, order[self._n_nonlagged :]])
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        self._compact_groups = {k: position[v] for k, v in self._groups.items()}

        # Untuned normalisation pool: the summed (rectified, ON + OFF) LGN activity in a
        # Gaussian around each RF. Pooled linearly, it grows in proportion to a small
        # stimulus's area, as the drive does, so a spot inside one subregion drives the
        # cell as strongly as its contrast warrants; pooled as an RMS it grew only as the
        # square root of the area and silenced small stimuli (measured: a 0.6-deg spot at
        # the centre of an ON subregion gave N = 2 D).
        # The classical pool has the RF's own envelope (untuned: no carrier), so it
        # fills exactly as the drive does when a grating grows to the RF's size, and a
        # cell with no surround keeps its response as the grating grows further.
        s_u, s_v = pool_scale * sigma_across, pool_scale * sigma_along
        sigma_surround = SURROUND_SCALE * np.maximum(s_u, s_v)
        pool = np.empty((n_pos, len(pop)))
        pooled_optimal = np.empty(len(pop))
        for j in range(0, len(pop), _GABOR_BLOCK):
            block = slice(j, j + _GABOR_BLOCK)
            dx = lgn_positions_deg[:, 0:1] - pop.x_deg[None, block]
            dy = lgn_positions_deg[:, 1:2] - pop.y_deg[None, block]
            # The envelope is the cell's Gabor without its carrier (frequency 0).
            g = gabor(
                lgn_positions_deg[:, 0:1], lgn_positions_deg[:, 1:2],
                x0_deg=pop.x_deg[None, block], y0_deg=pop.y_deg[None, block],
                orientation_deg=pop.orientation_deg[None, block], spatial_frequency_cpd=0.0,
                phase_deg=0.0, sigma_across_deg=s_u[None, block], sigma_along_deg=s_v[None, block],
            )  # fmt: skip
            pool[:, block] = g / g.sum(axis=0, keepdims=True)
            pooled_optimal[block] = _pooled_optimal_grating(
                pool[:, block], dx, dy, pop, block, peak_cpd
            )
            # The extra-classical surround: a Gaussian SURROUND_SCALE times wider,
            # weighted by each cell's surround_strength, in the same matrix (one
            # product serves both).
            g = np.exp(-0.5 * (dx**2 + dy**2) / sigma_surround[None, block] ** 2)
            k_s = pop.surround_strength[None, block]
            pool[:, block] += k_s * g / g.sum(axis=0, keepdims=True)
        # Scaled so that N equals the drive D for the cell's optimal grating when it
        # covers only the classical RF, at the moment the drive peaks. Over a pool many
        # periods wide a sinusoid of amplitude a has mean |a sin| = 2a/pi, but an RF
        # envelope is only about one period wide (nx ~ 0.1-1) and weights its own
        # centre, so the pooled value is computed exactly (the 2/pi shortcut was off by
        # up to 4 % for the median cat cell, more for round one-lobed macaque fields).
        scale = 1.0 / (compute_dog_gain(peak_cpd, **dog) * h_fast * pooled_optimal)
        self.pool = flush_tiny(pool * scale[None, :]).astype(np.float32)

        self._r_max = pop.r_max_hz.astype(np.float32)
        self._n = pop.exponent.astype(np.float32)
        self._c50n = (pop.c50**pop.exponent).astype(np.float32)
        # Simple cells: the maintained discharge is the resting drive b through the
        # response function (R = r_spont at rest, where N = 0); energy cells: added.
        signed = np.isin(pop.cell_type, ("simple", "ds_simple"))
        rest = pop.c50 * (pop.spontaneous_hz / pop.r_max_hz) ** (1.0 / pop.exponent)
        self._rest = np.where(signed, rest, 0.0).astype(np.float32)
        self._spont = np.where(signed, 0.0, pop.spontaneous_hz).astype(np.float32)
        self._end_k = pop.end_inhibition.astype(np.float32)
        self._linear = pop.linear_weight.astype(np.float32)

    @property
    def n_subunits(self) -> int:
        return self._order.size

    @property
    def weights(self) -> np.ndarray:
        """The V1 weights over all LGN channels, (4 n_pos, n_subunits) float32.

        Rows are RetinaFilter's channel blocks (ON, OFF non-lagged; ON, OFF lagged),
        columns the subunits in population order. Built on request from the compact
        blocks the simulation uses.
        """
        n_pos, n_nl = self._w_nonlagged.shape[0], self._n_nonlagged
        out = np.zeros((4 * n_pos, self.n_subunits), dtype=np.float32)
        nonlagged, lagged = self._order[:n_nl], self._order[n_nl:]
        out[:n_pos, nonlagged] = self._w_nonlagged
        out[n_pos : 2 * n_pos, nonlagged] = -self._w_nonlagged
        out[2 * n_pos : 3 * n_pos, lagged] = self._w_lagged
        out[3 * n_pos :, lagged] = -self._w_lagged
        return out

    def _subunit_responses(self, lgn: np.ndarray) -> np.ndarray:
        """``lgn @ self.weights`` with columns in the order of ``_compact_groups``.

        Equal to the full product in exact arithmetic (see ``__init__``); the float32
        sums differ only by rounding.
        """
        n_pos = self._w_nonlagged.shape[0]
        lgn = np.asarray(lgn)
        parts = []
        if self._w_nonlagged.shape[1]:
            parts.append((lgn[:, :n_pos] - lgn[:, n_pos : 2 * n_pos]) @ self._w_nonlagged)
        if self._w_lagged.shape[1]:
            parts.append((lgn[:, 2 * n_pos : 3 * n_pos] - lgn[:, 3 * n_pos :]) @ self._w_lagged)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def compute_drive(self, lgn: np.ndarray) -> np.ndarray:
        """Rectified drive ``D`` (n_frames, n_cells) from the LGN channels."""
        return np.maximum(self._signed_drive(lgn), 0.0)

    def _signed_drive(self, lgn: np.ndarray) -> np.ndarray:
        """Drive ``S``: signed for simple cells, rectified for the energy cells."""
        s = self._subunit_responses(lgn)
        drive = np.empty((s.shape[0], len(self.population)), dtype=np.float32)
        for kind, cols in self._compact_groups.items():
            cells = self._group_cells[kind]
            if kind in ("simple", "ds_simple"):
                d = s[:, cols].sum(axis=2)
            elif kind == "complex":
                # Energy plus a phase-sensitive share m of the first subunit, half-wave
                # rectified: m = 0 is the energy model, m = 1 a simple cell; the peak
                # for the optimal grating is the same for every m.
                m = self._linear[cells]
                own = s[:, cols[:, 0]]
                d = np.sqrt(
                    (1.0 - m) * (own**2 + s[:, cols[:, 1]] ** 2) + m * np.maximum(own, 0.0) ** 2
                )
            else:
                energy = np.sqrt(s[:, cols[:, 0::2]] ** 2 + s[:, cols[:, 1::2]] ** 2)
                d = np.maximum(
                    energy[:, :, 0] - self._end_k[cells] * (energy[:, :, 1] + energy[:, :, 2]), 0.0
                )
            drive[:, cells] = d
        return drive

    def compute_normalisation(self, lgn: np.ndarray) -> np.ndarray:
        """Normalisation signal ``N`` (n_frames, n_cells): mean rectified contrast, drive units.

        Read from the non-lagged push–pull signals (ON − OFF)/2, which pass through the
        same rectification as the drive, so ``D/N`` for the optimal stimulus does not
        fall at high contrast.
        """
        n_pos = self.pool.shape[0]
        push_pull = 0.5 * (lgn[:, :n_pos] - lgn[:, n_pos : 2 * n_pos])
        return np.abs(push_pull) @ self.pool

    def process(self, lgn: np.ndarray) -> np.ndarray:
        """Firing rates (spikes/s), shape (n_frames, n_cells), float32, from LGN channels."""
        drive = self._signed_drive(lgn)
        norm = self.compute_normalisation(lgn)
        num = np.power(np.maximum(drive + self._rest, 0.0), self._n)
        den = self._c50n + np.power(norm, self._n)
        return self._spont + self._r_max * num / den
