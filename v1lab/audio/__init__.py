"""Spikes you can hear: the loudspeaker of Hubel & Wiesel's amplifier, rebuilt.

Hubel & Wiesel found orientation tuning by ear: the amplified electrode signal went to a
loudspeaker, and a cell's discharge came out as a burst of crackle whenever the edge of a
projected slide swept across its receptive field at the right angle (Hubel & Wiesel 1959;
Hubel 1982, Nobel lecture). This module turns spike times back into that sound:

* every spike becomes an extracellular-like waveform — biphasic, negative first, about
  1 ms long, 0.3–0.5 ms from trough to peak (Henze et al. 2000; Gold et al. 2006;
  Barthó et al. 2004) — placed with sub-sample accuracy so its trough lands on the
  spike time;
* each cell is as loud as its distance from the electrode allows; extracellular spike
  amplitude falls off steeply within ~50–150 µm (Henze et al. 2000; Buzsáki 2004),
  modelled here as ``1 / (1 + (r / r0)**2)`` (:func:`electrode_amplitudes`);
* a quiet band-limited hiss sits underneath, and the mix is band-passed 100–7000 Hz like
  an electrophysiology audio monitor (the Open Ephys GUI Audio Monitor band-passes with a
  2nd-order Butterworth "to enhance the sound of spikes"; Siegle et al. 2017);
* a look-ahead peak limiter with a slow release keeps every sample at or below
  ``peak_dbfs`` (−1 dBFS by default) without clipping or per-buffer renormalisation
  (Giannoulis, Massberg & Reiss 2012), and streams fade in and out with raised-cosine
  ramps.

Rendering is vectorised (no Python loop per spike): the analytic waveform is evaluated at
each spike's fractional sample offsets as one ``(n_spikes, n_taps)`` block and scattered
into the signal with :func:`numpy.bincount`. :class:`SpikeAudioRenderer` renders block by
block with carried filter, limiter and noise state, so block-wise output equals one-shot
output (:func:`render_spikes`); :class:`AudioStream` plays pre-rendered blocks from a
preallocated ring buffer through :mod:`sounddevice` (PortAudio).

``sounddevice`` is imported lazily inside the functions that need it, so
``import v1lab.audio`` works on machines without PortAudio; :func:`check_audio_output`
then says, in one line, why playback is impossible and how to fix it.

References
----------
Barthó P, Hirase H, Monconduit L, Zugaro M, Harris KD, Buzsáki G (2004). Characterization
of neocortical principal cells and interneurons by network interactions and extracellular
features. J Neurophysiol 92:600–608.
Buzsáki G (2004). Large-scale recording of neuronal ensembles. Nat Neurosci 7:446–451.
Giannoulis D, Massberg M, Reiss JD (2012). Digital dynamic range compressor design — a
tutorial and analysis. J Audio Eng Soc 60:399–408.
Gold C, Henze DA, Koch C, Buzsáki G (2006). On the origin of the extracellular action
potential waveform: a modeling study. J Neurophysiol 95:3113–3128.
Henze DA, Borhegyi Z, Csicsvari J, Mamiya A, Harris KD, Buzsáki G (2000). Intracellular
features predicted by extracellular recordings in the hippocampus in vivo.
J Neurophysiol 84:390–400.
Hubel DH, Wiesel TN (1959). Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574–591.
Siegle JH, López AC, Patel YA, Abramov K, Ohayon S, Voigts J (2017). Open Ephys: an
open-source, plugin-based platform for multichannel electrophysiology. J Neural Eng
14:045003.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage, signal

from v1lab._validate import ParameterError, check_choice, check_int, check_number

__all__ = [
    "MONITOR_BAND_HZ",
    "NEIGHBOUR_DISTANCE_UM",
    "AudioOutputError",
    "AudioStream",
    "AudioStreamStats",
    "PlaybackResult",
    "SpikeAudioRenderer",
    "check_audio_output",
    "choose_electrode_cell",
    "condition_audio_names",
    "describe_demo",
    "electrode_amplitudes",
    "iter_spike_audio",
    "list_devices",
    "load_wav",
    "make_demo_conditions",
    "make_electrode_amplitudes",
    "make_run_waveform",
    "make_spike_waveform",
    "play_audio",
    "render_condition_audio",
    "render_demo",
    "render_spikes",
    "save_run_audio",
    "save_spikes_wav",
    "save_wav",
]

#: Pass band of the audio monitor (Hz): 2nd-order Butterworth band-pass, as in the Open
#: Ephys GUI Audio Monitor.
MONITOR_BAND_HZ: tuple[float, float] = (100.0, 7000.0)

_FS_MIN_HZ = 16000  # 7 kHz upper band edge needs a Nyquist frequency above it
_FS_MAX_HZ = 192000
_PHASES = 1024  # spike placement resolution: 1/1024 sample (error <= 11 ns at 44.1 kHz)
_SCATTER_CHUNK = 16384  # spikes per vectorised scatter (bounds temporary memory)
_LIMITER_MARGIN = 1.0 - 1e-4  # aim 0.001 dB under the ceiling (float rounding headroom)
_VIRTUAL_CARD_HINT = "`jackd --no-realtime -d dummy -r 44100 -p 256`"


# --------------------------------------------------------------------------------------
# Spike waveform
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SpikeShape:
    """Analytic extracellular spike: two raised-cosine lobes, trough at ``tau = 0``.

    ``w(tau) = -L(tau / h1) + (h1 / h2) * L((tau - T) / h2)`` with
    ``L(u) = cos(pi u / 2)**2`` on ``|u| <= 1`` and 0 outside. The trough lobe has full
    width at half minimum ``h1``, the positive (repolarisation) lobe ``h2 = 2 h1`` and
    half the height, so the net area is exactly zero; with ``h2 <= T`` the lobes only
    meet where both are flat, so the trough is exactly −1 at ``tau = 0`` and the peak is
    exactly at ``tau = T`` (trough-to-peak time).
    """

    trough_to_peak_s: float
    h1_s: float
    h2_s: float

    @classmethod
    def make(cls, trough_to_peak_s: float, duration_s: float) -> _SpikeShape:
        dur = check_number("duration_s", duration_s, lo=0.2e-3, hi=5e-3, unit="s")
        t2p = check_number("trough_to_peak_s", trough_to_peak_s, lo=0, lo_open=True, unit="s")
        if not 0.4 * dur <= t2p <= 0.7 * dur:
            raise ParameterError(
                "trough_to_peak_s",
                trough_to_peak_s,
                f"expected a time in [0.4, 0.7] × duration_s = [{0.4 * dur:.3g}, "
                f"{0.7 * dur:.3g}] s (shorten duration_s for narrower spikes)",
            )
        rest = dur - t2p
        return cls(trough_to_peak_s=t2p, h1_s=rest / 3.0, h2_s=2.0 * rest / 3.0)

    @property
    def pre_s(self) -> float:
        return self.h1_s

    @property
    def post_s(self) -> float:
        return self.trough_to_peak_s + self.h2_s

    def __call__(self, tau_s: np.ndarray) -> np.ndarray:
        u1 = np.clip(tau_s * (1.0 / self.h1_s), -1.0, 1.0)
        u2 = np.clip((tau_s - self.trough_to_peak_s) * (1.0 / self.h2_s), -1.0, 1.0)
        # cos(pi u / 2)**2 == 0.5 * (1 + cos(pi u)); exactly 0 at |u| = 1 up to rounding.
        lobe1 = 0.5 + 0.5 * np.cos(np.pi * u1)
        lobe2 = 0.5 + 0.5 * np.cos(np.pi * u2)
        return (self.h1_s / self.h2_s) * lobe2 - lobe1


def make_spike_waveform(
    fs_hz: int, *, trough_to_peak_s: float = 0.4e-3, duration_s: float = 1e-3
) -> np.ndarray:
    """Sample one extracellular spike waveform: biphasic, negative first, unit trough.

    The extracellular action potential recorded near the soma is dominated by a sharp
    negative trough (inward Na⁺ current) followed by a smaller, broader positive phase
    (repolarisation); its trough-to-peak time is 0.3–0.5 ms for most cortical cells
    (Henze et al. 2000; Gold et al. 2006; Barthó et al. 2004). The model is two
    raised-cosine lobes: a trough of width ``h1`` and a positive lobe of width
    ``h2 = 2 h1`` and height 1/2, so the waveform has zero net area, a trough of exactly
    −1 and a peak exactly ``trough_to_peak_s`` after it.

    Parameters
    ----------
    fs_hz : int
        Sampling rate (Hz), 16000–192000.
    trough_to_peak_s : float
        Time from the negative trough to the positive peak (s); between 0.4 and 0.7 times
        ``duration_s``.
    duration_s : float
        Total support of the waveform (s), 0.2–5 ms.

    Returns
    -------
    numpy.ndarray
        float64 samples ``w[k] = w((k - k0) / fs_hz)`` with ``k0 = ceil(h1 * fs_hz)``, so
        sample ``k0`` is the trough (exactly −1).

    Examples
    --------
    >>> w = make_spike_waveform(44100)
    >>> round(float(w.min()), 6), bool(np.argmin(w) < np.argmax(w))
    (-1.0, True)
    >>> round(float(np.argmax(w) - np.argmin(w)) / 44100 * 1e3, 2)  # trough-to-peak, ms
    0.41
    """
    fs = check_int("fs_hz", fs_hz, lo=_FS_MIN_HZ, hi=_FS_MAX_HZ)
    shape = _SpikeShape.make(trough_to_peak_s, duration_s)
    k0 = math.ceil(shape.pre_s * fs)
    k1 = math.floor(shape.post_s * fs)
    tau = np.arange(-k0, k1 + 1, dtype=np.float64) / fs
    return shape(tau)


def electrode_amplitudes(
    distances: Any,
    *,
    r0_um: float = 50.0,
    unit: str = "um",
    um_per_deg: float | None = None,
) -> np.ndarray:
    """Spike amplitude of each cell from its distance to the electrode tip.

    Extracellular spike amplitude falls steeply with distance from the soma: tetrode
    recordings with simultaneous intracellular recordings show that amplitudes drop by
    more than half within ~50 µm and that units more than ~140 µm away are lost in the
    noise (Henze et al. 2000; Buzsáki 2004; Gold et al. 2006). This helper uses the
    smooth fall-off ``a = 1 / (1 + (r / r0)**2)``.

    Parameters
    ----------
    distances : array_like
        Distances from the electrode tip, in ``unit``; finite and >= 0.
    r0_um : float
        Distance (µm) at which the amplitude has halved.
    unit : {"um", "deg"}
        Unit of ``distances``: micrometres of cortex, or degrees of visual angle (e.g.
        the distance of a cell's receptive-field centre from the electrode's), converted
        with ``um_per_deg``.
    um_per_deg : float, optional
        Cortical magnification (µm of cortex per degree of visual field); required when
        ``unit="deg"``.

    Returns
    -------
    numpy.ndarray
        float64 amplitudes in (0, 1], one per distance (1 at the tip).

    Examples
    --------
    >>> electrode_amplitudes([0.0, 50.0, 100.0])
    array([1. , 0.5, 0.2])
    >>> electrode_amplitudes([0.1], unit="deg", um_per_deg=500.0)
    array([0.5])
    """
    r0 = check_number("r0_um", r0_um, lo=0, lo_open=True, unit="µm")
    check_choice("unit", unit, ("um", "deg"))
    d = _as_float_array("distances", distances, ndim=1)
    if np.any(d < 0):
        raise ParameterError("distances", distances, "expected distances >= 0")
    if unit == "deg":
        if um_per_deg is None:
            raise ParameterError(
                "um_per_deg", um_per_deg, "expected µm of cortex per degree when unit='deg'"
            )
        d = d * check_number("um_per_deg", um_per_deg, lo=0, lo_open=True, unit="µm/deg")
    return 1.0 / (1.0 + (d / r0) ** 2)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


def _as_float_array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, value, f"expected an array of numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(name, value, f"expected a {ndim}-D array, got {arr.ndim}-D")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, value, "expected finite numbers (no NaN or inf)")
    return arr


def _spike_trains(name: str, spike_times: Any) -> list[np.ndarray]:
    """Validate a sequence of per-cell spike-time arrays (finite, 1-D)."""
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        raise ParameterError(
            name,
            spike_times,
            "expected a sequence of 1-D arrays, one per cell (wrap a single train in a list)",
        )
    if isinstance(spike_times, (str, bytes)) or not isinstance(spike_times, (Sequence, np.ndarray)):
        raise ParameterError(name, spike_times, "expected a sequence of 1-D arrays, one per cell")
    trains = []
    for i, train in enumerate(spike_times):
        try:
            arr = np.asarray(train, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{name}[{i}]", train, f"expected spike times ({exc})") from None
        if arr.ndim != 1:
            if arr.ndim != 0:
                raise ParameterError(f"{name}[{i}]", train, "expected a 1-D array of times (s)")
            arr = arr.reshape(1)
        trains.append(arr)
    # One vectorised check for all cells; look for the culprit only when it fails.
    if trains and not np.isfinite(np.concatenate(trains)).all():
        i = next(i for i, t in enumerate(trains) if not np.isfinite(t).all())
        raise ParameterError(f"{name}[{i}]", spike_times[i], "expected finite times (no NaN/inf)")
    return trains


def _check_times_in(
    name: str, spike_times: Any, trains: list[np.ndarray], lo: float, hi: float, allowed: str
) -> None:
    """Raise naming the first cell with a spike outside ``[lo, hi)``."""
    times = np.concatenate(trains) if trains else np.zeros(0)
    if times.size and (times.min() < lo or times.max() >= hi):
        i = next(i for i, t in enumerate(trains) if t.size and (t.min() < lo or t.max() >= hi))
        raise ParameterError(f"{name}[{i}]", spike_times[i], allowed)


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
    arr = _as_float_array(name, value, ndim=1)
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
        self.fs_hz = check_int("fs_hz", fs_hz, lo=_FS_MIN_HZ, hi=_FS_MAX_HZ)
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
            _SpikeShape.make(trough_to_peak_s, spike_duration_s) if waveform is None else waveform
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
        trains = _spike_trains("spike_times_in_block", spike_times_in_block)
        if len(trains) != self.n_cells:
            raise ParameterError(
                "spike_times_in_block",
                spike_times_in_block,
                f"expected one array per cell ({self.n_cells}), got {len(trains)}",
            )
        _check_times_in(
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
    fs = check_int("fs_hz", fs_hz, lo=_FS_MIN_HZ, hi=_FS_MAX_HZ)
    trains = _spike_trains("spike_times_s", spike_times_s)
    _check_times_in("spike_times_s", spike_times_s, trains, 0.0, math.inf, "expected times >= 0")
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


# --------------------------------------------------------------------------------------
# WAV files
# --------------------------------------------------------------------------------------


def _check_audio_array(audio: Any, name: str = "audio") -> np.ndarray:
    arr = np.asarray(audio)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] != 2):
        raise ParameterError(
            name, audio, f"expected shape (n_samples,) or (n_samples, 2), got {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ParameterError(name, audio, "expected at least one sample")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ParameterError(name, audio, f"expected float samples in [-1, 1], got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, audio, "expected finite samples (no NaN or inf)")
    if np.max(np.abs(arr)) > 1.0:
        raise ParameterError(name, audio, "expected samples in [-1, 1]")
    return arr


def save_wav(
    path: str | os.PathLike[str], audio: Any, fs_hz: int, *, overwrite: bool = False
) -> Path:
    """Write audio as a 16-bit PCM WAV file, atomically.

    The file is written to a temporary file in the same folder and then moved into
    place, so a reader never sees a half-written WAV and a crash never leaves one.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder must exist.
    audio : array_like
        Float samples in [−1, 1], shape ``(n,)`` (mono) or ``(n, 2)`` (stereo);
        scaled by 32767 and rounded.
    fs_hz : int
        Sampling rate (Hz).
    overwrite : bool
        Replace an existing file; otherwise an existing ``path`` raises
        :class:`FileExistsError`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> p = save_wav(folder / "pops.wav", np.zeros(441, np.float32), 44100)
    >>> load_wav(p)[0].shape, load_wav(p)[1]
    ((441,), 44100)
    """
    arr = _check_audio_array(audio)
    return _write_wav_blocks(path, [arr], fs_hz, 1 if arr.ndim == 1 else 2, overwrite=overwrite)


def _write_wav_blocks(
    path: str | os.PathLike[str],
    blocks: Iterable[np.ndarray],
    fs_hz: int,
    channels: int,
    *,
    overwrite: bool = False,
) -> Path:
    """Stream float blocks into a 16-bit WAV written atomically (see :func:`save_wav`)."""
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    if not isinstance(overwrite, bool):
        raise ParameterError("overwrite", overwrite, "expected true or false")
    dest = Path(path)
    if not dest.parent.is_dir():
        raise FileNotFoundError(f"folder {str(dest.parent)!r} does not exist")
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{str(dest)!r} exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with wave.open(fh, "wb") as wav:
                wav.setnchannels(channels)
                wav.setsampwidth(2)
                wav.setframerate(fs)
                for block in blocks:
                    pcm = np.round(np.asarray(block, np.float64) * 32767.0).astype("<i2")
                    wav.writeframes(pcm.tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)  # atomic and refuses to clobber a file created meanwhile
            except FileExistsError:
                raise FileExistsError(
                    f"{str(dest)!r} exists; pass overwrite=True to replace it"
                ) from None
            except OSError:  # file system without hard links
                if dest.exists():
                    raise FileExistsError(
                        f"{str(dest)!r} exists; pass overwrite=True to replace it"
                    ) from None
                os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def load_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file written by :func:`save_wav`.

    Parameters
    ----------
    path : str or os.PathLike
        WAV file (16-bit PCM, mono or stereo).

    Returns
    -------
    audio : numpy.ndarray
        float32 samples (int16 / 32767), ``(n,)`` or ``(n, channels)``.
    fs_hz : int
        Sampling rate (Hz).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
    >>> _ = save_wav(p, np.full((10, 2), 0.5), 48000)
    >>> audio, fs = load_wav(p)
    >>> audio.shape, fs, round(float(audio[0, 0]), 4)
    ((10, 2), 48000, 0.5)
    """
    with wave.open(os.fspath(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(
                f"{os.fspath(path)!r}: expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit"
            )
        n_ch = wav.getnchannels()
        fs = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = (data.astype(np.float32) / np.float32(32767.0)).reshape(-1, n_ch)
    return (audio[:, 0] if n_ch == 1 else audio), fs


# --------------------------------------------------------------------------------------
# Playback (sounddevice / PortAudio, imported lazily)
# --------------------------------------------------------------------------------------


class AudioOutputError(RuntimeError):
    """Audio cannot be played; the message is one line saying why and how to fix it."""


class _StreamDone(Exception):
    """Raised by the callback at the end of a stream (replaced by sd.CallbackStop)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _import_sounddevice() -> tuple[Any, str | None]:
    """Return ``(sounddevice, None)`` or ``(None, one-line reason)``."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the module is there but libportaudio is not
        return None, (
            f"cannot play audio: the PortAudio library is missing ({_one_line(exc)}); "
            "install it with `apt-get install libportaudio2` (Debian/Ubuntu) or "
            "`brew install portaudio` (macOS)"
        )
    except ImportError as exc:
        return None, (
            f"cannot play audio: sounddevice/PortAudio is not available ({_one_line(exc)}); "
            "install PortAudio with `apt-get install libportaudio2` and the module with "
            "`pip install sounddevice`"
        )
    return sd, None


def _normalise_device(device: Any) -> int | str | None:
    if device is None:
        return None
    if isinstance(device, str):
        text = device.strip()
        if not text:
            raise ParameterError("device", device, "expected a device name or index")
        return int(text) if text.isdigit() else text
    if isinstance(device, bool) or not isinstance(device, (int, np.integer)):
        raise ParameterError("device", device, "expected a device name (str) or index (int)")
    if device < 0:
        raise ParameterError("device", device, "expected a device index >= 0")
    return int(device)


def _device_problem(sd: Any, device: int | str | None, fs_hz: int, channels: int) -> str | None:
    """One-line reason why ``device`` cannot play ``fs_hz`` × ``channels``, or None."""
    fix = "choose one with --device (see --list-devices)"
    try:
        info = sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError) as exc:
        if device is None:
            return (
                f"cannot play audio: no default audio output device ({_one_line(exc)}); "
                f"{fix}, or start a virtual sound card with {_VIRTUAL_CARD_HINT}"
            )
        return (
            f"cannot play audio: no audio output device matches {device!r} "
            f"({_one_line(exc)}); {fix}"
        )
    try:
        sd.check_output_settings(
            device=device, samplerate=fs_hz, channels=channels, dtype="float32"
        )
    except (ValueError, sd.PortAudioError) as exc:
        return (
            f"cannot play audio: device {info['name']!r} cannot play {fs_hz} Hz × "
            f"{channels} channel(s) ({_one_line(exc)}); {fix}"
        )
    return None


def check_audio_output(
    device: int | str | None = None, *, fs_hz: int = 44100, channels: int = 1
) -> str | None:
    """Say whether audio can be played, and if not, why and how to fix it.

    Parameters
    ----------
    device : int or str, optional
        PortAudio device index or (part of its) name; ``None`` = the default output.
    fs_hz : int
        Sampling rate to check (Hz).
    channels : {1, 2}
        Channel count to check.

    Returns
    -------
    str or None
        ``None`` if playback is possible, else ONE line: PortAudio missing → how to
        install ``libportaudio2``; no or bad device → choose one with ``--device``
        (see ``--list-devices``).

    Examples
    --------
    >>> msg = check_audio_output()
    >>> msg is None or (isinstance(msg, str) and "\\n" not in msg)
    True
    """
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    ch = check_int("channels", channels, lo=1, hi=2)
    dev = _normalise_device(device)
    sd, problem = _import_sounddevice()
    if problem is not None:
        return problem
    return _device_problem(sd, dev, fs, ch)


def list_devices() -> str:
    """List the audio output devices PortAudio sees, one per line.

    Returns
    -------
    str
        Lines ``index: name [host API], N out, default Hz`` with ``*`` marking the
        default output; or one line saying why no device can be listed.

    Examples
    --------
    >>> isinstance(list_devices(), str)
    True
    """
    sd, problem = _import_sounddevice()
    if problem is not None:
        return problem
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_out = sd.default.device[1]
    except sd.PortAudioError as exc:
        return f"cannot list audio devices: {_one_line(exc)}"
    if default_out is None or default_out < 0:
        try:
            default_out = sd.query_devices(kind="output")["index"]
        except (ValueError, sd.PortAudioError):
            default_out = -1
    lines = []
    for i, dev in enumerate(devices):
        if dev["max_output_channels"] < 1:
            continue
        mark = "*" if i == default_out else " "
        api = hostapis[dev["hostapi"]]["name"]
        lines.append(
            f"{mark}{i:3d}: {dev['name']} [{api}], {dev['max_output_channels']} out, "
            f"{dev['default_samplerate']:.0f} Hz"
        )
    if not lines:
        return (
            "no audio output devices found; connect one or start a virtual sound card "
            f"with {_VIRTUAL_CARD_HINT}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class AudioStreamStats:
    """Counters of an :class:`AudioStream` (a snapshot).

    Attributes
    ----------
    underflows : int
        Callbacks that found fewer queued frames than they needed while more input was
        expected (the gap was filled with silence).
    underflow_frames : int
        Frames of silence inserted by those underflows.
    xruns : int
        Callbacks in which PortAudio itself flagged an output underflow.
    blocks_played : int
        Callbacks served.
    frames_played : int
        Queued (pushed) frames handed to the device.
    latency_s : float
        Output latency PortAudio reports for the stream (``stream.latency``).
    measured_latency_s : float
        Mean of ``outputBufferDacTime - currentTime`` over the callbacks (NaN if the host
        API gives no time stamps).
    queued_frames : int
        Frames pushed but not yet played.
    """

    underflows: int
    underflow_frames: int
    xruns: int
    blocks_played: int
    frames_played: int
    latency_s: float
    measured_latency_s: float
    queued_frames: int


class AudioStream:
    """Real-time audio output from a preallocated ring buffer (PortAudio via sounddevice).

    The producer (e.g. a live simulation rendering 10-ms blocks with
    :class:`SpikeAudioRenderer`) calls :meth:`push`; the PortAudio callback only copies
    queued frames into the device buffer — no allocation, no simulation — and fills
    silence (counted in :attr:`stats`) when the queue runs dry. The stream fades in over
    ``fade_s`` when it starts, and fades out over ``fade_s`` when it stops (on the last
    queued frames when draining, on whatever is playing when not).

    Parameters
    ----------
    fs_hz : int
        Sampling rate (Hz).
    channels : {1, 2}
        Mono or stereo.
    blocksize : int
        Frames per callback (441 = 10 ms at 44.1 kHz); 0 lets PortAudio choose.
    device : int or str, optional
        PortAudio output device index or name; ``None`` = default.
    buffer_s : float
        Capacity of the ring buffer (s).
    fade_s : float
        Fade-in / fade-out length (s).
    latency : float or {"low", "high"}, optional
        Requested device latency, passed to :class:`sounddevice.OutputStream`.

    Examples
    --------
    >>> with AudioStream(fs_hz=44100, blocksize=441) as stream:  # doctest: +SKIP
    ...     for block in blocks:
    ...         while not stream.push(block):
    ...             time.sleep(0.002)
    >>> stream.stats.underflows  # doctest: +SKIP
    0
    """

    def __init__(
        self,
        *,
        fs_hz: int = 44100,
        channels: int = 1,
        blocksize: int = 441,
        device: int | str | None = None,
        buffer_s: float = 0.5,
        fade_s: float = 0.01,
        latency: float | str | None = None,
    ) -> None:
        self.fs_hz = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
        self.channels = check_int("channels", channels, lo=1, hi=2)
        self.blocksize = check_int("blocksize", blocksize, lo=0, hi=1 << 16)
        self.device = _normalise_device(device)
        buf = check_number("buffer_s", buffer_s, lo=0, lo_open=True, hi=3600, unit="s")
        fade = check_number("fade_s", fade_s, lo=0, hi=1.0, unit="s")
        if latency is not None and not isinstance(latency, str):
            latency = check_number("latency", latency, lo=0, hi=10, unit="s")
        elif isinstance(latency, str):
            check_choice("latency", latency, ("low", "high"))
        self.latency = latency
        self._cap = max(round(buf * self.fs_hz), 2 * max(self.blocksize, 1))
        self._ring = np.zeros((self._cap, self.channels), dtype=np.float32)
        nf = max(1, round(fade * self.fs_hz))
        self._nfade = nf
        ramp = np.sin(0.5 * np.pi * np.arange(nf) / nf) ** 2
        self._ramp_up = ramp.astype(np.float32)[:, None]  # gain of output frame i
        self._ramp_tail = ramp[::-1].astype(np.float32)[:, None]  # last frame -> 0
        self._write = 0  # producer-owned counter of frames pushed
        self._read = 0  # callback-owned counter of frames played
        self._final_write: int | None = None  # set by finish(): no more input
        self._abort = False
        self._abort_pos = 0
        self._fade_in_pos = 0
        self._underflows = 0
        self._underflow_frames = 0
        self._xruns = 0
        self._blocks = 0
        self._lat_sum = 0.0
        self._lat_n = 0
        self._stream: Any = None
        self._stop_exc: type[BaseException] = _StreamDone
        self._done = threading.Event()
        self._started = False
        self._closed = False
        self._latency_s = math.nan
        self.device_name: str | None = None
        self.host_api: str | None = None

    # -- producer side -----------------------------------------------------------------

    @property
    def capacity_frames(self) -> int:
        """Size of the ring buffer in frames."""
        return self._cap

    @property
    def queued_frames(self) -> int:
        """Frames pushed but not yet played."""
        return self._write - self._read

    @property
    def free_frames(self) -> int:
        """Frames that :meth:`push` can accept right now."""
        return self._cap - (self._write - self._read)

    def push(self, block: Any) -> bool:
        """Queue a block of frames without blocking.

        Parameters
        ----------
        block : array_like
            ``(n,)`` (mono) or ``(n, channels)`` float samples in [−1, 1].

        Returns
        -------
        bool
            True if queued; False if the ring buffer has no room for the whole block
            (nothing is queued then; retry after a few milliseconds).
        """
        if self._final_write is not None or self._closed:
            raise RuntimeError("AudioStream.push after finish()/stop(): no more input")
        arr = np.asarray(block, dtype=np.float32)
        if arr.ndim == 1 and self.channels == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.channels:
            raise ParameterError(
                "block", block, f"expected shape (n,) or (n, {self.channels}), got {arr.shape}"
            )
        n = arr.shape[0]
        if n > self._cap:
            raise ParameterError("block", block, f"expected at most {self._cap} frames")
        w = self._write
        if n > self._cap - (w - self._read):
            return False
        i = w % self._cap
        first = min(n, self._cap - i)
        self._ring[i : i + first] = arr[:first]
        if n > first:
            self._ring[: n - first] = arr[first:]
        self._write = w + n  # publish after the copy
        return True

    def finish(self) -> None:
        """Declare the end of input: play what is queued, fading out its last frames."""
        if self._final_write is None:
            self._final_write = self._write

    # -- stream control ----------------------------------------------------------------

    def start(self) -> AudioStream:
        """Open the output device and start playing (with a fade-in).

        Raises
        ------
        AudioOutputError
            If PortAudio or the device is unavailable (one-line reason and fix).
        """
        if self._started:
            raise RuntimeError("AudioStream can be started only once")
        sd, problem = _import_sounddevice()
        if problem is None:
            problem = _device_problem(sd, self.device, self.fs_hz, self.channels)
        if problem is not None:
            raise AudioOutputError(problem)
        self._stop_exc = sd.CallbackStop
        kwargs: dict[str, Any] = {}
        if self.latency is not None:
            kwargs["latency"] = self.latency
        try:
            self._stream = sd.OutputStream(
                samplerate=self.fs_hz,
                channels=self.channels,
                dtype="float32",
                blocksize=self.blocksize,
                device=self.device,
                callback=self._callback,
                finished_callback=self._done.set,
                **kwargs,
            )
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioOutputError(
                f"cannot open audio output ({_one_line(exc)}); choose a device with "
                "--device (see --list-devices)"
            ) from exc
        self._latency_s = float(self._stream.latency)
        dev = sd.query_devices(self._stream.device)
        self.device_name = str(dev["name"])
        self.host_api = str(sd.query_hostapis(dev["hostapi"])["name"])
        self._started = True
        self._stream.start()
        return self

    def stop(self, *, drain: bool = True, timeout_s: float | None = None) -> None:
        """Stop the stream with a fade-out and close the device.

        Parameters
        ----------
        drain : bool
            True: play everything queued, fading out its last ``fade_s``. False: fade
            out whatever is playing now over ``fade_s`` and drop the rest.
        timeout_s : float, optional
            Give up waiting (and abort the stream) after this long; default: the queued
            audio's duration plus 2 s.
        """
        if self._stream is None:
            self._closed = True
            return
        if drain:
            self.finish()
        else:
            self._abort = True
        wait = (self.queued_frames if drain else self._nfade) / self.fs_hz
        if timeout_s is None:
            timeout_s = wait + max(self._latency_s, 0.0) + 2.0
        finished = self._done.wait(timeout_s)
        stream, self._stream = self._stream, None
        try:
            if finished:
                stream.stop()
            else:
                stream.abort()
        finally:
            stream.close()
            self._closed = True

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until the stream has finished playing; True if it has."""
        return self._done.wait(timeout_s)

    def __enter__(self) -> AudioStream:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(drain=exc_type is None)

    @property
    def active(self) -> bool:
        """True while the device is open and the stream has not finished."""
        return self._stream is not None and not self._done.is_set()

    @property
    def stats(self) -> AudioStreamStats:
        """Counters so far (underflows, blocks played, latency)."""
        return AudioStreamStats(
            underflows=self._underflows,
            underflow_frames=self._underflow_frames,
            xruns=self._xruns,
            blocks_played=self._blocks,
            frames_played=self._read,
            latency_s=self._latency_s,
            measured_latency_s=self._lat_sum / self._lat_n if self._lat_n else math.nan,
            queued_frames=self._write - self._read,
        )

    # -- PortAudio thread --------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """Copy queued frames to the device; no allocation beyond array views."""
        if status.output_underflow:
            self._xruns += 1
        dac, now = time_info.outputBufferDacTime, time_info.currentTime
        if dac > 0 and now > 0:
            self._lat_sum += dac - now
            self._lat_n += 1
        r = self._read
        end = self._final_write
        avail = self._write - r
        if end is not None:
            avail = min(avail, end - r)
        k = max(0, min(frames, avail))
        if k:
            i = r % self._cap
            first = min(k, self._cap - i)
            outdata[:first] = self._ring[i : i + first]
            if k > first:
                outdata[first:k] = self._ring[: k - first]
        if k < frames:
            outdata[k:] = 0.0
            if end is None and not self._abort:
                self._underflows += 1
                self._underflow_frames += frames - k
        self._read = r + k
        self._blocks += 1
        nf = self._nfade
        pos = self._fade_in_pos
        if pos < nf:
            m = min(frames, nf - pos)
            outdata[:m] *= self._ramp_up[pos : pos + m]
            self._fade_in_pos = pos + m
        if end is not None:  # fade out the last nf queued frames
            s = max(r, end - nf)
            if s < r + k:
                j = s - (end - nf)
                outdata[s - r : k] *= self._ramp_tail[j : j + (r + k - s)]
            if r + k >= end:
                raise self._stop_exc
        if self._abort:  # fade out over the next nf output frames, then stop
            apos = self._abort_pos
            m = min(frames, nf - apos)
            outdata[:m] *= self._ramp_tail[apos : apos + m]
            outdata[m:] = 0.0
            self._abort_pos = apos + m
            if apos + m >= nf:
                raise self._stop_exc


@dataclass(frozen=True)
class PlaybackResult:
    """What :func:`play_audio` measured.

    Attributes
    ----------
    duration_s : float
        Length of the audio (s).
    wall_time_s : float
        Wall-clock time from stream start until the device finished (s).
    frames_played : int
        Frames handed to the device.
    underflows : int
        Times the queue ran dry (silence was inserted).
    xruns : int
        Output underflows reported by PortAudio.
    latency_s : float
        Output latency reported by PortAudio (s).
    measured_latency_s : float
        Mean callback-to-DAC time from PortAudio's time stamps (s; NaN if none).
    device : str
        Device name.
    host_api : str
        PortAudio host API (ALSA, JACK Audio Connection Kit, …).
    """

    duration_s: float
    wall_time_s: float
    frames_played: int
    underflows: int
    xruns: int
    latency_s: float
    measured_latency_s: float
    device: str
    host_api: str


def play_audio(
    audio: Any,
    fs_hz: int,
    *,
    device: int | str | None = None,
    blocksize: int = 0,
    buffer_s: float = 30.0,
) -> PlaybackResult:
    """Play audio through :class:`AudioStream` and wait until it has been heard.

    Parameters
    ----------
    audio : array_like
        Float samples in [−1, 1], ``(n,)`` or ``(n, 2)`` (e.g. from
        :func:`render_spikes`).
    fs_hz : int
        Sampling rate (Hz).
    device : int or str, optional
        Output device index or name (see :func:`list_devices`); ``None`` = default.
    blocksize : int
        Frames per callback; 0 (default) = 10 ms.
    buffer_s : float
        Audio up to this long is queued before the stream starts (so even a device that
        consumes faster than real time never runs dry); longer audio is fed as it plays.

    Returns
    -------
    PlaybackResult

    Raises
    ------
    AudioOutputError
        If playback is impossible (one-line reason, see :func:`check_audio_output`) or
        the device stops responding.

    Examples
    --------
    >>> audio = render_spikes([np.array([0.1, 0.2])], 0.5)
    >>> play_audio(audio, 44100).underflows  # doctest: +SKIP
    0
    """
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    arr = _check_audio_array(audio).astype(np.float32, copy=False)
    block = check_int("blocksize", blocksize, lo=0, hi=1 << 16) or max(1, round(fs / 100))
    channels = 1 if arr.ndim == 1 else 2
    n = arr.shape[0]
    buf_s = check_number("buffer_s", buffer_s, lo=0.05, hi=3600, unit="s")
    cap_s = min(buf_s, n / fs + 0.1)
    stream = AudioStream(
        fs_hz=fs, channels=channels, blocksize=block, device=device, buffer_s=cap_s
    )
    pos = min(n, stream.capacity_frames)
    stream.push(arr[:pos])
    if pos == n:
        stream.finish()
    t_start = time.perf_counter()
    stream.start()
    try:
        while pos < n:
            chunk = min(block, n - pos)
            if stream.push(arr[pos : pos + chunk]):
                pos += chunk
            else:
                if not stream.active:
                    break
                time.sleep(0.25 * block / fs)
        stream.finish()
        ok = stream.wait(stream.queued_frames / fs + max(stream.stats.latency_s, 0) + 5.0)
        wall = time.perf_counter() - t_start
    finally:
        stream.stop(drain=True, timeout_s=1.0)
    if not ok:
        raise AudioOutputError(
            "audio output stopped responding (playback did not finish); choose another "
            "device with --device (see --list-devices)"
        )
    st = stream.stats
    return PlaybackResult(
        duration_s=n / fs,
        wall_time_s=wall,
        frames_played=st.frames_played,
        underflows=st.underflows,
        xruns=st.xruns,
        latency_s=st.latency_s,
        measured_latency_s=st.measured_latency_s,
        device=stream.device_name or "",
        host_api=stream.host_api or "",
    )


# --------------------------------------------------------------------------------------
# A run's sound: the electrode, the session, each condition, and H&W's demonstration
# --------------------------------------------------------------------------------------

#: Distances (µm) of the other cells from the electrode tip, drawn uniformly: near enough
#: to be heard as fainter units under the one the electrode is on (Henze et al. 2000).
NEIGHBOUR_DISTANCE_UM = (60.0, 200.0)

_NAME_KEYS = {
    "orientation_deg": ("orientation", True),
    "direction_deg": ("dir", True),
    "contrast": ("contrast", False),
    "spatial_frequency_cpd": ("sf", False),
    "temporal_frequency_hz": ("tf", False),
    "length_deg": ("length", False),
    "width_deg": ("width", False),
    "speed_deg_s": ("speed", False),
    "x_deg": ("x", False),
    "y_deg": ("y", False),
    "radius_deg": ("radius", False),
    "phase_deg": ("phase", True),
}


def choose_electrode_cell(recording: Any) -> int:
    """The cell an experimenter would settle the electrode on: the most responsive one.

    Responsiveness is the largest PSTH-peak rate over conditions
    (:func:`v1lab.analysis.compute_peak_rates`).
    """
    from v1lab.analysis import compute_peak_rates, compute_tuning

    _, mean, _ = compute_tuning(
        recording.presentations["stimulus_condition_id"], compute_peak_rates(recording)
    )
    return int(np.argmax(mean.max(axis=0)))


def make_electrode_amplitudes(
    n_cells: int, cell: int, rng: np.random.Generator, *, neighbours: bool = True
) -> np.ndarray:
    """Per-cell loudness for an electrode on ``cell``: 1 for it, fainter for the others.

    The others sit at distances drawn from :data:`NEIGHBOUR_DISTANCE_UM`, so a real
    electrode's multi-unit background comes through (``neighbours=False``: silence).
    """
    n = check_int("n_cells", n_cells, lo=1)
    cell = check_int("cell", cell, lo=0, hi=n - 1)
    distances = rng.uniform(*NEIGHBOUR_DISTANCE_UM, n)
    amplitudes = electrode_amplitudes(distances) if neighbours else np.zeros(n)
    amplitudes[cell] = 1.0
    return amplitudes


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
    fs = check_int("fs_hz", fs_hz, lo=_FS_MIN_HZ, hi=_FS_MAX_HZ)
    trains = _spike_trains("spike_times_s", spike_times_s)
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


def save_spikes_wav(
    path: str | os.PathLike[str],
    spike_times_s: Sequence[np.ndarray],
    duration_s: float,
    *,
    fs_hz: int = 44100,
    amplitudes: Any = None,
    rng: np.random.Generator | None = None,
    overwrite: bool = False,
    waveform: Any = None,
) -> Path:
    """Render spike trains and write them as a WAV, block by block (bounded memory)."""
    blocks = iter_spike_audio(
        spike_times_s, duration_s, fs_hz=fs_hz, amplitudes=amplitudes, rng=rng, waveform=waveform
    )
    return _write_wav_blocks(path, blocks, fs_hz, 1, overwrite=overwrite)


def condition_audio_names(conditions: Sequence[Any]) -> list[str]:
    """File stem per condition from the parameters that vary, e.g. ``orientation_090_dir_000``."""
    params = [c.trial_params() for c in conditions]
    kinds = {c.kind for c in conditions}
    varying = [
        k
        for k in _NAME_KEYS
        if len({repr(p.get(k)) for p in params}) > 1 and any(k in p for p in params)
    ]
    names = []
    for cond, p in zip(conditions, params, strict=True):
        parts = [cond.kind] if len(kinds) > 1 else []
        for key in varying:
            value = p.get(key)
            if value is None or not np.isfinite(value):
                continue
            label, angle = _NAME_KEYS[key]
            parts.append(f"{label}_{round(value) % 360:03d}" if angle else f"{label}_{value:g}")
        names.append("_".join(parts) or cond.kind)
    # Conditions that differ only in parameters not named above get their id appended.
    return [f"{name}_c{i:03d}" if names.count(name) > 1 else name for i, name in enumerate(names)]


def _presentation_window(recording: Any, index: int) -> tuple[float, float]:
    """From a presentation's onset to the next onset (its blank included)."""
    start = float(recording.presentations["start_time"][index])
    later = recording.presentations["start_time"][index + 1 :]
    end = float(later[0]) if len(later) else float(recording.duration_s)
    return start, end


def _window_trains(recording: Any, lo: float, hi: float) -> list[np.ndarray]:
    return [t[np.searchsorted(t, lo) : np.searchsorted(t, hi)] - lo for t in recording.spike_times]


def make_run_waveform(recording: Any) -> Any:
    """The spike shape a run's cells make: their own for Hodgkin–Huxley cells, else None.

    A Hodgkin–Huxley cell's pop is its extracellular signature, ``−C dV/dt`` of its own
    action potential (:class:`v1lab.cells.HHSpikeShape`); other spike
    generators have no membrane, so they get the default analytic pop.
    """
    spiking = recording.protocol.spiking
    if spiking.model != "hodgkin_huxley":
        return None
    from v1lab.cells import HHParameters, HHSpikeShape

    return HHSpikeShape.make(HHParameters(temperature_c=spiking.temperature_c))


def render_condition_audio(
    recording: Any,
    condition_id: int,
    *,
    amplitudes: np.ndarray,
    fs_hz: int = 44100,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The sound of a condition's first presentation, t = 0 at its onset, blank included."""
    rows = np.flatnonzero(recording.presentations["stimulus_condition_id"] == condition_id)
    if len(rows) == 0:
        raise ParameterError("condition_id", condition_id, "expected a condition that was shown")
    lo, hi = _presentation_window(recording, int(rows[0]))
    return render_spikes(
        _window_trains(recording, lo, hi),
        hi - lo,
        fs_hz=fs_hz,
        amplitudes=amplitudes,
        rng=rng,
        waveform=make_run_waveform(recording),
    )


def make_demo_conditions(recording: Any, cell: int) -> tuple[int, int] | None:
    """The two conditions of the demonstration: the cell's preferred one and its contrast.

    The same pair the report plays (:func:`v1lab.analysis.compute_demo_conditions`):
    the slit or grating at the preferred direction, then turned by 90° (Hubel & Wiesel
    1959); the best bar, then the longest (an end-stopped cell falls silent; Hubel &
    Wiesel 1965); the best spot, then one of the opposite sign at the same place (ON
    and OFF subregions; Hubel & Wiesel 1959). None when the protocol has no such pair.
    """
    from v1lab.analysis import compute_demo_conditions

    preferred, contrast = compute_demo_conditions(recording, cell)
    return None if contrast is None else (preferred, contrast)


def describe_demo(recording: Any, pair: tuple[int, int]) -> str:
    """What the demonstration plays, in words (for the ``--play`` message)."""
    first, second = (recording.conditions[c] for c in pair)
    kind = first.kind
    directions = [getattr(stim, "direction_deg", None) for stim in (first, second)]
    if all(isinstance(d, float) and math.isfinite(d) for d in directions) and (
        directions[0] != directions[1]
    ):
        thing = "the slit moving" if kind == "bar" else f"the {kind} drifting"
        return (
            f"{thing} in its preferred direction ({directions[0]:g}°), then turned by 90° "
            f"({directions[1]:g}°)"
        )
    if kind == "bar":
        return (
            f"the best bar ({first.length_deg:g}° long), then the longest ({second.length_deg:g}°)"
        )
    if kind == "spot":
        sign = "light" if first.contrast > 0 else "dark"
        other = "dark" if first.contrast > 0 else "light"
        return (
            f"the best spot ({sign}, at {first.x_deg:g}°, {first.y_deg:g}°), then a {other} "
            "one at the same place"
        )
    return "its preferred condition, then the contrasting one"


def render_demo(
    recording: Any,
    cell: int,
    *,
    amplitudes: np.ndarray,
    fs_hz: int = 44100,
    rng: np.random.Generator | None = None,
    pair: tuple[int, int] | None = None,
) -> np.ndarray | None:
    """Hubel & Wiesel's demonstration: the preferred condition, a pause, then its contrast.

    Crackle, then near silence (:func:`make_demo_conditions`: the orthogonal sweep, the
    longest bar or the spot of opposite sign), or the ``pair`` of condition ids given.
    None when the protocol has no such pair.
    """
    pair = make_demo_conditions(recording, cell) if pair is None else pair
    if pair is None:
        return None
    pause = np.zeros(round(0.5 * fs_hz), np.float32)
    pieces = [
        render_condition_audio(recording, c, amplitudes=amplitudes, fs_hz=fs_hz, rng=rng)
        for c in pair
    ]
    return np.concatenate([pieces[0], pause, pieces[1]])


def save_run_audio(
    recording: Any,
    folder: str | os.PathLike[str],
    *,
    cell: int | None = None,
    fs_hz: int = 44100,
    neighbours: bool = True,
) -> dict[str, Any]:
    """Write ``audio/`` of a run folder: the session, each condition, and the demo.

    ``audio/session.wav`` is the whole session; ``audio/<parameters>.wav`` (e.g.
    ``orientation_090_dir_000.wav``) is each condition's first presentation with t = 0
    at its onset; ``audio/demo_cell_NNN.wav`` is :func:`render_demo` when the protocol
    has a pair to contrast (directions, bar lengths or spots of both signs). The
    electrode is on ``cell`` (default :func:`choose_electrode_cell`), with fainter
    neighbours unless ``neighbours=False``.
    The sound is reproducible: its randomness follows the protocol's seed.

    Returns
    -------
    dict
        ``cell``, ``amplitudes``, ``session``, ``conditions`` (paths), ``demo`` (path
        or None) and ``demo_text`` (:func:`describe_demo`, or None).
    """
    folder = Path(folder) / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    n = recording.n_cells
    if cell is None:
        cell = choose_electrode_cell(recording)
    cell = check_int("listen", cell, lo=0, hi=n - 1)
    seed = recording.protocol.seed
    amplitudes = make_electrode_amplitudes(
        n, cell, np.random.default_rng([seed, 1]), neighbours=neighbours
    )
    session = save_spikes_wav(
        folder / "session.wav", recording.spike_times, recording.duration_s,
        fs_hz=fs_hz, amplitudes=amplitudes, rng=np.random.default_rng([seed, 2]),
    )  # fmt: skip
    paths = []
    for cid, name in enumerate(condition_audio_names(recording.conditions)):
        audio = render_condition_audio(
            recording,
            cid,
            amplitudes=amplitudes,
            fs_hz=fs_hz,
            rng=np.random.default_rng([seed, 3, cid]),
        )
        paths.append(save_wav(folder / f"{name}.wav", audio, fs_hz))
    pair = make_demo_conditions(recording, cell)
    demo_path = demo_text = None
    if pair is not None:
        demo = render_demo(
            recording, cell, amplitudes=amplitudes, fs_hz=fs_hz,
            rng=np.random.default_rng([seed, 4]), pair=pair,
        )  # fmt: skip
        demo_path = save_wav(folder / f"demo_cell_{cell:03d}.wav", demo, fs_hz)
        demo_text = describe_demo(recording, pair)
    return {
        "cell": cell,
        "amplitudes": amplitudes,
        "session": session,
        "conditions": paths,
        "demo": demo_path,
        "demo_text": demo_text,
    }
