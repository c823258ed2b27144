"""Figures. Every ``plot_*`` function takes ``ax=None`` and returns the axes it drew on.

Single-panel functions (``plot_tuning_curve``, ``plot_raster``, ``plot_psth``,
``plot_spot_map``, ``plot_sta``, ``plot_f1_f0_histogram``, ``plot_contrast_overlay``,
``plot_contrast_response``, ``plot_length_tuning``, ``plot_orientation_map``,
``plot_selectivity_map``, …) draw into the axes given (or a new one) and return it.
Figure builders (``plot_cell_tuning``, ``plot_population_tuning``,
``plot_population_summary``, ``plot_cell_*``) lay several panels out and return the
figure. :func:`save_run_figures` writes every figure a run of a protocol should have.

matplotlib is imported inside the functions so that ``import v1lab`` stays fast, and
the Agg backend is used when no display backend has been chosen. Colours are the
Okabe–Ito colour-blind-safe palette; maps use perceptually uniform, colour-blind-safe
colour maps (``twilight`` for the cyclic orientation, ``RdBu_r`` centred on 0 for
signed maps, ``viridis`` for magnitudes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "OKABE_ITO",
    "PUBLISHED_RANGES",
    "TYPE_COLOURS",
    "plot_cell_contrast",
    "plot_cell_spot_maps",
    "plot_cell_sta",
    "plot_cell_tuning",
    "plot_condition_responses",
    "plot_contrast_overlay",
    "plot_contrast_response",
    "plot_f1_f0_histogram",
    "plot_length_tuning",
    "plot_membrane",
    "plot_orientation_map",
    "plot_population_length_tuning",
    "plot_population_summary",
    "plot_population_tuning",
    "plot_psth",
    "plot_raster",
    "plot_selectivity_map",
    "plot_sheet_maps",
    "plot_spot_map",
    "plot_sta",
    "plot_summary_histogram",
    "plot_tuning_curve",
    "plot_tuning_polar",
    "save_figure",
    "save_run_figures",
    "save_tuning_figures",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")

#: One colour per cell type (Okabe–Ito).
TYPE_COLOURS = {
    "simple": OKABE_ITO[4],
    "complex": OKABE_ITO[5],
    "ds_simple": OKABE_ITO[2],
    "end_stopped": OKABE_ITO[6],
}

#: Ranges reported for cat and monkey V1, shaded behind the population histograms:
#: (low, high, label). HWHH: cat area 17 and 18 cells span 5–73° (Hammond & Andrews
#: 1978, Exp Brain Res 31:341), most between 10° and 40°; macaque cells have a median
#: full bandwidth at half amplitude near 40°, i.e. an HWHH near 20° (De Valois, Yund &
#: Hepler 1982, Vision Res 22:531). F1/F0: complex < 1 ≤ simple (Skottun et al. 1991).
#: DSI: (R_pref − R_null)/(R_pref + R_null) ≥ 1/3, i.e. the null response at most half
#: the preferred one, the usual criterion for a direction-selective cell.
PUBLISHED_RANGES: dict[str, list[tuple[float, float, str]]] = {
    "hwhh_deg": [(10.0, 40.0, "most V1 cells (Hammond & Andrews 1978)")],
    "f1_f0": [
        (0.0, 1.0, "complex (Skottun et al. 1991)"),
        (1.0, 2.0, "simple (Skottun et al. 1991)"),
    ],
    "dsi": [(1.0 / 3.0, 1.0, "direction-selective (null ≤ ½ pref.)")],
}

# Per-cell figures are written for at most this many cells (a 10,000-cell sheet gets
# its maps instead); the cells are spread evenly over the population.
MAX_CELL_FIGURES = 16


def _pyplot() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in (
        "agg",
        "tkagg",
        "qtagg",
        "macosx",
        "module://matplotlib_inline.backend_inline",
    ):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Any, **subplot_kw: Any) -> Any:
    if ax is not None:
        return ax
    plt = _pyplot()
    _, ax = plt.subplots(subplot_kw=subplot_kw or None, layout="constrained")
    return ax


def _despine(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)


# ======================================================================================
# Tuning curves
# ======================================================================================


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
    ax = _axes(ax, projection="polar")
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
    ax = _axes(ax)
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
    _despine(ax)
    return ax


# ======================================================================================
# Spike trains
# ======================================================================================


def plot_raster(
    trains: Sequence[np.ndarray],
    *,
    ax: Any = None,
    color: str = OKABE_ITO[7],
    duration_s: float | None = None,
    label: str | None = None,
) -> Any:
    """Spike raster: one row per presentation (times from onset, s).

    ``duration_s`` shades the time the stimulus was on.

    Examples
    --------
    >>> ax = plot_raster([np.array([0.1, 0.2]), np.array([0.15])], duration_s=0.5)
    >>> ax.get_ylabel()
    'Trial'
    """
    ax = _axes(ax)
    if duration_s is not None:
        ax.axvspan(0.0, duration_s, color=OKABE_ITO[3], alpha=0.25, lw=0)
    ax.eventplot(list(trains), colors=color, linelengths=0.8, linewidths=0.8)
    ax.set_ylim(-0.6, max(len(trains), 1) - 0.4)
    ax.set_ylabel("Trial")
    ax.set_xlabel("Time from stimulus onset (s)")
    if label:
        ax.set_title(label, fontsize=8)
    _despine(ax)
    return ax


def plot_psth(
    t_s: np.ndarray,
    rate: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    duration_s: float | None = None,
    baseline_hz: float | None = None,
) -> Any:
    """Peri-stimulus time histogram (spikes/s) with a ±SEM band.

    Examples
    --------
    >>> ax = plot_psth(np.array([0.05, 0.15]), np.array([3.0, 7.0]))
    >>> ax.get_xlabel()
    'Time from stimulus onset (s)'
    """
    ax = _axes(ax)
    t = np.asarray(t_s, dtype=float)
    r = np.asarray(rate, dtype=float)
    width = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    if duration_s is not None:
        ax.axvspan(0.0, duration_s, color=OKABE_ITO[3], alpha=0.25, lw=0)
    ax.step(t, r, where="mid", color=color, lw=1.2)
    if sem is not None:
        s = np.asarray(sem, dtype=float)
        ax.fill_between(t, r - s, r + s, step="mid", color=color, alpha=0.25, lw=0)
    if baseline_hz is not None and np.isfinite(baseline_hz):
        ax.axhline(baseline_hz, color="0.5", ls=":", lw=1)
    ax.set_xlim(t[0] - width / 2, t[-1] + width / 2)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Time from stimulus onset (s)")
    ax.set_ylabel("Rate (spikes/s)")
    _despine(ax)
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
# Cached analysis of a run, shared by the figure builders
# ======================================================================================


@dataclass
class _Run:
    """What the figure builders need, computed once per run."""

    recording: Any
    metrics: Mapping[str, np.ndarray]
    design: Any
    table: dict[str, np.ndarray]
    mean: np.ndarray
    sem: np.ndarray
    baseline: np.ndarray
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, recording: Any, metrics: Mapping[str, np.ndarray] | None = None) -> _Run:
        from v1lab.analysis import (
            compute_baseline_rates,
            compute_condition_responses,
            compute_condition_table,
            compute_design,
            compute_metrics,
        )

        metrics = compute_metrics(recording) if metrics is None else metrics
        mean, sem = compute_condition_responses(recording)
        baseline = metrics.get("spontaneous_rate_hz")
        if baseline is None:
            baseline = compute_baseline_rates(recording)
        return cls(
            recording,
            metrics,
            compute_design(recording),
            compute_condition_table(recording),
            mean,
            sem,
            np.asarray(baseline, dtype=float),
        )

    def rows(self) -> np.ndarray | None:
        if self.design.direction_kind is None:
            return None
        return self.table["stimulus"] == self.design.direction_kind

    def slice(self, along: str, *, rows: Any = None, fixed: Any = None) -> Any:
        from v1lab.analysis import compute_factorial_tuning

        rows = self.rows() if rows is None else rows
        return compute_factorial_tuning(
            self.table, self.mean, self.sem, along, rows=rows, fixed=fixed
        )


def _cell_title(recording: Any, cell: int) -> str:
    pop = recording.population
    kind = str(pop.cell_type[cell]).replace("_", " ")
    return f"Cell {cell} ({kind})"


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

    plt = _pyplot()
    run = _run if _run is not None else _Run.make(recording, metrics)
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
    text = f"{_cell_title(recording, cell)}: true orientation {pop.orientation_deg[cell]:.0f}°"
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
    plt = _pyplot()
    run = _run if _run is not None else _Run.make(recording)
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

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.0), layout="constrained")
    ids, mean, sem = compute_tuning(
        recording.presentations["stimulus_condition_id"], compute_response_rates(recording)[:, cell]
    )
    ax.bar(ids, mean[:, 0], yerr=sem[:, 0], color=OKABE_ITO[4], capsize=2)
    ax.set_xlabel("Stimulus condition (stimulus_condition_id)")
    ax.set_ylabel("Firing rate (spikes/s)")
    _despine(ax)
    ax.set_title(_cell_title(recording, cell), fontsize=10)
    return ax


# ======================================================================================
# Population summary
# ======================================================================================


def plot_summary_histogram(
    values: np.ndarray,
    *,
    ax: Any = None,
    xlabel: str,
    cell_types: np.ndarray | None = None,
    ranges: Iterable[tuple[float, float, str]] = (),
    bins: Any = 12,
    boundary: float | None = None,
) -> Any:
    """Histogram of one metric over cells, stacked by cell type, with ranges shaded.

    Examples
    --------
    >>> ax = plot_summary_histogram(np.array([0.5, 1.5, 1.7]), xlabel="F1/F0", boundary=1.0)
    >>> ax.get_ylabel()
    'Cells'
    """
    ax = _axes(ax)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if not np.isscalar(bins):
        # Values past the last edge are counted in the last bin rather than dropped.
        edges_given = np.asarray(bins, dtype=float)
        v = np.clip(v, edges_given[0], edges_given[-1])
    colours = [OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[0], OKABE_ITO[6]]
    for k, (lo, hi, label) in enumerate(ranges):
        ax.axvspan(lo, hi, color=colours[k % len(colours)], alpha=0.18, lw=0, label=label)
    if cell_types is None:
        groups = [("cells", v[ok], OKABE_ITO[4])]
    else:
        types = np.asarray(cell_types).astype(str)
        groups = [
            (t.replace("_", " "), v[ok & (types == t)], TYPE_COLOURS.get(t, OKABE_ITO[7]))
            for t in dict.fromkeys(types[ok])
        ]
    data = [g[1] for g in groups]
    if any(len(d) for d in data):
        edges = np.histogram_bin_edges(np.concatenate(data), bins=bins)
        ax.hist(
            data, bins=edges, stacked=True, color=[g[2] for g in groups],
            label=[g[0] for g in groups], edgecolor="white", lw=0.5,
        )  # fmt: skip
    if boundary is not None:
        ax.axvline(boundary, color="0.2", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Cells")
    # Below the axes, never over the bars.
    ax.legend(fontsize=6, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    _despine(ax)
    return ax


def plot_population_summary(metrics: Mapping[str, np.ndarray], *, title: str = "") -> Any | None:
    """Figure: histograms of HWHH, F1/F0 and DSI over cells, published ranges shaded.

    Only the metrics the protocol measured are shown; returns None if none was.
    """
    plt = _pyplot()
    panels = [
        (name, label, boundary, bins)
        for name, label, boundary, bins in (
            ("hwhh_deg", "Orientation HWHH (deg)", None, np.linspace(0, 60, 13)),
            (
                "f1_f0",
                "F1/F0 modulation ratio (≥ 2.5 in the last bin)",
                1.0,
                np.linspace(0, 2.5, 11),
            ),
            ("dsi", "Direction selectivity index (DSI)", None, np.linspace(0, 1, 11)),
        )
        if name in metrics and np.any(np.isfinite(np.asarray(metrics[name], dtype=float)))
    ]
    if not panels:
        return None
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.6 * len(panels), 3.6), layout="constrained", squeeze=False
    )
    for ax, (name, label, boundary, bins) in zip(axes[0], panels, strict=True):
        below = np.asarray(metrics.get("hwhh_below_deg", []), dtype=float)
        if name == "hwhh_deg" and np.any(np.isfinite(below)):
            n_below = int(np.sum(np.isfinite(below)))
            label += f"\n{n_below} more below {np.nanmax(below):.3g}° (unresolved)"
        plot_summary_histogram(
            metrics[name], ax=ax, xlabel=label, cell_types=metrics.get("cell_type"),
            ranges=PUBLISHED_RANGES.get(name, ()), boundary=boundary, bins=bins,
        )  # fmt: skip
    fig.suptitle(title or "Population summary (shaded: published ranges)", fontsize=10)
    return fig


def plot_f1_f0_histogram(
    f1_f0: np.ndarray, cell_types: np.ndarray | None = None, *, ax: Any = None
) -> Any:
    """F1/F0 histogram with the simple/complex boundary at 1 (Skottun et al. 1991)."""
    return plot_summary_histogram(
        f1_f0, ax=ax, xlabel="F1/F0 modulation ratio", cell_types=cell_types,
        ranges=PUBLISHED_RANGES["f1_f0"], boundary=1.0, bins=np.linspace(0, 2.5, 11),
    )  # fmt: skip


# ======================================================================================
# Contrast and length
# ======================================================================================


def plot_contrast_overlay(
    orientations_deg: np.ndarray,
    tunings: Mapping[float, np.ndarray],
    *,
    ax: Any = None,
    baseline_hz: float = 0.0,
) -> Any:
    """Orientation tuning at each contrast, normalised to its own peak, overlaid.

    Contrast-invariant tuning (Sclar & Freeman 1982) shows as curves of the same width.
    The curves are centred on the peak of the highest-contrast one.
    """
    ax = _axes(ax)
    o = np.asarray(orientations_deg, dtype=float)
    top = max(tunings)
    centre = float(o[np.nanargmax(tunings[top])])
    offsets = (o - centre + 90.0) % 180.0 - 90.0
    order = np.argsort(offsets)
    cmap = _pyplot().get_cmap("viridis")
    contrasts = sorted(tunings)
    for k, c in enumerate(contrasts):
        r = np.asarray(tunings[c], dtype=float) - baseline_hz
        peak = np.nanmax(r)
        shape = r / peak if peak > 0 else r * np.nan
        colour = cmap(0.1 + 0.8 * k / max(len(contrasts) - 1, 1))
        ax.plot(offsets[order], shape[order], marker="o", ms=3, lw=1.5, color=colour,
                label=f"{100 * c:g} %")  # fmt: skip
    ax.axhline(0.5, color="0.6", ls=":", lw=1)
    ax.set_xlabel("Orientation re. preferred (deg)")
    ax.set_ylabel("Normalised response")
    ax.set_xlim(-90, 90)
    ax.set_xticks([-90, -45, 0, 45, 90])
    ax.legend(title="contrast", fontsize=7, title_fontsize=7, frameon=False)
    _despine(ax)
    return ax


def plot_contrast_response(
    contrasts: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    fit: Any = None,
    color: str = OKABE_ITO[5],
) -> Any:
    """Contrast-response curve on a log contrast axis, with its Naka–Rushton fit."""
    ax = _axes(ax)
    c = np.asarray(contrasts, dtype=float)
    ax.errorbar(100 * c, mean, yerr=sem, color=color, marker="o", ms=4, lw=1.5, capsize=2,
                label="response")  # fmt: skip
    if fit is not None and np.isfinite(fit.c50):
        fine = np.geomspace(c.min(), c.max(), 200)
        ax.plot(100 * fine, fit(fine), color="0.2", lw=1,
                label=f"Naka–Rushton: c50 {100 * fit.c50:.0f} %, n {fit.n:.1f}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(100 * c)
    ax.set_xticklabels([f"{100 * v:g}" for v in c])
    ax.minorticks_off()
    ax.set_xlabel("Contrast (%)")
    ax.set_ylabel("Response above spontaneous (spikes/s)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    _despine(ax)
    return ax


def plot_cell_contrast(recording: Any, cell: int, *, _run: Any = None) -> Any:
    """Figure: normalised tuning at each contrast, and the contrast-response curve."""
    from v1lab.analysis import compute_naka_rushton_fit, compute_orientation_tuning

    plt = _pyplot()
    run = _run if _run is not None else _Run.make(recording)
    base = float(run.baseline[cell])
    tunings = {}
    orientations = np.array([])
    for c in run.design.contrasts:
        directions, dmean, _ = run.slice("direction_deg", fixed={"contrast": c})
        orientations, omean = compute_orientation_tuning(directions, dmean)
        tunings[c] = omean[:, cell]
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(8.0, 3.3), layout="constrained")
    plot_contrast_overlay(orientations, tunings, ax=ax_a, baseline_hz=base)
    contrasts, cmean, csem = run.slice("contrast")
    response = cmean[:, cell] - base
    fit = compute_naka_rushton_fit(contrasts, response)
    plot_contrast_response(contrasts, response, csem[:, cell], ax=ax_b, fit=fit)
    pop = recording.population
    fig.suptitle(
        f"{_cell_title(recording, cell)}: model c50 {100 * pop.c50[cell]:.0f} %, "
        f"exponent {pop.exponent[cell]:.1f}",
        fontsize=10,
    )
    return fig


def plot_length_tuning(
    lengths_deg: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    label: str | None = None,
    baseline_hz: float | None = None,
) -> Any:
    """Response against bar length (deg)."""
    return plot_tuning_curve(
        lengths_deg, mean, sem, ax=ax, color=color, label=label, xlabel="Bar length (deg)",
        baseline_hz=baseline_hz,
    )  # fmt: skip


def plot_population_length_tuning(recording: Any, *, _run: Any = None, cells: Any = None) -> Any:
    """Figure: every cell's length tuning with its suppression index."""
    plt = _pyplot()
    run = _run if _run is not None else _Run.make(recording)
    lengths, mean, sem = run.slice("length_deg", rows=run.table["stimulus"] == "bar")
    cells = list(range(recording.n_cells)) if cells is None else list(cells)
    cols = min(4, len(cells))
    rows = int(np.ceil(len(cells) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(2.6 * cols, 2.3 * rows + 0.4), layout="constrained", squeeze=False
    )
    si = run.metrics.get("suppression_index", np.full(recording.n_cells, np.nan))
    for ax, cell in zip(axes.ravel(), cells, strict=False):
        kind = str(recording.population.cell_type[cell])
        plot_length_tuning(
            lengths, mean[:, cell], sem[:, cell], ax=ax,
            color=TYPE_COLOURS.get(kind, OKABE_ITO[7]), baseline_hz=float(run.baseline[cell]),
        )  # fmt: skip
        ax.set_title(f"{cell}: {kind.replace('_', ' ')}, SI {si[cell]:.2f}", fontsize=8)
    for ax in axes.ravel()[len(cells) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Length tuning at the preferred direction (SI = 1 − R_longest / R_peak)", fontsize=10
    )
    return fig


# ======================================================================================
# Receptive-field maps
# ======================================================================================


def _extent(x: np.ndarray, y: np.ndarray) -> list[float]:
    dx = float(np.median(np.abs(np.diff(x)))) if len(x) > 1 else 1.0
    dy = float(np.median(np.abs(np.diff(y)))) if len(y) > 1 else 1.0
    return [x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2]


def _signed_image(
    ax: Any, image: np.ndarray, x: np.ndarray, y: np.ndarray, *, cmap: str, vmax: float | None
) -> Any:
    finite = np.isfinite(image)
    if vmax is None:
        vmax = float(np.nanmax(np.abs(image))) if finite.any() else 1.0
        vmax = vmax if vmax > 0 else 1.0
    vmin = -vmax if cmap == "RdBu_r" else 0.0
    im = ax.imshow(image, extent=_extent(x, y), origin="upper", cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")  # fmt: skip
    ax.set_xlabel("x (deg)")
    ax.set_ylabel("y (deg)")
    ax.set_aspect("equal")
    return im


def plot_spot_map(
    maps: Any, cell: int, which: str = "on", *, ax: Any = None, vmax: float | None = None
) -> Any:
    """One cell's spot map: ``'on'`` (light spots), ``'off'`` (dark spots) or ``'diff'``.

    ON and OFF maps show the response above spontaneous (spikes/s) in a sequential colour
    map; ``'diff'`` (ON − OFF) in a diverging one centred on 0, the modern form of
    Hubel & Wiesel's + and × drawings.
    """
    ax = _axes(ax)
    image = {"on": maps.on, "off": maps.off, "diff": maps.on - maps.off}[which][..., cell]
    cmap = {"on": "Reds", "off": "Blues", "diff": "RdBu_r"}[which]
    if which != "diff":
        image = np.maximum(image, 0.0)
    im = _signed_image(ax, image, maps.x_deg, maps.y_deg, cmap=cmap, vmax=vmax)
    bar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    bar.set_label("spikes/s above spontaneous", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    ax.set_title({"on": "ON (light spots)", "off": "OFF (dark spots)", "diff": "ON − OFF"}[which],
                 fontsize=9)  # fmt: skip
    return ax


def plot_cell_spot_maps(recording: Any, cell: int, maps: Any = None, *, _run: Any = None) -> Any:
    """Figure: a cell's ON map, OFF map and their difference."""
    from v1lab.analysis import compute_spot_maps

    plt = _pyplot()
    maps = compute_spot_maps(recording) if maps is None else maps
    fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.2), layout="constrained")
    vmax = float(np.nanmax([np.nanmax(maps.on[..., cell]), np.nanmax(maps.off[..., cell]), 1.0]))
    for ax, which in zip(axes, ("on", "off", "diff"), strict=True):
        plot_spot_map(maps, cell, which, ax=ax, vmax=vmax)
        ax.plot(recording.population.x_deg[cell], recording.population.y_deg[cell], "+",
                color="0.2", ms=8, label="true RF centre")  # fmt: skip
    metrics = _run.metrics if _run is not None else {}
    extra = ""
    for name, label in (("on_off_corr", "ON–OFF r"), ("overlap_index", "overlap"),
                        ("diffuse_ratio", "diffuse/spot")):  # fmt: skip
        if name in metrics and np.isfinite(metrics[name][cell]):
            extra += f"; {label} {metrics[name][cell]:.2f}"
    fig.suptitle(f"{_cell_title(recording, cell)}{extra}", fontsize=10)
    return fig


def plot_sta(
    image: np.ndarray,
    x_deg: np.ndarray,
    y_deg: np.ndarray,
    *,
    ax: Any = None,
    title: str = "STA",
    vmax: float | None = None,
) -> Any:
    """A receptive-field image (STA, Gabor fit, residual) in a diverging map centred on 0."""
    ax = _axes(ax)
    im = _signed_image(ax, np.asarray(image, float), np.asarray(x_deg), np.asarray(y_deg),
                       cmap="RdBu_r", vmax=vmax)  # fmt: skip
    bar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    bar.set_label("mean contrast before a spike", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)
    return ax


def plot_cell_sta(recording: Any, cell: int, sta: Any = None, *, _run: Any = None) -> Any:
    """Figure: a cell's spike-triggered average at its best lag, the Gabor fit, the residual."""
    from v1lab.analysis import compute_gabor_fit, compute_sta

    plt = _pyplot()
    sta = compute_sta(recording) if sta is None else sta
    image = sta.at_best_lag()[..., cell]
    fit = compute_gabor_fit(image, sta.x_deg, sta.y_deg)
    xx, yy = np.meshgrid(sta.x_deg, sta.y_deg)
    ok = np.isfinite(fit.r2)
    model = fit(xx, yy) if ok else np.zeros_like(image)
    # The fit is a smooth function: show it finer than the noise grid it was fitted on.
    step = float(np.median(np.abs(np.diff(sta.x_deg)))) / 4 if len(sta.x_deg) > 1 else 1.0
    fx = np.arange(sta.x_deg.min(), sta.x_deg.max() + step / 2, step)
    fy = np.arange(sta.y_deg.max(), sta.y_deg.min() - step / 2, -step)
    fine = fit(*np.meshgrid(fx, fy)) if ok else np.zeros((len(fy), len(fx)))
    fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.4), layout="constrained")
    vmax = float(np.nanmax(np.abs(image))) or 1.0
    lag_ms = 1000 * float(sta.lags_s[sta.best_lag[cell]])
    plot_sta(image, sta.x_deg, sta.y_deg, ax=axes[0], title=f"STA, {lag_ms:.0f} ms before spikes",
             vmax=vmax)  # fmt: skip
    plot_sta(fine, fx, fy, ax=axes[1], vmax=vmax,
             title=f"Gabor fit: r² {fit.r2:.2f}\nnx {fit.nx:.2f}, ny {fit.ny:.2f}, "
             f"{fit.orientation_deg:.0f}°")  # fmt: skip
    axes[1].set_xlim(axes[0].get_xlim())
    axes[1].set_ylim(axes[0].get_ylim())
    plot_sta(image - model, sta.x_deg, sta.y_deg, ax=axes[2], title="residual", vmax=vmax)
    pop = recording.population
    fig.suptitle(
        f"{_cell_title(recording, cell)} — {int(sta.n_spikes[cell])} spikes; model: "
        f"orientation {pop.orientation_deg[cell]:.0f}°, nx {pop.nx[cell]:.2f}, "
        f"ny {pop.ny[cell]:.2f}",
        fontsize=10,
    )
    return fig


