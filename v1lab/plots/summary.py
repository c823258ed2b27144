"""Population summary: histograms of one metric over cells, published ranges shaded.

:func:`plot_summary_histogram` stacks the cells by type; :func:`plot_population_summary`
shows HWHH, F1/F0 and DSI side by side; :func:`plot_f1_f0_histogram` is the F1/F0
histogram with the simple/complex boundary at 1. :data:`PUBLISHED_RANGES` holds the
ranges reported for cat and monkey V1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from v1lab.plots.style import OKABE_ITO, TYPE_COLOURS, despine, load_pyplot, make_axes

__all__ = [
    "PUBLISHED_RANGES",
    "plot_f1_f0_histogram",
    "plot_population_summary",
    "plot_summary_histogram",
]

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
    ax = make_axes(ax)
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
    despine(ax)
    return ax


def plot_population_summary(metrics: Mapping[str, np.ndarray], *, title: str = "") -> Any | None:
    """Figure: histograms of HWHH, F1/F0 and DSI over cells, published ranges shaded.

    Only the metrics the protocol measured are shown; returns None if none was.
    """
    plt = load_pyplot()
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
