"""Tests for v1lab.cells.hh_fi: Hodgkin–Huxley spike trains at requested rates."""

from __future__ import annotations

import numpy as np
import pytest
from _hh_cases import heavy

from v1lab import cells as hh
from v1lab._validate import ParameterError
from v1lab.cells import hh_fi
from v1lab.cells.spikes import sim_spikes
from v1lab.cells.trains import SpikeTrains
from v1lab.experiment import Circuit, sim_rates
from v1lab.model.population import population_from_cells
from v1lab.model.retina import Retina
from v1lab.model.stimulus import Bar

# --------------------------------------------------------------------------------------
# Spike trains from rates
# --------------------------------------------------------------------------------------


def test_sim_hodgkin_huxley_returns_spiketrains_like_sim_lif():
    rng = np.random.default_rng(0)
    st = hh.sim_hodgkin_huxley(np.full((200, 3), 10.0), 200.0, n_trials=2, rng=rng)
    assert isinstance(st, SpikeTrains)
    assert (st.n_trials, st.n_cells, st.duration_s) == (2, 3, 1.0)
    for k in range(st.n_trains):
        t = st.times_s[st.indptr[k] : st.indptr[k + 1]]
        assert np.all(np.diff(t) > 1e-3)  # sorted, and refractory
        assert t.size == 0 or (t[0] >= 0 and t[-1] < 1.0)


@heavy
def test_cells_fire_at_about_their_model_rate():
    targets = np.array([5.0, 20.0, 60.0])
    n_trials, dur = 100, 4.0
    rng = np.random.default_rng(1)
    st = hh.sim_hodgkin_huxley(
        np.broadcast_to(targets, (round(dur * 200), 3)), 200.0, n_trials=n_trials, rng=rng
    )
    measured = st.counts().sum(axis=0) / (n_trials * dur)
    n = targets * n_trials * dur
    # The f–I table is accurate to a few % (2000 spikes per point, smoothed); counting
    # noise with Fano factor <= 2: 4 SD = 4 sqrt(2 / N).
    assert np.all(np.abs(measured / targets - 1) <= 0.06 + 4 * np.sqrt(2.0 / n))


def test_rate_to_current_map_is_monotone_and_bounded():
    rates = np.array([[0.0, 0.1, 1.0, 10.0, 100.0, 250.0]])
    current = hh.hh_current_for_rates(rates)
    assert np.all(np.diff(current) > 0)
    with pytest.raises(ParameterError) as err:
        hh.hh_current_for_rates(np.array([[5000.0]]))
    assert err.value.field == "rates_hz"
    with pytest.raises(ParameterError) as err:
        hh.hh_current_for_rates(rates, noise_ua_cm2=0.0)
    assert err.value.field == "noise_ua_cm2"


