"""Hear the spike travel: two electrodes, one on each stereo channel.

:func:`make_stereo_clicks` puts the spike's click (the extracellular waveform of the HH
membrane, :func:`v1lab.cells.make_hh_spike_waveform`) on the left channel when the spike
crosses the first electrode and on the right when it crosses the second, repeated so the
ear can lock on. The gap between the channels is the conduction delay, rounded to the
nearest sample (so it equals distance ÷ velocity within half a sample): a 1-cm gap on HH's
squid axon (18.7 m/s) is 0.53 ms, inside the range of interaural time differences the
auditory system localises (up to ~0.7 ms; Blauert 1997), so the click moves across
the head from left to right; at nerve scale (tens of cm) the delays of myelinated,
unmyelinated and demyelinated fibres are tens of ms apart and heard as separate clicks.

References
----------
Blauert J (1997). Spatial Hearing, rev. ed. MIT Press.
"""

from __future__ import annotations

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.cells import make_hh_spike_waveform

__all__ = ["make_stereo_clicks"]


def make_stereo_clicks(
    t_left_ms: float,
    t_right_ms: float,
    fs_hz: int = 44100,
    *,
    repeats: int = 4,
    period_s: float = 0.5,
    amplitude: float = 0.8,
) -> tuple[np.ndarray, int]:
    """Stereo clicks at two crossing times, ``repeats`` times every ``period_s``.

    Returns
    -------
    audio : ndarray (n, 2), float32 in [−1, 1]
    delay_samples : int
        Right-channel click minus left-channel click (samples).

    Examples
    --------
    >>> audio, lag = make_stereo_clicks(1.0, 1.534, 44100, repeats=1)
    >>> lag, audio.shape[1]
    (24, 2)
    """
    for name, t in (("t_left_ms", t_left_ms), ("t_right_ms", t_right_ms)):
        if t is None or not np.isfinite(t):
            raise ParameterError(name, t, "the spike never crossed that electrode (blocked?)")
    fs = check_int("fs_hz", fs_hz, lo=16000, hi=192000)
    repeats = check_int("repeats", repeats, lo=1, hi=100)
    t_l = check_number("t_left_ms", t_left_ms, lo=0, hi=10_000, unit="ms")
    t_r = check_number("t_right_ms", t_right_ms, lo=0, hi=10_000, unit="ms")
    lag_s = abs(t_r - t_l) * 1e-3
    period = check_number("period_s", period_s, lo=0.05, hi=10.0, unit="s")
    if lag_s > 0.8 * period:
        raise ParameterError(
            "period_s", period_s, f"expected more than the delay ({lag_s:.3g} s) / 0.8"
        )
    amp = check_number("amplitude", amplitude, lo=0, hi=1)
    wave = make_hh_spike_waveform(fs)
    k0 = int(np.argmin(wave))  # the trough: the click's time
    lead = round(0.05 * fs)  # samples of silence before the first click
    # The delay is rounded once, to the nearest sample (so within half a sample of the
    # true one); the earlier click sits at ``lead``.
    lag = round((t_r - t_l) * 1e-3 * fs)
    base = np.array([lead + max(0, -lag), lead + max(0, lag)])
    n = round(repeats * period * fs) + wave.size + int(base.max())
    audio = np.zeros((n, 2), dtype=np.float32)
    step = round(period * fs)
    for rep in range(repeats):
        for ch in (0, 1):
            start = base[ch] + rep * step - k0
            audio[start : start + wave.size, ch] += amp * wave
    return audio, int(base[1] - base[0])
