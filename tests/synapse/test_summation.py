"""Synaptic summation on the passive τm = 20 ms cell, against NEURON's Exp2Syn.

The NEURON values are committed (``neuron_golden.json``, written by
``_neuron_reference.py`` with CVODE at 1e-10 tolerances), so these tests run without
NEURON; ``test_golden_is_what_neuron_computes`` re-runs NEURON where it is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.synapse import AMPA, NMDA, compute_mg_block, make_cell, make_events, sim_synaptic_cell
from v1lab.synapse.summation import (
    calibrate_weight_ns,
    compute_inhibition,
    compute_nmda_vs_holding,
    compute_pair_peaks,
    compute_synchronous_peaks,
)

GOLDEN = json.loads((Path(__file__).with_name("neuron_golden.json")).read_text())
CELL = make_cell("passive")
W1 = GOLDEN["weight_ns"]
# The criterion: agreement with NEURON within 1 %.
TOLERANCE = 0.01


def _trace(name: str) -> np.ndarray:
    """v1lab's V − rest for a golden case, at the golden trace's times."""
    events = GOLDEN["cases"][name]["events"]
    t = [t_ms * 1e-3 for t_ms, n in events for _ in range(n)]
    ev = make_events(np.zeros(len(t), int), t, W1, n_trains=1)
    tr = sim_synaptic_cell(CELL, [AMPA], ev, 0.12, record=[0])
    t_ms = np.array(GOLDEN["cases"][name]["trace_t_ms"])
    return np.interp(t_ms, tr.t_s * 1e3, tr.v_mv[0] - tr.rest_mv)


def test_unitary_epsp_is_1_mv_in_both():
    assert calibrate_weight_ns(CELL, AMPA, target_mv=1.0) == pytest.approx(W1, rel=1e-9)
    assert GOLDEN["cases"]["sync_1"]["peak_mv"] == pytest.approx(1.0, rel=TOLERANCE)
    # a unitary cortical EPSC's conductance is of the order of a nanosiemens
    assert 0.5 < W1 < 3.0


@pytest.mark.parametrize("n", [5, 10, 20])
def test_synchronous_sum_matches_neuron(n):
    ref = GOLDEN["cases"][f"sync_{n}"]
    peak = compute_synchronous_peaks(CELL, W1, [n])[0]
    assert peak == pytest.approx(ref["peak_mv"], rel=TOLERANCE)
    trace = _trace(f"sync_{n}")
    gold = np.array(ref["trace_mv"])
    assert np.abs(trace - gold).max() < TOLERANCE * ref["peak_mv"]


@pytest.mark.parametrize("dt_ms", [0.0, 5.0, 10.0, 20.0, 40.0])
def test_pair_sum_matches_neuron(dt_ms):
    ref = GOLDEN["cases"][f"pair_{dt_ms:g}ms"]
    peak = compute_pair_peaks(CELL, W1, [dt_ms])[0]
    assert peak == pytest.approx(ref["peak_mv"], rel=TOLERANCE)
    gold = np.array(ref["trace_mv"])
    assert np.abs(_trace(f"pair_{dt_ms:g}ms") - gold).max() < TOLERANCE * ref["peak_mv"]


def test_golden_is_what_neuron_computes():
    pytest.importorskip("neuron")
    from tests.synapse._neuron_reference import cases, run_neuron

    for name in ("sync_10", "pair_10ms"):
        _, v = run_neuron(W1, cases()[name])
        assert v.max() + 70.0 == pytest.approx(GOLDEN["cases"][name]["peak_mv"], rel=1e-6)


def test_summation_is_sublinear_because_of_the_driving_force():
    n = [1, 5, 10, 20]
    cond = compute_synchronous_peaks(CELL, W1, n)
    ratio = cond / (np.array(n) * cond[0])
    assert np.all(np.diff(ratio) < 0) and ratio[-1] < 0.9
    # the same conductance waveforms with the driving force held at its resting value
    # sum exactly linearly: the shrinking driving force is the whole of the deficit
    fixed = compute_synchronous_peaks(CELL, W1, n, current_based=True)
    np.testing.assert_allclose(fixed / (np.array(n) * fixed[0]), 1.0, rtol=1e-9)
    # first-order prediction: each input's current scales with (E − V); at the peak of
    # the sum V is higher, so the sum is below linear by about the mean fractional loss
    # of driving force (within a factor of two: V is not at its peak all the time)
    loss = 1 - ratio[-1]
    assert 0.5 * cond[-1] / 70.0 / 2 < loss < 2 * cond[-1] / 70.0


def test_temporal_summation_decays_with_the_membrane_time_constant():
    d = np.array([5.0, 10.0, 20.0, 40.0])
    excess = compute_pair_peaks(CELL, W1, d) - 1.0
    # the second EPSP rides on the first's tail, which falls as e^{−Δt/τm} (τm = 20 ms)
    fitted_tau = -(np.polyfit(d[1:], np.log(excess[1:]), 1)[0] ** -1)
    assert fitted_tau == pytest.approx(CELL.tau_m_ms, rel=0.1)


def test_nmda_amplitude_follows_jahr_stevens_block():
    hold = np.array([-90.0, -70.0, -50.0, -30.0, -10.0])
    small = {"nmda_weight_ns": 0.05, "ampa_weight_ns": 0.05}
    blocked = compute_nmda_vs_holding(CELL, hold, **small, mg_mm=1.0)["nmda"]
    free = compute_nmda_vs_holding(CELL, hold, **small, mg_mm=0.0)["nmda"]
    # for a small EPSP the response is linear in the current g·B(V)·(V − E): the ratio
    # blocked / unblocked is B(V_hold); first-order error 0.062/mV × |EPSP| < 0.2 %
    np.testing.assert_allclose(blocked / free, compute_mg_block(hold, 1.0), rtol=0.01)
    # and not the block at another voltage (the test can fail): at -70 mV B = 0.045
    assert not np.allclose(blocked / free, compute_mg_block(hold + 10.0, 1.0), rtol=0.05)
    # the unblocked amplitude is proportional to the driving force (0 − V)
    np.testing.assert_allclose(free / -hold / (free[0] / 90.0), 1.0, rtol=0.01)
    # in 1 mM Mg²⁺ the NMDA EPSP grows with depolarisation from -90 to -30 mV
    assert np.all(np.diff(blocked[:4]) > 0)


def test_shunting_and_hyperpolarising_inhibition():
    res = compute_inhibition(CELL, excitatory_ns=5 * W1, inhibitory_ns=20.0)
    alone, shunt, hyper = res["peak_mv"]
    assert shunt < 0.8 * alone and hyper < shunt
    # shunting inhibition reverses at rest: it never takes V below rest
    assert res["trough_mv"][1] > -1e-9
    assert res["trough_mv"][2] < -0.5  # hyperpolarising inhibition does


def test_kernel_is_deterministic_and_trains_independent():
    ev = make_events([0, 1, 1], [0.005, 0.005, 0.01], [3.0, 3.0, 3.0], n_trains=2)
    a = sim_synaptic_cell(CELL, [AMPA, NMDA], ev, 0.05, record="all")
    b = sim_synaptic_cell(CELL, [AMPA, NMDA], ev, 0.05, record="all")
    np.testing.assert_array_equal(a.v_mv, b.v_mv)
    single = sim_synaptic_cell(
        CELL, [AMPA], make_events([0], [0.005], 3.0, n_trains=1), 0.05, record=[0]
    )
    np.testing.assert_array_equal(a.v_mv[0], single.v_mv[0])


@pytest.mark.parametrize(
    "call, field",
    [
        (
            lambda: AMPA.__class__("x", tau_rise_ms=2.0, tau_decay_ms=1.0, e_rev_mv=0.0),
            "tau_decay_ms",
        ),
        (
            lambda: AMPA.__class__("x", tau_rise_ms=0.2, tau_decay_ms=2.0, e_rev_mv=500.0),
            "e_rev_mv",
        ),
        (lambda: make_cell("passive", diameter_um=-3.0), "diameter_um"),
        (lambda: make_cell("passive", g_leak_ms_cm2="high"), "g_leak_ms_cm2"),
        (lambda: make_cell("pyramidal"), "kind"),
        (lambda: make_cell("rs", tau_m=20), "tau_m"),
        (lambda: make_events([0], [0.01], -1.0, n_trains=1), "weight_ns"),
        (lambda: make_events([3], [0.01], 1.0, n_trains=1), "train"),
        (
            lambda: sim_synaptic_cell(
                CELL, [AMPA], make_events([0], [0.0], 1.0, n_trains=1), 0.01, dt_ms=1.0
            ),
            "dt_ms",
        ),
        (
            lambda: sim_synaptic_cell(
                CELL, [AMPA], make_events([0], [0.0], 1.0, n_trains=1), 0.01, holding_mv=300
            ),
            "holding_mv",
        ),
    ],
)
def test_bad_parameters_are_refused_in_one_line(call, field):
    with pytest.raises(ParameterError) as err:
        call()
    assert err.value.field == field
    assert "\n" not in str(err.value)
