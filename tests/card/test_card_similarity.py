"""KS similarity as Marques, Schrimpf & DiCarlo (2021) score a property."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.card.published import MACAQUE, PublishedDistribution
from v1lab.card.similarity import (
    compute_histogram_ks_similarity,
    compute_property_similarity,
    make_data_values,
)

UNIFORM4 = PublishedDistribution(
    "x", "x", (0.0, 1.0, 2.0, 3.0, 4.0), (25, 25, 25, 25), 100, "linear", "test", "test"
)


def test_identical_histograms_score_one():
    for q in ([1, 2, 3, 4], [0, 0, 5, 0], [110, 83, 100, 92]):
        assert compute_histogram_ks_similarity(q, q) == pytest.approx(1.0)


def test_disjoint_histograms_score_zero():
    assert compute_histogram_ks_similarity([1, 0, 0, 0], [0, 0, 0, 1]) == 0.0
    assert compute_histogram_ks_similarity([0, 3, 0, 0, 0], [0, 0, 0, 2, 0]) == 0.0


def test_shifted_histogram_hand_computed():
    # Data uniform over 4 bins: cumulative .25 .5 .75 1; KS_max = .75 (all mass in
    # either end bin). Model shifted one bin up: cumulative 0 .25 .5 1, KS = .25.
    assert compute_histogram_ks_similarity([0, 1, 1, 2], [1, 1, 1, 1]) == pytest.approx(2 / 3)
    # Data in the first two bins, model one bin up: KS .5, KS_max 1.
    assert compute_histogram_ks_similarity([0, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5)


def test_histograms_must_share_bins():
    with pytest.raises(ParameterError):
        compute_histogram_ks_similarity([1, 2, 3], [1, 2])


def test_resampling_is_seeded_and_reproducible():
    values = np.random.default_rng(3).uniform(0, 4, 60)
    a = compute_property_similarity(values, UNIFORM4, np.random.default_rng(11))
    b = compute_property_similarity(values, UNIFORM4, np.random.default_rng(11))
    c = compute_property_similarity(values, UNIFORM4, np.random.default_rng(12))
    assert a == b
    assert a.ks_similarity != c.ks_similarity
    assert 0 < a.error < 0.2


def test_model_drawn_from_the_data_scores_near_the_ceiling():
    for dist in (d for d in MACAQUE if d.scored):
        s = compute_property_similarity(make_data_values(dist), dist, np.random.default_rng(0))
        assert 0.9 < s.ceiling < 1.0, dist.name  # Marques et al.: ceilings 0.93-0.99
        assert s.score == pytest.approx(1.0, abs=0.03), dist.name
        assert s.data_n == dist.n_total


def test_values_outside_the_bins_are_clipped_into_the_end_bins():
    low = compute_property_similarity(np.full(50, -7.0), UNIFORM4, np.random.default_rng(0))
    first = compute_property_similarity(np.full(50, 0.5), UNIFORM4, np.random.default_rng(0))
    assert low.ks_similarity == pytest.approx(first.ks_similarity)
    assert low.ks_similarity == pytest.approx(0.0)  # all mass in one end bin: KS = KS_max


def test_model_without_values_scores_zero_as_marques():
    nan = compute_property_similarity(np.full(30, np.nan), UNIFORM4, np.random.default_rng(0))
    assert nan.ks_similarity == 0.0 and nan.model_finite == 0 and nan.model_n == 30


def test_cells_without_a_value_only_shrink_the_sample():
    dist = next(d for d in MACAQUE if d.name == "grating_summation_field")
    data = make_data_values(dist)
    assert np.isnan(data).sum() == 42 and len(data) == 190
    with_nan = np.concatenate([data[np.isfinite(data)], np.full(400, np.nan)])
    s = compute_property_similarity(with_nan, dist, np.random.default_rng(0))
    assert s.ks_similarity > 0.85  # the same histogram, fewer values per resample
