"""F1/F0, PSTH, raster and Fano factor on signals and spikes with known answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from v1lab.analysis import (
    compute_condition_f1_f0,
    compute_f1_f0,
    compute_fano_factor,
    compute_psth,
    compute_raster,
)
from v1lab.model.stimulus import Grating


def test_half_wave_rectified_sinusoid_has_f1_over_f0_of_pi_over_2():
    fs, tf = 2000.0, 3.0
    t = np.arange(int(fs)) / fs
    f1, f0 = compute_f1_f0(np.maximum(np.sin(2 * np.pi * tf * t), 0.0), fs, tf)
    assert f1 / f0 == pytest.approx(np.pi / 2, rel=1e-6)
    f1, f0 = compute_f1_f0(np.full(1000, 5.0), 1000.0, 4.0)  # unmodulated: F1 = 0
    assert f1 == pytest.approx(0.0, abs=1e-9) and f0 == pytest.approx(5.0)


def _fake_grating_recording(rate_fn, *, tf=2.0, n_trials=40, seed=0):
    """A recording of one grating condition with spikes drawn from rate_fn(t)."""
    rng = np.random.default_rng(seed)
    grating = Grating(direction_deg=0.0, temporal_frequency_hz=tf, duration_s=2.0)
    starts = 1.0 + 3.0 * np.arange(n_trials)
    dt = 1e-4
    t = np.arange(0, 2.0, dt)
    rate = rate_fn(t)
    spikes = [s + t[rng.random(t.size) < rate * dt] for s in starts]
    return SimpleNamespace(
        conditions=[grating],
        n_cells=1,
        presentations={
            "start_time": starts,
            "stop_time": starts + 2.0,
            "stimulus_condition_id": np.zeros(n_trials, int),
            "stimulus": np.array(["grating"] * n_trials),
        },
        spike_times=[np.concatenate(spikes)],
        protocol=SimpleNamespace(retina=SimpleNamespace(kernel_s=0.4)),
        duration_s=float(starts[-1] + 3.0),
    )


def test_f1_f0_from_spike_times_of_a_rectified_sinusoidal_rate():
    rec = _fake_grating_recording(lambda t: 40.0 * np.maximum(np.sin(2 * np.pi * 2.0 * t), 0))
    f1, f0 = compute_condition_f1_f0(rec, baseline_hz=np.zeros(1))
    assert f1[0, 0] / f0[0, 0] == pytest.approx(np.pi / 2, rel=0.1)
    flat = _fake_grating_recording(lambda t: np.full_like(t, 20.0))
    f1, f0 = compute_condition_f1_f0(flat, baseline_hz=np.zeros(1))
    assert f1[0, 0] / f0[0, 0] < 0.2


def test_psth_and_raster_follow_the_spikes():
    rec = _fake_grating_recording(lambda t: np.where(t < 1.0, 50.0, 0.0), n_trials=30)
    t, rate, sem = compute_psth(rec, 0, bin_s=0.25)
    np.testing.assert_allclose(t, [0.125, 0.375, 0.625, 0.875, 1.125, 1.375, 1.625, 1.875])
    assert np.all(np.abs(rate[:4, 0] - 50) < 12) and np.all(rate[4:, 0] == 0)
    assert sem.shape == rate.shape
    trains = compute_raster(rec, 0, 0)
    assert len(trains) == 30 and all(np.all((tr >= 0) & (tr < 1.0)) for tr in trains)


def test_fano_factor_of_poisson_counts_is_near_one():
    rng = np.random.default_rng(1)
    counts = rng.poisson(12.0, size=(4000, 2))
    ids, fano = compute_fano_factor(counts, np.repeat([0, 1], 2000))
    np.testing.assert_allclose(fano, 1.0, atol=0.1)
    assert ids.tolist() == [0, 1]
