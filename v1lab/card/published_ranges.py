"""Published V1 numbers for the population card beyond its histograms, as plain data.

Only numbers read in a source that could be opened are here: the binned tables that
Marques, Schrimpf & DiCarlo (2021) package in Brain-Score and that the card does not yet
hold, the scores Brain-Score's own tests expect of AlexNet with the data-vs-data
ceilings, the rules by which Brain-Score filters Ringach's per-cell database, and
ranges, medians and fractions stated in the abstracts of the cat (and one macaque)
papers. Where each number was read, and what could not be confirmed (Ringach's counts,
every cat histogram), is in ``docs/published_distributions.md``. The tables the card
already holds (:mod:`v1lab.card.published`, :mod:`v1lab.model.distributions`) are not
repeated; their bins and counts were checked against the same Brain-Score commit.

Brain-Score source: github.com/brain-score/vision at commit
c642dbe42aae3ed064bc0b66f70a80b264021164 (paths given per table).

References
----------
Cavanaugh et al. (2002), Hammond & Andrews (1978), Marques et al. (2021), Movshon et al.
(1978) and Ringach et al. (2002): as in :mod:`v1lab.card.published`.
De Valois RL, Yund EW, Hepler N (1982) The orientation and direction selectivity of cells
in macaque visual cortex. Vision Res 22:531-544.
Gizzi MS, Katz E, Schumer RA, Movshon JA (1990) Selectivity for orientation and direction
of motion of single neurons in cat striate and extrastriate visual cortex. J Neurophysiol
63:1529-1543.
Walker GA, Ohzawa I, Freeman RD (2000) Suppression outside the classical cortical
receptive field. Vis Neurosci 17:369-379.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CAVANAUGH_2002_N_CELLS",
    "CAVANAUGH_2002_STRONGLY_SUPPRESSED_COUNTS",
    "CAVANAUGH_2002_STRONGLY_SUPPRESSED_EDGES",
    "CAVANAUGH_2002_SURROUND_GSF_RATIO_COUNTS",
    "CAVANAUGH_2002_SURROUND_GSF_RATIO_EDGES",
    "MARQUES_2021_ALEXNET_AND_CEILING",
    "PUBLISHED_RANGES",
    "RINGACH_2002_MAX_BANDWIDTH_DEG",
    "RINGACH_2002_N_CELLS",
    "RINGACH_2002_ORIENTATION_SELECTIVE_EDGES",
    "RINGACH_2002_RESPONSE_THRESHOLD_SPK_S",
    "BenchmarkScore",
    "PublishedRange",
]

# --- Cavanaugh, Bair & Movshon (2002), macaque V1, as Marques et al. package it ------------

CAVANAUGH_2002_N_CELLS = 190
"""Foveal V1 cells responding > 5 spikes/s that Marques et al. score against (the n every
Cavanaugh property is resampled to; brainscore_vision/data/marques2020/test.py)."""

CAVANAUGH_2002_STRONGLY_SUPPRESSED_EDGES = (0.0, 0.5, 1.0)
CAVANAUGH_2002_STRONGLY_SUPPRESSED_COUNTS = (42, 148)
"""Cells suppressed by more than 10 % at large sizes (bin 1) or not (bin 0), of 190.
brainscore_vision/data/marques2020/data_packaging/marques_cavanaugh2002a.py
(``strongly_suppressed``). Packaged, but not one of Brain-Score's Marques benchmarks."""

CAVANAUGH_2002_SURROUND_GSF_RATIO_EDGES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
CAVANAUGH_2002_SURROUND_GSF_RATIO_COUNTS = (69, 38, 31, 10, 0)
"""Surround diameter / grating summation field (octave bins), the 148 of 190 cells
suppressed by more than 10 %; the other 42 are NaN (no value) in the packaging.
marques_cavanaugh2002a.py (``surround_grating_summation_field_ratio``). Packaged, not a
benchmark."""

# --- Ringach, Shapley & Hawken (2002): how Brain-Score uses the per-cell database ---------

