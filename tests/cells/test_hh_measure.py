"""Tests for v1lab.cells.hh_measure: one action potential and the classical numbers.

Published values are those of the standard Hodgkin & Huxley (1952) parameter set at
6.3 °C (modern convention, rest −65 mV): repetitive firing needs a current above the
fold of the periodic orbits, I ≈ 6.26 µA/cm² (Hassard 1978; Rinzel & Miller 1980), the
resting state loses stability at the subcritical Hopf point I ≈ 9.78 µA/cm², and in
between the f–I curve jumps from 0 to about 50 spikes/s (type II; Rinzel & Ermentrout
1989; Izhikevich 2007). Statistical tolerances are written next to each check, at about
4–5 standard deviations; seeds are fixed, so a failure means a real change.
"""

from __future__ import annotations

import numpy as np
import pytest
from _hh_cases import DEFAULT, SQUID, heavy

from v1lab import cells as hh

# --------------------------------------------------------------------------------------
# One action potential
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [SQUID, DEFAULT], ids=["6.3C", "16.3C"])
def test_action_potential_peak_amplitude_and_width_in_textbook_range(params):
    tr = hh.sim_action_potential(params)
    f = hh.compute_spike_features(tr.v_mv[0], tr.dt_s)
    assert f["baseline_mv"] == pytest.approx(hh.compute_resting_potential(params), abs=0.1)
    assert 30.0 <= f["peak_mv"] <= 50.0  # overshoot to +30…+50 mV
    assert f["amplitude_mv"] == pytest.approx(100.0, abs=10.0)
    assert f["ahp_mv"] < f["baseline_mv"] - 5.0  # an after-hyperpolarisation towards E_K
    # Phases come in order.
    keys = ("t_depolarisation_s", "t_threshold_s", "t_peak_s", "t_repolarised_s", "t_ahp_s")
    times = [f[k] for k in keys] + [f["t_return_s"]]
    assert times == sorted(times)
    if params is DEFAULT:  # mammalian-like speed at the default temperature
        assert 0.3e-3 <= f["half_width_s"] <= 1.0e-3


def test_absolute_refractory_period_is_a_few_ms():
    t_abs = hh.compute_absolute_refractory_period(DEFAULT)
    assert 1e-3 <= t_abs <= 5e-3


# --------------------------------------------------------------------------------------
# Type II excitability: the published numbers of the standard model
# --------------------------------------------------------------------------------------


def test_hopf_current_matches_published_value():
    assert hh.compute_hopf_current(SQUID) == pytest.approx(9.78, rel=0.01)


@heavy
def test_repetitive_firing_threshold_and_abrupt_onset_match_published_values():
    i_th = hh.find_rheobase(SQUID, kind="repetitive", tol_ua_cm2=0.02)
    assert i_th == pytest.approx(6.26, rel=0.02)  # Hassard 1978; Rinzel & Miller 1980
    below, above = hh.compute_fi_curve(
        [i_th - 0.05, i_th + 0.05], params=SQUID, start="firing", duration_s=1.0
    )
    # Type II: no slow firing at all — from silence straight to ~50 spikes/s.
    assert below == 0.0
    assert above == pytest.approx(50.0, rel=0.2)
    # Between the fold and the Hopf point the membrane is bistable: a cell resting at the
    # fixed point of a constant current of 8 µA/cm² stays silent, while the same current
    # keeps a firing cell firing.
    quiet = hh.sim_membrane(np.full((1, 1), 8.0), 1.0, params=SQUID, initial_current_ua_cm2=8.0)
    firing = hh.compute_fi_curve([8.0], params=SQUID, start="firing")
    assert quiet.n_spikes == 0 and firing[0] > 50.0


def test_fi_curve_rises_with_current():
    f = hh.compute_fi_curve([10.0, 20.0, 40.0, 80.0], params=SQUID, duration_s=0.5)
    assert np.all(np.diff(f) > 0)
