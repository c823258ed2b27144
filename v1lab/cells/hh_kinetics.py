"""The Hodgkin–Huxley membrane: its parameters, gating kinetics and resting potential.

The model is the squid giant axon membrane of Hodgkin & Huxley (1952) — sodium,
potassium and leak currents with the gating variables ``m``, ``h`` and ``n`` — in the
modern convention (rest at −65 mV, depolarisation positive; Dayan & Abbott 2001, ch. 5;
Gerstner et al. 2014, ch. 2).

* :class:`HHParameters` — the standard 1952 parameter set, the temperature (Q10 = 3
  scaling of the kinetics; Hodgkin & Huxley 1952; Hille 2001) and an optional uniform
  shift of every potential; :func:`check_params` accepts one or None (the defaults).
* :func:`alpha_beta`, :func:`steady_gates`, :func:`steady_current` — the gating rates,
  the steady-state gates and the steady-state ionic current at a potential.
* :func:`compute_resting_potential` — the rest the parameters imply.

Temperature
-----------
The 1952 kinetics are those of squid axon at 6.3 °C; rates scale by
``φ = Q10 ** ((T − 6.3) / 10)`` with Q10 = 3 (Hodgkin & Huxley 1952; Hille 2001, ch. 17).
Scaling all the way to 37 °C (φ ≈ 29) does not give a mammalian spike: the squid
kinetics then inactivate sodium and activate potassium before the sodium current can
charge the membrane, and the spike fails (peak −10 mV at 37 °C in this model; squid axons
themselves go into heat block, Hodgkin & Katz 1949). The default
``temperature_c = 16.3`` (φ = 3, one Q10 step) is the *effective* temperature at which
the squid kinetics give a spike the size and speed of a cortical one: peak +35 mV,
amplitude 100 mV, half-width 0.5 ms (cortical pyramidal cells: 0.5–1 ms at 35–37 °C;
McCormick et al. 1985; Bean 2007) and an extracellular waveform 0.3 ms from trough to
peak (Henze et al. 2000; Barthó et al. 2004). ``temperature_c = 6.3`` gives the original
squid model, against which the classical values are checked.

Resting potential
-----------------
With the 1952 leak reversal (10.613 mV above rest in HH's convention, −54.387 mV here)
the model rests at −65.0 mV (−64.996). Hubel & Wiesel–era cortical cells rest nearer
−70 mV; set ``v_shift_mv = -5`` to move every potential (the reversal potentials and the
voltage axis of the kinetics) by −5 mV. A uniform shift is only a change of reference:
the dynamics, currents, rates and spike shape are unchanged; rest becomes −70 mV and the
peak +30 mV. The default keeps the published set unshifted.

References
----------
Barthó P et al. (2004). J Neurophysiol 92:600–608.
Bean BP (2007). The action potential in mammalian central neurons. Nat Rev Neurosci
8:451–465.
Dayan P, Abbott LF (2001). Theoretical Neuroscience. MIT Press.
Gerstner W, Kistler WM, Naud R, Paninski L (2014). Neuronal Dynamics. Cambridge UP.
Henze DA et al. (2000). Intracellular features predicted by extracellular recordings in
the hippocampus in vivo. J Neurophysiol 84:390–400.
Hille B (2001). Ion Channels of Excitable Membranes, 3rd ed. Sinauer.
Hodgkin AL, Huxley AF (1952). A quantitative description of membrane current and its
application to conduction and excitation in nerve. J Physiol 117:500–544.
Hodgkin AL, Katz B (1949). The effect of temperature on the electrical activity of the
giant axon of the squid. J Physiol 109:240–249.
McCormick DA, Connors BW, Lighthall JW, Prince DA (1985). Comparative electrophysiology
of pyramidal and sparsely spiny stellate neurons of the neocortex. J Neurophysiol
54:782–806.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from v1lab._validate import ParameterError, check_number

__all__ = [
    "HHParameters",
    "alpha_beta",
    "check_params",
    "compute_resting_potential",
    "steady_current",
    "steady_gates",
]

_REFERENCE_C = 6.3  # temperature of the 1952 kinetics


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HHParameters:
    """Hodgkin–Huxley membrane: the standard 1952 set in the modern convention.

    Potentials are in mV (rest −65 mV with the defaults), conductances in mS/cm²,
    capacitance in µF/cm², currents in µA/cm², time in ms inside the model.

    Parameters
    ----------
    c_m_uf_cm2 : float, default 1.0
        Membrane capacitance.
    g_na_ms_cm2, g_k_ms_cm2, g_l_ms_cm2 : float, default 120, 36, 0.3
        Maximal sodium, potassium and leak conductances (HH 1952, Table 3).
    e_na_mv, e_k_mv, e_l_mv : float, default 50, −77, −54.387
        Reversal potentials before ``v_shift_mv``. HH 1952 gave them relative to rest
        (−115, +12, −10.613 mV with their sign convention); −54.387 is the leak value that
        puts rest at exactly −65 mV.
    temperature_c : float, default 16.3
        Temperature (°C) of the kinetics, 0–30 °C; see the module notes for the choice.
    q10 : float, default 3.0
        Temperature coefficient of the gating rates (HH 1952; Hille 2001).
    v_shift_mv : float, default 0.0
        Uniform shift of every potential (−5 gives rest at −70 mV); dynamics unchanged.

    Examples
    --------
    >>> p = HHParameters()
    >>> round(p.phi, 3), round(compute_resting_potential(p), 2)
    (3.0, -65.0)
    >>> round(compute_resting_potential(HHParameters(v_shift_mv=-5.0)), 2)
    -70.0
    """

    c_m_uf_cm2: float = 1.0
    g_na_ms_cm2: float = 120.0
    g_k_ms_cm2: float = 36.0
    g_l_ms_cm2: float = 0.3
    e_na_mv: float = 50.0
    e_k_mv: float = -77.0
    e_l_mv: float = -54.387
    temperature_c: float = 16.3
    q10: float = 3.0
    v_shift_mv: float = 0.0

    def __post_init__(self) -> None:
        check_number("c_m_uf_cm2", self.c_m_uf_cm2, lo=0, lo_open=True, unit="µF/cm²")
        for name in ("g_na_ms_cm2", "g_k_ms_cm2"):
            check_number(name, getattr(self, name), lo=0, unit="mS/cm²")
        check_number("g_l_ms_cm2", self.g_l_ms_cm2, lo=0, lo_open=True, unit="mS/cm²")
        for name in ("e_na_mv", "e_k_mv", "e_l_mv"):
            check_number(name, getattr(self, name), lo=-150, hi=150, unit="mV")
        if not self.e_k_mv < self.e_l_mv < self.e_na_mv:
            raise ParameterError(
                "e_l_mv", self.e_l_mv, "expected e_k_mv < e_l_mv < e_na_mv (K below leak below Na)"
            )
        check_number(
            "temperature_c",
            self.temperature_c,
            lo=0,
            hi=30,
            unit="°C; above ~30 °C the squid kinetics fail to make a spike (heat block)",
        )
        check_number("q10", self.q10, lo=1, hi=5)
        check_number("v_shift_mv", self.v_shift_mv, lo=-30, hi=30, unit="mV")
        for f in (
            "c_m_uf_cm2",
            "g_na_ms_cm2",
            "g_k_ms_cm2",
            "g_l_ms_cm2",
            "e_na_mv",
            "e_k_mv",
            "e_l_mv",
            "temperature_c",
            "q10",
            "v_shift_mv",
        ):
            object.__setattr__(self, f, float(getattr(self, f)))

    @property
    def phi(self) -> float:
        """Temperature factor of the gating rates, ``q10 ** ((T − 6.3) / 10)``."""
        return self.q10 ** ((self.temperature_c - _REFERENCE_C) / 10.0)

    @property
    def reversal_mv(self) -> tuple[float, float, float]:
        """Shifted reversal potentials ``(E_Na, E_K, E_L)`` (mV)."""
        s = self.v_shift_mv
        return self.e_na_mv + s, self.e_k_mv + s, self.e_l_mv + s


def check_params(params: Any) -> HHParameters:
    """``params`` itself, or the standard :class:`HHParameters` for None; else ParameterError."""
    if params is None:
        return HHParameters()
    if not isinstance(params, HHParameters):
        raise ParameterError("params", params, "expected an HHParameters or None")
    return params


# --------------------------------------------------------------------------------------
# Kinetics
# --------------------------------------------------------------------------------------


def _x_over_expm1(x: np.ndarray) -> np.ndarray:
    """``x / (e^x − 1)``, equal to 1 at ``x = 0`` (the removable singularity of α_m, α_n)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, safe / np.expm1(safe))


