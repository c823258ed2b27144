"""Measuring orientation maps: pinwheel detection, column spacing, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.analysis import (
    compute_column_spacing,
    compute_orientation_map,
    compute_pinwheel_density,
    compute_pinwheels,
)
from v1lab.model.maps import make_orientation_field, make_sheet_positions


def _pinwheel(x, y, x0, y0, sign=1):
    return np.rad2deg(np.angle((x - x0) + sign * 1j * (y - y0))) / 2


def test_a_synthetic_pinwheel_is_found_where_it_is_with_its_sign():
    x, y = make_sheet_positions(40, 4.0)
    pw = compute_pinwheels(_pinwheel(x, y, 1.23, 2.61), spacing=0.1)
    assert len(pw) == 1 and pw.sign.tolist() == [1]
    assert abs(pw.x[0] - 1.23) <= 0.05 and abs(pw.y[0] - 2.61) <= 0.05
    pw = compute_pinwheels(_pinwheel(x, y, 2.0, 2.0, sign=-1), spacing=0.1)
    assert pw.sign.tolist() == [-1]


def test_a_pair_of_opposite_pinwheels_and_a_smooth_map_without_any():
    x, y = make_sheet_positions(50, 5.0)
    theta = _pinwheel(x, y, 1.52, 2.47) + _pinwheel(x, y, 3.53, 2.47, sign=-1)
    pw = compute_pinwheels(theta, spacing=0.1)
    assert sorted(pw.sign.tolist()) == [-1, 1]
    assert sorted(np.round(pw.x, 1).tolist()) == [1.5, 3.5]
    assert len(compute_pinwheels(30.0 * x)) == 0  # a linear zone: no singularity


def test_random_wave_maps_have_pi_pinwheels_per_column_spacing_squared():
    densities, spacings = [], []
    for seed in range(4):
        x, y = make_sheet_positions(200, 16.0)
        z = make_orientation_field(x, y, column_spacing_mm=1.0, rng=np.random.default_rng(seed))
        pw = compute_pinwheels(z, spacing=16.0 / 200)
        spacings.append(compute_column_spacing(z, spacing=16.0 / 200))
        densities.append(compute_pinwheel_density(len(pw), 256.0, 1.0))
    assert np.mean(densities) == pytest.approx(np.pi, rel=0.08)  # Kaschube et al. (2010)
    assert np.mean(spacings) == pytest.approx(1.0, rel=0.03)
    # Equal numbers of both signs (topological charge is conserved).
    assert abs(np.sum(pw.sign)) <= 0.1 * len(pw)


def test_smoothing_removes_noise_pinwheels():
    x, y = make_sheet_positions(100, 6.0)
    z = make_orientation_field(x, y, column_spacing_mm=1.0, rng=np.random.default_rng(8))
    truth = np.rad2deg(np.angle(z)) / 2
    noisy = truth + np.random.default_rng(1).normal(0, 25.0, truth.shape)
    n_true = len(compute_pinwheels(truth))
    assert len(compute_pinwheels(noisy)) > 1.3 * n_true
    smoothed = compute_orientation_map(noisy, smooth_px=1.0)
    assert len(compute_pinwheels(smoothed)) == pytest.approx(n_true, rel=0.1)
