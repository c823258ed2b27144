"""The ``synaptic_summation`` lab: EPSPs, their summation, and the road to threshold.

:func:`run_synaptic_summation` runs what the protocol's sections ask for on the cells of
:mod:`v1lab.synapse.cell` with the measurements of :mod:`v1lab.synapse.summation`, and
returns a :class:`~v1lab.synapse._common.LabResult` (tables, findings in words with their
numbers, the session's spikes and presentations, traces, sounds). Nothing here draws or
writes; :mod:`v1lab.synapse.lab` does.
"""

from __future__ import annotations

import numpy as np

from v1lab.synapse._common import LabResult, session_times
from v1lab.synapse.cell import make_cell
from v1lab.synapse.receptors import AMPA, Release, compute_mg_block
from v1lab.synapse.simulate import make_events, sim_synaptic_cell
from v1lab.synapse.spec import LabProtocol
from v1lab.synapse.summation import (
    ONSET_S,
    calibrate_weight_ns,
    compute_inhibition,
    compute_nmda_vs_holding,
    compute_pair_peaks,
    compute_spike_probability,
    compute_synchronous_peaks,
    fit_sigmoid,
)

__all__ = ["run_synaptic_summation"]


def run_synaptic_summation(protocol: LabProtocol) -> LabResult:
    """EPSPs, their summation, P(spike) against N, inhibition and NMDA on cortical cells."""
    s = protocol.sections
    rng = np.random.default_rng(protocol.seed)
    res = LabResult()
    passive = make_cell("passive")
    epsp = s["epsp"]
    w1 = calibrate_weight_ns(passive, AMPA, target_mv=epsp.unitary_mv)
    n = np.array(epsp.synchronous_n)
    cond = compute_synchronous_peaks(passive, w1, n)
    fixed = compute_synchronous_peaks(passive, w1, n, current_based=True)
    unit = compute_synchronous_peaks(passive, w1, [1])[0]
    res.tables["spatial_summation"] = {
        "n_inputs": n,
        "peak_mv": cond,
        "linear_sum_mv": n * unit,
        "ratio_to_linear": cond / (n * unit),
        "fixed_driving_force_peak_mv": fixed,
    }
    d = np.array(epsp.pair_intervals_ms)
    pair = compute_pair_peaks(passive, w1, d)
    res.tables["temporal_summation"] = {
        "interval_ms": d,
        "peak_mv": pair,
        "ratio_to_one": pair / unit,
    }
    res.findings.append(
        f"Passive cell (τm = {passive.tau_m_ms:.0f} ms, "
        f"R_in = {1e3 / passive.conductances_ns[3]:.1f} MΩ, C = {passive.capacitance_pf:.0f} pF): "
        f"a unitary {epsp.unitary_mv:g}-mV EPSP needs an AMPA peak conductance of {w1:.3f} nS. "
        f"{int(n[-1])} synchronous inputs sum to {cond[-1]:.2f} mV, "
        f"{100 * cond[-1] / (n[-1] * unit):.1f} % of the linear sum: each input's current is "
        f"g·(E_rev − V), and the depolarisation the others cause shrinks the driving force "
        f"(with the driving force held at rest the same inputs sum to {fixed[-1]:.2f} mV, exactly "
        f"linear). Two EPSPs {d[0]:g}–{d[-1]:g} ms apart peak at {pair[0]:.2f}–{pair[-1]:.2f} mV: "
        f"the second rides on the first's tail, which decays with τm."
    )
    v_traces = sim_synaptic_cell(
        passive,
        [AMPA],
        make_events(np.arange(n.size), np.full(n.size, ONSET_S), n * w1, n_trains=n.size),
        0.1,
        record="all",
        record_dt_ms=0.1,
    )
    res.traces["spatial"] = (v_traces.t_s, v_traces.v_mv - v_traces.rest_mv, n)

    sp = s["spike_probability"]
    release = Release(sp.p_release, sp.amplitude_cv)
    n_in = np.arange(1, sp.n_max + 1, sp.n_step)
    rows: dict[str, list] = {k: [] for k in ("cell", "jitter_ms", "n_inputs", "p_spike")}
    fits: dict[str, list] = {
        k: []
        for k in ("cell", "jitter_ms", "unitary_weight_ns", "midpoint_n", "width_n", "deviance")
    }
    for kind in sp.cells:
        cell = make_cell(kind)
        w = calibrate_weight_ns(cell, AMPA, target_mv=epsp.unitary_mv)
        for jitter in sp.jitter_ms:
            p = compute_spike_probability(
                cell, w, n_in, n_trials=sp.n_trials, rng=rng, release=release, jitter_ms=jitter
            )
            rows["cell"] += [kind] * n_in.size
            rows["jitter_ms"] += [jitter] * n_in.size
            rows["n_inputs"] += list(n_in)
            rows["p_spike"] += list(p)
            try:
                f = fit_sigmoid(n_in, p, sp.n_trials)
            except ValueError:  # P never crosses 1/2 within n_max
                f = {"midpoint": np.nan, "width": np.nan, "deviance": np.nan}
            for key, val in (
                ("cell", kind), ("jitter_ms", jitter), ("unitary_weight_ns", w),
                ("midpoint_n", f["midpoint"]), ("width_n", f["width"]), ("deviance", f["deviance"]),
            ):  # fmt: skip
                fits[key].append(val)
    res.tables["spike_probability"] = {k: np.array(v) for k, v in rows.items()}
    res.tables["sigmoid_fits"] = {k: np.array(v) for k, v in fits.items()}
    lines = [
        f"{c}, jitter {j:g} ms: N50 = {m:.1f}, width (N75 − N25) = {wd:.1f}"
        for c, j, m, wd in zip(
            fits["cell"], fits["jitter_ms"], fits["midpoint_n"], fits["width_n"], strict=True
        )
    ]
    res.findings.append(
        f"P(spike) against N unitary {epsp.unitary_mv:g}-mV inputs (release probability "
        f"{sp.p_release:g}, amplitude CV {sp.amplitude_cv:g}; Markram et al. 1997), {sp.n_trials} "
        "trials per N, logistic fitted by maximum likelihood: " + "; ".join(lines) + ". "
        "The regular-spiking cortical cell (τm 20 ms) integrates: jitter of a few ms costs it "
        "little. The squid HH membrane (effective τ ≈ 1.5 ms) is a coincidence detector: "
        "jittered inputs no longer add up."
    )

    inh = s["inhibition"]
    ires = compute_inhibition(
        passive, excitatory_ns=inh.excitatory_n * w1, inhibitory_ns=inh.inhibitory_ns,
        e_hyper_mv=inh.hyperpolarising_e_rev_mv,
    )  # fmt: skip
    res.tables["inhibition"] = {
        "condition": np.array(ires["labels"]),
        "peak_mv": ires["peak_mv"],
        "trough_mv": ires["trough_mv"],
    }
    res.traces["inhibition"] = ires
    res.findings.append(
        f"An EPSP of {inh.excitatory_n} inputs ({ires['peak_mv'][0]:.2f} mV) with "
        f"{inh.inhibitory_ns:g} nS of GABA-A arriving with it: reversing at rest "
        f"({ires['e_shunt_mv']:.0f} mV) the inhibition never hyperpolarises (trough "
        f"{ires['trough_mv'][1]:.3f} mV) yet cuts the EPSP to {ires['peak_mv'][1]:.2f} mV — "
        f"shunting; reversing at {ires['e_hyper_mv']:.0f} mV it cuts it to "
        f"{ires['peak_mv'][2]:.2f} mV and pulls V {-ires['trough_mv'][2]:.2f} mV below rest."
    )

    nm = s["nmda"]
    hold = np.array(nm.holding_mv)
    amp = compute_nmda_vs_holding(
        passive, hold, nmda_weight_ns=nm.nmda_ns, ampa_weight_ns=w1, mg_mm=nm.mg_mm
    )
    free = compute_nmda_vs_holding(
        passive, hold, nmda_weight_ns=nm.nmda_ns, ampa_weight_ns=w1, mg_mm=0.0
    )
    block = compute_mg_block(hold, nm.mg_mm)
    res.tables["nmda"] = {
        "holding_mv": hold,
        "nmda_epsp_mv": amp["nmda"],
        "nmda_epsp_no_mg_mv": free["nmda"],
        "measured_block": amp["nmda"] / free["nmda"],
        "jahr_stevens_block": block,
        "ampa_epsp_mv": amp["ampa"],
    }
    i_best = int(np.argmax(amp["nmda"]))
    res.findings.append(
        f"NMDA ({nm.nmda_ns:g} nS, {nm.mg_mm:g} mM Mg²⁺): the EPSP grows from "
        f"{amp['nmda'][0]:.2f} mV at {hold[0]:.0f} mV to {amp['nmda'][i_best]:.2f} mV at "
        f"{hold[i_best]:.0f} mV as depolarisation relieves the Mg²⁺ block, while the AMPA EPSP "
        f"only shrinks with its driving force. The EPSP with Mg²⁺ over the EPSP without is "
        f"within {100 * np.max(np.abs(amp['nmda'] / free['nmda'] / block - 1)):.0f} % of "
        "Jahr & Stevens' B(V_hold); the excess is the EPSP's own depolarisation relieving "
        "the block further (a 0.05-nS EPSP follows B(V) within 1 %: tests/synapse)."
    )

    # the session: each P(spike) trial in turn (for NWB), and a sound sweeping N
    res.spike_times, res.units, res.presentations, res.duration_s = [], {}, {}, 0.0
    sound_cell = make_cell(sp.cells[0])
    w = calibrate_weight_ns(sound_cell, AMPA, target_mv=epsp.unitary_mv)
    n_sweep = np.repeat(n_in, 4)
    trial_s = 0.25
    train = np.repeat(np.arange(n_sweep.size), n_sweep)
    weights = release.draw(np.full(train.size, w), rng)
    ev = make_events(train, np.full(train.size, 0.05), weights, n_trains=n_sweep.size)
    tr = sim_synaptic_cell(sound_cell, [AMPA], ev, trial_s)
    times, starts = session_times(tr.spikes, trial_s)
    res.spike_times = [times]
    res.units = {
        "cell_type": np.array([sp.cells[0]]),
        "unitary_epsp_mv": np.array([epsp.unitary_mv]),
    }
    res.presentations = {
        "start_time": starts,
        "stop_time": starts + trial_s,
        "stimulus_condition_id": np.searchsorted(n_in, n_sweep),
        "stimulus": np.array(["synchronous_inputs"] * n_sweep.size),
        "n_inputs": n_sweep.astype(float),
    }
    res.duration_s = n_sweep.size * trial_s
    res.sounds["n_inputs_sweep"] = (
        [times],
        res.duration_s,
        f"The {sp.cells[0]} cell, 4 trials at each N = {n_in[0]}, {n_in[1]}, … {n_in[-1]} "
        f"synchronous inputs, {trial_s:g} s apart: silence, then a pop on some trials, "
        "then on every one.",
    )
    return res
