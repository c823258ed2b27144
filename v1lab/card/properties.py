"""Each card property, measured from the battery's responses the way its source paper did.

The scored properties follow Marques, Schrimpf & DiCarlo's (2021) Brain-Score
implementation of each paper's analysis (``benchmark_helpers/properties_common.py``
and ``benchmarks/marques2020/``), adapted from their static gratings at 8 spatial
phases to drifting gratings: the phase-averaged response is the mean rate over whole
cycles (DC) and the phase modulation its first harmonic (F1). A cell enters a
property's distribution only if it responds in that part: its best DC is more than
5 spikes/s above its spontaneous rate (orientation, spatial-frequency bandwidth), or its
best baseline-subtracted DC or F1 exceeds 5 spikes/s (peak spatial frequency, size).

Orientation (De Valois, Yund & Hepler 1982; Ringach, Shapley & Hawken 2002)
    The orientation curve is the DC at each orientation, averaged over its two
    directions of motion (the phase-averaged response to a static grating), at the
    spatial frequency of the cell's best orientation. *Preferred orientation*: the peak,
    at 1° resolution, of a periodic cubic spline through the curve smoothed with the
    kernel (1/5, 1, 1/5); reported in [−22.5°, 157.5°) for De Valois's bins centred on
    0, 45, 90, 135°. *Circular variance*: ``1 − |Σ r_k e^{2iθ_k}| / Σ |r_k|`` of the raw
    curve (Ringach et al. 2002). *Orientation bandwidth*: Ringach et al.'s half-width at
    1/√2 of the peak, on the spline through the curve smoothed with (2/5, 1, 2/5); NaN
    when the curve does not fall that far within 90° on either side.
Modulation ratio (Ringach et al. 2002; Skottun et al. 1991)
    F1 / DC at the cell's best grating (direction and spatial frequency), DC not
    baseline-subtracted, as Ringach's database records it (``maxfirst / maxdc``).
Spatial frequency (De Valois, Albrecht & Thorell 1982; Schiller, Finlay & Volman 1976)
    The curve over spatial frequency at the best direction, smoothed with (1/5, 1, 1/5)
    (ends padded with their own values) and interpolated by a cubic spline at 100
    points on log2 frequency. *Peak spatial frequency*: its maximum, on the curve
    (DC − spontaneous, or F1, whichever holds the cell's largest response). *Bandwidth*
    (%): ``100 · f_low / f_high``, the frequencies below and above the peak where the
    raw DC curve falls to 1/√2 of its peak; *SF-selective*: both exist within the tested
    range (Marques et al.'s reading of Schiller et al.'s criterion).
Size (Cavanaugh, Bair & Movshon 2002)
    Response (DC − spontaneous, or F1, whichever is largest) against patch diameter at
    the best direction and spatial frequency. *Surround suppression index*
    ``(R_peak − R_largest) / R_peak``; for cells suppressed by more than 10 %, the
    *grating summation field* (the smallest diameter reaching 95 % of the peak) and the
    *surround diameter* (the smallest diameter beyond the peak where the response is
    within 5 % of the largest patch's).
Variability (Tolhurst, Movshon & Dean 1983; Goris, Movshon & Simoncelli 2014)
    *Fano factor*: variance / mean of the spike count across repeats of the cell's best
    grating. The slope of log variance against log mean over all grating conditions is
    :func:`compute_variance_slope`.
Spots (Hubel & Wiesel 1959) and slits (Hubel & Wiesel 1965)
    *ON–OFF correlation* of the light- and dark-spot maps and the *diffuse ratio* (best
    diffuse response over best spot response), from :func:`v1lab.analysis.compute_spot_maps`;
    the *length suppression index* ``1 − (R_longest − b)/(R_peak − b)`` at the best
    direction (DeAngelis, Freeman & Ohzawa 1994) and the best slit's PSTH peak above
    spontaneous.

References
----------
Cavanaugh JR, Bair W, Movshon JA (2002) J Neurophysiol 88:2530-2546. · De Valois RL,
Albrecht DG, Thorell LG (1982) Vision Res 22:545-559. · De Valois RL, Yund EW, Hepler N
(1982) Vision Res 22:531-544. · DeAngelis GC, Freeman RD, Ohzawa I (1994) J Neurophysiol
71:347-374. · Goris RLT, Movshon JA, Simoncelli EP (2014) Nat Neurosci 17:858-865. ·
Hubel DH, Wiesel TN (1959) J Physiol 148:574-591; (1965) J Neurophysiol 28:229-289. ·
Marques T, Schrimpf M, DiCarlo JJ (2021) bioRxiv 2021.03.01.433495. · Ringach DL,
Shapley RM, Hawken MJ (2002) J Neurosci 22:5639-5651. · Schiller PH, Finlay BL, Volman SF
(1976) J Neurophysiol 39:1334-1351. · Skottun BC et al. (1991) Vision Res 31:1079-1086. ·
Tolhurst DJ, Movshon JA, Dean AF (1983) Vision Res 23:775-785.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from v1lab.analysis import (
    compute_on_off_correlation,
    compute_suppression_index,
    compute_von_mises_fit,
)
from v1lab.card.battery import BandResponses, GratingResponses, LengthResponses

__all__ = [
    "PROPERTY_NAMES",
    "RESPONSE_THRESHOLD_HZ",
    "compute_band_properties",
    "compute_circular_variance",
    "compute_orientation_bandwidth",
    "compute_preferred_orientation",
    "compute_sf_tuning",
    "compute_size_tuning",
    "compute_variance_slope",
]

#: A cell counts in a part if it responds this much (spikes/s) above spontaneous.
RESPONSE_THRESHOLD_HZ = 5.0

# Smoothing kernels of Marques et al.'s analyses ('smooth' and 'hanning').
_SMOOTH = np.array([1.0, 5.0, 1.0]) / 7.0
_HANNING = np.array([2.0, 5.0, 2.0]) / 9.0
_HALF_POWER = 1.0 / math.sqrt(2.0)
# De Valois et al.'s orientation bins start here (centred on 0, 45, 90, 135 deg).
_ORIENTATION_BIN_START = -22.5

#: Per-cell columns :func:`compute_band_properties` fills (NaN where not measured).
PROPERTY_NAMES = (
    "preferred_orientation",
    "circular_variance",
    "orientation_bandwidth",
    "hwhh_deg",
    "modulation_ratio",
    "peak_spatial_frequency",
    "spatial_frequency_selective",
    "spatial_frequency_bandwidth",
    "surround_suppression_index",
    "grating_summation_field",
    "surround_diameter",
    "fano_factor",
    "on_off_correlation",
    "diffuse_ratio",
    "spot_peak_hz",
    "length_suppression_index",
    "bar_peak_above_spont_hz",
    "responsive_orientation",
    "responsive_peak_sf",
    "responsive_sf_bandwidth",
    "responsive_size",
    "spontaneous_hz",
)


def _periodic_spline(
    orientations_deg: np.ndarray, curve: np.ndarray, kernel: np.ndarray
) -> np.ndarray:
    """The curve smoothed (circularly) and splined at 0, 1, …, 179°."""
    order = np.argsort(orientations_deg)
    theta = np.asarray(orientations_deg, float)[order]
    r = np.asarray(curve, float)[order]
    half = len(kernel) // 2
    smooth = sum(w * np.roll(r, half - j) for j, w in enumerate(kernel))
    spline = CubicSpline(
        np.append(theta, theta[0] + 180.0), np.append(smooth, smooth[0]), bc_type="periodic"
    )
    return spline(np.arange(180.0) + theta[0])


def compute_preferred_orientation(orientations_deg: Any, curve: Any) -> float:
    """Peak of the smoothed, splined orientation curve, in [−22.5°, 157.5°) (1° steps).

    Examples
    --------
    >>> o = np.arange(0, 180, 15.0)
    >>> compute_preferred_orientation(o, np.exp(2 * (np.cos(np.deg2rad(2 * (o - 170))) - 1)))
    -10.0
    """
    o = np.asarray(orientations_deg, float)
    fine = _periodic_spline(o, np.asarray(curve, float), _SMOOTH)
    peak = float(np.mod(np.min(o) + np.argmax(fine), 180.0))
    return peak - 180.0 if peak >= 180.0 + _ORIENTATION_BIN_START else peak


def compute_circular_variance(orientations_deg: Any, curves: Any) -> np.ndarray:
    """``1 − |Σ r_k exp(2iθ_k)| / Σ |r_k|`` per column (Ringach et al. 2002).

    Examples
    --------
    >>> o = np.arange(0, 180, 15.0)
    >>> compute_circular_variance(o, np.ones(12)).round(6).tolist()
    [1.0]
    >>> float(compute_circular_variance(o, o == 30)[0])
    0.0
    """
    theta = np.deg2rad(2.0 * np.asarray(orientations_deg, float))
    r = np.asarray(curves, float).reshape(len(theta), -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - np.abs(np.exp(1j * theta) @ r) / np.abs(r).sum(axis=0)


def compute_orientation_bandwidth(orientations_deg: Any, curve: Any) -> float:
    """Half-width (deg) at 1/√2 of the peak (Ringach et al. 2002); NaN if wider than 90°.

    Examples
    --------
    >>> o = np.arange(0, 180, 15.0)
    >>> kappa = math.log(2) / 2 / (1 - math.cos(math.radians(2 * 20)))  # 1/√2 at ±20°
    >>> curve = np.exp(kappa * (np.cos(np.deg2rad(2 * (o - 90))) - 1))
    >>> 19 <= compute_orientation_bandwidth(o, curve) <= 23  # smoothing widens a little
    True
    """
    o = np.asarray(orientations_deg, float)
    fine = _periodic_spline(o, np.asarray(curve, float), _HANNING)
    peak = int(np.argmax(fine))
    level = _HALF_POWER * fine[peak]
    ring = np.roll(fine, 90 - peak)  # the peak at index 90, 90° of curve either side
    below = np.flatnonzero(ring <= level)
    left, right = below[below < 90], below[below > 90]
    if len(left) == 0 or len(right) == 0:
        return math.nan
    return 0.5 * float(right[0] - left[-1])


def _pad_smooth(curve: np.ndarray) -> np.ndarray:
    padded = np.concatenate([[curve[0]], curve, [curve[-1]]])
    return np.convolve(padded, _SMOOTH[::-1], mode="valid")


def compute_sf_tuning(spatial_frequency_cpd: Any, curve: Any) -> tuple[float, float]:
    """Peak spatial frequency (c/deg) and bandwidth ``100 · f_low / f_high`` (%).

    The bandwidth is NaN when the curve does not fall to 1/√2 of its peak on both sides
    within the tested frequencies (the cell is not SF-selective).

    Examples
    --------
    >>> f = 2.0 ** np.arange(-3, 3.5, 0.5)
    >>> curve = np.exp(-0.5 * (np.log2(f) / 0.8) ** 2)  # peak 1 c/deg
    >>> peak, bw = compute_sf_tuning(f, curve)
    >>> round(peak, 1), 30 < bw < 50
    (1.0, True)
    """
    f = np.asarray(spatial_frequency_cpd, float)
    order = np.argsort(f)
    x = np.log2(f[order])
    y = _pad_smooth(np.asarray(curve, float)[order])
    xs = np.linspace(x[0], x[-1], 100)
    fine = CubicSpline(x, y)(xs)
    peak = int(np.argmax(fine))
    below = np.flatnonzero(fine <= _HALF_POWER * fine[peak])
    low, high = below[below < peak], below[below > peak]
    bandwidth = math.nan
    if len(low) and len(high):
        bandwidth = float(100.0 * 2.0 ** (xs[low[-1]] - xs[high[0]]))
    return float(2.0 ** xs[peak]), bandwidth


def compute_size_tuning(diameters_deg: Any, curve: Any) -> tuple[float, float, float]:
    """Surround suppression index, grating summation field and surround diameter (deg).

    The last two are NaN unless the response is suppressed by more than 10 %.

    Examples
    --------
    >>> d = np.array([0.25, 0.5, 1, 2, 4, 8])
    >>> si, gsf, surround = compute_size_tuning(d, np.array([2.0, 6, 10, 7, 5, 5]))
    >>> si, gsf, surround
    (0.5, 1.0, 4.0)
    """
    d = np.asarray(diameters_deg, float)
    r = np.asarray(curve, float)
    order = np.argsort(d)
    d, r = d[order], r[order]
    peak = int(np.argmax(r))
    top, plateau = r[peak], r[-1]
    si = (top - plateau) / top if top != 0 else math.nan
    if not (top > 0 and si > 0.1):
        return float(si), math.nan, math.nan
    gsf = d[np.flatnonzero(r >= 0.95 * top)[0]]
    after = np.flatnonzero((r <= plateau + 0.05 * abs(plateau)) & (d > d[peak]))
    return float(si), float(gsf), float(d[after[0]])


def compute_variance_slope(count_mean: Any, count_var: Any) -> float:
    """Slope of log variance against log mean of spike counts (least squares).

    Over every (cell, condition) with a mean count ≥ 1 and a positive variance; 1 for a
    Poisson process, > 1 when the gain fluctuates (Goris, Movshon & Simoncelli 2014).

    Examples
    --------
    >>> m = np.array([1.0, 10, 100]); round(compute_variance_slope(m, 2 * m**1.2), 6)
    1.2
    """
    m = np.asarray(count_mean, float).ravel()
    v = np.asarray(count_var, float).ravel()
    ok = np.isfinite(m) & np.isfinite(v) & (m >= 1) & (v > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(m[ok]), np.log(v[ok]), 1)[0])


def _best(grid: np.ndarray) -> tuple[int, ...]:
    return np.unravel_index(
        int(np.nanargmax(np.where(np.isfinite(grid), grid, -np.inf))), grid.shape
    )


def _orientation(g: GratingResponses, out: dict[str, np.ndarray]) -> None:
    directions = g.axes["direction_deg"]
    orientation = np.mod(np.round(directions - 90.0, 9), 180.0)
    ori_values = np.unique(orientation)
    # (n_cells, n_sf, n_ori): the two directions of each orientation averaged.
    folded = np.stack([np.nanmean(g.dc[..., orientation == o], axis=-1) for o in ori_values], -1)
    for c in range(g.dc.shape[0]):
        best_sf = _best(folded[c])[0]
        curve = folded[c, best_sf]
        out["preferred_orientation"][c] = compute_preferred_orientation(ori_values, curve)
        out["circular_variance"][c] = compute_circular_variance(ori_values, curve)[0]
        out["orientation_bandwidth"][c] = compute_orientation_bandwidth(ori_values, curve)
        out["hwhh_deg"][c] = compute_von_mises_fit(ori_values, curve).hwhh_deg
        best = _best(g.dc[c])
        # A cell silent at its best grating (a simple cell held below its maintained
        # discharge everywhere the battery looked) has neither ratio.
        out["modulation_ratio"][c] = _ratio(g.f1[c][best], g.dc[c][best])
        out["fano_factor"][c] = _ratio(g.count_var[c][best], g.count_mean[c][best])
        out["responsive_orientation"][c] = g.dc[c][best] > g.baseline[c] + RESPONSE_THRESHOLD_HZ
    out["spontaneous_hz"][:] = g.baseline


def _ratio(num: float, den: float) -> float:
    """``num / den``, NaN when ``den`` is 0."""
    return float(num) / float(den) if den != 0 else math.nan


def _components(g: GratingResponses) -> np.ndarray:
    """(n_cells, 2, *grid): DC − spontaneous and F1."""
    shape = (-1,) + (1,) * (g.dc.ndim - 1)
    return np.stack([g.dc - g.baseline.reshape(shape), g.f1], axis=1)


def _spatial_frequency(g: GratingResponses, out: dict[str, np.ndarray]) -> None:
    sf = g.axes["spatial_frequency_cpd"]
    both = _components(g)  # (cells, 2, n_sf, n_dir)
    for c in range(g.dc.shape[0]):
        comp, _, d = _best(both[c])
        out["peak_spatial_frequency"][c] = compute_sf_tuning(sf, both[c, comp, :, d])[0]
        out["responsive_peak_sf"][c] = np.nanmax(both[c]) > RESPONSE_THRESHOLD_HZ
        _, d_dc = _best(g.dc[c])
        bandwidth = compute_sf_tuning(sf, g.dc[c, :, d_dc])[1]
        out["spatial_frequency_bandwidth"][c] = bandwidth
        out["spatial_frequency_selective"][c] = float(np.isfinite(bandwidth))
        out["responsive_sf_bandwidth"][c] = (
            np.nanmax(g.dc[c]) > g.baseline[c] + RESPONSE_THRESHOLD_HZ
        )


def _preferred_grating(g: GratingResponses) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's preferred direction (deg) and spatial frequency (c/deg) from a grating
    part: the grating its response peaks at."""
    both = _components(g)
    directions = g.axes["direction_deg"]
    sf = g.axes["spatial_frequency_cpd"]
    best = [_best(both[c]) for c in range(both.shape[0])]
    return np.array([directions[b[-1]] for b in best]), np.array([sf[b[-2]] for b in best])