# ======================================================================================
# Orientation maps
# ======================================================================================


def plot_orientation_map(
    preferred_deg: np.ndarray,
    *,
    spacing_mm: float = 1.0,
    pinwheels: Any = None,
    selectivity: np.ndarray | None = None,
    ax: Any = None,
    title: str = "Preferred orientation",
) -> Any:
    """Orientation preference map (colour = orientation) with pinwheels marked.

    Parameters
    ----------
    preferred_deg : ndarray (rows, cols)
        Preferred orientation (deg) on the lattice, row 0 at the bottom.
    spacing_mm : float
        Lattice spacing, for the axes (mm of cortex).
    pinwheels : v1lab.analysis.maps.Pinwheels, optional
        Drawn as white circles (clockwise) and black triangles (counter-clockwise).
    selectivity : ndarray (rows, cols), optional
        Darkens weakly selective places (brightness = selectivity / its 95th percentile),
        the "polar map" of optical imaging (Bonhoeffer & Grinvald 1991).
    """
    import matplotlib.colors as mcolors

    plt = _pyplot()
    ax = _axes(ax)
    rows, cols = np.shape(preferred_deg)
    extent = [0.0, cols * spacing_mm, 0.0, rows * spacing_mm]
    cmap = plt.get_cmap("twilight")
    norm = mcolors.Normalize(0.0, 180.0)
    if selectivity is None:
        im = ax.imshow(preferred_deg, origin="lower", extent=extent, cmap=cmap, norm=norm,
                       interpolation="nearest")  # fmt: skip
    else:
        rgb = cmap(norm(np.nan_to_num(preferred_deg)))[..., :3]
        s = np.nan_to_num(np.asarray(selectivity, float))
        scale = np.percentile(s, 95) or 1.0
        rgb = rgb * np.clip(s / scale, 0.0, 1.0)[..., None]
        ax.imshow(rgb, origin="lower", extent=extent, interpolation="nearest")
        im = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = ax.figure.colorbar(im, ax=ax, shrink=0.8, ticks=[0, 45, 90, 135, 180])
    bar.set_label("Preferred orientation (deg)", fontsize=8)
    if pinwheels is not None and len(pinwheels):
        cw = pinwheels.sign < 0
        ax.plot(pinwheels.x[cw], pinwheels.y[cw], "o", mfc="none", mec="white", ms=5, mew=1.2,
                label="pinwheel (clockwise)")  # fmt: skip
        ax.plot(pinwheels.x[~cw], pinwheels.y[~cw], "^", mfc="none", mec="black", ms=5,
                mew=1.2, label="pinwheel (counter-clockwise)")  # fmt: skip
        ax.legend(fontsize=6, loc="upper right", framealpha=0.8)
    ax.set_xlabel("Cortical position x (mm)")
    ax.set_ylabel("Cortical position y (mm)")
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    return ax


