"""The card's figure: one property's model histogram over the published one.

Drawn on the paper's bins (values outside clipped into the end bins, as the score
counts them), each histogram normalised to sum 1 over the cells that have a value,
in the style of :mod:`v1lab.plots` (Okabe–Ito colours, no top and right spines).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.card.published import PublishedDistribution
from v1lab.plots import OKABE_ITO

__all__ = ["make_model_histogram", "plot_card_histogram"]

_MODEL = OKABE_ITO[4]
_DATA = "#9a9a9a"


def make_model_histogram(values: Any, bins: Any) -> np.ndarray:
    """Fractions of the finite ``values`` in each bin, end bins taking what lies outside.

    Examples
    --------
    >>> make_model_histogram([-5, 0.5, 1.5, np.nan, 9], [0, 1, 2]).tolist()
    [0.5, 0.5]
    """
    edges = np.asarray(bins, dtype=float)
    v = np.asarray(values, dtype=float)
    v = np.clip(v[np.isfinite(v)], edges[0], edges[-1])
    counts, _ = np.histogram(v, bins=edges)
    total = counts.sum()
    return counts / total if total else np.zeros(len(edges) - 1)


def plot_card_histogram(
    values: Any,
    published: PublishedDistribution,
    *,
    ax: Any = None,
    score: float = float("nan"),
    alexnet: float = float("nan"),
) -> Any:
    """Model histogram (bars) over the published one (grey outline), on the paper's bins.

    Parameters
    ----------
    values : array_like
        The property of each responsive model cell (NaN ignored).
    published : PublishedDistribution
        Its bins, label and (if known) counts.
    ax : matplotlib Axes, optional
    score, alexnet : float
        Shown in the title when finite.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5.0, 3.4), layout="constrained").add_subplot()
    edges = np.asarray(published.bins, dtype=float)
    v = np.asarray(values, dtype=float)
    n_model = int(np.isfinite(v).sum())
    left, width = edges[:-1], np.diff(edges)
    ax.bar(
        left, make_model_histogram(v, edges), width=width, align="edge", color=_MODEL,
        alpha=0.75, edgecolor="white", label=f"model (n = {n_model})",
    )  # fmt: skip
    if published.scored:
        ax.stairs(
            published.fractions, edges, color=_DATA, linewidth=2.2,
            label=f"published (n = {sum(published.counts)})",
        )  # fmt: skip
    if published.scale == "log2":
        from matplotlib.ticker import FormatStrFormatter

        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(published.label)
    ax.set_ylabel("fraction of cells")
    title = published.name.replace("_", " ")
    if np.isfinite(score):
        title += f" — score {score:.3f}"
        if np.isfinite(alexnet):
            title += f" (AlexNet {alexnet:.3f})"
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    return ax
