"""Inside the cell: the Hodgkin–Huxley action potential of a V1 cell, seen and heard.

Hubel & Wiesel heard action potentials. This module shows what one *is*: the membrane of
a V1 cell at rest, sodium channels opening, the upstroke, potassium repolarising, the
after-hyperpolarisation — and lets you hear that very spike.

The model is the squid giant axon membrane of Hodgkin & Huxley (1952) — sodium,
potassium and leak currents with the gating variables ``m``, ``h`` and ``n`` — in the
modern convention (rest at −65 mV, depolarisation positive; Dayan & Abbott 2001, ch. 5;
Gerstner et al. 2014, ch. 2). Each V1 cell becomes one such membrane, driven by an input
current derived from its firing rate in the V1 stage plus a fluctuating (Ornstein–Uhlenbeck)
input current, so that it fires at about the rate the model asks for, with spikes that
come from channels opening and closing.

What is here:

* :class:`HHParameters` — the standard 1952 parameter set, the temperature (Q10 = 3
  scaling of the kinetics; Hodgkin & Huxley 1952; Hille 2001) and an optional uniform
  shift of every potential.
* :func:`sim_hodgkin_huxley` — spike trains from target-rate traces, with the signature of
  :func:`v1lab.cells.spikes.sim_lif`; the rate → current map is the inverse of this model's own
  noisy f–I curve, measured once by simulation and cached (the idea of ``sim_lif``, which
  inverts the LIF's transfer function). Optionally records ``V, m, h, n, I_Na, I_K`` of
  chosen trains (:class:`MembraneTrace`).
* :func:`compute_fi_curve`, :func:`find_rheobase`, :func:`compute_hopf_current`,
  :func:`compute_resting_potential`, :func:`compute_spike_features`,
  :func:`compute_absolute_refractory_period` — the classical measurements.
* :func:`make_hh_spike_waveform` / :class:`HHSpikeShape` — the extracellular signature
  of this model's own action potential, for the audio monitor.
* The figures of a cell's membrane (V(t), the six phases of a spike, gates, currents)
  are drawn by :mod:`v1lab.plots.membrane`.

Integration
-----------
Gates: Rush–Larsen (exponential Euler per gate, exact for constant ``V`` over a step:
``x ← x∞ + (x − x∞) e^{−dt/τx}``; Rush & Larsen 1978). Voltage: exponential Euler with the
updated gates (``V`` is linear given the gates: ``V ← E∞ + (V − E∞) e^{−dt g/C}``). Both
are unconditionally stable, so the only limit on ``dt`` is accuracy: at the default
25 µs the period of repetitive firing is within 0.12 % of a 1-µs run at 16.3 °C (0.03 %
at 6.3 °C; Brian2's ``exponential_euler``, which updates V and the gates together, is
2.9 % off at the same step). The per-gate update coefficients are tabulated over V at
0.05 mV (as NEURON's ``usetable``; Hines & Carnevale 1997; interpolation error < 1e-6),
and the one exponential left, ``e^{−dt g/C}``, is a short polynomial raised to the 64th
power by squaring (error < 1e-10 here), so the step has no library calls. The loop over
time runs in :mod:`numba` when it is installed (parallel over cells × trials), otherwise
in numpy (one vectorised update of all trains per step; the same arithmetic — spike
times agree to rounding — but 10–20× slower). The input noise is advanced exactly every
0.1 ms and held in between; its correlation time (5 ms) is 50× longer.

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
Destexhe A, Rudolph M, Fellous J-M, Sejnowski TJ (2001). Fluctuating synaptic
conductances recreate in vivo-like activity in neocortical neurons. Neuroscience
107:13–24.
Gerstner W, Kistler WM, Naud R, Paninski L (2014). Neuronal Dynamics. Cambridge UP.
Gold C, Henze DA, Koch C, Buzsáki G (2006). On the origin of the extracellular action
potential waveform: a modeling study. J Neurophysiol 95:3113–3128.
Hassard B (1978). Bifurcation of periodic solutions of the Hodgkin–Huxley model for the
squid giant axon. J Theor Biol 71:401–420.
Henze DA et al. (2000). Intracellular features predicted by extracellular recordings in
the hippocampus in vivo. J Neurophysiol 84:390–400.
Hille B (2001). Ion Channels of Excitable Membranes, 3rd ed. Sinauer.
Hines ML, Carnevale NT (1997). The NEURON simulation environment. Neural Comput
9:1179–1209.
Hodgkin AL, Huxley AF (1952). A quantitative description of membrane current and its
application to conduction and excitation in nerve. J Physiol 117:500–544.
Hodgkin AL, Katz B (1949). The effect of temperature on the electrical activity of the
giant axon of the squid. J Physiol 109:240–249.
Izhikevich EM (2007). Dynamical Systems in Neuroscience. MIT Press.
McCormick DA, Connors BW, Lighthall JW, Prince DA (1985). Comparative electrophysiology
of pyramidal and sparsely spiny stellate neurons of the neocortex. J Neurophysiol
54:782–806.
Rinzel J, Ermentrout GB (1989). Analysis of neural excitability and oscillations. In
Koch C, Segev I (eds), Methods in Neuronal Modeling. MIT Press.
Rinzel J, Miller RN (1980). Numerical calculation of stable and unstable periodic
solutions to the Hodgkin–Huxley equations. Math Biosci 49:27–59.
Rush S, Larsen H (1978). A practical algorithm for solving dynamic membrane equations.
IEEE Trans Biomed Eng 25:389–392.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize
from scipy.interpolate import CubicSpline, PchipInterpolator

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.cells.spikes import SpikeTrains

__all__ = [
    "BACKENDS",
    "FI_STARTS",
    "RHEOBASE_KINDS",
    "SPIKE_PHASES",
    "HHParameters",
    "HHSpikeShape",
    "MembraneTrace",
    "compute_absolute_refractory_period",
    "compute_fi_curve",
    "compute_hopf_current",
    "compute_resting_potential",
    "compute_spike_features",
    "find_rheobase",
    "hh_backend",
    "hh_current_for_rates",
    "make_hh_spike_waveform",
    "sim_action_potential",
    "sim_hodgkin_huxley",
    "sim_membrane",
]

#: Integration back-ends: ``"auto"`` uses numba when it imports, else numpy.
BACKENDS = ("auto", "numba", "numpy")

#: The six phases of an action potential that :func:`plot_spike_phases` labels.
SPIKE_PHASES = (
    "resting potential",
    "depolarisation to threshold",
    "overshoot",
    "repolarisation",
    "after-hyperpolarisation",
    "return to rest",
)

# Gate tables: potentials (relative to the shifted reference) from -120 to +80 mV at
# 0.05 mV; the kinetics are saturated outside (V is clamped to the table there).
_TABLE_LO_MV = -120.0
_TABLE_HI_MV = 80.0
_TABLE_STEP_MV = 0.05
# Spike detection: an upward crossing of -20 mV (45 mV above rest, far above any
# subthreshold excursion and below every peak the allowed temperatures give), re-armed
# once V falls 10 mV below it, so one spike is counted once.
_DETECT_MV = -20.0
_REARM_MV = -30.0
# Noise normals per block (float32): bounds memory whatever the number of trains.
_BLOCK_NORMALS = 1 << 21
# The noisy f–I table: version of the algorithm (part of the disk-cache key).
_TABLE_VERSION = 1
# Interval at which the OU input noise is advanced (s); see _integrate.
_NOISE_DT_S = 1e-4
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


def _check_params(params: Any) -> HHParameters:
    if params is None:
        return HHParameters()
    if not isinstance(params, HHParameters):
        raise ParameterError("params", params, "expected an HHParameters or None")
    return params


def _with_temperature(params: Any, temperature_c: float | None) -> HHParameters:
    params = _check_params(params)
    if temperature_c is not None:
        check_number("temperature_c", temperature_c, lo=0, hi=30, unit="°C")
        params = replace(params, temperature_c=float(temperature_c))
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


def _alpha_beta(v_mv: np.ndarray, params: HHParameters) -> tuple[np.ndarray, ...]:
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


def _steady_gates(v_mv: np.ndarray, params: HHParameters) -> tuple[np.ndarray, ...]:
    a_m, b_m, a_h, b_h, a_n, b_n = _alpha_beta(v_mv, params)
    return a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)


def _steady_current(v_mv: np.ndarray, params: HHParameters) -> np.ndarray:
    """Ionic current (µA/cm², outward positive) with every gate at its steady state."""
    m, h, n = _steady_gates(v_mv, params)
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
    params = _check_params(params)
    s = params.v_shift_mv
    # Below -40 mV (+shift) the steady-state I–V is monotone with one zero for any
    # sensible parameters; search from just above E_K.
    return float(
        optimize.brentq(
            lambda v: float(_steady_current(np.array(v), params)),
            params.reversal_mv[1] + 1e-6,
            -40.0 + s,
            xtol=1e-10,
        )
    )


@lru_cache(maxsize=16)
def _gate_table(params: HHParameters, dt_ms: float) -> np.ndarray:
    """Rush–Larsen update coefficients over V: columns A_m, E_m, A_h, E_h, A_n, E_n.

    One step with V held is ``x ← A(V) + E(V) x``, ``E = e^{−dt φ (α+β)}``,
    ``A = x∞ (1 − E)``. Row k is at ``V = lo + shift + k * step``.
    """
    v = params.v_shift_mv + np.arange(
        _TABLE_LO_MV, _TABLE_HI_MV + 0.5 * _TABLE_STEP_MV, _TABLE_STEP_MV
    )
    a_m, b_m, a_h, b_h, a_n, b_n = _alpha_beta(v, params)
    cols = []
    for a, b in ((a_m, b_m), (a_h, b_h), (a_n, b_n)):
        decay = np.exp(-dt_ms * params.phi * (a + b))
        cols += [a / (a + b) * (1.0 - decay), decay]
    table = np.ascontiguousarray(np.stack(cols, axis=1))
    table.flags.writeable = False
    return table


def _consts(params: HHParameters, dt_ms: float, noise_a: float, noise_b: float) -> np.ndarray:
    """Scalar constants of the kernels, in the order the kernels unpack them."""
    e_na, e_k, e_l = params.reversal_mv
    s = params.v_shift_mv
    # The kernels' exponential e^{-dt g / C} is (e^{-x/64})^64 with a degree-6 Taylor
    # polynomial inside (_exp_neg): accurate to < 1e-6 while x/64 <= 1/4.
    x_max = dt_ms / params.c_m_uf_cm2 * (params.g_na_ms_cm2 + params.g_k_ms_cm2 + params.g_l_ms_cm2)
    if x_max > 16.0:
        raise ParameterError(
            "dt_s",
            dt_ms * 1e-3,
            f"expected dt_s * (g_na + g_k + g_l) / c_m <= 16 ms·mS/µF; lower dt_s to "
            f"{16.0 / x_max * dt_ms * 1e-3:.3g} s or below for these conductances",
        )
    return np.array(
        [
            params.c_m_uf_cm2,
            params.g_na_ms_cm2,
            params.g_k_ms_cm2,
            params.g_l_ms_cm2,
            e_na,
            e_k,
            e_l,
            dt_ms,
            noise_a,
            noise_b,
            _TABLE_LO_MV + s,
            1.0 / _TABLE_STEP_MV,
            _DETECT_MV + s,
            _REARM_MV + s,
        ]
    )


# --------------------------------------------------------------------------------------
# Kernels: one block of time steps for every train
# --------------------------------------------------------------------------------------
# state[j] = (V, m, h, n, eta) of train j; drive[c, k] = mean input current of cell c in
# rate sample k; sample_idx[s] = the rate sample of step s; normals[j, s] ~ N(0, 1) for
# the OU noise; spikes go to spk_t[j, :spk_n[j]] (ms, absolute); rec[slot] receives
# (V, m, h, n, I_Na, I_K, I_input) of the recorded trains at the start of every step.

_REC_FIELDS = ("v_mv", "m", "h", "n", "i_na", "i_k", "i_input")


def _exp_neg(x: np.ndarray) -> np.ndarray:
    """``e^{-x}`` for ``0 <= x <= 16`` as the numba kernel computes it (see there)."""
    y = x * (1.0 / 64.0)
    e = 1.0 - y * (
        1.0 - y * (0.5 - y * (1.0 / 6.0 - y * (1.0 / 24.0 - y * (1.0 / 120.0 - y * (1.0 / 720.0)))))
    )
    for _ in range(6):
        e = e * e
    return e


def _block_numpy(
    state: np.ndarray,
    armed: np.ndarray,
    drive: np.ndarray,
    sample_idx: np.ndarray,
    cell_of: np.ndarray,
    normals: np.ndarray,
    noise_every: int,
    chunk: int,
    consts: np.ndarray,
    table: np.ndarray,
    t0_ms: float,
    spk_t: np.ndarray,
    spk_n: np.ndarray,
    rec_slot: np.ndarray,
    rec: np.ndarray,
) -> None:
    """Numpy back-end: one vectorised update over all trains per step."""
    c_m, g_na, g_k, g_l, e_na, e_k, e_l, dt, noise_a, noise_b, v_lo, inv_dv, thr, rearm = consts
    n_tab = table.shape[0]
    v = state[:, 0].copy()
    m = state[:, 1].copy()
    h = state[:, 2].copy()
    n = state[:, 3].copy()
    eta = state[:, 4].copy()
    drive_of_train = drive[cell_of]  # (n_trains, n_samples)
    rows = np.arange(v.size)
    rec_rows = np.flatnonzero(rec_slot >= 0)
    rec_to = rec_slot[rec_rows]
    noisy = noise_b > 0.0
    for s in range(sample_idx.size):
        if noisy and s % noise_every == 0:
            eta *= noise_a
            eta += noise_b * normals[:, s // noise_every]
        current = drive_of_train[:, sample_idx[s]] + eta
        if rec_rows.size:
            vr, mr, hr, nr = v[rec_rows], m[rec_rows], h[rec_rows], n[rec_rows]
            rec[rec_to, 0, s] = vr
            rec[rec_to, 1, s] = mr
            rec[rec_to, 2, s] = hr
            rec[rec_to, 3, s] = nr
            rec[rec_to, 4, s] = g_na * mr**3 * hr * (vr - e_na)
            rec[rec_to, 5, s] = g_k * nr**4 * (vr - e_k)
            rec[rec_to, 6, s] = current[rec_rows]
        u = np.clip((v - v_lo) * inv_dv, 0.0, n_tab - 1.0)
        k = np.minimum(u.astype(np.int64), n_tab - 2)
        f = (u - k)[:, None]
        coef = table[k] + f * (table[k + 1] - table[k])
        m = coef[:, 0] + coef[:, 1] * m
        h = coef[:, 2] + coef[:, 3] * h
        n = coef[:, 4] + coef[:, 5] * n
        gna = g_na * m * m * m * h
        n2 = n * n
        gk = g_k * n2 * n2
        g = gna + gk + g_l
        e_inf = (gna * e_na + gk * e_k + g_l * e_l + current) / g
        v_new = e_inf + (v - e_inf) * _exp_neg(dt / c_m * g)
        up = armed & (v_new >= thr) & (v < thr)
        if up.any():
            j = rows[up]
            spk_t[j, spk_n[j]] = t0_ms + (s + (thr - v[j]) / (v_new[j] - v[j])) * dt
            spk_n[j] += 1
            armed[j] = False
        armed |= v_new < rearm
        v = v_new
    state[:, 0], state[:, 1], state[:, 2], state[:, 3], state[:, 4] = v, m, h, n, eta


def _block_numba_py(
    state,
    armed,
    drive,
    sample_idx,
    cell_of,
    normals,
    noise_every,
    chunk,
    consts,
    table,
    t0_ms,
    spk_t,
    spk_n,
    rec_slot,
    rec,
):  # pragma: no cover - compiled by numba; the same arithmetic as _block_numpy
    c_m = consts[0]
    g_na = consts[1]
    g_k = consts[2]
    g_l = consts[3]
    e_na = consts[4]
    e_k = consts[5]
    e_l = consts[6]
    dt = consts[7]
    noise_a = consts[8]
    noise_b = consts[9]
    v_lo = consts[10]
    inv_dv = consts[11]
    thr = consts[12]
    rearm = consts[13]
    n_tab = table.shape[0]
    u_max = n_tab - 1.0
    k_max = n_tab - 2
    n_steps = sample_idx.shape[0]
    n_trains = state.shape[0]
    dt_c = dt / c_m
    noisy = noise_b > 0.0
    n_chunks = (n_trains + chunk - 1) // chunk
    # Parallel over chunks of trains; within a chunk, time outside and trains inside, with
    # the arithmetic in a branch-free loop the compiler turns into SIMD code (one train's
    # step alone is a latency-bound chain of table loads, an exponential and a division).
    for ci in _prange(n_chunks):
        j0 = ci * chunk
        nj = min(chunk, n_trains - j0)
        v = state[j0 : j0 + nj, 0].copy()
        m = state[j0 : j0 + nj, 1].copy()
        h = state[j0 : j0 + nj, 2].copy()
        n = state[j0 : j0 + nj, 3].copy()
        eta = state[j0 : j0 + nj, 4].copy()
        arm = armed[j0 : j0 + nj].copy()
        cnt = spk_n[j0 : j0 + nj].copy()
        v_old = np.empty(nj)
        base = np.empty(nj)
        slots = rec_slot[j0 : j0 + nj]
        any_rec = slots.max() >= 0
        col = -1
        for s in range(n_steps):
            if sample_idx[s] != col:
                col = sample_idx[s]
                for i in range(nj):
                    base[i] = drive[cell_of[j0 + i], col]
            if noisy and s % noise_every == 0:
                q = s // noise_every
                for i in range(nj):
                    eta[i] = eta[i] * noise_a + noise_b * normals[j0 + i, q]
            if any_rec:
                for i in range(nj):
                    slot = slots[i]
                    if slot >= 0:
                        vi = v[i]
                        mi = m[i]
                        hi = h[i]
                        ni = n[i]
                        rec[slot, 0, s] = vi
                        rec[slot, 1, s] = mi
                        rec[slot, 2, s] = hi
                        rec[slot, 3, s] = ni
                        rec[slot, 4, s] = g_na * mi * mi * mi * hi * (vi - e_na)
                        rec[slot, 5, s] = g_k * ni * ni * ni * ni * (vi - e_k)
                        rec[slot, 6, s] = base[i] + eta[i]
            for i in range(nj):
                vi = v[i]
                u = min(max((vi - v_lo) * inv_dv, 0.0), u_max)
                k = min(int(u), k_max)
                f = u - k
                mi = (table[k, 0] + f * (table[k + 1, 0] - table[k, 0])) + (
                    table[k, 1] + f * (table[k + 1, 1] - table[k, 1])
                ) * m[i]
                hi = (table[k, 2] + f * (table[k + 1, 2] - table[k, 2])) + (
                    table[k, 3] + f * (table[k + 1, 3] - table[k, 3])
                ) * h[i]
                ni = (table[k, 4] + f * (table[k + 1, 4] - table[k, 4])) + (
                    table[k, 5] + f * (table[k + 1, 5] - table[k, 5])
                ) * n[i]
                gna = g_na * mi * mi * mi * hi
                n2 = ni * ni
                gk = g_k * n2 * n2
                g = gna + gk + g_l
                e_inf = (gna * e_na + gk * e_k + g_l * e_l + base[i] + eta[i]) / g
                v_old[i] = vi
                # e^{-x} by scaling and squaring: (e^{-x/64})^64, the inner exponential a
                # degree-6 Taylor polynomial (x/64 <= 1/4, so relative error < 1e-6; at
                # the standard conductances and dt, x/64 < 0.07 and the error < 1e-11).
                # Unlike a libm call, this vectorises.
                y = dt_c * g * (1.0 / 64.0)
                e = 1.0 - y * (
                    1.0
                    - y
                    * (
                        0.5
                        - y * (1.0 / 6.0 - y * (1.0 / 24.0 - y * (1.0 / 120.0 - y * (1.0 / 720.0))))
                    )
                )
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                v[i] = e_inf + (vi - e_inf) * e
                m[i] = mi
                h[i] = hi
                n[i] = ni
            for i in range(nj):
                vn = v[i]
                if arm[i]:
                    if vn >= thr:
                        vo = v_old[i]
                        if vo < thr:
                            spk_t[j0 + i, cnt[i]] = t0_ms + (s + (thr - vo) / (vn - vo)) * dt
                            cnt[i] += 1
                            arm[i] = False
                elif vn < rearm:
                    arm[i] = True
        for i in range(nj):
            j = j0 + i
            state[j, 0] = v[i]
            state[j, 1] = m[i]
            state[j, 2] = h[i]
            state[j, 3] = n[i]
            state[j, 4] = eta[i]
            armed[j] = arm[i]
            spk_n[j] = cnt[i]


_prange = range  # replaced by numba.prange inside the compiled kernel
_NUMBA_KERNEL: Any = None
_NUMBA_ERROR: str | None = None


def _numba_kernel() -> Any:
    """Compile (once; cached on disk by numba) the numba kernel, or return None."""
    global _NUMBA_KERNEL, _NUMBA_ERROR, _prange
    if _NUMBA_KERNEL is not None or _NUMBA_ERROR is not None:
        return _NUMBA_KERNEL
    try:
        import numba
    except Exception as err:  # ImportError, or a numba that does not support this numpy
        _NUMBA_ERROR = f"numba is not available ({type(err).__name__}: {err})"
        return None
    _prange = numba.prange
    with warnings.catch_warnings():
        # An unwritable cache directory only costs a recompile next time.
        warnings.simplefilter("ignore", numba.NumbaWarning)
        _NUMBA_KERNEL = numba.njit(parallel=True, cache=True, nogil=True)(_block_numba_py)
    return _NUMBA_KERNEL


def _numba_switched_off() -> bool:
    """``V1LAB_NUMBA=0`` selects the numpy paths everywhere (as in :mod:`v1lab.cells.spikes`)."""
    return os.environ.get("V1LAB_NUMBA", "1").strip().lower() in ("0", "false", "no", "off")


def hh_backend(backend: str = "auto") -> str:
    """Name of the back-end that ``backend`` resolves to: ``"numba"`` or ``"numpy"``.

    ``"auto"`` is numba when it imports, unless the environment variable ``V1LAB_NUMBA``
    is ``0`` (the switch :mod:`v1lab.cells.spikes` uses too).

    Examples
    --------
    >>> hh_backend("numpy")
    'numpy'
    >>> hh_backend() in ("numba", "numpy")
    True
    """
    backend = check_choice("backend", backend, BACKENDS)
    if backend == "numpy":
        return "numpy"
    if backend == "auto" and _numba_switched_off():
        return "numpy"
    if _numba_kernel() is None:
        if backend == "numba":
            raise ParameterError(
                "backend",
                backend,
                f"{_NUMBA_ERROR}; install numba (pip install numba) or use 'numpy' or 'auto'",
            )
        return "numpy"
    return "numba"


# --------------------------------------------------------------------------------------
# The integration loop
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MembraneTrace:
    """Recorded membrane of some trains: ``V``, gates, ionic currents and the input.

    Attributes
    ----------
    t_s : ndarray (n_steps,)
        Time of each sample (s): the start of each integration step.
    trains : ndarray of int (n_rec,)
        Train index of each row (``trial * n_cells + cell``).
    v_mv, m, h, n : ndarray (n_rec, n_steps)
        Membrane potential (mV) and the gating variables (0–1).
    i_na, i_k : ndarray (n_rec, n_steps)
        Sodium and potassium currents (µA/cm²; outward positive, so I_Na < 0 is inward).
    i_input : ndarray (n_rec, n_steps)
        Injected current: the V1 drive plus the noise (µA/cm²).
    spike_times_s : tuple of ndarray
        Spike times (s) of each recorded train.
    params : HHParameters
        The membrane that was simulated.
    """

    t_s: np.ndarray
    trains: np.ndarray
    v_mv: np.ndarray
    m: np.ndarray
    h: np.ndarray
    n: np.ndarray
    i_na: np.ndarray
    i_k: np.ndarray
    i_input: np.ndarray
    spike_times_s: tuple[np.ndarray, ...]
    params: HHParameters = field(default_factory=HHParameters)

    @property
    def dt_s(self) -> float:
        """Sampling interval (s)."""
        return float(self.t_s[1] - self.t_s[0]) if self.t_s.size > 1 else 0.0

    @property
    def i_l(self) -> np.ndarray:
        """Leak current (µA/cm²)."""
        return self.params.g_l_ms_cm2 * (self.v_mv - self.params.reversal_mv[2])

    @property
    def i_membrane(self) -> np.ndarray:
        """Capacitive current ``C dV/dt = I_input − I_Na − I_K − I_L`` (µA/cm²)."""
        return self.i_input - self.i_na - self.i_k - self.i_l

    def row(self, train: int) -> int:
        """Row of ``train`` in the arrays."""
        hits = np.flatnonzero(self.trains == train)
        if not hits.size:
            raise ParameterError(
                "train", train, f"expected a recorded train: {self.trains.tolist()}"
            )
        return int(hits[0])


def _initial_state(
    drive0: np.ndarray,
    cell_of: np.ndarray,
    params: HHParameters,
    noise_sd: float,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Each train starts at the fixed point for its initial mean current (no onset spike).

    The steady-state I–V curve of the HH membrane is monotone, so the fixed point for a
    constant current I is unique: it is found by interpolating the inverted curve. Above
    the Hopf current it is unstable and the train starts firing at once, as it should.
    """
    v_grid = params.v_shift_mv + np.linspace(-100.0, 20.0, 2401)
    i_grid = _steady_current(v_grid, params)
    if np.all(np.diff(i_grid) > 0):
        v0 = np.interp(drive0[cell_of], i_grid, v_grid)
    else:  # non-standard parameters with an N-shaped I–V: start at rest
        v0 = np.full(cell_of.size, compute_resting_potential(params))
    m0, h0, n0 = _steady_gates(v0, params)
    state = np.empty((cell_of.size, 5))
    state[:, 0], state[:, 1], state[:, 2], state[:, 3] = v0, m0, h0, n0
    # The OU noise starts in its stationary distribution.
    state[:, 4] = (
        0.0 if rng is None or noise_sd == 0 else noise_sd * rng.standard_normal(cell_of.size)
    )
    return state


