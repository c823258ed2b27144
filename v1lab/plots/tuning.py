"""Tuning: a response against a stimulus parameter, one cell's card and the population's.

:func:`plot_tuning_polar` and :func:`plot_tuning_curve` draw one curve into an axes;
:func:`plot_cell_tuning` lays out one cell's direction-tuning card (polar and linear
tuning with the von Mises fit, SF/TF tuning, rasters with PSTHs),
:func:`plot_population_tuning` every cell's polar curve in a grid, and
:func:`plot_condition_responses` the rate in each condition for any protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from v1lab.plots.figure_data import FigureData, cell_title
from v1lab.plots.spike_trains import plot_psth, plot_raster
from v1lab.plots.style import OKABE_ITO, TYPE_COLOURS, despine, load_pyplot, make_axes

__all__ = [
    "plot_cell_tuning",
    "plot_condition_responses",
    "plot_population_tuning",
    "plot_tuning_curve",
    "plot_tuning_polar",
]


def plot_tuning_polar(
    angles_deg: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    label: str | None = None,
    marker_deg: float | None = None,
    fit: Any = None,
) -> Any:
    """Polar tuning curve (rate vs direction), closed, with a ±SEM band.

    Parameters
    ----------
    angles_deg, mean, sem : ndarray (n_angles,)
    ax : matplotlib polar Axes, optional
    marker_deg : float, optional
        Draw a dashed radial line there (e.g. the ground-truth preference).
    fit : callable, optional
        A fitted curve (e.g. :class:`v1lab.analysis.VonMisesFit`) drawn as a thin line.
    """
    ax = make_axes(ax, projection="polar")
    angles_deg = np.asarray(angles_deg, dtype=float)
    mean = np.asarray(mean, dtype=float)
    order = np.argsort(angles_deg)
    theta = np.deg2rad(np.append(angles_deg[order], angles_deg[order][0]))
    r = np.append(mean[order], mean[order][0])
    ax.plot(theta, r, color=color, lw=2, marker="o", ms=3, label=label)
    if sem is not None:
        s = np.append(np.asarray(sem)[order], np.asarray(sem)[order][0])
        ax.fill_between(theta, np.maximum(r - s, 0), r + s, color=color, alpha=0.25, lw=0)
    if fit is not None:
        fine = np.linspace(0.0, 360.0, 361)
        ax.plot(np.deg2rad(fine), np.maximum(fit(fine), 0), color="0.2", lw=1, label="fit")
    if marker_deg is not None and np.isfinite(marker_deg):
        top = float(np.nanmax(r)) * 1.05 if np.any(np.isfinite(r)) else 1.0
        ax.plot([np.deg2rad(marker_deg)] * 2, [0, top], ls="--", color="0.3", lw=1)
    ax.set_theta_zero_location("E")
    ax.set_theta_direction(1)
    ax.set_rlabel_position(112.5)
    ax.tick_params(labelsize=7)
    return ax


def plot_tuning_curve(
    angles_deg: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    label: str | None = None,
    xlabel: str = "Direction of motion (deg)",
    ylabel: str = "Firing rate (spikes/s)",
    baseline_hz: float | None = None,
    fit: Any = None,
    log_x: bool = False,
) -> Any:
    """Linear tuning curve with SEM error bars, an optional fit and spontaneous-rate line.

    Works for any parameter: pass ``xlabel`` (with its unit) and ``log_x`` for spatial
    or temporal frequency.

    Examples
    --------
    >>> ax = plot_tuning_curve(np.array([0.0, 90, 180, 270]), np.array([9.0, 3, 1, 3]))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Direction of motion (deg)', 'Firing rate (spikes/s)')
    """
    ax = make_axes(ax)
    x = np.asarray(angles_deg, dtype=float)
    mean = np.asarray(mean, dtype=float)
    order = np.argsort(x)
    ax.errorbar(
        x[order],
        mean[order],
        yerr=None if sem is None else np.asarray(sem)[order],
        color=color,
        marker="o",
        ms=3,
        lw=1.5,
        capsize=2,
        label=label,
    )
    if fit is not None:
        if log_x:
            fine = np.geomspace(x.min(), x.max(), 200)
        else:
            fine = np.linspace(x.min(), x.max(), 361)
        ax.plot(fine, fit(fine), color="0.2", lw=1, label="fit")
    if baseline_hz is not None and np.isfinite(baseline_hz):
        ax.axhline(baseline_hz, color="0.5", ls=":", lw=1, label="spontaneous")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_x:
        ax.set_xscale("log")
        ax.set_xticks(x[order])
        ax.set_xticklabels([f"{v:g}" for v in x[order]])
        ax.minorticks_off()
    else:
        span = float(np.ptp(x)) if len(x) > 1 else 0.0
        if span >= 180:
            ax.set_xticks(np.arange(0, 361, 90))
    ax.set_ylim(bottom=0)
    despine(ax)
    return ax


def _raster_psth(fig: Any, spec: Any, recording: Any, condition: int, cell: int, title: str) -> Any:
    from v1lab.analysis import compute_psth, compute_raster

    stim = recording.conditions[condition]
    post = min(0.3, recording.protocol.trials.isi_s)
    grid = spec.subgridspec(2, 1, height_ratios=[1.2, 1.0], hspace=0.05)
    ax_r = fig.add_subplot(grid[0])
    ax_p = fig.add_subplot(grid[1], sharex=ax_r)
    trains = compute_raster(recording, condition, cell, post_s=post)
    plot_raster(trains, ax=ax_r, duration_s=stim.duration_s, label=title)
    ax_r.tick_params(labelbottom=False)
    ax_r.set_xlabel("")
    bin_s = 0.05 if stim.duration_s >= 1.0 else 0.02
    t, rate, sem = compute_psth(recording, condition, bin_s=bin_s, post_s=post, cells=[cell])
    plot_psth(t, rate[:, 0], sem[:, 0], ax=ax_p, duration_s=stim.duration_s)
    return ax_p


# ======================================================================================
# Figure builders: direction tuning
# ======================================================================================


def plot_cell_tuning(
    recording: Any, cell: int, metrics: Mapping[str, np.ndarray] | None = None, *, _run: Any = None
) -> Any:
    """Figure: one cell's tuning card.

    Polar and linear direction tuning with the von Mises fit and the ground truth
    marked; spatial- and temporal-frequency tuning when the protocol varied them; and
    the raster with its PSTH below for the preferred condition and the one turned by 90°.
    """
    from v1lab.analysis import compute_demo_conditions, compute_von_mises_fit

    plt = load_pyplot()
    run = _run if _run is not None else FigureData.make(recording, metrics)
    if run.design.direction_kind is None:
        raise ValueError("this recording has no direction tuning to plot")
    pop = recording.population
    directions, dmean, dsem = run.slice("direction_deg")
    extra = [
        (along, label, flag)
        for along, label, flag in (
            ("spatial_frequency_cpd", "Spatial frequency (cycles/deg)", run.design.sf_tuning),
            ("temporal_frequency_hz", "Temporal frequency (Hz)", run.design.tf_tuning),
        )
        if flag
    ]
    n_rows = 2 + (1 if extra else 0)
    height_in = 3.0 * n_rows + 0.4
    fig = plt.figure(figsize=(7.4, height_in))
    # A fixed layout (margins in inches, room for 3-digit rates): constrained layout
    # would lay out the same card again for every cell and doubles its drawing time.
    grid = fig.add_gridspec(
        n_rows, 2, height_ratios=[1.0] * (n_rows - 1) + [1.15],
        left=0.62 / 7.4, right=1.0 - 0.25 / 7.4, bottom=0.5 / height_in,
        top=1.0 - 0.75 / height_in, wspace=0.3, hspace=0.36,
    )  # fmt: skip
    ax_polar = fig.add_subplot(grid[0, 0], projection="polar")
    ax_lin = fig.add_subplot(grid[0, 1])
    pref_dir = float(pop.preferred_direction_deg[cell])
    truth = pref_dir if np.isfinite(pref_dir) else float(pop.orientation_deg[cell]) + 90.0
    fit = compute_von_mises_fit(directions, dmean[:, cell], period=360.0)
    fit = fit if np.isfinite(fit.r2) else None
    plot_tuning_polar(
        directions, dmean[:, cell], dsem[:, cell], ax=ax_polar, marker_deg=truth, fit=fit
    )
    base = float(run.baseline[cell])
    plot_tuning_curve(
        directions, dmean[:, cell], dsem[:, cell], ax=ax_lin, baseline_hz=base, fit=fit
    )
    ax_lin.axvline(truth % 360, color="0.3", ls="--", lw=1, label="true preference")
    ax_lin.legend(fontsize=7, frameon=False, loc="upper right")
    for k, (along, label, _) in enumerate(extra):
        ax = fig.add_subplot(grid[1, k])
        values, tmean, tsem = run.slice(along)
        plot_tuning_curve(
            values, tmean[:, cell], tsem[:, cell], ax=ax, xlabel=label, baseline_hz=base,
            log_x=True,
        )  # fmt: skip
        if along == "spatial_frequency_cpd":
            ax.axvline(float(pop.spatial_frequency_cpd[cell]), color="0.3", ls="--", lw=1)
    best, other = compute_demo_conditions(recording, cell, design=run.design, mean=run.mean)
    bottom = grid[n_rows - 1, :].subgridspec(1, 2, wspace=0.3)
    for k, (condition, name) in enumerate(((best, "preferred"), (other, "turned 90°"))):
        if condition is None:
            continue
        stim = recording.conditions[condition]
        title = f"{name}: direction {stim.direction_deg:.0f}°"
        _raster_psth(fig, bottom[0, k], recording, condition, cell, title)
    text = f"{cell_title(recording, cell)}: true orientation {pop.orientation_deg[cell]:.0f}°"
    if np.isfinite(pref_dir):
        text += f", direction {pref_dir:.0f}°"
    hwhh = run.metrics.get("hwhh_deg")
    below = run.metrics.get("hwhh_below_deg")
    if hwhh is not None and np.isfinite(hwhh[cell]):
        text += f"; HWHH {hwhh[cell]:.0f}°"
    elif below is not None and np.isfinite(below[cell]):
        text += f"; HWHH < {below[cell]:.3g}° (finer than the sampling)"
    f1f0 = run.metrics.get("f1_f0")
    if f1f0 is not None and np.isfinite(f1f0[cell]):
        text += f"; F1/F0 {f1f0[cell]:.2f}"
    fig.suptitle(text, fontsize=10)
    return fig


def plot_population_tuning(recording: Any, *, _run: Any = None, cells: Any = None) -> Any:
    """Figure: every cell's polar direction tuning in a grid, coloured by cell type."""
    plt = load_pyplot()
    run = _run if _run is not None else FigureData.make(recording)
    if run.design.direction_kind is None:
        raise ValueError("this recording has no direction tuning to plot")
    directions, mean, sem = run.slice("direction_deg")
    cells = list(range(recording.n_cells)) if cells is None else list(cells)
    n = len(cells)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    height_in = 2.0 * rows + 0.4
    fig = plt.figure(figsize=(1.9 * cols, height_in))
    # Fixed margins: the panels carry no tick labels, so nothing varies from run to run.
    fig.subplots_adjust(
        left=0.03, right=0.97, bottom=0.1 / height_in, top=1.0 - 0.75 / height_in,
        wspace=0.25, hspace=0.45,
    )  # fmt: skip
    pop = recording.population
    for k, cell in enumerate(cells):
        ax = fig.add_subplot(rows, cols, k + 1, projection="polar")
        kind = str(pop.cell_type[cell])
        colour = TYPE_COLOURS.get(kind, OKABE_ITO[7])
        plot_tuning_polar(directions, mean[:, cell], sem[:, cell], ax=ax, color=colour)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        peak = float(np.nanmax(mean[:, cell]))
        title = f"{cell}: {kind.replace('_', ' ')}\npeak {peak:.0f} spikes/s"
        ax.set_title(title, fontsize=8, pad=2)
    response = "PSTH-peak rate" if run.design.direction_kind == "bar" else "mean rate"
    fig.suptitle(
        f"Direction tuning, {response} ± SEM: {recording.protocol.name} "
        "(0° = rightward motion, counter-clockwise)",
        fontsize=10,
    )
    return fig


def plot_condition_responses(recording: Any, cell: int, *, ax: Any = None) -> Any:
    """Mean rate (± SEM) of one cell in each stimulus condition, for any protocol."""
    from v1lab.analysis import compute_response_rates, compute_tuning

    plt = load_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.0), layout="constrained")
    ids, mean, sem = compute_tuning(
        recording.presentations["stimulus_condition_id"], compute_response_rates(recording)[:, cell]
    )
    ax.bar(ids, mean[:, 0], yerr=sem[:, 0], color=OKABE_ITO[4], capsize=2)
    ax.set_xlabel("Stimulus condition (stimulus_condition_id)")
    ax.set_ylabel("Firing rate (spikes/s)")
    despine(ax)
    ax.set_title(cell_title(recording, cell), fontsize=10)
    return ax
