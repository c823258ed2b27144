"""Responses per presentation: spike counts and firing rates in a window, and their means.

Each function takes a :class:`~v1lab.experiment.Recording` (or plain arrays) and returns
rates in spikes/s, one row per presentation and one column per cell.
:func:`compute_presentation_responses` measures each stimulus kind as the field does: the
PSTH-peak rate for swept bars (Henry, Bishop & Dreher 1974), the mean rate for gratings
and noise, and the rate in a latency-shifted window for flashed spots (Hubel & Wiesel
1959). :func:`compute_baseline_rates` reads the spontaneous rate from the grey screen, and
:func:`compute_tuning` averages responses (mean ± SEM) over each value of a parameter.

References
----------
Henry GH, Bishop PO, Dreher B (1974) Orientation, axis and direction as stimulus
parameters for striate cells. Vision Res 14:767-777.
Hubel DH, Wiesel TN (1959) Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574-591.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice

__all__ = [
    "RESPONSE_LATENCY_S",
    "compute_baseline_rates",
    "compute_binned_counts",
    "compute_peak_rates",
    "compute_presentation_responses",
    "compute_response_rates",
    "compute_tuning",
]

#: Delay from a flash to the cortical response (s): the LGN kernel peaks ~33 ms after an
#: impulse (v1lab.model.retina), so flashed-stimulus windows start and end this much later.
RESPONSE_LATENCY_S = 0.03
# Stimulus kinds flashed in place: their response window is shifted by the latency.
_FLASHED = ("spot", "annulus", "full_field", "image")


def compute_response_rates(
    recording: Any, window_s: tuple[float, float] | None = None
) -> np.ndarray:
    """Firing rate (spikes/s) of every cell in every presentation, (n_presentations, n_cells).

    ``window_s`` is relative to onset; default: the whole presentation.
    """
    counts = recording.spike_counts(window_s)
    p = recording.presentations
    if window_s is None:
        width = p["stop_time"] - p["start_time"]
    else:
        width = np.full(len(p["start_time"]), window_s[1] - window_s[0])
    return counts / width[:, None]


def _window_rates(recording: Any, lo_rel: np.ndarray, hi_rel: np.ndarray) -> np.ndarray:
    """Rates in per-presentation windows ``[start + lo, start + hi)``, (n_pres, n_cells)."""
    start = recording.presentations["start_time"]
    lo, hi = start + lo_rel, start + hi_rel
    counts = np.empty((len(start), recording.n_cells))
    for cell, times in enumerate(recording.spike_times):
        counts[:, cell] = np.searchsorted(times, hi) - np.searchsorted(times, lo)
    return counts / (hi_rel - lo_rel)[:, None]


def compute_baseline_rates(recording: Any) -> np.ndarray:
    """Spontaneous rate per cell from the grey screen.

    Uses the lead-in blank, the part of each inter-stimulus blank after the temporal
    kernels have settled (:attr:`v1lab.model.retina.Retina.kernel_s`), and any ``blank``
    presentations.
    """
    p = recording.presentations
    settle = recording.protocol.retina.kernel_s
    lo = np.concatenate([[0.0], p["stop_time"] + settle])
    hi = np.concatenate([p["start_time"], [recording.duration_s]])
    blank = np.asarray(p["stimulus"]) == "blank"
    if blank.any():
        lo = np.concatenate([lo, p["start_time"][blank] + settle])
        hi = np.concatenate([hi, p["stop_time"][blank]])
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    total = float((hi - lo).sum())
    if total <= 0:
        return np.full(recording.n_cells, np.nan)
    counts = np.array(
        [(np.searchsorted(t, hi) - np.searchsorted(t, lo)).sum() for t in recording.spike_times]
    )
    return counts / total


def compute_binned_counts(recording: Any, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts per presentation, time bin and cell, bins aligned on each onset.

    Returns
    -------
    counts : ndarray (n_presentations, n_bins, n_cells)
        Bins past a presentation's end hold 0 and are flagged in ``valid``.
    valid : ndarray of bool (n_presentations, n_bins)
    """
    p = recording.presentations
    start, stop = p["start_time"], p["stop_time"]
    n_bins = max(1, int(np.floor(np.max(stop - start) / bin_s + 1e-9)))
    edges = start[:, None] + bin_s * np.arange(n_bins + 1)[None, :]
    valid = edges[:, 1:] <= stop[:, None] + 1e-9
    counts = np.empty((len(start), n_bins, recording.n_cells), dtype=np.int64)
    for cell, times in enumerate(recording.spike_times):
        counts[:, :, cell] = np.diff(np.searchsorted(times, edges), axis=1)
    counts[~valid] = 0
    return counts, valid