def plot_selectivity_map(
    selectivity: np.ndarray,
    *,
    spacing_mm: float = 1.0,
    pinwheels: Any = None,
    ax: Any = None,
    title: str = "Orientation selectivity",
    label: str = "Selectivity",
) -> Any:
    """A map of orientation selectivity (e.g. global OSI, or the smoothed map's |z|)."""
    ax = _axes(ax)
    rows, cols = np.shape(selectivity)
    extent = [0.0, cols * spacing_mm, 0.0, rows * spacing_mm]
    im = ax.imshow(selectivity, origin="lower", extent=extent, cmap="viridis",
                   interpolation="nearest")  # fmt: skip
    bar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    bar.set_label(label, fontsize=8)
    if pinwheels is not None and len(pinwheels):
        ax.plot(pinwheels.x, pinwheels.y, "o", mfc="none", mec="white", ms=4, mew=1.0,
                label="pinwheels")  # fmt: skip
        ax.legend(fontsize=6, loc="upper right", framealpha=0.8)
    ax.set_xlabel("Cortical position x (mm)")
    ax.set_ylabel("Cortical position y (mm)")
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    return ax


def plot_sheet_maps(summary: Any) -> tuple[Any, Any]:
    """Figures for a recorded sheet (:func:`v1lab.analysis.maps.compute_map_summary`).

    Returns
    -------
    (orientation_figure, selectivity_figure)
        The measured preference map with its pinwheels beside the true map with its own;
        and the per-cell global OSI beside the map's selectivity ``|z|`` (which falls at
        pinwheel centres although each cell stays tuned; Ohki et al. 2006).
    """
    plt = _pyplot()
    s = summary
    fig_o, (ax_m, ax_t) = plt.subplots(1, 2, figsize=(11.0, 4.6), layout="constrained")
    plot_orientation_map(
        s.preferred_deg, spacing_mm=s.spacing_mm, pinwheels=s.pinwheels, ax=ax_m,
        title=f"Measured: {len(s.pinwheels)} pinwheels, Λ {s.column_spacing_mm:.2f} mm, "
        f"{s.pinwheel_density:.2f} per Λ²",
    )  # fmt: skip
    plot_orientation_map(
        s.true_preferred_deg, spacing_mm=s.spacing_mm, pinwheels=s.true_pinwheels, ax=ax_t,
        title=f"True map: {len(s.true_pinwheels)} pinwheels, Λ {s.true_column_spacing_mm:.2f} "
        f"mm, {s.true_pinwheel_density:.2f} per Λ²",
    )  # fmt: skip
    fig_o.suptitle("Orientation preference map (π ≈ 3.14 pinwheels per Λ²; Kaschube et al. 2010)",
                   fontsize=10)  # fmt: skip
    fig_s, (ax_c, ax_z) = plt.subplots(1, 2, figsize=(11.0, 4.6), layout="constrained")
    plot_selectivity_map(s.selectivity, spacing_mm=s.spacing_mm, ax=ax_c,
                         title="Each cell's global OSI", label="g_osi")  # fmt: skip
    plot_selectivity_map(np.abs(s.z), spacing_mm=s.spacing_mm, pinwheels=s.pinwheels, ax=ax_z,
                         title="Map selectivity |z| (neighbours averaged)",
                         label="|z|")  # fmt: skip
    fig_s.suptitle("Orientation selectivity", fontsize=10)
    return fig_o, fig_s


