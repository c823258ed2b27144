"""Tests for v1lab.cells.spikes: statistics of the Poisson/dead-time and LIF spike generators.

Every statistical tolerance is derived from the sampling distribution of the statistic
(written next to it) and set at about 5 standard deviations; seeds are fixed, so a
failure means a real change, not bad luck.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.cells import spikes
from v1lab.cells.spikes import (
    SPIKE_MODELS,
    SpikeTrains,
    sim_lif,
    sim_poisson_dead_time,
    sim_spikes,
)

FS = 1000.0
DEAD_S = 0.002


def within_train_isis(st: SpikeTrains) -> np.ndarray:
    """All interspike intervals, with the gaps across train boundaries removed."""
    diffs = np.diff(st.times_s)
    boundary = st.indptr[1:-1] - 1  # diff index that straddles two trains
    keep = np.ones(diffs.size, dtype=bool)
    keep[boundary[(boundary >= 0) & (boundary < diffs.size)]] = False
    return diffs[keep]


def constant(rate_hz: float, n_cells: int, duration_s: float) -> np.ndarray:
    return np.full((round(duration_s * FS), n_cells), rate_hz)


# --------------------------------------------------------------------------------------
# SpikeTrains container
# --------------------------------------------------------------------------------------


def test_spiketrains_layout_and_methods():
    st = SpikeTrains(np.array([0.1, 0.4, 0.2, 0.3]), np.array([0, 2, 2, 3, 4]), 2, 2, 0.5)
    np.testing.assert_array_equal(st.train(0, 0), [0.1, 0.4])
    assert st.train(0, 1).size == 0
    np.testing.assert_array_equal(st.train(1, 1), [0.3])
    np.testing.assert_array_equal(st.counts(), [[2, 0], [1, 1]])
    assert st.counts().dtype == np.int64
    assert st.n_trains == 4 and st.n_spikes == 4
    moved = st.shifted(2.0)
    np.testing.assert_allclose(moved.times_s, st.times_s + 2.0)
    np.testing.assert_array_equal(moved.indptr, st.indptr)
    assert moved.duration_s == st.duration_s
    with pytest.raises(ValueError):
        st.times_s[0] = 1.0  # read-only
    with pytest.raises(ParameterError, match="trial"):
        st.train(2, 0)
    with pytest.raises(ParameterError, match="indptr"):
        SpikeTrains(np.array([0.1]), np.array([0, 2]), 1, 1, 1.0)


# --------------------------------------------------------------------------------------
# Poisson with dead time
# --------------------------------------------------------------------------------------


def test_no_interval_shorter_than_dead_time():
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
    monkeypatch.setattr(spikes, "_MAX_CHAIN_WALK", max_walk)
    rng = np.random.default_rng(10)
    counts = rng.poisson(density * 100, size=30)
    counts[[3, 17]] = 0  # empty trains
    counts[5] = 1
    times = np.concatenate([np.sort(rng.uniform(0, 100 * DEAD_S, c)) for c in counts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    times[indptr[1] + 1] = times[indptr[1]]  # an exact tie inside train 1
    got_t, got_ptr = spikes.apply_dead_time(times, indptr, DEAD_S)
    want_t, want_ptr = greedy_dead_time(times, indptr, DEAD_S)
    np.testing.assert_array_equal(got_ptr, want_ptr)
    np.testing.assert_array_equal(got_t, want_t)


@pytest.mark.parametrize("rate_hz", [5.0, 20.0, 100.0, 300.0])
def test_mean_rate_matches_request(rate_hz):
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


def test_psth_follows_modulated_rate():
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


def test_fano_factor_of_dead_time_process():
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


def test_zero_dead_time_is_plain_poisson():
    # Poisson counts: FF = 1 with SD sqrt(2 / (n - 1)) = 0.014; mean count 20 per train,
    # SD of the total sqrt(n · 20). Short intervals must now occur.
    rng = np.random.default_rng(5)
    st = sim_poisson_dead_time(constant(20.0, 500, 1.0), FS, n_trials=20, dead_time_s=0.0, rng=rng)
    counts = st.counts().ravel()
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 5 * math.sqrt(2 / (counts.size - 1))
    expected = counts.size * 20.0
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected)
    assert within_train_isis(st).min() < DEAD_S


def test_same_seed_same_spikes_different_seed_different():
    rates = np.random.default_rng(0).uniform(0, 80, size=(300, 20))
    a = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(7))
    b = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(7))
    c = sim_poisson_dead_time(rates, FS, n_trials=3, rng=np.random.default_rng(8))
    assert a == b
    assert a.times_s.tobytes() == b.times_s.tobytes()
    assert a != c


def test_times_continuous_in_window_and_only_where_rate_positive():
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


def test_zero_rates_give_no_spikes():
    st = sim_poisson_dead_time(np.zeros((500, 7)), FS, n_trials=3, rng=np.random.default_rng(0))
    assert st.n_spikes == 0
    assert st.counts().shape == (3, 7) and not st.counts().any()


def test_single_hot_sample_and_one_cell_of_many():
    # Rate in one sample only: every spike of that cell falls in [10, 11) ms.
    rates = np.zeros((50, 3))
    rates[10, 1] = 400.0
    st = sim_poisson_dead_time(
        rates, FS, n_trials=2000, dead_time_s=0.0, rng=np.random.default_rng(11)
    )
    assert st.counts()[:, [0, 2]].sum() == 0
    hot = np.concatenate([st.train(k, 1) for k in range(st.n_trials)])
    assert hot.size > 0 and hot.min() >= 0.010 and hot.max() < 0.011


# --------------------------------------------------------------------------------------
# Leaky integrate-and-fire
# --------------------------------------------------------------------------------------

LIF_TARGETS_HZ = (5.0, 20.0, 50.0)
LIF_CELLS = 700  # per target
LIF_DURATION_S = 2.0


@pytest.fixture(scope="module")
def lif_run() -> SpikeTrains:
    rates = np.repeat(np.array(LIF_TARGETS_HZ), LIF_CELLS)[None, :]
    rates = np.repeat(rates, round(LIF_DURATION_S * FS), axis=0)
    return sim_lif(rates, FS, n_trials=1, rng=np.random.default_rng(12))


@pytest.mark.parametrize("which", range(len(LIF_TARGETS_HZ)))
def test_lif_rate_follows_target(lif_run, which):
    # The mean input comes from inverting the stationary (Siegert) rate, which the
    # simulation matches up to O(dt) once missed crossings between steps are restored by
    # the Brownian-bridge test (without it the rate is ~9 % low at 5 Hz). Each trial
    # starts at reset right after a refractory period, so renewal theory gives
    # E[N] = r (T + t_ref + dt/2) + (CV² - 1)/2 per train. Tolerance: 5 SD of the mean
    # count, SD = sqrt(FF · mean / n), plus 2 % for the residual discretisation.
    target = LIF_TARGETS_HZ[which]
    cells = slice(which * LIF_CELLS, (which + 1) * LIF_CELLS)
    counts = lif_run.counts()[0, cells]
    isi = np.concatenate([np.diff(lif_run.train(0, c)) for c in range(cells.start, cells.stop)])
    cv2 = isi.var() / isi.mean() ** 2
    expected = target * (LIF_DURATION_S + 0.002 + 0.5e-4) + (cv2 - 1) / 2
    sd = math.sqrt(counts.var(ddof=1) / counts.size)
    assert abs(counts.mean() - expected) < 5 * sd + 0.02 * expected
    assert abs(counts.mean() / (target * LIF_DURATION_S) - 1) < 0.10


def test_lif_intervals_refractory_and_irregular(lif_run):
    isi = within_train_isis(lif_run)
    assert isi.min() >= 0.002
    low = slice(0, LIF_CELLS)  # 5 Hz: noise-driven, Poisson-like
    isi_low = np.concatenate([np.diff(lif_run.train(0, c)) for c in range(low.start, low.stop)])
    assert isi_low.std() / isi_low.mean() > 0.3
    assert lif_run.times_s.min() >= 0 and lif_run.times_s.max() < LIF_DURATION_S


def test_lif_reproducible_and_continuous_times():
    rates = np.full((300, 20), 30.0)
    a = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(13))
    b = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(13))
    c = sim_lif(rates, FS, n_trials=2, rng=np.random.default_rng(14))
    assert a == b and a != c
    steps = np.round(a.times_s / 1e-4)
    assert np.mean(np.abs(a.times_s - steps * 1e-4) > 1e-12) > 0.5  # not on step edges


def test_lif_zero_target_is_silent():
    st = sim_lif(np.zeros((500, 50)), FS, rng=np.random.default_rng(15))
    assert st.n_spikes == 0


# --------------------------------------------------------------------------------------
# Dispatcher
# --------------------------------------------------------------------------------------


def test_sim_spikes_dispatches():
    rates = np.full((200, 5), 25.0)
    assert SPIKE_MODELS == ("poisson", "lif", "hodgkin_huxley")
    direct = sim_poisson_dead_time(
        rates, FS, n_trials=2, dead_time_s=0.001, rng=np.random.default_rng(16)
    )
    via = sim_spikes(
        rates, FS, model="poisson", n_trials=2, dead_time_s=0.001, rng=np.random.default_rng(16)
    )
    assert direct == via
    direct = sim_lif(rates, FS, n_trials=2, tau_m_s=0.01, rng=np.random.default_rng(17))
    via = sim_spikes(
        rates, FS, model="lif", n_trials=2, tau_m_s=0.01, rng=np.random.default_rng(17)
    )
    assert direct == via


# --------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------

GOOD = np.full((100, 2), 10.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda rng: sim_poisson_dead_time(-GOOD, FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.where(GOOD > 0, np.nan, 0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full((10, 2), np.inf), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full((10, 2), 500.0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full(10, 5.0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.zeros((0, 3)), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time("fast", FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(GOOD, 0.0, rng=rng), "fs"),
        (lambda rng: sim_poisson_dead_time(GOOD, -1000.0, rng=rng), "fs"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, n_trials=0, rng=rng), "n_trials"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, dead_time_s=-0.001, rng=rng), "dead_time_s"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, rng=42), "rng"),
        (lambda rng: sim_lif(-GOOD, FS, rng=rng), "drive_rates_hz"),
        (lambda rng: sim_lif(np.full((10, 2), 1000.0), FS, rng=rng), "drive_rates_hz"),
        (lambda rng: sim_lif(GOOD, FS, dt_s=0.01, rng=rng), "dt_s"),
        (lambda rng: sim_lif(GOOD, FS, noise_sigma=0.0, rng=rng), "noise_sigma"),
        (lambda rng: sim_lif(GOOD, FS, tau_m_s=0.0, rng=rng), "tau_m_s"),
        (lambda rng: sim_spikes(GOOD, FS, model="hodgkin-huxley", rng=rng), "model"),
        (lambda rng: sim_spikes(GOOD, FS, model="poisson", tau_m_s=0.02, rng=rng), "tau_m_s"),
        (lambda rng: sim_spikes(GOOD, -5.0, model="lif", rng=rng), "fs"),
    ],
)
def test_bad_arguments_name_the_field(call, field):
    with pytest.raises(ParameterError) as info:
        call(np.random.default_rng(0))
    assert info.value.field == field
    assert field in str(info.value)


def test_rate_limit_message_names_the_maximum():
    with pytest.raises(ParameterError, match=r"1 / dead_time_s = 500"):
        sim_poisson_dead_time(np.full((10, 1), 600.0), FS, rng=np.random.default_rng(0))
    # Just below the limit is allowed.
    sim_poisson_dead_time(np.full((10, 1), 499.0), FS, rng=np.random.default_rng(0))
