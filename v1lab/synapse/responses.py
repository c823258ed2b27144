"""Intracellular responses to drifting gratings: Vm and spike tuning, and Vm → rate.

Measured as Carandini & Ferster (2000) measured cat simple cells intracellularly:

* **Spikes removed from Vm** (:func:`remove_spikes`): the trace from 1 ms before to
  3 ms after each spike is replaced by a straight line, so that Vm is the synaptic
  potential that the threshold acts on.
* **Responses** (:func:`compute_grating_responses`): for each presentation, the mean
  (F0) and the first harmonic (F1, at the grating's temporal frequency) of Vm and of the
  spike rate over whole cycles, after an onset transient; Vm relative to its mean on the
  grey screen before the stimulus. The response to an orientation is ``F0 + F1``, the
  peak of the fundamental — for Vm the depolarisation the threshold sees at the best
  phase, for spikes the peak rate.
* **Tuning widths**: half-width at half-height of a von Mises fitted to each
  (:func:`~v1lab.analysis.compute_von_mises_fit`). Carandini & Ferster (2000) measured
  23 ± 8° for spikes and 38 ± 15° for Vm: the threshold cuts the tuning curve near its
  peak (the "iceberg").
* **Vm → rate** (:func:`compute_vm_to_rate`): cycle-averaged Vm and rate in phase bins,
  pooled over conditions, fitted two ways: the threshold-linear rule of Carandini &
  Ferster (2000), ``r = k [V − θ]₊`` (they found θ = −54.4 ± 1.4 mV and
  k = 7.2 ± 0.6 spikes/s/mV, independent of orientation and contrast), and the power
  law of Priebe, Mechler, Carandini & Ferster (2004), ``r = k [V − V_rest]₊^p``.
* **Efficacy and contribution of each LGN input** (:func:`compute_input_efficacy`), as
  Alonso et al. (2001) measured them by cross-correlation: the fraction of an input's
  spikes followed by an extra cortical spike, and the fraction of cortical spikes an input
  accounts for (2–4 % is typical of geniculocortical connections; Reid & Alonso 1995,
  Alonso et al. 1996); and, as Usrey, Alonso & Reid (2000) analysed pairs of inputs to
  one cell, the efficacy of an LGN spike against the interval since the last spike of
  *each* other input (every ordered pair; and of the same input), relative to its
  efficacy 20–50 ms after one, with the same measured on another trial's spikes (the
  stimulus co-modulates the inputs) subtracted; :func:`compute_pair_window` fits the
  decay. Usrey et al. found ~2.5 ms and a ~7 ms window between inputs, ~15 ms for two
  spikes of one input.

References
----------
Alonso JM, Usrey WM, Reid RC (1996). Precisely correlated firing in cells of the lateral
geniculate nucleus. Nature 383:815–819.
Alonso JM, Usrey WM, Reid RC (2001). J Neurosci 21:4002–4015.
Carandini M, Ferster D (2000). Membrane potential and firing rate in cat primary visual
cortex. J Neurosci 20:470–484.
Priebe NJ, Mechler F, Carandini M, Ferster D (2004). The contribution of spike threshold
to the dichotomy of cortical simple and complex cells. Nat Neurosci 7:1113–1122.
Reid RC, Alonso JM (1995). Nature 378:281–284.
Usrey WM, Alonso JM, Reid RC (2000). J Neurosci 20:5461–5467.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

from v1lab.analysis import compute_f1_f0, compute_von_mises_fit
from v1lab.synapse.simulate import SynapticTrace

__all__ = [
    "compute_grating_responses",
    "compute_input_efficacy",
    "compute_pair_window",
    "compute_tuning_widths",
    "compute_vm_to_rate",
    "remove_spikes",
]


def remove_spikes(
    trace: SynapticTrace, *, before_ms: float = 1.0, after_ms: float = 3.0
) -> np.ndarray:
    """The recorded Vm with each spike replaced by a line from 1 ms before to 3 ms after."""
    v = trace.v_mv.copy()
    dt_ms = float(trace.t_s[1] - trace.t_s[0]) * 1e3
    n_rows, n_t = v.shape
    counts = np.diff(trace.spikes.indptr)[trace.trains]
    if not counts.sum():
        return v
    starts = trace.spikes.indptr[trace.trains]
    take = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts, strict=True)])
    row = np.repeat(np.arange(n_rows), counts)
    centre = np.round(trace.spikes.times_s[take] * 1e3 / dt_ms).astype(np.int64)
    offsets = np.arange(-round(before_ms / dt_ms), round(after_ms / dt_ms) + 1)
    cols = np.clip(centre[:, None] + offsets[None, :], 0, n_t - 1)
    mask = np.zeros((n_rows, n_t), bool)
    mask[np.repeat(row, offsets.size), cols.ravel()] = True
    x = np.arange(n_t)
    for r in np.flatnonzero(mask.any(axis=1)):  # one interpolation per spiking trace
        keep = ~mask[r]
        v[r, mask[r]] = np.interp(x[mask[r]], x[keep], v[r, keep])
    return v


def compute_grating_responses(
    trace: SynapticTrace,
    *,
    n_stimuli: int,
    n_trials: int,
    pre_s: float,
    transient_s: float,
    temporal_frequency_hz: float,
) -> dict[str, np.ndarray]:
    """F0, F1 and F0 + F1 of Vm (mV, above the grey-screen Vm) and of the spike rate
    (spikes/s), averaged over trials: arrays of shape (n_stimuli,), plus the spike-free
    Vm (``vm``, all trains) for later use."""
    vm = remove_spikes(trace)
    dt_s = float(trace.t_s[1] - trace.t_s[0])
    fs = 1.0 / dt_s
    grey = (trace.t_s >= 0.5 * pre_s) & (trace.t_s < pre_s)
    base = vm[:, grey].mean(axis=1)
    window = trace.t_s >= pre_s + transient_s
    f1_v, f0_v = compute_f1_f0(vm[:, window].T - base, fs, temporal_frequency_hz)
    # spike rate: spike counts in the recorded samples' bins
    spikes = trace.spikes
    counts = np.diff(spikes.indptr)
    row = np.repeat(np.arange(spikes.n_trains), counts)
    col = np.minimum((spikes.times_s / dt_s).astype(np.int64), trace.t_s.size - 1)
    rate = np.zeros((spikes.n_trains, trace.t_s.size))
    np.add.at(rate, (row, col), fs)
    f1_r, f0_r = compute_f1_f0(rate[:, window].T, fs, temporal_frequency_hz)

    def per_stim(x: np.ndarray) -> np.ndarray:
        return x.reshape(n_stimuli, n_trials).mean(axis=1)

    out = {
        "vm_f0_mv": per_stim(f0_v),
        "vm_f1_mv": per_stim(f1_v),
        "rate_f0_hz": per_stim(f0_r),
        "rate_f1_hz": per_stim(f1_r),
        "grey_vm_mv": per_stim(base),
    }
    out["vm_response_mv"] = out["vm_f0_mv"] + out["vm_f1_mv"]
    out["rate_response_hz"] = out["rate_f0_hz"] + out["rate_f1_hz"]
    out["vm"] = vm
    out["rate"] = rate
    return out


def compute_tuning_widths(orientations_deg: Any, vm_response: Any, rate_response: Any) -> dict:
    """Half-widths at half-height (deg) of von Mises fits to the Vm and spike tuning."""
    vm_fit = compute_von_mises_fit(orientations_deg, vm_response, period=180.0)
    rate_fit = compute_von_mises_fit(orientations_deg, rate_response, period=180.0)
    return {
        "vm_hwhh_deg": vm_fit.hwhh_deg,
        "rate_hwhh_deg": rate_fit.hwhh_deg,
        "vm_preferred_deg": vm_fit.preferred_deg,
        "rate_preferred_deg": rate_fit.preferred_deg,
        "vm_fit": vm_fit,
        "rate_fit": rate_fit,
    }


def compute_vm_to_rate(
    vm: np.ndarray,
    rate: np.ndarray,
    *,
    fs: float,
    temporal_frequency_hz: float,
    start_s: float,
    rest_mv: float,
    n_bins: int = 20,
) -> dict[str, Any]:
    """Cycle-averaged Vm and rate in ``n_bins`` phase bins per train, and the two fits.

    Returns ``vm_mv``, ``rate_hz`` (pooled bins), the threshold-linear fit
    (``threshold_mv``, ``gain_hz_per_mv``) and the power law (``power_k``,
    ``power_exponent``) above ``rest_mv``.
    """
    i0 = round(start_s * fs)
    per_cycle = fs / temporal_frequency_hz
    n_cycles = math.floor((vm.shape[1] - i0) / per_cycle)
    n = round(n_cycles * per_cycle)
    phase = (np.arange(n) / per_cycle) % 1.0
    b = np.minimum((phase * n_bins).astype(np.int64), n_bins - 1)
    norm = np.bincount(b, minlength=n_bins)
    v_bins = np.stack([np.bincount(b, weights=row[i0 : i0 + n], minlength=n_bins) for row in vm])
    r_bins = np.stack([np.bincount(b, weights=row[i0 : i0 + n], minlength=n_bins) for row in rate])
    v_bins = (v_bins / norm).ravel()
    r_bins = (r_bins / norm).ravel()

    def linear(v: np.ndarray, theta: float, k: float) -> np.ndarray:
        return k * np.maximum(v - theta, 0.0)

    def power(v: np.ndarray, k: float, p: float) -> np.ndarray:
        return k * np.maximum(v - rest_mv, 0.0) ** p

    out: dict[str, Any] = {"vm_mv": v_bins, "rate_hz": r_bins}
    nan = math.nan
    try:
        (theta, k), _ = optimize.curve_fit(
            linear, v_bins, r_bins, p0=[float(np.percentile(v_bins, 80)), 5.0], maxfev=20_000
        )
        out.update(threshold_mv=float(theta), gain_hz_per_mv=float(k))
    except (RuntimeError, ValueError):
        out.update(threshold_mv=nan, gain_hz_per_mv=nan)
    try:
        (kp, p), _ = optimize.curve_fit(
            power, v_bins, r_bins, p0=[0.1, 2.0], bounds=([0, 0.5], [1e6, 10]), maxfev=20_000
        )
        out.update(power_k=float(kp), power_exponent=float(p))
    except (RuntimeError, ValueError):
        out.update(power_k=nan, power_exponent=nan)
    return out


#: Intervals (ms) since an earlier spike, for the pair analysis: 1-ms bins to 20 ms,
#: then the reference bin 20–50 ms (beyond any interaction) the efficacies are scaled by.
PAIR_BINS_MS = (*[float(i) for i in range(21)], 50.0)


def _pair_counts(
    key: np.ndarray,
    inp: np.ndarray,
    excess: np.ndarray,
    key_a: np.ndarray,
    inp_a: np.ndarray,
    n_inputs: int,
    *,
    same: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Summed excess and number of LGN spikes in each bin of :data:`PAIR_BINS_MS` of the
    interval since the last earlier spike (``key_a``, ``inp_a``: sorted) of another input
    (``same=False``: every ordered pair of inputs) or of the same input (``same=True``).

    ``key`` is each spike's time on one axis with the trains laid end to end (sorted).
    """
    edges = np.array(PAIR_BINS_MS) * 1e-3
    n_bins = edges.size - 1
    ex_bin = np.zeros(n_bins)
    n_bin = np.zeros(n_bins)
    for a in range(n_inputs):  # one vectorised pass per input, not per spike
        ka = key_a[inp_a == a]
        if not ka.size:
            continue
        target = inp == a if same else inp != a
        kb, eb = key[target], excess[target]
        j = np.searchsorted(ka, kb, side="left") - 1
        ok = j >= 0
        gap = np.where(ok, kb - ka[np.maximum(j, 0)], np.inf)
        b = np.searchsorted(edges, gap, side="right") - 1
        inside = ok & (b >= 0) & (b < n_bins)
        n_bin += np.bincount(b[inside], minlength=n_bins)
        ex_bin += np.bincount(b[inside], weights=eb[inside], minlength=n_bins)
    return ex_bin, n_bin