RINGACH_2002_N_CELLS = 304
"""Cells of Ringach's database left after the response filter below: the n that circular
variance, orientation bandwidth and the modulation ratio are resampled to
(brainscore_vision/data/marques2020/test.py). The counts per bin are not public here:
they come from ``Ringach2002.mat`` (see the docs)."""

RINGACH_2002_RESPONSE_THRESHOLD_SPK_S = 5.0
"""A cell is kept if its peak mean rate exceeds its spontaneous rate by more than this
(``max_dc > baseline + 5``; marques_ringach2002.py and the benchmark's
``RESPONSE_THRESHOLD``, applied to model cells the same way)."""

RINGACH_2002_MAX_BANDWIDTH_DEG = 90.0
"""Half-width bandwidths above this are set to NaN: such a cell has no bandwidth (it drops
out of the bandwidth histogram but stays in n) and counts as not orientation-selective
(marques_ringach2002.py)."""

RINGACH_2002_ORIENTATION_SELECTIVE_EDGES = (0.0, 0.5, 1.0)
"""Bins of the orientation-selective flag (1 if the bandwidth is defined and <= 90 deg);
counts unconfirmed. marques_ringach2002.py (``orientation_selective_bins``)."""


# --- AlexNet's scores and the data-vs-data ceilings, as Brain-Score's tests expect --------


class BenchmarkScore(NamedTuple):
    """One Marques benchmark: AlexNet's ceiled score and the data's own ceiling.

    ``alexnet`` is Brain-Score's reported score, i.e. the mean KS similarity divided by
    ``ceiling`` (``ceil_score`` in brainscore_vision/benchmarks/__init__.py); the
    ceiling is the data resampled against itself. Both from
    brainscore_vision/benchmarks/marques2020/test.py (``test_Marques2020``, tolerance
    0.01, on AlexNet's precomputed activations; ``test_ceilings``, tolerance 0.005).
    """

    benchmark: str
    alexnet: float
    ceiling: float


MARQUES_2021_ALEXNET_AND_CEILING: tuple[BenchmarkScore, ...] = (
    BenchmarkScore("Cavanaugh2002-grating_summation_field", 0.599, 0.956),
    BenchmarkScore("Cavanaugh2002-surround_diameter", 0.367, 0.955),
    BenchmarkScore("Cavanaugh2002-surround_suppression_index", 0.365, 0.958),
    BenchmarkScore("DeValois1982-pref_or", 0.895, 0.962),
    BenchmarkScore("DeValois1982-peak_sf", 0.775, 0.967),
    BenchmarkScore("FreemanZiemba2013-texture_modulation_index", 0.636, 0.948),
    BenchmarkScore("FreemanZiemba2013-abs_texture_modulation_index", 0.861, 0.958),
    BenchmarkScore("FreemanZiemba2013-texture_selectivity", 0.646, 0.940),
    BenchmarkScore("FreemanZiemba2013-texture_sparseness", 0.508, 0.935),
    BenchmarkScore("FreemanZiemba2013-texture_variance_ratio", 0.827, 0.939),
    BenchmarkScore("FreemanZiemba2013-max_texture", 0.823, 0.946),
    BenchmarkScore("FreemanZiemba2013-max_noise", 0.684, 0.945),
    BenchmarkScore("Ringach2002-circular_variance", 0.830, 0.959),
    BenchmarkScore("Ringach2002-or_bandwidth", 0.844, 0.964),
    BenchmarkScore("Ringach2002-orth_pref_ratio", 0.876, 0.962),
    BenchmarkScore("Ringach2002-or_selective", 0.895, 0.994),
    BenchmarkScore("Ringach2002-cv_bandwidth_ratio", 0.841, 0.968),
    BenchmarkScore("Ringach2002-opr_cv_diff", 0.909, 0.967),
    BenchmarkScore("Ringach2002-modulation_ratio", 0.371, 0.959),
    BenchmarkScore("Ringach2002-max_dc", 0.904, 0.968),
    BenchmarkScore("Schiller1976-sf_selective", 0.808, 0.963),
    BenchmarkScore("Schiller1976-sf_bandwidth", 0.869, 0.933),
)
"""Every Marques2020 benchmark in Brain-Score (names without the ``Marques2020_`` prefix)."""


