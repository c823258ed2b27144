"""Temporal structure of responses: PSTH, raster, F1/F0 modulation and Fano factor.

:func:`compute_raster` and :func:`compute_psth` align a condition's spikes on each onset;
:func:`compute_f1_f0` and :func:`compute_condition_f1_f0` give the F1/F0 modulation ratio
of grating responses that tells simple from complex cells (Skottun et al. 1991);
:func:`compute_fano_factor` the variability of spike counts across repeats (Tolhurst,
Movshon & Dean 1983).

References
----------
Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB (1991)
Classifying simple and complex cells on the basis of response modulation. Vision Res
31:1079-1086.
Tolhurst DJ, Movshon JA, Dean AF (1983) The statistical reliability of signals in single
neurons in cat and monkey visual cortex. Vision Res 23:775-785.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_number
from v1lab.analysis.conditions import compute_condition_table
from v1lab.analysis.responses import compute_baseline_rates, compute_tuning

__all__ = [
    "compute_condition_f1_f0",
    "compute_f1_f0",
    "compute_fano_factor",
    "compute_psth",
    "compute_raster",
]


def _condition_rows(recording: Any, condition_id: int) -> np.ndarray:
    rows = np.flatnonzero(recording.presentations["stimulus_condition_id"] == condition_id)
    if len(rows) == 0:
        raise ParameterError("condition_id", condition_id, "expected a condition that was shown")
    return rows


def compute_raster(
    recording: Any, condition_id: int, cell: int, *, pre_s: float = 0.0, post_s: float = 0.0
) -> list[np.ndarray]:
    """Spike times (s from onset) of one cell in each presentation of a condition.

    Each list entry covers ``[-pre_s, duration + post_s)`` of one presentation, in
    presentation order.
    """
    p = recording.presentations
    times = recording.spike_times[cell]
    out = []
    for row in _condition_rows(recording, condition_id):
        t0 = float(p["start_time"][row])
        lo, hi = t0 - pre_s, float(p["stop_time"][row]) + post_s
        out.append(times[np.searchsorted(times, lo) : np.searchsorted(times, hi)] - t0)
    return out


def compute_psth(
    recording: Any,
    condition_id: int,
    *,
    bin_s: float = 0.02,
    pre_s: float = 0.0,
    post_s: float = 0.0,
    cells: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peri-stimulus time histogram of a condition: rate (spikes/s) per bin, ± SEM.

    Parameters
    ----------
    recording : Recording
    condition_id : int
    bin_s : float
        Bin width (s).
    pre_s, post_s : float
        Time before onset and after offset to include (s).
    cells : array_like of int, optional
        Cells to include (default all).

    Returns
    -------
    t_s : ndarray (n_bins,)
        Bin centres, from onset.
    rate, sem : ndarray (n_bins, n_cells)
    """
    width = check_number("bin_s", bin_s, lo=0, lo_open=True, unit="s")
    rows = _condition_rows(recording, condition_id)
    p = recording.presentations
    duration = float(np.min(p["stop_time"][rows] - p["start_time"][rows]))
    n_bins = max(1, int(np.floor((pre_s + duration + post_s) / width + 1e-9)))
    edges_rel = -pre_s + width * np.arange(n_bins + 1)
    cells = np.arange(recording.n_cells) if cells is None else np.atleast_1d(cells)
    counts = np.empty((len(rows), n_bins, len(cells)))
    for j, cell in enumerate(cells):
        times = recording.spike_times[int(cell)]
        edges = p["start_time"][rows][:, None] + edges_rel[None, :]
        counts[:, :, j] = np.diff(np.searchsorted(times, edges), axis=1)
    rates = counts / width
    sem = rates.std(axis=0, ddof=1) / np.sqrt(len(rows)) if len(rows) > 1 else 0 * rates[0]
    return 0.5 * (edges_rel[:-1] + edges_rel[1:]), rates.mean(axis=0), sem


