"""Receptive-field maps: ON/OFF spot maps, the spike-triggered average, 2-D Gabor fits.

ON and OFF spot maps (Hubel & Wiesel 1959) with their correlation and overlap index
(Schiller, Finlay & Volman 1976; Mata & Ringach 2005); the spike-triggered average of
sparse noise (Jones & Palmer 1987; Chichilnisky 2001) and its 2-D Gabor fit, with ``nx``,
``ny`` as Ringach (2002) defines them.

References
----------
Chichilnisky EJ (2001) A simple white noise analysis of neuronal light responses.
Network 12:199-213.
Hubel DH, Wiesel TN (1959) Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574-591.
Jones JP, Palmer LA (1987) An evaluation of the two-dimensional Gabor filter model of
simple receptive fields in cat striate cortex. J Neurophysiol 58:1233-1258.
Mata ML, Ringach DL (2005) Spatial overlap of ON and OFF subregions and its relation to
response modulation ratio in macaque primary visual cortex. J Neurophysiol 93:919-928.
Ringach DL (2002) Spatial structure and symmetry of simple-cell receptive fields in
macaque primary visual cortex. J Neurophysiol 88:455-463.
Schiller PH, Finlay BL, Volman SF (1976) Quantitative studies of single-cell properties
in monkey striate cortex. I. Spatiotemporal organization of receptive fields.
J Neurophysiol 39:1288-1319.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import check_number
from v1lab.analysis.conditions import compute_condition_responses, compute_condition_table
from v1lab.analysis.responses import compute_baseline_rates
from v1lab.model.cortex import gabor

__all__ = [
    "GaborFit",
    "SpikeTriggeredAverage",
    "SpotMaps",
    "compute_gabor_fit",
    "compute_on_off_correlation",
    "compute_overlap_index",
    "compute_spot_maps",
    "compute_sta",
    "make_gabor",
]


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

    The response is the rate from :data:`~v1lab.analysis.RESPONSE_LATENCY_S` after onset
    to as long after offset, minus the spontaneous rate, averaged over repeats (and over
    any other spot parameter). Light spots (contrast > 0) make the ON map, dark ones the
    OFF map.
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