# --- Ranges, medians and fractions stated in the papers' abstracts -------------------------


class PublishedRange(NamedTuple):
    """A range, typical value or fraction a paper states in words (no histogram).

    ``typical_kind`` says what ``typical`` is: ``"median"``, ``"mode"``, ``"mean"`` or
    ``"fraction"`` (then ``low``/``high`` are None). ``n_cells`` is None where the text
    read does not give it for this number.
    """

    name: str
    species: str
    unit: str
    low: float | None
    high: float | None
    typical: float | None
    typical_kind: str
    n_cells: int | None
    source: str
    where: str


_PUBMED = "PubMed abstract, "

PUBLISHED_RANGES: tuple[PublishedRange, ...] = (
    PublishedRange(
        "preferred_spatial_frequency", "cat", "c/deg", 0.3, 3.0, None, "", 156,
        "Movshon, Thompson & Tolhurst 1978",
        _PUBMED + "PMID 722570: 184 area-17 cells, 156 within 5 deg of the area "
        "centralis; 'the range of preferred spatial frequency for these neurones was "
        "0.3--3 c/deg'; simple and complex cells did not differ",
    ),
    PublishedRange(
        "spatial_frequency_bandwidth", "cat", "octaves at half amplitude",
        0.7, 3.2, 1.3, "mode", 156,
        "Movshon, Thompson & Tolhurst 1978",
        _PUBMED + "PMID 722570: 'band widths varied from 0.7 to 3.2 octaves at "
        "half-amplitude. The most common band width was roughly 1.3 octaves'",
    ),
    PublishedRange(
        "direction_half_width", "cat", "deg (half width)", 3.8, 58.0, 20.6, "mean", 277,
        "Gizzi, Katz, Schumer & Movshon 1990",
        "abstract at nyuscholars.nyu.edu (selectivity-for-orientation-and-direction-of-"
        "motion-of-single-neu): 277 oriented area-17 cells, gratings; mode near 13 deg",
    ),
    PublishedRange(
        "direction_index_above_half", "cat", "fraction of area-17 cells", None, None,
        2.0 / 3.0, "fraction", None,
        "Gizzi, Katz, Schumer & Movshon 1990",
        "same abstract, after 'comparing responses to stimuli moved in the optimal "
        "direction with those elicited by a stimulus moving in the opposite direction': "
        "'In area 17 about two-thirds of the neurons responded less than half as we[ll]' "
        "(the readable copy cuts the sentence there)",
    ),
    PublishedRange(
        "surround_suppressed", "cat", "fraction of cells", None, None,
        153.0 / 271.0, "fraction", 271,
        "Walker, Ohzawa & Freeman 2000",
        _PUBMED + "PMID 10910105: 56 % (153/271) of striate cells suppressed by at "
        "least 10 % by a surround grating, relative to the CRF grating alone",
    ),
    PublishedRange(
        "orientation_hwhh", "cat", "deg (half width at half height)", 5.0, 73.0, None,
        "", 97,
        "Hammond & Andrews 1978",
        "abstract (scilit.com / biomaterialdatabase.com): 97 cells of areas 17 and 18, "
        "long stimuli, one outlier at 111 deg, untuned cells excluded",
    ),
    PublishedRange(
        "orientation_bandwidth", "macaque", "deg (bandwidth at half amplitude)",
        6.0, 360.0, 40.0, "median", None,
        "De Valois, Yund & Hepler 1982",
        _PUBMED + "PMID 7112953: 'range in orientation bandwidth at half amplitude from "
        "6 degrees to 360 degrees (i.e. no orientation tuning), with a median near 40 "
        "degrees'; foveal/parafoveal and simple/complex alike",
    ),
)  # fmt: skip
"""Numbers from the abstracts, for the cat card's range checks (no KS score possible)."""
