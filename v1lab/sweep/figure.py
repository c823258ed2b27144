"""The sweep's summary figure (``sweep.png``): each point's median metrics by its values.

One panel per summary metric the points have (up to four: OSI, DSI, peak rate, Fano
factor, in that order of preference). The first axis of the sweep runs along x; every
combination of the other axes is one series, so the spread across, say, seeds is seen
at each value of the first axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from v1lab.plots.style import OKABE_ITO, despine, load_pyplot

__all__ = ["PANEL_METRICS", "make_sweep_figure"]

#: Preferred panels, as (sweep.csv column, axis label).
PANEL_METRICS = (
    ("median_osi", "median OSI"),
    ("median_dsi", "median DSI"),
    ("median_peak_rate_hz", "median peak rate (spikes/s)"),
    ("median_fano_factor", "median Fano factor"),
    ("median_f1_f0", "median F1/F0"),
    ("median_spontaneous_rate_hz", "median spontaneous rate (spikes/s)"),
)


def _label(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def make_sweep_figure(rows: Sequence[Mapping[str, Any]], params: Sequence[str]) -> Any:
    """The summary figure of a sweep's rows (``sweep.csv``'s columns); a Figure."""
    plt = load_pyplot()
    done = [r for r in rows if r.get("status") == "done"]
    panels = [
        (key, label)
        for key, label in PANEL_METRICS
        if any(np.isfinite(float(r.get(key, np.nan))) for r in done)
    ][:4] or [("n_spikes", "spikes")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0),
                             layout="constrained", squeeze=False)  # fmt: skip
    first = params[0] if params else None
    xs = list(dict.fromkeys(_label(r[first]) for r in done)) if first else ["all"]
    others = list(params[1:])
    series: dict[str, list[Mapping[str, Any]]] = {}
    for r in done:
        key = ", ".join(f"{p.rsplit('.', 1)[-1]}={_label(r[p])}" for p in others) or "points"
        series.setdefault(key, []).append(r)
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        for i, (name, members) in enumerate(series.items()):
            x = [xs.index(_label(r[first])) if first else 0 for r in members]
            y = [float(r.get(key, np.nan)) for r in members]
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.plot(x, y, "o-", color=colour, label=name, alpha=0.85)
        ax.set_xticks(range(len(xs)), xs)
        ax.set_xlabel(first or "point")
        ax.set_ylabel(label)
        despine(ax)
    if len(series) > 1:
        axes[0][-1].legend(fontsize="x-small", frameon=False, loc="best")
    fig.suptitle(f"sweep: {len(done)} of {len(rows)} points", fontsize="medium")
    return fig
