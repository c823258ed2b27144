"""The cell that receives the synapses: one isopotential compartment, passive or spiking.

An EPSP lab needs a cortical membrane. The project's Hodgkin–Huxley membrane
(:mod:`v1lab.cells.hh_kinetics`) is squid axon: at HH's densities its resting
conductance (leak plus the open K⁺ and Na⁺ channels, ~0.7 mS/cm²) gives an effective
membrane time constant of about 1.5 ms, so an EPSP is over in a few milliseconds and
inputs sum only if they arrive within ~2 ms — a coincidence detector. Cortical cells
integrate over 20–40 ms (τm), and Markram et al. (1997) measured unitary EPSPs decaying
with τ ≈ 40 ms. Three membranes are offered (:data:`CELL_KINDS`):

* ``"passive"`` — a cortical passive membrane: ``C_m = 1 µF/cm²``, leak 0.05 mS/cm²
  (``τm = C_m / g_L = 20 ms``, the low end of the cortical 20–40 ms range), leak
  reversal −70 mV, on a compartment of length = diameter = 80 µm (area 20 106 µm²):
  ``C = 201 pF``, input resistance ``R_in = 99.5 MΩ`` — between the ~84 MΩ of
  Pospischil et al.'s in-vivo-like regular-spiking cell and the ~170 MΩ of their slice
  cell (below). This is the cell the NEURON comparison uses (``pas`` on one ``Section``).
* ``"rs"`` — the **regular-spiking pyramidal cell of Pospischil, Toledo-Rodriguez,
  Monier, Piwkowska, Bal, Frégnac, Markram & Destexhe (2008)**, a minimal HH-type model
  fitted to cortical recordings: Traub & Miles (1991) Na⁺ (m³h) and delayed-rectifier
  K⁺ (n⁴) currents shifted by ``V_T = −56.2 mV``, plus the slow non-inactivating K⁺
  M-current (``τ_max = 608 ms``) that makes its firing adapt; ``g_Na = 56``,
  ``g_Kd = 6``, ``g_M = 0.075`` mS/cm², ``E_Na = 50``, ``E_K = −90``,
  ``E_L = −70.3`` mV. Their slice fit had a leak of 0.0205 mS/cm² (τm = 49 ms); here the
  leak is that of the passive cell above (τm = 20 ms), so the spiking cell and the
  passive cell share their subthreshold integration. It rests at −71.1 mV; the largest
  synchronous AMPA input that leaves it silent peaks at −50 mV (24 unitary 1-mV inputs;
  25 fire it), ~21 mV above rest.
* ``"hh"`` — the project's Hodgkin–Huxley squid membrane (the densities, kinetics and
  temperature of :class:`~v1lab.cells.hh_kinetics.HHParameters`, its rates computed by
  :func:`~v1lab.cells.hh_kinetics.alpha_beta`) on the same compartment, to show the
  coincidence detector beside the integrator.

The gates are integrated by Rush–Larsen steps from tables of their update coefficients
over V (:func:`make_gate_table`), as :mod:`v1lab.cells.hh_membrane` does.

References
----------
Markram H et al. (1997). J Physiol 500:409–440.
Pospischil M, Toledo-Rodriguez M, Monier C, Piwkowska Z, Bal T, Frégnac Y, Markram H,
Destexhe A (2008). Minimal Hodgkin–Huxley type models for different classes of
cortical and thalamic neurons. Biol Cybern 99:427–441.
Traub RD, Miles R (1991). Neuronal Networks of the Hippocampus. Cambridge UP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import optimize

from v1lab._validate import ParameterError, check_choice
from v1lab.cells.hh_kinetics import HHParameters, alpha_beta, check_params
from v1lab.synapse._common import Bound, check_fields

__all__ = [
    "CELL_KINDS",
    "CellParameters",
    "compute_rest_mv",
    "make_cell",
    "make_gate_table",
    "steady_current_pa",
    "steady_gates",
]

#: The membranes :func:`make_cell` builds.
CELL_KINDS = ("passive", "rs", "hh")

# Gate tables: absolute potentials from -130 to +90 mV at 0.05 mV (the kinetics are
# saturated outside; V is clamped to the table there).
TABLE_LO_MV = -130.0
TABLE_HI_MV = 90.0
TABLE_STEP_MV = 0.05


@dataclass(frozen=True)
class CellParameters:
    """One isopotential compartment: passive leak, and optionally HH-type spiking channels.

    Parameters
    ----------
    kind : {'passive', 'rs', 'hh'}
        Which kinetics the Na⁺/K⁺ channels follow (none, Pospischil et al. 2008, HH 1952).
    diameter_um : float
        Diameter = length of the cylindrical compartment (µm); area ``π d²``.
    c_m_uf_cm2 : float
        Specific capacitance (µF/cm²).
    g_leak_ms_cm2, e_leak_mv : float
        Leak conductance density (mS/cm²) and reversal (mV).
    g_na_ms_cm2, g_k_ms_cm2, g_m_ms_cm2 : float
        Na⁺, delayed-rectifier K⁺ and M-current densities (mS/cm²); 0 for 'passive'.
    e_na_mv, e_k_mv : float
        Na⁺ and K⁺ reversal potentials (mV).
    v_t_mv : float
        Threshold shift of the Traub–Miles kinetics ('rs').
    tau_max_ms : float
        Slowest time constant of the M-current ('rs').
    hh : HHParameters
        The squid membrane ('hh'): its densities and reversals replace the fields above.
    """

    kind: str = "passive"
    diameter_um: float = 80.0
    c_m_uf_cm2: float = 1.0
    g_leak_ms_cm2: float = 0.05
    e_leak_mv: float = -70.0
    g_na_ms_cm2: float = 0.0
    g_k_ms_cm2: float = 0.0
    g_m_ms_cm2: float = 0.0
    e_na_mv: float = 50.0
    e_k_mv: float = -90.0
    v_t_mv: float = -56.2
    tau_max_ms: float = 608.0
    hh: HHParameters = field(default_factory=HHParameters)

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, CELL_KINDS)
        check_params(self.hh)
        mv = Bound("number", -120, 80, "mV")
        density = Bound("number", 0, 1000, "mS/cm²")
        check_fields(self, {
            "diameter_um": Bound("number", 1, 1000, "µm"),
            "c_m_uf_cm2": Bound("number", 0.1, 10, "µF/cm²"),
            "g_leak_ms_cm2": Bound("number", 1e-4, 10, "mS/cm²"),
            "g_na_ms_cm2": density, "g_k_ms_cm2": density, "g_m_ms_cm2": density,
            "e_leak_mv": mv, "e_na_mv": mv, "e_k_mv": mv, "v_t_mv": mv,
            "tau_max_ms": Bound("number", 1, 10_000, "ms"),
        })  # fmt: skip
        if self.kind == "rs" and not self.e_k_mv < self.e_leak_mv < self.e_na_mv:
            raise ParameterError(
                "e_leak_mv", self.e_leak_mv, "expected e_k_mv < e_leak_mv < e_na_mv"
            )

    # ---- the compartment in absolute units (pF, nS) ----------------------------------

    @property
    def area_cm2(self) -> float:
        """Membrane area ``π d L`` with ``L = d`` (cm²), as NEURON's ``area()`` (no ends)."""
        return math.pi * (self.diameter_um * 1e-4) ** 2

    @property
    def capacitance_pf(self) -> float:
        """Membrane capacitance (pF)."""
        c = self.hh.c_m_uf_cm2 if self.kind == "hh" else self.c_m_uf_cm2
        return c * self.area_cm2 * 1e6

    def _density_ns(self, g_ms_cm2: float) -> float:
        return g_ms_cm2 * self.area_cm2 * 1e6  # mS/cm² · cm² = mS = 1e6 nS

    @property
    def conductances_ns(self) -> tuple[float, float, float, float]:
        """Maximal ``(g_Na, g_K, g_M, g_L)`` of the compartment (nS)."""
        if self.kind == "hh":
            h = self.hh
            return (
                self._density_ns(h.g_na_ms_cm2),
                self._density_ns(h.g_k_ms_cm2),
                0.0,
                self._density_ns(h.g_l_ms_cm2),
            )
        if self.kind == "passive":
            return 0.0, 0.0, 0.0, self._density_ns(self.g_leak_ms_cm2)
        return (
            self._density_ns(self.g_na_ms_cm2),
            self._density_ns(self.g_k_ms_cm2),
            self._density_ns(self.g_m_ms_cm2),
            self._density_ns(self.g_leak_ms_cm2),
        )

    @property
    def reversals_mv(self) -> tuple[float, float, float]:
        """``(E_Na, E_K, E_L)`` (mV)."""
        if self.kind == "hh":
            return self.hh.reversal_mv
        return self.e_na_mv, self.e_k_mv, self.e_leak_mv

    @property
    def tau_m_ms(self) -> float:
        """Passive time constant ``C / g_L`` (ms); the effective one at rest is shorter."""
        return self.capacitance_pf / self.conductances_ns[3]

    @property
    def active(self) -> bool:
        """Whether the compartment has voltage-gated channels."""
        return self.kind != "passive"