def alpha_beta(v_mv: np.ndarray, params: HHParameters) -> tuple[np.ndarray, ...]:
    """Opening and closing rates (1/ms, at 6.3 °C) of m, h, n at potential ``v_mv``.

    HH 1952 eqs. 12, 13, 20, 21, 23, 24 in the modern convention (u = V − shift, rest −65).
    """
    u = np.asarray(v_mv, dtype=np.float64) - params.v_shift_mv
    a_m = _x_over_expm1(-(u + 40.0) / 10.0)  # = 0.1 (u + 40) / (1 − e^{−(u + 40)/10})
    b_m = 4.0 * np.exp(-(u + 65.0) / 18.0)
    a_h = 0.07 * np.exp(-(u + 65.0) / 20.0)
    b_h = 1.0 / (1.0 + np.exp(-(u + 35.0) / 10.0))
    a_n = 0.1 * _x_over_expm1(-(u + 55.0) / 10.0)  # = 0.01 (u + 55) / (1 − e^{…})
    b_n = 0.125 * np.exp(-(u + 65.0) / 80.0)
    return a_m, b_m, a_h, b_h, a_n, b_n


def steady_gates(v_mv: np.ndarray, params: HHParameters) -> tuple[np.ndarray, ...]:
    """Steady-state gates ``(m∞, h∞, n∞)`` at potential ``v_mv``."""
    a_m, b_m, a_h, b_h, a_n, b_n = alpha_beta(v_mv, params)
    return a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)


