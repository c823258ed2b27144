"""The pop: one extracellular spike's waveform, and how loud each cell is at the electrode.

Every spike becomes an extracellular-like waveform — biphasic, negative first, about 1 ms
long, 0.3–0.5 ms from trough to peak (Henze et al. 2000; Gold et al. 2006; Barthó et al.
2004) — and each cell is as loud as its distance from the electrode allows, falling off as
``1 / (1 + (r / r0)**2)`` (Henze et al. 2000; Buzsáki 2004). References: :mod:`v1lab.audio`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.audio._common import FS_MAX_HZ, FS_MIN_HZ, as_float_array


@dataclass(frozen=True)
class SpikeShape:
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
    def make(cls, trough_to_peak_s: float, duration_s: float) -> SpikeShape:
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
    fs = check_int("fs_hz", fs_hz, lo=FS_MIN_HZ, hi=FS_MAX_HZ)
    shape = SpikeShape.make(trough_to_peak_s, duration_s)
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
    d = as_float_array("distances", distances, ndim=1)
    if np.any(d < 0):
        raise ParameterError("distances", distances, "expected distances >= 0")
    if unit == "deg":
        if um_per_deg is None:
            raise ParameterError(
                "um_per_deg", um_per_deg, "expected µm of cortex per degree when unit='deg'"
            )
        d = d * check_number("um_per_deg", um_per_deg, lo=0, lo_open=True, unit="µm/deg")
    return 1.0 / (1.0 + (d / r0) ** 2)


#: Distances (µm) of the other cells from the electrode tip, drawn uniformly: near enough
#: to be heard as fainter units under the one the electrode is on (Henze et al. 2000).
NEIGHBOUR_DISTANCE_UM = (60.0, 200.0)


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
