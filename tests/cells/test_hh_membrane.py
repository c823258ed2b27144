"""Tests for v1lab.cells.hh_kinetics and hh_membrane: rest, the integrator, its back-ends."""

from __future__ import annotations

import numpy as np
import pytest
from _hh_cases import DEFAULT, SQUID, numba_only

from v1lab import cells as hh
from v1lab._validate import ParameterError

# --------------------------------------------------------------------------------------
# The membrane at rest and the integrator
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.0, -5.0])
def test_resting_potential_is_the_one_the_parameters_imply(shift):
    p = hh.HHParameters(v_shift_mv=shift)
    implied = hh.compute_resting_potential(p)
    # The zero of the steady-state current; HH's leak value puts it at -65 mV (+ shift).
    assert implied == pytest.approx(-65.0 + shift, abs=0.01)
    # A cell left alone for 100 ms (started depolarised below threshold, at the fixed
    # point of +3 µA/cm², with no input) settles there.
    st, tr = hh.sim_membrane(
        np.zeros((1, 1)), 10.0, params=p, record=[0], initial_current_ua_cm2=3.0
    )
    assert st.n_spikes == 0
    assert tr.v_mv[0, 0] > implied + 2.0  # it really started away from rest
    assert tr.v_mv[0, -1] == pytest.approx(implied, abs=1.0)


def test_integrator_converges_at_25_us():
    # Exponential Euler for V and Rush–Larsen for the gates: at dt = 25 µs the period of
    # repetitive firing is within 0.3 % of a 2.5-µs run (measured: 0.03 % at 6.3 °C,
    # 0.12 % at 16.3 °C), and strong drive stays finite and between E_K and E_Na.
    for params, current in ((SQUID, 10.0), (DEFAULT, 20.0)):
        periods = []
        for dt in (2.5e-5, 2.5e-6):
            st = hh.sim_membrane(np.full((1, 1), current), 1 / 0.6, params=params, dt_s=dt)
            t = st.times_s[st.times_s > 0.1]
            periods.append(np.diff(t).mean())
        assert periods[0] == pytest.approx(periods[1], rel=3e-3)
    _, tr = hh.sim_membrane(np.full((1, 1), 300.0), 20.0, record=[0])
    e_na, e_k, _ = DEFAULT.reversal_mv
    assert np.isfinite(tr.v_mv).all()
    assert e_k - 1e-6 <= tr.v_mv.min() and tr.v_mv.max() <= e_na + 300.0 / DEFAULT.g_l_ms_cm2


# --------------------------------------------------------------------------------------
# Back-ends
# --------------------------------------------------------------------------------------


@numba_only
def test_numba_and_numpy_backends_agree():
    # Same arithmetic, same noise draws: spike trains agree to rounding (the two
    # exponentials differ in the last bits, which a chaotic-free 0.5 s cannot amplify).
    drive = np.full((100, 4), 3.0)
    runs = [
        hh.sim_membrane(
            drive,
            200.0,
            n_trials=3,
            noise_ua_cm2=2.0,
            rng=np.random.default_rng(7),
            record=[0, 5],
            backend=backend,
        )
        for backend in ("numba", "numpy")
    ]
    (sa, ta), (sb, tb) = runs
    assert sa.n_spikes > 10
    np.testing.assert_array_equal(sa.indptr, sb.indptr)
    np.testing.assert_allclose(sa.times_s, sb.times_s, atol=1e-9)
    np.testing.assert_allclose(ta.v_mv, tb.v_mv, atol=1e-6)
    np.testing.assert_allclose(ta.n, tb.n, atol=1e-9)


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def test_bad_parameters_name_the_field():
    with pytest.raises(ParameterError) as err:
        hh.HHParameters(g_l_ms_cm2=0.0)
    assert err.value.field == "g_l_ms_cm2"
    with pytest.raises(ParameterError) as err:
        hh.HHParameters(e_l_mv=60.0)
    assert err.value.field == "e_l_mv"
