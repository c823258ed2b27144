"""Tuning curves, selectivity indices and von Mises fits against cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.analysis import (
    compute_dsi,
    compute_global_dsi,
    compute_global_osi,
    compute_orientation_tuning,
    compute_osi,
    compute_von_mises_fit,
    compute_width_limit_deg,
    make_von_mises,
)

# --------------------------------------------------------------------------------------
# Selectivity indices
# --------------------------------------------------------------------------------------


def test_global_osi_is_zero_for_a_flat_curve_and_one_for_a_single_orientation():
    angles = np.arange(0, 180, 15.0)
    assert compute_global_osi(angles, np.full(12, 7.0))[0] == pytest.approx(0.0, abs=1e-12)
    assert compute_global_osi(angles, (angles == 45).astype(float))[0] == pytest.approx(1.0)
    directions = np.arange(0, 360, 30.0)
    assert compute_global_dsi(directions, np.ones(12))[0] == pytest.approx(0.0, abs=1e-12)
    assert compute_global_dsi(directions, (directions == 90).astype(float))[0] == 1.0


def test_osi_and_dsi_follow_the_allensdk_definitions():
    directions = np.arange(0, 360, 45.0)
    tuning = np.array([10.0, 4, 2, 4, 5, 4, 2, 4])  # pref 0°, null 180°, orth 90°/270°
    assert compute_osi(directions, tuning)[0] == pytest.approx((10 - 2) / (10 + 2))
    assert compute_dsi(directions, tuning)[0] == pytest.approx((10 - 5) / (10 + 5))


def test_orientation_tuning_folds_opposite_directions():
    o, m = compute_orientation_tuning(
        np.array([0.0, 90, 180, 270]), np.array([[4.0], [1], [2], [1]])
    )
    np.testing.assert_allclose(o, [0.0, 90.0])
    np.testing.assert_allclose(m[:, 0], [1.0, 3.0])


# --------------------------------------------------------------------------------------
# Von Mises fits
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pref", "kappa"), [(37.0, 2.5), (170.0, 0.8), (90.0, 6.0)])
def test_von_mises_on_2theta_recovers_its_parameters(pref, kappa):
    angles = np.arange(0, 180, 10.0)
    r = make_von_mises(angles, preferred_deg=pref, kappa=kappa, amplitude=25.0, baseline=2.0)
    fit = compute_von_mises_fit(angles, r)
    assert (fit.preferred_deg - pref + 90) % 180 - 90 == pytest.approx(0.0, abs=1e-4)
    assert fit.kappa == pytest.approx(kappa, rel=1e-4)
    assert fit.amplitude == pytest.approx(25.0, rel=1e-4)
    assert fit.baseline == pytest.approx(2.0, abs=1e-4)
    assert fit.r2 == pytest.approx(1.0)


def test_von_mises_with_noise_is_close():
    rng = np.random.default_rng(3)
    angles = np.arange(0, 180, 15.0)
    r = make_von_mises(angles, preferred_deg=60, kappa=2.0, amplitude=30.0, baseline=3.0)
    fit = compute_von_mises_fit(angles, r + rng.normal(0, 1.0, r.shape))
    assert abs(fit.preferred_deg - 60) < 3
    assert fit.kappa == pytest.approx(2.0, rel=0.2)


def test_double_von_mises_finds_the_preferred_direction_and_the_null_peak():
    directions = np.arange(0, 360, 15.0)
    r = make_von_mises(
        directions, preferred_deg=200, kappa=3.0, amplitude=30.0, amplitude_null=10.0,
        baseline=1.0, period=360.0,
    )  # fmt: skip
    fit = compute_von_mises_fit(directions, r, period=360.0)
    assert fit.preferred_deg == pytest.approx(200.0, abs=1e-3)
    assert fit.amplitude_null == pytest.approx(10.0, rel=1e-3)
    np.testing.assert_allclose(fit(directions), r, atol=1e-6)


def test_hwhh_and_ringach_bandwidth_are_where_the_curve_says():
    fit = compute_von_mises_fit(
        np.arange(0, 180, 5.0),
        make_von_mises(np.arange(0, 180, 5.0), preferred_deg=0, kappa=2.0, amplitude=1.0),
    )
    assert fit(fit.hwhh_deg)[()] == pytest.approx(0.5, abs=1e-6)
    assert fit(fit.bandwidth_deg)[()] == pytest.approx(1 / np.sqrt(2), abs=1e-6)
    assert fit.bandwidth_deg < fit.hwhh_deg


def test_flat_or_too_short_curves_give_nan_fits():
    assert np.isnan(compute_von_mises_fit(np.arange(4.0), np.ones(4)).preferred_deg)
    assert np.isnan(compute_von_mises_fit([0.0, 90.0], [1.0, 2.0]).kappa)


@pytest.mark.parametrize(
    ("angles", "period", "limit"),
    [
        (np.arange(0, 180, 15.0), 180.0, 7.5),
        (np.arange(0, 360, 45.0), 360.0, 22.5),
        (np.array([350.0, 10.0, 30.0, 50.0]), 360.0, 10.0),  # the median step, across 0°
        (np.array([0.0, 180.0, 0.0]), 180.0, np.nan),  # one distinct orientation
    ],
)
def test_width_limit_is_half_the_sampling_step(angles, period, limit):
    np.testing.assert_equal(compute_width_limit_deg(angles, period=period), limit)
