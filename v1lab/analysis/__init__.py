"""Analyses: responses, tuning curves, fits and receptive-field maps, as pure functions.

Everything here takes a :class:`~v1lab.experiment.Recording` or plain arrays and returns
arrays or small frozen result objects; nothing draws or writes. Names follow the field
(AllenSDK / pynapple): ``osi``, ``dsi``, ``g_osi``, ``g_dsi``, ``stimulus_condition_id``.
Angles are in degrees; a moving stimulus's orientation is its direction − 90°
(DESIGN.md).

What is measured, and after whom
--------------------------------
Responses
    Spike counts in a window per presentation (:func:`compute_presentation_responses`):
    the PSTH-peak rate for swept bars (Henry, Bishop & Dreher 1974), the mean rate for
    gratings and noise, and the rate in a latency-shifted window for flashed spots.
    Spontaneous rate from the grey screen (:func:`compute_baseline_rates`).
Tuning
    Mean ± SEM per condition; in a factorial design the tuning along one parameter is
    read through each cell's own preferred condition (:func:`compute_factorial_tuning`).
    OSI and DSI as AllenSDK defines them; global OSI/DSI = 1 − circular variance
    (Ringach, Shapley & Hawken 2002). Von Mises fits — on 2θ for orientation, a double
    von Mises for direction (Swindale 1998) — give the preferred angle, the half-width
    at half-height (HWHH) and Ringach et al.'s (2002) bandwidth (half-width at 1/√2).
Temporal
    PSTH, raster, Fano factor (Tolhurst, Movshon & Dean 1983) and the F1/F0 modulation
    ratio of grating responses (Skottun et al. 1991).
Contrast and length
    Naka–Rushton fit of the contrast response (Albrecht & Hamilton 1982); the length
    suppression index SI = 1 − R_longest / R_peak (DeAngelis, Freeman & Ohzawa 1994).
Receptive fields
    ON and OFF spot maps (Hubel & Wiesel 1959) with their correlation and overlap index
    (Schiller, Finlay & Volman 1976; Mata & Ringach 2005); the spike-triggered average of
    sparse noise (Jones & Palmer 1987; Chichilnisky 2001) and its 2-D Gabor fit, with
    ``nx``, ``ny`` as Ringach (2002) defines them.
Orientation maps
    See :mod:`v1lab.model.maps` (preference, selectivity, pinwheels); :func:`compute_metrics`
    adds each cell's sheet position.

References
----------
Albrecht DG, Hamilton DB (1982) Striate cortex of monkey and cat: contrast response
function. J Neurophysiol 48:217-237.
Chichilnisky EJ (2001) A simple white noise analysis of neuronal light responses.
Network 12:199-213.
DeAngelis GC, Freeman RD, Ohzawa I (1994) Length and width tuning of neurons in the
cat's primary visual cortex. J Neurophysiol 71:347-374.
Henry GH, Bishop PO, Dreher B (1974) Orientation, axis and direction as stimulus
parameters for striate cells. Vision Res 14:767-777.
Hubel DH, Wiesel TN (1959) Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574-591.
Jones JP, Palmer LA (1987) An evaluation of the two-dimensional Gabor filter model of
simple receptive fields in cat striate cortex. J Neurophysiol 58:1233-1258.
Mata ML, Ringach DL (2005) Spatial overlap of ON and OFF subregions and its relation to
response modulation ratio in macaque primary visual cortex. J Neurophysiol 93:919-928.
Ringach DL (2002) Spatial structure and symmetry of simple-cell receptive fields in
macaque primary visual cortex. J Neurophysiol 88:455-463.
Ringach DL, Shapley RM, Hawken MJ (2002) Orientation selectivity in macaque V1:
diversity and laminar dependence. J Neurosci 22:5639-5651.
Schiller PH, Finlay BL, Volman SF (1976) Quantitative studies of single-cell properties
in monkey striate cortex. I. Spatiotemporal organization of receptive fields.
J Neurophysiol 39:1288-1319.
Skottun BC, De Valois RL, Grosof DH, Movshon JA, Albrecht DG, Bonds AB (1991)
Classifying simple and complex cells on the basis of response modulation. Vision Res
31:1079-1086.
Swindale NV (1998) Orientation tuning curves: empirical description and estimation of
parameters. Biol Cybern 78:45-56.
Tolhurst DJ, Movshon JA, Dean AF (1983) The statistical reliability of signals in single
neurons in cat and monkey visual cortex. Vision Res 23:775-785.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_number
from v1lab.model.cortex import gabor

__all__ = [
    "MAX_FIT_CELLS",
    "RESPONSE_LATENCY_S",
    "Design",
    "GaborFit",
    "NakaRushtonFit",
    "SpikeTriggeredAverage",
    "SpotMaps",
    "VonMisesFit",
    "compute_baseline_rates",
    "compute_binned_counts",
    "compute_condition_f1_f0",
    "compute_condition_responses",
    "compute_condition_table",
    "compute_demo_conditions",
    "compute_design",
    "compute_direction_tuning",
    "compute_dsi",
    "compute_f1_f0",
    "compute_factorial_tuning",
    "compute_fano_factor",
    "compute_gabor_fit",
    "compute_global_dsi",
    "compute_global_osi",
    "compute_metrics",
    "compute_naka_rushton_fit",
    "compute_on_off_correlation",
    "compute_orientation_tuning",
    "compute_osi",
    "compute_overlap_index",
    "compute_peak_rates",
    "compute_preferred_direction_deg",
    "compute_preferred_orientation_deg",
    "compute_presentation_responses",
    "compute_psth",
    "compute_raster",
    "compute_response_rates",
    "compute_spot_maps",
    "compute_sta",
    "compute_suppression_index",
    "compute_tuning",
    "compute_von_mises_fit",
    "compute_width_limit_deg",
    "make_gabor",
    "make_naka_rushton",
    "make_von_mises",
]

#: Delay from a flash to the cortical response (s): the LGN kernel peaks ~33 ms after an
#: impulse (v1lab.model.retina), so flashed-stimulus windows start and end this much later.
RESPONSE_LATENCY_S = 0.03
#: Above this many cells, per-cell curve fits (von Mises, Naka–Rushton) are skipped and
#: their columns hold NaN: a 10,000-cell map is analysed with the vector-sum measures.
MAX_FIT_CELLS = 256
# Stimulus kinds flashed in place: their response window is shifted by the latency.
_FLASHED = ("spot", "annulus", "full_field", "image")


# ======================================================================================
# Responses per presentation
# ======================================================================================


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


# ======================================================================================
# Conditions and the protocol's design
# ======================================================================================


def compute_condition_table(recording: Any) -> dict[str, np.ndarray]:
    """One row per condition: ``stimulus_condition_id``, ``stimulus``, ``duration_s`` and
    every stimulus parameter (NaN where it does not apply).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from v1lab.model.stimulus import Bar, FullField
    >>> rec = SimpleNamespace(conditions=[Bar(direction_deg=0, speed_deg_s=1), FullField()])
    >>> t = compute_condition_table(rec)
    >>> t["stimulus"].tolist(), t["direction_deg"].tolist()
    (['bar', 'full_field'], [0.0, nan])
    """
    conditions = recording.conditions
    params = [c.trial_params() for c in conditions]
    names = sorted({k for p in params for k in p})
    table: dict[str, np.ndarray] = {
        "stimulus_condition_id": np.arange(len(conditions)),
        "stimulus": np.array([c.kind for c in conditions], dtype=str),
        "duration_s": np.array([c.duration_s for c in conditions], dtype=float),
    }
    for name in names:
        table[name] = np.array([p.get(name, np.nan) for p in params], dtype=float)
    return table


def compute_condition_responses(
    recording: Any, *, response: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SEM response (spikes/s) per condition, each (n_conditions, n_cells).

    Conditions that were never presented hold NaN. See
    :func:`compute_presentation_responses` for ``response``.
    """
    rates = compute_presentation_responses(recording, response=response)
    n_cond = len(recording.conditions)
    ids, mean, sem = compute_tuning(recording.presentations["stimulus_condition_id"], rates)
    full_mean = np.full((n_cond, recording.n_cells), np.nan)
    full_sem = np.full_like(full_mean, np.nan)
    full_mean[ids] = mean
    full_sem[ids] = sem
    return full_mean, full_sem