def _size(
    g: GratingResponses,
    out: dict[str, np.ndarray],
    preferred: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Size tuning at each cell's preferred direction and spatial frequency, found
    beforehand in the orientation part as Cavanaugh et al. (2002a) did (they grew
    gratings of the cell's optimal frequency): picking either from the size series' own
    maximum would bias the peak, and so the suppression index, upwards by the noise; and
    a grating half an octave off the cell's optimum drives a small patch, whose spectrum
    is broad, better than a large one, which adds suppression a real cell's curve
    measured at its optimum would not show (measured with deterministic rates on 200
    macaque cells: median index 0.38 at one frequency per band against 0.31 at the
    nearer of two, the drawn median being 0.32)."""
    diameters = 2.0 * g.axes["aperture_radius_deg"]
    directions = g.axes["direction_deg"]
    log_sf = np.log2(g.axes["spatial_frequency_cpd"])
    both = _components(g)  # (cells, 2, n_size, n_sf, n_dir)
    for c in range(g.dc.shape[0]):
        comp, _, s, d = _best(both[c])
        if preferred is not None and np.isfinite(preferred[0][c]):
            gap = np.abs(np.mod(directions - preferred[0][c] + 180.0, 360.0) - 180.0)
            d = int(np.argmin(gap))
            s = int(np.argmin(np.abs(log_sf - np.log2(preferred[1][c]))))
            comp = _best(both[c][:, :, s, d])[0]
        si, gsf, surround = compute_size_tuning(diameters, both[c, comp, :, s, d])
        out["surround_suppression_index"][c] = si
        out["grating_summation_field"][c] = gsf
        out["surround_diameter"][c] = surround
        out["responsive_size"][c] = np.nanmax(both[c]) > RESPONSE_THRESHOLD_HZ


def _length(r: LengthResponses, out: dict[str, np.ndarray]) -> None:
    for c in range(r.peak.shape[0]):
        d = _best(r.peak[c])[0]
        out["length_suppression_index"][c] = compute_suppression_index(
            r.lengths_deg, r.peak[c, d], baseline=r.baseline[c]
        )[0]
        out["bar_peak_above_spont_hz"][c] = np.nanmax(r.peak[c]) - r.baseline[c]


def compute_band_properties(band: BandResponses) -> dict[str, np.ndarray]:
    """Every property of :data:`PROPERTY_NAMES` for one band's cells (NaN where a part
    was not run)."""
    n = len(band.cells)
    out = {name: np.full(n, np.nan) for name in PROPERTY_NAMES}
    parts = band.parts
    if "orientation" in parts:
        _orientation(parts["orientation"], out)
    if "spatial_frequency" in parts:
        _spatial_frequency(parts["spatial_frequency"], out)
    if "size" in parts:
        preferred = _preferred_grating(parts["orientation"]) if "orientation" in parts else None
        _size(parts["size"], out, preferred)
    maps = parts.get("spots")
    if maps is not None:
        out["on_off_correlation"][:] = compute_on_off_correlation(maps.on, maps.off)
        out["diffuse_ratio"][:] = maps.diffuse_ratio
        out["spot_peak_hz"][:] = maps.peak_hz
    if "length" in parts:
        _length(parts["length"], out)
    return out
