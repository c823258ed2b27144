"""Published distributions of V1 single-cell properties, as data, with their sources.

Each :class:`PublishedDistribution` is one property's histogram as a paper reported it:
bin edges, counts, the number of cells the comparison draws (``n_total``, which may
include cells that have no value for this property, e.g. cells that were not
suppressed have no surround diameter), the paper, and where the numbers were read.
The macaque entries are the ones Marques, Schrimpf & DiCarlo (2021) score V1 models on,
with the bins and counts as their Brain-Score code packages them
(``brainscore_vision/data/marques2020/data_packaging/*.py`` in github.com/brain-score/vision),
and AlexNet's published score beside each (as the card's issue quotes them from
Marques et al. 2021).

What could not be found
-----------------------
* Ringach, Shapley & Hawken (2002) — circular variance, orientation bandwidth and the
  modulation ratio F1/F0. Marques et al. score these against Ringach's per-cell database
  (``Ringach2002.mat``, not published as numbers; their packaging only gives the bins,
  typed in below), and the paper shows the histograms only as figures. The card
  measures and plots these properties on Marques's bins but cannot score them until
  the counts are read off the paper's figures; their ``counts`` are ``None``.
* Cat: no binned counts could be found here for Movshon, Thompson & Tolhurst (1978),
  Henry, Bishop & Dreher (1974), Gizzi et al. (1990), Skottun et al. (1991) or Hubel &
  Wiesel (1962). The cat card measures the same properties and reports the published
  ranges given in the papers' text (:data:`CAT_RANGES`), without a KS score.

References
----------
Cavanaugh JR, Bair W, Movshon JA (2002) Nature and interaction of signals from the
receptive field center and surround in macaque V1 neurons. J Neurophysiol 88:2530-2546.
Dapello J, Marques T, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020) Simulating a
primary visual cortex at the front of CNNs improves robustness to image perturbations.
NeurIPS 33 (VOneNet; github.com/dicarlolab/vonenet, vonenet/params.py).
De Valois RL, Albrecht DG, Thorell LG (1982) Spatial frequency selectivity of cells in
macaque visual cortex. Vision Res 22:545-559.
De Valois RL, Yund EW, Hepler N (1982) The orientation and direction selectivity of cells
in macaque visual cortex. Vision Res 22:531-544.
Hammond P, Andrews DP (1978) Orientation tuning of cells in areas 17 and 18 of the cat's
visual cortex. Exp Brain Res 31:341-351.
Marques T, Schrimpf M, DiCarlo JJ (2021) Multi-scale hierarchical neural network models
that bridge from single neurons in the primate primary visual cortex to object
recognition behavior. bioRxiv 2021.03.01.433495.
Movshon JA, Thompson ID, Tolhurst DJ (1978) Spatial and temporal contrast sensitivity of
neurones in areas 17 and 18 of the cat's visual cortex. J Physiol 283:101-120.
Ringach DL (2002) Spatial structure and symmetry of simple-cell receptive fields in
macaque primary visual cortex. J Neurophysiol 88:455-463.
Ringach DL, Shapley RM, Hawken MJ (2002) Orientation selectivity in macaque V1:
diversity and laminar dependence. J Neurosci 22:5639-5651.
Schiller PH, Finlay BL, Volman SF (1976) Quantitative studies of single-cell properties
in monkey striate cortex. III. Spatial frequency. J Neurophysiol 39:1334-1351.
Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB (1991)
Classifying simple and complex cells on the basis of response modulation. Vision Res
31:1079-1086.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from v1lab._validate import check_choice
from v1lab.card.published_ranges import PUBLISHED_RANGES
from v1lab.model.distributions import (
    DEVALOIS_1982_ORIENTATION_BINS_DEG,
    DEVALOIS_1982_ORIENTATION_COUNTS,
    DEVALOIS_1982_SF_BINS_CPD,
    DEVALOIS_1982_SF_COMPLEX_FOVEAL,
    DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL,
    DEVALOIS_1982_SF_SIMPLE_FOVEAL,
    DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL,
    RINGACH_2002_NX_NY,
)

__all__ = [
    "CAT",
    "CAT_RANGES",
    "MACAQUE",
    "RINGACH_2002_NX_NY",
    "PublishedDistribution",
    "published_for",
]

_BRAINSCORE = (
    "bins and counts as packaged by Marques et al. 2021, Brain-Score "
    "brainscore_vision/data/marques2020/data_packaging/"
)


@dataclass(frozen=True)
class PublishedDistribution:
    """One property's published histogram.

    Attributes
    ----------
    name : str
        The property (a key of the card's per-cell table).
    label : str
        Axis label, with units.
    bins : tuple of float
        Bin edges (values outside are clipped into the end bins, as Marques et al. do).
    counts : tuple of int or None
        Cells per bin; None where the counts could not be found (see the module notes).
    n_total : int or None
        Cells the comparison draws: ``sum(counts)`` plus the cells the paper counted
        that have no value for this property.
    scale : {'linear', 'log2'}
        How the bins are spaced (for the figure's x axis).
    source : str
        The paper.
    where : str
        Where the numbers come from (figure, table, or the code that packages them).
    alexnet : float
        AlexNet's KS similarity (Marques et al. 2021); NaN if none.
    """

    name: str
    label: str
    bins: tuple[float, ...]
    counts: tuple[int, ...] | None
    n_total: int | None
    scale: str
    source: str
    where: str
    alexnet: float = float("nan")

    def __post_init__(self) -> None:
        if self.counts is not None:
            if len(self.counts) != len(self.bins) - 1:
                raise ValueError(
                    f"{self.name}: {len(self.counts)} counts for {len(self.bins)} edges"
                )
            if self.n_total is None or self.n_total < sum(self.counts):
                raise ValueError(f"{self.name}: n_total below the counts' sum")
        if list(self.bins) != sorted(self.bins):
            raise ValueError(f"{self.name}: bin edges must increase")

    @property
    def scored(self) -> bool:
        """Whether there are counts to compare with."""
        return self.counts is not None

    @property
    def fractions(self) -> np.ndarray:
        """The histogram normalised to sum 1 (cells with no value left out)."""
        if self.counts is None:
            return np.full(len(self.bins) - 1, np.nan)
        c = np.asarray(self.counts, dtype=float)
        return c / c.sum()


def _log2_edges(lo: float, n: int) -> tuple[float, ...]:
    return tuple(float(lo * 2.0**i) for i in range(n + 1))


def _linspace(lo: float, hi: float, n_edges: int) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linspace(lo, hi, n_edges))


def _sum(*rows: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(v) for v in np.sum(rows, axis=0))


# Schiller, Finlay & Volman (1976, III): spatial-frequency bandwidth (%), 87 cells.
SCHILLER_1976_SF_BANDWIDTH_SIMPLE = (0, 0, 0, 6, 5, 10, 7, 2, 0, 0)
SCHILLER_1976_SF_BANDWIDTH_COMPLEX = (0, 3, 4, 10, 17, 6, 2, 1, 0, 0)

_RINGACH = "Ringach, Shapley & Hawken 2002, J Neurosci 22:5639-5651"
_RINGACH_WHERE = (
    "bins from Marques et al.'s packaging of Ringach's per-cell database "
    "(marques_ringach2002.py); counts not published as numbers (figures only) — not found"
)
_CAVANAUGH = "Cavanaugh, Bair & Movshon 2002, J Neurophysiol 88:2530-2546"


def _cavanaugh_diameter(
    name: str, label: str, counts: tuple[int, ...], alexnet: float
) -> PublishedDistribution:
    """Cavanaugh et al.'s diameters: octave bins from 1/16 to 16 deg, for the 148 of 190
    cells suppressed by more than 10 % (the other 42 count in n without a value)."""
    return PublishedDistribution(
        name, label, _log2_edges(1.0 / 16.0, 8), counts, 190, "log2", _CAVANAUGH,
        _BRAINSCORE + "marques_cavanaugh2002a.py: the 148 of 190 cells suppressed by more "
        "than 10 %; the other 42 count in n without a value",
        alexnet,
    )  # fmt: skip


#: The macaque card: Marques et al.'s (2021) V1 property benchmarks.
MACAQUE: tuple[PublishedDistribution, ...] = (
    PublishedDistribution(
        "preferred_orientation",
        "preferred orientation (deg)",
        DEVALOIS_1982_ORIENTATION_BINS_DEG,
        DEVALOIS_1982_ORIENTATION_COUNTS,
        385,
        "linear",
        "De Valois, Yund & Hepler 1982, Vision Res 22:531-544",
        _BRAINSCORE + "marques_devalois1982a.py (bins centred on 0, 45, 90, 135 deg); "
        "VOneNet's params.py gives 66, 49, 77, 54 for the same paper (another subsample?)",
        0.895,
    ),
    PublishedDistribution(
        "peak_spatial_frequency",
        "peak spatial frequency (c/deg)",
        DEVALOIS_1982_SF_BINS_CPD,
        _sum(
            DEVALOIS_1982_SF_SIMPLE_FOVEAL,
            DEVALOIS_1982_SF_COMPLEX_FOVEAL,
            DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL,
            DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL,
        ),
        363,
        "log2",
        "De Valois, Albrecht & Thorell 1982, Vision Res 22:545-559",
        _BRAINSCORE + "marques_devalois1982b.py: simple and complex, foveal and parafoveal "
        "cells pooled, as Marques et al. score it",
        0.775,
    ),
    PublishedDistribution(
        "circular_variance",
        "circular variance",
        _linspace(0.0, 1.0, 14),
        None,
        None,
        "linear",
        _RINGACH,
        _RINGACH_WHERE,
        0.830,
    ),
    PublishedDistribution(
        "orientation_bandwidth",
        "orientation bandwidth, half-width at 1/√2 (deg)",
        _linspace(0.0, 90.0, 18),
        None,
        None,
        "linear",
        _RINGACH,
        _RINGACH_WHERE,
        0.844,
    ),
    PublishedDistribution(
        "spatial_frequency_selective",
        "spatial-frequency selective (0 = no, 1 = yes)",
        _linspace(0.0, 1.0, 3),
        (14, 73),
        87,
        "linear",
        "Schiller, Finlay & Volman 1976, J Neurophysiol 39:1334-1351",
        _BRAINSCORE + "marques_schiller1976c.py: 73 of 87 cells selective",
        0.808,
    ),
    PublishedDistribution(
        "spatial_frequency_bandwidth",
        "spatial-frequency bandwidth, 100·f_low/f_high at 1/√2 (%)",
        _linspace(0.0, 100.0, 11),
        _sum(SCHILLER_1976_SF_BANDWIDTH_SIMPLE, SCHILLER_1976_SF_BANDWIDTH_COMPLEX),
        87,
        "linear",
        "Schiller, Finlay & Volman 1976, J Neurophysiol 39:1334-1351",
        _BRAINSCORE + "marques_schiller1976c.py: simple and complex pooled; the 14 "
        "non-selective cells count in n without a value",
        0.869,
    ),
    PublishedDistribution(
        "modulation_ratio",
        "modulation ratio F1/F0",
        _linspace(0.0, 2.0, 11),
        None,
        None,
        "linear",
        _RINGACH,
        _RINGACH_WHERE,
        0.371,
    ),
    _cavanaugh_diameter(
        "grating_summation_field",
        "grating summation field, diameter (deg)",
        (0, 9, 30, 55, 42, 10, 2, 0),
        0.599,
    ),
    _cavanaugh_diameter(
        "surround_diameter", "surround diameter (deg)", (0, 0, 2, 20, 33, 49, 40, 4), 0.367
    ),
    PublishedDistribution(
        "surround_suppression_index",
        "surround suppression index",
        _linspace(0.0, 2.0, 11),
        (66, 44, 38, 23, 16, 3, 0, 0, 0, 0),
        190,
        "linear",
        _CAVANAUGH,
        _BRAINSCORE + "marques_cavanaugh2002a.py: 190 foveal cells responding > 5 spikes/s",
        0.365,
    ),
)

_CAT_NONE = "no binned counts found for cat (see the module notes)"

#: The cat card: the same properties; no binned cat counts were found, so none is scored.
CAT: tuple[PublishedDistribution, ...] = tuple(
    PublishedDistribution(
        d.name, d.label, d.bins, None, None, d.scale, "cat area 17", _CAT_NONE, float("nan")
    )
    for d in MACAQUE
)

#: The card's property for each cat range of :data:`PUBLISHED_RANGES` it can check.
_CAT_RANGE_PROPERTIES = {
    "preferred_spatial_frequency": "peak_spatial_frequency",
    "orientation_hwhh": "hwhh_deg",
}

#: Ranges for cat area 17 given in the papers' text, checked on the cat card (the share
#: of the model's cells inside): (property, low, high, source), from
#: :data:`~v1lab.card.published_ranges.PUBLISHED_RANGES`.
CAT_RANGES: tuple[tuple[str, float, float, str], ...] = tuple(
    (_CAT_RANGE_PROPERTIES[r.name], float(r.low), float(r.high), f"{r.source} (n = {r.n_cells})")
    for r in PUBLISHED_RANGES
    if r.species == "cat" and r.name in _CAT_RANGE_PROPERTIES
)

#: Fractions of cat cells given in the papers' text: (property, threshold, published
#: fraction with a value at or above the threshold, source). Walker, Ohzawa & Freeman
#: (2000) counted cells suppressed by at least 10 % by a surround grating.
CAT_FRACTIONS: tuple[tuple[str, float, float, str], ...] = tuple(
    ("surround_suppression_index", 0.1, float(r.typical), f"{r.source} (n = {r.n_cells})")
    for r in PUBLISHED_RANGES
    if r.species == "cat" and r.name == "surround_suppressed"
)


def published_for(species: str) -> tuple[PublishedDistribution, ...]:
    """The published distributions a card of ``species`` compares with.

    Examples
    --------
    >>> [d.name for d in published_for("macaque") if d.scored][:2]
    ['preferred_orientation', 'peak_spatial_frequency']
    """
    check_choice("species", species, ("cat", "macaque"))
    return MACAQUE if species == "macaque" else CAT
