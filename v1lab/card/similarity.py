"""KS similarity of a model's property distribution to a published one (Marques et al. 2021).

How Marques, Schrimpf & DiCarlo (2021) score a V1 model on one property, as their
Brain-Score code does it (``brainscore_vision/metrics/distribution_similarity/metric.py``
and ``benchmark_helpers/properties_common.py`` in github.com/brain-score/vision):

1. **Bins.** The paper's bin edges. Values below the first edge or above the last are
   clipped into the end bins; a value on an inner edge counts in the bin above it (the
   last bin is closed), as :func:`numpy.histogram` counts.
2. **Resampling.** The model's values (one per responsive cell, NaN where the cell has no
   value, e.g. no surround diameter for an unsuppressed cell) are resampled with
   replacement to the data's ``n`` (which counts the paper's cells without a value too),
   1000 times. Each sample's histogram of its finite values is normalised to sum 1.
3. **KS similarity** of each sample: ``1 − KS / KS_max``, where KS is the largest
   difference between the two cumulative histograms and ``KS_max`` the larger of the
   KS distances from the data to a histogram with all its mass in the first bin and to
   one with all its mass in the last: the worst any histogram on these bins could do.
   1 = the same histogram, 0 = as far as possible.
4. The score is the mean over samples (their SD is the error). A sample with no finite
   value has no histogram; if more than a tenth of the samples are like that, the score
   is 0.
5. **Ceiling.** The same procedure with the data resampled against itself (data vs
   data, 0.93–0.99 for these benchmarks); Brain-Score reports ``score / ceiling``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.card.published import PublishedDistribution

__all__ = [
    "N_SAMPLES",
    "Similarity",
    "compute_histogram_ks_similarity",
    "compute_property_similarity",
    "make_data_values",
]

#: Resamples per score (Marques et al.'s NSAMPLES).
N_SAMPLES = 1000


def _ks_similarity_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``1 − KS / KS_max`` of each row of ``p`` against ``q`` (NaN for an empty row)."""
    cq = np.cumsum(q / q.sum())
    total = p.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cp = np.cumsum(p / total, axis=1)
    ks = np.max(np.abs(cp - cq), axis=1)
    # All mass in the first bin: cumulative 1 everywhere; in the last: 0 but at the end.
    ks_max = max(float(np.max(np.abs(1.0 - cq))), float(np.max(np.abs(cq[:-1]))))
    return np.where(total[:, 0] > 0, 1.0 - ks / ks_max, np.nan)


def compute_histogram_ks_similarity(p: Any, q: Any) -> float:
    """``1 − KS / KS_max`` between histogram ``p`` (model) and ``q`` (data), same bins.

    Both are normalised to sum 1 here. ``KS_max`` is the KS distance from ``q`` to the
    farther of the two extreme histograms (all mass in the first bin, all in the last).

    Examples
    --------
    >>> compute_histogram_ks_similarity([1, 1, 0, 0], [1, 1, 0, 0])
    1.0
    >>> compute_histogram_ks_similarity([1, 0, 0, 0], [0, 0, 0, 1])
    0.0
    >>> compute_histogram_ks_similarity([0, 1, 1, 0], [1, 1, 0, 0])  # KS 0.5, KS_max 1
    0.5
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.shape != q.shape or p.ndim != 1 or len(p) < 2:
        raise ParameterError(
            "histograms", (p.shape, q.shape), "expected two of the same bins (≥ 2)"
        )
    if q.sum() <= 0:
        return float("nan")
    return float(_ks_similarity_rows(p[None, :], q)[0])


@dataclass(frozen=True)
class Similarity:
    """One property's score (:func:`compute_property_similarity`).

    Attributes
    ----------
    ks_similarity : float
        Mean KS similarity of the model's resamples to the data (raw).
    error : float
        Its SD over resamples.
    ceiling : float
        The same for the data resampled against itself.
    score : float
        ``ks_similarity / ceiling``, as Brain-Score reports it.
    model_n : int
        Responsive cells in the model pool (NaN values included).
    model_finite : int
        Those with a value.
    data_n : int
        The paper's n (what each resample draws).
    """

    ks_similarity: float
    error: float
    ceiling: float
    score: float
    model_n: int
    model_finite: int
    data_n: int


def _bin_index(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Bin of each value (clipped into the end bins); -1 for NaN."""
    v = np.clip(values, bins[0], bins[-1])
    idx = np.searchsorted(bins, v, side="right") - 1
    idx = np.minimum(idx, len(bins) - 2)
    return np.where(np.isfinite(values), idx, -1)