def make_cell(kind: str = "passive", **changes: float) -> CellParameters:
    """The cell of :data:`CELL_KINDS` named ``kind``, with optional field changes.

    Examples
    --------
    >>> c = make_cell("passive")
    >>> round(c.tau_m_ms, 3), round(c.capacitance_pf, 1), round(1e3 / c.conductances_ns[3], 1)
    (20.0, 201.1, 99.5)
    >>> make_cell("rs").conductances_ns[0] > 0
    True
    """
    kind = check_choice("kind", kind, CELL_KINDS)
    base: dict[str, float | str] = {"kind": kind}
    if kind == "rs":
        base.update(
            g_na_ms_cm2=56.0,
            g_k_ms_cm2=6.0,
            g_m_ms_cm2=0.075,
            e_na_mv=50.0,
            e_k_mv=-90.0,
            e_leak_mv=-70.3,
            v_t_mv=-56.2,
            tau_max_ms=608.0,
        )
    unknown = sorted(set(changes) - set(CellParameters.__dataclass_fields__))
    if unknown:
        raise ParameterError(
            unknown[0], changes[unknown[0]], "not a cell parameter; allowed: "
            + ", ".join(f for f in CellParameters.__dataclass_fields__ if f != "kind"),
        )  # fmt: skip
    base.update(changes)
    return CellParameters(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Kinetics
# --------------------------------------------------------------------------------------


def _x_over_expm1(x: np.ndarray) -> np.ndarray:
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 - 0.5 * x, safe / np.expm1(safe))


