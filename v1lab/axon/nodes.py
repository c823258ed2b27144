"""The excitable membranes a cable's compartments can carry: squid HH and a mammalian node.

* ``"hh"`` — Hodgkin & Huxley (1952), the project's membrane
  (:class:`v1lab.cells.HHParameters`): sodium ``m³h``, potassium ``n⁴``, leak; rates
  scaled by ``q10^((T − 6.3)/10)``.
* ``"crrss"`` — the node of Ranvier of mammalian (rabbit) myelinated fibres of Chiu,
  Ritchie, Rogart & Stagg (1979), in the form of Sweeney, Mortimer & Durand (1987):
  sodium ``m²h`` and leak only (mammalian nodes have almost no fast potassium current,
  Chiu et al. 1979), ``ḡNa = 1445``, ``g_L = 128 mS/cm²``, ``E_Na = +115``,
  ``E_L = −0.01 mV`` from rest (−80 mV), ``C = 2.5 µF/cm²``, rates at 37 °C scaled by
  ``3^((T − 37)/10)``. It gives human-scale fibres their clinical velocities (Sweeney et
  al. 1987; used by McNeal-type stimulation models), which squid kinetics cannot: they
  fail above ~30 °C.

  The values were checked (2026-12-07) against two public implementations, the papers
  themselves not being readable here: the NEURON mechanism ``crrss.mod`` of
  JimHokanson/matlab_NEURON (rates, ḡNa 1.445 and g_L 0.128 S/cm², E_Na 35 mV,
  E_L −80.01 mV, rest −80 mV, Q10 3 from 37 °C — all as here; its β_m and α_h lines
  misorder the temperature factor, harmless at 37 °C) and the ``SweeneyNode`` of
  PySONIC (Lemaire et al., with Basser & Roth 1991's corrections; the same rates written
  in absolute potential, ḡNa 1445 and g_L 128 mS/cm², C 2.5 µF/cm², E_L −80.01 mV, but
  E_Na 35.64 mV, 0.64 mV above the 35 used here). The NEURON check of this node
  (:mod:`v1lab.axon.reference`, ``CRRSS_MOD``) runs our own NMODL transcription.

:func:`membrane_state` returns what the solver needs: rest, the resting gates, the
reversal potentials, the rates' reference potential, the model's kernel id and its
spike-detection threshold (45 mV above rest for both, as in
:mod:`v1lab.cells.hh_membrane`).

References
----------
Chiu SY, Ritchie JM, Rogart RB, Stagg D (1979). A quantitative description of membrane
currents in rabbit myelinated nerve. J Physiol 292:149–166.
Hodgkin AL, Huxley AF (1952). J Physiol 117:500–544.
Basser PJ, Roth BJ (1991). Stimulation of a myelinated nerve axon by electromagnetic
induction. Med Biol Eng Comput 29:261–268.
Sweeney JD, Mortimer JT, Durand D (1987). Modeling of mammalian myelinated nerve for
functional neuromuscular electrical stimulation. Proc 9th Annu Conf IEEE EMBS,
1577–1578.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import optimize

from v1lab._validate import ParameterError, check_number
from v1lab.cells.hh_kinetics import HHParameters, compute_resting_potential, steady_gates

__all__ = [
    "NODE_MODELS",
    "SPEED_VS_HH",
    "CRRSSParameters",
    "MembraneState",
    "crrss_rates",
    "membrane_state",
    "node_model_name",
    "rate_factor",
]

NODE_MODELS = ("hh", "crrss")
#: Spike detection: this far above rest (mV), for every model.
DETECT_ABOVE_REST_MV = 45.0


@dataclass(frozen=True)
class CRRSSParameters:
    """The CRRSS mammalian node (module notes); potentials absolute, rest −80 mV."""

    g_na_ms_cm2: float = 1445.0
    g_l_ms_cm2: float = 128.0
    c_m_uf_cm2: float = 2.5
    e_na_rel_mv: float = 115.0
    e_l_rel_mv: float = -0.01
    v_rest_mv: float = -80.0
    q10: float = 3.0
    reference_c: float = 37.0

    def __post_init__(self) -> None:
        for name in ("g_na_ms_cm2", "g_l_ms_cm2", "c_m_uf_cm2"):
            check_number(name, getattr(self, name), lo=0, lo_open=name != "g_na_ms_cm2")
        check_number("v_rest_mv", self.v_rest_mv, lo=-120, hi=-40, unit="mV")

    @property
    def g_k_ms_cm2(self) -> float:
        """No fast potassium current at the mammalian node (Chiu et al. 1979)."""
        return 0.0

    @property
    def reversal_mv(self) -> tuple[float, float, float]:
        """``(E_Na, E_K, E_L)`` absolute (mV); E_K is unused (no K current)."""
        return (self.v_rest_mv + self.e_na_rel_mv, self.v_rest_mv, self.v_rest_mv + self.e_l_rel_mv)


def crrss_rates(u: Any) -> tuple[np.ndarray, ...]:
    """CRRSS rates (1/ms at 37 °C) at ``u`` = V − rest (mV): ``α_m, β_m, α_h, β_h``."""
    u = np.asarray(u, dtype=np.float64)
    a_m = (97.0 + 0.363 * u) / (1.0 + np.exp((31.0 - u) / 5.3))
    b_m = a_m / np.exp((u - 23.8) / 4.17)
    b_h = 15.6 / (1.0 + np.exp((24.0 - u) / 10.0))
    a_h = b_h / np.exp((u - 5.5) / 5.0)
    return a_m, b_m, a_h, b_h


def _crrss_current(v: float, p: CRRSSParameters) -> float:
    a_m, b_m, a_h, b_h = crrss_rates(v - p.v_rest_mv)
    m, h = a_m / (a_m + b_m), a_h / (a_h + b_h)
    e_na, _, e_l = p.reversal_mv
    return float(p.g_na_ms_cm2 * m * m * h * (v - e_na) + p.g_l_ms_cm2 * (v - e_l))


class MembraneState(NamedTuple):
    """What the solver needs of a membrane (see :func:`membrane_state`)."""

    rest_mv: float
    gates: tuple[float, float, float]
    e_na_mv: float
    e_k_mv: float
    rate_reference_mv: float
    model_id: int
    detect_mv: float


def membrane_state(membrane: HHParameters | CRRSSParameters) -> MembraneState:
    """Rest, resting gates ``(m, h, n)``, reversals, rate reference, kernel id, threshold."""
    if isinstance(membrane, HHParameters):
        rest = compute_resting_potential(membrane)
        m, h, n = (float(g) for g in steady_gates(np.array(rest), membrane))
        e_na, e_k, _ = membrane.reversal_mv
        return MembraneState(
            rest, (m, h, n), e_na, e_k, membrane.v_shift_mv, 0, rest + DETECT_ABOVE_REST_MV
        )
    if isinstance(membrane, CRRSSParameters):
        v0 = membrane.v_rest_mv
        rest = float(
            optimize.brentq(_crrss_current, v0 - 10.0, v0 + 10.0, args=(membrane,), xtol=1e-10)
        )
        a_m, b_m, a_h, b_h = crrss_rates(rest - v0)
        e_na, e_k, _ = membrane.reversal_mv
        return MembraneState(
            rest,
            (float(a_m / (a_m + b_m)), float(a_h / (a_h + b_h)), 0.0),
            e_na,
            e_k,
            v0,
            1,
            rest + DETECT_ABOVE_REST_MV,
        )
    raise ParameterError("membrane", membrane, "expected HHParameters or CRRSSParameters")


def rate_factor(membrane: HHParameters | CRRSSParameters, temperature_c: float) -> float:
    """The Q10 factor of the rates at ``temperature_c`` relative to the model's own."""
    ref = membrane.reference_c if isinstance(membrane, CRRSSParameters) else 6.3
    return membrane.q10 ** ((temperature_c - ref) / 10.0)


#: How much faster than HH 1952's at 6.3 °C the model's rates are at its own reference
#: temperature: the largest ``α_m + β_m`` from rest to 130 mV above it (HH: 10.5 /ms;
#: CRRSS: 144 /ms). The step bound of :func:`v1lab.axon.cable.check_run_settings` is
#: divided by it.
SPEED_VS_HH = {"hh": 1.0, "crrss": 50.0}


def node_model_name(membrane: HHParameters | CRRSSParameters) -> str:
    """``"hh"`` or ``"crrss"``."""
    return "crrss" if isinstance(membrane, CRRSSParameters) else "hh"
