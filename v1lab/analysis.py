"""Analyses: responses, tuning curves and selectivity indices, as pure functions.

Names follow the field (AllenSDK / pynapple): ``osi``, ``dsi``, ``g_osi``, ``g_dsi``,
``stimulus_condition_id``. Angles are in degrees; a moving bar's orientation is its
direction − 90° (DESIGN.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError

__all__ = [
    "compute_baseline_rates",
    "compute_binned_counts",
    "compute_direction_tuning",
    "compute_dsi",
    "compute_global_dsi",
    "compute_global_osi",
    "compute_metrics",
    "compute_osi",
    "compute_peak_rates",
    "compute_preferred_direction_deg",
    "compute_preferred_orientation_deg",
    "compute_response_rates",
    "compute_tuning",
]


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


def compute_baseline_rates(recording: Any) -> np.ndarray:
    """Spontaneous rate per cell from the grey-screen periods.

    Uses the lead-in blank and the part of each inter-stimulus blank after the
    temporal kernels have settled (:attr:`v1lab.retina.Retina.kernel_s`).
    """
    p = recording.presentations
    settle = recording.protocol.retina.kernel_s
    lo = np.concatenate([[0.0], p["stop_time"] + settle])
    hi = np.concatenate([p["start_time"], [recording.duration_s]])
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    total = float((hi - lo).sum())
    if total <= 0:
        return np.full(recording.n_cells, np.nan)
    counts = np.array(
        [(np.searchsorted(t, hi) - np.searchsorted(t, lo)).sum() for t in recording.spike_times]
    )
    return counts / total


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


def _nearest(angles_deg: np.ndarray, target_deg: np.ndarray, period: float) -> np.ndarray:
    d = np.abs((angles_deg[:, None] - target_deg[None, :] + period / 2) % period - period / 2)
    return np.argmin(d, axis=0)


def compute_osi(angles_deg: np.ndarray, tuning: np.ndarray, *, period: float = 360.0) -> np.ndarray:
    """Orientation selectivity index (R_pref − R_orth) / (R_pref + R_orth), per cell.

    As AllenSDK defines it for direction tuning: R_orth is the mean response at the
    preferred direction ± 90°. With ``period=180`` (orientation tuning) R_orth is the
    response at pref + 90°.

    Examples
    --------
    >>> a = np.arange(0, 360, 45.0)
    >>> float(compute_osi(a, np.where(a % 180 == 0, 10.0, 0.0))[0])
    1.0
    """
    angles = np.asarray(angles_deg, dtype=float)
    t = np.asarray(tuning, dtype=float).reshape(len(angles), -1)
    pref = np.argmax(t, axis=0)
    cols = np.arange(t.shape[1])
    r_pref = t[pref, cols]
    r_orth = 0.5 * (
        t[_nearest(angles, angles[pref] + 90.0, period), cols]
        + t[_nearest(angles, angles[pref] - 90.0, period), cols]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_pref - r_orth) / (r_pref + r_orth)


def compute_dsi(directions_deg: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    """Direction selectivity index (R_pref − R_null) / (R_pref + R_null), per cell."""
    angles = np.asarray(directions_deg, dtype=float)
    t = np.asarray(tuning, dtype=float).reshape(len(angles), -1)
    pref = np.argmax(t, axis=0)
    cols = np.arange(t.shape[1])
    r_pref = t[pref, cols]
    r_null = t[_nearest(angles, angles[pref] + 180.0, 360.0), cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_pref - r_null) / (r_pref + r_null)


def _vector_sum(angles_rad: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    t = np.asarray(tuning, dtype=float).reshape(len(angles_rad), -1)
    return (t * np.exp(1j * angles_rad)[:, None]).sum(axis=0), t.sum(axis=0)


def compute_global_osi(orientations_deg: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    """Global OSI, 1 − circular variance on doubled angles (Ringach et al. 2002).

    Examples
    --------
    >>> a = np.arange(0, 180, 15.0)
    >>> flat, sharp = np.ones(12), (a == 30).astype(float)
    >>> round(float(compute_global_osi(a, flat)[0]), 12), float(compute_global_osi(a, sharp)[0])
    (0.0, 1.0)
    """
    s, total = _vector_sum(np.deg2rad(2 * np.asarray(orientations_deg, float)), tuning)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(s) / total


def compute_global_dsi(directions_deg: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    """Global DSI: the normalised vector sum of the direction tuning."""
    s, total = _vector_sum(np.deg2rad(np.asarray(directions_deg, float)), tuning)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(s) / total


def compute_preferred_orientation_deg(
    orientations_deg: np.ndarray, tuning: np.ndarray
) -> np.ndarray:
    """Preferred orientation in [0, 180): the angle of the doubled-angle vector sum."""
    s, _ = _vector_sum(np.deg2rad(2 * np.asarray(orientations_deg, float)), tuning)
    return np.mod(np.rad2deg(np.angle(s)) / 2, 180.0)


def compute_preferred_direction_deg(directions_deg: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    """Preferred direction in [0, 360): the angle of the vector sum."""
    s, _ = _vector_sum(np.deg2rad(np.asarray(directions_deg, float)), tuning)
    return np.mod(np.rad2deg(np.angle(s)), 360.0)


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


def compute_direction_tuning(
    recording: Any, *, response: str = "peak"
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Direction tuning over the moving presentations (rates in spikes/s), or None.

    Parameters
    ----------
    recording : Recording
    response : {'peak', 'mean'}
        ``'peak'``: the PSTH-peak rate (:func:`compute_peak_rates`); ``'mean'``: the
        rate over the whole presentation.

    Returns
    -------
    (directions_deg, mean, sem), mean and SEM shaped (n_directions, n_cells).
    """
    p = recording.presentations
    direction = p.get("direction_deg")
    if direction is None:
        return None
    moving = np.isfinite(direction)
    if len(np.unique(direction[moving])) < 3:
        return None
    rates = (
        compute_peak_rates(recording) if response == "peak" else compute_response_rates(recording)
    )
    return compute_tuning(direction[moving], rates[moving])


def compute_metrics(recording: Any) -> dict[str, np.ndarray]:
    """Per-cell metrics beside each cell's ground truth (one row per cell).

    Columns: ``cell_id``, the ground-truth columns of the NWB units table,
    ``spontaneous_rate_hz`` (measured in the blanks) and, when the protocol moves
    stimuli in several directions, ``peak_rate_hz``, ``preferred_direction_measured_deg``,
    ``preferred_orientation_measured_deg``, ``osi``, ``dsi``, ``g_osi``, ``g_dsi``, all
    from the PSTH-peak responses (:func:`compute_peak_rates`).
    """
    out: dict[str, np.ndarray] = {"cell_id": np.arange(recording.n_cells)}
    out.update(recording.population.to_columns())
    out["spontaneous_rate_hz"] = compute_baseline_rates(recording)
    tuning = compute_direction_tuning(recording)
    if tuning is not None:
        directions, mean, _ = tuning
        orientations = np.mod(directions - 90.0, 180.0)
        out["peak_rate_hz"] = mean.max(axis=0)
        out["preferred_direction_measured_deg"] = directions[np.argmax(mean, axis=0)].astype(float)
        out["preferred_orientation_measured_deg"] = compute_preferred_orientation_deg(
            orientations, mean
        )
        out["osi"] = compute_osi(directions, mean)
        out["dsi"] = compute_dsi(directions, mean)
        out["g_osi"] = compute_global_osi(orientations, mean)
        out["g_dsi"] = compute_global_dsi(directions, mean)
    return out
