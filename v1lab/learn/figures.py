"""Figures of learning: the fields sorted by orientation, the objective, the nx–ny cloud.

Every ``plot_*`` takes ``ax=None`` and returns the axes it drew on (the project's
convention, :mod:`v1lab.plots`).

The nx–ny cloud is drawn over Ringach's (2002) macaque simple cells
(:data:`v1lab.card.published.RINGACH_2002_NX_NY`, his joint histogram as VOneNet types
it in), as shaded bins: sparse coding is known to give more elongated, many-lobed fields
than the macaque's, which are rounder and have fewer lobes (Ringach 2002 discussed it;
Rehn & Sommer 2007 brought the cloud closer with a hard sparseness constraint). The
figure shows where the learned fields fall; it does not hide the difference.

References
----------
Rehn M, Sommer FT (2007) A network that uses few active neurones to code visual input
predicts the diverse shapes of cortical receptive fields. J Comput Neurosci 22:135-146.
Ringach DL (2002) J Neurophysiol 88:455-463.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.learn.fields import EDGE_CYCLES, GOOD_FIT_R2, LearnedFields
from v1lab.model.distributions import RINGACH_2002_NX_NY
from v1lab.plots.style import OKABE_ITO, despine, make_axes

__all__ = ["make_fields_mosaic", "plot_fields", "plot_nx_ny", "plot_objective"]


def make_fields_mosaic(fields: Any, order: Any = None, *, gap_px: int = 1) -> np.ndarray:
    """The fields tiled into one image (each scaled to ±1), NaN between tiles.

    Examples
    --------
    >>> make_fields_mosaic(np.ones((3, 2, 2))).shape  # 2 × 2 tiles of 2 px, 1-px gaps
    (5, 5)
    """
    f = np.asarray(fields, dtype=float)
    if order is not None:
        f = f[np.asarray(order)]
    n, s = f.shape[0], f.shape[-1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    step = s + gap_px
    out = np.full((rows * step - gap_px, cols * step - gap_px), np.nan)
    peak = np.max(np.abs(f.reshape(n, -1)), axis=1)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * step : r * step + s, c * step : c * step + s] = f[k] / (peak[k] or 1.0)
    return out


def plot_fields(learned: LearnedFields, ax: Any = None, *, label: str = "learned fields") -> Any:
    """All fields, sorted by their fitted orientation (unfitted ones last), grey ±1."""
    ax = make_axes(ax)
    ori = learned.fit_column("orientation_deg")
    order = np.argsort(np.where(np.isfinite(ori), ori, np.inf), kind="stable")
    ax.imshow(make_fields_mosaic(learned.fields, order), cmap="gray", vmin=-1, vmax=1,
              interpolation="nearest")  # fmt: skip
    ax.set_axis_off()
    ax.set_title(f"{learned.n_fields} {label} ({learned.settings.patch_px} px), by orientation")
    return ax


def plot_objective(curves: dict[str, tuple[Any, Any]], ax: Any = None, *, xlabel: str) -> Any:
    """Objective curves ``{label: (x, objective)}`` on one axes."""
    ax = make_axes(ax)
    for k, (label, (x, y)) in enumerate(curves.items()):
        ax.plot(np.asarray(x), np.asarray(y), color=OKABE_ITO[(4, 5, 2, 6)[k % 4]], label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("objective ½‖x − aD‖² + λ‖a‖₁ (per patch)")
    ax.legend(frameon=False)
    despine(ax)
    return ax


def plot_nx_ny(learned: LearnedFields, ax: Any = None) -> Any:
    """The learned fields' ``(nx, ny)`` over Ringach's (2002) macaque histogram, log axes."""
    ax = make_axes(ax)
    bins = np.asarray(RINGACH_2002_NX_NY["bins"])
    counts = np.asarray(RINGACH_2002_NX_NY["counts"], dtype=float)
    ax.pcolormesh(bins, bins, counts.T, cmap="Greys", alpha=0.6, shading="flat")
    r2 = learned.fit_column("r2")
    f = learned.fit_column("spatial_frequency_cpp")
    with np.errstate(invalid="ignore"):
        good = r2 >= GOOD_FIT_R2
        carrier = good & (f * learned.settings.patch_px >= EDGE_CYCLES)
    nx = learned.fit_column("sigma_across_px") * f
    ny = learned.fit_column("sigma_along_px") * f
    n_edge = int(good.sum() - carrier.sum())
    label = f"learned, r² ≥ {GOOD_FIT_R2} ({int(carrier.sum())}; {n_edge} edge-like not shown)"
    ax.scatter(nx[carrier], ny[carrier], s=12, color=OKABE_ITO[5], label=label)
    ax.plot([], [], "s", color="0.5", alpha=0.6, label="Ringach 2002, macaque (bins)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo, hi = 0.05, 4.0
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.plot([lo, hi], [lo, hi], color="0.7", lw=0.8)
    ax.set_xlabel("nx (envelope SD across / carrier period)")
    ax.set_ylabel("ny (envelope SD along / carrier period)")
    ax.legend(frameon=False, loc="upper left")
    despine(ax)
    return ax