def _rs_rates(v: np.ndarray, cell: CellParameters) -> tuple[np.ndarray, ...]:
    """Pospischil et al. (2008) eqs.: (α, β) of m, h, n (1/ms) and (p∞, τp (ms))."""
    u = v - cell.v_t_mv
    a_m = 1.28 * _x_over_expm1(-(u - 13.0) / 4.0)  # 0.32 (u−13) / (1 − e^{−(u−13)/4})
    b_m = 1.4 * _x_over_expm1((u - 40.0) / 5.0)  # 0.28 (u−40) / (e^{(u−40)/5} − 1)
    a_h = 0.128 * np.exp(-(u - 17.0) / 18.0)
    b_h = 4.0 / (1.0 + np.exp(-(u - 40.0) / 5.0))
    a_n = 0.16 * _x_over_expm1(-(u - 15.0) / 5.0)  # 0.032 (u−15) / (1 − e^{−(u−15)/5})
    b_n = 0.5 * np.exp(-(u - 10.0) / 40.0)
    p_inf = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    tau_p = cell.tau_max_ms / (3.3 * np.exp((v + 35.0) / 20.0) + np.exp(-(v + 35.0) / 20.0))
    return a_m, b_m, a_h, b_h, a_n, b_n, p_inf, tau_p


def _steady_and_tau(v: np.ndarray, cell: CellParameters) -> tuple[np.ndarray, np.ndarray]:
    """Steady states (4, n) and time constants (4, n; ms) of m, h, n, p at ``v``."""
    if cell.kind == "hh":
        rates = alpha_beta(v, cell.hh)
        phi = cell.hh.phi
        p_inf, tau_p = np.zeros_like(v), np.ones_like(v)
    else:
        *rates, p_inf, tau_p = _rs_rates(v, cell)
        phi = 1.0
    inf, tau = [], []
    for a, b in zip(rates[0::2], rates[1::2], strict=True):
        inf.append(a / (a + b))
        tau.append(1.0 / (phi * (a + b)))
    return np.array([*inf, p_inf]), np.array([*tau, tau_p])


