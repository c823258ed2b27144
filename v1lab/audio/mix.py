"""The mixer: spike trains to the sound of an audio monitor, block by block.

Spike waveforms (:mod:`v1lab.audio.pops`) placed with sub-sample accuracy plus quiet
hiss → 2nd-order Butterworth band-pass 100–7000 Hz (as the Open Ephys GUI Audio Monitor;
Siegle et al. 2017) → fixed gain → look-ahead peak limiter with a slow release
(Giannoulis, Massberg & Reiss 2012) → raised-cosine fades. :class:`SpikeAudioRenderer`
carries filter, limiter and noise state across blocks (the live mode's 10-ms blocks);
:func:`render_spikes` renders at once, :func:`iter_spike_audio` in bounded memory.
References: :mod:`v1lab.audio`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import ndimage, signal

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.audio._common import (
    FS_MAX_HZ,
    FS_MIN_HZ,
    as_float_array,
    check_spike_trains,
    check_times_in,
)
from v1lab.audio.pops import SpikeShape

#: Pass band of the audio monitor (Hz): 2nd-order Butterworth band-pass, as in the Open
#: Ephys GUI Audio Monitor.
MONITOR_BAND_HZ: tuple[float, float] = (100.0, 7000.0)

_PHASES = 1024  # spike placement resolution: 1/1024 sample (error <= 11 ns at 44.1 kHz)
_SCATTER_CHUNK = 16384  # spikes per vectorised scatter (bounds temporary memory)
_LIMITER_MARGIN = 1.0 - 1e-4  # aim 0.001 dB under the ceiling (float rounding headroom)


def _trough_position(x: np.ndarray) -> float:
    """Sub-sample position of the minimum of ``x`` (parabolic interpolation)."""
    k = int(np.argmin(x))
    if 0 < k < x.size - 1:
        y0, y1, y2 = float(x[k - 1]), float(x[k]), float(x[k + 1])
        curvature = y0 - 2.0 * y1 + y2
        if curvature > 0:
            return k + 0.5 * (y0 - y2) / curvature
    return float(k)


def _per_cell(name: str, value: Any, n_cells: int, *, lo: float, hi: float | None) -> np.ndarray:
    arr = as_float_array(name, value, ndim=1)
    if arr.shape[0] != n_cells:
        raise ParameterError(name, value, f"expected one value per cell ({n_cells})")
    if np.any(arr < lo) or (hi is not None and np.any(arr > hi)):
        allowed = f"values in [{lo:g}, {hi:g}]" if hi is not None else f"values >= {lo:g}"
        raise ParameterError(name, value, f"expected {allowed}")
    return arr


class SpikeAudioRenderer:
    """Block-wise spike-to-audio renderer with carried filter, limiter and noise state.

    The signal chain is the one of an extracellular audio monitor: spike waveforms
    (:func:`make_spike_waveform`, trough on the spike time, per-cell amplitude, a little
    per-spike amplitude jitter) plus white background hiss → 2nd-order Butterworth
    band-pass 100–7000 Hz (:data:`MONITOR_BAND_HZ`, as in the Open Ephys GUI Audio
    Monitor) → fixed gain (one isolated unit spike peaks at ``level_dbfs``) → look-ahead
    peak limiter (ceiling ``peak_dbfs``) → raised-cosine fade in (and out, when
    ``duration_s`` is given).

    The limiter computes, for every sample, the gain that would put it exactly at the
    ceiling, takes the running minimum over the next ``lookahead_s``, lets the
    attenuation decay exponentially with ``release_s`` (a slow release, so a burst does
    not make the background pump) and finally averages it over ``lookahead_s``. The
    average of values that each already respect the ceiling at that sample also
    respects it, so no sample ever exceeds ``peak_dbfs``, while the gain moves by at
    most ``1 / lookahead_samples`` per sample — no clipping and no jumps.

    The band-pass delays a spike's trough by about one sample; spikes are placed that
    much earlier, so the trough one hears lands on the spike time (error well below one
    sample). The look-ahead (and the part of a waveform that precedes its trough) makes
    the renderer a fixed delay line of ``latency_samples`` (about 2.3 ms): the block
    returned by ``render_block(…, t0_s, n)`` holds output samples
    ``[t0_s * fs_hz - latency_samples, … + n)``. Blocks must be contiguous.
    Concatenated block output, with its first ``latency_samples`` dropped, equals the
    one-shot :func:`render_spikes` output (up to float rounding).

    Parameters
    ----------
    n_cells : int
        Number of cells (spike trains) per block.
    fs_hz : int
        Output sampling rate (Hz): 44100 (default) or 48000; anything in 16000–192000
        works.
    amplitudes : array_like, optional
        Per-cell spike amplitude (>= 0; 1 = a cell touching the electrode); see
        :func:`electrode_amplitudes`. Default: all 1.
    channels : {1, 2}
        Mono, or stereo with cells alternating left (even) / right (odd).
    pan : array_like, optional
        Stereo only: per-cell position in [−1 (left), 1 (right)], constant-power pan law.
    hiss_level : float
        RMS of the band-passed background hiss relative to the peak of one unit spike
        (0 = off).
    amplitude_jitter : float
        Coefficient of variation of the per-spike amplitude (0 = none).
    level_dbfs : float
        Peak level of one isolated spike of amplitude 1 (dBFS) before limiting.
    peak_dbfs : float
        Ceiling no sample will exceed (dBFS).
    ramp_s : float
        Length of the raised-cosine fade-in (and fade-out) (s).
    lookahead_s : float
        Limiter look-ahead = attack time (s).
    release_s : float
        Limiter release time constant (s).
    duration_s : float, optional
        If given, the output fades out so that output sample ``duration_s * fs_hz - 1``
        is 0, and later samples are 0.
    rng : numpy.random.Generator, optional
        Source of the hiss and the amplitude jitter; ``None`` means
        ``numpy.random.default_rng(0)`` (reproducible by default).
    waveform : callable, optional
        A custom spike shape (see :func:`render_spikes`).
    trough_to_peak_s, spike_duration_s : float
        Spike waveform shape; see :func:`make_spike_waveform`.

    Examples
    --------
    >>> r = SpikeAudioRenderer(2, rng=np.random.default_rng(1))
    >>> blocks = [r.render_block([np.array([0.005]), np.array([])], 0.0, 441),
    ...           r.render_block([np.array([]), np.array([0.012])], 0.01, 441)]
    >>> np.concatenate(blocks).shape, r.latency_samples
    ((882,), 101)
    """

    def __init__(
        self,
        n_cells: int,
        *,
        fs_hz: int = 44100,
        amplitudes: Any = None,
        channels: int = 1,
        pan: Any = None,
        hiss_level: float = 0.05,
        amplitude_jitter: float = 0.05,
        level_dbfs: float = -12.0,
        peak_dbfs: float = -1.0,
        ramp_s: float = 0.01,
        lookahead_s: float = 0.002,
        release_s: float = 0.1,
        duration_s: float | None = None,
        rng: np.random.Generator | None = None,
        waveform: Any = None,
        trough_to_peak_s: float = 0.4e-3,
        spike_duration_s: float = 1e-3,
    ) -> None:
        self.n_cells = check_int("n_cells", n_cells, lo=0)
        self.fs_hz = check_int("fs_hz", fs_hz, lo=FS_MIN_HZ, hi=FS_MAX_HZ)
        self.channels = check_int("channels", channels, lo=1, hi=2)
        self.hiss_level = check_number("hiss_level", hiss_level, lo=0, hi=10)
        self.amplitude_jitter = check_number("amplitude_jitter", amplitude_jitter, lo=0, hi=1)
        self.level_dbfs = check_number("level_dbfs", level_dbfs, lo=-120, hi=20, unit="dBFS")
        self.peak_dbfs = check_number("peak_dbfs", peak_dbfs, lo=-60, hi=0, unit="dBFS")
        self.ramp_s = check_number("ramp_s", ramp_s, lo=1e-3, hi=1.0, unit="s")
        self.lookahead_s = check_number("lookahead_s", lookahead_s, lo=0.1e-3, hi=0.05, unit="s")
        self.release_s = check_number("release_s", release_s, lo=1e-3, hi=10.0, unit="s")
        if rng is None:
            rng = np.random.default_rng(0)
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("rng", rng, "expected a numpy.random.Generator or None")
        # A custom shape (e.g. a Hodgkin–Huxley cell's own spike) is any callable of time
        # from the trough with ``pre_s``/``post_s`` support and a unit trough at 0.
        self._shape = (
            SpikeShape.make(trough_to_peak_s, spike_duration_s) if waveform is None else waveform
        )
        fs = self.fs_hz

        if amplitudes is None:
            self._amplitudes = np.ones(self.n_cells)
        else:
            self._amplitudes = _per_cell("amplitudes", amplitudes, self.n_cells, lo=0, hi=None)
        if pan is not None and self.channels != 2:
            raise ParameterError("pan", pan, "expected None: pan applies to channels=2 only")
        if self.channels == 1:
            self._chan_gain = np.ones((self.n_cells, 1))
        else:
            if pan is None:
                pan_arr = np.where(np.arange(self.n_cells) % 2 == 0, -1.0, 1.0)
            else:
                pan_arr = _per_cell("pan", pan, self.n_cells, lo=-1.0, hi=1.0)
            angle = (pan_arr + 1.0) * (np.pi / 4.0)  # constant-power pan law
            gains = np.stack([np.cos(angle), np.sin(angle)], axis=1)
            gains[np.abs(gains) < 1e-12] = 0.0
            self._chan_gain = gains

        # Independent streams for jitter and hiss, so the result does not depend on how
        # the signal is cut into blocks.
        self._jitter_rng, self._hiss_rng = rng.spawn(2)

        # Band-pass, the fixed gain that puts an isolated unit spike at level_dbfs, and
        # the band-pass delay of the trough (compensated, so the trough one hears after
        # the filter lands on the spike time).
        self._sos = signal.butter(2, MONITOR_BAND_HZ, btype="bandpass", fs=fs, output="sos")
        probe = np.zeros(round(0.25 * fs))
        wave0 = self._shape(
            np.arange(-math.ceil(self._shape.pre_s * fs), math.floor(self._shape.post_s * fs) + 1)
            / fs
        )
        probe[: wave0.size] = wave0
        filtered = signal.sosfilt(self._sos, probe)
        unit_peak = float(np.max(np.abs(filtered)))
        self._delay = max(0.0, _trough_position(filtered) - _trough_position(probe))
        impulse = np.zeros_like(probe)
        impulse[0] = 1.0
        noise_gain = float(np.sqrt(np.sum(signal.sosfilt(self._sos, impulse) ** 2)))
        self._gain = 10.0 ** (self.level_dbfs / 20.0) / unit_peak
        self._hiss_sigma = self.hiss_level * unit_peak / noise_gain

        # Waveform taps relative to a spike's integer sample: j in [-kp, kq].
        self._kp = math.ceil(self._shape.pre_s * fs)
        self._kq = math.ceil(self._shape.post_s * fs)
        self._cols = np.arange(-self._kp, self._kq + 1)
        phase = np.arange(_PHASES + 1) / _PHASES
        self._table = self._shape((self._cols[None, :] - phase[:, None]) / fs)
        # Raw samples before a block start / after a block end that its spikes may touch
        # (one sample of tolerance on spike times, plus the delay compensation).
        self._pre = self._kp + 2 + math.ceil(self._delay)
        self._post = self._kq + 2
        self._la = max(1, round(self.lookahead_s * fs))
        self.latency_samples = self._pre + self._la

        self._ceiling = 10.0 ** (self.peak_dbfs / 20.0) * _LIMITER_MARGIN
        self._log_alpha = -1.0 / (self.release_s * fs)

        self._ramp = max(1, round(self.ramp_s * fs))
        if duration_s is None:
            self._end: int | None = None
        else:
            dur = check_number("duration_s", duration_s, lo=0, lo_open=True, unit="s")
            self._end = round(dur * fs)

        ch = self.channels
        self._a = 0  # next block's first raw sample index
        self._acc = np.zeros((self._pre + self._post, ch))  # raw mix from index a - pre
        self._zi = np.zeros((self._sos.shape[0], 2, ch))
        self._ypend = np.zeros((self._la, ch))  # filtered samples awaiting look-ahead
        self._ghist = np.ones(self._la - 1)  # released gain of the last la - 1 samples
        self._ghist_one = True
        self._atten = 0.0  # released attenuation (1 - gain) at the last sample
        self.last_gain = np.ones(0)

    @property
    def next_t0_s(self) -> float:
        """Start time (s) the next :meth:`render_block` call must use."""
        return self._a / self.fs_hz

    @property
    def lookahead_samples(self) -> int:
        """Limiter look-ahead in samples; the gain changes by at most 1/this per sample."""
        return self._la

    def render_block(
        self, spike_times_in_block: Sequence[np.ndarray], t0_s: float, n_samples: int
    ) -> np.ndarray:
        """Render the next ``n_samples`` of audio.

        Parameters
        ----------
        spike_times_in_block : sequence of array_like
            One array per cell of spike times (s, absolute) in
            ``[t0_s, t0_s + n_samples / fs_hz)`` (a one-sample tolerance either side).
        t0_s : float
            Start time of this block; must equal :attr:`next_t0_s` (blocks are
            contiguous).
        n_samples : int
            Block length in samples (>= 1).

        Returns
        -------
        numpy.ndarray
            float32 ``(n_samples,)`` (mono) or ``(n_samples, 2)``: output samples
            ``a - latency_samples … a + n_samples - latency_samples - 1`` where
            ``a = round(t0_s * fs_hz)``. The limiter gain of these samples is left in
            :attr:`last_gain`.
        """
        fs = self.fs_hz
        n = check_int("n_samples", n_samples, lo=1)
        t0 = check_number("t0_s", t0_s, unit="s")
        a = self._a
        if abs(t0 * fs - a) > 0.5:
            raise ParameterError(
                "t0_s", t0_s, f"expected {a / fs!r} s: blocks must follow each other"
            )
        trains = check_spike_trains("spike_times_in_block", spike_times_in_block)
        if len(trains) != self.n_cells:
            raise ParameterError(
                "spike_times_in_block",
                spike_times_in_block,
                f"expected one array per cell ({self.n_cells}), got {len(trains)}",
            )
        check_times_in(
            "spike_times_in_block",
            spike_times_in_block,
            trains,
            (a - 1) / fs,
            (a + n + 1) / fs,
            f"expected times in this block, [{a / fs:.6g}, {(a + n) / fs:.6g}) s",
        )

        ch = self.channels
        f = a - self._pre  # first raw index not yet final
        acc = np.zeros((n + self._pre + self._post, ch))
        acc[: self._acc.shape[0]] = self._acc
        if self.n_cells:
            self._scatter(acc, f, trains)
        raw = acc[:n]
        self._acc = acc[n:].copy()
        if self._hiss_sigma > 0:
            raw += self._hiss_sigma * self._hiss_rng.standard_normal((n, ch))
        y, self._zi = signal.sosfilt(self._sos, raw, axis=0, zi=self._zi)
        y *= self._gain

        ycat = np.concatenate([self._ypend, y])  # output indices [e, e + la + n)
        self._ypend = ycat[n:]
        gain = self._limiter_gain(ycat, n)
        if gain is None:
            out = ycat[:n]
            gain = np.ones(n)
        else:
            out = ycat[:n] * gain[:, None]
        e = a - self.latency_samples  # first output index of this block
        self._apply_fades(out, e)
        self._a = a + n
        self.last_gain = gain
        out32 = out.astype(np.float32)
        return out32[:, 0] if ch == 1 else out32

    # -- internals ---------------------------------------------------------------------

    def _scatter(self, acc: np.ndarray, f: int, trains: list[np.ndarray]) -> None:
        """Add every spike waveform into ``acc`` (raw indices from ``f``), vectorised."""
        times = np.concatenate(trains)
        if times.size == 0:
            return
        cells = np.repeat(np.arange(self.n_cells), [t.size for t in trains])
        order = np.lexsort((cells, times))  # canonical order: by time, then cell
        times, cells = times[order], cells[order]
        amp = self._amplitudes[cells]
        if self.amplitude_jitter > 0:
            jit = self._jitter_rng.standard_normal(times.size)
            amp = amp * np.maximum(0.0, 1.0 + self.amplitude_jitter * jit)
        fs = self.fs_hz
        cols = self._cols
        for s in range(0, times.size, _SCATTER_CHUNK):
            sl = slice(s, s + _SCATTER_CHUNK)
            rel = times[sl] * fs - (f + self._delay)
            base = np.floor(rel)
            frac = rel - base
            # Analytic waveform at each spike's fractional offset (tabulated at
            # 1/_PHASES-sample steps): one (n_spikes, n_taps) block.
            w = self._table[np.rint(frac * _PHASES).astype(np.intp)]
            ibase = base.astype(np.intp)
            lo = int(ibase[0]) + int(cols[0])  # times are sorted, so is ibase
            hi = int(ibase[-1]) + int(cols[-1]) + 1
            idx = ((ibase - lo)[:, None] + cols[None, :]).ravel()
            for c in range(self.channels):
                weight = amp[sl] * self._chan_gain[cells[sl], c]
                acc[lo:hi, c] += np.bincount(
                    idx, weights=(w * weight[:, None]).ravel(), minlength=hi - lo
                )

    def _limiter_gain(self, ycat: np.ndarray, n: int) -> np.ndarray | None:
        """Smooth look-ahead limiter gain for the first ``n`` samples of ``ycat``.

        Returns None when the limiter is idle (unity gain throughout).
        """
        la = self._la
        ceiling = self._ceiling
        peak = np.abs(ycat[:, 0])
        if self.channels == 2:
            np.maximum(peak, np.abs(ycat[:, 1]), out=peak)
        if self._atten == 0.0 and self._ghist_one and float(peak.max()) <= ceiling:
            return None
        g_req = ceiling / np.maximum(peak, ceiling)
        # g1[m] = min(g_req[m : m + la + 1]) via an O(n) running minimum.
        size = la + 1
        g1 = ndimage.minimum_filter1d(g_req, size=size, mode="nearest")[size // 2 : size // 2 + n]
        # Slow release: the attenuation h = 1 - g may decay by at most a factor alpha per
        # sample, h_r[j] = max(h1[j], alpha * h_r[j-1]); done as a running maximum in the
        # log domain (vectorised, and independent of how the signal is cut into blocks).
        log_alpha = self._log_alpha
        ramp = np.arange(n) * log_alpha
        lg = np.log(np.maximum(1.0 - g1, 1e-30))
        lg -= ramp
        if self._atten > 0.0:
            lg[0] = max(lg[0], math.log(self._atten) + log_alpha)
        logh = np.maximum.accumulate(lg)
        logh += ramp
        h_r = np.exp(np.maximum(logh, -80.0))
        h_r[logh < -75.0] = 0.0  # below 1e-32: no attenuation (and no denormals)
        self._atten = float(h_r[-1])
        g_r = 1.0 - h_r
        # Moving average over la samples (the attack ramp). Each averaged value already
        # keeps this sample under the ceiling, so the average does too.
        ext = np.concatenate([self._ghist, g_r])
        csum = np.concatenate([[0.0], np.cumsum(ext)])
        gain = (csum[la:] - csum[:-la]) * (1.0 / la)
        self._ghist = ext[ext.size - (la - 1) :]
        self._ghist_one = bool(np.all(self._ghist == 1.0))
        return np.minimum(gain, 1.0, out=gain)

    def _apply_fades(self, out: np.ndarray, e: int) -> None:
        """Raised-cosine fade-in from output index 0 (and fade-out before ``_end``)."""
        n = out.shape[0]
        r = self._ramp
        if e < r:
            m = np.arange(e, e + min(n, r - e))
            u = np.clip(m / r, 0.0, 1.0)
            out[: m.size] *= (np.sin(0.5 * np.pi * u) ** 2)[:, None]
        if self._end is not None and e + n > self._end - r:
            start = max(e, self._end - r)
            m = np.arange(start, e + n)
            u = np.clip((self._end - 1 - m) / r, 0.0, 1.0)
            out[start - e :] *= (np.sin(0.5 * np.pi * u) ** 2)[:, None]


def render_spikes(
    spike_times_s: Sequence[np.ndarray],
    duration_s: float,
    *,
    fs_hz: int = 44100,
    amplitudes: Any = None,
    channels: int = 1,
    pan: Any = None,
    hiss_level: float = 0.05,
    amplitude_jitter: float = 0.05,
    level_dbfs: float = -12.0,
    peak_dbfs: float = -1.0,
    ramp_s: float = 0.01,
    rng: np.random.Generator | None = None,
    waveform: Any = None,
) -> np.ndarray:
    """Render spike trains as the crackle of an extracellular audio monitor.

    Each spike becomes a biphasic, negative-first waveform (:func:`make_spike_waveform`)
    whose trough falls on the spike time with sub-sample accuracy; cells are scaled by
    ``amplitudes`` (see :func:`electrode_amplitudes`), spikes get a little amplitude
    jitter, quiet hiss goes underneath, the mix is band-passed 100–7000 Hz (2nd-order
    Butterworth, like the Open Ephys Audio Monitor), peak-limited so that no sample
    exceeds ``peak_dbfs`` and faded in and out with raised-cosine ramps. This is the
    sound by which Hubel & Wiesel (1959) found orientation tuning. See
    :class:`SpikeAudioRenderer` for the details and the block-wise version.

    Parameters
    ----------
    spike_times_s : sequence of array_like
        One 1-D array of spike times (s) per cell; times must be finite and >= 0.
        Spikes at or after ``duration_s`` are ignored.
    duration_s : float
        Length of the audio (s); t = 0 is sample 0.
    fs_hz : int
        Sampling rate (Hz): 44100 (default) or 48000.
    amplitudes : array_like, optional
        Per-cell amplitude (>= 0), default all 1.
    channels : {1, 2}
        Mono, or stereo with cell 0 left, cell 1 right, cell 2 left, … (or ``pan``).
    pan : array_like, optional
        Stereo only: per-cell position in [−1 (left), 1 (right)].
    hiss_level : float
        Background hiss RMS relative to the peak of one unit spike (0 = off).
    amplitude_jitter : float
        Coefficient of variation of per-spike amplitude.
    level_dbfs : float
        Peak level of one isolated unit spike (dBFS).
    peak_dbfs : float
        No sample exceeds this level (dBFS), at any firing rate.
    ramp_s : float
        Fade-in and fade-out length (s).
    rng : numpy.random.Generator, optional
        Randomness for hiss and jitter; ``None`` means ``default_rng(0)``.
    waveform : callable, optional
        The spike shape, a function of time from the trough with ``pre_s`` and ``post_s``
        attributes and a trough of −1 at 0 — e.g. a Hodgkin–Huxley cell's own
        extracellular signature (:class:`v1lab.cells.HHSpikeShape`). Default:
        the analytic biphasic pop (:func:`make_spike_waveform`).

    Returns
    -------
    numpy.ndarray
        float32, ``(n_samples,)`` for mono or ``(n_samples, 2)`` for stereo, with
        ``n_samples = round(duration_s * fs_hz)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> trains = [np.sort(rng.uniform(0, 1, 20)), np.sort(rng.uniform(0, 1, 20))]
    >>> audio = render_spikes(trains, 1.0, rng=rng)
    >>> audio.shape, audio.dtype, bool(np.abs(audio).max() <= 10 ** (-1 / 20))
    ((44100,), dtype('float32'), True)
    >>> render_spikes(trains, 1.0, channels=2, rng=rng).shape
    (44100, 2)
    """
    dur = check_number("duration_s", duration_s, lo=0, lo_open=True, unit="s")
    fs = check_int("fs_hz", fs_hz, lo=FS_MIN_HZ, hi=FS_MAX_HZ)
    trains = check_spike_trains("spike_times_s", spike_times_s)
    check_times_in("spike_times_s", spike_times_s, trains, 0.0, math.inf, "expected times >= 0")
    n = round(dur * fs)
    if n < 1:
        raise ParameterError("duration_s", duration_s, f"expected at least one sample at {fs} Hz")
    renderer = SpikeAudioRenderer(
        len(trains),
        fs_hz=fs,
        amplitudes=amplitudes,
        channels=channels,
        pan=pan,
        hiss_level=hiss_level,
        amplitude_jitter=amplitude_jitter,
        level_dbfs=level_dbfs,
        peak_dbfs=peak_dbfs,
        ramp_s=ramp_s,
        duration_s=n / fs,
        rng=rng,
        waveform=waveform,
    )
    d = renderer.latency_samples
    kept = [tr[tr * fs < n] for tr in trains]
    out = renderer.render_block(kept, 0.0, n + d)
    return out[d:]


def iter_spike_audio(
    spike_times_s: Sequence[np.ndarray],
    duration_s: float,
    *,
    fs_hz: int = 44100,
    amplitudes: Any = None,
    rng: np.random.Generator | None = None,
    block_s: float = 10.0,
    waveform: Any = None,
) -> Iterable[np.ndarray]:
    """The audio of :func:`render_spikes`, block by block, in bounded memory.

    Concatenated, the blocks equal ``render_spikes(spike_times_s, duration_s, …)``; a
    whole session is rendered without holding it (or its intermediate signals) at once.
    """
    dur = check_number("duration_s", duration_s, lo=0, lo_open=True, unit="s")
    fs = check_int("fs_hz", fs_hz, lo=FS_MIN_HZ, hi=FS_MAX_HZ)
    trains = check_spike_trains("spike_times_s", spike_times_s)
    n = round(dur * fs)
    renderer = SpikeAudioRenderer(
        len(trains), fs_hz=fs, amplitudes=amplitudes, duration_s=n / fs, rng=rng, waveform=waveform
    )
    lag = renderer.latency_samples
    total = n + lag
    step = max(1, round(block_s * fs))
    done = 0
    while done < total:
        m = min(step, total - done)
        t0 = renderer.next_t0_s
        lo, hi = done / fs, min(done + m, n) / fs
        block_trains = [tr[np.searchsorted(tr, lo) : np.searchsorted(tr, hi)] for tr in trains]
        block = renderer.render_block(block_trains, t0, m)
        skip = max(0, lag - done)
        done += m
        if skip < m:
            yield block[skip:]