def steady_current(v_mv: np.ndarray, params: HHParameters) -> np.ndarray:
    """Ionic current (µA/cm², outward positive) with every gate at its steady state."""
    m, h, n = steady_gates(v_mv, params)
    e_na, e_k, e_l = params.reversal_mv
    v = np.asarray(v_mv, dtype=np.float64)
    return (
        params.g_na_ms_cm2 * m**3 * h * (v - e_na)
        + params.g_k_ms_cm2 * n**4 * (v - e_k)
        + params.g_l_ms_cm2 * (v - e_l)
    )


def compute_resting_potential(params: HHParameters | None = None) -> float:
    """Resting potential (mV) the parameters imply: the zero of the steady-state current.

    With every gate at its steady state the ionic current is
    ``g_Na m∞³h∞ (V − E_Na) + g_K n∞⁴ (V − E_K) + g_L (V − E_L)``; rest is where it is 0
    (found with Brent's method between E_K and E_Na below the spike threshold region).

    Examples
    --------
    >>> round(compute_resting_potential(), 3)
    -64.996
    """
    params = check_params(params)
    s = params.v_shift_mv
    # Below -40 mV (+shift) the steady-state I–V is monotone with one zero for any
    # sensible parameters; search from just above E_K.
    return float(
        optimize.brentq(
            lambda v: float(steady_current(np.array(v), params)),
            params.reversal_mv[1] + 1e-6,
            -40.0 + s,
            xtol=1e-10,
        )
    )