# ======================================================================================
# Writing a run's figures
# ======================================================================================


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure atomically (PNG at ``dpi``, or SVG by extension) and close it."""
    import io

    from v1lab.io import write_atomic

    plt = _pyplot()
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def _example_cells(n_cells: int, limit: int = MAX_CELL_FIGURES) -> list[int]:
    if n_cells <= limit:
        return list(range(n_cells))
    return sorted({round(i) for i in np.linspace(0, n_cells - 1, limit)})


def save_run_figures(
    recording: Any,
    folder: str | Path,
    metrics: Mapping[str, np.ndarray] | None = None,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 150,
    worker: Any = None,
) -> list[Path]:
    """Write every figure a run of this protocol should have into ``folder``.

    What is written follows the protocol's design (:func:`v1lab.analysis.compute_design`):

    - direction tuning: ``tuning_cell_NNN`` (polar and linear tuning with the von Mises
      fit, SF/TF tuning when varied, rasters with PSTHs) and ``population_tuning``;
    - gratings as the main stimulus: ``f1_f0`` (the F1/F0 histogram, boundary at 1);
    - a contrast series: ``contrast_cell_NNN`` (normalised tuning overlay and the
      contrast-response curve with its Naka–Rushton fit);
    - bars of several lengths: ``length_tuning``;
    - a spot map: ``spot_maps_cell_NNN``; sparse noise: ``sta_cell_NNN``;
    - an orientation-map sheet: ``orientation_map`` and ``selectivity_map``;
    - anything else: ``responses_cell_NNN`` (the rate in each condition);
    - with at least 8 cells and any of HWHH, F1/F0 or DSI: ``population_summary``.

    Per-cell figures are written for at most 16 cells (spread over the population).

    Parameters
    ----------
    recording : Recording
    folder : path
        Created if needed.
    metrics : mapping, optional
        :func:`v1lab.analysis.compute_metrics` (computed if not given).
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``.
    dpi : int
        Resolution of raster formats.
    worker : v1lab.plots.worker.FigureWorker, optional
        A helper process that draws part of the figures in parallel (the files are the
        same, byte for byte, whichever process drew them).

    Returns
    -------
    list of pathlib.Path
    """
    from v1lab.plots.worker import FigureBatch

    return FigureBatch(recording, metrics, formats=formats, dpi=dpi, worker=worker).write(folder)


@dataclass(frozen=True)
class _FigureJob:
    """One entry of a run's figure list: which builder draws it, for which cell, as what."""

    kind: str
    stem: str
    cell: int = -1


