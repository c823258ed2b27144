"""Each property's analysis recovers a known value from synthetic responses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v1lab.card.battery import BandResponses, GratingResponses
from v1lab.card.properties import (
    compute_band_properties,
    compute_circular_variance,
    compute_orientation_bandwidth,
    compute_preferred_orientation,
    compute_sf_tuning,
    compute_size_tuning,
    compute_variance_slope,
)


def von_mises(orientations, preferred, half_width_at_1_over_root2, amplitude=40.0, base=0.0):
    """An orientation tuning curve whose half-width at 1/√2 of its peak is known."""
    kappa = math.log(2) / 2 / (1 - math.cos(math.radians(2 * half_width_at_1_over_root2)))
    return base + amplitude * np.exp(
        kappa * (np.cos(np.deg2rad(2 * (orientations - preferred))) - 1)
    )


@pytest.mark.parametrize("width", [10.0, 20.0, 35.0, 60.0])
@pytest.mark.parametrize("preferred", [0.0, 33.0, 90.0, 151.0])
def test_von_mises_bandwidth_and_preference_recovered(width, preferred):
    o = np.arange(0, 180, 2.5)  # fine sampling: Ringach's smoothing barely widens it
    curve = von_mises(o, preferred, width)
    # The 1° grid puts each edge just outside the crossing: at most 1° wider.
    assert width <= compute_orientation_bandwidth(o, curve) <= width + 1.0
    expected = preferred - 180 if preferred >= 157.5 else preferred
    assert compute_preferred_orientation(o, curve) == pytest.approx(expected, abs=1.0)


def test_bandwidth_at_fifteen_degree_steps_is_widened_by_the_smoothing_only():
    o = np.arange(0, 180, 15.0)
    measured = compute_orientation_bandwidth(o, von_mises(o, 45.0, 20.0))
    assert 20.0 <= measured <= 24.0  # Ringach's Hanning smoothing of 15° samples


def test_untuned_cell_has_no_bandwidth_and_unit_circular_variance():
    o = np.arange(0, 180, 15.0)
    assert math.isnan(compute_orientation_bandwidth(o, 5 + 0.1 * np.cos(np.deg2rad(2 * o))))
    assert compute_circular_variance(o, np.ones(12))[0] == pytest.approx(1.0)
    one_orientation = np.where(o == 60, 9.0, 0.0)
    assert compute_circular_variance(o, one_orientation)[0] == pytest.approx(0.0)


def test_circular_variance_of_a_raised_cosine():
    # r = 1 + a cos 2(θ − μ): the vector sum is a/2 of the mean, so CV = 1 − a/2.
    o = np.arange(0, 180, 15.0)
    for a in (0.2, 0.6, 1.0):
        curve = 1 + a * np.cos(np.deg2rad(2 * (o - 30)))
        assert compute_circular_variance(o, curve)[0] == pytest.approx(1 - a / 2)


@pytest.mark.parametrize("sigma_octaves", [0.6, 1.0])
@pytest.mark.parametrize("peak", [0.7, 2.0, 5.6])
def test_log_gaussian_sf_tuning_peak_and_bandwidth(sigma_octaves, peak):
    f = peak * 2.0 ** np.arange(-4, 4.01, 0.25)
    curve = 30 * np.exp(-0.5 * (np.log2(f / peak) / sigma_octaves) ** 2)
    measured_peak, bandwidth = compute_sf_tuning(f, curve)
    assert measured_peak == pytest.approx(peak, rel=0.05)
    half = sigma_octaves * math.sqrt(math.log(2))  # octaves from the peak to 1/√2
    assert bandwidth == pytest.approx(100 * 2 ** (-2 * half), abs=5.0)


def test_low_pass_sf_tuning_is_not_selective():
    f = 2.0 ** np.arange(-3, 2.01, 0.5)
    _, bandwidth = compute_sf_tuning(f, 1 / (1 + (f / 2.0) ** 4))
    assert math.isnan(bandwidth)


def test_size_tuning_of_known_form():
    # Rises linearly to 1 at 1°, falls to a plateau of 0.5 by 2°: SI 0.5, summation
    # field 0.95° (95 % of the peak), surround diameter 1.95° (within 5 % of the plateau).
    d = np.round(np.arange(0.05, 6.0, 0.05), 6)
    r = np.minimum(d, 1.0) - 0.5 * np.clip(d - 1.0, 0.0, 1.0)
    si, gsf, surround = compute_size_tuning(d, r)
    assert si == pytest.approx(0.5)
    assert gsf == pytest.approx(0.95)
    assert surround == pytest.approx(1.95)


def test_unsuppressed_size_tuning_has_no_summation_field():
    d = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    si, gsf, surround = compute_size_tuning(d, np.array([1.0, 3, 6, 7, 7]))
    assert si == pytest.approx(0.0) and math.isnan(gsf) and math.isnan(surround)


def test_variance_slope():
    m = np.array([1.0, 3, 10, 30])
    assert compute_variance_slope(m, m) == pytest.approx(1.0)
    assert compute_variance_slope(m, 0.5 * m**1.5) == pytest.approx(1.5)


def test_band_properties_from_synthetic_orientation_responses():
    # Two cells, 24 directions at one spatial frequency: cell 0 tuned to 60° with a
    # half-width of 20°, fully modulated (F1 = π/2 DC, a half-wave rectified sinusoid);
    # cell 1 barely above spontaneous.
    directions = np.arange(0, 360, 15.0)
    orientation = np.mod(directions - 90, 180)
    dc = np.stack([von_mises(orientation, 60, 20.0, base=2.0), 3 + 0 * directions])[:, None, :]
    f1 = dc * np.array([math.pi / 2, 0.1])[:, None, None]
    counts = dc * 0.5
    g = GratingResponses(
        {"spatial_frequency_cpd": np.array([1.0]), "direction_deg": directions},
        dc,
        f1,
        counts,
        counts * 1.3,
        baseline=np.array([2.0, 2.5]),
    )
    props = compute_band_properties(BandResponses(1.0, 1.0, np.arange(2), {"orientation": g}))
    assert props["preferred_orientation"][0] == pytest.approx(60.0, abs=1.0)
    assert props["modulation_ratio"][0] == pytest.approx(math.pi / 2)
    assert props["fano_factor"][0] == pytest.approx(1.3)
    assert props["responsive_orientation"].tolist() == [1.0, 0.0]
    assert 20.0 <= props["orientation_bandwidth"][0] <= 25.0
    assert np.isnan(props["peak_spatial_frequency"]).all()  # that part was not run


_DIRECTIONS = np.arange(0.0, 360.0, 30.0)
_DIAMETERS = np.array([0.5, 1.0, 2.0, 4.0])


def _size_properties(ori: np.ndarray, dc: np.ndarray, sfs: np.ndarray) -> tuple[dict, dict]:
    """Properties of one cell from an orientation part ``ori`` (1, n_sf, n_dir) and a size
    part ``dc`` (1, n_size, n_sf, n_dir), with and without the orientation part."""
    g_ori = GratingResponses(
        {"spatial_frequency_cpd": sfs, "direction_deg": _DIRECTIONS},
        ori, np.zeros_like(ori), ori, ori, baseline=np.zeros(1),
    )  # fmt: skip
    g_size = GratingResponses(
        {"aperture_radius_deg": _DIAMETERS / 2, "spatial_frequency_cpd": sfs,
         "direction_deg": _DIRECTIONS},
        dc, np.zeros_like(dc), dc, dc, baseline=np.zeros(1),
    )  # fmt: skip
    both = BandResponses(1.0, 1.0, np.arange(1), {"orientation": g_ori, "size": g_size})
    alone = BandResponses(1.0, 1.0, np.arange(1), {"size": g_size})
    return compute_band_properties(both), compute_band_properties(alone)


def test_size_tuning_is_read_at_the_direction_found_beforehand():
    """A noisy bump at another direction of the size series does not become the peak."""
    sfs = np.array([1.0])
    # Orientation part: the cell prefers 90 deg.
    ori = np.zeros((1, 1, _DIRECTIONS.size))
    ori[0, 0, 3] = 30.0
    # Size part: at 90 deg it peaks at 1 deg and falls to half (SI 0.5); at 240 deg a
    # noise spike of 40 spikes/s at 0.5 deg would give SI 1.
    dc = np.zeros((1, _DIAMETERS.size, 1, _DIRECTIONS.size))
    dc[0, :, 0, 3] = [10.0, 20.0, 12.0, 10.0]
    dc[0, :, 0, 8] = [40.0, 0.0, 0.0, 0.0]
    props, alone = _size_properties(ori, dc, sfs)
    assert props["surround_suppression_index"][0] == pytest.approx(0.5)
    assert props["grating_summation_field"][0] == pytest.approx(1.0)
    assert alone["surround_suppression_index"][0] == pytest.approx(1.0)  # what it guards


def test_size_tuning_is_read_at_the_spatial_frequency_found_beforehand():
    """Of two size series, the one at the frequency the orientation part preferred is read,
    even when the other one's small patch drives the cell harder (a patch's broad
    spectrum reaching the optimum from a grating off it)."""
    sfs = np.array([0.6, 1.0])
    # Orientation part: the cell prefers 90 deg at 1.0 c/deg (the second frequency).
    ori = np.zeros((1, sfs.size, _DIRECTIONS.size))
    ori[0, 1, 3], ori[0, 0, 3] = 30.0, 12.0
    # Size part at 90 deg: at 1.0 c/deg a peak at 1 deg falling to 16 (SI 0.2); at 0.6
    # c/deg the smallest patch gives 25, then 5 (SI 0.8).
    dc = np.zeros((1, _DIAMETERS.size, sfs.size, _DIRECTIONS.size))
    dc[0, :, 1, 3] = [10.0, 20.0, 17.0, 16.0]
    dc[0, :, 0, 3] = [25.0, 12.0, 6.0, 5.0]
    props, alone = _size_properties(ori, dc, sfs)
    assert props["surround_suppression_index"][0] == pytest.approx(0.2)
    assert props["grating_summation_field"][0] == pytest.approx(1.0)
    assert alone["surround_suppression_index"][0] == pytest.approx(0.8)  # what it guards
