"""The look every figure shares: the colour palette, and matplotlib loaded on first use.

Colours are the Okabe–Ito colour-blind-safe palette (:data:`OKABE_ITO`), one per cell
type in :data:`TYPE_COLOURS`. matplotlib is imported by :func:`load_pyplot`, inside the
plot functions, so that ``import v1lab`` stays fast; the Agg backend is used when no
display backend has been chosen. :func:`make_axes` (the axes given, or new ones) and
:func:`despine` (an open frame) are shared by the single-panel ``plot_*`` functions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OKABE_ITO", "TYPE_COLOURS", "despine", "load_pyplot", "make_axes"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")

#: One colour per cell type (Okabe–Ito).
TYPE_COLOURS = {
    "simple": OKABE_ITO[4],
    "complex": OKABE_ITO[5],
    "ds_simple": OKABE_ITO[2],
    "end_stopped": OKABE_ITO[6],
}


def load_pyplot() -> Any:
    """``matplotlib.pyplot``, imported now (with the Agg backend unless a display one is set)."""
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


def make_axes(ax: Any, **subplot_kw: Any) -> Any:
    """``ax`` if given, else the axes of a new figure (``subplot_kw``, e.g. a projection)."""
    if ax is not None:
        return ax
    plt = load_pyplot()
    _, ax = plt.subplots(subplot_kw=subplot_kw or None, layout="constrained")
    return ax


def despine(ax: Any) -> None:
    """Hide the top and right spines."""
    ax.spines[["top", "right"]].set_visible(False)