def _figure_jobs(recording: Any, run: _Run) -> list[_FigureJob]:
    """The figures :func:`save_run_figures` writes for this run, in order."""
    design = run.design
    cells = _example_cells(recording.n_cells)
    width = max(3, len(str(recording.n_cells - 1)))
    jobs: list[_FigureJob] = []

    def per_cell(kind: str) -> None:
        jobs.extend(_FigureJob(kind, f"{kind}_cell_{c:0{width}d}", c) for c in cells)

    if design.direction_kind is not None:
        per_cell("tuning")
        jobs.append(_FigureJob("population_tuning", "population_tuning"))
    if design.direction_kind == "grating" and "f1_f0" in run.metrics:
        jobs.append(_FigureJob("f1_f0", "f1_f0"))
    if design.contrast_series and design.direction_kind is not None:
        per_cell("contrast")
    if design.length_tuning:
        jobs.append(_FigureJob("length_tuning", "length_tuning"))
    if design.spot_map:
        per_cell("spot_maps")
    if design.sparse_noise:
        per_cell("sta")
    if design.sheet and _cached(run, "sheet") is not None:
        jobs.append(_FigureJob("sheet", "orientation_map"))
    if not jobs:
        per_cell("responses")
    if recording.n_cells >= 8:
        jobs.append(_FigureJob("population_summary", "population_summary"))
    if recording.protocol.spiking.model == "hodgkin_huxley" and recording.condition_rates:
        jobs.append(_FigureJob("membrane", "membrane"))
    return jobs


