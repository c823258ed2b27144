"""The frozen cortex's draws reproduce the published histograms they are drawn from."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from scipy import stats

from v1lab._validate import ParameterError
from v1lab.model.distributions import (
    DEVALOIS_1982_ORIENTATION_BINS_DEG,
    DEVALOIS_1982_ORIENTATION_COUNTS,
    DEVALOIS_1982_SF_BINS_CPD,
    DEVALOIS_1982_SF_COMPLEX_FOVEAL,
    DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL,
    DEVALOIS_1982_SF_SIMPLE_FOVEAL,
    DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL,
    RINGACH_2002_NX_NY,
    draw_from_histogram,
    draw_orientation,
    draw_rf_envelope,
    draw_spatial_frequency,
    species_median_sf_cpd,
)
from v1lab.model.population import make_population
from v1lab.protocol import parse_protocol

N = 20_000
# A chi-square goodness-of-fit test at this level fails a correct sampler one time in
# 10,000 and a sampler that ignores the counts (uniform over the bins) every time at N.
ALPHA = 1e-4


def _chi2_p(observed: np.ndarray, counts: np.ndarray) -> float:
    keep = counts > 0
    assert observed[~keep].sum() == 0, "a value fell in a bin the paper has no cells in"
    expected = counts[keep] / counts[keep].sum() * observed.sum()
    return float(stats.chisquare(observed[keep], expected).pvalue)


def test_histogram_draws_follow_the_counts_and_stay_in_their_bins():
    edges, counts = [0.1, 0.2, 0.4, 0.8], np.array([1, 6, 3])
    v = draw_from_histogram(edges, counts, N, np.random.default_rng(1), log=True)
    observed, _ = np.histogram(v, edges)
    assert _chi2_p(observed, counts) > ALPHA
    # Log-uniform within a bin: half the middle bin's values lie below its geometric centre.
    mid = v[(v >= 0.2) & (v < 0.4)]
    assert abs(np.mean(mid < np.sqrt(0.2 * 0.4)) - 0.5) < 4 * np.sqrt(0.25 / mid.size)


def test_rf_envelopes_follow_ringachs_joint_histogram():
    nx, ny = draw_rf_envelope("macaque", N, np.random.default_rng(2))
    edges = np.asarray(RINGACH_2002_NX_NY["bins"])
    counts = np.asarray(RINGACH_2002_NX_NY["counts"], dtype=float)
    observed, _, _ = np.histogram2d(nx, ny, [edges, edges])
    assert _chi2_p(observed.ravel(), counts.ravel()) > ALPHA
    # Not all elongated: a good share of Ringach's fields are wider than long.
    assert 0.25 < np.mean(ny < nx) < 0.6


@pytest.mark.parametrize("simple_like", [True, False])
def test_macaque_spatial_frequencies_follow_de_valois_by_cell_class(simple_like):
    f = draw_spatial_frequency("macaque", np.full(N, simple_like), np.random.default_rng(3))
    if simple_like:
        rows = (DEVALOIS_1982_SF_SIMPLE_FOVEAL, DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL)
    else:
        rows = (DEVALOIS_1982_SF_COMPLEX_FOVEAL, DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL)
    observed, _ = np.histogram(f, DEVALOIS_1982_SF_BINS_CPD)
    assert _chi2_p(observed, np.sum(rows, axis=0).astype(float)) > ALPHA


def test_macaque_median_can_be_moved_to_the_recording_site():
    rng = np.random.default_rng(4)
    f = draw_spatial_frequency("macaque", np.ones(N, bool), rng, median_cpd=1.0)
    n_simple = sum(DEVALOIS_1982_SF_SIMPLE_FOVEAL) + sum(DEVALOIS_1982_SF_SIMPLE_PARAFOVEAL)
    n_complex = sum(DEVALOIS_1982_SF_COMPLEX_FOVEAL) + sum(DEVALOIS_1982_SF_COMPLEX_PARAFOVEAL)
    pooled = draw_spatial_frequency(
        "macaque", rng.random(N) < n_simple / (n_simple + n_complex), rng
    )
    # In the paper's own mix of classes, the median is the pooled histogram's (binomial
    # SE of the fraction below it).
    assert abs(np.mean(pooled < species_median_sf_cpd("macaque")) - 0.5) < 4 * np.sqrt(0.25 / N)
    assert np.median(f) < 1.5 and f.max() / f.min() > 10  # scaled, not squeezed


def test_cat_spatial_frequency_is_log_normal_about_the_site_median():
    f = draw_spatial_frequency("cat", np.ones(N, bool), np.random.default_rng(5), median_cpd=0.5)
    assert abs(np.mean(f < 0.5) - 0.5) < 4 * np.sqrt(0.25 / N)
    assert f.min() >= 0.5 / 10**0.2 - 1e-12 and f.max() <= 0.5 * 10**0.2 + 1e-12


def test_macaque_orientations_show_de_valois_oblique_effect_and_cat_is_uniform():
    o = draw_orientation("macaque", N, np.random.default_rng(6))
    centred = np.where(o >= 157.5, o - 180.0, o)
    observed, _ = np.histogram(centred, DEVALOIS_1982_ORIENTATION_BINS_DEG)
    assert _chi2_p(observed, np.asarray(DEVALOIS_1982_ORIENTATION_COUNTS, float)) > ALPHA
    cat = draw_orientation("cat", N, np.random.default_rng(6))
    assert stats.kstest(cat / 180.0, "uniform").pvalue > ALPHA


def test_species_is_checked_and_reaches_the_population():
    with pytest.raises(ParameterError, match="species"):
        make_population(4, np.random.default_rng(0), species="mouse")
    rng = np.random.default_rng(7)
    cat = make_population(2000, rng)
    macaque = make_population(2000, rng, species="macaque")
    assert np.median(macaque.spatial_frequency_cpd) > 2 * np.median(cat.spatial_frequency_cpd)


def test_a_protocol_names_its_species_and_the_resolved_toml_keeps_it():
    flash = [{"kind": "full_field", "duration_s": 0.1}]
    data = {"name": "p", "population": {"n_cells": 3, "species": "macaque"}, "stimuli": flash}
    protocol = parse_protocol(data)
    assert protocol.population.species == "macaque"
    assert "spatial_frequency_cpd" not in protocol.to_dict()["population"]
    again = parse_protocol(tomllib.loads(protocol.to_toml()))
    assert again == protocol
    with pytest.raises(ParameterError, match=r"population\.species.*'cat', 'macaque'"):
        parse_protocol({"name": "p", "population": {"species": "owl"}, "stimuli": flash})


def test_each_species_draws_its_own_mix_of_cell_types():
    rng = np.random.default_rng(8)
    macaque = make_population(200, rng, species="macaque")
    cat = make_population(200, rng)
    assert "end_stopped" not in set(macaque.cell_type)  # the surround's strong end instead
    assert np.sum(cat.cell_type == "end_stopped") == 30
    spec = parse_protocol(
        {"name": "p", "population": {"species": "macaque"}, "stimuli": [{"kind": "full_field"}]}
    ).population
    assert "end_stopped" not in spec.type_fractions


def test_each_species_draws_its_own_share_of_surround_suppressed_cells():
    # Walker, Ohzawa & Freeman (2000): 153 of 271 cat cells suppressed by >= 10 %;
    # Cavanaugh, Bair & Movshon (2002a): the macaque's histogram, ~83 % at or above 0.1
    # (all but half its first bin). Tolerance: 4 binomial SEs at n = 20,000.
    from v1lab.model.population import (
        CAT_SUPPRESSED_FRACTION,
        SUPPRESSION_INDEX_COUNTS,
        draw_suppression_index,
    )

    n = 20_000
    macaque_share = 1 - 0.5 * SUPPRESSION_INDEX_COUNTS[0] / SUPPRESSION_INDEX_COUNTS.sum()
    for species, p in (("cat", CAT_SUPPRESSED_FRACTION), ("macaque", macaque_share)):
        si = draw_suppression_index(n, np.random.default_rng(3), species=species)
        assert np.mean(si >= 0.1) == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n))
        assert si.min() >= 0 and si.max() <= 0.95


def test_only_complex_cells_draw_a_linear_weight_and_it_spans_its_range():
    from v1lab.model.population import LINEAR_WEIGHT_RANGE

    pop = make_population(4000, np.random.default_rng(5))
    complex_ = pop.cell_type == "complex"
    assert np.all(pop.linear_weight[~complex_] == 0)
    w = pop.linear_weight[complex_]
    lo, hi = LINEAR_WEIGHT_RANGE
    assert w.min() >= lo and w.max() <= hi
    # Uniform: KS against U(lo, hi) at the 1 % level.
    assert stats.kstest(w, "uniform", args=(lo, hi - lo)).pvalue > 0.01
