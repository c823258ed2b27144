"""Figures of the synapse labs, one function per figure, each returning its Figure.

:func:`make_lab_figures` picks the figures of a :class:`~v1lab.synapse._common.LabResult`;
every function draws on a new matplotlib Figure (the Agg canvas, no display needed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from v1lab.synapse._common import LabResult
from v1lab.synapse.receptors import compute_mg_block
from v1lab.synapse.simple_cell_lab import CF2000, CF2000_THRESHOLD_MV, USREY2000

__all__ = ["make_lab_figures"]


def _done(fig: Figure, *legend_axes: Any) -> Figure:
    """Legends on ``legend_axes``, a tight layout, and the figure."""
    for ax in legend_axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_spatial_summation(res: LabResult) -> Figure:
    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    t, v, n = res.traces["spatial"]
    for row, k in zip(v, n, strict=True):
        ax1.plot(t * 1e3, row, label=f"N = {k}")
    ax1.set(xlabel="time (ms)", ylabel="V − rest (mV)", title="N synchronous unitary EPSPs")
    tab = res.tables["spatial_summation"]
    ax2.plot(tab["n_inputs"], tab["linear_sum_mv"], "k--", label="linear sum")
    ax2.plot(
        tab["n_inputs"],
        tab["fixed_driving_force_peak_mv"],
        "s",
        mfc="none",
        label="driving force fixed at rest",
    )
    ax2.plot(tab["n_inputs"], tab["peak_mv"], "o-", label="conductance synapses")
    ax2.set(xlabel="N inputs", ylabel="peak (mV)", title="Sublinear: the driving force shrinks")
    return _done(fig, ax1, ax2)


def plot_temporal_summation(res: LabResult) -> Figure:
    fig = Figure(figsize=(4.5, 3.6))
    ax = fig.subplots()
    tab = res.tables["temporal_summation"]
    ax.plot(tab["interval_ms"], tab["peak_mv"], "o-")
    ax.axhline(tab["peak_mv"][0] / 2 if tab["interval_ms"][0] == 0 else 1.0, color="0.6", ls=":")
    ax.set(
        xlabel="Δt between two inputs (ms)",
        ylabel="peak (mV)",
        title="Temporal summation (τm = 20 ms)",
    )
    return _done(fig)


def plot_spike_probability(res: LabResult) -> Figure:
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    tab, fits = res.tables["spike_probability"], res.tables["sigmoid_fits"]
    for i, (cell, jit) in enumerate(zip(fits["cell"], fits["jitter_ms"], strict=True)):
        sel = (tab["cell"] == cell) & (tab["jitter_ms"] == jit)
        n = tab["n_inputs"][sel]
        line = ax.plot(
            n,
            tab["p_spike"][sel],
            "o",
            ms=3,
            label=f"{cell}, jitter {jit:g} ms: N50 {fits['midpoint_n'][i]:.1f}",
        )[0]
        if np.isfinite(fits["midpoint_n"][i]):
            x = np.linspace(n.min(), n.max(), 300)
            scale = fits["width_n"][i] / (2 * np.log(3.0))
            ax.plot(
                x,
                1 / (1 + np.exp(-(x - fits["midpoint_n"][i]) / scale)),
                color=line.get_color(),
                lw=1,
            )
    ax.set(xlabel="N unitary inputs", ylabel="P(spike)", title="Spikes from summed EPSPs")
    return _done(fig, ax)


def plot_inhibition(res: LabResult) -> Figure:
    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    d = res.traces["inhibition"]
    for row, label in zip(d["v_mv"], d["labels"], strict=True):
        ax.plot(d["t_s"] * 1e3, row - row[0], label=label)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set(
        xlabel="time (ms)", ylabel="V − rest (mV)", title="Shunting and hyperpolarising inhibition"
    )
    return _done(fig, ax)


def plot_nmda(res: LabResult) -> Figure:
    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    tab = res.tables["nmda"]
    h = tab["holding_mv"]
    ax1.plot(h, tab["nmda_epsp_mv"], "o-", label="NMDA, 1 mM Mg²⁺")
    ax1.plot(h, tab["nmda_epsp_no_mg_mv"], "s--", mfc="none", label="NMDA, no Mg²⁺")
    ax1.plot(h, tab["ampa_epsp_mv"], "^-", label="AMPA (unitary)")
    ax1.set(
        xlabel="holding potential (mV)", ylabel="EPSP (mV)", title="EPSP against holding potential"
    )
    v = np.linspace(h.min() - 10, 0, 200)
    ax2.plot(v, compute_mg_block(v), "k-", label="Jahr & Stevens 1990")
    ax2.plot(h, tab["measured_block"], "o", label="EPSP with / without Mg²⁺")
    ax2.set(xlabel="V (mV)", ylabel="unblocked fraction", title="The Mg²⁺ block")
    return _done(fig, ax1, ax2)


def plot_inputs(res: LabResult) -> Figure:
    circuits = res.traces["inputs"]
    fig = Figure(figsize=(4.2 * len(circuits), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(circuits)))
    for ax, (name, inp) in zip(axes, circuits, strict=True):
        exc = inp.receptor == 0
        for sign, colour, label in ((1, "tab:red", "ON"), (-1, "tab:blue", "OFF")):
            sel = exc & (inp.sign == sign)
            ax.scatter(
                *inp.position_deg[sel].T,
                s=200 * inp.overlap[sel],
                c=colour,
                alpha=0.7,
                label=f"{label} centre (AMPA)",
            )
            inh = ~exc & (inp.sign == sign)
            if inh.any():
                ax.scatter(
                    *inp.position_deg[inh].T,
                    s=200 * inp.overlap[inh],
                    facecolors="none",
                    edgecolors=colour,
                    label=f"{label} centre (push–pull)",
                )
        ax.set(xlabel="x (deg)", ylabel="y (deg)", title=f"LGN inputs: {name}", aspect="equal")
        ax.legend(fontsize=6)
    return _done(fig)


def plot_tuning(res: LabResult) -> Figure:
    circuits = res.traces["tuning"]
    fig = Figure(figsize=(9, 3.6 * len(circuits)))
    axes = np.atleast_2d(fig.subplots(len(circuits), 2))
    x = np.linspace(0, 180, 361)
    for (ax1, ax2), (name, oris, contrasts, resp, fits, tw) in zip(axes, circuits, strict=True):
        n_o = oris.size
        for i, c in enumerate(contrasts):
            sl = slice(i * n_o, (i + 1) * n_o)
            line = ax1.plot(oris, resp["vm_response_mv"][sl], "o", ms=3, label=f"contrast {c:g}")[0]
            ax1.plot(x, fits[i]["vm_fit"](x), color=line.get_color(), lw=1)
            ax2.plot(oris, resp["rate_response_hz"][sl], "o", ms=3, color=line.get_color())
            ax2.plot(x, fits[i]["rate_fit"](x), color=line.get_color(), lw=1)
        ax1.set(
            xlabel="orientation (deg)",
            ylabel="Vm F0 + F1 above grey (mV)",
            title=f"{name}: membrane potential",
        )
        ax2.set(
            xlabel="orientation (deg)",
            ylabel="rate F0 + F1 (spikes/s)",
            title=f"{name}: spikes, the tip of the iceberg",
        )
        ax1.legend(fontsize=7)
        ax2.text(
            0.02, 0.98,
            "HWHH spikes " + ", ".join(f"{w:.0f}°" for w in tw["rate_hwhh_deg"])
            + "\nHWHH Vm " + ", ".join(f"{w:.0f}°" for w in tw["vm_hwhh_deg"])
            + f"\nC&F 2000: {CF2000['rate_hwhh_deg'][0]:g}±{CF2000['rate_hwhh_deg'][1]:g}° / "
            f"{CF2000['vm_hwhh_deg'][0]:g}±{CF2000['vm_hwhh_deg'][1]:g}°",
            transform=ax2.transAxes, va="top", fontsize=7,
        )  # fmt: skip
    return _done(fig)


def plot_vm_to_rate(res: LabResult) -> Figure:
    fig = Figure(figsize=(4.8, 3.8))
    ax = fig.subplots()
    for name, vr in res.traces["vm_to_rate"]:
        line = ax.plot(
            vr["vm_mv"], vr["rate_hz"], ".", ms=2, alpha=0.4, label=f"{name}: phase bins"
        )[0]
        v = np.linspace(vr["vm_mv"].min(), vr["vm_mv"].max(), 200)
        if np.isfinite(vr["threshold_mv"]):
            ax.plot(
                v,
                vr["gain_hz_per_mv"] * np.maximum(v - vr["threshold_mv"], 0),
                color=line.get_color(),
                label=f"θ = {vr['threshold_mv']:.1f} mV",
            )
    ax.axvline(CF2000_THRESHOLD_MV[0], color="0.6", ls=":", label="C&F 2000 threshold")
    ax.set(xlabel="Vm, spikes removed (mV)", ylabel="rate (spikes/s)", title="Vm → firing rate")
    return _done(fig, ax)


def plot_pair_interaction(res: LabResult) -> Figure:
    """Usrey et al.'s (2000) pair analysis, each circuit's enhancement and fitted window
    beside the exponential they found (time constant ~2.5 ms)."""
    fig = Figure(figsize=(5.2, 3.8))
    ax = fig.subplots()
    t = np.linspace(0, 20, 201)
    for name, mid, enh, win in res.traces["pairs"]:
        line = ax.plot(mid, enh, "o", ms=3, label=f"{name}: window {win['window_ms']:.1f} ms")[0]
        if np.isfinite(win["tau_ms"]):
            fit = 1 + win["amplitude"] * np.exp(-t / win["tau_ms"])
            ax.plot(t, fit, color=line.get_color(), lw=1)
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.axvline(USREY2000["hetero_window_ms"], color="0.6", ls=":", label="Usrey et al. 2000: ~7 ms")
    ax.set(
        xlabel="interval since another input's spike (ms)",
        ylabel="efficacy / efficacy 20–50 ms after",
        title="two LGN inputs interact",
    )
    return _done(fig, ax)


def plot_example_vm(res: LabResult) -> Figure:
    name, t, v, n_trials, oris, best, rates = res.traces["example"]
    n_o = oris.size
    pref = int(np.argmax(rates[best * n_o : (best + 1) * n_o]))
    orth = (pref + n_o // 2) % n_o
    fig = Figure(figsize=(9, 3.6))
    ax = fig.subplots()
    for k, label in ((pref, "preferred"), (orth, "orthogonal")):
        ax.plot(t, v[(best * n_o + k) * n_trials], lw=0.6, label=f"{label} ({oris[k]:g}°)")
    ax.set(
        xlabel="time (s)",
        ylabel="Vm (mV)",
        title=f"{name}: the simple cell's membrane, drifting grating",
    )
    return _done(fig, ax)


def plot_receptor_potential(res: LabResult) -> Figure:
    endings = res.traces["receptor"]
    fig = Figure(figsize=(9, 3.4 * len(endings)))
    axes = np.atleast_2d(fig.subplots(len(endings), 2))
    for (ax1, ax2), (ending, t, v, ts, vs, amps, _) in zip(axes, endings, strict=True):
        show = np.unique(np.linspace(0, amps.size - 1, 4).round().astype(int))
        for k in show:
            ax1.plot(t, v[k], label=f"{amps[k]:g} %")
        ax2.plot(ts, vs[show[-1]], lw=0.6, color="k")
        name = ending.replace("_", " ")
        ax1.set(
            xlabel="time (s)", ylabel="receptor potential (mV)", title=f"{name}: spikes blocked"
        )
        ax2.set(xlabel="time (s)", ylabel="V (mV)", title=f"{name}: {amps[show[-1]]:g} % stretch")
    return _done(fig, *axes[:, 0])


def plot_stretch_response(res: LabResult) -> Figure:
    tab = res.tables["stretch_responses"]
    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    curves = (
        (ax1, "peak_receptor_potential_mv", "o-", "peak"),
        (ax1, "sustained_receptor_potential_mv", "s--", "end of hold"),
        (ax2, "onset_spikes", "o-", "first 100 ms (spikes)"),
        (ax2, "sustained_rate_hz", "s--", "hold (spikes/s)"),
    )
    for k, ending in enumerate(np.unique(tab["ending"])):
        sel = tab["ending"] == ending
        name = str(ending).replace("_", " ")
        for ax, column, style, what in curves:
            ax.plot(tab["stretch_pct"][sel], tab[column][sel], style, color=f"C{k}",
                    mfc="none" if "--" in style else None, label=f"{name}: {what}")  # fmt: skip
    ax1.set(
        xlabel="stretch (% strain)", ylabel="receptor potential (mV)", title="Graded with stretch"
    )
    ax2.set(xlabel="stretch (% strain)", ylabel="spikes", title="Transient and sustained firing")
    return _done(fig, ax1, ax2)


_FIGURES: dict[str, list[tuple[str, Callable[[LabResult], Figure]]]] = {
    "synaptic_summation": [
        ("spatial_summation", plot_spatial_summation),
        ("temporal_summation", plot_temporal_summation),
        ("spike_probability", plot_spike_probability),
        ("inhibition", plot_inhibition),
        ("nmda", plot_nmda),
    ],
    "lgn_to_simple_cell": [
        ("lgn_inputs", plot_inputs),
        ("orientation_tuning", plot_tuning),
        ("vm_to_rate", plot_vm_to_rate),
        ("pair_interaction", plot_pair_interaction),
        ("example_vm", plot_example_vm),
    ],
    "touch_receptor": [
        ("receptor_potential", plot_receptor_potential),
        ("stretch_response", plot_stretch_response),
    ],
}


def make_lab_figures(experiment: str, res: LabResult) -> dict[str, Any]:
    """The figures of one lab run, by file stem."""
    return {name: fn(res) for name, fn in _FIGURES[experiment]}