def _cached(run: _Run, what: str) -> Any:
    """Analyses several figures share, computed once per process."""
    if what not in run.cache:
        from v1lab import analysis

        if what == "spot_maps":
            run.cache[what] = analysis.compute_spot_maps(run.recording, baseline_hz=run.baseline)
        elif what == "sta":
            run.cache[what] = analysis.compute_sta(run.recording)
        elif what == "sheet":
            from v1lab.analysis import compute_map_summary

            run.cache[what] = compute_map_summary(run.recording, run.metrics)
        else:  # pragma: no cover - the callers and this switch are written together
            raise ValueError(f"no shared analysis called {what!r}")
    return run.cache[what]


def _build_figures(job: _FigureJob, run: _Run) -> list[tuple[str, Any]]:
    """Draw one job's figures: ``[(stem, figure), ...]`` (a builder may draw none)."""
    rec, cell, kind = run.recording, job.cell, job.kind
    if kind == "tuning":
        fig = plot_cell_tuning(rec, cell, _run=run)
    elif kind == "population_tuning":
        fig = plot_population_tuning(rec, _run=run, cells=_example_cells(rec.n_cells))
    elif kind == "f1_f0":
        fig, ax = _pyplot().subplots(figsize=(4.5, 3.8), layout="constrained")
        plot_f1_f0_histogram(run.metrics["f1_f0"], run.metrics.get("cell_type"), ax=ax)
        ax.set_title("Response modulation at the preferred grating", fontsize=9)
    elif kind == "contrast":
        fig = plot_cell_contrast(rec, cell, _run=run)
    elif kind == "length_tuning":
        fig = plot_population_length_tuning(rec, _run=run, cells=_example_cells(rec.n_cells))
    elif kind == "spot_maps":
        fig = plot_cell_spot_maps(rec, cell, _cached(run, "spot_maps"), _run=run)
    elif kind == "sta":
        fig = plot_cell_sta(rec, cell, _cached(run, "sta"), _run=run)
    elif kind == "sheet":
        fig_o, fig_s = plot_sheet_maps(_cached(run, "sheet"))
        return [("orientation_map", fig_o), ("selectivity_map", fig_s)]
    elif kind == "responses":
        fig = plot_condition_responses(rec, cell).figure
    elif kind == "population_summary":
        fig = plot_population_summary(run.metrics)
    elif kind == "membrane":
        fig = _membrane_figure(rec, run)
    else:  # pragma: no cover - the job list and this switch are written together
        raise ValueError(f"unknown figure kind {kind!r}")
    return [] if fig is None else [(job.stem, fig)]


