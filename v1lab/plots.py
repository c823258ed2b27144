"""Figures. Every ``plot_*`` function takes ``ax=None`` and returns the axes it drew on.

matplotlib is imported inside the functions so that ``import v1lab`` stays fast, and
the Agg backend is used when no display backend has been chosen. Colours are the
Okabe–Ito colour-blind-safe palette.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "OKABE_ITO",
    "plot_cell_tuning",
    "plot_condition_responses",
    "plot_population_tuning",
    "plot_tuning_curve",
    "plot_tuning_polar",
    "save_figure",
    "save_tuning_figures",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")


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


def plot_tuning_polar(
    angles_deg: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    label: str | None = None,
    marker_deg: float | None = None,
) -> Any:
    """Polar tuning curve (rate vs direction), closed, with a ±SEM band.

    Parameters
    ----------
    angles_deg, mean, sem : ndarray (n_angles,)
    ax : matplotlib polar Axes, optional
    marker_deg : float, optional
        Draw a dashed radial line there (e.g. the ground-truth preference).
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(subplot_kw={"projection": "polar"})
    order = np.argsort(angles_deg)
    theta = np.deg2rad(np.append(angles_deg[order], angles_deg[order][0]))
    r = np.append(mean[order], mean[order][0])
    ax.plot(theta, r, color=color, lw=2, marker="o", ms=3, label=label)
    if sem is not None:
        s = np.append(sem[order], sem[order][0])
        ax.fill_between(theta, np.maximum(r - s, 0), r + s, color=color, alpha=0.25, lw=0)
    if marker_deg is not None and np.isfinite(marker_deg):
        ax.plot(
            [np.deg2rad(marker_deg)] * 2, [0, float(np.max(r)) * 1.05], ls="--", color="0.3", lw=1
        )
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
    baseline_hz: float | None = None,
) -> Any:
    """Linear tuning curve with SEM error bars and an optional spontaneous-rate line."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    order = np.argsort(angles_deg)
    ax.errorbar(
        angles_deg[order],
        mean[order],
        yerr=None if sem is None else sem[order],
        color=color,
        marker="o",
        ms=3,
        lw=1.5,
        capsize=2,
        label=label,
    )
    if baseline_hz is not None and np.isfinite(baseline_hz):
        ax.axhline(baseline_hz, color="0.5", ls=":", lw=1, label="spontaneous")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Firing rate (spikes/s)")
    span = float(np.ptp(angles_deg)) if len(angles_deg) > 1 else 0.0
    if span >= 180:
        ax.set_xticks(np.arange(0, 361, 90))
    ax.set_ylim(bottom=0)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_cell_tuning(
    recording: Any, cell: int, metrics: dict[str, np.ndarray] | None = None
) -> Any:
    """Figure: polar and linear direction tuning of one cell, with its ground truth."""
    from v1lab.analysis import compute_baseline_rates, compute_direction_tuning

    plt = _pyplot()
    tuning = compute_direction_tuning(recording)
    if tuning is None:
        raise ValueError("this recording has no direction tuning to plot")
    directions, mean, sem = tuning
    pop = recording.population
    fig = plt.figure(figsize=(7.0, 3.2), layout="constrained")
    ax_polar = fig.add_subplot(1, 2, 1, projection="polar")
    ax_lin = fig.add_subplot(1, 2, 2)
    pref_dir = float(pop.preferred_direction_deg[cell])
    truth = pref_dir if np.isfinite(pref_dir) else float(pop.orientation_deg[cell]) + 90.0
    plot_tuning_polar(directions, mean[:, cell], sem[:, cell], ax=ax_polar, marker_deg=truth)
    baseline = (metrics or {}).get("spontaneous_rate_hz")
    base = (
        float(baseline[cell])
        if baseline is not None
        else float(compute_baseline_rates(recording)[cell])
    )
    plot_tuning_curve(directions, mean[:, cell], sem[:, cell], ax=ax_lin, baseline_hz=base)
    ax_lin.axvline(truth % 360, color="0.3", ls="--", lw=1, label="true preference")
    ax_lin.legend(fontsize=7, frameon=False, loc="upper right")
    kind = str(pop.cell_type[cell])
    fig.suptitle(
        f"Cell {cell} ({kind}): true orientation {pop.orientation_deg[cell]:.0f}°"
        + (f", direction {pref_dir:.0f}°" if np.isfinite(pref_dir) else ""),
        fontsize=10,
    )
    return fig


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
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Cell {cell} ({recording.population.cell_type[cell]})", fontsize=10)
    return ax


#: One colour per cell type (Okabe–Ito).
TYPE_COLOURS = {
    "simple": OKABE_ITO[4],
    "complex": OKABE_ITO[5],
    "ds_simple": OKABE_ITO[2],
    "end_stopped": OKABE_ITO[6],
}


def plot_population_tuning(recording: Any) -> Any:
    """Figure: every cell's polar direction tuning in a grid, coloured by cell type."""
    from v1lab.analysis import compute_direction_tuning

    plt = _pyplot()
    tuning = compute_direction_tuning(recording)
    if tuning is None:
        raise ValueError("this recording has no direction tuning to plot")
    directions, mean, sem = tuning
    n = recording.n_cells
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig = plt.figure(figsize=(1.9 * cols, 2.0 * rows + 0.4), layout="constrained")
    pop = recording.population
    for cell in range(n):
        ax = fig.add_subplot(rows, cols, cell + 1, projection="polar")
        kind = str(pop.cell_type[cell])
        colour = TYPE_COLOURS.get(kind, OKABE_ITO[7])
        plot_tuning_polar(directions, mean[:, cell], sem[:, cell], ax=ax, color=colour)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        peak = float(mean[:, cell].max())
        title = f"{cell}: {kind.replace('_', ' ')}\npeak {peak:.0f} spikes/s"
        ax.set_title(title, fontsize=8, pad=2)
    fig.suptitle(
        f"Direction tuning, PSTH-peak rate ± SEM: {recording.protocol.name} "
        "(0° = rightward motion, counter-clockwise)",
        fontsize=10,
    )
    return fig


def save_tuning_figures(
    recording: Any, folder: str | Path, metrics: dict[str, np.ndarray] | None = None
) -> list[Path]:
    """Per-cell figures in ``folder``.

    With direction tuning: ``tuning_cell_000.png`` … and ``population_tuning.png``;
    otherwise the rate in each condition, ``responses_cell_000.png`` ….
    """
    from v1lab.analysis import compute_direction_tuning

    folder = Path(folder)
    if compute_direction_tuning(recording) is None:
        return [
            save_figure(
                plot_condition_responses(recording, cell).figure,
                folder / f"responses_cell_{cell:03d}.png",
            )
            for cell in range(recording.n_cells)
        ]
    paths = [
        save_figure(
            plot_cell_tuning(recording, cell, metrics), folder / f"tuning_cell_{cell:03d}.png"
        )
        for cell in range(recording.n_cells)
    ]
    paths.append(save_figure(plot_population_tuning(recording), folder / "population_tuning.png"))
    return paths
