"""Tests for v1lab.cells.poisson: statistics of the Poisson spike generator with dead time.

Every statistical tolerance is derived from the sampling distribution of the statistic
(written next to it) and set at about 5 standard deviations; seeds are fixed, so a
failure means a real change, not bad luck.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _spike_stats import within_train_isis

from v1lab._validate import ParameterError
from v1lab.cells import poisson
from v1lab.cells.poisson import sim_poisson_dead_time

FS = 1000.0
DEAD_S = 0.002


@pytest.fixture(params=["numpy", "compiled"])
def either_path(request, monkeypatch):
    """Run the test on the numpy path and on the compiled (numba) path, whatever the size."""
    from v1lab.cells import _common

    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(_common, "NUMBA_MIN_WORK", 0)
        assert _common.compiled_kernels() is not None
    else:
        monkeypatch.setattr(_common, "USE_NUMBA", False)
    return request.param


def constant(rate_hz: float, n_cells: int, duration_s: float) -> np.ndarray:
    return np.full((round(duration_s * FS), n_cells), rate_hz)


def test_no_interval_shorter_than_dead_time(either_path):
    # High, varying rates (up to r·d = 0.9) make many drive events fall inside dead periods.
    rng = np.random.default_rng(1)
    rates = rng.uniform(0.0, 450.0, size=(500, 200))
    st = sim_poisson_dead_time(rates, FS, n_trials=5, dead_time_s=DEAD_S, rng=rng)
    isi = within_train_isis(st)
    assert st.n_spikes > 100_000
    assert isi.min() >= DEAD_S


def greedy_dead_time(times, indptr, dead_s):
    """Reference: walk each train, keep a spike if it is >= dead_s after the last kept."""
    kept, counts = [], []
    for k in range(indptr.size - 1):
        last = -np.inf
        n = 0
        for t in times[indptr[k] : indptr[k + 1]]:
            if t - last >= dead_s:
                kept.append(t)
                last = t
                n += 1
        counts.append(n)
    return np.array(kept), np.concatenate([[0], np.cumsum(counts)])


@pytest.mark.parametrize("max_walk", [64, 1])
@pytest.mark.parametrize("density", [0.3, 8.0])
def test_dead_time_deletion_matches_sequential_greedy(monkeypatch, max_walk, density):
    # density = expected events per dead time: 0.3 gives short clusters, 8 gives clusters
    # spanning whole trains; max_walk = 1 forces the pointer-doubling path.
    monkeypatch.setattr(poisson, "_MAX_CHAIN_WALK", max_walk)
    rng = np.random.default_rng(10)
    counts = rng.poisson(density * 100, size=30)
    counts[[3, 17]] = 0  # empty trains
    counts[5] = 1
    times = np.concatenate([np.sort(rng.uniform(0, 100 * DEAD_S, c)) for c in counts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    times[indptr[1] + 1] = times[indptr[1]]  # an exact tie inside train 1
    got_t, got_ptr = poisson.apply_dead_time(times, indptr, DEAD_S)
    want_t, want_ptr = greedy_dead_time(times, indptr, DEAD_S)
    np.testing.assert_array_equal(got_ptr, want_ptr)
    np.testing.assert_array_equal(got_t, want_t)


@pytest.mark.parametrize("rate_hz", [5.0, 20.0, 100.0, 300.0])
def test_mean_rate_matches_request(rate_hz, either_path):
    # Expected count per train over [0, T): the output is a renewal process with
    # intervals d + Exp(λ), λ = r/(1 - r d), started as if a spike had occurred at -d.
    # Renewal theory gives E[N] = r T + (r d)²/2 (start-up term; 0.18 spikes at 300 Hz).
    # SD of the total over n trains: sqrt(n Var N) <= sqrt(n E[N]) because the Fano
    # factor of a dead-time process is < 1. Tolerance: 5 SD.
    n_cells, n_trials, duration_s = 200, 20, 1.0
    rng = np.random.default_rng(2)
    st = sim_poisson_dead_time(
        constant(rate_hz, n_cells, duration_s),
        FS,
        n_trials=n_trials,
        dead_time_s=DEAD_S,
        rng=rng,
    )
    n_trains = n_cells * n_trials
    expected = n_trains * (rate_hz * duration_s + (rate_hz * DEAD_S) ** 2 / 2)
    assert abs(st.n_spikes - expected) < 5 * math.sqrt(expected)


def test_psth_follows_modulated_rate(either_path):
    # r(t) = 40 + 30 sin(2π 4 t) Hz. Per 25-ms bin, the count summed over n independent
    # trains has mean n ∫_bin r and variance <= that mean (Fano factor < 1 with dead
    # time), so z = (obs - exp) / sqrt(exp) has |z| <= N(0, 1); 40 bins, bound 5.
    # The dead-time compensation is exact only for constant rates; for a varying rate the
    # error is about λ d² r'/2 <= 0.1 spikes/s here, i.e. 0.25 % or < 0.2 SD per bin.
    rng = np.random.default_rng(3)
    t_s = np.arange(1000) / FS
    profile = 40.0 + 30.0 * np.sin(2 * np.pi * 4.0 * t_s)
    n_cells, n_trials = 200, 20
    rates = np.repeat(profile[:, None], n_cells, axis=1)
    st = sim_poisson_dead_time(rates, FS, n_trials=n_trials, dead_time_s=DEAD_S, rng=rng)
    edges_s = np.linspace(0.0, 1.0, 41)
    observed, _ = np.histogram(st.times_s, edges_s)
    expected = n_cells * n_trials * profile.reshape(40, 25).sum(axis=1) / FS
    z = (observed - expected) / np.sqrt(expected)
    assert np.abs(z).max() < 5.0
    # Chi-square-like bound: Σz² has mean <= 40 and SD <= sqrt(80).
    assert (z**2).sum() < 40 + 5 * math.sqrt(80)


def test_fano_factor_of_dead_time_process(either_path):
    # For a stationary renewal process, Var N / E N -> CV² of the interval; with
    # intervals d + Exp(λ): CV² = (1/λ)² / (d + 1/λ)² = (1 - r d)² = 0.9216 for
    # r = 20 Hz, d = 2 ms. The sample variance of n near-normal counts has relative SD
    # sqrt(2 / (n - 1)) (the mean's error is 10x smaller), so FF's SD is
    # 0.92 * sqrt(2 / 9999) = 0.013; tolerance 5 SD.
    rng = np.random.default_rng(4)
    st = sim_poisson_dead_time(constant(20.0, 500, 2.0), FS, n_trials=20, rng=rng)
    counts = st.counts().ravel()
    ff = counts.var(ddof=1) / counts.mean()
    theory = (1 - 20.0 * DEAD_S) ** 2
    assert abs(ff - theory) < 5 * theory * math.sqrt(2 / (counts.size - 1))
    assert 0.8 < ff < 1.1


def test_zero_dead_time_is_plain_poisson(either_path):
    # Poisson counts: FF = 1 with SD sqrt(2 / (n - 1)) = 0.014; mean count 20 per train,
    # SD of the total sqrt(n · 20). Short intervals must now occur. With a constant rate
    # a spike's position within its sample is uniform (KS test; a fixed seed, so the
    # 1e-4 bound is a 1-in-10,000 check).
    from scipy import stats

    rng = np.random.default_rng(5)
    st = sim_poisson_dead_time(constant(20.0, 500, 1.0), FS, n_trials=20, dead_time_s=0.0, rng=rng)
    counts = st.counts().ravel()
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 5 * math.sqrt(2 / (counts.size - 1))
    expected = counts.size * 20.0
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected)
    assert within_train_isis(st).min() < DEAD_S
    within = st.times_s[:50_000] * FS % 1.0
    assert stats.kstest(within, "uniform").pvalue > 1e-4


def test_same_seed_same_spikes_different_seed_different(either_path):
    rates = np.random.default_rng(0).uniform(0, 80, size=(300, 20))
    a = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(7))
    b = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(7))
    c = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(8))
    assert a == b
    assert a.times_s.tobytes() == b.times_s.tobytes()
    assert a != c


def test_times_continuous_in_window_and_only_where_rate_positive(either_path):
    rng = np.random.default_rng(9)
    rates = rng.uniform(0, 200, size=(400, 50))
    rates[rng.random(rates.shape) < 0.5] = 0.0  # half the samples silent
    st = sim_poisson_dead_time(rates, FS, n_trials=20, rng=rng)
    t = st.times_s
    assert t.size > 10_000  # ~50 spikes/s mean × 0.4 s × 1000 trains
    assert t.min() >= 0.0 and t.max() < st.duration_s == 0.4
    sample = np.floor(t * FS).astype(int)
    # Never on a sample edge (the time-rescaling map is continuous within a sample).
    assert not np.any(t == sample / FS)
    assert not np.any(t == (sample + 1) / FS)
    # Every spike sits in a sample of its own cell whose rate is positive.
    cell = np.repeat(np.arange(st.n_trains) % st.n_cells, np.diff(st.indptr))
    assert np.all(rates[sample, cell] > 0)


def test_zero_rates_give_no_spikes(either_path):
    st = sim_poisson_dead_time(np.zeros((500, 7)), FS, n_trials=3, rng=np.random.default_rng(0))
    assert st.n_spikes == 0
    assert st.counts().shape == (3, 7) and not st.counts().any()


def test_single_hot_sample_and_one_cell_of_many(either_path):
    # Rate in one sample only: every spike of that cell falls in [10, 11) ms.
    rates = np.zeros((50, 3))
    rates[10, 1] = 400.0
    st = sim_poisson_dead_time(
        rates, FS, n_trials=2000, dead_time_s=0.0, rng=np.random.default_rng(11)
    )
    assert st.counts()[:, [0, 2]].sum() == 0
    hot = np.concatenate([st.train(k, 1) for k in range(st.n_trials)])
    assert hot.size > 0 and hot.min() >= 0.010 and hot.max() < 0.011


def test_rate_limit_message_names_the_maximum(either_path):
    with pytest.raises(ParameterError, match=r"1 / dead_time_s = 500"):
        sim_poisson_dead_time(np.full((10, 1), 600.0), FS, rng=np.random.default_rng(0))
    # Just below the limit is allowed.
    sim_poisson_dead_time(np.full((10, 1), 499.0), FS, rng=np.random.default_rng(0))
