"""Spike trains and pop detection shared by the audio tests (imported as a plain module)."""

from __future__ import annotations

import numpy as np

FS = 44100
CEILING = 10 ** (-1 / 20)  # -1 dBFS
UNIT_PEAK = 10 ** (-12 / 20)  # default level_dbfs of one unit spike


def spaced_trains(rng, n_cells, duration_s, *, min_isi_s=0.004, mean_gap_s=0.04):
    """Spike trains whose spikes (all cells pooled) are at least ``min_isi_s`` apart."""
    gaps = min_isi_s + rng.exponential(mean_gap_s, size=int(duration_s / min_isi_s))
    times = 0.02 + np.cumsum(gaps)
    times = times[times < duration_s - 0.02]
    cell = rng.integers(0, n_cells, size=times.size)
    return [times[cell == c] for c in range(n_cells)], times


def poisson_trains(rng, n_cells, rate_hz, duration_s, t0=0.0):
    return [
        np.sort(rng.uniform(t0, t0 + duration_s, rng.poisson(rate_hz * duration_s)))
        for _ in range(n_cells)
    ]


def detect_pops(x, threshold):
    """Times (s) of the trough of each excursion below ``threshold`` (< 0)."""
    below = np.concatenate([[False], x < threshold, [False]])
    edges = np.flatnonzero(np.diff(below.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]
    return np.array([(s + np.argmin(x[s:e])) / FS for s, e in zip(starts, stops, strict=True)])
