"""Maps of the cortical sheet: orientation preference with its pinwheels, and selectivity.

:func:`plot_orientation_map` (cyclic ``twilight`` colours) and
:func:`plot_selectivity_map` (``viridis``) draw one map into an axes;
:func:`plot_sheet_maps` makes the two figures of a recorded sheet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.plots.style import load_pyplot, make_axes

__all__ = ["plot_orientation_map", "plot_selectivity_map", "plot_sheet_maps"]


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

    plt = load_pyplot()
    ax = make_axes(ax)
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
    ax = make_axes(ax)
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
    plt = load_pyplot()
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