@lru_cache(maxsize=32)
def make_gate_table(cell: CellParameters, dt_ms: float) -> np.ndarray:
    """Rush–Larsen coefficients over V: columns ``A_x, E_x`` for x = m, h, n, p.

    One step with V held is ``x ← A(V) + E(V) x`` with ``E = e^{−dt/τx}``,
    ``A = x∞ (1 − E)``; row k is at ``V = TABLE_LO_MV + k · TABLE_STEP_MV``. A passive cell
    gets an all-zero table (it is never read).
    """
    v = np.arange(TABLE_LO_MV, TABLE_HI_MV + 0.5 * TABLE_STEP_MV, TABLE_STEP_MV)
    if not cell.active:
        table = np.zeros((v.size, 8))
    else:
        inf, tau = _steady_and_tau(v, cell)
        decay = np.exp(-dt_ms / tau)
        table = np.empty((v.size, 8))
        table[:, 0::2] = (inf * (1.0 - decay)).T
        table[:, 1::2] = decay.T
    table = np.ascontiguousarray(table)
    table.flags.writeable = False
    return table


def steady_gates(v_mv: float, cell: CellParameters) -> np.ndarray:
    """``(m∞, h∞, n∞, p∞)`` at ``v_mv`` (zeros for a passive cell)."""
    if not cell.active:
        return np.zeros(4)
    inf, _ = _steady_and_tau(np.array([float(v_mv)]), cell)
    return inf[:, 0]


def steady_current_pa(v: float, cell: CellParameters) -> float:
    """Net ionic current (pA, outward positive) at ``v`` with every gate at steady state."""
    m, h, n, p = steady_gates(v, cell)
    g_na, g_k, g_m, g_l = cell.conductances_ns
    e_na, e_k, e_l = cell.reversals_mv
    return (
        g_na * m**3 * h * (v - e_na)
        + g_k * n**4 * (v - e_k)
        + g_m * p * (v - e_k)
        + g_l * (v - e_l)
    )


@lru_cache(maxsize=32)
def compute_rest_mv(cell: CellParameters) -> float:
    """Resting potential (mV): the zero of the steady-state current below threshold.

    Examples
    --------
    >>> compute_rest_mv(make_cell("passive"))
    -70.0
    >>> round(compute_rest_mv(make_cell("hh")), 2)
    -65.0
    """
    if not cell.active:
        return cell.e_leak_mv
    _, e_k, _ = cell.reversals_mv
    hi = (cell.v_t_mv + 5.0) if cell.kind == "rs" else (-40.0 + cell.hh.v_shift_mv)
    return float(optimize.brentq(steady_current_pa, e_k + 1e-6, hi, args=(cell,), xtol=1e-10))
