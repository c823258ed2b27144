"""The ``lgn_to_simple_cell`` lab: LGN spikes converge on one cell; is it orientation-tuned?

:func:`run_lgn_to_simple_cell` builds the simple cell's LGN inputs
(:func:`~v1lab.synapse.lgn.make_lgn_inputs`), drives it with drifting gratings at every
orientation × contrast and with a slit swept along and across its subregions, and
measures Vm and spike tuning (:mod:`v1lab.synapse.responses`) — for each circuit the
protocol lists: ``push_pull = 0`` is Hubel & Wiesel's pure feedforward circuit; a value
> 0 adds the opposite-sign (push–pull) inhibition of Troyer et al. (1998).

Circuits
--------
Each entry of ``circuits`` is one cell: its push–pull weight, and the noise
(``vm_noise_sd_mv``) and conductance (``background_ns``) of the rest of the cortex's
input (:mod:`v1lab.synapse.lgn`). The shipped protocol compares the quiet cell, noise
alone, the in-vivo state (both), and the in-vivo state with push–pull.

Contrast invariance
-------------------
Orientation tuning width is nearly independent of contrast in cat V1 (Sclar & Freeman
1982). Two things can break it in a feedforward cell, and the lab reports both
(:func:`compute_invariance`), on the contrasts that drive enough spikes to fit:

* **the width**: a hard threshold keeps only the tip of a weak response, so the spike
  tuning narrows at low contrast (the iceberg). Noise smooths the threshold into an
  expansive power law, which narrows less (Anderson et al. 2000; Miller & Troyer 2002;
  Hansel & van Vreeswijk 2002);
* **the orthogonal response**: a drifting grating at *any* orientation raises the mean
  rate of the LGN cells (rectification), so the mean (F0) of the synaptic input is untuned
  and grows with contrast while only its modulation (F1) is tuned; at high contrast the
  untuned mean lifts Vm over threshold at every orientation (Troyer et al. 1998; Ferster &
  Miller 2000). Constant noise cannot remove it: Finn, Priebe & Ferster (2007) found that
  real simple cells keep it down because LGN input is a minor share of their excitation,
  their Vm responses saturate at lower contrast than LGN firing, and their trial-to-trial
  variability changes with contrast — none of which this one-cell feedforward model has.
  Inhibition from opposite-sign LGN cells (push–pull) cancels the untuned mean.

Pairs of inputs
---------------
Usrey, Alonso & Reid (2000) found that a spike of one LGN input is more effective for
~7 ms (time constant ~2.5 ms) after a spike of another input to the same cell
(:data:`USREY2000`); the lab measures that window as they did
(:func:`~v1lab.synapse.responses.compute_input_efficacy`,
:func:`~v1lab.synapse.responses.compute_pair_window`).

References
----------
Anderson JS, Lampl I, Gillespie DC, Ferster D (2000). Science 290:1968–1972.
Finn IM, Priebe NJ, Ferster D (2007). The emergence of contrast-invariant orientation
tuning in simple cells of cat visual cortex. Neuron 54:137–152.
Hansel D, van Vreeswijk C (2002). J Neurosci 22:5118–5128.
Miller KD, Troyer TW (2002). J Neurophysiol 87:653–659.
Ferster D, Miller KD (2000). Neural mechanisms of orientation selectivity in the visual
cortex. Annu Rev Neurosci 23:441–471.
Sclar G, Freeman RD (1982). Orientation selectivity in the cat's striate cortex is
invariant with stimulus contrast. Exp Brain Res 46:457–461.
Troyer TW, Krukowski AE, Priebe NJ, Miller KD (1998). J Neurosci 18:5908–5927.
Usrey WM, Alonso JM, Reid RC (2000). Synaptic interactions between thalamic inputs to
simple cells in cat visual cortex. J Neurosci 20:5461–5467.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import Bar, Grating
from v1lab.synapse._common import LabResult, session_times, sound_trains
from v1lab.synapse.cell import compute_rest_mv, make_cell
from v1lab.synapse.lgn import add_background_conductance, make_lgn_inputs, sim_lgn_to_cell
from v1lab.synapse.responses import (
    compute_grating_responses,
    compute_input_efficacy,
    compute_pair_window,
    compute_tuning_widths,
    compute_vm_to_rate,
)
from v1lab.synapse.spec import LabProtocol

__all__ = [
    "CF2000",
    "CF2000_GAIN_HZ_PER_MV",
    "CF2000_THRESHOLD_MV",
    "USREY2000",
    "compute_invariance",
    "run_lgn_to_simple_cell",
]

#: Carandini & Ferster (2000), cat V1, intracellular: half-widths at half-height of the
#: orientation tuning (mean ± SD, deg), and the threshold-linear Vm → rate fit.
CF2000 = {"rate_hwhh_deg": (23.0, 8.0), "vm_hwhh_deg": (38.0, 15.0)}
CF2000_THRESHOLD_MV = (-54.4, 1.4)
CF2000_GAIN_HZ_PER_MV = (7.2, 0.6)

FIT_KEYS = ("threshold_mv", "gain_hz_per_mv", "power_k", "power_exponent")
WINDOW_KEYS = ("amplitude", "tau_ms", "window_ms")
#: Usrey, Alonso & Reid (2000): pairs of LGN spikes on different inputs interact for
#: ~7 ms (time constant ~2.5 ms); on the same input, the second spike is more effective
#: for ~15 ms.
USREY2000 = {"hetero_tau_ms": 2.5, "hetero_window_ms": 7.0, "homo_window_ms": 15.0}
PRE_S = 0.25  # grey screen before each stimulus
TRANSIENT_S = 0.25  # onset transient left out of the response measures


def _half_width_from_zero(fit: Any) -> float:
    """Half-width (deg) at which the fitted curve falls to half its peak above 0 (the
    grey screen); 90 if it never does."""
    if not np.isfinite(fit.kappa):
        return np.nan
    theta = np.linspace(0.0, 90.0, 9001)
    y = fit(fit.preferred_deg + theta)
    below = np.flatnonzero(y <= 0.5 * y[0])
    return float(theta[below[0]]) if below.size else 90.0


def _circuit_name(push_pull: float, noise_mv: float = 0.0, background_ns: float = 0.0) -> str:
    name = "feedforward" if push_pull == 0 else f"push_pull_{push_pull:g}"
    name += f"_noise_{noise_mv:g}mv" if noise_mv > 0 else ""
    return name + (f"_background_{background_ns:g}ns" if background_ns > 0 else "")


def _gratings(g: Any) -> tuple[list[Grating], np.ndarray]:
    stims, labels = [], []
    for c in g.contrasts:
        for o in g.orientations_deg:
            stims.append(Grating(
                orientation_deg=float(o), direction_deg=float(o) + 90.0, contrast=c,
                spatial_frequency_cpd=g.spatial_frequency_cpd,
                temporal_frequency_hz=g.temporal_frequency_hz, duration_s=g.duration_s,
            ))  # fmt: skip
            labels.append((c, o))
    return stims, np.array(labels)


def _widths(oris: np.ndarray, contrasts: tuple, resp: dict) -> tuple[dict, list]:
    n_o = oris.size
    keys = (
        "contrast", "vm_hwhh_deg", "rate_hwhh_deg", "vm_hwhh_from_grey_deg",
        "rate_hwhh_from_grey_deg", "vm_preferred_deg", "rate_preferred_deg",
        "peak_rate_hz", "orthogonal_rate_hz",
    )  # fmt: skip
    table: dict[str, list] = {k: [] for k in keys}
    fits = []
    for i, c in enumerate(contrasts):
        sl = slice(i * n_o, (i + 1) * n_o)
        w = compute_tuning_widths(oris, resp["vm_response_mv"][sl], resp["rate_response_hz"][sl])
        fits.append(w)
        rates = resp["rate_response_hz"][sl]
        pref = int(np.argmax(rates))
        values = (
            c, w["vm_hwhh_deg"], w["rate_hwhh_deg"], _half_width_from_zero(w["vm_fit"]),
            _half_width_from_zero(w["rate_fit"]), w["vm_preferred_deg"],
            w["rate_preferred_deg"], rates[pref], rates[(pref + n_o // 2) % n_o],
        )  # fmt: skip
        for k, v in zip(keys, values, strict=True):
            table[k].append(v)
    return {k: np.array(v, dtype=float) for k, v in table.items()}, fits


#: Spikes at the peak orientation (over all trials) for a contrast's width to be judged:
#: a Poisson count's SE is then ≤ 22 %, and the von Mises half-width is good to a few deg.
MIN_PEAK_SPIKES = 20
#: Contrast invariance as judged here: spike half-widths within 10° of each other (Sclar &
#: Freeman 1982's cells changed by less than that from low to high contrast), and the
#: orthogonal response at most 20 % of the peak.
WIDTH_RANGE_DEG = 10.0
MAX_ORTHOGONAL = 0.2


def compute_invariance(tw: dict, *, n_trials: int, analysed_s: float) -> dict[str, Any]:
    """Whether the spike half-width holds across the contrasts that drive at least
    :data:`MIN_PEAK_SPIKES` spikes at the peak, and how large the orthogonal response
    grows there (a fraction of the peak)."""
    ok = np.isfinite(tw["rate_hwhh_deg"]) & (
        tw["peak_rate_hz"] * n_trials * analysed_s >= MIN_PEAK_SPIKES
    )
    if ok.sum() < 2:
        return {"judged": False}
    w = tw["rate_hwhh_deg"][ok]
    orth = tw["orthogonal_rate_hz"][ok] / tw["peak_rate_hz"][ok]
    return {
        "judged": True,
        "contrasts": tw["contrast"][ok],
        "width_lo_deg": float(w.min()),
        "width_hi_deg": float(w.max()),
        "width_holds": bool(np.ptp(w) <= WIDTH_RANGE_DEG),
        "orthogonal_max": float(orth.max()),
        "orthogonal_holds": bool(orth.max() <= MAX_ORTHOGONAL),
    }


def _invariance_text(inv: dict) -> str:
    if not inv["judged"]:
        return f"fewer than two contrasts give {MIN_PEAK_SPIKES} spikes at the peak: not judged"
    c = inv["contrasts"]
    return (
        f"across contrasts {c.min():g}–{c.max():g} (those giving ≥ {MIN_PEAK_SPIKES} spikes at "
        f"the peak) the spike half-width spans {inv['width_lo_deg']:.1f}–"
        f"{inv['width_hi_deg']:.1f}°: the width "
        + ("holds" if inv["width_holds"] else f"does not hold (range > {WIDTH_RANGE_DEG:g}°)")
        + f" (Sclar & Freeman 1982); the orthogonal response reaches "
        f"{100 * inv['orthogonal_max']:.0f} % of the peak"
        + (" (≤ 20 %: invariant)" if inv["orthogonal_holds"] else " (> 20 %: it grows)")
    )


def run_lgn_to_simple_cell(protocol: LabProtocol) -> LabResult:
    """Drifting gratings (orientation × contrast) and slits through LGN spikes to one cell,
    for each circuit of ``circuits.push_pull``."""
    s = protocol.sections
    rs = s["retina"]
    retina = Retina(
        extent_deg=rs.extent_deg, pixels_per_deg=rs.pixels_per_deg,
        lgn_extent_deg=rs.lgn_extent_deg, lgn_spacing_deg=rs.lgn_spacing_deg,
    )  # fmt: skip
    quiet_cell = make_cell(protocol.cell)
    positions = make_lgn_positions(rs.lgn_extent_deg, rs.lgn_spacing_deg)
    g, sl_spec = s["gratings"], s["slits"]
    oris = np.array(g.orientations_deg)
    stims, labels = _gratings(g)
    travel = rs.lgn_extent_deg + 1.0
    res = LabResult()
    tables: dict[str, dict[str, list]] = {}
    spikes, starts_all, pres_rows = [], [], []
    offset = 0.0
    circuits = s["circuits"].settings
    for k, (pp, noise, bg) in enumerate(circuits):
        name = _circuit_name(pp, noise, bg)
        wiring = replace(s["simple_cell"], push_pull=pp, vm_noise_sd_mv=noise, background_ns=bg)
        cell = add_background_conductance(quiet_cell, bg, wiring.background_e_rev_mv)
        noise_seed = int(np.random.default_rng([protocol.seed, 2, k]).integers(2**63))
        # The same excitatory inputs in every circuit: the wiring draws them first.
        inputs = make_lgn_inputs(wiring, positions, cell, np.random.default_rng([protocol.seed, 0]))
        rng = np.random.default_rng([protocol.seed, 1, k])
        trace, _, lgn_spikes = sim_lgn_to_cell(
            stims, inputs, cell, retina, n_trials=g.n_trials, rng=rng, wiring=wiring,
            pre_s=PRE_S, noise_seed=noise_seed,
        )  # fmt: skip
        resp = compute_grating_responses(
            trace, n_stimuli=len(stims), n_trials=g.n_trials, pre_s=PRE_S,
            transient_s=TRANSIENT_S, temporal_frequency_hz=g.temporal_frequency_hz,
        )  # fmt: skip
        tw, fits = _widths(oris, g.contrasts, resp)
        inv = compute_invariance(tw, n_trials=g.n_trials, analysed_s=g.duration_s - TRANSIENT_S)
        eff = compute_input_efficacy(
            lgn_spikes, trace.spikes, n_inputs=inputs.columns.size, n_trials=g.n_trials,
            excitatory=inputs.receptor == 0,
        )  # fmt: skip
        mid = 0.5 * (eff["pair_bin_lo_ms"] + eff["pair_bin_hi_ms"])[:-1]
        win = {
            "hetero": compute_pair_window(mid, eff["pair_enhancement"][:-1]),
            "homo": compute_pair_window(mid, eff["homo_enhancement"][:-1]),
        }
        vr = compute_vm_to_rate(
            resp["vm"], resp["rate"], fs=1.0 / float(trace.t_s[1] - trace.t_s[0]),
            temporal_frequency_hz=g.temporal_frequency_hz, start_s=PRE_S + TRANSIENT_S,
            rest_mv=compute_rest_mv(cell),
        )  # fmt: skip
        parts = {
            "lgn_inputs": {
                "x_deg": inputs.position_deg[:, 0], "y_deg": inputs.position_deg[:, 1],
                "sign": inputs.sign, "overlap": inputs.overlap, "weight_ns": inputs.weight_ns,
                "receptor": np.where(inputs.receptor == 0, "AMPA", "GABA_A"),
            },
            "grating_responses": {
                "contrast": labels[:, 0], "orientation_deg": labels[:, 1],
                **{q: v for q, v in resp.items() if q not in ("vm", "rate")},
            },
            "tuning_widths": tw,
            "lgn_efficacy": {
                "x_deg": inputs.position_deg[inputs.receptor == 0, 0],
                "y_deg": inputs.position_deg[inputs.receptor == 0, 1],
                "overlap": inputs.overlap[inputs.receptor == 0],
                "efficacy": eff["efficacy"], "contribution": eff["contribution"],
                "lgn_spikes": eff["lgn_spikes"],
            },
            "pair_efficacy": {
                "interval_lo_ms": eff["pair_bin_lo_ms"], "interval_hi_ms": eff["pair_bin_hi_ms"],
                "hetero_efficacy": eff["pair_efficacy"],
                "hetero_enhancement": eff["pair_enhancement"], "hetero_n": eff["pair_n"],
                "homo_efficacy": eff["homo_efficacy"],
                "homo_enhancement": eff["homo_enhancement"], "homo_n": eff["homo_n"],
            },
            "pair_window": {
                f"{kind}_{q}": np.array([win[kind][q]])
                for kind in ("hetero", "homo") for q in WINDOW_KEYS
            },
            "vm_to_rate": {"vm_mv": vr["vm_mv"], "rate_hz": vr["rate_hz"]},
            "vm_to_rate_fit": {q: np.array([vr[q]]) for q in FIT_KEYS},
            "contrast_invariance": {
                q: np.array([inv.get(q, np.nan)], dtype=float)
                for q in ("width_lo_deg", "width_hi_deg", "width_holds", "orthogonal_max",
                          "orthogonal_holds")
            },
        }  # fmt: skip
        for tname, cols in parts.items():
            n_rows = len(next(iter(cols.values())))
            dest = tables.setdefault(tname, {"circuit": []})
            dest["circuit"] += [name] * n_rows
            for q, v in cols.items():
                dest.setdefault(q, []).extend(np.asarray(v).tolist())
        res.traces.setdefault("tuning", []).append(
            (name, oris, np.array(g.contrasts), resp, fits, tw)
        )
        res.traces.setdefault("vm_to_rate", []).append((name, vr))
        res.traces.setdefault("pairs", []).append(
            (name, mid, eff["pair_enhancement"][:-1], win["hetero"])
        )
        res.traces.setdefault("inputs", []).append((name, inputs))
        if k == 0:
            best = int(np.argmax(tw["peak_rate_hz"]))
            res.traces["example"] = (
                name,
                trace.t_s,
                trace.v_mv,
                g.n_trials,
                oris,
                best,
                resp["rate_response_hz"],
            )
        conn = f"{inputs.n_excitatory} excitatory LGN inputs" + (
            f" and {inputs.columns.size - inputs.n_excitatory} push–pull inhibitory ones (× {pp:g})"
            if pp
            else ""
        )
        widths = "; ".join(
            f"contrast {c:g}: spikes {r:.1f}°, Vm {v:.1f}° (from grey: {rg:.1f}° / {vg:.1f}°), "
            f"{pk:.1f} spikes/s at the peak, {orth:.1f} orthogonal"
            for c, r, v, rg, vg, pk, orth in zip(
                tw["contrast"],
                tw["rate_hwhh_deg"],
                tw["vm_hwhh_deg"],
                tw["rate_hwhh_from_grey_deg"],
                tw["vm_hwhh_from_grey_deg"],
                tw["peak_rate_hz"],
                tw["orthogonal_rate_hz"],
                strict=True,
            )
        )
        res.findings.append(
            f"[{name}] {conn}. Half-width at half-height (von Mises above its fitted baseline; "
            f"in brackets, from the grey-screen level): {widths}. Then {_invariance_text(inv)}. "
            f"Vm → rate: threshold {vr['threshold_mv']:.1f} mV, gain {vr['gain_hz_per_mv']:.2f} "
            f"spikes/s/mV; power-law exponent above rest {vr['power_exponent']:.2f}."
        )
        # slits along and across the subregions, to listen to
        slits = [
            Bar(orientation_deg=wiring.orientation_deg + d, speed_deg_s=sl_spec.speed_deg_s,
                length_deg=sl_spec.length_deg, width_deg=sl_spec.width_deg,
                contrast=sl_spec.contrast, duration_s=travel / sl_spec.speed_deg_s)
            for d in (0.0, 90.0)
        ]  # fmt: skip
        st, _, _ = sim_lgn_to_cell(
            slits,
            inputs,
            cell,
            retina,
            n_trials=sl_spec.n_trials,
            rng=rng,
            wiring=wiring,
            pre_s=PRE_S,
            noise_seed=noise_seed + 1,
        )
        counts = st.spikes.counts().reshape(2, sl_spec.n_trials).mean(axis=1)
        dest = tables.setdefault(
            "slits", {"circuit": [], "slit": [], "orientation_deg": [], "mean_spikes_per_sweep": []}
        )
        for j, what in enumerate(("aligned", "crossed")):
            dest["circuit"].append(name)
            dest["slit"].append(what)
            dest["orientation_deg"].append(slits[j].orientation_deg)
            dest["mean_spikes_per_sweep"].append(counts[j])
            sel = np.arange(j * sl_spec.n_trials, (j + 1) * sl_spec.n_trials)
            trains, dur = sound_trains(st.spikes, sel, st.spikes.duration_s)
            res.sounds[f"{what}_slit_{name}"] = (
                trains, dur,
                f"{name}: {sl_spec.n_trials} sweeps of a slit "
                f"{'along' if j == 0 else 'across'} the subregions "
                f"({slits[j].orientation_deg:g}°), {counts[j]:.1f} spikes per sweep.",
            )  # fmt: skip
        e_pct, c_pct = 100 * eff["efficacy"], 100 * eff["contribution"]
        h, m = win["hetero"], win["homo"]
        res.findings.append(
            f"[{name}] Alonso et al.'s cross-correlation measures (a cortical spike within 5 ms "
            f"of an LGN spike, minus the shift predictor): efficacy {np.nanmean(e_pct):.1f} % "
            f"(range {np.nanmin(e_pct):.1f}–{np.nanmax(e_pct):.1f} %), contribution "
            f"{np.mean(c_pct):.1f} % per input (up to {np.max(c_pct):.1f} %; 2–4 % is typical of "
            "geniculocortical pairs: Reid & Alonso 1995, Alonso et al. 1996). Pairs of inputs "
            "(Usrey et al. 2000's analysis: an LGN spike's efficacy against the interval since "
            "another input's last spike, over its efficacy 20–50 ms after one): enhancement "
            f"× {eff['pair_enhancement'][0]:.2f} at 0–1 ms, × {eff['pair_enhancement'][4]:.2f} "
            f"at 4–5 ms, × {eff['pair_enhancement'][9]:.2f} at 9–10 ms; fitted time constant "
            f"{h['tau_ms']:.1f} ms, window (excess down to 10 %) {h['window_ms']:.1f} ms, against "
            f"Usrey et al.'s ~{USREY2000['hetero_tau_ms']:g} ms and ~"
            f"{USREY2000['hetero_window_ms']:g} ms. The same input's second spike: × "
            f"{eff['homo_enhancement'][2]:.2f} at 2–3 ms, × {eff['homo_enhancement'][9]:.2f} at "
            f"9–10 ms; window {m['window_ms']:.1f} ms (Usrey et al.: ~"
            f"{USREY2000['homo_window_ms']:g} ms)."
        )
        res.findings.append(
            f"[{name}] A slit swept at the preferred orientation: {counts[0]:.1f} spikes per "
            f"sweep; crossed at right angles: {counts[1]:.1f}."
        )
        # the session clock: this circuit's presentations after the previous circuit's
        times, starts = session_times(trace.spikes, trace.spikes.duration_s, offset)
        spikes.append(times)
        starts_all.append(starts)
        reps = np.repeat(np.arange(len(stims)), g.n_trials)
        pres_rows.append(
            (reps + k * len(stims), labels[reps], np.full(reps.size, pp),
             np.full(reps.size, noise), np.full(reps.size, bg))
        )  # fmt: skip
        offset = float(starts[-1] + trace.spikes.duration_s)
    res.tables = {
        name: {q: np.asarray(v) for q, v in cols.items()} for name, cols in tables.items()
    }
    res.findings.append(
        f"Carandini & Ferster (2000), cat simple and complex cells: spikes "
        f"{CF2000['rate_hwhh_deg'][0]:g} ± {CF2000['rate_hwhh_deg'][1]:g}°, "
        f"Vm {CF2000['vm_hwhh_deg'][0]:g} ± {CF2000['vm_hwhh_deg'][1]:g}°; "
        f"threshold {CF2000_THRESHOLD_MV[0]:g} ± {CF2000_THRESHOLD_MV[1]:g} mV, gain "
        f"{CF2000_GAIN_HZ_PER_MV[0]:g} ± {CF2000_GAIN_HZ_PER_MV[1]:g} spikes/s/mV."
    )
    starts = np.concatenate(starts_all)
    cond = np.concatenate([r[0] for r in pres_rows])
    lab = np.concatenate([r[1] for r in pres_rows])
    n_per = len(spikes)
    unit_of = np.repeat(np.arange(n_per), [r[0].size for r in pres_rows])
    res.spike_times = spikes
    res.units = {
        "cell_type": np.array(["simple"] * n_per),
        "circuit": np.array([_circuit_name(*c) for c in circuits]),
        "preferred_orientation_deg": np.full(n_per, s["simple_cell"].orientation_deg),
    }
    res.presentations = {
        "start_time": starts,
        "stop_time": starts + (PRE_S + g.duration_s),
        "stimulus_condition_id": cond,
        "stimulus": np.array(["grating"] * starts.size),
        "unit_index": unit_of,
        "push_pull": np.concatenate([r[2] for r in pres_rows]),
        "vm_noise_sd_mv": np.concatenate([r[3] for r in pres_rows]),
        "background_ns": np.concatenate([r[4] for r in pres_rows]),
        "orientation_deg": lab[:, 1],
        "contrast": lab[:, 0],
        "temporal_frequency_hz": np.full(starts.size, g.temporal_frequency_hz),
        "spatial_frequency_cpd": np.full(starts.size, g.spatial_frequency_cpd),
    }
    res.duration_s = offset
    return res
