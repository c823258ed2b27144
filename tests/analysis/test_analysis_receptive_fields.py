"""Receptive-field measures: ON/OFF maps, Gabor fits and the spike-triggered average."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from v1lab.analysis import (
    compute_gabor_fit,
    compute_on_off_correlation,
    compute_overlap_index,
    compute_sta,
    make_gabor,
)
from v1lab.model.stimulus import SparseNoise


def test_on_off_correlation_and_overlap_index_tell_apart_simple_and_complex_maps():
    x = np.linspace(-1.5, 1.5, 13)
    xx, yy = np.meshgrid(x, x[::-1])
    rf = make_gabor(xx, yy, orientation_deg=90, sigma_across_deg=0.4, sigma_along_deg=0.7,
                    spatial_frequency_cpd=0.8, phase_deg=90)  # fmt: skip
    on, off = np.maximum(rf, 0), np.maximum(-rf, 0)  # simple: separate subregions
    energy = np.hypot(rf, make_gabor(xx, yy, orientation_deg=90, sigma_across_deg=0.4,
                                     sigma_along_deg=0.7, spatial_frequency_cpd=0.8))  # fmt: skip
    assert compute_on_off_correlation(on, off)[0] < -0.1
    assert compute_on_off_correlation(energy, energy)[0] == pytest.approx(1.0)
    assert compute_overlap_index(on, off, x, x[::-1])[0] < 0.5
    assert compute_overlap_index(energy, energy, x, x[::-1])[0] == 1.0


def test_gabor_fit_recovers_a_generated_gabor_with_noise():
    rng = np.random.default_rng(7)
    x = np.linspace(-2.0, 2.0, 25)
    y = x[::-1]
    truth = dict(x0_deg=-0.3, y0_deg=0.2, orientation_deg=125.0, sigma_across_deg=0.45,
                 sigma_along_deg=0.75, spatial_frequency_cpd=0.85, phase_deg=250.0, amplitude=1.0)  # fmt: skip
    image = make_gabor(*np.meshgrid(x, y), **truth) + rng.normal(0, 0.05, (25, 25))
    fit = compute_gabor_fit(image, x, y)
    assert fit.orientation_deg == pytest.approx(125.0, abs=3)
    assert fit.spatial_frequency_cpd == pytest.approx(0.85, rel=0.05)
    assert (fit.phase_deg - 250 + 180) % 360 - 180 == pytest.approx(0.0, abs=8)
    assert fit.nx == pytest.approx(0.45 * 0.85, rel=0.1)  # Ringach (2002): nx = σx f
    assert fit.ny == pytest.approx(0.75 * 0.85, rel=0.1)
    assert (fit.x_deg, fit.y_deg) == pytest.approx((-0.3, 0.2), abs=0.05)
    assert fit.r2 > 0.9
    assert np.isnan(compute_gabor_fit(np.zeros((5, 5)), x[:5], y[:5]).r2)


def test_sta_recovers_the_receptive_field_and_latency_of_a_linear_cell():
    # A linear-nonlinear cell whose spikes follow the noise frame shown 40 ms earlier.
    noise = SparseNoise(grid_size=8, square_deg=0.5, density=0.5, frame_duration_s=0.02,
                        duration_s=200.0, noise_seed=4)  # fmt: skip
    x, y = noise.square_centres_deg()
    rf = make_gabor(*np.meshgrid(x, y), orientation_deg=30, sigma_across_deg=0.6,
                    sigma_along_deg=0.9, spatial_frequency_cpd=0.6)  # fmt: skip
    drive = noise.pattern().reshape(noise.n_noise_frames, -1) @ rf.ravel()
    rate = 30.0 * np.maximum(drive, 0)
    rng = np.random.default_rng(2)
    counts = rng.poisson(rate * noise.frame_duration_s)
    k = np.repeat(np.arange(noise.n_noise_frames), counts)
    times = (k + rng.random(k.size)) * noise.frame_duration_s + 0.04 + 1.0
    times = np.sort(times[times < 1.0 + noise.duration_s])
    rec = SimpleNamespace(
        conditions=[noise], n_cells=1, spike_times=[times],
        presentations={"start_time": np.array([1.0]), "stop_time": np.array([201.0]),
                       "stimulus_condition_id": np.array([0])},
    )  # fmt: skip
    sta = compute_sta(rec, lags_s=np.arange(-0.04, 0.1, 0.01))
    best = sta.at_best_lag()[..., 0]
    assert 0.03 <= sta.lags_s[sta.best_lag[0]] <= 0.06
    assert np.corrcoef(best.ravel(), rf.ravel())[0, 1] > 0.95
    assert sta.snr[0] > 10
