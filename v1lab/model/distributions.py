"""Published distributions the frozen cortex is drawn from, per species, as data.

One job: hold the histograms that papers reported for V1 cell properties and draw
values from them. :func:`v1lab.model.population.make_population` calls the ``draw_``
functions; :mod:`v1lab.card.published` scores the measured population against the same
papers (it imports these tables rather than typing them twice).

Species
-------
``"cat"``
    Area 17 near the area centralis, where Hubel & Wiesel recorded (the default).
``"macaque"``
    V1 at the eccentricities of the benchmarks Marques, Schrimpf & DiCarlo (2021) score
    V1 models on (foveal and parafoveal).

What each draw reproduces
-------------------------
* **RF envelope.** Macaque: Ringach's (2002) joint histogram of the Gabor envelope
  widths across (``nx``) and along (``ny``) the bar in carrier periods. His cloud runs
  along a band from small, round, one- or two-lobed fields (``nx ≈ ny ≈ 0.2``) to
  larger elongated ones, and many fields have ``ny < nx``. Cat: no binned histogram
  was found; ``nx`` ~ U(0.3, 0.45), ``ny`` ~ U(0.5, 0.8), the elongated cluster of
  Ringach's cloud (Jones & Palmer 1987 fitted cat simple cells with Gabors of the same
  form). The cloud's round, few-lobed part is not drawn for the cat yet: measured on
  protocols of our own, such fields respond to flashed spots too weakly for their ON
  and OFF maps to be told apart, and end-stopped ones to no slit of 1° or longer.
* **Preferred spatial frequency.** Macaque: De Valois, Albrecht & Thorell (1982), simple
  and complex cells separately (foveal and parafoveal pooled), half-octave bins from
  0.35 to 22.4 c/deg (median about 2.8 c/deg). Cat: a log-normal about the recording
  site's median (Movshon, Thompson & Tolhurst 1978: optima 0.3–3 c/deg within 5° of the area
  centralis).
* **Preferred orientation.** Macaque: De Valois, Yund & Hepler (1982), bins centred on
  0/45/90/135° (the oblique effect: more cells near the cardinal orientations). Cat:
  uniform (no binned counts found).

Within a bin a value is drawn uniformly (on a log scale for log-spaced bins).

References
----------
De Valois RL, Albrecht DG, Thorell LG (1982) Spatial frequency selectivity of cells in
macaque visual cortex. Vision Res 22:545-559.
De Valois RL, Yund EW, Hepler N (1982) The orientation and direction selectivity of cells
in macaque visual cortex. Vision Res 22:531-544.
Jones JP, Palmer LA (1987) An evaluation of the two-dimensional Gabor filter model of
simple receptive fields in cat striate cortex. J Neurophysiol 58:1233-1258.
Movshon JA, Thompson ID, Tolhurst DJ (1978) Spatial and temporal contrast sensitivity of
neurones in areas 17 and 18 of the cat's visual cortex. J Physiol 283:101-120.
Ringach DL (2002) Spatial structure and symmetry of simple-cell receptive fields in
macaque primary visual cortex. J Neurophysiol 88:455-463.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import check_choice, check_number

__all__ = [
    "CAT_SF_LOG10_SD",
    "DEVALOIS_1982_ORIENTATION_BINS_DEG",
    "DEVALOIS_1982_ORIENTATION_COUNTS",
    "DEVALOIS_1982_SF_BINS_CPD",
    "DEVALOIS_1982_SF_COMPLEX_FOVEAL",
    "DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL",
    "DEVALOIS_1982_SF_SIMPLE_FOVEAL",
    "DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL",
    "RINGACH_2002_NX_NY",
    "SPECIES",
    "draw_from_histogram",
    "draw_orientation",
    "draw_rf_envelope",
    "draw_spatial_frequency",
    "species_median_sf_cpd",
]

#: Species a cortex can be drawn for.
SPECIES = ("cat", "macaque")

#: De Valois, Albrecht & Thorell (1982): peak spatial frequency (c/deg), half-octave bins.
DEVALOIS_1982_SF_BINS_CPD = (
    0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6, 8.0, 11.2, 16.0, 22.4,
)  # fmt: skip
DEVALOIS_1982_SF_SIMPLE_FOVEAL = (0, 4, 4, 8, 25, 33, 26, 28, 12, 5, 2, 1)
DEVALOIS_1982_SF_COMPLEX_FOVEAL = (0, 0, 0, 9, 9, 7, 10, 23, 12, 8, 3, 3)
DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL = (2, 4, 10, 12, 18, 7, 18, 3, 4, 0, 0, 0)
DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL = (1, 2, 1, 2, 5, 15, 13, 9, 3, 2, 0, 0)

#: De Valois, Yund & Hepler (1982): preferred orientation, bins centred on 0/45/90/135°
#: (Marques et al. 2021's packaging, n = 385).
DEVALOIS_1982_ORIENTATION_BINS_DEG = (-22.5, 22.5, 67.5, 112.5, 157.5)
DEVALOIS_1982_ORIENTATION_COUNTS = (110, 83, 100, 92)

#: Ringach (2002): joint histogram of ``nx`` (rows) and ``ny`` (columns), in carrier
#: periods, on log10 bins from 10^-1 to 10^0.2 (5 bins each), 79 simple cells, as
#: VOneNet (Dapello et al. 2020, vonenet/params.py) types it in.
RINGACH_2002_NX_NY: dict[str, Any] = {
    "bins": tuple(float(v) for v in np.logspace(-1, 0.2, 6)),
    "counts": (
        (2, 0, 1, 0, 0),
        (8, 9, 4, 1, 0),
        (1, 2, 19, 17, 3),
        (0, 0, 1, 7, 4),
        (0, 0, 0, 0, 0),
    ),
    "source": "Ringach 2002, J Neurophysiol 88:455-463, via VOneNet vonenet/params.py",
}

#: Spread of the cat's preferred spatial frequencies about the site's median: SD in
#: log10 units, truncated at ±2 SD (a factor of 1.6 either way; Movshon et al. 1978).
CAT_SF_LOG10_SD = 0.1
#: The cat's median preferred spatial frequency near the area centralis (c/deg).
_CAT_MEDIAN_SF_CPD = 0.8


def draw_from_histogram(
    edges: Any, counts: Any, n: int, rng: np.random.Generator, *, log: bool = False
) -> np.ndarray:
    """Values drawn from a histogram: a bin in proportion to its count, then uniformly within.

    Parameters
    ----------
    edges : sequence of float
        Bin edges (one more than ``counts``).
    counts : sequence of int
    n : int
    rng : numpy.random.Generator
    log : bool
        Uniform on a log scale within the bin (for log-spaced bins).

    Examples
    --------
    >>> v = draw_from_histogram([0, 1, 2], [0, 5], 100, np.random.default_rng(0))
    >>> bool(v.min() >= 1 and v.max() <= 2)
    True
    """
    e = np.asarray(edges, dtype=float)
    p = np.asarray(counts, dtype=float)
    b = rng.choice(p.size, size=n, p=p / p.sum())
    return _within_bins(e, b, rng.random(n), log=log)


def _within_bins(edges: np.ndarray, b: np.ndarray, u: np.ndarray, *, log: bool) -> np.ndarray:
    """The value at fraction ``u`` of bin ``b`` (on a log scale for ``log``)."""
    lo, hi = edges[b], edges[b + 1]
    return lo * (hi / lo) ** u if log else lo + (hi - lo) * u


def draw_rf_envelope(
    species: str, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``nx``, ``ny`` of each cell: Ringach's (2002) joint histogram (macaque), his
    elongated cluster (cat; see the module notes).

    Within a bin of the histogram, log-uniform.

    Examples
    --------
    >>> nx, ny = draw_rf_envelope("macaque", 2000, np.random.default_rng(0))
    >>> bool(0.1 <= nx.min() and ny.max() <= 10 ** 0.2), bool(np.mean(ny < nx) > 0.1)
    (True, True)
    """
    check_choice("species", species, SPECIES)
    if species == "cat":
        return rng.uniform(0.3, 0.45, n), rng.uniform(0.5, 0.8, n)
    edges = np.asarray(RINGACH_2002_NX_NY["bins"])
    counts = np.asarray(RINGACH_2002_NX_NY["counts"], dtype=float)
    flat = rng.choice(counts.size, size=n, p=(counts / counts.sum()).ravel())
    row, col = np.divmod(flat, counts.shape[1])
    u = rng.random((2, n))
    return _within_bins(edges, row, u[0], log=True), _within_bins(edges, col, u[1], log=True)


