"""Length tuning: the response against bar length, and end-stopping over the population.

:func:`plot_length_tuning` is :func:`v1lab.plots.tuning.plot_tuning_curve` along the
bar's length; :func:`plot_population_length_tuning` shows every cell's, with its
suppression index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.plots.figure_data import FigureData
from v1lab.plots.style import OKABE_ITO, TYPE_COLOURS, load_pyplot
from v1lab.plots.tuning import plot_tuning_curve

__all__ = ["plot_length_tuning", "plot_population_length_tuning"]


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
    plt = load_pyplot()
    run = _run if _run is not None else FigureData.make(recording)
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
