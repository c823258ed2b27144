"""The axon's figures: space–time, V(x) snapshots, electrode traces, velocity curves.

Each ``plot_*`` draws on a matplotlib figure it makes and returns it; the lab
(:mod:`v1lab.axon.lab`) saves them. They live in the axon package (which sits at the
report's layer) rather than in :mod:`v1lab.plots`, whose modules draw a V1 recording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from v1lab.axon.cable import CableRun
from v1lab.axon.sweeps import fit_loglog_slope
from v1lab.plots.style import load_pyplot

__all__ = [
    "plot_lesion_traces",
    "plot_snapshots",
    "plot_space_time",
    "plot_traces",
    "plot_velocity_curve",
    "plot_velocity_diameter",
]


def plot_space_time(run: CableRun) -> Any:
    """V over distance (x) and time (y): the spike is a slanted band; slope = 1/velocity."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    x_mm = run.cable.x_um / 1000.0
    # Colours span rest to a spike's peak: the stimulus site's brief overshoot is clipped.
    im = ax.pcolormesh(
        x_mm,
        run.snap_t_ms,
        run.snap_v_mv,
        shading="nearest",
        cmap="magma",
        vmin=-80.0,
        vmax=50.0,
        rasterized=True,
    )
    fig.colorbar(im, ax=ax, label="V (mV)")
    ax.set_xlabel("distance along the axon (mm)")
    ax.set_ylabel("time (ms)")
    ax.set_title("the spike travels")
    return fig


def plot_snapshots(run: CableRun, n: int = 5) -> Any:
    """V(x) at ``n`` moments while the spike is on the axon; nodes marked."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    x_mm = run.cable.x_um / 1000.0
    finite = run.cross_ms[np.isfinite(run.cross_ms)]
    if finite.size and run.snap_t_ms.size:
        times = np.linspace(finite.min(), finite.max(), n + 2)[1:-1]
        for t in times:
            k = int(np.argmin(np.abs(run.snap_t_ms - t)))
            ax.plot(x_mm, run.snap_v_mv[k], lw=1.2, label=f"{run.snap_t_ms[k]:.2f} ms")
    if run.cable.kind == "myelinated":
        for x in x_mm[run.cable.node_index]:
            ax.axvline(x, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel(
        "distance (mm)" + (" — grey lines: nodes" if run.cable.kind == "myelinated" else "")
    )
    ax.set_ylabel("V (mV)")
    ax.legend(fontsize=7, frameon=False)
    return fig


def plot_traces(run: CableRun) -> Any:
    """Voltage at each electrode against time."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for x, v in zip(run.electrodes_um, run.v_mv, strict=True):
        ax.plot(run.t_ms, v, lw=1.2, label=f"{x / 1000:g} mm")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V (mV)")
    ax.legend(fontsize=7, frameon=False, title="electrode")
    return fig


def plot_velocity_diameter(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> Any:
    """Velocity against diameter on log–log axes, each curve with its fitted slope."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    for label, (d, v) in curves.items():
        slope = fit_loglog_slope(d, v)
        ax.loglog(d, v, "o-", label=f"{label}: slope {slope:.3f}")
    ax.set_xlabel("diameter (µm)")
    ax.set_ylabel("velocity (m/s)")
    ax.legend(fontsize=7, frameon=False)
    return fig


def plot_velocity_curve(x: Sequence[float], v: Sequence[float], xlabel: str) -> Any:
    """Velocity against one parameter; block (NaN) marked with crosses on the axis."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    xa, va = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    ax.plot(xa, va, "o-")
    blocked = ~np.isfinite(va)
    if blocked.any():
        ax.plot(xa[blocked], np.zeros(blocked.sum()), "x", color="crimson", label="block")
        ax.legend(fontsize=7, frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("velocity (m/s)")
    return fig


def plot_lesion_traces(runs: Mapping[str, CableRun]) -> Any:
    """The far electrode's voltage for each lesion severity (later = slower; flat = block)."""
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, run in runs.items():
        ax.plot(run.t_ms, run.v_mv[-1], lw=1.0, label=label)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V at the far electrode (mV)")
    ax.legend(fontsize=7, frameon=False)
    return fig
