"""LGN → simple cell: the wiring rule, untuned LGN input, tuned spikes, the iceberg."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import Grating
from v1lab.synapse import make_cell
from v1lab.synapse.lgn import SimpleCellWiring, compute_lgn_rates, make_lgn_inputs, sim_lgn_to_cell
from v1lab.synapse.responses import (
    compute_grating_responses,
    compute_input_efficacy,
    compute_tuning_widths,
)

RETINA = Retina(extent_deg=4.0, lgn_extent_deg=2.4, lgn_spacing_deg=0.15)
POSITIONS = make_lgn_positions(2.4, 0.15)
CELL = make_cell("rs")
ORIS = np.arange(0.0, 180.0, 30.0)
N_TRIALS = 8


def _gratings(contrast=1.0, duration_s=1.0):
    return [
        Grating(orientation_deg=o, direction_deg=o + 90, contrast=contrast,
                spatial_frequency_cpd=0.8, temporal_frequency_hz=4.0, duration_s=duration_s)
        for o in ORIS
    ]  # fmt: skip


def test_wiring_follows_alonso_rules():
    wiring = SimpleCellWiring(push_pull=1.0)
    inp = make_lgn_inputs(wiring, POSITIONS, CELL, np.random.default_rng(0))
    g = wiring.gabor(inp.position_deg)
    exc = inp.receptor == 0
    assert np.all(inp.sign[exc] * g[exc] > 0)  # same sign as the subregion under it
    assert np.all(inp.sign[~exc] * g[~exc] < 0)  # push–pull: opposite sign
    ratio = inp.weight_ns[exc] / inp.overlap[exc]  # weight ∝ overlap
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    # connection probability grows with overlap: strong-overlap cells connect more often
    all_g = np.abs(wiring.gabor(POSITIONS)) / np.abs(wiring.gabor(POSITIONS)).max()
    strong = all_g > 0.6
    frac_strong = np.isin(np.flatnonzero(strong), inp.columns[exc] % POSITIONS.shape[0]).mean()
    weak = (all_g > 0.05) & (all_g < 0.3)
    frac_weak = np.isin(np.flatnonzero(weak), inp.columns[exc] % POSITIONS.shape[0]).mean()
    assert frac_strong > 2 * frac_weak
    assert 20 <= inp.n_excitatory <= 80


def test_lgn_input_is_untuned():
    wiring = SimpleCellWiring()
    inp = make_lgn_inputs(wiring, POSITIONS, CELL, np.random.default_rng(0))
    rates = compute_lgn_rates(
        _gratings(), RETINA, inp.columns, pre_s=0.0, spontaneous_hz=10.0, gain_hz=150.0
    )
    per_ori = rates[40:].reshape(rates.shape[0] - 40, ORIS.size, -1).mean(axis=(0, 2))
    # every orientation raises the mean LGN rate by the same amount (circular DoG centres)
    assert np.ptp(per_ori) / per_ori.mean() < 0.05
    assert per_ori.min() > 15.0  # well above the 10 spikes/s on grey


@pytest.fixture(scope="module")
def tuning():
    out = {}
    for pp in (0.0, 2.0):
        wiring = SimpleCellWiring(unitary_epsp_mv=2.0, push_pull=pp)
        inp = make_lgn_inputs(wiring, POSITIONS, CELL, np.random.default_rng(0))
        tr, _, spikes = sim_lgn_to_cell(
            _gratings(),
            inp,
            CELL,
            RETINA,
            n_trials=N_TRIALS,
            rng=np.random.default_rng(1),
            wiring=wiring,
        )
        resp = compute_grating_responses(
            tr,
            n_stimuli=ORIS.size,
            n_trials=N_TRIALS,
            pre_s=0.25,
            transient_s=0.25,
            temporal_frequency_hz=4.0,
        )
        out[pp] = (
            resp,
            compute_tuning_widths(ORIS, resp["vm_response_mv"], resp["rate_response_hz"]),
        )
        out[pp, "efficacy"] = (
            inp,
            compute_input_efficacy(
                spikes,
                tr.spikes,
                n_inputs=inp.columns.size,
                n_trials=N_TRIALS,
                excitatory=inp.receptor == 0,
            ),
        )
    return out


@pytest.mark.slow
def test_spikes_are_tuned_to_the_wired_orientation(tuning):
    resp, w = tuning[0.0]
    rate = resp["rate_response_hz"]
    assert ORIS[np.argmax(rate)] == 90.0
    assert rate.max() > 20.0 and rate[0] < 0.6 * rate.max()
    assert abs(w["rate_preferred_deg"] - 90.0) < 10.0


@pytest.mark.slow
def test_vm_tuning_is_broader_than_spike_tuning(tuning):
    for pp in (0.0, 2.0):
        resp, _ = tuning[pp]
        vm, rate = resp["vm_response_mv"], resp["rate_response_hz"]
        # the iceberg: relative to its peak, the orthogonal Vm response stays far higher
        # than the orthogonal spike response (the threshold cuts off the base)
        assert vm[0] / vm.max() > 2 * rate[0] / rate.max()


@pytest.mark.slow
def test_push_pull_removes_the_untuned_orthogonal_response(tuning):
    ff = tuning[0.0][0]["rate_response_hz"]
    pp = tuning[2.0][0]["rate_response_hz"]
    assert pp[0] / pp.max() < 0.5 * ff[0] / ff.max()


@pytest.mark.slow
def test_each_input_contributes_a_few_percent(tuning):
    inp, eff = tuning[0.0, "efficacy"]
    # contributions add up to about the whole: the cell has no other input
    assert 0.5 < eff["contribution"].sum() < 2.0
    assert 0.01 < np.mean(eff["contribution"]) < 0.06
    # stronger (better overlapping) inputs are more effective: the heavier half's mean
    # efficacy is above the lighter half's (SE of a half's mean ≈ 0.2 % with 8 trials)
    w = inp.weight_ns[inp.receptor == 0]
    order = np.argsort(w)
    half = w.size // 2
    light, heavy = eff["efficacy"][order[:half]].mean(), eff["efficacy"][order[half:]].mean()
    assert heavy - light > 0.004


def test_bad_wiring_is_refused_in_one_line():
    with pytest.raises(ParameterError) as err:
        SimpleCellWiring(p_max=0.0)
    assert err.value.field == "p_max" and "\n" not in str(err.value)
    with pytest.raises(ParameterError) as err:
        SimpleCellWiring(aspect=0.5)
    assert err.value.field == "aspect"
