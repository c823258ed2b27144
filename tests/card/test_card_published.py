"""The published distributions typed in, against the numbers the issue and the papers give."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.card.published import CAT, MACAQUE, published_for

BY_NAME = {d.name: d for d in MACAQUE}


@pytest.mark.parametrize(
    ("name", "counts", "n", "alexnet"),
    [
        ("preferred_orientation", (110, 83, 100, 92), 385, 0.895),
        ("spatial_frequency_selective", (14, 73), 87, 0.808),
        ("surround_suppression_index", (66, 44, 38, 23, 16, 3, 0, 0, 0, 0), 190, 0.365),
        ("grating_summation_field", (0, 9, 30, 55, 42, 10, 2, 0), 190, 0.599),
        ("surround_diameter", (0, 0, 2, 20, 33, 49, 40, 4), 190, 0.367),
    ],
)
def test_counts_as_published(name, counts, n, alexnet):
    d = BY_NAME[name]
    assert d.counts == counts and d.n_total == n and d.alexnet == alexnet


def test_pooled_histograms():
    sf = BY_NAME["peak_spatial_frequency"]
    assert sf.bins[0] == 0.35 and sf.bins[-1] == 22.4 and len(sf.bins) == 13
    assert sum(sf.counts) == sf.n_total == 148 + 84 + 78 + 53
    bw = BY_NAME["spatial_frequency_bandwidth"]
    assert bw.counts == (0, 3, 4, 16, 22, 16, 9, 3, 0, 0) and sum(bw.counts) == 73
    assert BY_NAME["grating_summation_field"].bins == tuple(2.0**k for k in range(-4, 5))


def test_every_distribution_is_well_formed():
    for d in (*MACAQUE, *CAT):
        assert np.all(np.diff(d.bins) > 0)
        if d.scored:
            assert len(d.counts) == len(d.bins) - 1 and d.n_total >= sum(d.counts)
            assert d.fractions.sum() == pytest.approx(1.0)
        assert d.source and d.where


def test_the_properties_not_found_are_not_scored():
    assert {d.name for d in MACAQUE if not d.scored} == {
        "circular_variance",
        "orientation_bandwidth",
        "modulation_ratio",
    }
    assert not any(d.scored for d in published_for("cat"))
