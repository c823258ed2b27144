"""Analyses against cases with known answers, and on small recordings."""

from __future__ import annotations

import doctest
from types import SimpleNamespace

import numpy as np
import pytest

import v1lab.analysis as analysis_module
from v1lab.analysis import (
    compute_condition_f1_f0,
    compute_condition_table,
    compute_design,
    compute_dsi,
    compute_f1_f0,
    compute_factorial_tuning,
    compute_fano_factor,
    compute_gabor_fit,
    compute_global_dsi,
    compute_global_osi,
    compute_metrics,
    compute_naka_rushton_fit,
    compute_on_off_correlation,
    compute_orientation_tuning,
    compute_osi,
    compute_overlap_index,
    compute_psth,
    compute_raster,
    compute_sta,
    compute_suppression_index,
    compute_von_mises_fit,
    compute_width_limit_deg,
    make_gabor,
    make_naka_rushton,
    make_von_mises,
)
from v1lab.experiment import run_protocol
from v1lab.model.stimulus import Grating, SparseNoise
from v1lab.protocol import load_protocol, parse_protocol

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


# --------------------------------------------------------------------------------------
# F1/F0, PSTH, Fano factor
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Contrast response and length tuning
# --------------------------------------------------------------------------------------


def test_naka_rushton_fit_recovers_its_parameters():
    c = np.array([0.03, 0.06, 0.1, 0.2, 0.3, 0.5, 1.0])
    r = make_naka_rushton(c, r_max=42.0, c50=0.18, n=2.7, baseline=3.0)
    fit = compute_naka_rushton_fit(c, r, baseline=None)
    assert (fit.r_max, fit.c50, fit.n, fit.baseline) == pytest.approx(
        (42.0, 0.18, 2.7, 3.0), rel=1e-4
    )
    assert fit.r2 == pytest.approx(1.0)


def test_suppression_index():
    lengths = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    stopped = np.array([5.0, 20.0, 12.0, 6.0, 4.0])
    plateau = np.array([3.0, 10.0, 18.0, 20.0, 20.0])
    si = compute_suppression_index(lengths, np.column_stack([stopped, plateau]), baseline=2.0)
    np.testing.assert_allclose(si, [1 - 2 / 18, 0.0])


# --------------------------------------------------------------------------------------
# Receptive fields
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Factorial designs
# --------------------------------------------------------------------------------------


def test_factorial_tuning_reads_each_cell_through_its_own_preferred_condition():
    table = {
        "stimulus_condition_id": np.arange(6),
        "stimulus": np.array(["grating"] * 6),
        "direction_deg": np.array([0.0, 90, 180, 0, 90, 180]),
        "orientation_deg": np.array([90.0, 0, 90, 90, 0, 90]),
        "spatial_frequency_cpd": np.array([0.4, 0.4, 0.4, 0.8, 0.8, 0.8]),
    }
    mean = np.array([[1.0, 9], [5, 2], [1, 1], [2, 3], [8, 1], [2, 1]])
    values, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg")
    np.testing.assert_allclose(values, [0, 90, 180])
    np.testing.assert_allclose(m[:, 0], [2, 8, 2])  # cell 0 prefers 0.8 cpd
    np.testing.assert_allclose(m[:, 1], [9, 2, 1])  # cell 1 prefers 0.4 cpd
    _, m, _ = compute_factorial_tuning(table, mean, mean, "spatial_frequency_cpd")
    np.testing.assert_allclose(m, [[5, 9], [8, 3]])
    _, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg",
                                       fixed={"spatial_frequency_cpd": 0.4})  # fmt: skip
    np.testing.assert_allclose(m[:, 0], [1, 5, 1])


def test_each_shipped_protocol_declares_the_design_it_is_for():
    def design(name):
        p = load_protocol(name)
        return compute_design(SimpleNamespace(conditions=p.conditions(), protocol=p))

    assert design("hubel_wiesel_bars").direction_kind == "bar"
    d = design("drifting_gratings")
    assert d.direction_kind == "grating" and d.gratings and d.sf_tuning and d.tf_tuning
    assert design("contrast_series").contrast_series
    assert design("length_tuning").length_tuning
    d = design("spot_map")
    assert d.spot_map and d.diffuse and d.direction_kind is None
    assert design("sparse_noise").sparse_noise
    d = design("orientation_map")
    assert d.sheet and d.direction_kind == "grating"


# --------------------------------------------------------------------------------------
# Metrics on a recording
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grating_recording():
    data = {
        "name": "gratings",
        "seed": 4,
        "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
        "population": {"cells": [
            {"type": "simple", "orientation_deg": 30.0},
            {"type": "complex", "orientation_deg": 120.0},
        ]},
        "trials": {"n_trials": 4, "isi_s": 0.5},
        "stimuli": [{"kind": "grating", "spatial_frequency_cpd": 0.8, "temporal_frequency_hz": 4.0,
                     "duration_s": 1.0, "direction_deg": {"start": 0, "stop": 360, "step": 30},
                     "contrast": [0.1, 0.3, 1.0]}],
    }  # fmt: skip
    return run_protocol(parse_protocol(data))


def test_metrics_of_a_grating_contrast_series(grating_recording):
    m = compute_metrics(grating_recording)
    assert m["cell_type"].tolist() == ["simple", "complex"]
    for name in ("f1_f0", "hwhh_deg", "c50_measured", "nr_exponent", "hwhh_deg_c010",
                 "hwhh_deg_c100", "preferred_orientation_fit_deg", "fano_factor"):  # fmt: skip
        assert name in m and len(m[name]) == 2
    assert m["f1_f0"][0] > 1.0 > m["f1_f0"][1]  # Skottun et al. (1991)
    err = (m["preferred_orientation_fit_deg"] - m["preferred_orientation_deg"] + 90) % 180 - 90
    assert np.all(np.abs(err) < 10)
    assert np.all(m["g_osi"] > 0.3)


def test_widths_finer_than_the_sampling_are_reported_as_a_limit(grating_recording):
    # 30° direction steps: orientations 30° apart, so widths below 15° are not measured.
    directions = np.arange(0.0, 360.0, 30.0)
    assert compute_width_limit_deg(np.mod(directions - 90.0, 180.0)) == 15.0
    m = compute_metrics(grating_recording)
    hwhh, below = m["hwhh_deg"], m["hwhh_below_deg"]
    assert np.all(np.isfinite(hwhh) ^ np.isfinite(below))  # each cell one or the other
    assert np.all(hwhh[np.isfinite(hwhh)] >= 15.0)
    assert np.all(below[np.isfinite(below)] == 15.0)
    assert np.all(np.isnan(m["bandwidth_deg"][np.isfinite(below)]))
    # These two model cells are tuned more sharply than 30° sampling can tell.
    assert np.isfinite(below).sum() == 2
    for name in ("hwhh_deg_c010", "hwhh_deg_c030", "hwhh_deg_c100"):
        widths = m[name]
        assert np.all(widths[np.isfinite(widths)] >= 15.0)


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


def test_condition_table_lists_every_condition(grating_recording):
    table = compute_condition_table(grating_recording)
    assert len(table["stimulus_condition_id"]) == 36
    assert set(table["contrast"]) == {0.1, 0.3, 1.0}


def test_docstring_examples_run():
    result = doctest.testmod(analysis_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