def test_default_f_i_table_ships_and_other_tables_are_measured_and_cached(monkeypatch, tmp_path):
    # The shipped table is the one the default membrane and noise look up.
    key = hh_fi._table_key(hh.HHParameters(), 2.0, 0.005, 2.5e-5)
    assert key == hh_fi._DEFAULT_TABLE_KEY
    # Another membrane: measured (here on a small grid and budget), written to the disk
    # cache, and read back from it.
    monkeypatch.setenv("V1LAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(hh_fi, "_FI_GRID", np.arange(-4.0, 40.0, 2.0))
    monkeypatch.setattr(hh_fi, "_FI_RUN_S", 0.5)
    monkeypatch.setattr(hh_fi, "_FI_TARGET_COUNT", 100.0)
    monkeypatch.setattr(hh_fi, "_FI_MAX_NEURON_S", 10.0)
    warm = hh.HHParameters(temperature_c=20.0)
    hh_fi._fi_table.cache_clear()
    try:
        current = hh.hh_current_for_rates(np.array([[2.0, 20.0, 100.0]]), params=warm)
        assert np.all(np.diff(current) > 0)
        assert len(list(tmp_path.glob("hh_fi_*.npz"))) == 1
        hh_fi._fi_table.cache_clear()

        def no_measuring(*args):
            raise AssertionError("the table should come from the disk cache")

        monkeypatch.setattr(hh_fi, "_build_fi_table", no_measuring)
        again = hh.hh_current_for_rates(np.array([[2.0, 20.0, 100.0]]), params=warm)
        np.testing.assert_array_equal(again, current)
    finally:
        hh_fi._fi_table.cache_clear()


def test_same_v1_cell_has_the_same_preferred_orientation_with_hh_and_poisson():
    circuit = Circuit(
        Retina(extent_deg=4.0, lgn_extent_deg=2.5),
        population_from_cells([{"type": "simple", "orientation_deg": 40.0}]),
    )
    directions = np.arange(0.0, 360.0, 45.0)
    rates = []
    for d in directions:
        circuit.reset()
        rates.append(sim_rates(circuit, Bar(direction_deg=d, speed_deg_s=4.0, duration_s=1.5)))
    # One column per direction: every sweep of the cell simulated at once.
    rates = np.concatenate(rates, axis=1).astype(float)

    def preferred_orientation(st):
        # Spikes while the bar crosses the RF (0.5–1.0 s), summed over trials.
        counts = np.zeros(st.n_cells)
        for k in range(st.n_trains):
            t = st.times_s[st.indptr[k] : st.indptr[k + 1]]
            counts[k % st.n_cells] += np.count_nonzero((t >= 0.5) & (t < 1.0))
        z = np.sum(counts * np.exp(2j * np.deg2rad(directions - 90.0)))
        return np.rad2deg(np.angle(z)) / 2 % 180

    rng = np.random.default_rng(3)
    hh_pref = preferred_orientation(hh.sim_hodgkin_huxley(rates, 200.0, n_trials=30, rng=rng))
    po_pref = preferred_orientation(sim_spikes(rates, 200.0, n_trials=30, rng=rng))
    # ~200 response spikes over ~150 background: the vector-sum angle has an SD of ~2°
    # per model, so 10° is ~3.5 SD of the difference; both near the true 40° (sampled at
    # 45° steps, the model rates themselves give 45°).
    assert abs((hh_pref - po_pref + 90) % 180 - 90) < 10.0
    assert abs((hh_pref - 40.0 + 90) % 180 - 90) < 12.0


def test_recorded_trace_matches_the_spike_trains():
    rng = np.random.default_rng(4)
    st, tr = hh.sim_hodgkin_huxley(np.full((100, 2), 40.0), 200.0, rng=rng, record=[1])
    assert tr.trains.tolist() == [1]
    assert tr.v_mv.shape == (1, round(0.5 / 2.5e-5)) == tr.i_na.shape == tr.m.shape
    np.testing.assert_array_equal(tr.spike_times_s[0], st.train(0, 1))
    # Every spike is an action potential in V.
    for t in tr.spike_times_s[0]:
        k = round(t / tr.dt_s)
        assert tr.v_mv[0, k : k + 40].max() > 0.0
    # Currents: Na inward at the upstroke, K outward at the repolarisation.
    assert tr.i_na.min() < -100 and tr.i_k.max() > 100
    assert np.all((tr.m >= 0) & (tr.m <= 1) & (tr.h >= 0) & (tr.h <= 1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rates_hz": -np.ones((10, 1))}, "rates_hz"),
        ({"rates_hz": np.ones(10)}, "rates_hz"),
        ({"dt_s": 1e-4}, "dt_s"),
        ({"temperature_c": 37.0}, "temperature_c"),
        ({"noise_ua_cm2": -1.0}, "noise_ua_cm2"),
        ({"record": [99]}, "record"),
        ({"backend": "gpu"}, "backend"),
        ({"n_trials": 0}, "n_trials"),
        ({"rng": 3}, "rng"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"rates_hz": np.ones((10, 1)), "fs": 200.0, "rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(ParameterError) as err:
        hh.sim_hodgkin_huxley(args.pop("rates_hz"), args.pop("fs"), **args)
    assert err.value.field == field