def compute_f1_f0(
    rate: Any, fs_hz: float, temporal_frequency_hz: float, *, baseline_hz: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """F1 and F0 of a periodic response sampled at ``fs_hz`` (Skottun et al. 1991).

    F0 is the mean rate minus ``baseline_hz`` (the spontaneous rate); F1 the amplitude
    of the Fourier component at the stimulus temporal frequency. Only the largest whole
    number of cycles is used, so a cycle's own shape cannot leak into F1.

    Parameters
    ----------
    rate : array_like (n_samples, ...)
        Firing rate over time (e.g. a PSTH).
    fs_hz : float
        Sampling rate of ``rate``.
    temporal_frequency_hz : float
        Stimulus temporal frequency (> 0).
    baseline_hz : float or array_like
        Subtracted from F0.

    Returns
    -------
    f1, f0 : ndarray (...)

    Examples
    --------
    >>> fs, tf = 10_000.0, 4.0
    >>> t = np.arange(int(fs)) / fs
    >>> f1, f0 = compute_f1_f0(np.maximum(np.sin(2 * np.pi * tf * t), 0), fs, tf)
    >>> round(float(f1 / f0), 4), round(np.pi / 2, 4)  # half-wave rectified sinusoid
    (1.5708, 1.5708)
    """
    r = np.asarray(rate, dtype=float)
    fs = check_number("fs_hz", fs_hz, lo=0, lo_open=True, unit="Hz")
    tf = check_number("temporal_frequency_hz", temporal_frequency_hz, lo=0, lo_open=True)
    per_cycle = fs / tf
    n = round(math.floor(r.shape[0] / per_cycle + 1e-9) * per_cycle)
    if n < 1:
        n = r.shape[0]
    t = np.arange(n) / fs
    phasor = np.exp(-2j * np.pi * tf * t).reshape((n,) + (1,) * (r.ndim - 1))
    f0 = r[:n].mean(axis=0) - np.asarray(baseline_hz, dtype=float)
    f1 = 2.0 * np.abs((r[:n] * phasor).mean(axis=0))
    return f1, f0


def compute_condition_f1_f0(
    recording: Any, *, baseline_hz: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """F1 and F0 (spikes/s) of every cell in every periodic grating condition.

    Computed from the spike times themselves (no binning): over the largest whole
    number of stimulus cycles from onset, ``F0 = N / (n T) − spontaneous`` and
    ``F1 = 2 |Σ exp(−2πi f t_k)| / (n T)`` for the ``N`` spikes of the ``n``
    presentations of length ``T`` — the first harmonic of the trial-averaged PSTH.

    Parameters
    ----------
    recording : Recording
    baseline_hz : array_like (n_cells,), optional
        Spontaneous rates subtracted from F0 (default :func:`compute_baseline_rates`).

    Returns
    -------
    f1, f0 : ndarray (n_conditions, n_cells)
        NaN for conditions that are not gratings with a temporal frequency.
    """
    table = compute_condition_table(recording)
    n_cond = len(recording.conditions)
    tf = table.get("temporal_frequency_hz", np.full(n_cond, np.nan))
    periodic = (table["stimulus"] == "grating") & (np.nan_to_num(tf) > 0)
    f1 = np.full((n_cond, recording.n_cells), np.nan)
    f0 = np.full_like(f1, np.nan)
    if not periodic.any():
        return f1, f0
    base = compute_baseline_rates(recording) if baseline_hz is None else np.asarray(baseline_hz)
    p = recording.presentations
    cond = p["stimulus_condition_id"]
    rows = np.flatnonzero(periodic[cond])
    start = p["start_time"][rows]
    duration = p["stop_time"][rows] - start
    freq = tf[cond[rows]]
    cycles = np.floor(duration * freq + 1e-9)
    length = np.where(cycles >= 1, cycles / np.where(freq > 0, freq, 1.0), duration)
    order = np.argsort(start)
    start, length, freq, pres_cond = start[order], length[order], freq[order], cond[rows][order]
    exposure = np.bincount(pres_cond, weights=length, minlength=n_cond)
    for cell, times in enumerate(recording.spike_times):
        k = np.searchsorted(start, times, side="right") - 1
        ok = k >= 0
        k, t = k[ok], times[ok]
        rel = t - start[k]
        inside = rel < length[k]
        k, rel = k[inside], rel[inside]
        phase = 2.0 * np.pi * freq[k] * rel
        c = pres_cond[k]
        count = np.bincount(c, minlength=n_cond)
        re = np.bincount(c, weights=np.cos(phase), minlength=n_cond)
        im = np.bincount(c, weights=np.sin(phase), minlength=n_cond)
        with np.errstate(invalid="ignore", divide="ignore"):
            f0[:, cell] = count / exposure - base[cell]
            f1[:, cell] = 2.0 * np.hypot(re, im) / exposure
    f1[~periodic] = np.nan
    f0[~periodic] = np.nan
    return f1, f0


def compute_fano_factor(counts: Any, condition_ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fano factor (variance / mean of spike counts across repeats) per condition and cell.

    Tolhurst, Movshon & Dean (1983) found it near 1–2 in cat and monkey V1; a Poisson
    process gives 1 (less with a refractory period).

    Parameters
    ----------
    counts : array_like (n_presentations, n_cells)
        Spike counts (e.g. ``recording.spike_counts()``).
    condition_ids : array_like (n_presentations,)

    Returns
    -------
    ids : ndarray (n_conditions,)
    fano : ndarray (n_conditions, n_cells)
        NaN where the mean count is 0 or there is a single repeat.

    Examples
    --------
    >>> ids, ff = compute_fano_factor(np.array([[2], [4], [3], [3]]), np.array([0, 0, 1, 1]))
    >>> ids.tolist(), ff[:, 0].tolist()
    ([0, 1], [0.6666666666666666, 0.0])
    """
    c = np.asarray(counts, dtype=float)
    ids, mean, sem = compute_tuning(np.asarray(condition_ids), c)
    n = np.bincount(np.unique(np.asarray(condition_ids), return_inverse=True)[1]).astype(float)
    var = sem**2 * n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fano = np.where((mean > 0) & (n[:, None] > 1), var / mean, np.nan)
    return ids, fano
