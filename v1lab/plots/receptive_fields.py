"""Receptive-field maps: spot maps (ON, OFF, ON − OFF) and the spike-triggered average.

:func:`plot_spot_map` and :func:`plot_sta` draw one image into an axes;
:func:`plot_cell_spot_maps` and :func:`plot_cell_sta` lay out one cell's (the STA with
its Gabor fit and the residual). Signed images use ``RdBu_r`` centred on 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.plots.figure_data import cell_title
from v1lab.plots.style import load_pyplot, make_axes

__all__ = ["plot_cell_spot_maps", "plot_cell_sta", "plot_spot_map", "plot_sta"]


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
    ax = make_axes(ax)
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

    plt = load_pyplot()
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
    fig.suptitle(f"{cell_title(recording, cell)}{extra}", fontsize=10)
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
    ax = make_axes(ax)
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

    plt = load_pyplot()
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
        f"{cell_title(recording, cell)} — {int(sta.n_spikes[cell])} spikes; model: "
        f"orientation {pop.orientation_deg[cell]:.0f}°, nx {pop.nx[cell]:.2f}, "
        f"ny {pop.ny[cell]:.2f}",
        fontsize=10,
    )
    return fig
