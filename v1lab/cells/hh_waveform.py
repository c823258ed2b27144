"""The sound of a Hodgkin–Huxley spike: its extracellular signature, for the audio monitor.

:class:`HHSpikeShape` and :func:`make_hh_spike_waveform` give ``−C dV/dt`` of this
membrane's own action potential, laid out and normalised like the pops of
:mod:`v1lab.audio`.

References
----------
Gold C, Henze DA, Koch C, Buzsáki G (2006). On the origin of the extracellular action
potential waveform: a modeling study. J Neurophysiol 95:3113–3128.
Henze DA et al. (2000). Intracellular features predicted by extracellular recordings in
the hippocampus in vivo. J Neurophysiol 84:390–400.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from v1lab._validate import check_int
from v1lab.cells.hh_kinetics import HHParameters, check_params
from v1lab.cells.hh_measure import sim_action_potential

__all__ = ["HHSpikeShape", "make_hh_spike_waveform"]

_FS_MIN_HZ = 16000  # as v1lab.audio
_FS_MAX_HZ = 192000
_EDGE_FRACTION = 0.01  # support of the waveform: where |w| >= 1 % of the trough


@dataclass(frozen=True, eq=False)
class HHSpikeShape:
    """Extracellular waveform of a Hodgkin–Huxley action potential, as a function of time.

    Near the soma the extracellular potential follows the membrane current, and for the
    spike's own time course that is the capacitive current ``C dV/dt`` with its sign
    inverted: the extracellular spike looks like the negative of the first derivative of
    the intracellular one — a sharp negative trough during the sodium upstroke, then a
    smaller, broader positive phase during potassium repolarisation (Henze et al. 2000;
    Gold et al. 2006). The shape is ``w(τ) ∝ −C dV/dt`` of a noise-free action potential
    of this membrane (:func:`sim_action_potential`, 1-µs steps), with ``τ = 0`` at the
    trough (the fastest upstroke) and ``w(0) = −1``, cut where it has decayed to 1 % of
    the trough: from the foot of the upstroke to the bottom of the after-hyperpolarisation
    (where ``dV/dt = 0`` again), with 50-µs raised-cosine tapers. It is evaluated by cubic
    interpolation of the fine template, so a renderer can place it with sub-sample
    accuracy; it has the attributes the :mod:`v1lab.audio` renderer uses for its own shape
    (``pre_s``, ``post_s``, ``trough_to_peak_s``, call with times).

    Use :meth:`make` (or :func:`make_hh_spike_waveform` for samples).

    Attributes
    ----------
    pre_s, post_s : float
        Support before and after the trough (s).
    trough_to_peak_s : float
        Time from the trough to the positive peak (s).
    params : HHParameters
        The membrane whose spike this is.

    Examples
    --------
    >>> shape = HHSpikeShape.make()
    >>> float(shape(np.array([0.0]))[0])
    -1.0
    >>> 0.5e-3 <= shape.duration_s <= 2e-3
    True
    """

    pre_s: float
    post_s: float
    trough_to_peak_s: float
    params: HHParameters
    _spline: Any = field(repr=False)

    @classmethod
    def make(cls, params: HHParameters | None = None) -> HHSpikeShape:
        """Compute the shape for a membrane (cached per parameter set)."""
        return _hh_shape(check_params(params))

    @property
    def duration_s(self) -> float:
        """Total support (s)."""
        return self.pre_s + self.post_s

    def __call__(self, tau_s: Any) -> np.ndarray:
        tau = np.asarray(tau_s, dtype=np.float64)
        inside = (tau >= -self.pre_s) & (tau <= self.post_s)
        out = np.zeros(tau.shape)
        out[inside] = self._spline(tau[inside])
        return out


@lru_cache(maxsize=8)
def _hh_shape(params: HHParameters) -> HHSpikeShape:
    dt = 1e-6
    tr = sim_action_potential(params, dt_s=dt, duration_s=0.03)
    # -C dV/dt = I_ion - I_input, exactly the membrane's currents at each step.
    w = (tr.i_na + tr.i_k + tr.i_l - tr.i_input)[0]
    pulse_end = int(np.flatnonzero(tr.i_input[0] != 0)[-1]) + 1
    k0 = pulse_end + int(np.argmin(w[pulse_end:]))
    w = w / -w[k0]
    small = np.abs(w) < _EDGE_FRACTION
    before = np.flatnonzero(small[:k0])
    k_lo = max(pulse_end, int(before[-1]) if before.size else pulse_end)
    k_peak = k0 + int(np.argmax(w[k0:]))
    after = np.flatnonzero(small[k_peak:])
    k_hi = k_peak + (int(after[0]) if after.size else w.size - 1 - k_peak)
    seg = w[k_lo : k_hi + 1].copy()
    # Raised-cosine tapers bring the 1 % edges smoothly to 0.
    n_taper = min(round(50e-6 / dt), seg.size // 4)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n_taper) + 0.5) / n_taper)
    seg[:n_taper] *= ramp
    seg[seg.size - n_taper :] *= ramp[::-1]
    tau = (np.arange(k_lo, k_hi + 1) - k0) * dt
    return HHSpikeShape(
        pre_s=float(-tau[0]),
        post_s=float(tau[-1]),
        trough_to_peak_s=float((k_peak - k0) * dt),
        params=params,
        _spline=CubicSpline(tau, seg, bc_type="clamped"),
    )


def make_hh_spike_waveform(fs_hz: int, *, params: HHParameters | None = None) -> np.ndarray:
    """Sample the extracellular spike of a Hodgkin–Huxley cell: biphasic, unit trough.

    The counterpart of :func:`v1lab.audio.make_spike_waveform` for an HH cell: the same
    layout and normalisation (sample ``k0 = ceil(pre_s * fs_hz)`` is the trough, exactly
    −1), but the shape is this membrane's own (:class:`HHSpikeShape`: ``−C dV/dt`` of
    its action potential). The audio renderer band-passes it like every other pop.

    Parameters
    ----------
    fs_hz : int
        Sampling rate (Hz), 16000–192000.
    params : HHParameters, optional
        The membrane (default 16.3 °C: 1.4 ms long, 0.3 ms from trough to peak).

    Returns
    -------
    numpy.ndarray
        float64 samples ``w[k] = shape((k − k0) / fs_hz)``.

    Examples
    --------
    >>> w = make_hh_spike_waveform(44100)
    >>> float(w.min()), bool(np.argmin(w) < np.argmax(w))
    (-1.0, True)
    """
    fs = check_int("fs_hz", fs_hz, lo=_FS_MIN_HZ, hi=_FS_MAX_HZ)
    shape = HHSpikeShape.make(params)
    k0 = math.ceil(shape.pre_s * fs)
    k1 = math.floor(shape.post_s * fs)
    return shape(np.arange(-k0, k1 + 1, dtype=np.float64) / fs)
