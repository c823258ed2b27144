"""Background noise: the OU current, its calibration to a Vm SD, its reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.synapse import AMPA, compute_noise_sd_pa, make_cell, make_events, sim_synaptic_cell
from v1lab.synapse._kernel import normal_deviates
from v1lab.synapse.spec import parse_lab_protocol

PASSIVE = make_cell("passive")


def _noisy(cell, n_trains, *, sd_pa, seed=3, tau_ms=5.0, duration_s=2.0):
    ev = make_events([], [], [], n_trains=n_trains)
    return sim_synaptic_cell(
        cell, [AMPA], ev, duration_s, record="all", record_dt_ms=0.5,
        noise_sd_pa=sd_pa, noise_tau_ms=tau_ms, noise_seed=seed,
    )  # fmt: skip


def test_deviates_are_standard_normal():
    x = normal_deviates(7, 0, 200_000)
    # SE of the mean 1/√n = 0.0022, of the variance √(2/n) = 0.0032: 5 SE bounds
    assert abs(x.mean()) < 0.011
    assert abs(x.var() - 1.0) < 0.016
    # and uncorrelated from step to step (SE of a lag-1 correlation 1/√n)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.011


@pytest.mark.parametrize("tau_ms", [2.0, 10.0])
def test_vm_sd_matches_the_rc_filtered_ou_formula(tau_ms):
    target = 3.0
    sd_pa = compute_noise_sd_pa(PASSIVE, target, tau_ms)
    tr = _noisy(PASSIVE, 60, sd_pa=sd_pa, tau_ms=tau_ms)
    v = tr.v_mv[:, 200:]  # from the stationary start; drop 100 ms anyway
    # Vm is ~exponentially correlated over ~τm + τn: ~1.9 s / (2 × 30 ms) ≈ 30 independent
    # samples per train, 1800 in all, so the SD's SE is ≈ 3 / √(2 × 1800) ≈ 0.05 mV;
    # allow 5 SE, plus the exponential-Euler step's ~1 % attenuation at 25 µs.
    assert abs(v.std(axis=1).mean() - target) < 0.25 + 0.01 * target
    assert abs(v.mean() - PASSIVE.e_leak_mv) < 0.2


def test_noise_is_reproducible_and_each_train_its_own():
    sd = compute_noise_sd_pa(PASSIVE, 2.0, 5.0)
    a = _noisy(PASSIVE, 6, sd_pa=sd, duration_s=0.2)
    b = _noisy(PASSIVE, 6, sd_pa=sd, duration_s=0.2)
    np.testing.assert_array_equal(a.v_mv, b.v_mv)
    # train k's noise depends on (seed, k) only, not on how many trains run beside it
    c = _noisy(PASSIVE, 2, sd_pa=sd, duration_s=0.2)
    np.testing.assert_array_equal(a.v_mv[:2], c.v_mv)
    # different trains and different seeds differ
    assert not np.allclose(a.v_mv[0], a.v_mv[1])
    d = _noisy(PASSIVE, 6, sd_pa=sd, seed=4, duration_s=0.2)
    assert not np.allclose(a.v_mv, d.v_mv)


def test_no_noise_means_the_seed_does_not_matter():
    a = _noisy(PASSIVE, 2, sd_pa=0.0, seed=1, duration_s=0.05)
    b = _noisy(PASSIVE, 2, sd_pa=0.0, seed=9, duration_s=0.05)
    np.testing.assert_array_equal(a.v_mv, b.v_mv)
    np.testing.assert_allclose(a.v_mv, PASSIVE.e_leak_mv, atol=1e-9)


def test_bad_noise_parameters_are_refused_in_one_line():
    ev = make_events([], [], [], n_trains=1)
    for kw, field in (
        ({"noise_sd_pa": -1.0}, "noise_sd_pa"),
        ({"noise_tau_ms": 0.0}, "noise_tau_ms"),
        ({"noise_seed": -2}, "noise_seed"),
    ):
        with pytest.raises(ParameterError) as err:
            sim_synaptic_cell(PASSIVE, [AMPA], ev, 0.01, **kw)
        assert err.value.field == field and "\n" not in str(err.value)
    with pytest.raises(ParameterError) as err:
        compute_noise_sd_pa(PASSIVE, -1.0, 5.0)
    assert err.value.field == "vm_noise_sd_mv"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"circuits": {"push_pull": [0.0, 2.0], "vm_noise_sd_mv": [3.0]}},
         "circuits.vm_noise_sd_mv"),
        ({"circuits": {"push_pull": [0.0], "vm_noise_sd_mv": [-1.0]}}, "circuits.vm_noise_sd_mv"),
        ({"simple_cell": {"vm_noise_sd_mv": 3.0}}, "simple_cell.vm_noise_sd_mv"),
        ({"simple_cell": {"noise_tau_ms": 0.0}}, "simple_cell.noise_tau_ms"),
        ({"simple_cell": {"background_ns": 5.0}}, "simple_cell.background_ns"),
        ({"circuits": {"push_pull": [0.0], "background_ns": [0.0, 1.0]}},
         "circuits.background_ns"),
        ({"circuits": {"push_pull": [0.0], "background_ns": [600.0]}}, "circuits.background_ns"),
    ],
)  # fmt: skip
def test_noise_fields_of_the_protocol_are_named(section, field):
    data = {"lab": "synapse", "experiment": "lgn_to_simple_cell", **section}
    with pytest.raises(ParameterError) as err:
        parse_lab_protocol(data, name="x")
    assert err.value.field == field and "\n" not in str(err.value)


def test_background_conductance_is_a_leak_exactly():
    """A tonic conductance beside the leak (the kernel's given-conductance input) and the
    leak it is folded into (:func:`add_background_conductance`) give the same Vm."""
    from v1lab.synapse.lgn import add_background_conductance

    g_bg, e_bg = 40.0, -62.0
    folded = add_background_conductance(PASSIVE, g_bg, e_bg)
    ev = make_events([0], [0.2], 5.0, n_trains=1)
    a = sim_synaptic_cell(folded, [AMPA], ev, 0.3, record=[0])
    b = sim_synaptic_cell(
        PASSIVE, [AMPA], ev, 0.3, record=[0],
        drive_ns=[[g_bg, g_bg, g_bg]], drive_dt_ms=100.0, drive_e_rev_mv=e_bg,
    )  # fmt: skip
    late = a.t_s >= 0.15  # b starts from the quiet rest: its transient (τ 4 ms) is gone
    np.testing.assert_allclose(a.v_mv[0, late], b.v_mv[0, late], rtol=0, atol=1e-9)
    # τ = C / (g_L + g_bg) and the conductance-weighted reversal
    assert abs(folded.tau_m_ms - PASSIVE.capacitance_pf / (10.053 + g_bg)) < 1e-3
    assert folded.e_leak_mv == pytest.approx(
        (10.053 * -70.0 + g_bg * e_bg) / (10.053 + g_bg), abs=1e-3
    )


def test_background_shortens_the_epsp_of_the_rs_cell():
    from v1lab.synapse import compute_rest_mv
    from v1lab.synapse.lgn import add_background_conductance
    from v1lab.synapse.summation import calibrate_weight_ns

    rs = make_cell("rs")
    vivo = add_background_conductance(rs, 40.0, -62.0)
    out = {}
    for name, cell in (("quiet", rs), ("vivo", vivo)):
        w = calibrate_weight_ns(cell, AMPA, target_mv=2.0)
        ev = make_events([0], [0.05], w, n_trains=1)
        tr = sim_synaptic_cell(cell, [AMPA], ev, 0.2, record=[0])
        dv = tr.v_mv[0] - compute_rest_mv(cell)
        assert dv.max() == pytest.approx(2.0, abs=1e-6)  # calibrated in its own state
        after = np.flatnonzero(dv >= 0.5 * dv.max())
        out[name] = (after[-1] - after[0]) * 0.025  # width at half height (ms)
    # τ_eff 20 → ~4 ms: the EPSP's half-width shrinks by well over half
    assert out["vivo"] < 0.5 * out["quiet"]
    assert compute_rest_mv(vivo) > compute_rest_mv(rs) + 4.0  # depolarised toward −62 mV


def test_background_needs_a_cortical_cell():
    from v1lab.synapse.lgn import add_background_conductance

    with pytest.raises(ParameterError) as err:
        add_background_conductance(make_cell("hh"), 10.0, -62.0)
    assert err.value.field == "simple_cell.background_ns"