def compute_pair_window(interval_ms: np.ndarray, enhancement: np.ndarray) -> dict[str, float]:
    """Fit ``1 + a e^{−Δt/τ}`` to the enhancement against interval (bins to 20 ms) and
    give τ and the window: the interval at which the fitted excess falls to 10 % of its
    value at 0 (``τ ln 10``). Usrey et al. (2000): heterosynaptic ~2.5 ms, ~7 ms."""
    ok = np.isfinite(enhancement)
    nan = {"amplitude": math.nan, "tau_ms": math.nan, "window_ms": math.nan}
    if ok.sum() < 4:
        return nan
    try:
        (a, tau), _ = optimize.curve_fit(
            lambda t, a, tau: 1.0 + a * np.exp(-t / tau),
            interval_ms[ok], enhancement[ok], p0=[1.0, 3.0],
            bounds=([-10.0, 0.05], [100.0, 200.0]), maxfev=20_000,
        )  # fmt: skip
    except (RuntimeError, ValueError):
        return nan
    return {"amplitude": float(a), "tau_ms": float(tau), "window_ms": float(tau * math.log(10))}


def compute_input_efficacy(
    lgn: dict[str, np.ndarray],
    cortical: Any,
    *,
    n_inputs: int,
    n_trials: int,
    excitatory: np.ndarray,
    window_ms: float = 5.0,
) -> dict[str, np.ndarray]:
    """Alonso et al.'s (2001) efficacy and contribution of each input, and Usrey et al.'s
    (2000) pair analysis, from the spikes of one run.

    A cortical spike within ``window_ms`` after an LGN spike counts for that LGN spike;
    the same count with the cortical spikes of the *next* trial of the same stimulus
    (the shift predictor: stimulus-locked co-modulation without a synapse) is
    subtracted. Efficacy = excess / LGN spikes of the input; contribution = excess /
    cortical spikes. The pair analysis bins every excitatory LGN spike by the interval
    since the previous spike of another input on the same cell (:data:`PAIR_BINS_MS`)
    and gives the efficacy in each bin.

    Parameters
    ----------
    lgn : dict
        ``time_s``, ``train`` and ``input`` of every LGN spike
        (:func:`~v1lab.synapse.lgn.sim_lgn_to_cell`).
    cortical : SpikeTrains
        The cortical cell's spikes; train ``stimulus * n_trials + trial``.
    n_inputs, n_trials : int
    excitatory : ndarray of bool (n_inputs,)
        Which inputs are excitatory (only those are analysed).
    window_ms : float
    """
    big = cortical.duration_s + 1.0  # trains laid end to end on one sorted axis
    counts = np.diff(cortical.indptr)
    keys = cortical.times_s + np.repeat(np.arange(cortical.n_trains), counts) * big
    keep = excitatory[lgn["input"]]
    t, train, inp = lgn["time_s"][keep], lgn["train"][keep], lgn["input"][keep]
    w = window_ms * 1e-3
    stim, trial = np.divmod(train, n_trials)
    shifted = stim * n_trials + (trial + 1) % n_trials

    def hits(trains: np.ndarray) -> np.ndarray:
        at = t + trains * big
        return np.searchsorted(keys, at + w, side="right") - np.searchsorted(keys, at, side="right")

    excess = (hits(train) - hits(shifted)).astype(float)
    n_lgn = np.bincount(inp, minlength=n_inputs).astype(float)
    total = np.bincount(inp, weights=excess, minlength=n_inputs)
    n_cortical = max(int(counts.sum()), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        efficacy = np.where(n_lgn > 0, total / n_lgn, np.nan)
    # pairs (Usrey et al. 2000): efficacy against the interval since another input's
    # last spike (and the same input's), against its 20–50 ms reference; the same done
    # with the earlier spikes taken from a third trial (two on: neither the spike's own
    # trial nor the shift predictor's, whose cortical spikes they helped cause) — what the
    # stimulus's co-modulation of the inputs gives without any interaction on the cell —
    # divides out, leaving the interaction. Fewer than 3 trials: no such control.
    order = np.lexsort((t, train))
    key_s, in_s, ex_s = (t + train * big)[order], inp[order], excess[order]
    conditioning = [(key_s, in_s)]
    if n_trials >= 3:
        # trial q's spikes laid on trial q − 2: a spike of trial r is conditioned on r + 2's
        sh_key = t + (stim * n_trials + (trial - 2) % n_trials) * big
        sh_order = np.argsort(sh_key, kind="stable")
        conditioning.append((sh_key[sh_order], inp[sh_order]))
    out_pairs = {}
    for label, same in (("pair", False), ("homo", True)):
        effs = []
        for ka, ia in conditioning:
            ex_bin, n_bin = _pair_counts(key_s, in_s, ex_s, ka, ia, n_inputs, same=same)
            with np.errstate(invalid="ignore", divide="ignore"):
                effs.append(np.where(n_bin > 0, ex_bin / n_bin, np.nan))
            if len(effs) == 1:
                out_pairs[f"{label}_n"] = n_bin
        if len(effs) == 1:
            effs.append(np.full_like(effs[0], np.nan))
        out_pairs[f"{label}_efficacy"], out_pairs[f"{label}_shift_efficacy"] = effs
        # 1 + the change of efficacy from the reference bin, less the control's change,
        # over the reference efficacy: differences, so that no small, noisy efficacy
        # is ever a denominator except the reference's (which holds most spikes)
        change = effs[0] - effs[0][-1]
        if n_trials >= 3:
            change = change - (effs[1] - effs[1][-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            out_pairs[f"{label}_enhancement"] = 1.0 + change / effs[0][-1]
    return {
        "efficacy": efficacy[excitatory],
        "contribution": (total / n_cortical)[excitatory],
        "lgn_spikes": n_lgn[excitatory],
        "pair_bin_lo_ms": np.array(PAIR_BINS_MS[:-1]),
        "pair_bin_hi_ms": np.array(PAIR_BINS_MS[1:]),
        **out_pairs,
        "overall_efficacy": np.array(excess.sum() / max(excess.size, 1)),
    }
