"""Contrast: tuning at each contrast overlaid, and the contrast-response curve.

Contrast-invariant orientation tuning (Sclar & Freeman 1982) shows as normalised curves
of the same width (:func:`plot_contrast_overlay`); the response grows with contrast
along a Naka–Rushton curve (:func:`plot_contrast_response`). :func:`plot_cell_contrast`
puts both side by side for one cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from v1lab.plots.figure_data import FigureData, cell_title
from v1lab.plots.style import OKABE_ITO, despine, load_pyplot, make_axes

__all__ = ["plot_cell_contrast", "plot_contrast_overlay", "plot_contrast_response"]


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
    ax = make_axes(ax)
    o = np.asarray(orientations_deg, dtype=float)
    top = max(tunings)
    centre = float(o[np.nanargmax(tunings[top])])
    offsets = (o - centre + 90.0) % 180.0 - 90.0
    order = np.argsort(offsets)
    cmap = load_pyplot().get_cmap("viridis")
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
    despine(ax)
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
    ax = make_axes(ax)
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
    despine(ax)
    return ax


def plot_cell_contrast(recording: Any, cell: int, *, _run: Any = None) -> Any:
    """Figure: normalised tuning at each contrast, and the contrast-response curve."""
    from v1lab.analysis import compute_naka_rushton_fit, compute_orientation_tuning

    plt = load_pyplot()
    run = _run if _run is not None else FigureData.make(recording)
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
        f"{cell_title(recording, cell)}: model c50 {100 * pop.c50[cell]:.0f} %, "
        f"exponent {pop.exponent[cell]:.1f}",
        fontsize=10,
    )
    return fig