def _integrate(
    drive: np.ndarray,
    fs: float,
    n_trials: int,
    params: HHParameters,
    dt_s: float,
    noise_sd: float,
    noise_tau_s: float,
    rng: np.random.Generator | None,
    duration_s: float,
    backend: str,
    record: np.ndarray | None = None,
    t_skip_s: float = 0.0,
    initial_current: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Integrate all trains; return (times_s, indptr, rec or None).

    ``drive`` is (n_samples, n_cells) in µA/cm² at ``fs``; spikes before ``t_skip_s`` are
    dropped (used by the f–I measurements to skip the transient). Trains start at the
    fixed point for ``initial_current`` (per cell; default: the first drive sample).
    """
    n_samples, n_cells = drive.shape
    n_trains = n_trials * n_cells
    dt_ms = dt_s * 1e3
    n_steps = max(1, math.ceil(duration_s / dt_s - 1e-9))
    sample_of_step = np.minimum(
        ((np.arange(n_steps) + 0.5) * dt_s * fs).astype(np.int64), n_samples - 1
    )
    cell_of = np.tile(np.arange(n_cells, dtype=np.int64), n_trials)
    drive_t = np.ascontiguousarray(drive.T, dtype=np.float64)  # (n_cells, n_samples)
    # The OU noise is advanced exactly every `noise_every` steps (~0.1 ms) and held in
    # between: its correlation time (ms) is 50x longer, so holding changes nothing the
    # membrane (time constant ~1.5 ms) can see, and it saves 3/4 of the random numbers.
    noise_every = max(1, round(_NOISE_DT_S / dt_s))
    noise_dt_s = noise_every * dt_s
    noise_a = math.exp(-noise_dt_s / noise_tau_s)
    noise_b = (
        noise_sd * math.sqrt(-math.expm1(-2.0 * noise_dt_s / noise_tau_s)) if noise_sd > 0 else 0.0
    )
    consts = _consts(params, dt_ms, noise_a, noise_b)
    table = _gate_table(params, dt_ms)
    start_current = drive[0] if initial_current is None else np.asarray(initial_current, float)
    state = _initial_state(start_current, cell_of, params, noise_sd, rng)
    armed = np.ones(n_trains, dtype=np.bool_)
    kernel = _numba_kernel() if backend == "numba" else _block_numpy

    rec_slot = np.full(n_trains, -1, dtype=np.int64)
    n_rec = 0 if record is None else record.size
    if n_rec:
        rec_slot[record] = np.arange(n_rec)
    rec_all = np.empty((n_rec, len(_REC_FIELDS), n_steps)) if n_rec else None

    block = max(16, min(n_steps, noise_every * _BLOCK_NORMALS // max(1, n_trains)))
    block = noise_every * math.ceil(block / noise_every)  # noise draws align with blocks
    if backend == "numba":
        import numba

        # Enough chunks for every thread, few enough trains per chunk to stay in L1.
        chunk = int(np.clip(math.ceil(n_trains / numba.get_num_threads()), 4, 64))
    else:
        chunk = n_trains
    # Each spike needs at least two steps (a crossing, then a step below the re-arm
    # level), so a block can hold at most block // 2 + 1 spikes per train.
    spk_t = np.empty((n_trains, block // 2 + 2))
    spk_n = np.zeros(n_trains, dtype=np.int64)
    dummy_normals = np.zeros((n_trains, 1), dtype=np.float32)
    ids_parts: list[np.ndarray] = []
    t_parts: list[np.ndarray] = []
    for s0 in range(0, n_steps, block):
        nb = min(block, n_steps - s0)
        if noise_b > 0:
            normals = rng.standard_normal((n_trains, -(-nb // noise_every)), dtype=np.float32)
        else:
            normals = dummy_normals
        rec = rec_all[:, :, s0 : s0 + nb] if rec_all is not None else np.empty((0, 7, 0))
        if rec_all is not None:
            rec = np.ascontiguousarray(rec)
        spk_n[:] = 0
        kernel(
            state,
            armed,
            drive_t,
            sample_of_step[s0 : s0 + nb],
            cell_of,
            normals,
            noise_every,
            chunk,
            consts,
            table,
            s0 * dt_ms,
            spk_t,
            spk_n,
            rec_slot,
            rec,
        )
        if rec_all is not None:
            rec_all[:, :, s0 : s0 + nb] = rec
        if spk_n.any():
            ids = np.repeat(np.arange(n_trains, dtype=np.int64), spk_n)
            cols = np.arange(ids.size) - np.repeat(np.cumsum(spk_n) - spk_n, spk_n)
            ids_parts.append(ids)
            t_parts.append(spk_t[ids, cols] * 1e-3)
    indptr = np.zeros(n_trains + 1, dtype=np.int64)
    if not ids_parts:
        return np.empty(0), indptr, rec_all
    ids = np.concatenate(ids_parts)
    times = np.concatenate(t_parts)
    keep = (times < duration_s) & (times >= t_skip_s)
    ids, times = ids[keep], times[keep]
    # Blocks were recorded in time order; a stable sort by train keeps times sorted.
    order = np.argsort(ids, kind="stable")
    np.cumsum(np.bincount(ids, minlength=n_trains), out=indptr[1:])
    return times[order], indptr, rec_all


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------


def _check_array2d(name: str, value: Any, *, nonneg: bool, unit: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            name, value, f"expected a 2-D array ({unit}), shape (n_samples, n_cells)"
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(
            name,
            f"array of shape {arr.shape}",
            "expected a 2-D array (n_samples, n_cells) with at least one sample and one cell",
        )
    finite = np.isfinite(arr)
    if not finite.all():
        raise ParameterError(name, float(arr[~finite].flat[0]), f"expected finite values ({unit})")
    if nonneg and float(arr.min()) < 0:
        raise ParameterError(name, float(arr.min()), f"expected values >= 0 ({unit})")
    return np.ascontiguousarray(arr)


def _check_rng(rng: Any, *, required: bool) -> np.random.Generator | None:
    if rng is None and not required:
        return None
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            "rng", rng, "expected a numpy.random.Generator, e.g. np.random.default_rng(seed)"
        )
    return rng


def _check_dt(dt_s: Any, fs: float | None = None) -> float:
    hi = _MAX_DT_S if fs is None else min(_MAX_DT_S, 1.0 / fs)
    return check_number("dt_s", dt_s, lo=0, lo_open=True, hi=hi, unit="s; at most 25 µs (and 1/fs)")


def _check_record(record: Any, n_trains: int) -> np.ndarray | None:
    if record is None:
        return None
    try:
        arr = np.unique(np.asarray(record, dtype=np.int64).ravel())
    except (TypeError, ValueError):
        raise ParameterError(
            "record", record, "expected train indices (trial * n_cells + cell) or None"
        ) from None
    if arr.size == 0 or arr.min() < 0 or arr.max() >= n_trains:
        raise ParameterError("record", record, f"expected train indices in [0, {n_trains - 1}]")
    return arr


# Defaults of the input noise (see sim_hodgkin_huxley).
_NOISE_UA_CM2 = 2.0
_NOISE_TAU_S = 0.005
_MAX_DT_S = 2.5e-5


def _check_noise(noise_ua_cm2: Any, noise_tau_s: Any) -> tuple[float, float]:
    sd = check_number("noise_ua_cm2", noise_ua_cm2, lo=0, hi=50, unit="µA/cm²")
    tau = check_number("noise_tau_s", noise_tau_s, lo=1e-4, hi=1.0, unit="s")
    return sd, tau


# --------------------------------------------------------------------------------------
# Simulation from currents
# --------------------------------------------------------------------------------------


def sim_membrane(
    current_ua_cm2: np.ndarray,
    fs: float,
    *,
    n_trials: int = 1,
    params: HHParameters | None = None,
    noise_ua_cm2: float = 0.0,
    noise_tau_s: float = _NOISE_TAU_S,
    dt_s: float = _MAX_DT_S,
    rng: np.random.Generator | None = None,
    record: Sequence[int] | None = None,
    initial_current_ua_cm2: Any = None,
    backend: str = "auto",
) -> SpikeTrains | tuple[SpikeTrains, MembraneTrace]:
    """Simulate Hodgkin–Huxley membranes driven by given input currents.

    Parameters
    ----------
    current_ua_cm2 : array_like, shape (n_samples, n_cells)
        Injected current (µA/cm², depolarising positive), piecewise constant over samples
        of width ``1 / fs``.
    fs : float
        Sampling rate of ``current_ua_cm2`` (Hz).
    n_trials : int, default 1
        Independent trials (they differ only through the noise).
    params : HHParameters, optional
        The membrane; default :class:`HHParameters()`.
    noise_ua_cm2 : float, default 0
        SD of the Ornstein–Uhlenbeck input-current noise (µA/cm²); 0 = deterministic.
    noise_tau_s : float, default 0.005
        Correlation time of the noise (s).
    dt_s : float, default 2.5e-5
        Integration step (s), at most 25 µs and ``1 / fs``.
    rng : numpy.random.Generator, optional
        Needed when ``noise_ua_cm2 > 0``.
    record : sequence of int, optional
        Trains (``trial * n_cells + cell``) whose ``V``, gates and currents to record.
    initial_current_ua_cm2 : array_like (n_cells,), optional
        Each train starts at the membrane's fixed point for this current. Default 0: the
        cell starts at rest and the input is switched on at t = 0 (a current step).
        Pass the first input sample to start a constant input without a transient.
    backend : {'auto', 'numba', 'numpy'}, default 'auto'

    Returns
    -------
    SpikeTrains or (SpikeTrains, MembraneTrace)
        Spike times are upward crossings of −20 mV (+ ``v_shift_mv``), interpolated
        within the step. With ``record``, also the recorded :class:`MembraneTrace`.

    Examples
    --------
    >>> st = sim_membrane(np.full((1, 1), 10.0), 1.0, params=HHParameters(temperature_c=6.3))
    >>> st.n_spikes > 50                            # 1 s of repetitive firing above rheobase
    True
    """
    current = _check_array2d("current_ua_cm2", current_ua_cm2, nonneg=False, unit="µA/cm²")
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    params = _check_params(params)
    sd, tau = _check_noise(noise_ua_cm2, noise_tau_s)
    dt_s = _check_dt(dt_s, fs)
    rng = _check_rng(rng, required=sd > 0)
    backend = hh_backend(backend)
    n_samples, n_cells = current.shape
    rec = _check_record(record, n_trials * n_cells)
    init = np.zeros(n_cells)
    if initial_current_ua_cm2 is not None:
        init = np.broadcast_to(np.asarray(initial_current_ua_cm2, dtype=np.float64), (n_cells,))
        if not np.isfinite(init).all():
            raise ParameterError(
                "initial_current_ua_cm2", initial_current_ua_cm2, "expected finite currents"
            )
    duration_s = n_samples / fs
    times, indptr, rec_arr = _integrate(
        current,
        fs,
        n_trials,
        params,
        dt_s,
        sd,
        tau,
        rng,
        duration_s,
        backend,
        record=rec,
        initial_current=init,
    )
    trains = SpikeTrains(times, indptr, n_trials, n_cells, duration_s)
    if rec is None:
        return trains
    n_steps = rec_arr.shape[2]
    trace = MembraneTrace(
        t_s=np.arange(n_steps) * dt_s,
        trains=rec,
        **{name: rec_arr[:, i, :] for i, name in enumerate(_REC_FIELDS)},
        spike_times_s=tuple(times[indptr[k] : indptr[k + 1]].copy() for k in rec.tolist()),
        params=params,
    )
    return trains, trace


# --------------------------------------------------------------------------------------
# The noisy f–I curve and its inverse
# --------------------------------------------------------------------------------------

# Grid of mean input currents for the noisy f–I table (µA/cm²): fine where the rate
# grows from silence to ~200 spikes/s, coarse above.
_FI_GRID = np.concatenate(
    [np.arange(-16.0, 24.0, 0.5), np.arange(24.0, 64.0, 2.0), np.arange(64.0, 101.0, 4.0)]
)
_FI_SETTLE_S = 0.1
_FI_RUN_S = 2.0
_FI_TRIALS = 4
# Low-rate points get more trials, up to this many neuron-seconds, aiming at this count.
_FI_MAX_NEURON_S = 120.0
_FI_TARGET_COUNT = 2000.0
_FI_SMOOTH_UA_CM2 = 1.5


def _cache_dir() -> Path:
    env = os.environ.get("V1LAB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "v1lab"


def _table_key(params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float) -> str:
    """Identity of an f–I table. The back-end is not part of it: both compute one model
    (their spike times agree to rounding; see the tests)."""
    text = repr((_TABLE_VERSION, sorted(asdict(params).items()), noise_sd, noise_tau_s, dt_s))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _measure_counts(
    currents: np.ndarray,
    params: HHParameters,
    noise_sd: float,
    noise_tau_s: float,
    dt_s: float,
    backend: str,
    rng: np.random.Generator,
    run_s: float,
) -> np.ndarray:
    """Spike count of one train per entry of ``currents`` (constant input), after settling."""
    duration_s = _FI_SETTLE_S + run_s
    _, indptr, _ = _integrate(
        currents[None, :],
        1.0 / duration_s,
        1,
        params,
        dt_s,
        noise_sd,
        noise_tau_s,
        rng,
        duration_s,
        backend,
        t_skip_s=_FI_SETTLE_S,
    )
    return np.diff(indptr)


def _build_fi_table(
    params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """Measure the noisy f–I curve on _FI_GRID; return (currents, rates) for inversion.

    Two passes of 2-s trains: every current for 4 trains, then each current again for as
    many trains as give ~2000 spikes in all (at most 120 neuron-seconds per current;
    counting error ~3 % before smoothing, ~10 % at 1 spike/s). The log-rates are
    smoothed (:func:`_smooth_log_rate`) and made monotone by weighted
    isotonic regression (the true curve is increasing; the scatter is counting noise);
    currents with fewer than 20 spikes are dropped. A fixed seed makes the table a
    deterministic function of its parameters.
    """
    seed = int(_table_key(params, noise_sd, noise_tau_s, dt_s)[:12], 16)
    rng = np.random.default_rng(seed)
    grid = _FI_GRID
    first = np.repeat(grid, _FI_TRIALS)
    counts = (
        _measure_counts(first, params, noise_sd, noise_tau_s, dt_s, backend, rng, _FI_RUN_S)
        .reshape(grid.size, _FI_TRIALS)
        .sum(axis=1)
        .astype(np.float64)
    )
    # Strong currents end in depolarisation block (the rate falls back to 0 above ~90
    # µA/cm² at 16.3 °C); the usable branch ends at the highest rate.
    top = int(np.argmax(counts)) + 1
    grid, counts = grid[:top], counts[:top]
    exposure = np.full(grid.size, _FI_TRIALS * _FI_RUN_S)
    rate0 = counts / exposure
    # Second pass: more trains where the count is low (but not hopelessly so).
    want = np.minimum(_FI_MAX_NEURON_S, _FI_TARGET_COUNT / np.maximum(rate0, 1e-3))
    extra = np.maximum(0, np.ceil((want - exposure) / _FI_RUN_S)).astype(np.int64)
    extra[rate0 * _FI_MAX_NEURON_S < 5.0] = 0
    if extra.any():
        idx = np.repeat(np.arange(grid.size), extra)
        more = _measure_counts(
            grid[idx], params, noise_sd, noise_tau_s, dt_s, backend, rng, _FI_RUN_S
        )
        counts += np.bincount(idx, weights=more, minlength=grid.size)
        exposure += extra * _FI_RUN_S
    ok = counts >= 20.0
    cur, count, expo = grid[ok], counts[ok], exposure[ok]
    log_rate = _smooth_log_rate(cur, np.log(count / expo), count)
    rate = np.exp(_isotonic(log_rate, count))
    # Strictly increasing for the inverse: keep the first current of each tied block.
    keep = np.concatenate([[True], np.diff(rate) > 0])
    return cur[keep], rate[keep]


def _smooth_log_rate(cur: np.ndarray, log_rate: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Local cubic regression of log-rate on current within ±1.5 µA/cm².

    Weights are the spike counts (the variance of a log Poisson rate is 1 / count). The
    log f–I curve is smooth on this scale (checked against a 400-neuron-second reference:
    rms bias < 2 %), so this halves the counting noise.
    """
    out = log_rate.copy()
    for i in range(cur.size):
        near = np.abs(cur - cur[i]) <= _FI_SMOOTH_UA_CM2 + 1e-9
        if near.sum() >= 5:
            x = cur[near] - cur[i]
            coef = np.polyfit(x, log_rate[near], 3, w=np.sqrt(count[near]))
            out[i] = coef[-1]
    return out


def _isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    vals: list[float] = []
    wts: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        vals.append(yi)
        wts.append(wi)
        sizes.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            wsum = wts[-2] + wts[-1]
            merged = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / wsum
            size = sizes[-2] + sizes[-1]
            del vals[-1], wts[-1], sizes[-1]
            vals[-1], wts[-1], sizes[-1] = merged, wsum, size
    return np.repeat(vals, sizes)


# The table for the default membrane and noise, measured by _build_fi_table (numba,
# this _TABLE_VERSION) and shipped so that a first run needs no measurement. It is used
# only when the key matches; regenerate it with
#   python -c "from v1lab.cells.hodgkin_huxley import _print_default_table; _print_default_table()"
# fmt: off
_DEFAULT_TABLE_KEY = "2e55f65a432dc19aa137"
_DEFAULT_TABLE: tuple[tuple[float, ...], tuple[float, ...]] = (
    (  # mean input current (µA/cm²)
        -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
        5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0,
        13.5, 14.0, 14.5, 15.0, 15.5, 16.0, 16.5, 17.0, 17.5, 18.0, 18.5, 19.0, 19.5, 20.0, 20.5,
        21.0, 21.5, 22.0, 22.5, 23.0, 23.5, 24.0, 26.0, 28.0, 30.0, 32.0, 34.0, 36.0, 38.0, 40.0,
        42.0, 44.0, 46.0, 48.0, 50.0, 52.0, 54.0, 56.0, 58.0, 60.0, 62.0, 64.0, 68.0, 72.0, 76.0,
        80.0, 84.0,
    ),
    (  # rate (spikes/s)
        0.175, 0.317716, 0.384158, 0.484389, 0.608544, 0.821696, 1.05253, 1.24454, 1.46158,
        1.66259, 1.97536, 2.37901, 2.8394, 3.39066, 4.03021, 4.91925, 6.18593, 7.85902, 10.2098,
        13.2434, 16.7553, 21.9036, 27.9434, 36.3748, 47.604, 61.1301, 75.8913, 95.392, 112.434,
        129.897, 145.566, 157.02, 165.903, 174.787, 180.324, 184.121, 188.455, 191.489, 195.201,
        197.771, 200.022, 201.988, 203.992, 206.393, 208.789, 210.789, 212.7, 214.665, 216.619,
        218.63, 220.47, 222.162, 223.985, 225.981, 227.7, 234.3, 240.7, 246.2, 252.0, 257.25,
        262.75, 268.0, 272.5, 277.0, 281.75, 286.0, 290.125, 294.375, 298.0, 301.875, 305.625,
        309.25, 312.5, 316.0, 319.125, 325.625, 331.75, 337.375, 342.625, 347.75,
    ),
)
# fmt: on


def _print_default_table() -> None:  # pragma: no cover - maintenance helper
    """Measure the default f–I table and print it as the constants above."""
    import textwrap

    p = HHParameters()
    args = (p, _NOISE_UA_CM2, _NOISE_TAU_S, _MAX_DT_S)
    cur, rate = _build_fi_table(*args, hh_backend())
    cur_text = ", ".join(repr(round(float(c), 4)) for c in cur)
    rate_text = ", ".join(repr(float(f"{r:.6g}")) for r in rate)
    print(f'_DEFAULT_TABLE_KEY = "{_table_key(*args)}"')
    print("_DEFAULT_TABLE: tuple[tuple[float, ...], tuple[float, ...]] = (")
    for comment, text in (
        ("mean input current (µA/cm²)", cur_text),
        ("rate (spikes/s)", rate_text),
    ):
        print(f"    (  # {comment}")
        print(textwrap.indent(textwrap.fill(text, 90), " " * 8) + ",")
        print("    ),")
    print(")")


@lru_cache(maxsize=16)
def _fi_table(
    params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """The noisy f–I table: shipped (defaults), from the disk cache, or measured now."""
    key = _table_key(params, noise_sd, noise_tau_s, dt_s)
    if key == _DEFAULT_TABLE_KEY:
        cur, rate = (np.array(x, dtype=np.float64) for x in _DEFAULT_TABLE)
    else:
        cur, rate = _cached_table(key, params, noise_sd, noise_tau_s, dt_s, backend)
    cur.flags.writeable = False
    rate.flags.writeable = False
    return cur, rate


def _cached_table(
    key: str,
    params: HHParameters,
    noise_sd: float,
    noise_tau_s: float,
    dt_s: float,
    backend: str,
) -> tuple[np.ndarray, np.ndarray]:
    path = _cache_dir() / f"hh_fi_{key}.npz"
    try:
        with np.load(path) as data:
            return data["currents"], data["rates"]
    except (OSError, KeyError, ValueError):
        pass
    cur, rate = _build_fi_table(params, noise_sd, noise_tau_s, dt_s, backend)
    try:  # atomic write; a read-only home only costs a rebuild next time
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, currents=cur, rates=rate)
        os.replace(tmp, path)
    except OSError:
        pass
    return cur, rate


def hh_current_for_rates(
    rates_hz: np.ndarray,
    *,
    params: HHParameters | None = None,
    noise_ua_cm2: float = _NOISE_UA_CM2,
    noise_tau_s: float = _NOISE_TAU_S,
    dt_s: float = _MAX_DT_S,
    backend: str = "auto",
) -> np.ndarray:
    """Mean input current (µA/cm²) at which the noisy HH membrane fires at ``rates_hz``.

    The inverse of the membrane's own stationary f–I curve under the given input noise,
    measured by simulation (:func:`_build_fi_table`; ~2000 spikes per current, accurate
    to ~2 % above 2 spikes/s), and inverted by monotone (PCHIP) interpolation in
    log-rate. The table of the default membrane and noise ships with v1lab; others are
    measured on first use (a few seconds with numba) and cached in memory and on disk
    (``$V1LAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/v1lab`` or ``~/.cache/v1lab``). Below
    the lowest measured rate (~0.2 spikes/s) the log-rate is extrapolated linearly in the
    current (the noise-driven tail); a rate of 0 gets −16 µA/cm² (silent).

    Raises
    ------
    ParameterError
        For a rate above the highest rate of the table (≈ 350 spikes/s by default).

    Examples
    --------
    >>> i = hh_current_for_rates(np.array([[1.0, 20.0, 80.0]]))
    >>> bool(np.all(np.diff(i) > 0))
    True
    """
    rates = _check_array2d("rates_hz", rates_hz, nonneg=True, unit="spikes/s")
    params = _check_params(params)
    sd, tau = _check_noise(noise_ua_cm2, noise_tau_s)
    dt_s = _check_dt(dt_s)
    backend = hh_backend(backend)
    if sd == 0:
        raise ParameterError(
            "noise_ua_cm2",
            noise_ua_cm2,
            "expected > 0: without noise a type II membrane cannot fire below its minimum "
            "repetitive rate, so low rates have no input current",
        )
    cur, rate = _fi_table(params, sd, tau, dt_s, backend)
    highest = float(rates.max())
    if highest > rate[-1]:
        raise ParameterError(
            "rates_hz",
            highest,
            f"expected rates <= {rate[-1]:.4g} spikes/s, the highest rate this Hodgkin–Huxley "
            "membrane reaches in the table (temperature_c, noise_ua_cm2)",
        )
    log_r = np.log(rate)
    inverse = PchipInterpolator(log_r, cur, extrapolate=False)
    out = np.full(rates.shape, _FI_GRID[0])
    above = rates >= rate[0]
    out[above] = inverse(np.log(rates[above]))
    tail = (rates > 0) & ~above
    if tail.any():
        n_fit = min(4, cur.size)
        slope = np.polyfit(cur[:n_fit], log_r[:n_fit], 1)[0]  # d log r / dI at the bottom
        out[tail] = np.maximum(_FI_GRID[0], cur[0] + (np.log(rates[tail]) - log_r[0]) / slope)
    return out


def sim_hodgkin_huxley(
    rates_hz: np.ndarray,
    fs: float,
    *,
    n_trials: int = 1,
    rng: np.random.Generator,
    temperature_c: float | None = None,
    noise_ua_cm2: float = _NOISE_UA_CM2,
    noise_tau_s: float = _NOISE_TAU_S,
    dt_s: float = _MAX_DT_S,
    params: HHParameters | None = None,
    record: Sequence[int] | None = None,
    backend: str = "auto",
) -> SpikeTrains | tuple[SpikeTrains, MembraneTrace]:
    """Spike trains of Hodgkin–Huxley cells that fire at requested rates.

    Each cell is a Hodgkin & Huxley (1952) membrane (:class:`HHParameters`) driven by an
    input current ``I(t) = μ(t) + η(t)``: ``μ(t)``, the current from the V1 stage, is the
    mean input at which this membrane fires at the requested rate (the inverse of its
    own noisy f–I curve, :func:`hh_current_for_rates`, as :func:`v1lab.cells.spikes.sim_lif`
    inverts the LIF's transfer function); ``η(t)`` is Ornstein–Uhlenbeck noise, the
    fluctuating synaptic background of a cortical cell in vivo (Destexhe et al. 2001),
    with SD ``noise_ua_cm2`` and correlation time ``noise_tau_s``. The default noise
    (2 µA/cm², 5 ms) makes the membrane potential fluctuate with an SD of about 2 mV
    around rest, as in cortical cells in vivo (2–4 mV; Destexhe et al. 2001), and a cell
    with no net drive fire irregularly (ISI CV ≈ 1) at about 1 spike/s, the spontaneous
    rate of a V1 cell. Below the membrane's minimum repetitive rate (type II: about 130
    spikes/s at 16.3 °C, 52 at 6.3 °C) firing is fluctuation-driven, as in cortex.

    For slowly varying rates (slow compared with ~10 ms) each cell fires at its requested
    rate to within a few per cent; spikes are real action potentials, with the membrane's
    own refractoriness and spike-timing statistics. A sudden step up in the rate gives an
    onset transient (a resonant, type II membrane answers a current step with a burst),
    so a trace of abrupt steps yields up to ~20 % more spikes than requested.

    Parameters
    ----------
    rates_hz : array_like, shape (n_samples, n_cells)
        Target rate (spikes/s), piecewise constant over samples of width ``1 / fs``.
    fs : float
        Sampling rate of ``rates_hz`` (Hz).
    n_trials : int, default 1
        Independent trials.
    rng : numpy.random.Generator
        Source of the noise.
    temperature_c : float, optional
        Shorthand for ``params.temperature_c`` (default 16.3 °C; see the module notes).
    noise_ua_cm2 : float, default 2.0
        SD of the input-current noise (µA/cm²), > 0.
    noise_tau_s : float, default 0.005
        Its correlation time (s).
    dt_s : float, default 2.5e-5
        Integration step (s), at most 25 µs.
    params : HHParameters, optional
        Full membrane parameters.
    record : sequence of int, optional
        Trains (``trial * n_cells + cell``) to record; then a :class:`MembraneTrace`
        is returned too.
    backend : {'auto', 'numba', 'numpy'}, default 'auto'

    Returns
    -------
    SpikeTrains or (SpikeTrains, MembraneTrace)
        ``n_trials × n_cells`` trains with spike times in ``[0, duration_s)``.

    Raises
    ------
    ParameterError
        For a negative or non-finite rate, a rate above the membrane's reach, or another
        argument out of range.

    Notes
    -----
    The first call for a parameter set measures the f–I table (about 2 s with numba,
    much longer with the numpy back-end), then it is read from memory or disk. The table
    is measured with a fixed seed, so results depend only on the arguments and ``rng``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> st = sim_hodgkin_huxley(np.full((400, 2), 20.0), 200.0, n_trials=2, rng=rng)
    >>> st.counts().shape
    (2, 2)
    """
    rates = _check_array2d("rates_hz", rates_hz, nonneg=True, unit="spikes/s")
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    rng = _check_rng(rng, required=True)
    params = _with_temperature(params, temperature_c)
    sd, tau = _check_noise(noise_ua_cm2, noise_tau_s)
    dt_s = _check_dt(dt_s, fs)
    backend = hh_backend(backend)
    current = hh_current_for_rates(
        rates, params=params, noise_ua_cm2=sd, noise_tau_s=tau, dt_s=dt_s, backend=backend
    )
    # Trains start at the fixed point for their first input (no onset transient).
    return sim_membrane(
        current,
        fs,
        n_trials=n_trials,
        params=params,
        initial_current_ua_cm2=current[0],
        noise_ua_cm2=sd,
        noise_tau_s=tau,
        dt_s=dt_s,
        rng=rng,
        record=record,
        backend=backend,
    )


# --------------------------------------------------------------------------------------
# Classical measurements: f–I curve, rheobase, Hopf point
# --------------------------------------------------------------------------------------

#: Starting conditions of :func:`compute_fi_curve`.
FI_STARTS = ("rest", "firing")


def compute_fi_curve(
    currents_ua_cm2: Any,
    *,
    params: HHParameters | None = None,
    start: str = "rest",
    duration_s: float = 1.0,
    settle_s: float = 0.3,
    noise_ua_cm2: float = 0.0,
    noise_tau_s: float = _NOISE_TAU_S,
    n_trials: int = 1,
    dt_s: float = _MAX_DT_S,
    rng: np.random.Generator | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Steady firing rate (spikes/s) for constant input currents: the f–I curve.

    Parameters
    ----------
    currents_ua_cm2 : array_like (n_currents,)
        Constant input currents (µA/cm²).
    params : HHParameters, optional
    start : {'rest', 'firing'}, default 'rest'
        ``'rest'``: the current is switched on at t = 0 in a resting cell (a current step,
        the experimental protocol). ``'firing'``: the cell is first made to fire (a step
        from rest to 1.5 × the Hopf current for 50 ms) and the current is then eased down
        to its value over ``settle_s / 2``: the *upper* branch of a bistable (type II) membrane,
        which keeps firing down to the fold of its periodic orbits.
    duration_s : float, default 1.0
        Counting window (s), after ``settle_s``.
    settle_s : float, default 0.3
        Time allowed for the transient (s); spikes in it are not counted.
    noise_ua_cm2, noise_tau_s : float
        Input noise (default none: the deterministic f–I curve).
    n_trials : int, default 1
        Trials per current; the rate is their mean.
    dt_s : float, default 2.5e-5
    rng : numpy.random.Generator, optional
        Needed when ``noise_ua_cm2 > 0``.
    backend : {'auto', 'numba', 'numpy'}

    Returns
    -------
    numpy.ndarray (n_currents,)

    Examples
    --------
    >>> squid = HHParameters(temperature_c=6.3)
    >>> f = compute_fi_curve([5.0, 8.0, 20.0], params=squid, duration_s=0.5)
    >>> bool(f[0] == 0 and f[2] > f[1] > 50)             # silent, then ≥ 50 spikes/s
    True
    """
    cur = np.atleast_1d(np.asarray(currents_ua_cm2, dtype=np.float64))
    if cur.ndim != 1 or cur.size == 0 or not np.isfinite(cur).all():
        raise ParameterError(
            "currents_ua_cm2", currents_ua_cm2, "expected a 1-D array of finite currents"
        )
    params = _check_params(params)
    start = check_choice("start", start, FI_STARTS)
    duration_s = check_number("duration_s", duration_s, lo=0, lo_open=True, unit="s")
    settle_s = check_number("settle_s", settle_s, lo=0, unit="s")
    fs = 1.0 / 1e-3  # the protocol is described at 1 kHz
    n_settle = round(settle_s * fs)
    n_total = n_settle + max(1, round(duration_s * fs))
    drive = np.broadcast_to(cur, (n_total, cur.size)).copy()
    if start == "firing":
        top = 1.5 * compute_hopf_current(params)
        n_kick = round(0.05 * fs)
        n_ramp = max(1, n_settle // 2)
        if n_kick + n_ramp > n_settle:
            raise ParameterError("settle_s", settle_s, "expected at least 0.1 s for start='firing'")
        # Ease out (cubic): the current approaches its value with zero slope, so the
        # trajectory does not lag behind the slowly deforming periodic orbit and fall off
        # it near the fold, where the orbit's basin is thin.
        w = 1.0 - (1.0 - np.linspace(0.0, 1.0, n_ramp, endpoint=False)[:, None]) ** 3
        drive[:n_kick] = top
        drive[n_kick : n_kick + n_ramp] = top + (cur - top) * w
    trains = sim_membrane(
        drive,
        fs,
        n_trials=n_trials,
        params=params,
        noise_ua_cm2=noise_ua_cm2,
        noise_tau_s=noise_tau_s,
        dt_s=dt_s,
        rng=rng,
        initial_current_ua_cm2=0.0,
        backend=backend,
    )
    t0 = n_settle / fs
    counts = np.array(
        [
            np.count_nonzero(trains.times_s[trains.indptr[k] : trains.indptr[k + 1]] >= t0)
            for k in range(trains.n_trains)
        ]
    ).reshape(n_trials, cur.size)
    return counts.mean(axis=0) / (trains.duration_s - t0)


#: What :func:`find_rheobase` looks for.
RHEOBASE_KINDS = ("repetitive", "step")


def find_rheobase(
    params: HHParameters | None = None,
    *,
    kind: str = "repetitive",
    lo_ua_cm2: float = 0.0,
    hi_ua_cm2: float | None = None,
    tol_ua_cm2: float = 0.01,
    dt_s: float = _MAX_DT_S,
    backend: str = "auto",
) -> float:
    """Current threshold (µA/cm²) for firing, by vectorised bisection.

    Parameters
    ----------
    params : HHParameters, optional
    kind : {'repetitive', 'step'}, default 'repetitive'
        ``'repetitive'``: the lowest constant current that sustains repetitive firing
        (on the upper branch, :func:`compute_fi_curve` with ``start='firing'``) — the fold
        of the periodic orbits, ≈ 6.26 µA/cm² for the standard model at 6.3 °C (Hassard
        1978; Rinzel & Miller 1980). ``'step'``: the lowest current step applied at rest
        that makes the cell fire repetitively (at least 3 spikes/s in the counting window).
    lo_ua_cm2, hi_ua_cm2 : float
        Bracket; ``hi`` defaults to 1.5 × the Hopf current, where firing is certain.
    tol_ua_cm2 : float, default 0.01
        Width of the final bracket; the midpoint is returned.
    dt_s : float, default 2.5e-5
    backend : {'auto', 'numba', 'numpy'}

    Returns
    -------
    float

    Examples
    --------
    >>> round(find_rheobase(HHParameters(temperature_c=6.3), tol_ua_cm2=0.05), 1)
    6.3
    """
    params = _check_params(params)
    kind = check_choice("kind", kind, RHEOBASE_KINDS)
    lo = check_number("lo_ua_cm2", lo_ua_cm2, unit="µA/cm²")
    hi = 1.5 * compute_hopf_current(params) if hi_ua_cm2 is None else hi_ua_cm2
    hi = check_number("hi_ua_cm2", hi, lo=lo, lo_open=True, unit="µA/cm²")
    tol = check_number("tol_ua_cm2", tol_ua_cm2, lo=1e-4, unit="µA/cm²")
    start = "firing" if kind == "repetitive" else "rest"
    # Time scales of the membrane shrink as 1/φ; give slow passages near the fold time.
    scale = max(1.0, 1.0 / params.phi)
    while hi - lo > tol:
        grid = np.linspace(lo, hi, 17)
        rates = compute_fi_curve(
            grid,
            params=params,
            start=start,
            duration_s=0.5 * scale,
            settle_s=0.5 * scale,
            dt_s=dt_s,
            backend=backend,
        )
        firing = rates >= 3.0
        if not firing[-1]:
            raise ParameterError(
                "hi_ua_cm2", hi, "expected a current at which the cell fires repetitively"
            )
        if firing[0]:
            raise ParameterError("lo_ua_cm2", lo, "expected a current at which the cell is silent")
        j = int(np.argmax(firing))
        lo, hi = float(grid[j - 1]), float(grid[j])
    return 0.5 * (lo + hi)


def _jacobian_max_real(v_mv: float, params: HHParameters) -> float:
    """Largest real part of the eigenvalues of the HH Jacobian at the fixed point ``v``."""
    e_na, e_k, _ = params.reversal_mv
    c = params.c_m_uf_cm2
    phi = params.phi
    v = np.array([v_mv])
    m, h, n = (x[0] for x in _steady_gates(v, params))
    eps = 1e-4
    up = _alpha_beta(v + eps, params)
    dn = _alpha_beta(v - eps, params)
    ab = _alpha_beta(v, params)
    d = [(u[0] - w[0]) / (2 * eps) for u, w in zip(up, dn, strict=True)]
    g_na, g_k, g_l = params.g_na_ms_cm2, params.g_k_ms_cm2, params.g_l_ms_cm2
    jac = np.zeros((4, 4))
    jac[0, 0] = -(g_na * m**3 * h + g_k * n**4 + g_l) / c
    jac[0, 1] = -3 * g_na * m**2 * h * (v_mv - e_na) / c
    jac[0, 2] = -g_na * m**3 * (v_mv - e_na) / c
    jac[0, 3] = -4 * g_k * n**3 * (v_mv - e_k) / c
    for row, (x, ia) in enumerate(((m, 0), (h, 2), (n, 4)), start=1):
        a, b = ab[ia][0], ab[ia + 1][0]
        jac[row, 0] = phi * (d[ia] * (1 - x) - d[ia + 1] * x)
        jac[row, row] = -phi * (a + b)
    return float(np.linalg.eigvals(jac).real.max())


def compute_hopf_current(params: HHParameters | None = None) -> float:
    """Current (µA/cm²) at which the resting state loses stability (Hopf bifurcation).

    The fixed point of the HH equations for a constant current ``I`` is where the
    steady-state current equals ``I``; it loses stability where a pair of eigenvalues of
    the Jacobian crosses the imaginary axis. For the standard model at 6.3 °C this is
    the subcritical Hopf bifurcation at I ≈ 9.78 µA/cm² (Hassard 1978; Rinzel & Miller
    1980; Izhikevich 2007, ch. 7), above the fold of the periodic orbits (≈ 6.26), so
    between the two the cell is bistable and its f–I curve starts abruptly (type II).

    Examples
    --------
    >>> round(compute_hopf_current(HHParameters(temperature_c=6.3)), 2)
    9.78
    """
    params = _check_params(params)
    rest = compute_resting_potential(params)
    v = rest + np.arange(0.0, 40.0, 0.05)
    unstable = np.array([_jacobian_max_real(float(x), params) > 0 for x in v])
    if not unstable.any():
        raise ParameterError(
            "params", params, "expected a membrane whose rest loses stability within 40 mV"
        )
    k = int(np.argmax(unstable))
    v_c = optimize.brentq(lambda x: _jacobian_max_real(x, params), v[k - 1], v[k], xtol=1e-9)
    return float(_steady_current(np.array(v_c), params))


# --------------------------------------------------------------------------------------
# One action potential: shape, phases, refractoriness
# --------------------------------------------------------------------------------------


def sim_action_potential(
    params: HHParameters | None = None,
    *,
    dt_s: float = 1e-6,
    duration_s: float = 0.03,
    onset_s: float = 0.002,
    pulse_ua_cm2: float = 200.0,
    pulse_s: float = 1e-4,
) -> MembraneTrace:
    """One noise-free action potential evoked from rest by a brief current pulse.

    The default pulse (200 µA/cm² for 0.1 ms, i.e. 20 mV of charge) is well above
    threshold at every allowed temperature and ends before the upstroke, so the spike is
    the membrane's own.

    Examples
    --------
    >>> tr = sim_action_potential()
    >>> len(tr.spike_times_s[0]), round(float(tr.v_mv.max()))
    (1, 36)
    """
    params = _check_params(params)
    dt_s = check_number("dt_s", dt_s, lo=1e-7, hi=_MAX_DT_S, unit="s")
    duration_s = check_number("duration_s", duration_s, lo=1e-3, hi=1.0, unit="s")
    onset_s = check_number("onset_s", onset_s, lo=0, hi=duration_s, unit="s")
    pulse_ua_cm2 = check_number("pulse_ua_cm2", pulse_ua_cm2, unit="µA/cm²")
    pulse_s = check_number("pulse_s", pulse_s, lo=dt_s, hi=duration_s, unit="s")
    n = round(duration_s / dt_s)
    drive = np.zeros((n, 1))
    k0 = round(onset_s / dt_s)
    drive[k0 : k0 + round(pulse_s / dt_s)] = pulse_ua_cm2
    _, trace = sim_membrane(drive, 1.0 / dt_s, params=params, dt_s=dt_s, record=[0])
    return trace


def _crossings(v: np.ndarray, level: float, up: bool = True) -> np.ndarray:
    """Sub-sample indices where ``v`` crosses ``level`` (upward or downward)."""
    a, b = v[:-1], v[1:]
    hit = (
        np.flatnonzero((a < level) & (b >= level))
        if up
        else np.flatnonzero((a >= level) & (b < level))
    )
    return hit + (level - a[hit]) / (b[hit] - a[hit])


def compute_spike_features(
    v_mv: Any,
    dt_s: float,
    *,
    baseline_mv: float | None = None,
    threshold_mv_ms: float = 10.0,
) -> dict[str, float]:
    """Features and phase boundaries of the first action potential in a voltage trace.

    Parameters
    ----------
    v_mv : array_like (n_samples,)
        Membrane potential (mV), sampled every ``dt_s``, with one spike (the first upward
        crossing of 0 mV … is analysed; the trace should start before it).
    dt_s : float
        Sampling interval (s).
    baseline_mv : float, optional
        Potential the spike starts from and returns to; default: the median of the trace
        before the spike's threshold (the resting potential for a spike evoked at rest).
    threshold_mv_ms : float, default 10
        Threshold criterion: the first point before the peak where dV/dt exceeds this
        (mV/ms = V/s; the usual 10–20 V/s criterion, e.g. Bean 2007).

    Returns
    -------
    dict
        ``baseline_mv``, ``threshold_mv``, ``peak_mv`` (the overshoot is the part above
        0 mV), ``amplitude_mv`` (peak − baseline), ``half_width_s`` (at half amplitude),
        ``max_rise_mv_ms``, ``max_fall_mv_ms``, ``ahp_mv`` (most negative point after the
        peak), ``ahp_depth_mv`` (baseline − ahp), and the times (s from the trace start)
        bounding the six :data:`SPIKE_PHASES`: ``t_depolarisation_s`` (end of rest),
        ``t_threshold_s``, ``t_peak_s``, ``t_repolarised_s`` (back through the baseline),
        ``t_ahp_s``, ``t_return_s`` (90 % recovered from the AHP, or the trace end).

    Examples
    --------
    >>> tr = sim_action_potential()
    >>> f = compute_spike_features(tr.v_mv[0], tr.dt_s)
    >>> round(f["amplitude_mv"]), round(f["half_width_s"] * 1e3, 1)
    (101, 0.5)
    """
    v = np.asarray(v_mv, dtype=np.float64).ravel()
    dt_s = check_number("dt_s", dt_s, lo=0, lo_open=True, unit="s")
    if v.size < 5 or not np.isfinite(v).all():
        raise ParameterError("v_mv", v_mv, "expected a finite 1-D voltage trace")
    dvdt = np.gradient(v, dt_s * 1e3)  # mV/ms
    up0 = _crossings(v, 0.0)
    if up0.size == 0:
        raise ParameterError("v_mv", "trace", "expected an action potential (V above 0 mV)")
    i0 = int(up0[0])
    # Peak: the maximum before V falls back below 0 mV.
    down0 = _crossings(v[i0:], 0.0, up=False)
    i_end = i0 + (int(down0[0]) + 1 if down0.size else v.size - i0 - 1)
    i_peak = i0 + int(np.argmax(v[i0 : i_end + 1]))
    # Threshold: last point before the upstroke where dV/dt was still below criterion.
    below = np.flatnonzero(dvdt[: i0 + 1] < threshold_mv_ms)
    i_thr = int(below[-1]) + 1 if below.size else 0
    base = float(np.median(v[: max(1, i_thr)])) if baseline_mv is None else float(baseline_mv)
    peak = float(v[i_peak])
    amp = peak - base
    half = base + 0.5 * amp
    hw_up = _crossings(v[: i_peak + 1], half)
    hw_dn = _crossings(v[i_peak:], half, up=False)
    half_width = (i_peak + hw_dn[0] - hw_up[-1]) * dt_s if hw_up.size and hw_dn.size else math.nan
    # Depolarisation starts at the last point before threshold near the baseline.
    near = np.flatnonzero(v[:i_thr] <= base + 0.1 * (v[i_thr] - base)) if i_thr else np.array([])
    i_dep = int(near[-1]) if near.size else 0
    rep = _crossings(v[i_peak:], base, up=False)
    i_rep = i_peak + (math.ceil(rep[0]) if rep.size else v.size - 1 - i_peak)
    i_ahp = i_rep + int(np.argmin(v[i_rep:])) if i_rep < v.size else v.size - 1
    ahp = float(v[i_ahp])
    depth = base - ahp
    rec = np.flatnonzero(v[i_ahp:] >= base - 0.1 * depth)
    i_ret = i_ahp + int(rec[0]) if rec.size else v.size - 1
    return {
        "baseline_mv": base,
        "threshold_mv": float(v[i_thr]),
        "peak_mv": peak,
        "amplitude_mv": amp,
        "half_width_s": float(half_width),
        "max_rise_mv_ms": float(dvdt[: i_peak + 1].max()),
        "max_fall_mv_ms": float(-dvdt[i_peak:].min()),
        "ahp_mv": ahp,
        "ahp_depth_mv": depth,
        "t_depolarisation_s": i_dep * dt_s,
        "t_threshold_s": i_thr * dt_s,
        "t_peak_s": i_peak * dt_s,
        "t_repolarised_s": i_rep * dt_s,
        "t_ahp_s": i_ahp * dt_s,
        "t_return_s": i_ret * dt_s,
    }


def compute_absolute_refractory_period(
    params: HHParameters | None = None,
    *,
    strength: float = 4.0,
    pulse_s: float = 1e-4,
    dt_s: float = 5e-6,
    resolution_s: float = 2e-5,
) -> float:
    """Absolute refractory period (s): no second pulse of ``strength`` × threshold fires.

    Protocol (as in the paired-pulse experiments of Hodgkin & Huxley 1952, part V): a
    first pulse evokes a spike; a second pulse of ``strength`` times the single-pulse
    threshold follows after a delay. The absolute refractory period is the shortest
    interval, from the first spike (its upward crossing of −20 mV) to the second pulse,
    at which the second pulse evokes an action potential — a regenerative response that
    after the pulse rises by more than 20 mV and overshoots 0 mV (a strong pulse can
    charge the membrane passively; that is not a spike).

    Parameters
    ----------
    params : HHParameters, optional
    strength : float, default 4
        Second-pulse amplitude in multiples of the single-pulse threshold (> 1).
    pulse_s : float, default 1e-4
        Pulse width (s).
    dt_s : float, default 5e-6
    resolution_s : float, default 2e-5
        Spacing of the delays tried (s).

    Returns
    -------
    float

    Examples
    --------
    >>> round(compute_absolute_refractory_period() * 1e3, 1) > 1.0
    True
    """
    params = _check_params(params)
    strength = check_number("strength", strength, lo=1, lo_open=True, hi=100)
    pulse_s = check_number("pulse_s", pulse_s, lo=1e-6, hi=1e-3, unit="s")
    dt_s = check_number("dt_s", dt_s, lo=1e-7, hi=_MAX_DT_S, unit="s")
    resolution_s = check_number("resolution_s", resolution_s, lo=dt_s, hi=1e-3, unit="s")
    fs = 1.0 / dt_s
    n_pulse = max(1, round(pulse_s * fs))
    t_on = 0.001
    k_on = round(t_on * fs)
    scale = 1.0 / params.phi**0.5  # kinetics slow down at low temperature
    # 1. Single-pulse threshold, by bisection on a vector of amplitudes.
    lo, hi = 0.0, 2000.0
    n1 = round(0.02 * scale * fs) + k_on
    while hi - lo > 0.002 * hi:
        amps = np.linspace(lo, hi, 17)
        drive = np.zeros((n1, amps.size))
        drive[k_on : k_on + n_pulse] = amps
        st = sim_membrane(drive, fs, params=params, dt_s=dt_s, initial_current_ua_cm2=0.0)
        fired = st.counts()[0] > 0
        if not fired[-1]:
            raise ParameterError("pulse_s", pulse_s, "expected a pulse that can evoke a spike")
        j = int(np.argmax(fired))
        lo, hi = float(amps[max(j - 1, 0)]), float(amps[j])
    threshold = hi
    # 2. Paired pulses: the first at 2 × threshold, the second at strength × threshold.
    max_delay = 0.02 * scale
    delays = np.arange(0.0, max_delay, resolution_s)
    n2 = k_on + round((max_delay + 0.01 * scale) * fs)
    drive = np.zeros((n2, delays.size))
    drive[k_on : k_on + n_pulse] = 2.0 * threshold
    k2 = k_on + np.round(delays * fs).astype(np.int64)
    for c, k in enumerate(k2.tolist()):
        drive[k : k + n_pulse, c] += strength * threshold
    st, tr = sim_membrane(
        drive,
        fs,
        params=params,
        dt_s=dt_s,
        initial_current_ua_cm2=0.0,
        record=range(delays.size),
    )
    t_first = np.array(
        [st.train(0, c)[0] if st.counts()[0, c] else np.nan for c in range(delays.size)]
    )
    zero = params.v_shift_mv
    fired2 = np.zeros(delays.size, dtype=bool)
    for c, k in enumerate(k2.tolist()):
        off = k + n_pulse
        after = tr.v_mv[c, off:]
        if after.size and st.counts()[0, c] >= 2:
            peak = float(after[: round(0.005 * scale * fs)].max())
            fired2[c] = peak > zero and peak - tr.v_mv[c, off] > 20.0
    if not fired2.any() or not np.isfinite(t_first).all():
        raise ParameterError("strength", strength, "no second spike within the delays tried")
    c = int(np.argmax(fired2))
    return float(t_on + delays[c] - t_first[c])


# --------------------------------------------------------------------------------------
# The sound of this spike: its extracellular signature
# --------------------------------------------------------------------------------------

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
        return _hh_shape(_check_params(params))

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