@dataclass(frozen=True)
class Design:
    """Which classic measurements a protocol's conditions support.

    Attributes
    ----------
    direction_kind : str or None
        ``'bar'`` or ``'grating'`` when moving stimuli of that kind come in at least
        three directions (bars take precedence).
    gratings : bool
        Drifting or reversing gratings (temporal frequency > 0): F1/F0 applies.
    spatial_frequencies, temporal_frequencies, contrasts, lengths : tuple of float
        Values of each parameter among the direction-kind conditions (lengths: bars);
        tuning along it is measured when there are at least three.
    spot_map : bool
        Spots flashed on a grid of at least 2 × 2 positions.
    diffuse : bool
        Diffuse (full-field) flashes.
    sparse_noise : bool
        Sparse-noise presentations (reverse correlation).
    sheet : bool
        The population is an orientation-map sheet.
    """

    direction_kind: str | None = None
    gratings: bool = False
    spatial_frequencies: tuple[float, ...] = ()
    temporal_frequencies: tuple[float, ...] = ()
    contrasts: tuple[float, ...] = ()
    lengths: tuple[float, ...] = ()
    spot_map: bool = False
    diffuse: bool = False
    sparse_noise: bool = False
    sheet: bool = False

    @property
    def sf_tuning(self) -> bool:
        return len(self.spatial_frequencies) >= 3

    @property
    def tf_tuning(self) -> bool:
        return len(self.temporal_frequencies) >= 3

    @property
    def contrast_series(self) -> bool:
        return len(self.contrasts) >= 3

    @property
    def length_tuning(self) -> bool:
        return len(self.lengths) >= 3


def _values(table: Mapping[str, np.ndarray], name: str, rows: np.ndarray) -> tuple[float, ...]:
    if name not in table:
        return ()
    v = table[name][rows]
    return tuple(float(x) for x in np.unique(v[np.isfinite(v)]))


def compute_design(recording: Any) -> Design:
    """Read which measurements apply from the protocol's conditions (see :class:`Design`)."""
    table = compute_condition_table(recording)
    kinds = table["stimulus"]
    direction_kind = None
    for kind in ("bar", "grating"):
        rows = kinds == kind
        if len(_values(table, "direction_deg", rows)) >= 3:
            direction_kind = kind
            break
    moving = np.isin(kinds, ("bar", "grating"))
    rows = kinds == direction_kind if direction_kind else moving
    tf = np.nan_to_num(table.get("temporal_frequency_hz", np.zeros(len(kinds))))
    gratings = bool(np.any((kinds == "grating") & (tf > 0)))
    spots = kinds == "spot"
    return Design(
        direction_kind=direction_kind,
        gratings=gratings,
        spatial_frequencies=_values(table, "spatial_frequency_cpd", rows & (kinds == "grating")),
        temporal_frequencies=_values(table, "temporal_frequency_hz", rows & (kinds == "grating")),
        contrasts=_values(table, "contrast", rows),
        lengths=_values(table, "length_deg", kinds == "bar"),
        spot_map=bool(
            len(_values(table, "x_deg", spots)) >= 2 and len(_values(table, "y_deg", spots)) >= 2
        ),
        diffuse=bool(np.any(kinds == "full_field")),
        sparse_noise=bool(np.any(kinds == "sparse_noise")),
        sheet=getattr(recording.protocol.population, "layout", "scatter") == "orientation_map",
    )


# Parameters fixed by another one: along direction, orientation moves with it.
_COUPLED = {"direction_deg": ("orientation_deg",), "orientation_deg": ("direction_deg",)}


def _same(column: np.ndarray, value: Any) -> np.ndarray:
    if column.dtype.kind in "fc" and isinstance(value, float | np.floating) and math.isnan(value):
        return np.isnan(column)
    return column == value


