"""Retina / LGN: ON- and OFF-centre cells with centre–surround receptive fields.

The stage turns contrast frames into the activity of a mosaic of LGN relay cells, the
input Hubel & Wiesel (1962) proposed V1 simple cells are built from.

Model, and the phenomenon each part reproduces
----------------------------------------------
* **Spatial RF: difference of Gaussians** (Rodieck 1965; Enroth-Cugell & Robson 1966). A
  narrow excitatory centre minus a broad surround several times wider whose integrated
  strength is 0.5–0.9 of the centre's (Croner & Kaplan 1995). So a centre-sized spot
  drives a cell far more than diffuse light, which the surround nearly cancels.
* **ON and OFF cells are mirror images** (Kuffler 1953; Hubel & Wiesel 1961): both
  share one linear filter, ``y``; ON cells signal ``+y``, OFF cells ``-y``, each
  half-wave rectified around a maintained discharge (a baseline), so each also signals
  a little of the opposite sign before it is silenced.
* **Biphasic temporal filter** (Adelson & Bergen 1985's form; Dayan & Abbott 2001,
  eq. 2.29): ``D(t) = e^{-t/τ}/τ [ (t/τ)^5/5! − β (t/τ)^7/7! ]``: a fast positive lobe
  then a weaker negative one, so responses are transient with a sustained part
  (``1 − β`` of the peak area), as for cat X cells.
* **Lagged and non-lagged cells** (Mastronarde 1987; Saul & Humphrey 1990): lagged
  cells respond later and more slowly. V1 direction-selective cells combine the two
  with spatially offset subregions, giving the space–time inseparable receptive fields
  that DeAngelis, Ohzawa & Freeman (1993) measured.

Streaming
---------
The temporal filter is a sum of sampled gamma functions, so it is realised exactly as
an IIR filter with one repeated pole (``scipy.signal.lfilter`` with carried state).
:class:`RetinaFilter` keeps that state between calls: running a stimulus in one call
or in many consecutive blocks gives the same output (the live mode relies on it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.signal import lfilter
from scipy.special import gammainc

from v1lab._validate import ParameterError, check_number
from v1lab.model.stimulus import RetinaGrid

__all__ = [
    "RESOLVABLE_NYQUIST_FRACTION",
    "SPECIES_RETINA",
    "Retina",
    "RetinaFilter",
    "compute_dog_gain",
    "compute_kernel_response",
    "compute_resolvable",
    "count_lgn_positions",
    "describe_resolution",
    "flush_tiny",
    "make_dog_weights",
    "make_lgn_positions",
    "make_temporal_iir",
    "make_temporal_kernel",
]


@dataclass(frozen=True)
class Retina:
    """Parameters of the retina grid and the LGN mosaic.

    Parameters
    ----------
    extent_deg : float
        Width (= height) of the simulated patch of visual field, degrees.
    pixels_per_deg : float
        Sampling density of the frames.
    frame_rate_hz : float
        Frame (and model time step) rate.
    lgn_extent_deg : float
        Width of the square region covered by the LGN mosaic (centred); only this region
        can drive V1 cells. Must leave room for the surrounds inside ``extent_deg``.
    lgn_spacing_deg : float
        Spacing of the square LGN lattice; ON and OFF, lagged and non-lagged cells share
        the lattice positions.
    center_sigma_deg, surround_sigma_deg : float
        Gaussian widths of the RF centre and surround; the surround must be wider.
    surround_weight : float
        Integrated surround strength relative to the centre. Croner & Kaplan (1995)
        measured 0.5–0.9 for primate P and M cells, 0.55 on average, which is the default:
        diffuse light then drives an LGN cell about 0.45 as well as its best spot.
    baseline : float
        Maintained discharge, in units of the linear drive: the rectification point.
    tau_s, beta : float
        Time constant and negative-lobe weight of the non-lagged temporal kernel.
    lagged_tau_s, lagged_beta : float
        The same for lagged cells.
    """

    extent_deg: float = 10.0
    pixels_per_deg: float = 8.0
    frame_rate_hz: float = 200.0
    lgn_extent_deg: float = 6.0
    lgn_spacing_deg: float = 0.2
    center_sigma_deg: float = 0.15
    surround_sigma_deg: float = 0.6
    surround_weight: float = 0.55
    baseline: float = 0.25
    tau_s: float = 0.008
    beta: float = 0.8
    lagged_tau_s: float = 0.016
    lagged_beta: float = 0.3

    def __post_init__(self) -> None:
        check_number("extent_deg", self.extent_deg, lo=0, lo_open=True, unit="deg")
        check_number("pixels_per_deg", self.pixels_per_deg, lo=0, lo_open=True)
        check_number("frame_rate_hz", self.frame_rate_hz, lo=10, hi=10_000, unit="Hz")
        check_number("lgn_extent_deg", self.lgn_extent_deg, lo=0, lo_open=True, unit="deg")
        check_number("lgn_spacing_deg", self.lgn_spacing_deg, lo=0, lo_open=True, unit="deg")
        check_number("center_sigma_deg", self.center_sigma_deg, lo=0, lo_open=True, unit="deg")
        check_number("surround_sigma_deg", self.surround_sigma_deg, lo=0, lo_open=True)
        check_number("surround_weight", self.surround_weight, lo=0, hi=1)
        check_number("baseline", self.baseline, lo=0)
        for name in ("tau_s", "lagged_tau_s"):
            check_number(name, getattr(self, name), lo=0, lo_open=True, hi=1, unit="s")
        for name in ("beta", "lagged_beta"):
            check_number(name, getattr(self, name), lo=0, hi=1)
        if self.surround_sigma_deg <= self.center_sigma_deg:
            raise ParameterError(
                "surround_sigma_deg",
                self.surround_sigma_deg,
                f"expected a surround wider than the centre (center_sigma_deg = "
                f"{self.center_sigma_deg:g})",
            )
        if self.lgn_extent_deg > self.extent_deg:
            raise ParameterError(
                "lgn_extent_deg",
                self.lgn_extent_deg,
                f"expected at most extent_deg = {self.extent_deg:g}",
            )
        pixel_deg = self.grid.pixel_deg
        if pixel_deg > 2 * self.center_sigma_deg:
            raise ParameterError(
                "pixels_per_deg",
                self.pixels_per_deg,
                f"expected pixels no wider than twice center_sigma_deg "
                f"(>= {1 / (2 * self.center_sigma_deg):g} pixels per degree)",
            )

    @property
    def grid(self) -> RetinaGrid:
        """The frame grid."""
        return RetinaGrid(extent_deg=self.extent_deg, pixels_per_deg=self.pixels_per_deg)

    @property
    def n_lgn_positions(self) -> int:
        """Number of lattice positions (each holds 4 LGN cells)."""
        return count_lgn_positions(self.lgn_extent_deg, self.lgn_spacing_deg)

    @property
    def kernel_s(self) -> float:
        """Support of the temporal kernels: after it, impulse responses stay below 1e-4 of peak."""
        return _kernel_support_s(max(self.tau_s, self.lagged_tau_s))


def _lattice_half_width(extent_deg: float, spacing_deg: float) -> int:
    """Lattice points on each side of the centre, along one axis."""
    ratio = extent_deg / 2 / spacing_deg
    if math.isfinite(ratio):
        return math.floor(ratio + 1e-9)
    return math.floor(Fraction(extent_deg) / 2 / Fraction(spacing_deg))  # beyond float range


#: Each species' eye, as the retina fields that differ from :class:`Retina`'s defaults
#: (the cat's: area-17 cells near the area centralis prefer 0.3–3 c/deg, Movshon,
#: Thompson & Tolhurst 1978, and a centre SD of 0.15° passes them). Macaque V1 prefers
#: 2–4 c/deg and up to 16 (De Valois, Albrecht & Thorell 1982), which the cat's mosaic
#: (centre SD 0.15°, spacing 0.2°, 8 pixels/deg) all but filters out: its centre passes
#: 6 % of the contrast at 2.5 c/deg. Croner & Kaplan (1995) measured parvocellular
#: centre radii of about 0.03–0.05° within 5° of the fovea, so the macaque's eye is the
#: cat's scaled four times finer (centre SD 0.0375°, radius 0.053°; spacing 0.05°,
#: Nyquist 10 c/deg; 32 pixels/deg), which passes 64 % at 4 c/deg and 17 % at 8, on a
#: 5° screen with a 3° mosaic: four times the cat's pixels and LGN cells. A protocol's
#: own ``[retina]`` values override these; the population card scales the retina per
#: spatial-frequency band instead (:func:`v1lab.card.population.scale_retina_section`).
SPECIES_RETINA: dict[str, dict[str, float]] = {
    "cat": {},
    "macaque": {
        "extent_deg": 5.0,
        "pixels_per_deg": 32.0,
        "lgn_extent_deg": 3.0,
        "lgn_spacing_deg": 0.05,
        "center_sigma_deg": 0.0375,
        "surround_sigma_deg": 0.15,
    },
}


#: Highest carrier frequency a mosaic resolves, as a fraction of its Nyquist frequency.
RESOLVABLE_NYQUIST_FRACTION = 0.8


def compute_resolvable(
    spatial_frequency_cpd: Any, nx: Any, *, lgn_spacing_deg: float
) -> np.ndarray:
    """Whether an LGN mosaic of this spacing can build each Gabor cell's field.

    A V1 field is a weighted sum of LGN cells on a lattice: it can only be as fine as
    the lattice. A field is resolved when its carrier is at most
    :data:`RESOLVABLE_NYQUIST_FRACTION` of the lattice's Nyquist frequency
    ``1 / (2 · spacing)`` and its envelope's SD across the bar, ``nx / f``, is at least
    one spacing. Measured through the macaque's eye (spacing 0.05°, Nyquist 10 c/deg;
    listed cells, r_max 50 spikes/s, thin slits): fields within both limits fired at
    most 1.25 r_max; a complex field of nx 0.2 at 7.5 c/deg (SD 0.027°) fired 2–5 r_max,
    one of nx 0.5 at 9.5 c/deg 6–14 r_max — sampled too coarsely, their weights answer
    stimuli other than their optimal grating far more strongly than it.

    Examples
    --------
    >>> compute_resolvable([0.8, 4.0, 9.0], [0.4, 0.2, 0.5], lgn_spacing_deg=0.05).tolist()
    [True, True, False]
    """
    f = np.asarray(spatial_frequency_cpd, dtype=float)
    sigma_deg = np.asarray(nx, dtype=float) / f
    fine_enough = sigma_deg >= lgn_spacing_deg * (1 - 1e-9)
    return (f <= _max_resolvable_cpd(lgn_spacing_deg)) & fine_enough


def _max_resolvable_cpd(lgn_spacing_deg: float) -> float:
    return RESOLVABLE_NYQUIST_FRACTION * 0.5 / lgn_spacing_deg


def describe_resolution(lgn_spacing_deg: float) -> str:
    """The limits of :func:`compute_resolvable` in words, for error messages.

    Examples
    --------
    >>> describe_resolution(0.05)
    'at most 8 c/deg and an envelope SD nx / f of at least 0.05 deg'
    """
    return (
        f"at most {_max_resolvable_cpd(lgn_spacing_deg):.3g} c/deg and an envelope SD "
        f"nx / f of at least {lgn_spacing_deg:g} deg"
    )


def count_lgn_positions(extent_deg: float, spacing_deg: float) -> int:
    """Number of positions :func:`make_lgn_positions` returns, by arithmetic alone.

    Nothing is allocated, so a spacing too fine for memory can be counted (and refused).

    Examples
    --------
    >>> count_lgn_positions(1.0, 0.5), count_lgn_positions(6.0, 1e-4)
    (9, 3600120001)
    """
    return (2 * _lattice_half_width(extent_deg, spacing_deg) + 1) ** 2


def make_lgn_positions(extent_deg: float, spacing_deg: float) -> np.ndarray:
    """Return the (n, 2) x, y positions (deg) of a square lattice centred on 0, 0.

    Examples
    --------
    >>> make_lgn_positions(1.0, 0.5).shape
    (9, 2)
    """
    half = _lattice_half_width(extent_deg, spacing_deg)
    axis = np.arange(-half, half + 1) * spacing_deg
    xx, yy = np.meshgrid(axis, axis)
    return np.column_stack([xx.ravel(), yy.ravel()])


def _gauss_cdf_diff(lo: np.ndarray, hi: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(hi / sigma) - ndtr(lo / sigma)


def _pixel_gaussian(grid: RetinaGrid, centers: np.ndarray, sigma: float) -> np.ndarray:
    """Mass of a unit Gaussian falling in each pixel: (n_pixels², n_centers).

    Integrating over the pixel rather than sampling at its centre keeps the weights
    exact when the Gaussian is barely wider than a pixel.
    """
    n = grid.n_pixels
    p = grid.pixel_deg
    edges = (np.arange(n + 1) - n / 2) * p
    # x grows with the column; y shrinks with the row (row 0 is the top).
    gx = _gauss_cdf_diff(
        edges[:-1, None] - centers[None, :, 0], edges[1:, None] - centers[None, :, 0], sigma
    )
    y_top = edges[::-1]
    gy = _gauss_cdf_diff(
        y_top[1:, None] - centers[None, :, 1], y_top[:-1, None] - centers[None, :, 1], sigma
    )
    return (gy[:, None, :] * gx[None, :, :]).reshape(n * n, -1)


def make_dog_weights(
    grid: RetinaGrid,
    centers_deg: np.ndarray,
    *,
    center_sigma_deg: float,
    surround_sigma_deg: float,
    surround_weight: float,
) -> np.ndarray:
    """Difference-of-Gaussians weights of LGN cells over the pixels of ``grid``.

    The centre Gaussian integrates to 1 and the surround to ``surround_weight``, so a
    uniform field of contrast ``c`` gives ``(1 - surround_weight) * c`` (the surround's
    near-cancellation of diffuse light; Croner & Kaplan 1995).

    Parameters
    ----------
    grid : RetinaGrid
    centers_deg : ndarray, shape (n, 2)
    center_sigma_deg, surround_sigma_deg, surround_weight : float

    Returns
    -------
    ndarray, shape (n_pixels**2, n), float32

    Examples
    --------
    >>> from v1lab.model.stimulus import RetinaGrid
    >>> w = make_dog_weights(RetinaGrid(8, 8), np.zeros((1, 2)), center_sigma_deg=0.15,
    ...                      surround_sigma_deg=0.6, surround_weight=0.85)
    >>> round(float(w.sum()), 3)
    0.15
    """
    centre = _pixel_gaussian(grid, centers_deg, center_sigma_deg)
    surround = _pixel_gaussian(grid, centers_deg, surround_sigma_deg)
    return flush_tiny(centre - surround_weight * surround).astype(np.float32)


def flush_tiny(values: np.ndarray, rel: float = 1e-7) -> np.ndarray:
    """Zero the entries below ``rel`` times the largest magnitude.

    Gaussian tails otherwise become float32 subnormals, which make matrix products
    an order of magnitude slower on x86 CPUs, for no visible effect on the result.
    """
    values = np.asarray(values)
    limit = rel * float(np.max(np.abs(values), initial=0.0))
    return np.where(np.abs(values) < limit, 0, values).astype(values.dtype, copy=False)


def compute_dog_gain(
    spatial_frequency_cpd: np.ndarray | float,
    *,
    center_sigma_deg: float,
    surround_sigma_deg: float,
    surround_weight: float,
) -> np.ndarray:
    """Amplitude of the DoG response to a sinusoidal grating of unit contrast.

    The Fourier transform of the DoG: band-pass, 1 − surround_weight at 0 cpd
    (Enroth-Cugell & Robson 1966).

    Examples
    --------
    >>> float(compute_dog_gain(0.0, center_sigma_deg=0.1, surround_sigma_deg=0.5,
    ...                        surround_weight=0.8))  # doctest: +ELLIPSIS
    0.19999...
    """
    f2 = 2 * np.pi**2 * np.asarray(spatial_frequency_cpd, dtype=float) ** 2
    return np.exp(-f2 * center_sigma_deg**2) - surround_weight * np.exp(-f2 * surround_sigma_deg**2)


_ORDER = 5  # the kernel's gamma order; its negative lobe is order _ORDER + 2


def _kernel_support_s(tau_s: float) -> float:
    # The slowest term, (x^7/7!) e^-x, is below 1e-4 of the kernel's peak (~0.175 / τ)
    # from x = 25 on, whatever β.
    return 25.0 * tau_s


def make_temporal_kernel(
    fs: float, tau_s: float, beta: float, *, n_taps: int | None = None
) -> np.ndarray:
    """Frame-integrated taps of the biphasic kernel ``D(t)``.

    Tap ``k`` is the integral of ``D`` over ``[k/fs, (k+1)/fs)``, so the taps sum to
    ``1 − β`` (the kernel's DC gain) whatever the frame rate, less the tail cut off after
    :attr:`Retina.kernel_s` (about 1e-5).

    Examples
    --------
    >>> k = make_temporal_kernel(200.0, 0.008, 0.8)
    >>> round(float(k.sum()), 4)
    0.2
    """
    if n_taps is None:
        n_taps = int(np.ceil(_kernel_support_s(tau_s) * fs)) + 1
    edges = np.arange(n_taps + 1) / (fs * tau_s)
    # ∫ x^n e^-x / n! dx is the regularised lower incomplete gamma P(n + 1, x).
    pos = np.diff(gammainc(_ORDER + 1, edges))
    neg = np.diff(gammainc(_ORDER + 3, edges))
    return pos - beta * neg


def _peak_gain(fs: float, tau_s: float, beta: float) -> float:
    from scipy.signal import freqz

    b, a = _raw_iir(fs, tau_s, beta)
    _, h = freqz(b, a, worN=4096, fs=fs)
    return float(np.abs(h).max())


def _raw_iir(fs: float, tau_s: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    order = _ORDER + 3
    p = np.exp(-1.0 / (fs * tau_s))
    a = np.poly(np.full(order, p))
    h = make_temporal_kernel(fs, tau_s, beta, n_taps=order)
    return np.convolve(h, a)[:order], a


def make_temporal_iir(fs: float, tau_s: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact IIR realisation ``(b, a)`` of :func:`make_temporal_kernel`, at unit peak gain.

    The taps are ``P(k) p^k`` with ``P`` a polynomial of degree ``_ORDER + 2`` and
    ``p = e^{-1/(fs τ)}``, so they are the impulse response of a filter whose
    denominator is ``(1 − p z^-1)^(_ORDER + 3)``: a few multiply-adds per sample instead
    of a long convolution. The filter is scaled so its gain at its best temporal
    frequency is 1: a grating of contrast ``c`` at that frequency then gives an LGN
    modulation of ``c`` times the DoG's spatial gain, which makes ``c50`` a contrast.

    Examples
    --------
    >>> from scipy.signal import lfilter
    >>> b, a = make_temporal_iir(200.0, 0.008, 0.8)
    >>> impulse = np.zeros(60); impulse[0] = 1
    >>> taps = make_temporal_kernel(200.0, 0.008, 0.8, n_taps=60)
    >>> bool(np.allclose(lfilter(b, a, impulse), taps / _peak_gain(200.0, 0.008, 0.8)))
    True
    """
    b, a = _raw_iir(fs, tau_s, beta)
    return b / _peak_gain(fs, tau_s, beta), a


def compute_kernel_response(
    fs: float, tau_s: float, beta: float, freq_hz: np.ndarray | float
) -> np.ndarray:
    """Complex frequency response of the (unit peak gain) kernel at ``freq_hz``."""
    from scipy.signal import freqz

    b, a = make_temporal_iir(fs, tau_s, beta)
    _, h = freqz(b, a, worN=np.atleast_1d(np.asarray(freq_hz, dtype=float)), fs=fs)
    return h


@dataclass
class RetinaFilter:
    """The LGN stage with its temporal-filter state, for one-shot or block-wise use.

    ``process(frames)`` returns the LGN output for each frame as a float32 array of
    shape (n_frames, 4 * n_positions): ON non-lagged, OFF non-lagged, ON lagged, OFF
    lagged, each the rectified deviation from the maintained discharge. A grey screen
    gives exactly zero.

    Examples
    --------
    >>> rf = RetinaFilter(Retina(extent_deg=4, lgn_extent_deg=1))
    >>> out = rf.process(np.zeros((5, 32, 32), np.float32))
    >>> out.shape, float(abs(out).max())
    ((5, 100), 0.0)
    """

    retina: Retina
    positions_deg: np.ndarray = field(init=False)
    spatial: np.ndarray = field(init=False, repr=False)
    _iir: list[tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False)
    _zi: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        r = self.retina
        self.positions_deg = make_lgn_positions(r.lgn_extent_deg, r.lgn_spacing_deg)
        self.spatial = make_dog_weights(
            r.grid,
            self.positions_deg,
            center_sigma_deg=r.center_sigma_deg,
            surround_sigma_deg=r.surround_sigma_deg,
            surround_weight=r.surround_weight,
        )
        self._iir = [
            make_temporal_iir(r.frame_rate_hz, r.tau_s, r.beta),
            make_temporal_iir(r.frame_rate_hz, r.lagged_tau_s, r.lagged_beta),
        ]
        self.reset()

    @property
    def n_positions(self) -> int:
        return self.positions_deg.shape[0]

    def reset(self) -> None:
        """Return to rest (a long-viewed grey screen)."""
        n = self.n_positions
        self._zi = [np.zeros((len(a) - 1, n)) for _, a in self._iir]

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Filter a block of frames, carrying state to the next call."""
        n_frames = frames.shape[0]
        pixels = frames.reshape(n_frames, -1)
        if pixels.shape[1] != self.spatial.shape[0]:
            raise ParameterError(
                "frames", frames.shape, f"expected frames of {self.retina.grid.n_pixels}² pixels"
            )
        return self.process_spatial(pixels.astype(np.float32, copy=False) @ self.spatial)

    def process_spatial(self, spatial: np.ndarray) -> np.ndarray:
        """Continue from the spatial (DoG) responses, shape (n_frames, n_positions)."""
        b0 = np.float32(self.retina.baseline)
        blocks = []
        for k, (b, a) in enumerate(self._iir):
            y, self._zi[k] = lfilter(b, a, spatial, axis=0, zi=self._zi[k])
            # Decaying responses would otherwise turn into float32 subnormals (slow).
            y[np.abs(y) < 1e-20] = 0.0
            y = y.astype(np.float32)
            # Rectified around the maintained discharge, minus that discharge, so grey is 0.
            blocks.append(np.maximum(y, -b0))
            blocks.append(np.maximum(-y, -b0))
        return np.concatenate(blocks, axis=1)
