"""Spike trains against time: the raster and the peri-stimulus time histogram (PSTH).

Both take times from stimulus onset (s) and shade the time the stimulus was on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab.plots.style import OKABE_ITO, despine, make_axes

__all__ = ["plot_psth", "plot_raster"]


def plot_raster(
    trains: Sequence[np.ndarray],
    *,
    ax: Any = None,
    color: str = OKABE_ITO[7],
    duration_s: float | None = None,
    label: str | None = None,
) -> Any:
    """Spike raster: one row per presentation (times from onset, s).

    ``duration_s`` shades the time the stimulus was on.

    Examples
    --------
    >>> ax = plot_raster([np.array([0.1, 0.2]), np.array([0.15])], duration_s=0.5)
    >>> ax.get_ylabel()
    'Trial'
    """
    ax = make_axes(ax)
    if duration_s is not None:
        ax.axvspan(0.0, duration_s, color=OKABE_ITO[3], alpha=0.25, lw=0)
    ax.eventplot(list(trains), colors=color, linelengths=0.8, linewidths=0.8)
    ax.set_ylim(-0.6, max(len(trains), 1) - 0.4)
    ax.set_ylabel("Trial")
    ax.set_xlabel("Time from stimulus onset (s)")
    if label:
        ax.set_title(label, fontsize=8)
    despine(ax)
    return ax


def plot_psth(
    t_s: np.ndarray,
    rate: np.ndarray,
    sem: np.ndarray | None = None,
    *,
    ax: Any = None,
    color: str = OKABE_ITO[4],
    duration_s: float | None = None,
    baseline_hz: float | None = None,
) -> Any:
    """Peri-stimulus time histogram (spikes/s) with a ±SEM band.

    Examples
    --------
    >>> ax = plot_psth(np.array([0.05, 0.15]), np.array([3.0, 7.0]))
    >>> ax.get_xlabel()
    'Time from stimulus onset (s)'
    """
    ax = make_axes(ax)
    t = np.asarray(t_s, dtype=float)
    r = np.asarray(rate, dtype=float)
    width = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    if duration_s is not None:
        ax.axvspan(0.0, duration_s, color=OKABE_ITO[3], alpha=0.25, lw=0)
    ax.step(t, r, where="mid", color=color, lw=1.2)
    if sem is not None:
        s = np.asarray(sem, dtype=float)
        ax.fill_between(t, r - s, r + s, step="mid", color=color, alpha=0.25, lw=0)
    if baseline_hz is not None and np.isfinite(baseline_hz):
        ax.axhline(baseline_hz, color="0.5", ls=":", lw=1)
    ax.set_xlim(t[0] - width / 2, t[-1] + width / 2)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Time from stimulus onset (s)")
    ax.set_ylabel("Rate (spikes/s)")
    despine(ax)
    return ax