def compute_factorial_tuning(
    table: Mapping[str, np.ndarray],
    mean: np.ndarray,
    sem: np.ndarray,
    along: str,
    *,
    rows: np.ndarray | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tuning along one parameter, through each cell's own preferred condition.

    In a factorial design (direction × spatial frequency × …) the tuning for one
    parameter is read at the best values of all the others: for each cell the
    condition with the largest mean response is found (among ``rows``, with the
    ``fixed`` parameters), and the conditions that differ from it only in ``along``
    give the curve. Along direction, orientation moves with it.

    Parameters
    ----------
    table : mapping
        :func:`compute_condition_table`.
    mean, sem : ndarray (n_conditions, n_cells)
        :func:`compute_condition_responses`.
    along : str
        The parameter to vary (a column of ``table``).
    rows : ndarray of bool (n_conditions,), optional
        Conditions to consider (e.g. one stimulus kind).
    fixed : mapping, optional
        Parameters held at given values (e.g. ``{"contrast": 0.1}``).

    Returns
    -------
    values : ndarray (n_values,)
    mean, sem : ndarray (n_values, n_cells)
        NaN where a combination was not in the design.

    Examples
    --------
    >>> table = {"stimulus_condition_id": np.arange(4), "direction_deg": np.array([0., 90, 0, 90]),
    ...          "contrast": np.array([0.1, 0.1, 1.0, 1.0])}
    >>> mean = np.array([[1.0], [2.0], [5.0], [9.0]])
    >>> v, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg")
    >>> v.tolist(), m[:, 0].tolist()
    ([0.0, 90.0], [5.0, 9.0])
    >>> compute_factorial_tuning(table, mean, mean, "contrast")[1][:, 0].tolist()
    [2.0, 9.0]
    """
    if along not in table:
        raise ParameterError("along", along, f"expected one of {', '.join(sorted(table))}")
    mean = np.asarray(mean, dtype=float)
    sem = np.asarray(sem, dtype=float)
    n_cond = len(table[along])
    keep = np.ones(n_cond, bool) if rows is None else np.asarray(rows, bool).copy()
    for name, value in (fixed or {}).items():
        keep &= _same(np.asarray(table[name]), value)
    axis = np.asarray(table[along], dtype=float)
    keep &= np.isfinite(axis)
    values = np.unique(axis[keep])
    n_cells = mean.shape[1]
    out_mean = np.full((len(values), n_cells), np.nan)
    out_sem = np.full_like(out_mean, np.nan)
    if not keep.any():
        return values, out_mean, out_sem
    skip = {along, "stimulus_condition_id", *_COUPLED.get(along, ())}
    varying = [
        k
        for k, col in table.items()
        if k not in skip and len({repr(v) for v in np.asarray(col)[keep]}) > 1
    ]
    scores = np.where(keep[:, None] & np.isfinite(mean), mean, -np.inf)
    best = np.argmax(scores, axis=0)
    for b in np.unique(best):
        cells = np.flatnonzero(best == b)
        match = keep.copy()
        for k in varying:
            match &= _same(np.asarray(table[k]), np.asarray(table[k])[b])
        idx = np.flatnonzero(match)
        pos = np.searchsorted(values, axis[idx])
        out_mean[np.ix_(pos, cells)] = mean[np.ix_(idx, cells)]
        out_sem[np.ix_(pos, cells)] = sem[np.ix_(idx, cells)]
    return values, out_mean, out_sem


def compute_direction_tuning(
    recording: Any, *, response: str = "peak"
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Direction tuning pooled over all moving presentations (rates in spikes/s), or None.

    Parameters
    ----------
    recording : Recording
    response : {'peak', 'mean'}
        ``'peak'``: the PSTH-peak rate (:func:`compute_peak_rates`); ``'mean'``: the
        rate over the whole presentation.

    Returns
    -------
    (directions_deg, mean, sem), mean and SEM shaped (n_directions, n_cells).

    See Also
    --------
    compute_factorial_tuning : the tuning through each cell's preferred condition, which
        :func:`compute_metrics` uses when other parameters vary too.
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


def compute_orientation_tuning(
    directions_deg: np.ndarray, tuning: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fold direction tuning onto orientation (orientation = direction − 90°, mod 180).

    Each orientation's response is the mean over the directions that share it.

    Returns
    -------
    orientations_deg : ndarray (n_orientations,)
    mean : ndarray (n_orientations, n_cells)

    Examples
    --------
    >>> o, m = compute_orientation_tuning(np.array([0.0, 90, 180, 270]), np.array([4.0, 1, 2, 1]))
    >>> o.tolist(), m[:, 0].tolist()
    ([0.0, 90.0], [1.0, 3.0])
    """
    orientations = np.mod(np.round(np.asarray(directions_deg, float) - 90.0, 9), 180.0)
    t = np.asarray(tuning, dtype=float).reshape(len(orientations), -1)
    unique, inverse = np.unique(orientations, return_inverse=True)
    total = np.zeros((len(unique), t.shape[1]))
    count = np.zeros_like(total)
    ok = np.isfinite(t)
    np.add.at(total, inverse, np.where(ok, t, 0.0))
    np.add.at(count, inverse, ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return unique, total / count


# ======================================================================================
# Selectivity indices
# ======================================================================================


def _nearest(angles_deg: np.ndarray, target_deg: np.ndarray, period: float) -> np.ndarray:
    d = np.abs((angles_deg[:, None] - target_deg[None, :] + period / 2) % period - period / 2)
    return np.argmin(d, axis=0)


def _nan_argmax(t: np.ndarray) -> np.ndarray:
    return np.argmax(np.where(np.isfinite(t), t, -np.inf), axis=0)


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
    pref = _nan_argmax(t)
    cols = np.arange(t.shape[1])
    r_pref = t[pref, cols]
    r_orth = 0.5 * (
        t[_nearest(angles, angles[pref] + 90.0, period), cols]
        + t[_nearest(angles, angles[pref] - 90.0, period), cols]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_pref - r_orth) / (r_pref + r_orth)


def compute_dsi(directions_deg: np.ndarray, tuning: np.ndarray) -> np.ndarray:
    """Direction selectivity index (R_pref − R_null) / (R_pref + R_null), per cell.

    Examples
    --------
    >>> float(compute_dsi(np.array([0.0, 90, 180, 270]), np.array([9.0, 3, 1, 3]))[0])
    0.8
    """
    angles = np.asarray(directions_deg, dtype=float)
    t = np.asarray(tuning, dtype=float).reshape(len(angles), -1)
    pref = _nan_argmax(t)
    cols = np.arange(t.shape[1])
    r_pref = t[pref, cols]
    r_null = t[_nearest(angles, angles[pref] + 180.0, 360.0), cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_pref - r_null) / (r_pref + r_null)


def _vector_sum(angles_rad: np.ndarray, tuning: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(tuning, dtype=float).reshape(len(angles_rad), -1)
    t = np.where(np.isfinite(t), t, 0.0)
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


# ======================================================================================
# Von Mises fits
# ======================================================================================


def make_von_mises(
    angles_deg: Any,
    *,
    preferred_deg: float,
    kappa: float,
    amplitude: float,
    baseline: float = 0.0,
    amplitude_null: float = 0.0,
    period: float = 180.0,
) -> np.ndarray:
    """A von Mises tuning curve.

    ``period = 180`` (orientation): ``b + A·exp(κ(cos 2(θ − μ) − 1))``, a von Mises on
    2θ. ``period = 360`` (direction): the double von Mises of Swindale (1998),
    ``b + A·exp(κ(cos(θ − μ) − 1)) + A_null·exp(κ(cos(θ − μ − 180°) − 1))``. The peak
    height above baseline is ``A`` (``A_null`` 180° away).

    Examples
    --------
    >>> make_von_mises([0.0, 90.0], preferred_deg=0, kappa=1.0, amplitude=2.0).round(4).tolist()
    [2.0, 0.2707]
    """
    theta = np.deg2rad(np.asarray(angles_deg, dtype=float) - preferred_deg) * (360.0 / period)
    curve = baseline + amplitude * np.exp(kappa * (np.cos(theta) - 1.0))
    if period == 360.0 and amplitude_null:
        curve = curve + amplitude_null * np.exp(kappa * (np.cos(theta - np.pi) - 1.0))
    return curve


def _half_width(kappa: float, level: float, period: float) -> float:
    # exp(κ(cos(s h) − 1)) = level  ⇒  cos(s h) = 1 + ln(level)/κ, with s = 360 / period.
    if not (kappa > 0 and math.isfinite(kappa)):
        return math.nan
    c = 1.0 + math.log(level) / kappa
    if c <= -1.0:
        return period / 2.0
    return math.degrees(math.acos(c)) * period / 360.0


@dataclass(frozen=True)
class VonMisesFit:
    """A fitted von Mises tuning curve (:func:`compute_von_mises_fit`).

    Attributes
    ----------
    preferred_deg : float
        Peak of the curve: orientation in [0, 180) or direction in [0, 360).
    kappa, amplitude, baseline, amplitude_null : float
        Parameters of :func:`make_von_mises` (``amplitude_null`` NaN for orientation).
    period : float
        180 (orientation) or 360 (direction).
    r2 : float
        Fraction of the variance of the responses that the curve explains.
    """

    preferred_deg: float
    kappa: float
    amplitude: float
    baseline: float
    amplitude_null: float
    period: float
    r2: float

    @property
    def hwhh_deg(self) -> float:
        """Half-width at half-height of the preferred peak above baseline (deg)."""
        return _half_width(self.kappa, 0.5, self.period) if self.amplitude > 0 else math.nan

    @property
    def bandwidth_deg(self) -> float:
        """Ringach et al.'s (2002) bandwidth: the half-width at 1/√2 of the peak (deg)."""
        return (
            _half_width(self.kappa, 1 / math.sqrt(2), self.period)
            if self.amplitude > 0
            else math.nan
        )

    def __call__(self, angles_deg: Any) -> np.ndarray:
        return make_von_mises(
            angles_deg,
            preferred_deg=self.preferred_deg,
            kappa=self.kappa,
            amplitude=self.amplitude,
            baseline=self.baseline,
            amplitude_null=0.0 if math.isnan(self.amplitude_null) else self.amplitude_null,
            period=self.period,
        )


def _nan_von_mises(period: float) -> VonMisesFit:
    nan = math.nan
    return VonMisesFit(nan, nan, nan, nan, nan, period, nan)


def compute_von_mises_fit(angles_deg: Any, responses: Any, *, period: float = 180.0) -> VonMisesFit:
    """Fit a von Mises tuning curve by least squares.

    Parameters
    ----------
    angles_deg, responses : array_like (n,)
        One response per angle (e.g. a tuning curve's means); NaN entries are ignored.
    period : {180, 360}
        180: orientation, a von Mises on 2θ; 360: direction, a double von Mises whose
        two peaks 180° apart share a width (Swindale 1998).

    Returns
    -------
    VonMisesFit
        All NaN when fewer than four responses are finite or they are all equal.

    Notes
    -----
    The peak height is bounded by twice the range of the responses: a curve narrower
    than the angular sampling is otherwise undetermined between two samples. Widths well
    below the sampling step are therefore not resolved.

    Examples
    --------
    >>> a = np.arange(0, 180, 15.0)
    >>> r = make_von_mises(a, preferred_deg=40, kappa=2.0, amplitude=30, baseline=3)
    >>> fit = compute_von_mises_fit(a, r)
    >>> round(fit.preferred_deg, 3), round(fit.kappa, 3), round(fit.hwhh_deg, 2)
    (40.0, 2.0, 24.6)
    """
    from scipy.optimize import least_squares

    if period not in (180.0, 360.0):
        raise ParameterError("period", period, "expected 180 (orientation) or 360 (direction)")
    a = np.asarray(angles_deg, dtype=float).ravel()
    r = np.asarray(responses, dtype=float).ravel()
    ok = np.isfinite(a) & np.isfinite(r)
    a, r = a[ok], r[ok]
    if len(a) < 4 or np.ptp(r) <= 0:
        return _nan_von_mises(period)
    scale = 360.0 / period
    rad = np.deg2rad(a) * scale
    double = period == 360.0

    def shapes(mu: float, kappa: float) -> np.ndarray:
        cols = [np.ones_like(rad), np.exp(kappa * (np.cos(rad - mu) - 1.0))]
        if double:
            cols.append(np.exp(kappa * (np.cos(rad - mu - np.pi) - 1.0)))
        return np.column_stack(cols)

    # Start from the vector-sum angle and the best of a few widths, with the linear
    # parameters (baseline, amplitudes) solved exactly for each.
    positive = r - r.min()
    mu0 = float(np.angle(np.sum(positive * np.exp(1j * rad))))
    starts = []
    for mu in (mu0, float(rad[np.argmax(r)])):
        for kappa in (0.3, 1.0, 2.0, 4.0, 8.0, 16.0):
            coef, *_ = np.linalg.lstsq(shapes(mu, kappa), r, rcond=None)
            coef[1:] = np.maximum(coef[1:], 0.0)
            sse = float(np.sum((shapes(mu, kappa) @ coef - r) ** 2))
            starts.append((sse, mu, kappa, coef))
    _, mu, kappa, coef = min(starts, key=lambda s: s[0])

    def residuals(x: np.ndarray) -> np.ndarray:
        return shapes(x[0], x[1]) @ x[2:] - r

    x0 = np.array([mu, kappa, *coef])
    # A peak at most twice the measured range: with tuning narrower than the sampling
    # the fit could otherwise put an arbitrarily tall, thin peak between two samples.
    top = 2.0 * float(np.ptp(r))
    lo = [-np.inf, 1e-3, -np.inf, 0.0] + ([0.0] if double else [])
    hi = [np.inf, 200.0, np.inf, top] + ([top] if double else [])
    x0 = np.clip(x0, np.array(lo) + 1e-12 * np.isfinite(lo), hi)
    fit = least_squares(residuals, x0, bounds=(lo, hi), x_scale="jac")
    mu, kappa, baseline, amp = (float(v) for v in fit.x[:4])
    amp_null = float(fit.x[4]) if double else math.nan
    if double and amp_null > amp:
        mu, amp, amp_null = mu + np.pi, amp_null, amp
    total = float(np.sum((r - r.mean()) ** 2))
    r2 = 1.0 - float(np.sum(fit.fun**2)) / total
    preferred = float(np.mod(np.rad2deg(mu) / scale, period))
    return VonMisesFit(preferred, kappa, amp, baseline, amp_null, period, r2)


def compute_width_limit_deg(angles_deg: Any, *, period: float = 180.0) -> float:
    """The narrowest half-width a tuning curve sampled at these angles can measure (deg).

    Half the median step between the distinct angles around the circle. A von Mises
    peak whose HWHH is below it has at most one sample above half height, so the
    samples fix neither its height nor its width, and a fit may put a peak of almost
    any narrowness between two samples. Measured on noisy von Mises curves (noise SD
    5 % of the peak, 20 preferences each): sampled every 22.5°, a true HWHH of 8° was
    fitted anywhere from 4° to 21°; sampled every 15°, a true 12° from 11° to 14°.
    :func:`compute_metrics` reports widths below the limit as NaN, with the limit in
    ``hwhh_below_deg``. Widths above it can still be uncertain with coarse sampling.

    Examples
    --------
    >>> compute_width_limit_deg(np.arange(0, 180, 22.5))
    11.25
    >>> compute_width_limit_deg(np.arange(0, 360, 15.0), period=360.0)
    7.5
    """
    a = np.unique(np.mod(np.asarray(angles_deg, dtype=float).ravel(), period))
    a = a[np.isfinite(a)]
    if len(a) < 2:
        return math.nan
    gaps = np.diff(np.append(a, a[0] + period))
    return 0.5 * float(np.median(gaps))


def _resolved(width_deg: np.ndarray, limit_deg: float) -> np.ndarray:
    """Widths below the sampling's limit replaced by NaN."""
    width_deg = np.asarray(width_deg, dtype=float)
    return np.where(width_deg >= limit_deg, width_deg, np.nan)


# ======================================================================================
# Temporal structure: PSTH, raster, F1/F0, Fano factor
# ======================================================================================


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


# ======================================================================================
# Contrast response and length tuning
# ======================================================================================


def make_naka_rushton(
    contrast: Any, *, r_max: float, c50: float, n: float, baseline: float = 0.0
) -> np.ndarray:
    """The Naka–Rushton (hyperbolic ratio) function ``b + R_max c^n / (c^n + c50^n)``.

    Albrecht & Hamilton (1982) showed it describes V1 contrast responses.

    Examples
    --------
    >>> make_naka_rushton([0.0, 0.2, 1.0], r_max=40, c50=0.2, n=2).round(3).tolist()
    [0.0, 20.0, 38.462]
    """
    c = np.maximum(np.asarray(contrast, dtype=float), 0.0)
    cn = c**n
    return baseline + r_max * cn / (cn + c50**n)


@dataclass(frozen=True)
class NakaRushtonFit:
    """A fitted contrast-response function (:func:`compute_naka_rushton_fit`)."""

    r_max: float
    c50: float
    n: float
    baseline: float
    r2: float

    def __call__(self, contrast: Any) -> np.ndarray:
        return make_naka_rushton(
            contrast, r_max=self.r_max, c50=self.c50, n=self.n, baseline=self.baseline
        )


def compute_naka_rushton_fit(
    contrast: Any, response: Any, *, baseline: float | None = 0.0
) -> NakaRushtonFit:
    """Fit the Naka–Rushton function to a contrast-response curve by least squares.

    Parameters
    ----------
    contrast, response : array_like (n,)
        Contrasts (0–1, sign ignored) and responses (NaN ignored).
    baseline : float or None
        Fixed baseline (0 for responses with the spontaneous rate subtracted), or None
        to fit it.

    Returns
    -------
    NakaRushtonFit
        All NaN with fewer points than parameters or no response.

    Examples
    --------
    >>> c = np.array([0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
    >>> fit = compute_naka_rushton_fit(c, make_naka_rushton(c, r_max=50, c50=0.15, n=2.5))
    >>> round(fit.c50, 4), round(fit.n, 3), round(fit.r_max, 2)
    (0.15, 2.5, 50.0)
    """
    from scipy.optimize import least_squares

    c = np.abs(np.asarray(contrast, dtype=float).ravel())
    r = np.asarray(response, dtype=float).ravel()
    ok = np.isfinite(c) & np.isfinite(r)
    c, r = c[ok], r[ok]
    n_params = 3 if baseline is not None else 4
    nan = math.nan
    if len(c) < n_params or np.ptp(r) <= 0 or np.max(r) <= (baseline or 0.0):
        return NakaRushtonFit(nan, nan, nan, nan, nan)
    b0 = float(baseline) if baseline is not None else float(np.min(r))
    top = float(np.max(r) - b0)
    half = b0 + 0.5 * top
    order = np.argsort(c)
    above = np.flatnonzero(r[order] >= half)
    c50_0 = float(c[order][above[0]]) if len(above) else float(np.median(c))

    def model(x: np.ndarray) -> np.ndarray:
        b = baseline if baseline is not None else x[3]
        return make_naka_rushton(c, r_max=x[0], c50=x[1], n=x[2], baseline=b)

    x0 = [top * 1.1, max(c50_0, 0.01), 2.0] + ([] if baseline is not None else [b0])
    lo = [0.0, 1e-3, 0.3] + ([] if baseline is not None else [-np.inf])
    hi = [10.0 * top + 1e-9, 10.0, 10.0] + ([] if baseline is not None else [np.inf])
    x0 = np.clip(x0, lo, hi)
    fit = least_squares(lambda x: model(x) - r, x0, bounds=(lo, hi), x_scale="jac")
    total = float(np.sum((r - r.mean()) ** 2))
    r2 = 1.0 - float(np.sum(fit.fun**2)) / total
    b = float(baseline) if baseline is not None else float(fit.x[3])
    return NakaRushtonFit(float(fit.x[0]), float(fit.x[1]), float(fit.x[2]), b, r2)


def compute_suppression_index(lengths: Any, responses: Any, *, baseline: Any = 0.0) -> np.ndarray:
    """Length suppression index ``SI = 1 − (R_longest − b) / (R_peak − b)`` per cell.

    0 for a cell whose response rises and plateaus; near 1 for an end-stopped cell
    that the longest bar silences (DeAngelis, Freeman & Ohzawa 1994; Hubel & Wiesel
    1965's hypercomplex cells).

    Parameters
    ----------
    lengths : array_like (n_lengths,)
    responses : array_like (n_lengths, n_cells) or (n_lengths,)
    baseline : float or array_like (n_cells,)
        Spontaneous rate subtracted from both responses.

    Examples
    --------
    >>> L = np.array([0.5, 1.0, 2.0, 4.0])
    >>> compute_suppression_index(L, np.array([[5.0, 5.0], [20, 10], [10, 15], [4, 15]])).tolist()
    [0.8, 0.0]
    """
    L = np.asarray(lengths, dtype=float)
    r = np.asarray(responses, dtype=float).reshape(len(L), -1) - np.asarray(baseline, float)
    longest = r[np.argmax(np.where(np.isfinite(L), L, -np.inf))]
    peak = np.nanmax(np.where(np.isfinite(r), r, -np.inf), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, 1.0 - longest / peak, np.nan)


# ======================================================================================
# Receptive-field maps: spots, reverse correlation, Gabor fits
# ======================================================================================


@dataclass(frozen=True)
class SpotMaps:
    """ON and OFF responses to flashed spots on a grid (:func:`compute_spot_maps`).

    Attributes
    ----------
    x_deg : ndarray (n_x,)
        Spot centres, left to right.
    y_deg : ndarray (n_y,)
        Spot centres, top to bottom (row 0 = top, as in an image).
    on, off : ndarray (n_y, n_x, n_cells)
        Response above the spontaneous rate (spikes/s) to a light (ON) or dark (OFF)
        spot at each position (NaN where none was shown).
    on_sem, off_sem : ndarray (n_y, n_x, n_cells)
        Their standard errors across repeats.
    diffuse_on, diffuse_off : ndarray (n_cells,)
        The same for a diffuse light or dark flash (NaN if none).
    """

    x_deg: np.ndarray
    y_deg: np.ndarray
    on: np.ndarray
    off: np.ndarray
    on_sem: np.ndarray
    off_sem: np.ndarray
    diffuse_on: np.ndarray
    diffuse_off: np.ndarray

    def significant(self, z: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
        """ON and OFF maps with only the excitatory responses ``z`` SEM above spontaneous.

        Hubel & Wiesel marked a position + or − only where a spot clearly drove the
        cell; the rest of the map is set to 0 here, as the noise there would otherwise
        dominate measures such as the overlap index.
        """
        with np.errstate(invalid="ignore"):
            on = np.where(self.on > z * self.on_sem, self.on, 0.0)
            off = np.where(self.off > z * self.off_sem, self.off, 0.0)
        return on, off

    @property
    def peak_hz(self) -> np.ndarray:
        """Largest spot response of each cell (spikes/s above spontaneous)."""
        both = np.concatenate([self.on, self.off]).reshape(-1, self.on.shape[-1])
        return np.nanmax(np.where(np.isfinite(both), both, -np.inf), axis=0)

    @property
    def diffuse_ratio(self) -> np.ndarray:
        """Best diffuse response over best spot response (both above spontaneous).

        Near 0 for simple cells: diffuse light covers ON and OFF subregions alike and
        they cancel (Hubel & Wiesel 1959).
        """
        diffuse = np.fmax(self.diffuse_on, self.diffuse_off)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.peak_hz > 0, np.maximum(diffuse, 0.0) / self.peak_hz, np.nan)


def compute_spot_maps(recording: Any, *, baseline_hz: Any = None) -> SpotMaps | None:
    """ON and OFF maps of each cell from spots flashed on a grid, or None without them.

    The response is the rate from :data:`RESPONSE_LATENCY_S` after onset to as long
    after offset, minus the spontaneous rate, averaged over repeats (and over any other
    spot parameter). Light spots (contrast > 0) make the ON map, dark ones the OFF map.
    """
    table = compute_condition_table(recording)
    spots = table["stimulus"] == "spot"
    if not spots.any():
        return None
    mean, sem = compute_condition_responses(recording)
    base = compute_baseline_rates(recording) if baseline_hz is None else np.asarray(baseline_hz)
    mean = mean - base[None, :]
    xs = np.unique(table["x_deg"][spots])
    ys = np.unique(table["y_deg"][spots])[::-1]
    n = recording.n_cells
    maps = {}
    for name, sign in (("on", 1.0), ("off", -1.0)):
        total = np.zeros((len(ys), len(xs), n))
        var = np.zeros_like(total)
        count = np.zeros((len(ys), len(xs), 1))
        for c in np.flatnonzero(spots & (np.sign(table["contrast"]) == sign)):
            if not np.all(np.isfinite(mean[c])):
                continue
            i = int(np.flatnonzero(ys == table["y_deg"][c])[0])
            j = int(np.flatnonzero(xs == table["x_deg"][c])[0])
            total[i, j] += mean[c]
            var[i, j] += sem[c] ** 2
            count[i, j] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            maps[name] = np.where(count > 0, total / count, np.nan)
            maps[name + "_sem"] = np.where(count > 0, np.sqrt(var) / count, np.nan)
    diffuse = {}
    for name, sign in (("on", 1.0), ("off", -1.0)):
        rows = (table["stimulus"] == "full_field") & (np.sign(table.get("contrast", 0)) == sign)
        diffuse[name] = np.nanmean(mean[rows], axis=0) if rows.any() else np.full(n, np.nan)
    return SpotMaps(
        xs, ys, maps["on"], maps["off"], maps["on_sem"], maps["off_sem"], diffuse["on"],
        diffuse["off"],
    )  # fmt: skip


def compute_on_off_correlation(on: Any, off: Any) -> np.ndarray:
    """Pearson correlation of the ON and OFF maps of each cell, over positions.

    Negative for a simple cell (where light excites, dark does not: separate,
    antagonistic subregions); positive for a complex cell (both at the same places).

    Parameters
    ----------
    on, off : array_like (n_y, n_x, n_cells) or (n_y, n_x)

    Examples
    --------
    >>> on = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> [float(compute_on_off_correlation(on, off)[0]) for off in (1 - on, on)]
    [-1.0, 1.0]
    """
    a = np.asarray(on, dtype=float)
    b = np.asarray(off, dtype=float)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    a = a.reshape(-1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1])
    ok = np.isfinite(a) & np.isfinite(b)
    a = np.where(ok, a, 0.0)
    b = np.where(ok, b, 0.0)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        da = a - a.sum(axis=0) / n
        db = b - b.sum(axis=0) / n
        da, db = np.where(ok, da, 0.0), np.where(ok, db, 0.0)
        return (da * db).sum(axis=0) / np.sqrt((da**2).sum(axis=0) * (db**2).sum(axis=0))


def compute_overlap_index(on: Any, off: Any, x_deg: Any, y_deg: Any) -> np.ndarray:
    """Overlap index of the ON and OFF subregions, ``(w_on + w_off − d) / (w_on + w_off + d)``.

    The index of Schiller, Finlay & Volman (1976) as Mata & Ringach (2005) used it:
    ``d`` is the distance between the centres of the two subregions and ``w`` their
    half-widths along the line joining them. Here each subregion is the positive part
    of its map, its centre the response-weighted centroid and ``w`` the weighted SD
    along that line (no Gaussian fit). 1 = complete overlap (complex cells); values
    near or below 0 = side-by-side subregions (simple cells).

    Parameters
    ----------
    on, off : array_like (n_y, n_x, n_cells) or (n_y, n_x)
    x_deg : array_like (n_x,)
    y_deg : array_like (n_y,)

    Examples
    --------
    >>> x = np.arange(5.0)
    >>> on = np.zeros((1, 5)); on[0, 1] = 1; off = np.zeros((1, 5)); off[0, 3] = 1
    >>> float(compute_overlap_index(on, off, x, [0.0])[0])  # point-like, 2 apart
    -1.0
    """
    a = np.asarray(on, dtype=float)
    b = np.asarray(off, dtype=float)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    xx, yy = np.meshgrid(np.asarray(x_deg, float), np.asarray(y_deg, float))
    out = np.full(a.shape[-1], np.nan)
    for cell in range(a.shape[-1]):
        wa = np.clip(np.nan_to_num(a[..., cell]), 0.0, None)
        wb = np.clip(np.nan_to_num(b[..., cell]), 0.0, None)
        if wa.sum() <= 0 or wb.sum() <= 0:
            continue
        ca = np.array([np.sum(wa * xx), np.sum(wa * yy)]) / wa.sum()
        cb = np.array([np.sum(wb * xx), np.sum(wb * yy)]) / wb.sum()
        d = float(np.hypot(*(cb - ca)))
        if d < 1e-12:
            out[cell] = 1.0
            continue
        u = (cb - ca) / d

        def spread(w: np.ndarray, c: np.ndarray, u: np.ndarray = u) -> float:
            proj = (xx - c[0]) * u[0] + (yy - c[1]) * u[1]
            return float(np.sqrt(np.sum(w * proj**2) / w.sum()))

        w = spread(wa, ca) + spread(wb, cb)
        out[cell] = (w - d) / (w + d)
    return out


@dataclass(frozen=True)
class SpikeTriggeredAverage:
    """Spike-triggered average of sparse noise (:func:`compute_sta`).

    Attributes
    ----------
    lags_s : ndarray (n_lags,)
        Time from the stimulus to the spike (s); negative lags (stimulus after the
        spike) estimate the noise floor.
    x_deg : ndarray (grid,)
        Square centres, left to right.
    y_deg : ndarray (grid,)
        Square centres, top to bottom.
    sta : ndarray (n_lags, grid, grid, n_cells)
        Mean signed contrast preceding a spike by each lag (light − dark).
    n_spikes : ndarray (n_cells,)
        Spikes averaged.
    """

    lags_s: np.ndarray
    x_deg: np.ndarray
    y_deg: np.ndarray
    sta: np.ndarray
    n_spikes: np.ndarray

    @property
    def best_lag(self) -> np.ndarray:
        """Index of the lag with the largest spatial variance of the STA, per cell."""
        causal = self.lags_s >= 0
        power = np.var(self.sta, axis=(1, 2))
        power[~causal] = -np.inf
        return np.argmax(power, axis=0)

    @property
    def snr(self) -> np.ndarray:
        """Peak |STA| at the best lag over the SD of the STA at the most negative lag."""
        cells = np.arange(self.sta.shape[-1])
        best = self.sta[self.best_lag, :, :, cells]  # (n_cells, grid, grid)
        noise = np.std(self.sta[int(np.argmin(self.lags_s))], axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.abs(best).max(axis=(1, 2)) / noise

    def at_best_lag(self) -> np.ndarray:
        """The spatial STA of each cell at its best lag, (grid, grid, n_cells)."""
        cells = np.arange(self.sta.shape[-1])
        return np.moveaxis(self.sta[self.best_lag, :, :, cells], 0, -1)


def compute_sta(
    recording: Any, *, lags_s: Any = None, lag_step_s: float = 0.01, max_lag_s: float = 0.2
) -> SpikeTriggeredAverage | None:
    """Spike-triggered average of the sparse noise each cell saw, or None without noise.

    For each spike at time ``t`` of a sparse-noise presentation and each lag ``τ``, the
    noise frame on screen at ``t − τ`` is added to the average (regenerated exactly from
    the stimulus's ``noise_seed``, :meth:`v1lab.model.stimulus.SparseNoise.pattern`). Squares
    are independent with zero mean, so the average estimates each cell's linear
    receptive field (Jones & Palmer 1987; Chichilnisky 2001). Only presentations on the
    same square grid as the first one are used.

    Parameters
    ----------
    recording : Recording
    lags_s : array_like, optional
        Lags to compute (default ``-3 · lag_step_s`` to ``max_lag_s`` in ``lag_step_s``).
    lag_step_s, max_lag_s : float
        Default lag grid (s).
    """
    table = compute_condition_table(recording)
    noise_ids = np.flatnonzero(table["stimulus"] == "sparse_noise")
    if len(noise_ids) == 0:
        return None
    first = recording.conditions[int(noise_ids[0])]
    geometry = ("grid_size", "square_deg", "x_deg", "y_deg")
    same = [
        int(c)
        for c in noise_ids
        if all(getattr(recording.conditions[int(c)], g) == getattr(first, g) for g in geometry)
    ]
    if lags_s is None:
        step = check_number("lag_step_s", lag_step_s, lo=0, lo_open=True, unit="s")
        lags = np.arange(-3, round(max_lag_s / step) + 1) * step
    else:
        lags = np.asarray(lags_s, dtype=float).ravel()
    g = first.grid_size
    n = recording.n_cells
    total = np.zeros((len(lags), g * g, n))
    n_spikes = np.zeros(n)
    p = recording.presentations
    for row in np.flatnonzero(np.isin(p["stimulus_condition_id"], same)):
        stim = recording.conditions[int(p["stimulus_condition_id"][row])]
        pattern = stim.pattern().reshape(stim.n_noise_frames, g * g).astype(float)
        pattern *= stim.contrast
        start, stop = float(p["start_time"][row]), float(p["stop_time"][row])
        for cell, times in enumerate(recording.spike_times):
            t = times[np.searchsorted(times, start) : np.searchsorted(times, stop)] - start
            if len(t) == 0:
                continue
            n_spikes[cell] += len(t)
            for i, lag in enumerate(lags):
                shown = t - lag
                valid = (shown >= 0) & (shown < stop - start)
                k = stim.noise_frame_index(shown[valid])
                hist = np.bincount(k, minlength=stim.n_noise_frames)
                total[i, :, cell] += hist @ pattern
    with np.errstate(invalid="ignore", divide="ignore"):
        sta = total / n_spikes[None, None, :]
    x, y = first.square_centres_deg()
    return SpikeTriggeredAverage(lags, x, y, sta.reshape(len(lags), g, g, n), n_spikes)


def make_gabor(
    x_deg: Any,
    y_deg: Any,
    *,
    x0_deg: float = 0.0,
    y0_deg: float = 0.0,
    orientation_deg: float = 0.0,
    sigma_across_deg: float = 0.5,
    sigma_along_deg: float = 0.8,
    spatial_frequency_cpd: float = 0.8,
    phase_deg: float = 0.0,
    amplitude: float = 1.0,
) -> np.ndarray:
    """A 2-D Gabor receptive field, in the convention of :mod:`v1lab.model.cortex`.

    With ``u`` the coordinate across the preferred bar orientation (along
    ``orientation + 90°``) and ``v`` along it, both from ``(x0, y0)``:
    ``A exp(−u²/2σ_u² − v²/2σ_v²) cos(2π f u + φ)`` (Jones & Palmer 1987).

    Examples
    --------
    >>> float(make_gabor(0.0, 0.0)), round(float(make_gabor(0.0, 0.625)), 3)  # half a period up
    (1.0, -0.458)
    """
    return amplitude * gabor(
        x_deg,
        y_deg,
        x0_deg=x0_deg,
        y0_deg=y0_deg,
        orientation_deg=orientation_deg,
        spatial_frequency_cpd=spatial_frequency_cpd,
        phase_deg=phase_deg,
        sigma_across_deg=sigma_across_deg,
        sigma_along_deg=sigma_along_deg,
    )


@dataclass(frozen=True)
class GaborFit:
    """A 2-D Gabor fitted to a receptive-field map (:func:`compute_gabor_fit`).

    ``nx`` and ``ny`` are the envelope's SDs across and along the bars in carrier
    periods (``σ · f``; Ringach 2002): most simple cells have ``nx`` 0.2–0.5 and
    ``ny`` 0.3–1.
    """

    amplitude: float
    x_deg: float
    y_deg: float
    orientation_deg: float
    sigma_across_deg: float
    sigma_along_deg: float
    spatial_frequency_cpd: float
    phase_deg: float
    r2: float

    @property
    def nx(self) -> float:
        return self.sigma_across_deg * self.spatial_frequency_cpd

    @property
    def ny(self) -> float:
        return self.sigma_along_deg * self.spatial_frequency_cpd

    def __call__(self, x_deg: Any, y_deg: Any) -> np.ndarray:
        return make_gabor(
            x_deg,
            y_deg,
            x0_deg=self.x_deg,
            y0_deg=self.y_deg,
            orientation_deg=self.orientation_deg,
            sigma_across_deg=self.sigma_across_deg,
            sigma_along_deg=self.sigma_along_deg,
            spatial_frequency_cpd=self.spatial_frequency_cpd,
            phase_deg=self.phase_deg,
            amplitude=self.amplitude,
        )


def _canonical_gabor(x: np.ndarray) -> np.ndarray:
    """Same Gabor with amplitude > 0, orientation in [0, 180) and phase in [0, 360)."""
    amp, x0, y0, th, su, sv, f, ph = x
    if amp < 0:
        amp, ph = -amp, ph + 180.0
    if f < 0:
        f, ph = -f, -ph
    turns = math.floor(th / 180.0)
    th -= 180.0 * turns
    if turns % 2:  # u changes sign: cos(2πf(−u) + φ) = cos(2πfu − φ)
        ph = -ph
    return np.array([amp, x0, y0, th, abs(su), abs(sv), f, ph % 360.0])


def compute_gabor_fit(image: Any, x_deg: Any, y_deg: Any) -> GaborFit:
    """Fit a 2-D Gabor to a receptive-field map by least squares (Jones & Palmer 1987).

    The start is read from the map itself — centre from the centroid of its energy,
    carrier from the peak of its spatial spectrum, envelope from its second moments,
    phase from the projection on the carrier — and a few variations of it are refined
    with :func:`scipy.optimize.least_squares`; the best is kept.

    Parameters
    ----------
    image : array_like (n_y, n_x)
        The map (e.g. :meth:`SpikeTriggeredAverage.at_best_lag` for one cell), row 0 at
        the top.
    x_deg : array_like (n_x,)
        Column centres, left to right.
    y_deg : array_like (n_y,)
        Row centres, top to bottom.

    Returns
    -------
    GaborFit
        All NaN if the map is flat or not finite.

    Examples
    --------
    >>> x = np.linspace(-2, 2, 33); y = x[::-1]
    >>> truth = dict(x0_deg=0.2, y0_deg=-0.1, orientation_deg=60, sigma_across_deg=0.45,
    ...              sigma_along_deg=0.7, spatial_frequency_cpd=0.9, phase_deg=30, amplitude=2)
    >>> fit = compute_gabor_fit(make_gabor(*np.meshgrid(x, y), **truth), x, y)
    >>> round(fit.orientation_deg, 3), round(fit.phase_deg, 3), round(fit.nx, 4), round(fit.r2, 6)
    (60.0, 30.0, 0.405, 1.0)
    """
    from scipy.optimize import least_squares

    img = np.asarray(image, dtype=float)
    xs = np.asarray(x_deg, dtype=float)
    ys = np.asarray(y_deg, dtype=float)
    nan = math.nan
    if img.ndim != 2 or not np.all(np.isfinite(img)) or np.ptp(img) <= 0:
        return GaborFit(nan, nan, nan, nan, nan, nan, nan, nan, nan)
    xx, yy = np.meshgrid(xs, ys)
    dx = float(np.median(np.abs(np.diff(xs)))) if len(xs) > 1 else 1.0
    dy = float(np.median(np.abs(np.diff(ys)))) if len(ys) > 1 else 1.0
    extent = max(np.ptp(xs) + dx, np.ptp(ys) + dy)

    energy = img**2
    x0 = float(np.sum(energy * xx) / energy.sum())
    y0 = float(np.sum(energy * yy) / energy.sum())
    # The carrier: the peak of the zero-padded spectrum (positive x-frequency half).
    pad = 4 * max(img.shape)
    spectrum = np.abs(np.fft.fft2(img - img.mean(), s=(pad, pad)))
    fy_axis = np.fft.fftfreq(pad, d=dy)
    fx_axis = np.fft.fftfreq(pad, d=dx)
    spectrum[0, 0] = 0.0
    iy, ix = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    # Image rows run downwards, so a row frequency is minus a y frequency.
    fx, fy = float(fx_axis[ix]), -float(fy_axis[iy])
    f0 = float(np.hypot(fx, fy))
    theta0 = math.degrees(math.atan2(fy, fx)) - 90.0  # the carrier runs across the bar
    var = float(np.sum(energy * ((xx - x0) ** 2 + (yy - y0) ** 2)) / energy.sum())
    sigma0 = max(math.sqrt(var), dx)  # energy SD is σ/√2 per axis: √(2 · var/2)

    def design(x: np.ndarray) -> np.ndarray:
        return make_gabor(
            xx, yy, x0_deg=x[1], y0_deg=x[2], orientation_deg=x[3], sigma_across_deg=x[4],
            sigma_along_deg=x[5], spatial_frequency_cpd=x[6], phase_deg=x[7], amplitude=x[0],
        )  # fmt: skip

    def start(theta: float, f: float, sigma_u: float, sigma_v: float) -> np.ndarray:
        th = math.radians(theta)
        u = -(xx - x0) * math.sin(th) + (yy - y0) * math.cos(th)
        v = (xx - x0) * math.cos(th) + (yy - y0) * math.sin(th)
        env = np.exp(-0.5 * (u / sigma_u) ** 2 - 0.5 * (v / sigma_v) ** 2)
        proj = np.sum(img * env * np.exp(-2j * np.pi * f * u))
        phase = math.degrees(float(np.angle(proj)))
        shape = env * np.cos(2 * np.pi * f * u + math.radians(phase))
        amp = float(np.sum(img * shape) / max(np.sum(shape**2), 1e-300))
        return np.array([amp, x0, y0, theta, sigma_u, sigma_v, f, phase])

    lo = [-np.inf, xs.min() - dx, ys.min() - dy, -np.inf, 0.3 * min(dx, dy), 0.3 * min(dx, dy),
          0.0, -np.inf]  # fmt: skip
    hi = [np.inf, xs.max() + dx, ys.max() + dy, np.inf, extent, extent, 0.5 / min(dx, dy), np.inf]
    best: tuple[float, np.ndarray] | None = None
    for f_scale in (1.0, 0.7, 1.4):
        for su, sv in ((sigma0, sigma0), (0.7 * sigma0, 1.3 * sigma0)):
            x_start = np.clip(start(theta0, f0 * f_scale, su, sv), lo, hi)
            fit = least_squares(lambda x: (design(x) - img).ravel(), x_start, bounds=(lo, hi))
            cost = float(np.sum(fit.fun**2))
            if best is None or cost < best[0]:
                best = (cost, fit.x)
    assert best is not None
    total = float(np.sum((img - img.mean()) ** 2))
    amp, x0f, y0f, th, su, sv, f, ph = _canonical_gabor(best[1])
    return GaborFit(
        float(amp), float(x0f), float(y0f), float(th), float(su), float(sv), float(f),
        float(ph), 1.0 - best[0] / total,
    )  # fmt: skip


# ======================================================================================
# Demonstration conditions and per-cell metrics
# ======================================================================================


def compute_demo_conditions(
    recording: Any, cell: int, *, design: Design | None = None, mean: np.ndarray | None = None
) -> tuple[int, int | None]:
    """The conditions to let someone hear a cell: its preferred one and a contrast to it.

    With direction tuning: the preferred condition and the one that differs only by a
    90° turn (Hubel & Wiesel's demonstration: crackle, then silence). With bars of
    several lengths: the preferred bar and the longest one (an end-stopped cell falls
    silent). With spots: the best spot and the spot of opposite sign at the same place.
    Otherwise the best condition and None.

    Returns
    -------
    (preferred_id, contrast_id or None)
    """
    design = compute_design(recording) if design is None else design
    if mean is None:
        mean, _ = compute_condition_responses(recording)
    table = compute_condition_table(recording)
    rows = np.ones(len(recording.conditions), bool)
    if design.direction_kind is not None:
        rows = table["stimulus"] == design.direction_kind
    scores = np.where(rows & np.isfinite(mean[:, cell]), mean[:, cell], -np.inf)
    best = int(np.argmax(scores))
    if design.direction_kind is not None:
        others = [k for k in table if k not in ("direction_deg", "orientation_deg",
                                                "stimulus_condition_id")]  # fmt: skip
        match = rows.copy()
        for k in others:
            match &= _same(np.asarray(table[k]), np.asarray(table[k])[best])
        directions = table["direction_deg"]
        gap = np.abs((directions - directions[best] - 90.0 + 180.0) % 360.0 - 180.0)
        gap = np.where(match & np.isfinite(gap), gap, np.inf)
        return best, int(np.argmin(gap)) if np.isfinite(gap.min()) else None
    if design.length_tuning and table["stimulus"][best] == "bar":
        match = table["stimulus"] == "bar"
        for k in table:
            if k not in ("length_deg", "stimulus_condition_id"):
                match &= _same(np.asarray(table[k]), np.asarray(table[k])[best])
        ids = np.flatnonzero(match)
        longest = int(ids[np.argmax(table["length_deg"][ids])])
        return best, longest if longest != best else None
    if table["stimulus"][best] == "spot":
        match = (table["stimulus"] == "spot") & (table["contrast"] == -table["contrast"][best])
        for k in ("x_deg", "y_deg", "radius_deg"):
            match &= _same(table[k], table[k][best])
        ids = np.flatnonzero(match)
        return best, int(ids[0]) if len(ids) else None
    return best, None


def _fill(out: dict[str, np.ndarray], name: str, values: Any) -> None:
    out[name] = np.asarray(values, dtype=float)


def compute_metrics(recording: Any) -> dict[str, np.ndarray]:
    """Per-cell metrics beside each cell's ground truth (one row per cell).

    Always: ``cell_id``, the ground-truth columns of the NWB units table,
    ``spontaneous_rate_hz`` (measured in the blanks), ``peak_rate_hz`` (the best
    condition's mean response) and ``fano_factor`` (at the best condition). Then, as
    the protocol's conditions allow (:func:`compute_design`):

    direction tuning (bars or gratings in ≥ 3 directions), read through each cell's
    preferred condition (:func:`compute_factorial_tuning`)
        ``preferred_direction_measured_deg``, ``preferred_orientation_measured_deg``,
        ``osi``, ``dsi``, ``g_osi``, ``g_dsi``; von Mises fits
        ``preferred_orientation_fit_deg``, ``hwhh_deg``, ``bandwidth_deg``,
        ``orientation_fit_r2``, ``preferred_direction_fit_deg``, ``direction_fit_r2``
        (NaN above :data:`MAX_FIT_CELLS` cells). Where the fitted HWHH is below what
        the orientation sampling can measure (:func:`compute_width_limit_deg`, half the
        step), ``hwhh_deg`` and ``bandwidth_deg`` are NaN and ``hwhh_below_deg`` holds
        that limit (NaN elsewhere): the cell's HWHH is below it.
    gratings
        ``f1_f0`` at the preferred grating; ``spatial_frequency_measured_cpd`` and
        ``temporal_frequency_measured_hz`` when ≥ 3 values were shown.
    contrast series (≥ 3 contrasts)
        ``c50_measured``, ``nr_exponent``, ``nr_r_max_hz``, ``nr_r2`` (Naka–Rushton on
        the responses above spontaneous at the preferred direction), ``hwhh_deg_cNNN``
        (orientation HWHH at contrast NNN %, NaN where unresolved), beside the ground
        truth ``c50`` and ``exponent`` of the model cell.
    length tuning (bars of ≥ 3 lengths)
        ``optimal_length_deg``, ``suppression_index``, beside ``end_inhibition``.
    spot map
        ``on_off_corr`` (of the whole maps), ``overlap_index`` (of the responses 2 SEM
        above spontaneous, :meth:`SpotMaps.significant`), ``spot_peak_hz`` and, with
        diffuse flashes, ``diffuse_ratio``.
    sparse noise
        ``sta_snr``, ``sta_lag_s`` and the Gabor fit ``gabor_x_deg``, ``gabor_y_deg``,
        ``gabor_orientation_deg``, ``gabor_sf_cpd``, ``gabor_phase_deg``, ``gabor_nx``,
        ``gabor_ny``, ``gabor_r2``, beside the ground truth ``nx``, ``ny``.
    orientation-map sheet
        ``sheet_x_mm``, ``sheet_y_mm`` (ground truth position on the cortex).

    For the previous columns with a single direction factor (``hubel_wiesel_bars``)
    the values are those of the pooled tuning (:func:`compute_direction_tuning`).
    """
    pop = recording.population
    n = recording.n_cells
    out: dict[str, np.ndarray] = {"cell_id": np.arange(n)}
    out.update(pop.to_columns())
    baseline = compute_baseline_rates(recording)
    out["spontaneous_rate_hz"] = baseline
    design = compute_design(recording)
    table = compute_condition_table(recording)
    mean, sem = compute_condition_responses(recording)
    best = _nan_argmax(mean)
    cols = np.arange(n)
    _fill(out, "peak_rate_hz", mean[best, cols])
    ids, fano = compute_fano_factor(
        recording.spike_counts(), recording.presentations["stimulus_condition_id"]
    )
    fano_full = np.full((len(recording.conditions), n), np.nan)
    fano_full[ids] = fano
    _fill(out, "fano_factor", fano_full[best, cols])
    fits = n <= MAX_FIT_CELLS

    kind_rows = None
    if design.direction_kind is not None:
        kind_rows = table["stimulus"] == design.direction_kind
        directions, dmean, _ = compute_factorial_tuning(
            table, mean, sem, "direction_deg", rows=kind_rows
        )
        orientations, omean = compute_orientation_tuning(directions, dmean)
        _fill(out, "peak_rate_hz", np.nanmax(np.where(np.isfinite(dmean), dmean, -np.inf), 0))
        _fill(out, "preferred_direction_measured_deg", directions[_nan_argmax(dmean)])
        _fill(
            out,
            "preferred_orientation_measured_deg",
            compute_preferred_orientation_deg(np.mod(directions - 90.0, 180.0), dmean),
        )
        _fill(out, "osi", compute_osi(directions, dmean))
        _fill(out, "dsi", compute_dsi(directions, dmean))
        _fill(out, "g_osi", compute_global_osi(np.mod(directions - 90.0, 180.0), dmean))
        _fill(out, "g_dsi", compute_global_dsi(directions, dmean))
        names = (
            "preferred_orientation_fit_deg", "hwhh_deg", "bandwidth_deg", "orientation_fit_r2",
            "preferred_direction_fit_deg", "direction_fit_r2",
        )  # fmt: skip
        values = np.full((len(names), n), np.nan)
        for cell in range(n if fits else 0):
            o = compute_von_mises_fit(orientations, omean[:, cell], period=180.0)
            d = compute_von_mises_fit(directions, dmean[:, cell], period=360.0)
            values[:, cell] = (
                o.preferred_deg, o.hwhh_deg, o.bandwidth_deg, o.r2, d.preferred_deg, d.r2
            )  # fmt: skip
        # A width the sampling cannot measure is not reported (bandwidth with it).
        limit = compute_width_limit_deg(orientations)
        fitted_hwhh = values[1].copy()
        values[1] = _resolved(fitted_hwhh, limit)
        values[2] = np.where(np.isfinite(values[1]), values[2], np.nan)
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "hwhh_below_deg", np.where(fitted_hwhh < limit, limit, np.nan))

    if design.gratings:
        grating_rows = table["stimulus"] == "grating"
        f1, f0 = compute_condition_f1_f0(recording, baseline_hz=baseline)
        scores = np.where(grating_rows[:, None] & np.isfinite(mean), mean, -np.inf)
        pref = np.argmax(scores, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(f0[pref, cols] > 0, f1[pref, cols] / f0[pref, cols], np.nan)
        _fill(out, "f1_f0", ratio)
        for along, name, flag in (
            ("spatial_frequency_cpd", "spatial_frequency_measured_cpd", design.sf_tuning),
            ("temporal_frequency_hz", "temporal_frequency_measured_hz", design.tf_tuning),
        ):
            if flag:
                values, tmean, _ = compute_factorial_tuning(
                    table, mean, sem, along, rows=grating_rows
                )
                _fill(out, name, values[_nan_argmax(tmean)])

    if design.contrast_series:
        if kind_rows is None:
            kind_rows = np.isin(table["stimulus"], ("bar", "grating"))
        contrasts, cmean, _ = compute_factorial_tuning(table, mean, sem, "contrast", rows=kind_rows)
        names = ("c50_measured", "nr_exponent", "nr_r_max_hz", "nr_r2")
        values = np.full((4, n), np.nan)
        for cell in range(n if fits else 0):
            nr = compute_naka_rushton_fit(contrasts, cmean[:, cell] - baseline[cell])
            values[:, cell] = (nr.c50, nr.n, nr.r_max, nr.r2)
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "c50", pop.c50)
        _fill(out, "exponent", pop.exponent)
        for c in design.contrasts if design.direction_kind else ():
            directions, dmean, _ = compute_factorial_tuning(
                table, mean, sem, "direction_deg", rows=kind_rows, fixed={"contrast": c}
            )
            orientations, omean = compute_orientation_tuning(directions, dmean)
            widths = np.full(n, np.nan)
            for cell in range(n if fits else 0):
                widths[cell] = compute_von_mises_fit(orientations, omean[:, cell]).hwhh_deg
            widths = _resolved(widths, compute_width_limit_deg(orientations))
            _fill(out, f"hwhh_deg_c{round(100 * abs(c)):03d}", widths)

    if design.length_tuning:
        lengths, lmean, _ = compute_factorial_tuning(
            table, mean, sem, "length_deg", rows=table["stimulus"] == "bar"
        )
        _fill(out, "optimal_length_deg", lengths[_nan_argmax(lmean)])
        si = compute_suppression_index(lengths, lmean, baseline=baseline)
        _fill(out, "suppression_index", si)
        _fill(out, "end_inhibition", pop.end_inhibition)

    if design.spot_map:
        maps = compute_spot_maps(recording, baseline_hz=baseline)
        assert maps is not None
        _fill(out, "on_off_corr", compute_on_off_correlation(maps.on, maps.off))
        on, off = maps.significant()
        _fill(out, "overlap_index", compute_overlap_index(on, off, maps.x_deg, maps.y_deg))
        _fill(out, "spot_peak_hz", maps.peak_hz)
        if design.diffuse:
            _fill(out, "diffuse_ratio", maps.diffuse_ratio)

    if design.sparse_noise:
        sta = compute_sta(recording)
        assert sta is not None
        _fill(out, "sta_snr", sta.snr)
        _fill(out, "sta_lag_s", sta.lags_s[sta.best_lag])
        names = (
            "gabor_x_deg", "gabor_y_deg", "gabor_orientation_deg", "gabor_sf_cpd",
            "gabor_phase_deg", "gabor_nx", "gabor_ny", "gabor_r2",
        )  # fmt: skip
        values = np.full((len(names), n), np.nan)
        images = sta.at_best_lag()
        for cell in range(n if fits else 0):
            g = compute_gabor_fit(images[..., cell], sta.x_deg, sta.y_deg)
            values[:, cell] = (
                g.x_deg, g.y_deg, g.orientation_deg, g.spatial_frequency_cpd, g.phase_deg,
                g.nx, g.ny, g.r2,
            )  # fmt: skip
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "nx", pop.nx)
        _fill(out, "ny", pop.ny)

    if design.sheet:
        from v1lab.model.maps import make_sheet_positions, sheet_side

        spec = recording.protocol.population
        x_mm, y_mm = make_sheet_positions(sheet_side(n), spec.sheet_size_mm)
        _fill(out, "sheet_x_mm", x_mm.ravel())
        _fill(out, "sheet_y_mm", y_mm.ravel())
    return out