def _render_figures(
    job: _FigureJob, run: _Run, formats: Sequence[str], dpi: int
) -> list[tuple[str, bytes]]:
    """One job's files as ``[(file name, bytes), ...]``, ready to be written."""
    import io

    plt = _pyplot()
    files = []
    for stem, fig in _build_figures(job, run):
        try:
            for fmt in formats:
                buf = io.BytesIO()
                fig.savefig(buf, format=fmt, dpi=dpi)
                files.append((f"{stem}.{fmt}", buf.getvalue()))
        finally:
            plt.close(fig)
    return files


def _membrane_figure(recording: Any, run: Any) -> Any:
    """The membrane of the most responsive cell in its preferred and orthogonal sweeps."""
    from v1lab.cells.hodgkin_huxley import make_recording_membrane_figure

    peak = np.nan_to_num(np.asarray(run.metrics.get("peak_rate_hz", np.zeros(recording.n_cells))))
    spiking = recording.protocol.spiking
    rng = np.random.default_rng([recording.protocol.seed, 7])
    return make_recording_membrane_figure(
        recording, cell=int(np.argmax(peak)), rng=rng, **spiking.params()
    )


def plot_membrane(*args: Any, **kwargs: Any) -> Any:
    """V(t) of a Hodgkin–Huxley membrane; see :func:`v1lab.cells.hodgkin_huxley.plot_membrane`."""
    from v1lab.cells.hodgkin_huxley import plot_membrane as _plot_membrane

    return _plot_membrane(*args, **kwargs)


def save_tuning_figures(
    recording: Any, folder: str | Path, metrics: dict[str, np.ndarray] | None = None
) -> list[Path]:
    """Per-cell figures in ``folder`` (kept for callers of the first release).

    Now the same as :func:`save_run_figures` with PNG output.
    """
    return save_run_figures(recording, folder, metrics)
