"""Mechanically gated channels: a stretch receptor's current, potential and spikes.

The third kind of gate: channels opened by stretching the membrane that holds them
(mechanotransduction; Hamill & Martinac 2001). A receptor ending converts stretch into a
graded *receptor potential* (a depolarisation that grows with the stretch and stops
with it), which starts a spike train whose rate follows it — the crayfish stretch
receptor of Eyzaguirre & Kuffler (1955), whose slowly adapting neuron fires for as long
as the muscle is held stretched and whose rapidly adapting neuron fires only while it
is being stretched.

Model
-----
* **Open probability, a Boltzmann function of stretch** (the two-state channel whose
  opening moves a gate by a fixed distance; Hamill & Martinac 2001):
  ``P_o = 1 / (1 + e^{−(s − a − s½)/k})``, stretch ``s`` in % strain.
* **Adaptation shifts the curve along the stimulus axis**, as mechanotransduction
  adapts in hair cells (Eatock, Corey & Hudspeth 1987): ``a`` follows
  ``adapt_fraction × s`` with time constant ``adapt_tau_ms``. A sustained stretch is
  then partly (slowly adapting, small fraction) or almost wholly (rapidly adapting,
  fraction near 1) "forgotten": the current sags from its peak.
* **The receptor current** is ``g_max P_o (V − E_rev)`` with ``E_rev = 0 mV``
  (a non-selective cation channel), a conductance on the cell of
  :mod:`v1lab.synapse.cell` (:func:`~v1lab.synapse.simulate.sim_synaptic_cell`'s
  ``drive_ns``). On the passive cell (spikes blocked, as with tetrodotoxin) it gives the
  receptor potential; on the regular-spiking cell, the spike train.

``P_o`` does not depend on V, so the whole conductance time course is computed first,
exactly (``a`` is a first-order linear filter of ``s``, :func:`scipy.signal.lfilter`),
for all trains at once.

References
----------
Eatock RA, Corey DP, Hudspeth AJ (1987). Adaptation of mechanoelectrical transduction in
hair cells of the bullfrog's sacculus. J Neurosci 7:2821–2836.
Eyzaguirre C, Kuffler SW (1955). Processes of excitation in the dendrites and in the soma
of single isolated sensory nerve cells of the lobster and crayfish. J Gen Physiol
39:87–119.
Hamill OP, Martinac B (2001). Molecular basis of mechanotransduction in living cells.
Physiol Rev 81:685–740.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

from v1lab.synapse._common import Bound, check_fields

__all__ = ["StretchReceptor", "compute_receptor_conductance", "make_ramp_and_hold"]


@dataclass(frozen=True)
class StretchReceptor:
    """A population of stretch-activated channels on the receptor ending.

    Parameters
    ----------
    g_max_ns : float
        Conductance with every channel open (nS).
    e_rev_mv : float
        Reversal potential (mV); ~0 for a non-selective cation channel.
    s_half_pct, slope_pct : float
        Stretch (% strain) at which half the channels open, and the Boltzmann slope.
    adapt_fraction : float
        How far the curve shifts under a sustained stretch (0 = no adaptation, 1 = total).
    adapt_tau_ms : float
        Time constant of the shift (ms).
    """

    g_max_ns: float = 10.0
    e_rev_mv: float = 0.0
    s_half_pct: float = 8.0
    slope_pct: float = 1.5
    adapt_fraction: float = 0.3
    adapt_tau_ms: float = 300.0

    def __post_init__(self) -> None:
        check_fields(self, {
            "g_max_ns": Bound("number", 0, 1000, "nS", True),
            "e_rev_mv": Bound("number", -100, 80, "mV"),
            "s_half_pct": Bound("number", 0, 100, "%"),
            "slope_pct": Bound("number", 0.01, 50, "%"),
            "adapt_fraction": Bound("number", 0, 1),
            "adapt_tau_ms": Bound("number", 0.1, 100_000, "ms"),
        })  # fmt: skip

    def open_probability(self, stretch_pct: Any, shift_pct: Any = 0.0) -> np.ndarray:
        """``P_o`` at a stretch, with the activation curve shifted by ``shift_pct``."""
        s = np.asarray(stretch_pct, dtype=np.float64) - shift_pct
        return 1.0 / (1.0 + np.exp(-(s - self.s_half_pct) / self.slope_pct))


def make_ramp_and_hold(
    amplitudes_pct: Any, *, ramp_ms: float, hold_ms: float, pre_ms: float, post_ms: float,
    dt_ms: float,
) -> np.ndarray:  # fmt: skip
    """Stretch waveforms (n_amplitudes, n_samples): rest, a linear ramp, a hold, release.

    Examples
    --------
    >>> s = make_ramp_and_hold([10.0], ramp_ms=2, hold_ms=4, pre_ms=2, post_ms=2, dt_ms=1)
    >>> s[0].tolist()
    [0.0, 0.0, 0.0, 5.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0]
    """
    amp = np.asarray(amplitudes_pct, dtype=np.float64).reshape(-1, 1)
    t = np.arange(round((pre_ms + ramp_ms + hold_ms + post_ms) / dt_ms)) * dt_ms
    shape = np.clip((t - pre_ms) / ramp_ms, 0.0, 1.0)
    shape[t >= pre_ms + ramp_ms + hold_ms] = 0.0
    return amp * shape[None, :]


def compute_receptor_conductance(
    receptor: StretchReceptor, stretch_pct: np.ndarray, dt_ms: float
) -> np.ndarray:
    """The channels' conductance (nS) for stretch waveforms (n, n_samples) sampled at ``dt_ms``.

    The shift ``a`` is ``adapt_fraction × s`` through a first-order low-pass filter
    (``τ da/dt = f s − a``, discretised exactly for s held over each sample).
    """
    s = np.atleast_2d(np.asarray(stretch_pct, dtype=np.float64))
    decay = math.exp(-dt_ms / receptor.adapt_tau_ms)
    b = [receptor.adapt_fraction * (1.0 - decay)]
    shift = lfilter(b, [1.0, -decay], s, axis=1)
    # the shift reached at the start of each sample acts during it
    shift = np.concatenate([np.zeros((s.shape[0], 1)), shift[:, :-1]], axis=1)
    return receptor.g_max_ns * receptor.open_probability(s, shift)