def _devalois_counts(simple_like: bool) -> np.ndarray:
    if simple_like:
        rows = (DEVALOIS_1982_SF_SIMPLE_FOVEAL, DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL)
    else:
        rows = (DEVALOIS_1982_SF_COMPLEX_FOVEAL, DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL)
    return np.sum(rows, axis=0)


def species_median_sf_cpd(species: str) -> float:
    """The median preferred spatial frequency of a species' drawn cortex (c/deg).

    Examples
    --------
    >>> species_median_sf_cpd("cat")
    0.8
    >>> round(species_median_sf_cpd("macaque"), 2)
    2.85
    """
    check_choice("species", species, SPECIES)
    if species == "cat":
        return _CAT_MEDIAN_SF_CPD
    # The pooled histogram's median, interpolated on the log axis within its bin.
    counts = _devalois_counts(True) + _devalois_counts(False)
    edges = np.log(DEVALOIS_1982_SF_BINS_CPD)
    cum = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
    return float(np.exp(np.interp(0.5, cum, edges)))


def draw_spatial_frequency(
    species: str,
    simple_like: np.ndarray,
    rng: np.random.Generator,
    *,
    median_cpd: float | None = None,
) -> np.ndarray:
    """Preferred spatial frequency of each cell (c/deg).

    Cat: log-normal about ``median_cpd`` (default 0.8), SD :data:`CAT_SF_LOG10_SD` log10
    units, truncated at ±2 SD. Macaque: De Valois, Albrecht & Thorell's (1982) histogram
    of simple cells for simple-like cells and of complex cells for the others; with
    ``median_cpd`` the whole distribution is scaled so that its median is there (optima
    fall with eccentricity while the spread about them stays; the recording site sets
    the median).

    Examples
    --------
    >>> f = draw_spatial_frequency("macaque", np.ones(500, bool), np.random.default_rng(0))
    >>> bool(0.35 <= f.min() and f.max() <= 22.4)
    True
    """
    check_choice("species", species, SPECIES)
    simple_like = np.asarray(simple_like, dtype=bool)
    n = simple_like.size
    if species == "cat":
        median = _CAT_MEDIAN_SF_CPD if median_cpd is None else median_cpd
        median = check_number("spatial_frequency_cpd", median, lo=0.01, hi=32)
        limit = 2 * CAT_SF_LOG10_SD
        spread = np.clip(rng.normal(0.0, CAT_SF_LOG10_SD, n), -limit, limit)
        return median * 10**spread
    out = np.empty(n)
    for flag in (True, False):
        idx = np.flatnonzero(simple_like == flag)
        out[idx] = draw_from_histogram(
            DEVALOIS_1982_SF_BINS_CPD, _devalois_counts(flag), idx.size, rng, log=True
        )
    if median_cpd is not None:
        median_cpd = check_number("spatial_frequency_cpd", median_cpd, lo=0.01, hi=32)
        out *= median_cpd / species_median_sf_cpd("macaque")
    return out


def draw_orientation(species: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Preferred orientation in [0°, 180°): De Valois et al.'s histogram (macaque), uniform (cat).

    Examples
    --------
    >>> o = draw_orientation("macaque", 1000, np.random.default_rng(0))
    >>> bool(o.min() >= 0 and o.max() < 180)
    True
    """
    check_choice("species", species, SPECIES)
    if species == "cat":
        return rng.uniform(0.0, 180.0, n)
    drawn = draw_from_histogram(
        DEVALOIS_1982_ORIENTATION_BINS_DEG, DEVALOIS_1982_ORIENTATION_COUNTS, n, rng
    )
    return np.mod(drawn, 180.0)
