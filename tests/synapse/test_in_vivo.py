"""The simple cell quiet, with background noise, and in the in-vivo state (noise and the
background conductance): what each changes — the contrast dependence of the spike tuning
width, the threshold of the Vm → rate fit, and the window over which two LGN inputs
interact. Figures over seeds 1–3 (this fixture's size) are quoted beside each bound."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import Grating
from v1lab.synapse import compute_rest_mv, make_cell
from v1lab.synapse.lgn import (
    SimpleCellWiring,
    add_background_conductance,
    make_lgn_inputs,
    sim_lgn_to_cell,
)
from v1lab.synapse.responses import (
    compute_grating_responses,
    compute_input_efficacy,
    compute_pair_window,
    compute_tuning_widths,
    compute_vm_to_rate,
)
from v1lab.synapse.simple_cell_lab import CF2000_THRESHOLD_MV, USREY2000

RETINA = Retina(extent_deg=4.0, lgn_extent_deg=2.4, lgn_spacing_deg=0.15)
POSITIONS = make_lgn_positions(2.4, 0.15)
ORIS = np.arange(0.0, 180.0, 15.0)
CONTRASTS = (0.3, 1.0)
# (noise SD mV, background nS, trials): the width test needs many trials at contrast 0.3
# (~3–5 spikes/s at the peak: 24 trials give ~70–100 spikes); the in-vivo tests fewer
STATES = {"quiet": (0.0, 0.0, 24), "noise": (3.0, 0.0, 24), "vivo": (3.0, 40.0, 12)}


@pytest.fixture(scope="module")
def states():
    stims = [
        Grating(orientation_deg=o, direction_deg=o + 90, contrast=c, spatial_frequency_cpd=0.8,
                temporal_frequency_hz=4.0, duration_s=1.0)
        for c in CONTRASTS for o in ORIS
    ]  # fmt: skip
    out = {}
    for name, (noise, bg, n_trials) in STATES.items():
        cell = add_background_conductance(make_cell("rs"), bg, -62.0)
        wiring = SimpleCellWiring(unitary_epsp_mv=2.0, vm_noise_sd_mv=noise, background_ns=bg)
        inp = make_lgn_inputs(wiring, POSITIONS, cell, np.random.default_rng(0))
        tr, _, spikes = sim_lgn_to_cell(
            stims, inp, cell, RETINA, n_trials=n_trials, rng=np.random.default_rng(1),
            wiring=wiring, noise_seed=1,
        )  # fmt: skip
        resp = compute_grating_responses(
            tr, n_stimuli=len(stims), n_trials=n_trials, pre_s=0.25, transient_s=0.25,
            temporal_frequency_hz=4.0,
        )  # fmt: skip
        n = ORIS.size
        widths = [
            compute_tuning_widths(
                ORIS, resp["vm_response_mv"][i * n : (i + 1) * n],
                resp["rate_response_hz"][i * n : (i + 1) * n],
            )["rate_hwhh_deg"]
            for i in range(len(CONTRASTS))
        ]  # fmt: skip
        eff = compute_input_efficacy(
            spikes, tr.spikes, n_inputs=inp.columns.size, n_trials=n_trials,
            excitatory=inp.receptor == 0,
        )  # fmt: skip
        mid = 0.5 * (eff["pair_bin_lo_ms"] + eff["pair_bin_hi_ms"])[:-1]
        vr = compute_vm_to_rate(
            resp["vm"], resp["rate"], fs=1.0 / float(tr.t_s[1] - tr.t_s[0]),
            temporal_frequency_hz=4.0, start_s=0.5, rest_mv=compute_rest_mv(cell),
        )  # fmt: skip
        out[name] = {
            "widths": widths,
            "window": compute_pair_window(mid, eff["pair_enhancement"][:-1]),
            "vm_to_rate": vr,
        }
    return out


@pytest.mark.slow
def test_noise_narrows_the_width_change_across_contrast(states):
    """Without noise the threshold narrows the low-contrast tuning (the iceberg: only the
    tip of a weaker response crosses); noise smooths the threshold toward a power law,
    which narrows less (Anderson et al. 2000) — here by a few degrees only."""
    gap = {k: v["widths"][1] - v["widths"][0] for k, v in states.items()}
    # seeds 1–3: quiet 9.8–14.5°, with 3 mV of noise 5.8–10.8°, 3.0–4.0° less each time
    assert gap["quiet"] > 5.0  # contrast 1 tuning broader than contrast 0.3's
    assert gap["noise"] < gap["quiet"] - 1.5


@pytest.mark.slow
def test_inputs_interact_within_usreys_window(states):
    """Measured as Usrey et al. (2000) measured it, two inputs interact within ~7 ms; the
    background conductance (τ_eff ~4 ms) shortens the window."""
    for name in ("quiet", "vivo"):
        win = states[name]["window"]
        # seeds 1–3: quiet 7.3–7.8 ms (τ 3.2–3.4), in vivo 5.1–6.1 ms (τ 2.2–2.6; 8–24 trials);
        # bound: Usrey's ~7 ms ± 50 %
        assert 0.5 * USREY2000["hetero_window_ms"] < win["window_ms"], name
        assert win["window_ms"] < 1.5 * USREY2000["hetero_window_ms"], name
        assert win["amplitude"] > 1.0  # a real enhancement at short intervals
    assert states["vivo"]["window"]["tau_ms"] < states["quiet"]["window"]["tau_ms"]


@pytest.mark.slow
def test_in_vivo_threshold_is_carandini_and_fersters(states):
    """The quiet cell's cycle-averaged Vm fires it from ~−60 mV (its LGN EPSPs, slow on a
    20-ms membrane, fluctuate well above the mean); in the in-vivo state the fitted
    threshold rises toward Carandini & Ferster's (2000) −54.4 ± 1.4 mV."""
    quiet = states["quiet"]["vm_to_rate"]["threshold_mv"]
    vivo = states["vivo"]["vm_to_rate"]["threshold_mv"]
    # seeds 1–3: quiet −60.2 to −60.0 mV, in vivo −57.4 to −57.3 mV
    assert vivo > quiet + 2.0
    mean, sd = CF2000_THRESHOLD_MV
    assert mean - 3 * sd < vivo < mean + 3 * sd


def test_invariance_is_judged_only_where_spikes_are_counted():
    from v1lab.synapse.simple_cell_lab import compute_invariance

    tw = {
        "contrast": np.array([0.15, 0.3, 1.0]),
        "rate_hwhh_deg": np.array([3.0, 18.0, 24.0]),
        "peak_rate_hz": np.array([1.0, 10.0, 50.0]),
        "orthogonal_rate_hz": np.array([0.0, 1.0, 15.0]),
    }
    # 6 trials × 0.75 s: 1 spike/s is 4.5 spikes at the peak (too few), 10 spikes/s is 45
    inv = compute_invariance(tw, n_trials=6, analysed_s=0.75)
    assert inv["contrasts"].tolist() == [0.3, 1.0]
    assert inv["width_holds"] and (inv["width_lo_deg"], inv["width_hi_deg"]) == (18.0, 24.0)
    assert not inv["orthogonal_holds"] and inv["orthogonal_max"] == pytest.approx(0.3)
    assert not compute_invariance(tw, n_trials=1, analysed_s=0.75)["judged"]