def _resampled_similarity(
    pool: np.ndarray, published: PublishedDistribution, rng: np.random.Generator, n_samples: int
) -> tuple[float, float]:
    bins = np.asarray(published.bins, dtype=float)
    n_bins = len(bins) - 1
    q = published.fractions
    idx = _bin_index(pool, bins)
    draws = idx[rng.integers(0, len(pool), size=(n_samples, int(published.n_total)))]
    # One histogram per resample: bincount over (resample, bin) pairs, NaN draws dropped.
    rows = np.broadcast_to(np.arange(n_samples)[:, None], draws.shape)
    keep = draws >= 0
    hist = np.bincount(rows[keep] * n_bins + draws[keep], minlength=n_samples * n_bins).reshape(
        n_samples, n_bins
    )
    sims = _ks_similarity_rows(hist.astype(float), q)
    if np.isnan(sims).sum() > n_samples / 10:
        return 0.0, 0.0
    return float(np.nanmean(sims)), float(np.nanstd(sims))


def make_data_values(published: PublishedDistribution) -> np.ndarray:
    """The published cells as values: each bin's count at the bin's midpoint, plus NaN
    for the cells counted in ``n_total`` without a value (for the ceiling).

    Examples
    --------
    >>> from v1lab.card.published import MACAQUE
    >>> v = make_data_values(MACAQUE[0])
    >>> len(v), sorted(set(v.tolist()))
    (385, [0.0, 45.0, 90.0, 135.0])
    """
    if not published.scored:
        raise ParameterError(published.name, "counts", "no published counts to draw from")
    bins = np.asarray(published.bins, dtype=float)
    mid = 0.5 * (bins[:-1] + bins[1:])
    values = np.repeat(mid, np.asarray(published.counts))
    n_missing = int(published.n_total) - len(values)
    return np.concatenate([values, np.full(n_missing, np.nan)])


def compute_property_similarity(
    model_values: Any,
    published: PublishedDistribution,
    rng: np.random.Generator,
    *,
    n_samples: int = N_SAMPLES,
) -> Similarity:
    """Score one property as Marques et al. (2021) do (see the module notes).

    Parameters
    ----------
    model_values : array_like (n_cells,)
        The property of each responsive model cell; NaN where the cell has none.
    published : PublishedDistribution
        With counts (``published.scored``).
    rng : numpy.random.Generator
        Drives the resampling: the same seed gives the same score.
    n_samples : int
        Resamples.

    Returns
    -------
    Similarity
        NaN scores if the model has no responsive cell.

    Examples
    --------
    >>> from v1lab.card.published import MACAQUE
    >>> data = make_data_values(MACAQUE[0])
    >>> s = compute_property_similarity(data, MACAQUE[0], np.random.default_rng(0))
    >>> 0.9 < s.ks_similarity <= 1.0, round(s.score, 6) == round(s.ks_similarity / s.ceiling, 6)
    (True, True)
    """
    n_samples = check_int("n_samples", n_samples, lo=1, hi=1_000_000)
    pool = np.asarray(model_values, dtype=float).ravel()
    data = make_data_values(published)
    ceiling, _ = _resampled_similarity(data, published, rng, n_samples)
    n_data = int(published.n_total)
    n_finite = int(np.isfinite(pool).sum())
    if len(pool) == 0:
        nan = float("nan")
        return Similarity(nan, nan, ceiling, nan, 0, 0, n_data)
    raw, error = _resampled_similarity(pool, published, rng, n_samples)
    score = raw / ceiling if ceiling > 0 else float("nan")
    return Similarity(raw, error, ceiling, score, len(pool), n_finite, n_data)
