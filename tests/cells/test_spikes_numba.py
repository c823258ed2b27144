"""The compiled (numba) spike kernels against the pure-numpy fallback.

The compiled path is what runs when numba is installed; the numpy path is the reference.
Poisson: both paths make the same draws from the Generator, so their spikes are the same
up to floating-point rounding. LIF: the compiled path uses its own normal generator
(seeded from the Generator) and jumps over steps far from threshold, so the two agree in
distribution only; tolerances are ~5 standard errors of each statistic (fixed seeds).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from v1lab.cells import _common
from v1lab.cells import _kernels as kernels
from v1lab.cells.lif import sim_lif
from v1lab.cells.poisson import sim_poisson_dead_time

FS = 1000.0


@pytest.fixture(autouse=True)
def compiled_for_any_size(monkeypatch):
    """These tests are small; let the compiled path run whatever the size."""
    monkeypatch.setattr(_common, "NUMBA_MIN_WORK", 0)


@pytest.fixture
def numpy_path(monkeypatch):
    """Run the body with the compiled kernels switched off."""

    def use(flag: bool) -> None:
        monkeypatch.setattr(_common, "USE_NUMBA", flag)

    return use


def varied_rates(n_samples: int, n_cells: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples)[:, None] / FS
    rates = rng.uniform(0, 60, n_cells) * (
        1 + np.sin(2 * np.pi * 3 * t + rng.uniform(0, 6, n_cells))
    )
    rates[:, 3] = 0.0  # a silent cell
    rates[rng.random(rates.shape) < 0.2] = 0.0  # silent samples
    rates[100:110, 5] = 450.0  # near the 1 / dead time limit
    return rates


def test_switch_selects_the_path(numpy_path, monkeypatch):
    assert _common.compiled_kernels() is kernels
    monkeypatch.setattr(_common, "NUMBA_MIN_WORK", 1000)
    assert _common.compiled_kernels(999) is None  # small work: numpy, no numba import
    assert _common.compiled_kernels(1000) is kernels
    numpy_path(False)
    assert _common.compiled_kernels() is None


@pytest.mark.parametrize("dead_time_s", [0.002, 0.0])
def test_poisson_paths_give_the_same_spikes(numpy_path, dead_time_s):
    # Same Poisson counts and exponentials from the Generator, same time rescaling and
    # the same greedy dead-time rule: the trains match; times differ only by rounding
    # of the cumulative intensity (per cell here, concatenated over cells in numpy).
    rates = varied_rates(700, 40, 1)
    fast = sim_poisson_dead_time(
        rates, FS, n_trials=7, dead_time_s=dead_time_s, rng=np.random.default_rng(2)
    )
    numpy_path(False)
    slow = sim_poisson_dead_time(
        rates, FS, n_trials=7, dead_time_s=dead_time_s, rng=np.random.default_rng(2)
    )
    assert fast.n_spikes > 3_000
    np.testing.assert_array_equal(fast.indptr, slow.indptr)
    np.testing.assert_allclose(fast.times_s, slow.times_s, rtol=0, atol=1e-9)
    assert fast.times_s.max() < fast.duration_s
    if dead_time_s:
        isi = np.diff(fast.times_s)
        same_train = np.ones(isi.size, bool)
        same_train[fast.indptr[1:-1][fast.indptr[1:-1] > 0] - 1] = False
        assert isi[same_train].min() >= dead_time_s


def test_poisson_compiled_statistics():
    # Constant 30 spikes/s with a 2-ms dead time: renewal process with intervals
    # d + Exp(λ), so FF -> (1 - r d)² = 0.8836; see test_poisson for the SDs.
    rng = np.random.default_rng(3)
    st = sim_poisson_dead_time(np.full((2000, 400), 30.0), FS, n_trials=10, rng=rng)
    counts = st.counts().ravel()
    expected = counts.size * (30.0 * 2.0 + (30.0 * 0.002) ** 2 / 2)
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected)
    ff = counts.var(ddof=1) / counts.mean()
    assert abs(ff - 0.8836) < 5 * 0.8836 * math.sqrt(2 / (counts.size - 1))


def test_ziggurat_normals_are_standard_normal():
    from scipy import stats

    out = np.empty(2_000_000)
    kernels.fill_normal(kernels.seed_state(np.random.default_rng(4)), out)
    n = out.size
    assert abs(out.mean()) < 5 / math.sqrt(n)
    assert abs(out.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(np.mean(out**4) - 3) < 5 * math.sqrt(96 / n)
    # The tail beyond the ziggurat's base (r = 3.654) is reached and has the right mass.
    tail = np.mean(np.abs(out) > 3.6541528853610088)
    p = 2 * stats.norm.sf(3.6541528853610088)
    assert abs(tail - p) < 5 * math.sqrt(p / n)
    assert stats.kstest(out[:200_000], "norm").pvalue > 1e-4


def lif_stats(st):
    counts = st.counts()
    isi = [np.diff(st.train(k // st.n_cells, k % st.n_cells)) for k in range(st.n_trains)]
    cv = np.array([x.std() / x.mean() for x in isi if x.size >= 4])
    return counts, cv


@pytest.mark.parametrize("macro_steps", [kernels.MACRO_STEPS, 1])
def test_lif_paths_agree_in_distribution(numpy_path, monkeypatch, macro_steps):
    # A time-varying drive (2 to 45 spikes/s) over 300 cells × 4 trials × 1 s. The mean
    # count per cell is compared cell by cell in aggregate: the two paths' totals differ
    # by less than 5 SD of the difference (SD from the observed count variance); the
    # mean ISI CV (trains with >= 5 spikes) within 0.03 (its SE here is ~0.004).
    monkeypatch.setattr(kernels, "MACRO_STEPS", macro_steps)
    t = np.arange(1000)[:, None] / FS
    rates = 2.0 + 43.0 * np.exp(-0.5 * ((t - 0.5) / 0.15) ** 2) * np.linspace(0, 1, 300)
    fast = sim_lif(rates, FS, n_trials=4, rng=np.random.default_rng(5))
    numpy_path(False)
    slow = sim_lif(rates, FS, n_trials=4, rng=np.random.default_rng(6))
    c_fast, cv_fast = lif_stats(fast)
    c_slow, cv_slow = lif_stats(slow)
    sd = math.sqrt(c_fast.var() * c_fast.size + c_slow.var() * c_slow.size)
    assert abs(c_fast.sum() - c_slow.sum()) < 5 * sd
    assert abs(cv_fast.mean() - cv_slow.mean()) < 0.03
    # Per cell, the Fano factor over trials and cells pooled is Poisson-like below 1.
    ff_fast = (c_fast.var(axis=0, ddof=1) / np.maximum(c_fast.mean(axis=0), 1e-9))[100:]
    ff_slow = (c_slow.var(axis=0, ddof=1) / np.maximum(c_slow.mean(axis=0), 1e-9))[100:]
    assert abs(ff_fast.mean() - ff_slow.mean()) < 0.15
    isi = np.diff(fast.times_s)
    same = np.ones(isi.size, bool)
    same[fast.indptr[1:-1][fast.indptr[1:-1] > 0] - 1] = False
    assert isi[same].min() >= 0.002
    assert fast.times_s.min() >= 0 and fast.times_s.max() < 1.0


def test_lif_compiled_rate_follows_target():
    # As test_lif.test_lif_rate_follows_target, for the compiled path: a constant
    # target; expected count r (T + t_ref + dt/2) + (CV² - 1)/2 per train; 5 SD + 2 %.
    for target in (5.0, 40.0):
        st = sim_lif(np.full((2000, 500), target), FS, rng=np.random.default_rng(7))
        counts = st.counts()[0]
        isi = np.concatenate([np.diff(st.train(0, c)) for c in range(500)])
        cv2 = isi.var() / isi.mean() ** 2
        expected = target * (2.0 + 0.002 + 0.5e-4) + (cv2 - 1) / 2
        sd = math.sqrt(counts.var(ddof=1) / counts.size)
        assert abs(counts.mean() - expected) < 5 * sd + 0.02 * expected


def test_lif_compiled_reproducible():
    rates = np.full((300, 20), 30.0)
    a = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(8))
    b = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(8))
    c = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(9))
    assert a == b and a != c