def compute_peak_rates(recording: Any, *, bin_s: float = 0.1) -> np.ndarray:
    """Rate (spikes/s) of each presentation in the bin where its condition's PSTH peaks.

    For a swept slit the response is a burst while the slit crosses the receptive
    field, so the peak discharge rate (Henry, Bishop & Dreher 1974) measures it better
    than the rate averaged over the whole sweep. For every condition and cell the bin
    with the highest trial-averaged count is found, and each presentation contributes
    its own rate in that bin: the trial mean is the PSTH peak and the spread across
    trials gives its SEM.

    Returns
    -------
    ndarray (n_presentations, n_cells)
    """
    counts, valid = compute_binned_counts(recording, bin_s)
    cond = recording.presentations["stimulus_condition_id"]
    out = np.empty((len(cond), recording.n_cells))
    for c in np.unique(cond):
        rows = np.flatnonzero(cond == c)
        mean = counts[rows].mean(axis=0)  # (n_bins, n_cells)
        mean[~valid[rows[0]]] = -1.0
        best = np.argmax(mean, axis=0)
        out[rows] = counts[rows][:, best, np.arange(recording.n_cells)] / bin_s
    return out


def compute_presentation_responses(recording: Any, *, response: str = "auto") -> np.ndarray:
    """The response of every cell to every presentation (spikes/s), (n_presentations, n_cells).

    Parameters
    ----------
    recording : Recording
    response : {'auto', 'peak', 'mean'}
        ``'peak'``: the PSTH-peak rate (:func:`compute_peak_rates`); ``'mean'``: the mean
        rate over the presentation. ``'auto'`` measures each kind as the field does:
        the peak for swept or flashed bars, the mean rate from
        :data:`RESPONSE_LATENCY_S` after onset to as long after offset for flashed
        spots, annuli, diffuse flashes and images (the on-response; Hubel & Wiesel
        1959), and the mean rate over the presentation for gratings, noise and blanks.
    """
    check_choice("response", response, ("auto", "peak", "mean"))
    p = recording.presentations
    duration = p["stop_time"] - p["start_time"]
    if response == "peak":
        return compute_peak_rates(recording)
    if response == "mean":
        return _window_rates(recording, np.zeros_like(duration), duration)
    kinds = np.asarray(p["stimulus"])
    flashed = np.isin(kinds, _FLASHED)
    lo = np.where(flashed, RESPONSE_LATENCY_S, 0.0)
    out = _window_rates(recording, lo, duration + lo)
    bars = kinds == "bar"
    if bars.any():
        out[bars] = compute_peak_rates(recording)[bars]
    return out


def compute_tuning(
    values: np.ndarray, responses: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and SEM of ``responses`` (n_presentations, n_cells) for each unique value.

    Returns
    -------
    unique : ndarray (n_values,)
    mean, sem : ndarray (n_values, n_cells)

    Examples
    --------
    >>> u, m, s = compute_tuning(np.array([0, 0, 90, 90]), np.array([[1.0], [3.0], [5.0], [5.0]]))
    >>> u.tolist(), m[:, 0].tolist(), s[:, 0].tolist()
    ([0, 90], [2.0, 5.0], [1.0, 0.0])
    """
    values = np.asarray(values)
    responses = np.asarray(responses, dtype=float)
    if responses.ndim == 1:
        responses = responses[:, None]
    if len(values) != len(responses):
        raise ParameterError(
            "values", len(values), f"expected one value per response row ({len(responses)})"
        )
    unique, inverse = np.unique(values, return_inverse=True)
    n = np.bincount(inverse, minlength=len(unique)).astype(float)
    mean = np.zeros((len(unique), responses.shape[1]))
    sq = np.zeros_like(mean)
    np.add.at(mean, inverse, responses)
    np.add.at(sq, inverse, responses**2)
    mean /= n[:, None]
    var = np.maximum(sq / n[:, None] - mean**2, 0.0) * (n / np.maximum(n - 1, 1))[:, None]
    sem = np.sqrt(var / n[:, None])
    return unique, mean, sem
