"""Ligand-gated channels: AMPA, NMDA and GABA-A synapses as conductances.

Each receptor is a conductance with a difference-of-exponentials time course that opens
when a presynaptic spike arrives and drives current toward its reversal potential:

``g(t) = w · f · (e^{−t/τ_decay} − e^{−t/τ_rise})``, ``I = g(t) · B(V) · (V − E_rev)``

* **Normalisation as NEURON's ``Exp2Syn``** (Hines & Carnevale 1997; the ``exp2syn.mod``
  of the NEURON distribution): ``f`` makes the peak of one event's conductance equal to
  its weight ``w``, so a weight *is* a peak conductance, in nS here (µS in NEURON).
  The peak is at ``t_p = τ_r τ_d / (τ_d − τ_r) · ln(τ_d / τ_r)``.
* **AMPA** (glutamate, fast): rise 0.2 ms, decay 2 ms, reversal 0 mV — the fast
  component of cortical unitary EPSCs, which rise in a fraction of a millisecond and
  decay in 1–3 ms at physiological temperature (Destexhe, Mainen & Sejnowski 1998,
  who fit these kinetics to cortical and hippocampal recordings).
* **NMDA** (glutamate, slow, voltage-dependent): rise 2 ms, decay 80 ms, reversal 0 mV
  (Destexhe et al. 1998), times the Mg²⁺ block of **Jahr & Stevens (1990)**, fitted to
  single-channel kinetics: ``B(V) = 1 / (1 + [Mg²⁺]ₒ / 3.57 mM · e^{−0.062 V/mV})``
  with 1 mM extracellular Mg²⁺. At −70 mV only 4.4 % of the conductance passes; at
  −20 mV 51 %; the block makes the NMDA EPSP grow as the cell is depolarised, until
  the driving force shrinks toward 0 mV.
* **GABA-A** (chloride): rise 0.5 ms, decay 6 ms (Destexhe et al. 1998), reversal
  −70 mV by default. With the reversal at the resting potential, inhibition moves the
  membrane hardly at all yet divides the excitatory depolarisation — *shunting*
  inhibition (Koch, Poggio & Torre 1983); with it below rest (−80 mV) it also
  hyperpolarises.

Release is stochastic at cortical synapses: Markram, Lübke, Frotscher, Roth & Sakmann
(1997), recording pairs of thick-tufted layer-5 pyramidal cells, measured unitary EPSPs of
1.3 ± 1.1 mV decaying with τ ≈ 40 ms, a coefficient of variation of amplitude of
0.52 ± 0.37 and a failure rate of 0.14 ± 0.17. :class:`Release` draws both (a failure
with probability ``1 − p_release``; otherwise a gamma-distributed amplitude of mean 1
and the given CV, which keeps amplitudes positive).

References
----------
Destexhe A, Mainen ZF, Sejnowski TJ (1998). Kinetic models of synaptic transmission.
In: Koch C, Segev I (eds) Methods in Neuronal Modeling, 2nd ed. MIT Press, 1–25.
Hines ML, Carnevale NT (1997). The NEURON simulation environment. Neural Comput
9:1179–1209.
Jahr CE, Stevens CF (1990). Voltage dependence of NMDA-activated macroscopic
conductances predicted by single-channel kinetics. J Neurosci 10:3178–3182.
Koch C, Poggio T, Torre V (1983). Nonlinear interactions in a dendritic tree:
localization, timing, and role in information processing. PNAS 80:2799–2802.
Markram H, Lübke J, Frotscher M, Roth A, Sakmann B (1997). Physiology and anatomy of
synaptic connections between thick tufted pyramidal neurones in the developing rat
neocortex. J Physiol 500:409–440.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_bool, check_number

__all__ = [
    "AMPA",
    "GABA_A",
    "NMDA",
    "RECEPTORS",
    "Receptor",
    "Release",
    "compute_mg_block",
    "exp2_peak_factor",
]

#: Jahr & Stevens (1990): the Mg²⁺ concentration (mM) at which half the channels are
#: blocked at 0 mV, and the voltage dependence of the block (1/mV).
JS_MG_HALF_MM = 3.57
JS_SLOPE_PER_MV = 0.062


def exp2_peak_factor(tau_rise_ms: float, tau_decay_ms: float) -> float:
    """``1 / max_t (e^{−t/τ_d} − e^{−t/τ_r})``: NEURON ``Exp2Syn``'s weight normalisation.

    Examples
    --------
    >>> round(exp2_peak_factor(0.2, 2.0), 6)
    1.435055
    """
    tr, td = float(tau_rise_ms), float(tau_decay_ms)
    t_peak = tr * td / (td - tr) * math.log(td / tr)
    return 1.0 / (math.exp(-t_peak / td) - math.exp(-t_peak / tr))


def compute_mg_block(v_mv: Any, mg_mm: float = 1.0) -> np.ndarray:
    """Fraction of NMDA conductance not blocked by Mg²⁺ at ``v_mv`` (Jahr & Stevens 1990).

    Examples
    --------
    >>> np.round(compute_mg_block([-70.0, -20.0, 0.0]), 3).tolist()
    [0.044, 0.508, 0.781]
    """
    mg = check_number("mg_mm", mg_mm, lo=0, hi=20, unit="mM")
    v = np.asarray(v_mv, dtype=np.float64)
    return 1.0 / (1.0 + mg / JS_MG_HALF_MM * np.exp(-JS_SLOPE_PER_MV * v))


@dataclass(frozen=True)
class Receptor:
    """A synaptic conductance: difference-of-exponentials kinetics and a reversal potential.

    Parameters
    ----------
    name : str
        Label used in tables and figures.
    tau_rise_ms, tau_decay_ms : float
        Rise and decay time constants (ms); rise < decay.
    e_rev_mv : float
        Reversal potential (mV).
    mg_block : bool
        Multiply the conductance by the Jahr–Stevens Mg²⁺ block (NMDA).
    """

    name: str
    tau_rise_ms: float
    tau_decay_ms: float
    e_rev_mv: float
    mg_block: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("name", self.name, "expected a non-empty string")
        rise = check_number("tau_rise_ms", self.tau_rise_ms, lo=0.01, hi=1000, unit="ms")
        decay = check_number("tau_decay_ms", self.tau_decay_ms, lo=0.02, hi=5000, unit="ms")
        if not decay > rise * 1.0001:
            raise ParameterError(
                "tau_decay_ms", self.tau_decay_ms, f"expected more than tau_rise_ms = {rise:g} ms"
            )
        check_number("e_rev_mv", self.e_rev_mv, lo=-120, hi=80, unit="mV")
        check_bool("mg_block", self.mg_block)
        for f in ("tau_rise_ms", "tau_decay_ms", "e_rev_mv"):
            object.__setattr__(self, f, float(getattr(self, f)))

    @property
    def peak_factor(self) -> float:
        """The ``Exp2Syn`` normalisation: one event of weight w peaks at exactly w."""
        return exp2_peak_factor(self.tau_rise_ms, self.tau_decay_ms)

    @property
    def t_peak_ms(self) -> float:
        """Time from an event to its conductance peak (ms)."""
        tr, td = self.tau_rise_ms, self.tau_decay_ms
        return tr * td / (td - tr) * math.log(td / tr)

    def conductance(self, t_ms: Any, weight_ns: float = 1.0) -> np.ndarray:
        """Conductance (nS) of one event at ``t = 0`` of weight ``weight_ns``, at ``t_ms``."""
        t = np.asarray(t_ms, dtype=np.float64)
        shape = np.exp(-t / self.tau_decay_ms) - np.exp(-t / self.tau_rise_ms)
        return np.where(t >= 0, weight_ns * self.peak_factor * shape, 0.0)


AMPA = Receptor("AMPA", tau_rise_ms=0.2, tau_decay_ms=2.0, e_rev_mv=0.0)
NMDA = Receptor("NMDA", tau_rise_ms=2.0, tau_decay_ms=80.0, e_rev_mv=0.0, mg_block=True)
GABA_A = Receptor("GABA_A", tau_rise_ms=0.5, tau_decay_ms=6.0, e_rev_mv=-70.0)

#: The receptors by name, as protocols name them.
RECEPTORS = {"ampa": AMPA, "nmda": NMDA, "gaba_a": GABA_A}


@dataclass(frozen=True)
class Release:
    """Stochastic transmitter release: failures and amplitude variability.

    Parameters
    ----------
    p_release : float, default 1.0
        Probability that a presynaptic spike releases transmitter (1 − failure rate).
        Markram et al. (1997): failure rate 0.14 ± 0.17, i.e. ``p_release ≈ 0.86``.
    amplitude_cv : float, default 0.0
        Coefficient of variation of the amplitude of the successes (gamma distributed,
        mean 1). Markram et al. (1997) reported a CV of 0.52 ± 0.37; here it is applied
        to the successes, so with failures the CV of all responses is larger
        (``sqrt((1 + cv²) / p − 1)``: 0.69 for ``p = 0.86, cv = 0.52``).
    """

    p_release: float = 1.0
    amplitude_cv: float = 0.0

    def __post_init__(self) -> None:
        check_number("p_release", self.p_release, lo=0, hi=1, lo_open=True)
        check_number("amplitude_cv", self.amplitude_cv, lo=0, hi=3)
        object.__setattr__(self, "p_release", float(self.p_release))
        object.__setattr__(self, "amplitude_cv", float(self.amplitude_cv))

    @property
    def deterministic(self) -> bool:
        """Whether every spike releases the same amount."""
        return self.p_release == 1.0 and self.amplitude_cv == 0.0

    def draw(self, weights_ns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The conductances (nS) that ``weights_ns`` (one per presynaptic spike) release."""
        w = np.asarray(weights_ns, dtype=np.float64)
        if self.deterministic:
            return w.copy()
        scale = np.ones_like(w)
        if self.amplitude_cv > 0:
            k = 1.0 / self.amplitude_cv**2
            scale = rng.gamma(k, 1.0 / k, size=w.shape)
        if self.p_release < 1:
            scale = np.where(rng.random(w.shape) < self.p_release, scale, 0.0)
        return w * scale
